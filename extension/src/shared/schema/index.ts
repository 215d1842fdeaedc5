// The offset schema language (DESIGN.md §4): one pure engine for the CLI, the language server,
// the extension and tests. No vscode, no DOM, no native import.
//
//   const schema = compileSchema(text, uri);          // parse + check + lay out, once
//   schema.diagnostics                                // every problem, each with a range
//   const { root } = decode(schema, 'Ring', source);   // lazy node tree over a ByteSource
//   root.children(0, 100); fieldAt(root, 0x40);        // on demand; byte offset -> field
//   decodeJson(schema, 'Ring', source)                 // DESIGN.md §5 JSON
import type { ByteSource } from '../source';
import { compileSchema, type Schema } from './compile';
import { budgetSpent, decodeType, fieldAt, type CheckResult, type DecodedNode, type DecodeOptions, type JsonValue } from './decode';
import { diagJson, diagnostic, type Diagnostic } from './diagnostics';
import type { Range } from './lexer';
import { toJson, type CutArray, type JsonOptions } from './json';
import type { BindingKind, StructType, Type } from './types';

export { compileSchema, findField, allFieldNames, exprText, FORMATS, CHECKSUMS, type Schema, type Definition } from './compile';
export { budgetSpent, decodeType, fieldAt, formatInt, enumName, textOf, type CheckResult, type DecodedNode, type DecodeOptions, type JsonValue, type NodeKind } from './decode';
export { importHeader, type ImportResult, type ImportOptions } from './import';
export { nodeIncludeHost, systemIncludeDirs } from './host-node';
export type { IncludeHost } from './preprocess';
export type { CompileOptions } from './compile';
export { toJson, fastDecoder, MAX_ARRAY_ELEMENTS, type CutArray, type JsonOptions, type JsonReport } from './json';
export { checksum, summer, type ChecksumAlgorithm } from './checksum';
export { MAX_TOKENS } from './lexer';
export type { Range, Pos } from './lexer';
export { diagJson, diagnostic, formatDiagnostic, type Diagnostic, type Severity } from './diagnostics';
export { primitiveTypes, lockState, plausibleMutexKind, futexWordsOf, PRIMITIVE_SIZE, FUTEX_WAITERS, FUTEX_OWNER_DIED, FUTEX_TID_MASK, type LockState, type PrimitiveKind, type ThreadInfo, type ThreadLookup } from './primitives';
export type { Type, StructType, Field, EnumType, ArrayType, OffsetType, IntType } from './types';
export { layoutOf, symbols, hoverAt, definitionAt, completionsAt, inlayHints, formatSchema, wordAt, type LayoutRow, type SchemaSymbol, type Completion } from './service';

/** Parses, checks and lays out a schema (alias of compileSchema). */
export function parseSchema(text: string, uri = 'schema.shms'): Schema {
  return compileSchema(text, uri);
}

/** A type by name: a segment, struct, union, enum, typedef or builtin. */
export function findType(schema: Schema, name: string): Type | undefined {
  return schema.segments.find((s) => s.name === name) ?? schema.types.get(name.replace(/^(struct|union|enum)\s+/, ''));
}

/**
 * The errors that affect decoding `type`: those inside its declaration and the declarations of every
 * type it uses. Errors elsewhere in the file do not keep it from decoding.
 */
export function typeErrors(schema: Schema, type: Type): Diagnostic[] {
  const seen = new Set<Type>();
  const ranges: Range[] = [];
  const errs = new Set<Diagnostic>();
  const visit = (t: Type) => {
    if (seen.has(t)) return;
    seen.add(t);
    if (t.k === 'array') visit(t.elem);
    else if (t.k === 'offset') visit(t.target);
    else if (t.k === 'enum' && t.decl) ranges.push(t.decl.range);
    else if (t.k === 'struct') {
      if (t.decl) ranges.push(t.decl.range);
      for (const e of t.errors ?? []) errs.add(e);
      for (const f of t.fields) visit(f.type);
    }
  };
  visit(type);
  const inside = (r: Range, o: Range) =>
    (r.start.line > o.start.line || (r.start.line === o.start.line && r.start.character >= o.start.character)) && (r.end.line < o.end.line || (r.end.line === o.end.line && r.end.character <= o.end.character));
  return schema.diagnostics.filter((d) => d.severity === 'error' && (errs.has(d) || ranges.some((o) => inside(d.range, o))));
}

/** The schema's `segment` (the first one), used when no type is named. */
export function defaultSegment(schema: Schema): StructType | undefined {
  return schema.segments[0];
}

/**
 * The segment bound to a target, e.g. `{kind:'key', value:0x52494E47}` or `{kind:'posix', value:'/ring'}`.
 * A memfd, anonymous region or file that no declaration names is bound by content when `head`
 * (its first bytes) starts with a `segment … for magic` value, or a `[[magic]]` type's.
 */
export function segmentFor(schema: Schema, binding: { kind: BindingKind; value: number | string }, head?: Uint8Array): StructType | undefined {
  const named = segmentByName(schema, binding);
  if (named || !head || !['memfd', 'anon', 'file'].includes(binding.kind)) return named;
  let hex = '';
  for (const b of head.subarray(0, MAGIC_BYTES)) hex += b.toString(16).padStart(2, '0');
  const bySegment = schema.segments.find((s) => s.segment?.binding?.kind === 'magic' && hex.startsWith(String(s.segment.binding.value)));
  return bySegment ?? schema.structs.find((s) => s.magic !== undefined && hex.startsWith(s.magic));
}

/** How many first bytes of an object `segmentFor` compares with magic values. */
export const MAGIC_BYTES = 64;

function segmentByName(schema: Schema, binding: { kind: BindingKind; value: number | string }): StructType | undefined {
  return schema.segments.find((s) => {
    const b = s.segment?.binding;
    if (b?.kind !== binding.kind) return false;
    if (b.value === binding.value) return true;
    // `anon of "postgres"` names a program: its command line's first word, or that word's base name.
    if (b.kind !== 'anon' || typeof binding.value !== 'string') return false;
    const argv0 = binding.value.split(' ')[0] ?? '';
    return b.value === argv0 || b.value === argv0.slice(argv0.lastIndexOf('/') + 1);
  });
}

export interface DecodeResult {
  root?: DecodedNode;
  /** Why there is no root (unknown type, schema errors in the way). */
  diagnostics: Diagnostic[];
}

/** Decodes `type` (a name, or the default segment when omitted) from `source`; lazy. */
export function decode(schema: Schema, type: string | Type | undefined, source: ByteSource, options: DecodeOptions & { offset?: number } = {}): DecodeResult {
  const t = typeof type === 'string' ? findType(schema, type) : (type ?? defaultSegment(schema));
  const none = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  if (!t) {
    const names = [...schema.segments, ...schema.structs.filter((s) => !s.segment)].map((s) => s.name).filter((n) => !n.startsWith('('));
    return {
      diagnostics: [diagnostic(none, 'error', typeof type === 'string'
        ? `no type "${type}" in the schema${names.length ? ` (it has ${names.join(', ')})` : ''}`
        : 'the schema has no segment declaration; name a type')],
    };
  }
  try {
    return { root: decodeType(schema, t, source, options), diagnostics: [] };
  } catch (e) {
    // A decoder bug must not take the caller down: report it as a diagnostic.
    return { diagnostics: [diagnostic(none, 'error', `decoder failure: ${(e as Error).message}`)] };
  }
}

export interface JsonDecode {
  /** DESIGN.md §5: the value's fields, then "checks" and "diagnostics". */
  json: { [k: string]: JsonValue };
  checks: CheckResult[];
  diagnostics: Diagnostic[];
  /** Arrays written only in part (JsonOptions.maxArrayElements). */
  cut: CutArray[];
  /** The work budget (DecodeOptions.maxWork) when it ran out: the JSON is partial. */
  budgetSpent?: number;
}

/** The DESIGN.md §5 JSON of a decode (`shmscope decode --json`). */
export function decodeJson(schema: Schema, type: string | Type | undefined, source: ByteSource, options: DecodeOptions & JsonOptions = {}): JsonDecode {
  const r = decode(schema, type, source, options);
  const report = { checks: [] as CheckResult[], diagnostics: [...r.diagnostics], cut: [] as CutArray[] };
  let value: JsonValue = null;
  if (r.root) {
    try {
      value = toJson(r.root, report, options);
    } catch (e) {
      report.diagnostics.push(diagnostic(r.root.range, 'error', `decoder failure: ${(e as Error).message}`));
    }
  }
  const body: { [k: string]: JsonValue } = value && typeof value === 'object' && !Array.isArray(value) ? { ...value } : { value };
  body.checks = report.checks.map((c) => ({ path: c.path, kind: c.kind, ok: c.ok, expected: c.expected, actual: c.actual, ...(c.message ? { message: c.message } : {}) }));
  body.diagnostics = report.diagnostics.map(diagJson);
  const spent = r.root ? budgetSpent(r.root) : undefined;
  return { json: body, checks: report.checks, diagnostics: report.diagnostics, cut: report.cut, ...(spent !== undefined ? { budgetSpent: spent } : {}) };
}

/** Checks by outcome: an unknown (`?`) check is neither passed nor failed, but its own count. */
export function countChecks(checks: readonly CheckResult[]): { ok: number; failed: number; unknown: number } {
  let ok = 0;
  let failed = 0;
  for (const c of checks) {
    if (c.ok === true) ok++;
    else if (c.ok === false) failed++;
  }
  return { ok, failed, unknown: checks.length - ok - failed };
}

/** The schema's own diagnostics (syntax, types, layout, static_assert). */
export function diagnostics(schema: Schema): Diagnostic[] {
  return schema.diagnostics;
}

export { fieldAt as nodeAtOffset };
