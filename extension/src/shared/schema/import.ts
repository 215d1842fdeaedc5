// C header → `.shms`: the header goes through the engine's preprocessor and parser, and the schema
// keeps, fully expanded, every type declaration of the header with the types they use from its
// includes, and every object-like #define that is an integer constant. The result re-checks clean
// without the header's includes or macros. Linear in the tokens: one pass to index, one closure
// over names, one printing pass.
import type { Decl } from './ast';
import { compileSchema, type CompileOptions } from './compile';
import type { Token } from './lexer';
import { nodeIncludeHost } from './host-node';
import { formatSchema } from './service';

export interface ImportResult {
  /** The schema text. */
  text: string;
  /** What was left out, one line each (`line 12: int open(…) (not a type)`). */
  skipped: string[];
  /** Errors the header has for the engine (`line 3: …`). */
  diagnostics: string[];
  /**
   * Types written without a layout because the header gives them one the engine does not make
   * (`line 3: __attribute__((ms_struct)) … : struct m is not laid out`): the import failed for them.
   */
  refused: string[];
  /** How many type declarations and #defines were kept. */
  types: number;
  defines: number;
  /**
   * Set when a token limit (ImportOptions.maxTokens) cut the header short (`line 429754: too many
   * tokens: …`): the types after that place are missing, so the text is incomplete.
   */
  tokenLimit?: string;
}

export interface ImportOptions extends CompileOptions {
  /**
   * Keep the types of every included system header, not only those the header's types use. The
   * default is true for a header that is itself in a system include folder (`sys/stat.h` declares
   * its types in `bits/`), false for the user's own headers. Types of included headers outside the
   * system folders (the user's own) are always kept.
   */
  allTypes?: boolean;
}

/** Names a declaration defines (struct/union/enum tags, typedef names, enumerators). */
function declared(d: Decl, out: string[]) {
  if (d.kind === 'typedef') out.push(d.name);
  else if (d.kind === 'struct' && d.name) out.push(d.name);
  else if (d.kind === 'enum') {
    if (d.name) out.push(d.name);
    for (const it of d.items) out.push(it.name);
  }
}

/** A `.shms` from a C header: its types and numeric #defines; what was left out is listed. */
export function importHeader(header: string, name = 'header.h', options: ImportOptions = {}): ImportResult {
  const schema = compileSchema(header, name, { ...options, evaluateDefines: true });
  const system = (options.host ?? nodeIncludeHost).systemDirs().map((d) => `${d.replace(/\/+$/, '')}/`);
  const isSystem = (file: string) => system.some((d) => file.startsWith(d));
  const all = options.allTypes ?? isSystem(name);
  const toks = schema.tokens;
  const spans = schema.spans;
  // Which spans define which names, and which are the header's own.
  const definers = new Map<string, number[]>();
  spans.forEach((s, i) => {
    const names: string[] = [];
    for (const d of s.decls) declared(d, names);
    for (const n of names) {
      const list = definers.get(n);
      if (list) list.push(i);
      else definers.set(n, [i]);
    }
  });
  const keep = new Uint8Array(spans.length);
  const work: number[] = [];
  spans.forEach((s, i) => {
    // The header's own types and those of the user's headers it includes; of system headers,
    // only what they use (below).
    const origin = toks[s.start]?.origin;
    if (all || !origin || !isSystem(origin.slice(0, origin.lastIndexOf(':')))) {
      keep[i] = 1;
      work.push(i);
    }
  });
  while (work.length) {
    const s = spans[work.pop()!]!;
    for (let k = s.start; k < s.end; k++) {
      const t = toks[k]!;
      if (t.kind !== 'ident') continue;
      for (const j of definers.get(t.text) ?? []) if (!keep[j]) {
        keep[j] = 1;
        work.push(j);
      }
    }
  }
  const out: string[] = [`// Imported from ${name} by shmscope: its types (macros expanded, with the types it uses from its includes) and numeric #defines.`];
  let defines = 0;
  const defineLines: string[] = [];
  const skipped: string[] = [];
  for (const [n, d] of schema.defines) {
    const v = schema.values?.get(n);
    const line = `line ${d.range.start.line + 1}`;
    if (d.params) skipped.push(`${line}: #define ${n}(…) (function-like macro)`);
    else if (v === undefined) skipped.push(`${line}: #define ${n} (not a numeric constant)`);
    else {
      const single = d.tokens.length === 1 && d.tokens[0]!.kind === 'number' ? d.tokens[0]!.text : undefined;
      defineLines.push(`#define ${n} ${single ?? v.toString()}`);
      defines++;
    }
  }
  // The numeric #defines of the headers it includes whose types are all kept: the user's own, and
  // every one with `all` (a system header such as Python.h, or --all-types).
  for (const [n, m] of schema.macros) {
    if (m.main || !m.origin || m.params || schema.defines.has(n) || (!all && isSystem(m.origin.slice(0, m.origin.lastIndexOf(':'))))) continue;
    const v = schema.values?.get(n);
    if (v === undefined) continue;
    const single = m.body.length === 1 && m.body[0]!.kind === 'number' ? m.body[0]!.text : undefined;
    defineLines.push(`#define ${n} ${single ?? v.toString()}`);
    defines++;
  }
  if (defineLines.length) out.push(defineLines.join('\n'));
  let types = 0;
  const refused: string[] = [];
  spans.forEach((s, i) => {
    if (!keep[i]) return;
    for (const d of s.decls) if (d.kind === 'struct' && d.refused && d.broken) refused.push(`line ${d.range.start.line + 1}: ${d.broken}`);
    const pack = s.decls.find((d) => d.kind === 'struct' && d.pack);
    const body = printTokens(toks, s.start, s.end);
    const origin = toks[s.start]?.origin;
    const from = origin ? `// from ${origin}\n` : '';
    out.push(pack && pack.kind === 'struct' ? `${from}#pragma pack(push, ${pack.pack})\n${body}\n#pragma pack(pop)` : `${from}${body}`);
    types++;
  });
  for (const s of schema.skipped) skipped.push(`line ${s.range.start.line + 1}: ${s.text}`);
  return {
    text: formatSchema(`${out.join('\n\n')}\n`),
    skipped,
    diagnostics: schema.diagnostics.filter((d) => d.severity === 'error').map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
    refused,
    types,
    defines,
    ...(schema.tokenLimit ? { tokenLimit: `line ${schema.tokenLimit.range.start.line + 1}: ${schema.tokenLimit.message}` } : {}),
  };
}

const NO_SPACE_BEFORE = new Set([')', ']', ';', ',', '.', '->', '[']);
const NO_SPACE_AFTER = new Set(['(', '[', '.', '->', '~', '!']);

/** Tokens as C text: one declaration per line, members on their own lines. */
function printTokens(toks: Token[], start: number, end: number): string {
  let s = '';
  let parens = 0;
  let prev: Token | undefined;
  for (let k = start; k < end; k++) {
    const t = toks[k]!;
    if (t.kind === 'pragma') {
      s += `\n${t.text}\n`;
      prev = undefined;
      continue;
    }
    const text = t.kind === 'string' ? (t.raw ?? JSON.stringify(t.text)) : t.kind === 'char' ? (t.raw ?? t.text) : t.text;
    if (t.kind === 'punct' && t.text === '}' && parens === 0) s += s.endsWith('\n') ? '' : '\n';
    else if (prev && !s.endsWith('\n') && !NO_SPACE_BEFORE.has(t.text) && !NO_SPACE_AFTER.has(prev.text)) s += ' ';
    // `[[` must stay adjacent; `[` after a name too.
    if (t.text === '[' && prev && !s.endsWith('\n') && s.endsWith(' ')) s = s.slice(0, -1);
    s += text;
    if (t.kind === 'punct') {
      if (t.text === '(') parens++;
      else if (t.text === ')') parens = Math.max(0, parens - 1);
      if (parens === 0 && (t.text === '{' || t.text === ';') && k + 1 < end) s += '\n';
    }
    prev = t;
  }
  return s;
}
