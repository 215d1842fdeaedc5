// Program (DWARF) → `.shms`: the types the native reader (native/src/dwarf.cc) described, written
// as schema declarations. Every member that is not a bit-field is placed at the offset the
// compiler recorded (`@ N`), so bases, vtable pointers, `alignas` and packing come out exactly as
// the ABI laid them out; bit-fields are laid out by the engine from the same rules as gcc, with
// unnamed padding where the compiler skipped bits. The text is then compiled and every size and
// offset compared with the debug information: a difference is an error naming the member, never a
// silent one.
import { findField } from './compile';
import { compileSchema, diagnostics, findType } from './index';
import { placeBitfield } from './layout';
import type { StructType } from './types';

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

const identOf = (s: string) => {
  const t = s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return !t ? 'anon' : /^[0-9]/.test(t) ? `_${t}` : t;
};

/** Whether `name` works as a schema identifier (not one of the language's keywords). */
const legalCache = new Map<string, boolean>();
const probe = (names: readonly string[]) =>
  diagnostics(compileSchema(names.map((n) => `struct ${n} { int ${n}; }; static_assert(sizeof(${n}) == 4);`).join('\n'), 'probe.shms')).every((d) => d.severity !== 'error');
function legal(name: string): boolean {
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
    primeLegal(all.flatMap((t) => [
      identOf(components(t.name).pop() ?? t.name),
      identOf(t.name.replace(/::/g, '__')),
      ...(t.members ?? []).map((m) => identOf(m.name)),
      ...(t.items ?? []).map((e) => identOf(e.name)),
    ]));
    const short = new Map<string, number>();
    for (const t of all) {
      const s = identOf(components(t.name).pop() ?? t.name);
      short.set(s, (short.get(s) ?? 0) + 1);
    }
    for (const t of all) {
      let n = identOf(components(t.name).pop() ?? t.name);
      if ((short.get(n) ?? 0) > 1 || this.usedNames.has(n)) n = identOf(t.name.replace(/::/g, '__'));
      if (!legal(n)) n = `${n}_`;
      for (let i = 2; this.usedNames.has(n); i++) n = `${identOf(t.name)}_${i}`;
      this.usedNames.add(n);
      this.schemaName.set(t.id, n);
    }
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
      return it.size === t.size ? { ...this.spell(inner, where), note: t.name } : undefined;
    }
    const s = this.spell(inner, where);
    return s.size === t.size && !s.dims ? { ...s, note: t.name } : undefined;
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
        return { ...e, dims: dims + e.dims };
      }
      case 'agg': {
        const t = this.type(r.id);
        const atomic = this.atomicScalar(t, where);
        if (atomic) return atomic;
        return { spec: this.name(r.id), dims: '', uses: [r.id], size: t.size, align: t.align ?? 1, ...(t.name !== this.name(r.id) ? { note: t.name } : {}) };
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
      const note = r.typedef && r.typedef !== spec && !/^_|^u?int\d+_t$/.test(r.typedef) ? { note: r.typedef } : {};
      return { spec, dims: '', uses: [], size: r.size, align: Math.min(r.size, 16), ...note };
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
    for (let i = 2; this.enumerators.has(id); i++) id = `${this.name(t.id)}_${identOf(n)}_${i}`;
    this.enumerators.add(id);
    this.enumeratorNames.set(key, id);
    return id;
  }
}

const LANG_RUST = 0x1c;

/** Declarations of one type, with what it uses by value. */
function declare(w: Writer, t: DwarfType, attrs: Map<number, string>): { text: string; uses: number[] } {
  const name = w.name(t.id);
  const lines: string[] = [];
  const cxx = t.name && !t.anonymous && t.name !== name ? ` // ${t.lang === LANG_RUST ? 'Rust' : 'C++'}: ${t.name}` : t.anonymous ? ` // the unnamed type of ${t.name.replace(/::(?=[^:]*$)/, '.')}` : '';
  if (t.kind === 'enum') {
    const base = t.base ? w.spell(t.base, `${t.name}`).spec : `${t.signed ? '' : 'u'}int${t.size * 8}_t`;
    lines.push(`enum ${name} : ${base} {${cxx}${t.enumClass ? `${cxx ? ',' : ' //'} enum class` : ''}`);
    for (const it of t.items ?? []) {
      const e = w.enumerator(t, it.name);
      lines.push(`    ${e} = ${it.value},${e !== it.name ? ` // ${it.name}` : ''}`);
    }
    lines.push('};');
    return { text: lines.join('\n'), uses: [] };
  }
  const uses: number[] = [];
  const union = t.kind === 'union';
  lines.push(`${union ? 'union' : 'struct'} ${name}${attrs.get(t.id) ?? ''} {${cxx}`);
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
    if (m.base) mname = w.member(components(baseName).pop() ?? baseName);
    for (let i = 2; mname && seen.has(mname); i++) mname = `${mname}_${i}`;
    if (mname) seen.add(mname);
    const note = [m.base ? `base ${baseName}` : '', m.artificial ? 'vtable pointer' : '', mname && mname !== m.name && !m.base && !m.artificial ? m.name : '', m.base ? '' : s.note ?? '']
      .filter(Boolean).join('; ');
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
            p += chunk;
          }
          bitpos = pos;
        }
        bitpos = Math.max(bitpos, pos + m.bitSize);
      }
      if (!mname) mname = `_bits${++anon}`;
      lines.push(`    ${s.spec} ${mname} : ${m.bitSize};${comment}`);
      continue;
    }
    const size = s.size * (s.dims ? s.dims.slice(1, -1).split('][').reduce((a, b) => a * Number(b), 1) : 1);
    if (!mname) {
      // An anonymous struct or union: written in place, its members reached as the parent's.
      if (m.type.k !== 'agg') throw new InexpressibleError(`${where}: an unnamed member`);
      const inner = declare(w, w.type(m.type.id), attrs);
      uses.push(...inner.uses);
      lines.push(`    ${inner.text.replace(/^(struct|union) \S+/, '$1').replace(/\n/g, '\n    ').replace(/;$/, ';')}`);
      bitpos = Math.max(bitpos, (m.offset + size) * 8);
      continue;
    }
    lines.push(`    ${s.spec} ${mname}${s.dims}${union ? '' : ` @ ${m.offset}`};${comment}`);
    if (!union) bitpos = Math.max(bitpos, (m.offset + size) * 8);
  }
  // An empty C++ class still takes a byte of its own (not as a base: see above).
  if (bitpos === 0 && t.size > 0 && !(t.members ?? []).some((m) => m.name && !m.base)) lines.push(`    uint8_t _empty[${t.size}]; // an empty class`);
  lines.push('};');
  return { text: lines.join('\n'), uses };
}

/** The anonymous types written in place inside another (not declared on their own). */
function inlined(data: DwarfTypes): Set<number> {
  const out = new Set<number>();
  for (const t of data.types) for (const m of t.members ?? []) if (!m.name && !m.base && m.type?.k === 'agg') out.add(m.type.id);
  return out;
}

/** Writes the schema; with `keepGoing` (all types), a type that cannot be written is skipped, else it throws. */
export function writeDwarfSchema(data: DwarfTypes, source: string, keepGoing: boolean): DwarfImportResult {
  const w = new Writer(data);
  const inline = inlined(data);
  const attrs = new Map<number, string>();
  const skipped: string[] = [];
  const bad = new Set<number>();
  const notes = data.missingDwo.length ? [`${data.missingDwo.length} split DWARF unit(s) without their .dwo file (${data.missingDwo.slice(0, 3).join(', ')}): their types are missing`] : [];

  const render = () => {
    const decls = new Map<number, { text: string; uses: number[] }>();
    for (const t of data.types) {
      if (inline.has(t.id) || bad.has(t.id)) continue;
      try {
        decls.set(t.id, declare(w, w.type(t.id), attrs));
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
    const out: string[] = [];
    const written: number[] = [];
    const state = new Map<number, number>();
    const visit = (id: number) => {
      if (state.get(id)) return;
      state.set(id, 1);
      const d = decls.get(id);
      if (!d) return;
      for (const u of d.uses) visit(u);
      out.push(d.text);
      written.push(id);
    };
    for (const id of Object.values(data.roots)) visit(id);
    return { text: `// Imported from ${source.replace(/[\r\n]/g, ' ')} by shmscope import (debug information)\n\n${out.join('\n\n')}\n`, decls: new Map(written.map((id) => [id, decls.get(id)!])) };
  };

  // Sizes the compiler gave that the natural layout misses: packed, alignas, tail padding.
  let r = render();
  for (let round = 0; round < 4; round++) {
    const schema = compileSchema(r.text, 'import.shms');
    const errors = diagnostics(schema).filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`the imported schema does not compile (a bug): ${errors[0]!.message}`);
    let changed = false;
    for (const id of r.decls.keys()) {
      const t = w.type(id);
      if (t.kind === 'enum') continue;
      const st = findType(schema, w.name(id)) as StructType | undefined;
      if (!st || st.k !== 'struct') continue;
      if (st.size !== t.size) {
        const raw = st.size - st.tailPadding;
        let fix: string | undefined;
        if (t.align && t.align > st.align) fix = ` alignas(${t.align})`;
        else if (raw === t.size) fix = ' __attribute__((packed))';
        else for (let a = st.align * 2; a <= 4096 && !fix; a *= 2) if (Math.ceil(raw / a) * a === t.size) fix = ` alignas(${a})`;
        if (!fix || attrs.get(id) === fix) throw new InexpressibleError(`${t.name}: ${t.size} bytes, but its members lay out in ${st.size}`);
        attrs.set(id, fix);
        changed = true;
      }
    }
    if (!changed) {
      verify(w, r.decls, schema);
      const roots: Record<string, string> = {};
      for (const [q, id] of Object.entries(data.roots)) if (r.decls.has(id)) roots[q] = w.name(id);
      return { text: r.text, types: [...r.decls.keys()].map((id) => w.type(id).name), roots, skipped, notes };
    }
    r = render();
  }
  throw new InexpressibleError('the sizes of the imported types do not settle');
}

/** Every size, offset and bit position of the schema against the debug information. */
function verify(w: Writer, decls: Map<number, unknown>, schema: ReturnType<typeof compileSchema>) {
  for (const id of decls.keys()) {
    const t = w.type(id);
    if (t.kind === 'enum') continue;
    const st = findType(schema, w.name(id)) as StructType;
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
