// What editors need from a compiled schema: member layout (hover, inlay hints), symbols,
// definitions, completion candidates, formatting and C header import. Pure functions.
import { CHECKSUMS, FORMATS, type Definition, type Schema } from './compile';
import type { Pos, Range } from './lexer';
import type { Field, StructType, Type } from './types';

/** One member in a layout table. `offset` -1: placed from data while decoding. */
export interface LayoutRow {
  path: string;
  name: string;
  type: string;
  offset: number;
  size: number;
  align: number;
  paddingBefore: number;
  bits?: { offset: number; width: number };
  range: Range;
  nameRange: Range;
  struct: string;
}

/** Every member of `t` with offsets, nested structs flattened (up to `depth`). */
export function layoutOf(t: StructType, depth = 1, prefix = '', base = 0): LayoutRow[] {
  const rows: LayoutRow[] = [];
  for (const f of t.fields) {
    const off = f.offset < 0 || base < 0 ? -1 : base + f.offset;
    const path = f.name ? (prefix ? `${prefix}.${f.name}` : f.name) : prefix;
    rows.push({
      path: path || '(anonymous)', name: f.name || '(anonymous)', type: f.type.name, offset: off, size: f.size, align: f.align, paddingBefore: f.paddingBefore,
      bits: f.bitWidth !== undefined ? { offset: f.bitOffset ?? 0, width: f.bitWidth } : undefined, range: f.range, nameRange: f.nameRange, struct: t.name,
    });
    if (f.type.k === 'struct' && (depth > 1 || f.anonymous)) rows.push(...layoutOf(f.type, f.anonymous ? depth : depth - 1, path, off));
  }
  return rows;
}

const inRange = (r: Range, p: Pos) =>
  (p.line > r.start.line || (p.line === r.start.line && p.character >= r.start.character)) && (p.line < r.end.line || (p.line === r.end.line && p.character <= r.end.character));

/** The identifier under a position. */
export function wordAt(text: string, p: Pos): string | undefined {
  const line = text.split('\n')[p.line] ?? '';
  let a = p.character;
  let b = p.character;
  while (a > 0 && /\w/.test(line[a - 1]!)) a--;
  while (b < line.length && /\w/.test(line[b]!)) b++;
  return a < b ? line.slice(a, b) : undefined;
}

export interface SchemaSymbol {
  name: string;
  kind: Definition['kind'];
  detail: string;
  range: Range;
  selectionRange: Range;
  children: SchemaSymbol[];
}

/** Document outline: types and segments with their members, enums with values, defines. */
export function symbols(schema: Schema): SchemaSymbol[] {
  const out: SchemaSymbol[] = [];
  for (const s of schema.structs) {
    if (!s.decl?.name || s.decl.origin) continue;
    out.push({
      name: s.name, kind: s.segment ? 'segment' : s.union ? 'union' : 'struct', detail: s.dynamic ? `${s.size}+ bytes` : `${s.size} bytes`, range: s.decl.range, selectionRange: s.decl.nameRange,
      children: s.fields.filter((f) => f.name).map((f) => ({ name: f.name, kind: 'field' as const, detail: `${f.type.name} @ ${f.offset < 0 ? '?' : f.offset}`, range: f.range, selectionRange: f.nameRange, children: [] })),
    });
  }
  for (const e of schema.enums) {
    if (!e.decl?.name || e.decl.origin) continue;
    out.push({
      name: e.name, kind: 'enum', detail: e.base.name, range: e.decl.range, selectionRange: e.decl.nameRange,
      children: e.decl.items.map((i) => ({ name: i.name, kind: 'enumerator' as const, detail: String(e.values.get(i.name)), range: i.range, selectionRange: i.range, children: [] })),
    });
  }
  for (const d of schema.definitions) {
    if ((d.kind === 'typedef' || d.kind === 'define') && !d.origin) out.push({ name: d.name, kind: d.kind, detail: d.kind === 'typedef' ? schema.types.get(d.name)?.name ?? '' : '', range: d.range, selectionRange: d.nameRange, children: [] });
  }
  return out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

function fieldAtPos(schema: Schema, p: Pos): { s: StructType; f: Field; row?: LayoutRow } | undefined {
  for (const s of schema.structs) {
    if (s.decl?.origin) continue;
    for (const f of s.fields) if (inRange(f.nameRange, p) || (inRange(f.range, p) && f.name && !f.anonymous)) return { s, f };
  }
  return undefined;
}

function typeSummary(t: Type): string {
  return `${t.name}: size ${t.size}${t.k === 'struct' && t.dynamic ? '+ (data-dependent)' : ''}, align ${t.align}`;
}

/** Hover text (markdown) at a position: member layout, or a type's size and alignment. */
export function hoverAt(schema: Schema, p: Pos): { contents: string; range: Range } | undefined {
  const hit = fieldAtPos(schema, p);
  if (hit && inRange(hit.f.nameRange, p)) {
    const f = hit.f;
    const lines = [
      `**${hit.s.name}.${f.name}**: \`${f.type.name}\``,
      '',
      `offset ${f.offset < 0 ? 'from data' : `${f.offset} (0x${f.offset.toString(16)})`} · size ${f.size} · align ${f.align}${f.paddingBefore ? ` · ${f.paddingBefore} byte${f.paddingBefore === 1 ? '' : 's'} of padding before` : ''}`,
    ];
    if (f.bitWidth !== undefined) lines.push('', `bits ${f.bitOffset}..${(f.bitOffset ?? 0) + f.bitWidth - 1} of the ${f.size}-byte unit (width ${f.bitWidth})`);
    if (f.endian === 'be') lines.push('', 'big-endian');
    const prim = primitiveNote(f.type);
    if (prim) lines.push('', prim);
    if (f.attrs.some((a) => a.name === 'futex')) lines.push('', 'a futex word: `shmscope waits` names the threads blocked on it');
    return { contents: lines.join('\n'), range: f.nameRange };
  }
  const ref = schema.references.find((r) => inRange(r.range, p));
  const name = ref?.name ?? wordAt(schema.text, p);
  if (!name) return undefined;
  const t = schema.types.get(name);
  if (t) {
    const extra = t.k === 'struct' && t.tailPadding ? ` · ${t.tailPadding} bytes of tail padding` : '';
    const prim = primitiveNote(t);
    return { contents: `\`${typeSummary(t)}\`${extra}${prim ? `\n\n${prim}` : ''}`, range: ref?.range ?? { start: p, end: p } };
  }
  const c = schema.constants.get(name);
  if (c) return { contents: `\`${name} = ${c.value}\`${c.enumType ? ` (${c.enumType.name})` : ''}`, range: ref?.range ?? { start: p, end: p } };
  const d = schema.defines.get(name);
  if (d) return { contents: `\`#define ${name} ${d.tokens.map((x) => x.text).join(' ')}\``, range: ref?.range ?? { start: p, end: p } };
  return undefined;
}

/** What a glibc primitive decodes to, for hovers. */
function primitiveNote(t: Type): string | undefined {
  if (t.k !== 'struct' || !t.primitive) return undefined;
  const what: Record<string, string> = {
    mutex: 'unlocked or locked by a TID (its process and whether it is alive), waiters, kind, robust, owner died',
    cond: 'the number of threads still in a wait',
    rwlock: 'its readers, or the writer TID',
    barrier: 'threads arrived of threads expected',
    spinlock: 'locked or not',
    sem: 'its value and waiters',
  };
  return `glibc process-shared \`${t.name}\` (x86-64 layout, ${t.size} bytes): decoded to ${what[t.primitive] ?? 'its state'}`;
}

/** Where the name at a position is defined. */
export function definitionAt(schema: Schema, p: Pos): Range | undefined {
  const ref = schema.references.find((r) => inRange(r.range, p));
  if (ref?.target) return ref.target.nameRange;
  const name = ref?.name ?? wordAt(schema.text, p);
  if (!name) return undefined;
  const def = schema.definitions.find((d) => d.name === name && d.kind !== 'field') ?? schema.definitions.find((d) => d.name === name);
  return def?.nameRange;
}

export interface Completion {
  label: string;
  kind: 'type' | 'field' | 'keyword' | 'attribute' | 'pragma' | 'constant' | 'value';
  detail?: string;
  insertText?: string;
}

const KEYWORDS = ['struct', 'union', 'enum', 'typedef', 'segment', 'static_assert', 'offset', 'alignas', 'sizeof', 'offsetof', 'be', 'le', 'const', 'unsigned', 'signed'];
const ATTRS: [string, string][] = [
  ['expect', 'expect(${1:value})'], ['checksum', 'checksum(${1|crc32,crc32c,adler32,sum8,xor8|}, ${2:field})'], ['seqlock', 'seqlock'],
  ['ring', 'ring(head = ${1:hdr.head}, tail = ${2:hdr.tail})'], ['format', 'format(${1|hex,dec,bin,char,time_s,time_ns,ipv4,bool|})'], ['flags', 'flags'], ['if', 'if(${1:condition})'], ['futex', 'futex'],
];
const PRAGMAS = ['pack(${1:1})', 'pack(push, ${1:1})', 'pack(pop)', 'endian little', 'endian big', 'once'];

/** Completion candidates at a position, from what is left of the cursor on its line. */
export function completionsAt(schema: Schema, p: Pos): Completion[] {
  const line = (schema.text.split('\n')[p.line] ?? '').slice(0, p.character);
  if (/^\s*#\s*\w*$/.test(line)) return [{ label: 'pragma', kind: 'keyword' }, { label: 'define', kind: 'keyword' }, { label: 'include', kind: 'keyword' }];
  if (/^\s*#\s*pragma\s+\w*$/.test(line)) return PRAGMAS.map((x) => ({ label: x.replace(/\$\{1:?([^}]*)\}/, '$1'), kind: 'pragma' as const, insertText: x }));
  if (/format\(\s*\w*$/.test(line)) return FORMATS.map((f) => ({ label: f, kind: 'value' as const, detail: 'display format' }));
  if (/checksum\(\s*\w*$/.test(line)) return CHECKSUMS.map((f) => ({ label: f, kind: 'value' as const, detail: 'checksum algorithm' }));
  if (/\[\[[^\]]*$/.test(line) && !/\(\s*[^)]*$/.test(line.slice(line.lastIndexOf('[[')))) return ATTRS.map(([l, s]) => ({ label: l, kind: 'attribute' as const, insertText: s }));
  // Member access: `hdr.` -> members of hdr's type.
  const dot = /(\w+(?:\.\w+)*)\.\w*$/.exec(line);
  if (dot) {
    const parts = dot[1]!.split('.');
    let t: Type | undefined = undefined;
    const first = parts[0]!;
    for (const s of schema.structs) {
      const f = s.fields.find((x) => x.name === first);
      if (f) {
        t = f.type;
        break;
      }
    }
    for (const part of parts.slice(1)) t = t?.k === 'struct' ? t.fields.find((x) => x.name === part)?.type : undefined;
    if (t?.k === 'struct') return t.fields.filter((f) => f.name).map((f) => ({ label: f.name, kind: 'field' as const, detail: `${f.type.name} @ ${f.offset < 0 ? '?' : f.offset}` }));
    return [];
  }
  const inExpr = /[[@(=]\s*[^;{}]*$/.test(line);
  const out: Completion[] = [];
  if (inExpr) {
    // Fields of the struct being edited (and every struct: data expressions reach outward).
    const here = schema.structs.find((s) => s.decl && p.line >= s.decl.range.start.line && p.line <= s.decl.range.end.line);
    const seen = new Set<string>();
    for (const s of here ? [here, ...schema.structs] : schema.structs) {
      for (const f of s.fields) if (f.name && !seen.has(f.name)) {
        seen.add(f.name);
        out.push({ label: f.name, kind: 'field', detail: `${s.name}.${f.name}: ${f.type.name}` });
      }
    }
    for (const [n, c] of schema.constants) out.push({ label: n, kind: 'constant', detail: String(c.value) });
    for (const n of schema.defines.keys()) out.push({ label: n, kind: 'constant', detail: '#define' });
    out.push({ label: 'sizeof', kind: 'keyword' }, { label: 'offsetof', kind: 'keyword' });
    return out;
  }
  const seen = new Set<string>();
  for (const [n, t] of schema.types) {
    if (seen.has(n) || n.includes(' ')) continue;
    seen.add(n);
    out.push({ label: n, kind: 'type', detail: `${t.size} bytes` });
  }
  for (const k of KEYWORDS) out.push({ label: k, kind: 'keyword' });
  return out;
}

/** `@ offset` hints after each member name, for fixed offsets. */
export function inlayHints(schema: Schema): { position: Pos; label: string }[] {
  const out: { position: Pos; label: string }[] = [];
  for (const s of schema.structs) {
    if (!s.decl || s.decl.origin) continue;
    for (const f of s.fields) {
      if (!f.name || f.offset < 0 || f.at) continue;
      out.push({ position: f.nameRange.end, label: f.bitWidth !== undefined ? ` @${f.offset}:${f.bitOffset}` : ` @${f.offset}` });
    }
  }
  return out;
}

/** Re-indents by brace depth (4 spaces), trims trailing spaces, one blank line at most. */
export function formatSchema(text: string, indent = '    '): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let depth = 0;
  let inComment = false;
  let blank = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') {
      if (++blank <= 1 && out.length) out.push('');
      continue;
    }
    blank = 0;
    if (inComment) {
      out.push(raw.replace(/\s+$/, ''));
      if (line.includes('*/')) inComment = false;
      continue;
    }
    const code = line.replace(/\/\/.*$/, '').replace(/"(?:\\.|[^"\\])*"/g, '""').replace(/\/\*.*?\*\//g, '');
    const opens = (code.match(/\{/g) ?? []).length;
    const closes = (code.match(/\}/g) ?? []).length;
    const lead = /^\}/.test(line) ? 1 : 0;
    const level = line.startsWith('#') ? 0 : Math.max(0, depth - lead);
    out.push(indent.repeat(level) + line);
    depth = Math.max(0, depth + opens - closes);
    if (code.includes('/*') && !code.includes('*/')) inComment = true;
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}
