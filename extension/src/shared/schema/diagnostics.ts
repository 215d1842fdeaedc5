// The engine's one diagnostics module: what a problem is (its range, severity and message), the
// one way every stage makes one (lexer, preprocessor, parser, compiler, layout, decoder), and how
// the CLI and the editor print it.
import type { JsonValue } from './decode';
import type { Range } from './lexer';

export type Severity = 'error' | 'warning' | 'info';
/** A problem in a schema or in decoded data; always has a source range. */
export interface Diagnostic {
  range: Range;
  severity: Severity;
  message: string;
}

/** A diagnostic at `range`. */
export function diagnostic(range: Range, severity: Severity, message: string): Diagnostic {
  return { range, severity, message };
}

/** A diagnostic as JSON: severity, message, 1-based line and column. */
export function diagJson(d: Diagnostic): { [k: string]: JsonValue } {
  return { severity: d.severity, message: d.message, line: d.range.start.line + 1, column: d.range.start.character + 1 };
}

/** `file:line:col: severity: message`, as compilers print it. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message}`;
}
