// Program (DWARF) → `.shms`: the types the native reader (native/src/dwarf.cc) described, written
// as schema declarations. Every member that is not a bit-field is placed at the offset the
// compiler recorded (`@ N`), so bases, vtable pointers, `alignas` and packing come out exactly as
// the ABI laid them out; bit-fields are laid out by the engine from the same rules as gcc, with
// unnamed padding where the compiler skipped bits. Each type is written twice from one walk: as
// text, and as the declarations that text parses to (ast.ts). The engine's layout stage
// (layout.ts) lays the declarations out, and every size and offset is compared with the debug
// information: a difference is an error naming the member, never a silent one. The text is not
// parsed back (test/unit/import-dwarf-model.test.ts proves it parses to the same layout).
import type { EnumDecl, Expr, MemberDecl, StructDecl, TypeRef } from './ast';
import { allFieldNames, builtinType, findField, wrapInt } from './compile';
import { diagnostic, type Diagnostic } from './diagnostics';
import { compileSchema, diagnostics } from './index';
import type { Range } from './lexer';
import { layoutMembers, placeBitfield, type LayoutContext } from './layout';
import { PREDEFINED } from './pp-predefined';
import type { EnumType, IntType, StructType, Type } from './types';

/** A type reference as the reader gives it. */
export type DwarfRef =
  | { k: 'base'; name: string; enc: number; size: number; typedef?: string }
  | { k: 'ptr'; size: number; to: string; typedef?: string }
  | { k: 'array'; elem: DwarfRef; counts: number[]; typedef?: string }
  | { k: 'agg' | 'enum'; id: number; typedef?: string }
  | { k: 'fn' | 'void'; typedef?: string }
  | { k: 'bad'; why: string; typedef?: string };

export interface DwarfMember {
  name: string;
  type?: DwarfRef;
  offset?: number;
  base?: boolean;
  virtual?: boolean;
  artificial?: boolean;
  bitSize?: number;
  bitPos?: number;
  align?: number;
  variant?: boolean;
}

export interface DwarfType {
  id: number;
  kind: 'struct' | 'class' | 'union' | 'enum';
  name: string;
  size: number;
  align?: number;
  lang: number;
  members?: DwarfMember[];
  items?: { name: string; value: string }[];
  base?: DwarfRef;
  signed?: boolean;
  enumClass?: boolean;
  /** Named here after the member that has it. */
  anonymous?: boolean;
}

export interface DwarfTypes {
  types: DwarfType[];
  roots: Record<string, number>;
  missing: string[];
  units: number;
  missingDwo: string[];
}

export interface DwarfImportResult {
  text: string;
  /** Qualified names of the types written. */
  types: string[];
  /** Each type asked for (qualified, as DWARF names it) → its name in the schema, when written as a type of its own. */
  roots: Record<string, string>;
  /** Types left out with `--all-types` (`app::X: why`). */
  skipped: string[];
  /** Notes for the user (missing .dwo files). */
  notes: string[];
}

/** A type DWARF describes that the schema language cannot: names the type and member. */
export class InexpressibleError extends Error {}

const DW_ATE = { boolean: 0x2, complex: 0x3, float: 0x4, signed: 0x5, signedChar: 0x6, unsigned: 0x7, unsignedChar: 0x8, utf: 0x10 };

/** Splits a C++ qualified name at its top-level `::` (not inside template arguments). */
function components(q: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth = Math.max(0, depth - 1);
    else if (c === ':' && q[i + 1] === ':' && depth === 0) {
      out.push(q.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  out.push(q.slice(start));
  return out;
}

/** The last component of a qualified name (`app::Ring<int, 4>` → `Ring<int, 4>`). */
const lastComponent = (q: string) => (q.includes('::') ? components(q).pop() ?? q : q);

const identOf = (s: string) => {
  // Most names are identifiers already (one test instead of two replacements).
  if (/^[A-Za-z](?:\w*[A-Za-z0-9])?$/.test(s)) return s;
  const t = s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return !t ? 'anon' : /^[0-9]/.test(t) ? `_${t}` : t;
};

/**
 * The words a schema may give a meaning of their own: C and GNU keywords, the language's words, the
 * predefined macros (`linux`, `unix`) and, through `builtinType`, the builtin type names. Only
 * these, and names that start with `_`, are probed by compiling (below); any other identifier is
 * legal (test/unit/import-dwarf-model.test.ts holds this against every word the engine knows).
 */
const SPECIAL = new Set([
  'alignas', 'alignof', 'asm', 'auto', 'bool', 'break', 'case', 'char', 'const', 'constexpr', 'continue', 'default', 'defined', 'do', 'double',
  'else', 'enum', 'extern', 'false', 'float', 'for', 'goto', 'if', 'inline', 'int', 'long', 'magic', 'nullptr', 'offset', 'offsetof', 'register',
  'restrict', 'return', 'segment', 'self', 'short', 'signed', 'sizeof', 'static', 'static_assert', 'struct', 'switch', 'thread_local', 'true',
  'typedef', 'typeof', 'typeof_unqual', 'union', 'unsigned', 'void', 'volatile', 'while',
  ...[...PREDEFINED.matchAll(/^#define (\w+)/gm)].map((m) => m[1]!),
]);

/** A name that needs no probe: an identifier the schema language gives no meaning of its own. */
export function plainName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !SPECIAL.has(name) && builtinType(name) === undefined;
}

/** Whether `name` works as a schema identifier (not one of the language's keywords). */
const legalCache = new Map<string, boolean>();
// Three bytes, a size no builtin type has: a name that still means a builtin (`s32`, a 4-byte
// integer) fails the assertion instead of passing it.
const probe = (names: readonly string[]) =>
  diagnostics(compileSchema(names.map((n) => `struct ${n} { char ${n}[3]; }; static_assert(sizeof(${n}) == 3);`).join('\n'), 'probe.shms')).every((d) => d.severity !== 'error');
export function legal(name: string): boolean {
  if (plainName(name)) return true;
  let ok = legalCache.get(name);
  if (ok === undefined) {
    ok = probe([name]);
    legalCache.set(name, ok);
  }
  return ok;
}

/**
 * Answers `legal` for many names with few compiles (one per name costs most of an --all-types
 * import of a large program): a batch without an error is legal throughout, else it is halved.
 * A name's own probe fails in a batch too, so the answers are those of one probe each.
 */
function primeLegal(names: Iterable<string>): void {
  const todo = [...new Set(names)].filter((n) => !legalCache.has(n));
  const check = (batch: string[]) => {
    if (batch.length <= 1 || probe(batch)) {
      if (batch.length === 1) legal(batch[0]!);
      else for (const n of batch) legalCache.set(n, true);
      return;
    }
    const half = batch.length >> 1;
    check(batch.slice(0, half));
    check(batch.slice(half));
  };
  for (let i = 0; i < todo.length; i += 1024) check(todo.slice(i, i + 1024));
}

const NO_USES: number[] = [];
const noted = (s: Spelled, note: string): Spelled => ({ spec: s.spec, dims: s.dims, note, uses: s.uses, size: s.size, align: s.align });

interface Spelled {
  /** Type specifier (`uint32_t`, `Shared`, `void *`). */
  spec: string;
  /** Array suffix (`[4][2]`). */
  dims: string;
  /** What it is in the source language, when that differs (for a comment). */
  note?: string;
  /** The by-value type ids it uses. */
  uses: number[];
  /** Size and alignment of the scalar or element (for bit-field padding and atomics). */
  size: number;
  align: number;
}

class Writer {
  private readonly byId = new Map<number, DwarfType>();
  private readonly schemaName = new Map<number, string>();
  private readonly usedNames = new Set<string>();
  private readonly enumerators = new Set<string>();
  private readonly enumeratorNames = new Map<string, string>();
  private readonly lastNumber = new Map<string, number>();

  constructor(private readonly data: DwarfTypes) {
    for (const t of data.types) this.byId.set(t.id, t);
    // An unnamed type of a named member takes the name Parent_member.
    const given = new Map<number, string>();
    for (const t of data.types) for (const m of t.members ?? []) {
      if (m.name && !m.base && m.type?.k === 'agg' && !this.byId.get(m.type.id)?.name && !given.has(m.type.id)) {
        given.set(m.type.id, `${t.name}::${m.name}`);
      }
    }
    for (const [id, n] of given) this.byId.set(id, { ...this.byId.get(id)!, name: n, anonymous: true });
    // Short names where they are unique, the qualified spelling otherwise.
    const all = [...this.byId.values()];
    const shorts = all.map((t) => identOf(lastComponent(t.name)));
    // The names only a probe compile can tell, probed together.
    const probed: string[] = [];
    const consider = (n: string) => {
      if (!plainName(n)) probed.push(n);
    };
    for (let i = 0; i < all.length; i++) {
      const t = all[i]!;
      consider(shorts[i]!);
      if (t.name.includes('::')) consider(identOf(t.name.replace(/::/g, '__')));
      else if (t.name !== shorts[i]) consider(identOf(t.name));
      for (const m of t.members ?? []) consider(identOf(m.name));
      for (const e of t.items ?? []) consider(identOf(e.name));
    }
    primeLegal(probed);
    const short = new Map<string, number>();
    for (const s of shorts) short.set(s, (short.get(s) ?? 0) + 1);
    for (let i = 0; i < all.length; i++) {
      const t = all[i]!;
      let n = shorts[i]!;
      if ((short.get(n) ?? 0) > 1 || this.usedNames.has(n)) n = identOf(t.name.replace(/::/g, '__'));
      if (!legal(n)) n = `${n}_`;
      if (this.usedNames.has(n)) n = this.numbered(identOf(t.name), this.usedNames);
      this.usedNames.add(n);
      this.schemaName.set(t.id, n);
    }
  }

  /**
   * `base_2`, `base_3`, …: the first not in `used`. Names are only ever added, so the search for a
   * base starts where its last one ended (a type in every unit of a large program has hundreds).
   */
  private numbered(base: string, used: Set<string>): string {
    const key = `${used === this.usedNames ? 't' : 'e'}:${base}`;
    let i = this.lastNumber.get(key) ?? 1;
    let n: string;
    do n = `${base}_${++i}`;
    while (used.has(n));
    this.lastNumber.set(key, i);
    return n;
  }

  type(id: number): DwarfType {
    return this.byId.get(id)!;
  }

  name(id: number): string {
    return this.schemaName.get(id)!;
  }

  /** `std::atomic<T>` (and its `__atomic_base`): the scalar inside, at offset 0 and of its size. */
  private atomicScalar(t: DwarfType, where: string, depth = 0): Spelled | undefined {
    if (!/^std::(__\d+::)?(atomic|__atomic_base|__atomic_float|__atomic_ref)</.test(t.name) || depth > 8) return undefined;
    const data = (t.members ?? []).filter((m) => !this.isEmptyBase(m));
    if (data.length !== 1 || data[0]!.offset !== 0 || !data[0]!.type) return undefined;
    const inner = data[0]!.type;
    if (inner.k === 'agg') {
      const it = this.type(inner.id);
      const deeper = this.atomicScalar(it, where, depth + 1);
      if (deeper) return deeper.size === t.size ? deeper : undefined;
      return it.size === t.size ? noted(this.spell(inner, where), t.name) : undefined;
    }
    const s = this.spell(inner, where);
    return s.size === t.size && !s.dims ? noted(s, t.name) : undefined;
  }

  /** A base class without data (it takes no room: the empty-base optimisation). */
  isEmptyBase(m: DwarfMember): boolean {
    if (!m.base || m.type?.k !== 'agg') return false;
    return this.isEmpty(this.type(m.type.id), 0);
  }

  private isEmpty(t: DwarfType, depth: number): boolean {
    if (depth > 32 || t.kind === 'enum') return false;
    return (t.members ?? []).every((m) => m.base && m.type?.k === 'agg' && !m.virtual && this.isEmpty(this.type(m.type.id), depth + 1));
  }

  spell(r: DwarfRef, where: string): Spelled {
    switch (r.k) {
      case 'base':
        return this.base(r, where);
      case 'ptr':
        if (r.size === 8) return { spec: 'void *', dims: '', note: `${r.to} *`, uses: [], size: 8, align: 8 };
        if (r.size % 8 === 0) return { spec: 'uint64_t', dims: `[${r.size / 8}]`, note: `pointer to member (${r.size} bytes)`, uses: [], size: 8, align: 8 };
        throw new InexpressibleError(`${where}: a ${r.size}-byte pointer`);
      case 'array': {
        const e = this.spell(r.elem, where);
        const dims = r.counts.map((c) => `[${c < 0 ? 0 : c}]`).join('') || '[0]';
        return { spec: e.spec, dims: dims + e.dims, note: e.note, uses: e.uses, size: e.size, align: e.align };
      }
      case 'agg': {
        const t = this.type(r.id);
        const atomic = this.atomicScalar(t, where);
        if (atomic) return atomic;
        return { spec: this.name(r.id), dims: '', note: t.name !== this.name(r.id) ? t.name : undefined, uses: [r.id], size: t.size, align: t.align ?? 1 };
      }
      case 'enum': {
        const t = this.type(r.id);
        return { spec: this.name(r.id), dims: '', uses: [r.id], size: t.size, align: t.size };
      }
      case 'fn':
        throw new InexpressibleError(`${where}: a function type`);
      case 'void':
        throw new InexpressibleError(`${where}: a member of type void`);
      case 'bad':
        throw new InexpressibleError(`${where}: ${r.why}`);
    }
  }

  private base(r: Extract<DwarfRef, { k: 'base' }>, where: string): Spelled {
    const ints: Record<number, string> = { 1: 'int8_t', 2: 'int16_t', 4: 'int32_t', 8: 'int64_t', 16: '__int128' };
    const sized = (spec: string | undefined): Spelled => {
      if (!spec) throw new InexpressibleError(`${where}: the ${r.size}-byte type ${r.name}`);
      const note = r.typedef && r.typedef !== spec && !/^_|^u?int\d+_t$/.test(r.typedef) ? r.typedef : undefined;
      return { spec, dims: '', note, uses: NO_USES, size: r.size, align: Math.min(r.size, 16) };
    };
    switch (r.enc) {
      case DW_ATE.boolean:
        return sized(r.size === 1 ? 'bool' : ints[r.size] && `u${ints[r.size]}`);
      case DW_ATE.float:
        return sized({ 4: 'float', 8: 'double', 16: 'long double' }[r.size]);
      case DW_ATE.complex:
        return sized({ 8: '_Complex float', 16: '_Complex double' }[r.size]);
      case DW_ATE.signedChar:
      case DW_ATE.unsignedChar:
      case DW_ATE.utf:
        if (r.size === 1 && (r.name === 'char' || r.name === 'char8_t')) return sized('char');
        if (r.enc === DW_ATE.signedChar) return sized(ints[r.size]);
        return sized(ints[r.size] && (r.size === 16 ? 'unsigned __int128' : `u${ints[r.size]}`));
      case DW_ATE.signed:
        return sized(ints[r.size]);
      case DW_ATE.unsigned:
        return sized(ints[r.size] && (r.size === 16 ? 'unsigned __int128' : `u${ints[r.size]}`));
      default:
        throw new InexpressibleError(`${where}: ${r.name || 'a base type'} (DWARF encoding 0x${r.enc.toString(16)})`);
    }
  }

  member(n: string): string {
    const id = identOf(n);
    return legal(id) ? id : `${id}_`;
  }

  enumerator(t: DwarfType, n: string): string {
    const key = `${t.id}:${n}`;
    const known = this.enumeratorNames.get(key);
    if (known) return known;
    let id = identOf(n);
    if (this.enumerators.has(id) || this.usedNames.has(id) || !legal(id)) id = `${this.name(t.id)}_${id}`;
    if (this.enumerators.has(id)) id = this.numbered(`${this.name(t.id)}_${identOf(n)}`, this.enumerators);
    this.enumerators.add(id);
    this.enumeratorNames.set(key, id);
    return id;
  }
}

const LANG_RUST = 0x1c;

/** No place in a text: the declarations below are made, not parsed. */
const NOWHERE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
/** A constant; the small ones (offsets, widths, counts) made once and shared, never changed. */
const SMALL: Expr[] = [];
const num = (v: number | string): Expr => {
  if (typeof v === 'number' && v >= 0 && v < 4096 && Number.isInteger(v)) return (SMALL[v] ??= { k: 'num', v: BigInt(v), range: NOWHERE });
  return { k: 'num', v: BigInt(v), range: NOWHERE };
};
/** What the parser reads some specifiers as (`_Complex float` is the builtin `float _Complex`). */
const SPEC_NAMES: Record<string, string> = { '_Complex float': 'float _Complex', '_Complex double': 'double _Complex' };

/** The declaration a spelled type parses to. */
function refOf(s: Spelled): TypeRef {
  const pointer = s.spec.endsWith(' *');
  const name = pointer ? s.spec.slice(0, -2) : s.spec;
  const dims = s.dims ? s.dims.slice(1, -1).split('][').map(num) : [];
  return { spec: { k: 'named', name: SPEC_NAMES[name] ?? name, range: NOWHERE }, pointers: pointer ? 1 : 0, dims, range: NOWHERE };
}

/** A member as the parser gives it (one shape for all: many of them in a large program). */
const member = (name: string | undefined, type: TypeRef, bits?: Expr, at?: Expr): MemberDecl => ({ name, nameRange: NOWHERE, type, bits, at, attrs: NO_ATTRS, packed: false, range: NOWHERE });
const NO_ATTRS: MemberDecl['attrs'] = [];

/**
 * One type, declared: its text is `head`, the attribute the size check gives it (`alignas(8)`), then
 * `body`; `model` is what that text parses to; `uses`, the by-value type ids it uses.
 */
interface Declared {
  head: string;
  body: string;
  model: StructDecl | EnumDecl;
  uses: number[];
}

/** Declarations of one type, with what it uses by value. */
function declare(w: Writer, t: DwarfType): Declared {
  const name = w.name(t.id);
  const lines: string[] = [];
  const cxx = t.name && !t.anonymous && t.name !== name ? ` // ${t.lang === LANG_RUST ? 'Rust' : 'C++'}: ${t.name}` : t.anonymous ? ` // the unnamed type of ${t.name.replace(/::(?=[^:]*$)/, '.')}` : '';
  if (t.kind === 'enum') {
    const base = t.base ? w.spell(t.base, `${t.name}`).spec : `${t.signed ? '' : 'u'}int${t.size * 8}_t`;
    lines.push(`enum ${name} : ${base} {${cxx}${t.enumClass ? `${cxx ? ',' : ' //'} enum class` : ''}`);
    const items: EnumDecl['items'] = [];
    for (const it of t.items ?? []) {
      const e = w.enumerator(t, it.name);
      lines.push(`    ${e} = ${it.value},${e !== it.name ? ` // ${it.name}` : ''}`);
      items.push({ name: e, value: num(it.value), range: NOWHERE });
    }
    lines.push('};');
    const model: EnumDecl = { kind: 'enum', name, nameRange: NOWHERE, underlying: refOf({ spec: base, dims: '', uses: [], size: t.size, align: t.size }), items, flags: false, packed: false, range: NOWHERE };
    return { head: lines.join('\n'), body: '', model, uses: [] };
  }
  const uses: number[] = [];
  const union = t.kind === 'union';
  const members: MemberDecl[] = [];
  const model: StructDecl = { kind: 'struct', union, name, nameRange: NOWHERE, members, packed: false, pack: 0, attrs: [], range: NOWHERE };
  const head = `${union ? 'union' : 'struct'} ${name}`;
  lines.push(` {${cxx}`);
  let bitpos = 0;
  const seen = new Set<string>();
  let anon = 0;
  for (const m of t.members ?? []) {
    const memberName = m.base && m.type?.k === 'agg' ? w.type(m.type.id).name : m.name;
    const where = `${t.name}.${memberName || '(anonymous)'}`;
    if (m.variant) throw new InexpressibleError(`${t.name}: a Rust enum with data (a DWARF variant part); give it #[repr(C)] on a struct and union`);
    if (m.virtual) throw new InexpressibleError(`${where}: a virtual base (its offset is read from the vtable when the program runs)`);
    if (!m.type) throw new InexpressibleError(`${where}: a member without a type`);
    if (w.isEmptyBase(m)) {
      lines.push(`    // base ${m.type.k === 'agg' ? w.type(m.type.id).name : '?'}: empty, takes no room`);
      continue;
    }
    if (m.offset === undefined || m.offset < 0) throw new InexpressibleError(`${where}: an offset DWARF gives as an expression`);
    const s = w.spell(m.type, where);
    uses.push(...s.uses);
    let mname = m.artificial && m.name.startsWith('_vptr') ? '_vptr' : m.name ? w.member(m.name) : '';
    const baseName = memberName;
    if (m.base) mname = w.member(lastComponent(baseName));
    for (let i = 2; mname && seen.has(mname); i++) mname = `${mname}_${i}`;
    if (mname) seen.add(mname);
    let note = m.base ? `base ${baseName}` : '';
    if (m.artificial) note = note ? `${note}; vtable pointer` : 'vtable pointer';
    if (mname && mname !== m.name && !m.base && !m.artificial && m.name) note = note ? `${note}; ${m.name}` : m.name;
    if (!m.base && s.note) note = note ? `${note}; ${s.note}` : s.note;
    const comment = note ? ` // ${note}` : '';
    if (m.bitSize !== undefined) {
      const pos = m.bitPos ?? 0;
      if (!union) {
        // Unnamed padding where the compiler skipped bits (an unnamed bit-field in the source).
        const natural = placeBitfield(bitpos, m.bitSize, s.align, false, 0);
        if (natural !== pos && pos > bitpos) {
          for (let p = bitpos; p < pos;) {
            const chunk = Math.min(8 - (p % 8), pos - p);
            lines.push(`    uint8_t : ${chunk};`);
            members.push(member(undefined, refOf({ spec: 'uint8_t', dims: '', uses: [], size: 1, align: 1 }), num(chunk)));
            p += chunk;
          }
          bitpos = pos;
        }
        bitpos = Math.max(bitpos, pos + m.bitSize);
      }
      if (!mname) mname = `_bits${++anon}`;
      lines.push(`    ${s.spec} ${mname} : ${m.bitSize};${comment}`);
      members.push(member(mname, refOf(s), num(m.bitSize)));
      continue;
    }
    const size = s.size * (s.dims ? s.dims.slice(1, -1).split('][').reduce((a, b) => a * Number(b), 1) : 1);
    if (!mname) {
      // An anonymous struct or union: written in place, its members reached as the parent's.
      if (m.type.k !== 'agg') throw new InexpressibleError(`${where}: an unnamed member`);
      const inner = declare(w, w.type(m.type.id));
      const body = inner.model as StructDecl;
      uses.push(...inner.uses);
      lines.push(`    ${`${body.union ? 'union' : 'struct'}${inner.body}`.replace(/\n/g, '\n    ')}`);
      members.push(member(undefined, { spec: { k: 'struct', union: body.union, body, range: NOWHERE }, pointers: 0, dims: [], range: NOWHERE }));
      bitpos = Math.max(bitpos, (m.offset + size) * 8);
      continue;
    }
    lines.push(`    ${s.spec} ${mname}${s.dims}${union ? '' : ` @ ${m.offset}`};${comment}`);
    members.push(member(mname, refOf(s), undefined, union ? undefined : num(m.offset)));
    if (!union) bitpos = Math.max(bitpos, (m.offset + size) * 8);
  }
  // An empty C++ class still takes a byte of its own (not as a base: see above).
  if (bitpos === 0 && t.size > 0 && !(t.members ?? []).some((m) => m.name && !m.base)) {
    lines.push(`    uint8_t _empty[${t.size}]; // an empty class`);
    members.push(member('_empty', refOf({ spec: 'uint8_t', dims: `[${t.size}]`, uses: [], size: 1, align: 1 })));
  }
  lines.push('};');
  return { head, body: lines.join('\n'), model, uses };
}

/** A declared type's text, with the attribute the size check gave it. */
const textOf = (d: Declared, attr = '') => d.head + attr + d.body;

/**
 * The engine's layout stage (layout.ts) over the declarations the import made: what compiling
 * the schema's text would lay out, without writing it out and parsing it back. Named types
 * resolve as the compiler resolves them (builtins first, then the schema's types by name).
 */
class ModelLayout implements LayoutContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly allFieldNames = allFieldNames;
  private readonly done = new Map<object, StructType | EnumType>();
  private readonly constants = new Set<string>();

  constructor(private readonly byName: Map<string, StructDecl | EnumDecl>) {}

  err(range: Range, message: string): void {
    this.diagnostics.push(diagnostic(range, 'error', message));
  }

  warn(): void {
    // Nothing the import writes warns (no attributes but packed and alignas, no data expressions).
  }

  constInt(e: Expr): bigint | undefined {
    return e.k === 'num' ? e.v : undefined;
  }

  isConstant(e: Expr): boolean {
    return e.k === 'num';
  }

  validAlign(a: bigint, range: Range): boolean {
    if (a <= 0n || a > 1n << 28n || (a & (a - 1n)) !== 0n) {
      this.err(range, `alignment ${a} is not a power of two`);
      return false;
    }
    return true;
  }

  checkNames(): void {
    // Only constant expressions here.
  }

  checkAttrs(): [] {
    return [];
  }

  resolveRef(ref: TypeRef): Type | undefined {
    const spec = ref.spec;
    let t: Type | undefined;
    if (spec.k === 'struct' && spec.body) t = this.struct(spec.body);
    else if (spec.k === 'named') {
      // Behind a pointer only the name matters (a pointer is 8 bytes whatever it points to).
      t = builtinType(spec.name);
      const d = t ? undefined : this.byName.get(spec.name);
      if (d) t = ref.pointers ? { k: 'void', name: spec.name, size: 0, align: 1 } : d.kind === 'enum' ? this.enum(d) : this.struct(d);
      if (!t) this.err(spec.range, `unknown type "${spec.name}"`);
    }
    if (!t) return undefined;
    for (let i = 0; i < ref.pointers; i++) t = { k: 'pointer', name: `${t.name}*`, size: 8, align: 8 };
    for (let i = ref.dims.length - 1; i >= 0; i--) {
      const count = Number(this.constInt(ref.dims[i]!) ?? 0);
      if (count > 0xffff_ffff || t.size * count > Number.MAX_SAFE_INTEGER / 8) {
        this.err(ref.range, `array size ${count} is out of range`);
        return undefined;
      }
      t = { k: 'array', name: `${t.name}[${count}]`, elem: t, count, size: t.size * count, align: t.align };
    }
    return t;
  }

  struct(d: StructDecl): StructType | undefined {
    const done = this.done.get(d) as StructType | undefined;
    if (done?.incomplete) {
      this.err(d.nameRange, `"${d.name}" contains itself`);
      return undefined;
    }
    if (done) return done;
    const t: StructType = { k: 'struct', name: d.name ?? `(anonymous ${d.union ? 'union' : 'struct'})`, union: d.union, fields: [], size: 0, align: 1, dynamic: false, incomplete: true, decl: d, tailPadding: 0 };
    this.done.set(d, t);
    layoutMembers(this, d, t);
    t.incomplete = false;
    return t;
  }

  enum(d: EnumDecl): EnumType {
    const done = this.done.get(d) as EnumType | undefined;
    if (done) return done;
    const u = d.underlying && this.resolveRef(d.underlying);
    const base: IntType | undefined = u?.k === 'int' ? u : u?.k === 'enum' ? u.base : undefined;
    if (!base) this.err(d.nameRange, `the underlying type of ${d.name ?? 'an enum'} must be an integer type`);
    const b = base ?? (builtinType('unsigned int') as IntType);
    const t: EnumType = { k: 'enum', name: d.name ?? '(anonymous enum)', size: b.size, align: b.align, base: b, names: new Map(), values: new Map(), flags: false, decl: d };
    this.done.set(d, t);
    for (const it of d.items) {
      const v = it.value ? this.constInt(it.value) ?? 0n : 0n;
      if (this.constants.has(it.name)) this.err(it.range, `"${it.name}" is already defined`);
      this.constants.add(it.name);
      if (wrapInt(b, v) !== v) this.err(it.range, `${it.name} = ${v} does not fit in ${b.name}`);
    }
    return t;
  }
}

/** The anonymous types written in place inside another (not declared on their own). */
function inlined(data: DwarfTypes): Set<number> {
  const out = new Set<number>();
  for (const t of data.types) for (const m of t.members ?? []) if (!m.name && !m.base && m.type?.k === 'agg') out.add(m.type.id);
  return out;
}

/**
 * One definition per distinct type. The reader describes a type once per compile unit that
 * defines it (a struct of a shared header comes once from every unit that includes it); the copies
 * are merged when they are the same type: same kind, qualified name, size, alignment and members
 * (names, offsets, bit positions, and member types that are themselves the same after merging).
 * A pointer is keyed by the name it points to, so a type reaches others only by value, and those
 * references have no cycles in valid DWARF (a corrupt one that has one keeps its copies apart).
 * Types of one name that really differ (`#ifdef` layouts, ODR violations) stay apart and get
 * numbered names as before. An unnamed type is keyed with the member that names it
 * (`Parent::member`), so merging never moves a name from one parent to another.
 */
export function mergeDuplicates(data: DwarfTypes): DwarfTypes {
  const byId = new Map<number, DwarfType>();
  for (const t of data.types) byId.set(t.id, t);
  const context = new Map<number, string>();
  for (const t of data.types) for (const m of t.members ?? []) {
    if (m.type?.k === 'agg' && !m.base && !context.has(m.type.id) && !byId.get(m.type.id)?.name) context.set(m.type.id, `${t.name}::${m.name}`);
  }
  const canon = new Map<number, number>();
  const byKey = new Map<string, number>();
  const busy = new Set<number>();
  const refKey = (r: DwarfRef | undefined): string => {
    if (!r) return '-';
    const td = r.typedef === undefined ? '' : `=${r.typedef}`;
    switch (r.k) {
      case 'base':
        return `b${r.enc},${r.size},${r.name}${td}`;
      case 'ptr':
        return `p${r.size},${r.to}${td}`;
      case 'array':
        return `a${r.counts.join(',')}(${refKey(r.elem)})${td}`;
      case 'agg':
      case 'enum':
        return `${r.k}${canonOf(r.id)}${td}`;
      case 'bad':
        return `x${r.why}${td}`;
      default:
        return `${r.k}${td}`;
    }
  };
  const canonOf = (id: number): number => {
    const known = canon.get(id);
    if (known !== undefined) return known;
    const t = byId.get(id);
    // Unknown, or reached from itself by value (corrupt DWARF): never merged.
    if (!t || busy.has(id)) return id;
    busy.add(id);
    let key = `${t.kind}\0${t.name}\0${context.get(id) ?? ''}\0${t.size}\0${t.align ?? ''}\0${t.lang === LANG_RUST ? 'r' : ''}`;
    if (t.kind === 'enum') {
      key += `\0${t.signed ? 's' : ''}${t.enumClass ? 'c' : ''}\0${refKey(t.base)}`;
      for (const it of t.items ?? []) key += `\0${it.name}=${it.value}`;
    }
    for (const m of t.members ?? []) {
      const flags = `${m.base ? 'b' : ''}${m.virtual ? 'v' : ''}${m.artificial ? 'a' : ''}${m.variant ? 'r' : ''}`;
      key += `\0${m.name}|${m.offset ?? ''}|${m.bitSize ?? ''}|${m.bitPos ?? ''}|${m.align ?? ''}|${flags}|${refKey(m.type)}`;
    }
    busy.delete(id);
    let c = byKey.get(key);
    if (c === undefined) byKey.set(key, (c = id));
    canon.set(id, c);
    return c;
  };
  for (const t of data.types) canonOf(t.id);
  const mapRef = (r: DwarfRef): DwarfRef => {
    if (r.k === 'agg' || r.k === 'enum') {
      const c = canon.get(r.id) ?? r.id;
      return c === r.id ? r : { ...r, id: c };
    }
    if (r.k === 'array') {
      const elem = mapRef(r.elem);
      return elem === r.elem ? r : { ...r, elem };
    }
    return r;
  };
  const types: DwarfType[] = [];
  for (const t of data.types) {
    if (canon.get(t.id) !== t.id) continue;
    let out = t;
    if (t.members?.some((m) => m.type && mapRef(m.type) !== m.type)) out = { ...t, members: t.members.map((m) => (m.type ? { ...m, type: mapRef(m.type) } : m)) };
    types.push(out);
  }
  const roots: Record<string, number> = {};
  for (const [q, id] of Object.entries(data.roots)) roots[q] = canon.get(id) ?? id;
  return { ...data, types, roots };
}

/** Writes the schema; with `keepGoing` (all types), a type that cannot be written is skipped, else it throws. */
export function writeDwarfSchema(described: DwarfTypes, source: string, keepGoing: boolean): DwarfImportResult {
  const data = mergeDuplicates(described);
  const w = new Writer(data);
  const inline = inlined(data);
  const skipped: string[] = [];
  const bad = new Set<number>();
  const notes = data.missingDwo.length ? [`${data.missingDwo.length} split DWARF unit(s) without their .dwo file (${data.missingDwo.slice(0, 3).join(', ')}): their types are missing`] : [];

  const decls = new Map<number, Declared>();
  for (const t of data.types) {
    if (inline.has(t.id)) continue;
    try {
      decls.set(t.id, declare(w, w.type(t.id)));
    } catch (e) {
      if (!(e instanceof InexpressibleError) || !keepGoing) throw e;
      bad.add(t.id);
      skipped.push(`${t.name}: ${e.message}`);
    }
  }
  // A type that uses a skipped one by value is skipped too.
  for (let changed = true; changed;) {
    changed = false;
    for (const [id, d] of decls) if (d.uses.some((u) => bad.has(u))) {
      bad.add(id);
      decls.delete(id);
      skipped.push(`${w.type(id).name}: uses a type that was skipped`);
      changed = true;
    }
  }
  // Definitions before their by-value uses.
  const written = new Map<number, Declared>();
  const state = new Set<number>();
  const visit = (id: number) => {
    if (state.has(id)) return;
    state.add(id);
    const d = decls.get(id);
    if (!d) return;
    for (const u of d.uses) visit(u);
    written.set(id, d);
  };
  for (const id of Object.values(data.roots)) visit(id);
  const byName = new Map<string, StructDecl | EnumDecl>();
  for (const d of written.values()) if (!byName.has(d.model.name!)) byName.set(d.model.name!, d.model);

  // Sizes the compiler gave that the natural layout misses: packed, alignas, tail padding. Each
  // round lays every type out again with the attributes found so far (a type's size can change
  // with another's).
  const attrs = new Map<number, string>();
  for (let round = 0; round < 4; round++) {
    const cx = new ModelLayout(byName);
    for (const [id, d] of written) {
      if (d.model.kind === 'enum') cx.enum(d.model);
      else {
        const a = attrs.get(id);
        d.model.packed = a === PACKED;
        d.model.alignas = a?.startsWith(' alignas(') ? num(a.slice(9, -1)) : undefined;
        if (!d.model.alignas) delete d.model.alignas;
        cx.struct(d.model);
      }
    }
    const errors = cx.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`the imported schema does not compile (a bug): ${errors[0]!.message}`);
    let changed = false;
    for (const [id, d] of written) {
      const t = w.type(id);
      if (d.model.kind === 'enum') continue;
      const st = cx.struct(d.model)!;
      if (st.size !== t.size) {
        const raw = st.size - st.tailPadding;
        let fix: string | undefined;
        if (t.align && t.align > st.align) fix = ` alignas(${t.align})`;
        else if (raw === t.size) fix = PACKED;
        else for (let a = st.align * 2; a <= 4096 && !fix; a *= 2) if (Math.ceil(raw / a) * a === t.size) fix = ` alignas(${a})`;
        if (!fix || attrs.get(id) === fix) throw new InexpressibleError(`${t.name}: ${t.size} bytes, but its members lay out in ${st.size}`);
        attrs.set(id, fix);
        changed = true;
      }
    }
    if (!changed) {
      verify(w, written, cx);
      const roots: Record<string, string> = {};
      for (const [q, id] of Object.entries(data.roots)) if (written.has(id)) roots[q] = w.name(id);
      const out: string[] = [];
      for (const [id, d] of written) out.push(textOf(d, attrs.get(id)));
      const text = `// Imported from ${source.replace(/[\r\n]/g, ' ')} by shmscope import (debug information)\n\n${out.join('\n\n')}\n`;
      return { text, types: [...written.keys()].map((id) => w.type(id).name), roots, skipped, notes };
    }
  }
  throw new InexpressibleError('the sizes of the imported types do not settle');
}

const PACKED = ' __attribute__((packed))';

/** Every size, offset and bit position of the laid-out declarations against the debug information. */
function verify(w: Writer, decls: Map<number, Declared>, cx: ModelLayout) {
  for (const [id, d] of decls) {
    const t = w.type(id);
    if (d.model.kind === 'enum') continue;
    const st = cx.struct(d.model)!;
    if (st.size !== t.size) throw new InexpressibleError(`${t.name}: ${t.size} bytes, but ${st.size} in the schema`);
    verifyMembers(w, t, st, 0, 0);
  }
}

/** The members of `t` (and of its unnamed members, at `base`) against the schema's `st`. */
function verifyMembers(w: Writer, t: DwarfType, st: StructType, base: number, depth: number) {
  if (depth > 64) return;
  for (const m of t.members ?? []) {
    if (m.base || m.artificial || w.isEmptyBase(m)) continue;
    if (!m.name) {
      if (m.type?.k === 'agg' && m.offset !== undefined) verifyMembers(w, w.type(m.type.id), st, base + m.offset, depth + 1);
      continue;
    }
    const found = findField(st, w.member(m.name));
    if (!found) throw new InexpressibleError(`${t.name}.${m.name}: missing from the schema`);
    const offset = found.offset - base;
    if (m.bitSize !== undefined) {
      const pos = offset * 8 + (found.field.bitOffset ?? 0);
      if (pos !== m.bitPos) throw new InexpressibleError(`${t.name}.${m.name}: bit ${m.bitPos} in the program, bit ${pos} in the schema`);
    } else if (t.kind !== 'union' && offset !== m.offset) {
      throw new InexpressibleError(`${t.name}.${m.name}: offset ${m.offset} in the program, ${offset} in the schema`);
    }
  }
}
