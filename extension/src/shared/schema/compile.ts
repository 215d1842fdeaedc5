// Type checking and layout: turns the syntax tree into resolved types with gcc x86-64 offsets,
// once per schema. Every problem becomes a diagnostic with a range; nothing throws.
import type { Attr, Decl, EnumDecl, Expr, MemberDecl, StructDecl, TypedefDecl, TypeRef, TypeSpec } from './ast';
import { EvalError, evalInt, namesIn, type Env, type Val } from './expr';
import type { Define, Diagnostic, Range } from './lexer';
import { parse } from './parser';
import { alignUp, builtinTypes, type ArrayType, type EnumType, type Field, type IntType, type OffsetType, type StructType, type Type } from './types';

/** Where a name is defined, for go to definition and symbols. */
export interface Definition {
  name: string;
  kind: 'struct' | 'union' | 'enum' | 'typedef' | 'segment' | 'define' | 'enumerator' | 'field';
  range: Range;
  nameRange: Range;
  /** Struct for a field. */
  container?: string;
}

export interface Schema {
  uri: string;
  text: string;
  /** Types by the names a user writes: typedefs, struct/union/enum tags, builtins. */
  types: Map<string, Type>;
  /** User-declared structs, unions and segments, in source order. */
  structs: StructType[];
  segments: StructType[];
  enums: EnumType[];
  constants: Map<string, { value: bigint; enumType?: EnumType; range: Range }>;
  defines: Map<string, Define>;
  diagnostics: Diagnostic[];
  definitions: Definition[];
  /** Type/name uses with the definition they resolve to. */
  references: { name: string; range: Range; target?: Definition }[];
  /** What a header import left out. */
  skipped: { text: string; range: Range }[];
  decls: Decl[];
}

const ATTRS = new Set(['expect', 'checksum', 'seqlock', 'ring', 'format', 'flags', 'if', 'be', 'le', 'text', 'hidden']);
export const FORMATS = ['hex', 'dec', 'bin', 'char', 'time_s', 'time_ns', 'ipv4', 'bool'] as const;
export const CHECKSUMS = ['crc32', 'crc32c', 'adler32', 'sum8', 'xor8'] as const;
const BUILTINS = builtinTypes();

/** Parses and lays out a schema. Never throws: an engine bug becomes an "internal error" diagnostic. */
export function compileSchema(text: string, uri = 'schema.shms'): Schema {
  try {
    return compileUnsafe(text, uri);
  } catch (e) {
    const here = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return {
      uri, text, types: new Map(BUILTINS), structs: [], segments: [], enums: [], constants: new Map(), defines: new Map(), definitions: [], references: [], skipped: [], decls: [],
      diagnostics: [{ range: here, severity: 'error', message: `internal error in the schema compiler: ${(e as Error).message}` }],
    };
  }
}

function compileUnsafe(text: string, uri: string): Schema {
  const parsed = parse(text, new Set(BUILTINS.keys()));
  const diagnostics = parsed.diagnostics;
  const err = (range: Range, message: string) => diagnostics.push({ range, severity: 'error', message });
  const warn = (range: Range, message: string) => diagnostics.push({ range, severity: 'warning', message });

  const types = new Map<string, Type>(BUILTINS);
  const definitions: Definition[] = [];
  const structs: StructType[] = [];
  const segments: StructType[] = [];
  const enums: EnumType[] = [];
  const constants = new Map<string, { value: bigint; enumType?: EnumType; range: Range }>();

  // Index declarations by name first, so order does not matter for lookups.
  const tagDecls = new Map<string, StructDecl | EnumDecl>();
  const typedefDecls = new Map<string, TypedefDecl>();
  for (const d of parsed.decls) {
    if (d.kind === 'struct' && d.name) {
      const prev = tagDecls.get(d.name) ?? typedefDecls.get(d.name);
      if (prev) err(d.nameRange, `"${d.name}" is already defined (line ${prev.range.start.line + 1})`);
      else tagDecls.set(d.name, d);
      definitions.push({ name: d.name, kind: d.segment ? 'segment' : d.union ? 'union' : 'struct', range: d.range, nameRange: d.nameRange });
    } else if (d.kind === 'enum') {
      if (d.name) {
        const prev = tagDecls.get(d.name) ?? typedefDecls.get(d.name);
        if (prev) err(d.nameRange, `"${d.name}" is already defined (line ${prev.range.start.line + 1})`);
        else tagDecls.set(d.name, d);
        definitions.push({ name: d.name, kind: 'enum', range: d.range, nameRange: d.nameRange });
      }
      for (const it of d.items) definitions.push({ name: it.name, kind: 'enumerator', range: it.range, nameRange: it.range, container: d.name });
    } else if (d.kind === 'typedef') {
      const prev = typedefDecls.get(d.name);
      if (prev) {
        // Repeating an identical typedef is fine in C11; keep the first.
      } else typedefDecls.set(d.name, d);
      definitions.push({ name: d.name, kind: 'typedef', range: d.range, nameRange: d.nameRange });
    }
  }
  for (const def of parsed.defines.values()) definitions.push({ name: def.name, kind: 'define', range: def.range, nameRange: def.range });

  const resolved = new Map<object, Type>();
  const inProgress = new Set<object>();
  const pendingOffsets: { t: OffsetType; ref: TypeRef }[] = [];

  // ------------------------------------------------------------------ constants
  const constEnv = (fieldNames?: Set<string>): Env => ({
    name: (n) => {
      const c = constants.get(n);
      if (c) return c.value;
      const e = enumConstant(n);
      if (e !== undefined) return e;
      if (fieldNames?.has(n)) throw new EvalError(`"${n}" is a field`, zeroRange, true);
      return undefined;
    },
    sizeof: (t) => {
      const ty = resolveRef(t, false);
      return ty && !(ty.k === 'struct' && ty.dynamic) && !(ty.k === 'array' && ty.count === undefined) ? ty.size : undefined;
    },
    alignof: (t) => resolveRef(t, false)?.align,
    offsetof: (t, path) => {
      let ty = resolveRef(t, false);
      let off = 0;
      for (const p of path) {
        if (!ty || ty.k !== 'struct') return undefined;
        const f = findField(ty, p);
        if (!f || f.field.offset < 0) return undefined;
        off += f.offset;
        ty = f.field.type;
      }
      return off;
    },
    cast: (t, v) => {
      const ty = resolveRef(t, false);
      return ty && (ty.k === 'int' || ty.k === 'enum') ? wrapInt(ty.k === 'enum' ? ty.base : ty, v) : v;
    },
  });
  const zeroRange: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

  /** Evaluates a constant expression; reports and returns undefined when it is not one. */
  const constInt = (e: Expr, what: string, fieldNames?: Set<string>): bigint | undefined => {
    try {
      return evalInt(e, constEnv(fieldNames));
    } catch (x) {
      if (x instanceof EvalError) {
        if (!x.notConstant) err(x.range === zeroRange ? e.range : x.range, `${what}: ${x.message}`);
        return undefined;
      }
      err(e.range, `${what}: ${(x as Error).message}`);
      return undefined;
    }
  };
  /** Is `e` constant (no field names)? */
  const isConstant = (e: Expr, fieldNames: Set<string>): boolean =>
    namesIn(e).every((n) => !fieldNames.has(n.name) && (constants.has(n.name) || enumConstant(n.name) !== undefined)) && !hasMemberOrIndex(e);

  const enumConstant = (n: string): bigint | undefined => {
    // Enumerators are declared by their enum: resolve enums lazily so forward uses work.
    if (constants.has(n)) return constants.get(n)!.value;
    for (const d of parsed.decls) {
      if (d.kind === 'enum' && d.items.some((i) => i.name === n)) {
        resolveEnum(d);
        return constants.get(n)?.value;
      }
    }
    return undefined;
  };

  // ------------------------------------------------------------------ types
  const resolveSpec = (spec: TypeSpec, report = true): Type | undefined => {
    switch (spec.k) {
      case 'named': {
        const b = BUILTINS.get(spec.name);
        if (b) return b;
        const td = typedefDecls.get(spec.name);
        if (td) return resolveTypedef(td);
        const tag = tagDecls.get(spec.name);
        if (tag) return tag.kind === 'enum' ? resolveEnum(tag) : resolveStruct(tag);
        if (report) err(spec.range, `unknown type "${spec.name}"`);
        return undefined;
      }
      case 'struct': {
        const d = spec.body ?? (spec.tag ? tagDecls.get(spec.tag) : undefined);
        if (!d || d.kind !== 'struct') {
          if (report) err(spec.range, `${spec.union ? 'union' : 'struct'} "${spec.tag}" is not defined`);
          return undefined;
        }
        if (d.union !== spec.union && report) warn(spec.range, `"${spec.tag}" is declared as a ${d.union ? 'union' : 'struct'}`);
        return resolveStruct(d);
      }
      case 'enum': {
        const d = spec.body ?? (spec.tag ? tagDecls.get(spec.tag) : undefined);
        if (!d || d.kind !== 'enum') {
          if (report) err(spec.range, `enum "${spec.tag}" is not defined`);
          return undefined;
        }
        return resolveEnum(d);
      }
      case 'offset': {
        let width = BUILTINS.get('uint64_t') as IntType;
        if (spec.width) {
          const w = resolveRef(spec.width, report);
          if (w && w.k === 'int') width = w;
          else if (w && report) err(spec.width.range, 'the width of an offset must be an integer type');
        }
        const t: OffsetType = { k: 'offset', name: '', target: BUILTINS.get('void')!, base: spec.base, width, size: width.size, align: width.align };
        pendingOffsets.push({ t, ref: spec.target });
        return t;
      }
    }
  };

  const resolveRef = (ref: TypeRef, report = true, fieldNames?: Set<string>): Type | undefined => {
    let t = resolveSpec(ref.spec, report);
    if (!t) return undefined;
    if (ref.pointers > 0) t = { k: 'pointer', name: `${t.name}${'*'.repeat(ref.pointers)}`, size: 8, align: 8 };
    for (let i = ref.dims.length - 1; i >= 0; i--) t = arrayOf(t, ref.dims[i]!, report, fieldNames);
    return t;
  };

  const arrayOf = (elem: Type, dim: Expr, report: boolean, fieldNames?: Set<string>): ArrayType => {
    if (fieldNames && !isConstant(dim, fieldNames)) {
      checkNames(dim, fieldNames);
      return { k: 'array', name: `${elem.name}[${exprText(dim)}]`, elem, countExpr: dim, size: 0, align: elem.align };
    }
    const n = report ? constInt(dim, 'array size', fieldNames) : safeConst(dim);
    let count = n === undefined ? 0 : Number(n);
    if (n !== undefined && (n < 0n || n > 0xffff_ffffn)) {
      if (report) err(dim.range, `array size ${n} is out of range`);
      count = 0;
    }
    const size = elem.size * count;
    if (size > Number.MAX_SAFE_INTEGER / 8) {
      if (report) err(dim.range, 'array too large');
      count = 0;
    }
    return { k: 'array', name: `${elem.name}[${count}]`, elem, count, size: elem.size * count, align: elem.align };
  };
  const safeConst = (e: Expr): bigint | undefined => {
    try {
      return evalInt(e, constEnv());
    } catch {
      return undefined;
    }
  };

  const checkNames = (e: Expr, fieldNames: Set<string>) => {
    for (const n of namesIn(e)) {
      if (!fieldNames.has(n.name) && !constants.has(n.name) && enumConstant(n.name) === undefined && !outerNames.has(n.name)) {
        warn(n.range, `"${n.name}" is not an earlier field here; it is looked up in the enclosing structs when decoding`);
      }
    }
  };
  /** Every field name of every struct: a data expression may reach into an enclosing struct. */
  const outerNames = new Set<string>();
  for (const d of parsed.decls) if (d.kind === 'struct') for (const m of d.members) if (m.name) outerNames.add(m.name);

  const resolveTypedef = (d: TypedefDecl): Type | undefined => {
    const done = resolved.get(d);
    if (done) return done;
    if (inProgress.has(d)) {
      err(d.nameRange, `typedef "${d.name}" refers to itself`);
      return undefined;
    }
    inProgress.add(d);
    try {
      let t = resolveRef(d.type);
      if (!t) return undefined;
      if (d.alignas || d.packed) {
        let align = t.align;
        if (d.alignas) {
          const a = constInt(d.alignas, 'alignment');
          if (a !== undefined && validAlign(a, d.alignas.range)) align = Number(a);
        }
        t = { ...t, name: d.name, align } as Type;
      } else if (t.k === 'struct' || t.k === 'enum') {
        if (!t.name || t.name.startsWith('(anonymous')) t.name = d.name;
      } else t = { ...t, name: d.name };
      resolved.set(d, t);
      types.set(d.name, t);
      return t;
    } finally {
      inProgress.delete(d);
    }
  };

  const validAlign = (a: bigint, range: Range): boolean => {
    if (a <= 0n || a > 1n << 28n || (a & (a - 1n)) !== 0n) {
      err(range, `alignment ${a} is not a power of two`);
      return false;
    }
    return true;
  };

  const resolveEnum = (d: EnumDecl): EnumType => {
    const done = resolved.get(d);
    if (done) return done as EnumType;
    let base = BUILTINS.get('unsigned int') as IntType;
    const t: EnumType = { k: 'enum', name: d.name ?? '(anonymous enum)', size: 4, align: 4, base, names: new Map(), values: new Map(), flags: d.flags, decl: d };
    resolved.set(d, t);
    if (d.underlying) {
      const u = resolveRef(d.underlying);
      if (u && u.k === 'int') base = u;
      else if (u && u.k === 'enum') base = u.base;
      else if (u) err(d.underlying.range, 'the underlying type of an enum must be an integer type');
    }
    let next = 0n;
    let min = 0n;
    let max = 0n;
    for (const it of d.items) {
      let v = next;
      if (it.value) v = constInt(it.value, `value of ${it.name}`) ?? next;
      if (constants.has(it.name)) err(it.range, `"${it.name}" is already defined`);
      constants.set(it.name, { value: v, enumType: t, range: it.range });
      if (!t.names.has(v)) t.names.set(v, it.name);
      t.values.set(it.name, v);
      next = v + 1n;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!d.underlying) {
      // gcc: unsigned int when every value fits, int with negatives, 64-bit beyond; packed: smallest.
      const fits = (bits: bigint, signed: boolean) => (signed ? min >= -(1n << (bits - 1n)) && max < 1n << (bits - 1n) : min >= 0n && max < 1n << bits);
      const neg = min < 0n;
      const pick = (n: string) => BUILTINS.get(n) as IntType;
      if (d.packed) base = fits(8n, neg) ? pick(neg ? 'signed char' : 'unsigned char') : fits(16n, neg) ? pick(neg ? 'short' : 'unsigned short') : fits(32n, neg) ? pick(neg ? 'int' : 'unsigned int') : pick(neg ? 'long' : 'unsigned long');
      else base = fits(32n, neg) ? pick(neg ? 'int' : 'unsigned int') : pick(neg ? 'long' : 'unsigned long');
    } else {
      for (const it of d.items) {
        const v = t.values.get(it.name)!;
        if (wrapInt(base, v) !== v) err(it.range, `${it.name} = ${v} does not fit in ${base.name}`);
      }
    }
    t.base = base;
    t.size = base.size;
    t.align = base.align;
    enums.push(t);
    if (d.name) types.set(d.name, t);
    return t;
  };

  const resolveStruct = (d: StructDecl): StructType | undefined => {
    const done = resolved.get(d);
    if (done) {
      if ((done as StructType).incomplete) {
        err(d.nameRange, `"${d.name}" contains itself (use offset<${d.name}> to point to one)`);
        return undefined;
      }
      return done as StructType;
    }
    const t: StructType = { k: 'struct', name: d.name ?? `(anonymous ${d.union ? 'union' : 'struct'})`, union: d.union, fields: [], size: 0, align: 1, dynamic: false, incomplete: true, decl: d, tailPadding: 0 };
    resolved.set(d, t);
    layoutStruct(d, t);
    t.incomplete = false;
    structs.push(t);
    if (d.segment) {
      segments.push(t);
      const b = d.segment.binding;
      if (b) {
        if (typeof b.value === 'string') {
          if (!b.value.startsWith('/')) err(b.range, `a POSIX name starts with "/", like "/${b.value}"`);
          t.segment = { binding: { kind: 'posix', value: b.value, range: b.range } };
        } else {
          const v = constInt(b.value, `segment ${b.kind}`);
          t.segment = { binding: v === undefined ? undefined : { kind: b.kind, value: Number(BigInt.asIntN(32, v)), range: b.range } };
        }
      } else t.segment = {};
    }
    if (d.name) types.set(d.name, t);
    return t;
  };

  const layoutStruct = (d: StructDecl, t: StructType) => {
    const fieldNames = new Set<string>();
    const addNames = (m: MemberDecl, ty: Type | undefined) => {
      if (m.name) {
        if (fieldNames.has(m.name)) err(m.nameRange, `duplicate member "${m.name}"`);
        fieldNames.add(m.name);
      } else if (ty && ty.k === 'struct') for (const f of allFieldNames(ty)) fieldNames.add(f);
    };
    let bitpos = 0;
    let align = 1;
    let dynamic = false;
    let lastEnd = 0;
    const pack = d.pack;
    for (const m of d.members) {
      const ty = resolveRef(m.type, true, fieldNames);
      if (!ty) {
        addNames(m, undefined);
        continue;
      }
      if (ty.k === 'void') {
        err(m.type.range, 'a member cannot be void');
        continue;
      }
      if (ty.k === 'struct' && ty.incomplete) continue;
      const attrs = checkAttrs(m.attrs, ty, fieldNames, m);
      const cond = m.attrs.find((a) => a.name === 'if')?.args[0]?.expr;
      const packedField = d.packed || m.packed;
      const field: Field = {
        name: m.name ?? '', type: ty, offset: -1, size: ty.size, align: ty.align, attrs,
        endian: m.attrs.some((a) => a.name === 'be') ? 'be' : m.attrs.some((a) => a.name === 'le') ? 'le' : (m.endian ?? 'le'), range: m.range, nameRange: m.nameRange,
        paddingBefore: 0, anonymous: !m.name && !m.bits, at: m.at, cond,
      };
      const tyDynamic = (ty.k === 'struct' && ty.dynamic) || (ty.k === 'array' && (ty.count === undefined || isDynamicType(ty)));
      if (m.bits) {
        const w = constInt(m.bits, 'bit-field width');
        const base = ty.k === 'enum' ? ty.base : ty;
        if (base.k !== 'int') {
          err(m.type.range, 'a bit-field must have an integer, bool or enum type');
          continue;
        }
        if (w === undefined) continue;
        const width = Number(w);
        if (width < 0 || width > base.size * 8 || (base.bool && width > 1)) {
          err(m.bits.range, `bit-field width ${width} does not fit in ${base.name}`);
          continue;
        }
        if (width === 0) {
          if (m.name) err(m.nameRange, 'a zero-width bit-field must be unnamed');
          if (!d.union && !dynamic) bitpos = alignUp(bitpos, 8 * (pack ? Math.min(base.align, pack) : base.align));
          continue;
        }
        const start = d.union ? 0 : dynamic ? 0 : placeBitfield(bitpos, width, base.align, packedField, pack);
        if (m.name) align = Math.max(align, pack ? Math.min(base.align, pack) : packedField ? 1 : base.align);
        const byte = Math.floor(start / 8);
        field.offset = dynamic ? -1 : byte;
        field.bitOffset = start - byte * 8;
        field.bitWidth = width;
        field.size = Math.ceil((field.bitOffset + width) / 8);
        field.align = 1;
        if (!d.union && !dynamic) {
          field.paddingBefore = Math.max(0, byte - lastEnd);
          bitpos = start + width;
          lastEnd = Math.max(lastEnd, Math.ceil(bitpos / 8));
        }
        if (dynamic) t.dynamic = true;
        if (m.name) t.fields.push(field);
        addNames(m, ty);
        continue;
      }
      let a = packedField ? 1 : ty.align;
      if (m.alignas) {
        const v = constInt(m.alignas, 'alignment');
        if (v !== undefined && validAlign(v, m.alignas.range)) a = Math.max(a, Number(v));
      }
      if (pack) a = Math.min(a, pack);
      field.align = a;
      align = Math.max(align, a);
      if (cond) dynamic = true;
      if (d.union) {
        field.offset = tyDynamic || cond ? -1 : 0;
        if (!tyDynamic) bitpos = Math.max(bitpos, ty.size * 8);
      } else if (m.at) {
        const v = isConstant(m.at, fieldNames) ? constInt(m.at, 'placement') : undefined;
        if (v === undefined) {
          if (!isConstant(m.at, fieldNames)) checkNames(m.at, fieldNames);
          dynamic = true;
        } else if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) err(m.at.range, `placement ${v} is out of range`);
        else if (!dynamic || d.segment) {
          field.offset = Number(v);
          if (!tyDynamic) {
            bitpos = Math.max(bitpos, (field.offset + ty.size) * 8);
            lastEnd = Math.max(lastEnd, field.offset + ty.size);
          }
        }
      } else if (!dynamic) {
        const off = alignUp(Math.ceil(bitpos / 8), a);
        field.paddingBefore = off - lastEnd;
        field.offset = off;
        bitpos = (off + (tyDynamic ? 0 : ty.size)) * 8;
        lastEnd = off + (tyDynamic ? 0 : ty.size);
      }
      if (cond && !d.union) field.offset = -1;
      if (tyDynamic) dynamic = true;
      t.fields.push(field);
      addNames(m, ty);
    }
    if (d.alignas) {
      const v = constInt(d.alignas, 'alignment');
      if (v !== undefined && validAlign(v, d.alignas.range)) align = Math.max(align, Number(v));
    }
    t.align = align;
    const raw = Math.ceil(bitpos / 8);
    t.size = alignUp(raw, align);
    t.tailPadding = t.size - raw;
    t.dynamic = dynamic || t.dynamic;
    if (d.attrs.length) for (const a of d.attrs) if (!ATTRS.has(a.name)) warn(a.range, `unknown attribute "${a.name}" ignored`);
  };

  const checkAttrs = (attrs: Attr[], ty: Type, fieldNames: Set<string>, m: MemberDecl): Attr[] => {
    for (const a of attrs) {
      const argc = a.args.length;
      const need = (n: number) => {
        if (argc !== n) err(a.range, `[[${a.name}]] takes ${n === 0 ? 'no arguments' : n === 1 ? 'one argument' : `${n} arguments`}`);
      };
      switch (a.name) {
        case 'expect':
          need(1);
          if (ty.k === 'struct' || ty.k === 'array' && !(ty.elem.k === 'int' && ty.elem.char)) err(a.range, '[[expect]] needs a number, enum or text field');
          break;
        case 'seqlock':
          need(0);
          if (ty.k !== 'int') err(a.range, '[[seqlock]] needs an integer counter field');
          break;
        case 'checksum': {
          const alg = a.args[0]?.expr;
          if (!alg || alg.k !== 'name' || !(CHECKSUMS as readonly string[]).includes(alg.name)) err(alg?.range ?? a.range, `the first argument of [[checksum]] is one of ${CHECKSUMS.join(', ')}`);
          if (argc < 2 || argc > 3) err(a.range, '[[checksum(algorithm, field)]] or [[checksum(algorithm, start, length)]]');
          if (ty.k !== 'int') err(a.range, '[[checksum]] needs an integer field holding the stored checksum');
          break;
        }
        case 'ring': {
          if (ty.k !== 'array') err(a.range, '[[ring]] applies to an array');
          const names = a.args.map((x) => x.name);
          if (!names.includes('head') || !names.includes('tail')) err(a.range, '[[ring(head = …, tail = …)]] needs both head and tail');
          for (const x of a.args) if (x.name !== 'head' && x.name !== 'tail') err(x.range, `unknown [[ring]] argument "${x.name ?? exprText(x.expr)}" (head, tail)`);
          break;
        }
        case 'format': {
          need(1);
          const f = a.args[0]?.expr;
          if (f && (f.k !== 'name' || !(FORMATS as readonly string[]).includes(f.name))) err(f.range, `unknown format; use one of ${FORMATS.join(', ')}`);
          break;
        }
        case 'if':
          need(1);
          if (a.args[0]) checkNames(a.args[0].expr, fieldNames);
          break;
        case 'flags':
          warn(a.range, '[[flags]] belongs on an enum declaration');
          break;
        default:
          if (!ATTRS.has(a.name)) warn(a.range, `unknown attribute "${a.name}" ignored`);
      }
    }
    void m;
    return attrs;
  };

  // ------------------------------------------------------------------ run
  for (const d of parsed.decls) {
    if (d.kind === 'struct') resolveStruct(d);
    else if (d.kind === 'enum') resolveEnum(d);
    else if (d.kind === 'typedef') resolveTypedef(d);
  }
  for (const { t, ref } of pendingOffsets) {
    const target = resolveRef(ref);
    if (target) t.target = target;
    t.name = `offset<${t.target.name}${t.base === 'self' ? ', self' : typeof t.base === 'object' ? `, ${exprText(t.base)}` : ''}${t.width.name !== 'uint64_t' ? `, ${t.width.name}` : ''}>`;
  }
  for (const d of parsed.decls) {
    if (d.kind !== 'static_assert') continue;
    const v = constInt(d.expr, 'static_assert');
    if (v === 0n) err(d.range, `static_assert failed${d.message ? `: ${d.message}` : ''}: ${describeAssert(d.expr, constEnv())}`);
  }

  // References resolved to definitions.
  const byName = new Map<string, Definition>();
  for (const def of definitions) if (!byName.has(def.name)) byName.set(def.name, def);
  for (const s of structs) {
    for (const f of s.fields) if (f.name) definitions.push({ name: f.name, kind: 'field', range: f.range, nameRange: f.nameRange, container: s.name });
  }
  const references = parsed.refs.map((r) => ({ name: r.name, range: r.range, target: byName.get(r.name) }));

  return {
    uri, text, types, structs, segments, enums, constants, defines: parsed.defines, diagnostics, definitions, references, skipped: parsed.skipped, decls: parsed.decls,
  };
}

/** gcc's bit-field placement: a field may not straddle a unit of its type's alignment, unless packed. */
export function placeBitfield(bitpos: number, width: number, typeAlign: number, packed: boolean, pack: number): number {
  if (packed || pack) return bitpos;
  const unit = typeAlign * 8;
  if (Math.floor(bitpos / unit) !== Math.floor((bitpos + width - 1) / unit)) return alignUp(bitpos, unit);
  return bitpos;
}

function isDynamicType(t: Type): boolean {
  if (t.k === 'struct') return t.dynamic;
  if (t.k === 'array') return t.count === undefined || isDynamicType(t.elem);
  return false;
}

function hasMemberOrIndex(e: Expr): boolean {
  switch (e.k) {
    case 'member':
    case 'index':
      return true;
    case 'unary':
    case 'cast':
      return hasMemberOrIndex(e.e);
    case 'binary':
      return hasMemberOrIndex(e.a) || hasMemberOrIndex(e.b);
    case 'cond':
      return hasMemberOrIndex(e.c) || hasMemberOrIndex(e.a) || hasMemberOrIndex(e.b);
    case 'sizeof':
      return e.e ? hasMemberOrIndex(e.e) : false;
    default:
      return false;
  }
}

/** Names visible in a struct: its own and those of anonymous members. */
export function allFieldNames(t: StructType): string[] {
  const out: string[] = [];
  for (const f of t.fields) {
    if (f.anonymous && f.type.k === 'struct') out.push(...allFieldNames(f.type));
    else if (f.name) out.push(f.name);
  }
  return out;
}

/** Finds a member, looking into anonymous members; `offset` is relative to `t`'s start. */
export function findField(t: StructType, name: string): { field: Field; offset: number; path: Field[] } | undefined {
  for (const f of t.fields) {
    if (f.name === name) return { field: f, offset: f.offset, path: [f] };
    if (f.anonymous && f.type.k === 'struct') {
      const inner = findField(f.type, name);
      if (inner) return { field: inner.field, offset: f.offset < 0 || inner.offset < 0 ? -1 : f.offset + inner.offset, path: [f, ...inner.path] };
    }
  }
  return undefined;
}

export function wrapInt(t: IntType, v: bigint): bigint {
  const bits = t.size * 8;
  if (t.bool) return v !== 0n ? 1n : 0n;
  return t.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

/** Short source-like text of an expression (names of array types, messages). */
export function exprText(e: Expr): string {
  switch (e.k) {
    case 'num':
      return e.v.toString();
    case 'float':
      return String(e.v);
    case 'str':
      return JSON.stringify(e.s);
    case 'name':
      return e.name;
    case 'member':
      return `${exprText(e.obj)}.${e.name}`;
    case 'index':
      return `${exprText(e.obj)}[${exprText(e.index)}]`;
    case 'unary':
      return `${e.op}${exprText(e.e)}`;
    case 'binary':
      return `${exprText(e.a)} ${e.op} ${exprText(e.b)}`;
    case 'cond':
      return `${exprText(e.c)} ? ${exprText(e.a)} : ${exprText(e.b)}`;
    case 'sizeof':
      return e.e ? `sizeof ${exprText(e.e)}` : 'sizeof(…)';
    case 'alignof':
      return 'alignof(…)';
    case 'offsetof':
      return `offsetof(…, ${e.path.join('.')})`;
    case 'cast':
      return exprText(e.e);
    case 'error':
      return '?';
  }
}

function describeAssert(e: Expr, env: Env): string {
  if (e.k === 'binary' && ['==', '!=', '<', '>', '<=', '>='].includes(e.op)) {
    const side = (x: Expr) => {
      try {
        return evalInt(x, env).toString();
      } catch {
        return '?';
      }
    };
    return `${side(e.a)} ${e.op} ${side(e.b)} is false`;
  }
  return 'the condition is false';
}

export type { Val };
