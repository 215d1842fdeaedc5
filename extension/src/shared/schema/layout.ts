// Layout: where each member of a struct or union goes, as gcc places it on x86-64 (natural
// alignment, bit-field units, `packed`, `#pragma pack`, `aligned`), and where a layout must stop
// because a member cannot be laid out. Types come resolved through the context; nothing throws.
import type { Attr, Expr, MemberDecl, StructDecl, TypeRef } from './ast';
import { diagnostic, type Diagnostic } from './diagnostics';
import type { Range } from './lexer';
import { alignUp, type Field, type StructType, type Type } from './types';

/** Attribute names the language knows (others are reported as ignored). */
export const ATTRS = new Set(['expect', 'checksum', 'seqlock', 'ring', 'format', 'flags', 'if', 'be', 'le', 'text', 'hidden', 'futex', 'magic']);

/** What the layout needs from the compiler: type resolution, constants and reporting. */
export interface LayoutContext {
  diagnostics: Diagnostic[];
  err(range: Range, message: string): void;
  warn(range: Range, message: string): void;
  resolveRef(ref: TypeRef, report?: boolean, fieldNames?: Set<string>): Type | undefined;
  constInt(e: Expr, what: string, fieldNames?: Set<string>): bigint | undefined;
  validAlign(a: bigint, range: Range): boolean;
  isConstant(e: Expr, fieldNames: Set<string>): boolean;
  checkNames(e: Expr, fieldNames: Set<string>): void;
  checkAttrs(attrs: Attr[], ty: Type, fieldNames: Set<string>, m: MemberDecl): Attr[];
  allFieldNames: (t: StructType) => string[];
}

/** Lays out the members of `d` into `t` (fields, size, alignment, padding, errors). */
export function layoutMembers(cx: LayoutContext, d: StructDecl, t: StructType): void {
  const allFieldNames = cx.allFieldNames;

  const fieldNames = new Set<string>();
  const addNames = (m: MemberDecl, ty: Type | undefined) => {
    if (m.name) {
      if (fieldNames.has(m.name)) cx.err(m.nameRange, `duplicate member "${m.name}"`);
      fieldNames.add(m.name);
    } else if (ty && ty.k === 'struct') for (const f of allFieldNames(ty)) fieldNames.add(f);
  };
  const st: LayoutState = { bitpos: 0, align: 1, dynamic: false, lastEnd: 0 };
  const pack = d.pack;
  const errorsBefore = cx.diagnostics.length;
  if (d.broken) t.errors = [diagnostic(d.range, 'error', d.broken)];
  if (d.broken && d.refused) t.refused = d.broken;
  // A member that cannot be laid out leaves every later offset unknown: the layout stops there
  // (no member is ever placed at a guessed offset), and the struct carries the errors.
  const stop = (range: Range, message?: string) => {
    if (message) cx.err(range, message);
    t.errors = cx.diagnostics.slice(errorsBefore).filter((x) => x.severity === 'error');
    if (!t.errors.length) t.errors.push(diagnostic(range, 'error', `the layout of ${t.name} is unknown from here`));
  };
  // After the layout stopped, the rest of the members are still checked (types, attributes).
  let stopped = false;
  for (const m of d.members) {
    const ty = cx.resolveRef(m.type, true, fieldNames);
    if (stopped) {
      if (ty) cx.checkAttrs(m.attrs, ty, fieldNames, m);
      continue;
    }
    if (!ty) {
      addNames(m, undefined);
      stop(m.type.range);
      stopped = true;
      continue;
    }
    if (ty.k === 'void') {
      stop(m.type.range, ty.fn ? `member "${m.name ?? ''}" is a function; only a pointer to one can be a member` : 'a member cannot be void');
      stopped = true;
      continue;
    }
    if (ty.k === 'struct' && ty.incomplete) {
      stop(m.type.range, ty.opaque ? `member "${m.name ?? ''}" has the incomplete type ${ty.name} (it is declared but never defined)` : undefined);
      stopped = true;
      continue;
    }
    const inner = brokenPart(ty);
    if (inner) {
      // The inner type's own diagnostic is where the problem is; this struct only carries it.
      t.errors = [...(inner.errors ?? [])];
      if (inner.refused) t.refused = inner.refused;
      stopped = true;
      continue;
    }
    const attrs = cx.checkAttrs(m.attrs, ty, fieldNames, m);
    const cond = m.attrs.find((a) => a.name === 'if')?.args[0]?.expr;
    const packedField = d.packed || m.packed;
    const field: Field = {
      name: m.name ?? '', type: ty, offset: -1, size: ty.size, align: ty.align, attrs,
      endian: m.attrs.some((a) => a.name === 'be') ? 'be' : m.attrs.some((a) => a.name === 'le') ? 'le' : (m.endian ?? 'le'), range: m.range, nameRange: m.nameRange,
      paddingBefore: 0, anonymous: !m.name && !m.bits, at: m.at, cond,
    };
    const tyDynamic = (ty.k === 'struct' && ty.dynamic) || (ty.k === 'array' && (ty.count === undefined || isDynamicType(ty)));
    if (m.bits) {
      layoutBitfield(cx, d, t, m, m.bits, ty, field, st, addNames);
      continue;
    }
    let a = packedField ? 1 : ty.align;
    if (m.alignas) {
      const v = cx.constInt(m.alignas, 'alignment');
      if (v !== undefined && cx.validAlign(v, m.alignas.range)) a = Math.max(a, Number(v));
    }
    if (pack) a = Math.min(a, pack);
    field.align = a;
    st.align = Math.max(st.align, a);
    if (cond) st.dynamic = true;
    if (d.union) {
      field.offset = tyDynamic || cond ? -1 : 0;
      if (!tyDynamic) st.bitpos = Math.max(st.bitpos, ty.size * 8);
    } else if (m.at) {
      const v = cx.isConstant(m.at, fieldNames) ? cx.constInt(m.at, 'placement') : undefined;
      if (v === undefined) {
        if (!cx.isConstant(m.at, fieldNames)) cx.checkNames(m.at, fieldNames);
        st.dynamic = true;
      } else if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) cx.err(m.at.range, `placement ${v} is out of range`);
      else if (!st.dynamic || d.segment) {
        field.offset = Number(v);
        if (!tyDynamic) {
          st.bitpos = Math.max(st.bitpos, (field.offset + ty.size) * 8);
          st.lastEnd = Math.max(st.lastEnd, field.offset + ty.size);
        }
      }
    } else if (!st.dynamic) {
      const off = alignUp(Math.ceil(st.bitpos / 8), a);
      field.paddingBefore = off - st.lastEnd;
      field.offset = off;
      st.bitpos = (off + (tyDynamic ? 0 : ty.size)) * 8;
      st.lastEnd = off + (tyDynamic ? 0 : ty.size);
    }
    if (cond && !d.union) field.offset = -1;
    if (tyDynamic) st.dynamic = true;
    t.fields.push(field);
    addNames(m, ty);
  }
  if (d.alignas) {
    const v = cx.constInt(d.alignas, 'alignment');
    if (v !== undefined && cx.validAlign(v, d.alignas.range)) st.align = Math.max(st.align, Number(v));
  }
  t.align = st.align;
  const raw = Math.ceil(st.bitpos / 8);
  t.size = alignUp(raw, st.align);
  t.tailPadding = t.size - raw;
  t.dynamic = st.dynamic || t.dynamic;
  if (d.attrs.length) for (const a of d.attrs) if (!ATTRS.has(a.name)) cx.warn(a.range, `unknown attribute "${a.name}" ignored`);
}

/** Where layoutMembers is: the bit position, the alignment so far, the end of the last member. */
interface LayoutState {
  bitpos: number;
  align: number;
  /** A member before has no fixed size or offset: later ones have no fixed offset either. */
  dynamic: boolean;
  lastEnd: number;
}

/** A bit-field member `m` (width `bits`) of type `ty` (`field` made for it) laid out at `st`. */
function layoutBitfield(cx: LayoutContext, d: StructDecl, t: StructType, m: MemberDecl, bits: Expr, ty: Type, field: Field, st: LayoutState, addNames: (m: MemberDecl, ty: Type | undefined) => void): void {
  const pack = d.pack;
  const packedField = d.packed || m.packed;
  const w = cx.constInt(bits, 'bit-field width');
  const base = ty.k === 'enum' ? ty.base : ty;
  if (base.k !== 'int') {
    cx.err(m.type.range, 'a bit-field must have an integer, bool or enum type');
    return;
  }
  if (w === undefined) return;
  const width = Number(w);
  if (width < 0 || width > base.size * 8 || (base.bool && width > 1)) {
    cx.err(bits.range, `bit-field width ${width} does not fit in ${base.name}`);
    return;
  }
  if (width === 0) {
    if (m.name) cx.err(m.nameRange, 'a zero-width bit-field must be unnamed');
    if (!d.union && !st.dynamic) st.bitpos = alignUp(st.bitpos, 8 * (pack ? Math.min(base.align, pack) : base.align));
    return;
  }
  // `aligned(N)` on a bit-field starts it at the next N-byte boundary and aligns the struct.
  let fieldAlign = 0;
  if (m.alignas) {
    const v = cx.constInt(m.alignas, 'alignment');
    if (v !== undefined && cx.validAlign(v, m.alignas.range)) fieldAlign = Number(v);
    if (pack) fieldAlign = Math.min(fieldAlign, pack);
    if (!d.union && !st.dynamic && fieldAlign) st.bitpos = alignUp(st.bitpos, fieldAlign * 8);
    st.align = Math.max(st.align, fieldAlign);
  }
  const start = d.union ? 0 : st.dynamic ? 0 : placeBitfield(st.bitpos, width, base.align, packedField, pack);
  if (m.name) st.align = Math.max(st.align, pack ? Math.min(base.align, pack) : packedField ? 1 : base.align);
  if (d.union) st.bitpos = Math.max(st.bitpos, width);
  const byte = Math.floor(start / 8);
  field.offset = st.dynamic ? -1 : byte;
  field.bitOffset = start - byte * 8;
  field.bitWidth = width;
  field.size = Math.ceil((field.bitOffset + width) / 8);
  field.align = 1;
  if (!d.union && !st.dynamic) {
    field.paddingBefore = Math.max(0, byte - st.lastEnd);
    st.bitpos = start + width;
    st.lastEnd = Math.max(st.lastEnd, Math.ceil(st.bitpos / 8));
  }
  if (st.dynamic) t.dynamic = true;
  if (m.name) t.fields.push(field);
  addNames(m, ty);
}

/** gcc's bit-field placement: a field may not straddle a unit of its type's alignment, unless packed. */
export function placeBitfield(bitpos: number, width: number, typeAlign: number, packed: boolean, pack: number): number {
  if (packed || pack) return bitpos;
  const unit = typeAlign * 8;
  if (Math.floor(bitpos / unit) !== Math.floor((bitpos + width - 1) / unit)) return alignUp(bitpos, unit);
  return bitpos;
}

/** The struct inside `t` (itself, or an array's element) whose layout has errors. */
export function brokenPart(t: Type): StructType | undefined {
  let x: Type = t;
  while (x.k === 'array') x = x.elem;
  return x.k === 'struct' && x.errors?.length ? x : undefined;
}

export function isDynamicType(t: Type): boolean {
  if (t.k === 'struct') return t.dynamic;
  if (t.k === 'array') return t.count === undefined || isDynamicType(t.elem);
  return false;
}

