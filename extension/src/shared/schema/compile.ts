// Type checking and layout: turns the syntax tree into resolved types with gcc x86-64 offsets,
// once per schema. Every problem becomes a diagnostic with a range; nothing throws.
import type { Attr, Decl, EnumDecl, Expr, MemberDecl, StructDecl, TypedefDecl, TypeRef, TypeSpec } from './ast';
import { promoted } from './c-int';
import { EvalError, evalInt, namesIn, pathText, type Env, type Val } from './expr';
import type { Define, Diagnostic, Range, Token } from './lexer';
import { nodeIncludeHost } from './host-node';
import { ATTRS, brokenPart, layoutMembers, type LayoutContext } from './layout';
import { parse, type ParseResult } from './parser';
import type { IncludeHost, Macro } from './preprocess';
import { builtinTypes, type ArrayType, type EnumType, type Field, type IntType, type OffsetType, type StructType, type Type } from './types';
import { primitiveTypes } from './primitives';
import { diagnostic } from './diagnostics';

/** Where a name is defined, for go to definition and symbols. */
export interface Definition {
  name: string;
  kind: 'struct' | 'union' | 'enum' | 'typedef' | 'segment' | 'define' | 'enumerator' | 'field';
  range: Range;
  nameRange: Range;
  /** Struct for a field. */
  container?: string;
  /** `file:line` of a definition that comes from an included file. */
  origin?: string;
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
  /** Every macro at the end of the file, predefined and included ones too. */
  macros: Map<string, Macro>;
  /** The preprocessed tokens and the top-level type declarations' spans in them (import). */
  tokens: Token[];
  spans: { start: number; end: number; decls: Decl[] }[];
  /** Files read through #include. */
  included: string[];
  /** With `evaluateDefines`: the file's macros that are integer constants. */
  values?: Map<string, bigint>;
  /** The first diagnostic of a token limit that cut the text short: what follows it was not read. */
  tokenLimit?: Diagnostic;
}

export const FORMATS = ['hex', 'dec', 'bin', 'char', 'time_s', 'time_ns', 'ipv4', 'bool'] as const;
export const CHECKSUMS = ['crc32', 'crc32c', 'adler32', 'sum8', 'xor8'] as const;
// The C scalars, then glibc's process-shared primitives (pthread_mutex_t, sem_t, …).
const BUILTINS: Map<string, Type> = new Map([...builtinTypes(), ...primitiveTypes()]);

/** A builtin type by name (a C scalar or a glibc primitive): what a named type resolves to first. */
export function builtinType(name: string): Type | undefined {
  return BUILTINS.get(name);
}

/** How `#include` and `-D` work for one compile. */
export interface CompileOptions {
  /** Folders searched for includes before the system ones (`-I`, `shmscope.schema.includePath`). */
  includePath?: string[];
  /** `-D NAME[=VALUE]`. */
  defines?: Record<string, string>;
  /** File access for includes (default: the real file system). */
  host?: IncludeHost;
  /** Also evaluate the file's object-like macros (`Schema.values`), for header import. */
  evaluateDefines?: boolean;
  /** Most tokens of a file and of the preprocessed text (PreprocessOptions.maxTokens; default 4 M). */
  maxTokens?: number;
}

/** Parses and lays out a schema. Never throws: an engine bug becomes an "internal error" diagnostic. */
export function compileSchema(text: string, uri = 'schema.shms', options: CompileOptions = {}): Schema {
  try {
    return compileUnsafe(text, uri, options);
  } catch (e) {
    const here = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return {
      uri, text, types: new Map(BUILTINS), structs: [], segments: [], enums: [], constants: new Map(), defines: new Map(), macros: new Map(), definitions: [], references: [], skipped: [], decls: [],
      tokens: [], spans: [], included: [],
      diagnostics: [diagnostic(here, 'error', e instanceof RangeError ? 'the schema is nested too deeply to compile' : `internal error in the schema compiler: ${(e as Error).message}`)],
    };
  }
}

function compileUnsafe(text: string, uri: string, options: CompileOptions): Schema {
  return new Compiler(text, uri, options).run();
}

const ZERO_RANGE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/**
 * The engine's last stage, after the parser: one file's text, its URI and the compile options in
 * (it runs the parser itself), a Schema out (types, structs, segments, enums, constants,
 * diagnostics, definitions and references). One compile, by step: index the parsed declarations by name, resolve them to types (layout.ts
 * lays out the structs), check the static_asserts, then emit the Schema with its definitions and
 * references. Types are resolved lazily, so declaration order does not matter.
 */
class Compiler {
  private readonly parsed: ParseResult;
  private readonly diagnostics: Diagnostic[];
  private readonly types = new Map<string, Type>(BUILTINS);
  private readonly definitions: Definition[] = [];
  private readonly structs: StructType[] = [];
  private readonly segments: StructType[] = [];
  private readonly enums: EnumType[] = [];
  private readonly constants = new Map<string, { value: bigint; enumType?: EnumType; range: Range }>();
  private readonly tagDecls = new Map<string, StructDecl | EnumDecl>();
  private readonly typedefDecls = new Map<string, TypedefDecl>();
  private readonly resolved = new Map<object, Type>();
  private readonly inProgress = new Set<object>();
  private readonly pendingOffsets: { t: OffsetType; ref: TypeRef }[] = [];
  private readonly zeroRange = ZERO_RANGE;
  private readonly opaques = new Map<string, StructType>();
  /** Every field name of every struct: a data expression may reach into an enclosing struct. */
  private readonly outerNames = new Set<string>();
  /** Types resolved inside one another (typedef chains, nested structs): bounded, not the stack. */
  private nesting = 0;
  private nestingReported = false;
  private readonly layoutContext: LayoutContext;

  constructor(
    private readonly text: string,
    private readonly uri: string,
    options: CompileOptions,
  ) {
    this.parsed = parse(text, new Set(BUILTINS.keys()), { uri, includePath: options.includePath, defines: options.defines, host: options.host ?? nodeIncludeHost, evaluateDefines: options.evaluateDefines, ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}) });
    this.diagnostics = this.parsed.diagnostics;
    this.layoutContext = {
      diagnostics: this.diagnostics,
      err: this.err.bind(this),
      warn: this.warn.bind(this),
      resolveRef: this.resolveRef.bind(this),
      constInt: this.constInt.bind(this),
      validAlign: this.validAlign.bind(this),
      isConstant: this.isConstant.bind(this),
      checkNames: this.checkNames.bind(this),
      checkAttrs: this.checkAttrs.bind(this),
      allFieldNames,
    };
  }

  private err(range: Range, message: string): number {
    return this.diagnostics.push(diagnostic(range, 'error', message));
  }
  private warn(range: Range, message: string): number {
    return this.diagnostics.push(diagnostic(range, 'warning', message));
  }
  // ------------------------------------------------------------------ constants
  private constEnv(fieldNames?: Set<string>): Env {
    return {
      name: (n) => {
        const c = this.constants.get(n);
        if (c) return c.value;
        const e = this.enumConstant(n);
        if (e !== undefined) return e;
        if (fieldNames?.has(n)) throw new EvalError(`"${n}" is a field`, this.zeroRange, true);
        return undefined;
      },
      sizeof: (t) => {
        const ty = this.resolveRef(t, false);
        return ty && !(ty.k === 'struct' && (ty.dynamic || ty.incomplete)) && !(ty.k === 'array' && ty.count === undefined) && !brokenPart(ty) ? ty.size : undefined;
      },
      sizeofExpr: (e) => {
        const ty = this.typeOfExpr(e);
        return ty && !(ty.k === 'struct' && (ty.dynamic || ty.incomplete)) && !(ty.k === 'array' && ty.count === undefined) ? ty.size : undefined;
      },
      alignof: (t) => this.resolveRef(t, false)?.align,
      offsetof: (t, path) => {
        let ty = this.resolveRef(t, false);
        let off = 0;
        for (const p of path) {
          if (typeof p === 'number') {
            // `a[2]`: the element's place (gcc takes any constant index, past the end too).
            if (!ty || ty.k !== 'array') return undefined;
            off += p * ty.elem.size;
            ty = ty.elem;
            continue;
          }
          if (!ty || ty.k !== 'struct') return undefined;
          const f = findField(ty, p);
          if (!f || f.field.offset < 0) return undefined;
          off += f.offset;
          ty = f.field.type;
        }
        return off;
      },
      cast: (t, v) => {
        const ty = this.resolveRef(t, false);
        return ty && (ty.k === 'int' || ty.k === 'enum') ? wrapInt(ty.k === 'enum' ? ty.base : ty, v) : v;
      },
      castType: (t) => {
        const ty = this.resolveRef(t, false);
        const int = ty?.k === 'enum' ? ty.base : ty?.k === 'int' ? ty : undefined;
        return int ? promoted(int.size, int.signed) : undefined;
      },
    };
  }
  /**
   * The static type of an expression of a constant context, for `sizeof`: `((T *)0)->m`,
   * `*(T *)0`, `((T *)0)->a[0]`. `ptr` says the value is a pointer to the returned type.
   */
  private typeOfExpr(e: Expr): Type | undefined {
    const walk = (x: Expr): { t: Type; ptr: boolean } | undefined => {
      switch (x.k) {
        case 'cast': {
          const r = x.type;
          const steps = r.derived ?? [];
          if (r.pointers > 0 && r.dims.length === 0 && !steps.length) {
            const pointee = this.resolveRef({ ...r, pointers: r.pointers - 1 }, false);
            return pointee ? { t: pointee, ptr: true } : undefined;
          }
          const t = this.resolveRef(r, false);
          return t ? { t, ptr: false } : undefined;
        }
        case 'member': {
          const o = walk(x.obj);
          if (!o || o.t.k !== 'struct') return undefined;
          const f = findField(o.t, x.name);
          return f ? { t: f.field.type, ptr: false } : undefined;
        }
        case 'index': {
          const o = walk(x.obj);
          if (!o) return undefined;
          if (o.ptr) return { t: o.t, ptr: false };
          return o.t.k === 'array' ? { t: o.t.elem, ptr: false } : undefined;
        }
        case 'unary':
          if (x.op === '*') {
            const o = walk(x.e);
            return o?.ptr ? { t: o.t, ptr: false } : o?.t.k === 'array' ? { t: o.t.elem, ptr: false } : undefined;
          }
          return undefined;
        case 'name': {
          const t = this.types.get(x.name);
          return t ? { t, ptr: false } : undefined;
        }
        default:
          return undefined;
      }
    };
    const r = walk(e);
    return r && !r.ptr ? r.t : r ? { k: 'pointer', name: `${r.t.name}*`, size: 8, align: 8 } : undefined;
  }
  /** Evaluates a constant expression; reports and returns undefined when it is not one. */
  private constInt(e: Expr, what: string, fieldNames?: Set<string>): bigint | undefined {
    try {
      return evalInt(e, this.constEnv(fieldNames));
    } catch (x) {
      if (x instanceof EvalError) {
        if (!x.notConstant) this.err(x.range === this.zeroRange ? e.range : x.range, `${what}: ${x.message}`);
        return undefined;
      }
      this.err(e.range, `${what}: ${(x as Error).message}`);
      return undefined;
    }
  }
  /**
   * The first bytes `magic V` names, as hex: a string's bytes, or an integer's little-endian bytes
   * in the smallest of 1, 2, 4 or 8 bytes that holds it (`0x52494E47` is `47 4e 49 52`).
   */
  private magicHex(v: Expr | string, range: Range): string | undefined {
    if (typeof v === 'string') {
      if (!v.length) this.err(range, 'magic needs at least one byte');
      let hex = '';
      for (let i = 0; i < v.length; i++) hex += (v.charCodeAt(i) & 0xff).toString(16).padStart(2, '0');
      return v.length ? hex : undefined;
    }
    const n = this.constInt(v, 'magic');
    if (n === undefined) return undefined;
    if (n < 0n || n > 0xffffffffffffffffn) {
      this.err(range, 'magic is an unsigned value of at most 64 bits (or a string)');
      return undefined;
    }
    const width = n <= 0xffn ? 1 : n <= 0xffffn ? 2 : n <= 0xffffffffn ? 4 : 8;
    let hex = '';
    for (let i = 0; i < width; i++) hex += Number((n >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0');
    return hex;
  }
  /** Is `e` constant (no field names)? */
  private isConstant(e: Expr, fieldNames: Set<string>): boolean {
    return namesIn(e).every((n) => !fieldNames.has(n.name) && (this.constants.has(n.name) || this.enumConstant(n.name) !== undefined)) && !hasMemberOrIndex(e);
  }
  private enumConstant(n: string): bigint | undefined {
    // Enumerators are declared by their enum: resolve enums lazily so forward uses work.
    if (this.constants.has(n)) return this.constants.get(n)!.value;
    for (const d of this.parsed.decls) {
      if (d.kind === 'enum' && d.items.some((i) => i.name === n)) {
        this.resolveEnum(d);
        return this.constants.get(n)?.value;
      }
    }
    return undefined;
  }
  // ------------------------------------------------------------------ types
  private resolveSpec(spec: TypeSpec, report = true): Type | undefined {
    switch (spec.k) {
      case 'named': {
        const b = BUILTINS.get(spec.name);
        if (b) return b;
        const td = this.typedefDecls.get(spec.name);
        if (td) return this.resolveTypedef(td);
        const tag = this.tagDecls.get(spec.name);
        if (tag) return tag.kind === 'enum' ? this.resolveEnum(tag) : this.resolveStruct(tag);
        if (report) this.err(spec.range, `unknown type "${spec.name}"`);
        return undefined;
      }
      case 'struct': {
        const d = spec.body ?? (spec.tag ? this.tagDecls.get(spec.tag) : undefined);
        if (!d || d.kind !== 'struct') {
          // Only declared (`struct __dirstream`): an incomplete type, fine behind a pointer or a
          // typedef, an error where its size is needed.
          if (d && report) this.err(spec.range, `"${spec.tag}" is an enum, not a ${spec.union ? 'union' : 'struct'}`);
          return d ? undefined : this.opaque(spec.tag ?? '?', spec.union);
        }
        if (d.union !== spec.union && report) this.warn(spec.range, `"${spec.tag}" is declared as a ${d.union ? 'union' : 'struct'}`);
        return this.resolveStruct(d);
      }
      case 'enum': {
        const d = spec.body ?? (spec.tag ? this.tagDecls.get(spec.tag) : undefined);
        if (!d || d.kind !== 'enum') {
          if (report) this.err(spec.range, `enum "${spec.tag}" is not defined`);
          return undefined;
        }
        return this.resolveEnum(d);
      }
      case 'ref': {
        const t = this.resolveRef(spec.ref, report);
        if (!t || !spec.atomic) return t;
        // _Atomic(T) of a power-of-two size up to 16 is aligned to its size (gcc x86-64).
        return [1, 2, 4, 8, 16].includes(t.size) && t.align < t.size ? ({ ...t, align: t.size } as Type) : t;
      }
      case 'offset': {
        let width = BUILTINS.get('uint64_t') as IntType;
        if (spec.width) {
          const w = this.resolveRef(spec.width, report);
          if (w && w.k === 'int') width = w;
          else if (w && report) this.err(spec.width.range, 'the width of an offset must be an integer type');
        }
        const t: OffsetType = { k: 'offset', name: '', target: BUILTINS.get('void')!, base: spec.base, width, size: width.size, align: width.align };
        this.pendingOffsets.push({ t, ref: spec.target });
        return t;
      }
    }
  }
  /** An incomplete struct or union: size unknown, usable behind pointers and typedefs. */
  private opaque(tag: string, union: boolean): StructType {
    const key = `${union ? 'union' : 'struct'} ${tag}`;
    let t = this.opaques.get(key);
    if (!t) {
      t = { k: 'struct', name: key, union, fields: [], size: 0, align: 1, dynamic: false, incomplete: true, opaque: true, tailPadding: 0 };
      this.opaques.set(key, t);
    }
    return t;
  }
  /** The name of what a pointer points to, without resolving it (it may be incomplete or itself). */
  private specName(spec: TypeSpec): string {
    switch (spec.k) {
      case 'named':
        return spec.name;
      case 'struct':
        return spec.tag ? `${spec.union ? 'union' : 'struct'} ${spec.tag}` : `(anonymous ${spec.union ? 'union' : 'struct'})`;
      case 'enum':
        return spec.tag ? `enum ${spec.tag}` : '(anonymous enum)';
      case 'offset':
        return 'offset<…>';
      case 'ref':
        return 'typeof(…)';
    }
  }
  private resolveRef(ref: TypeRef, report = true, fieldNames?: Set<string>): Type | undefined {
    const steps = ref.derived ?? [...Array.from({ length: ref.pointers }, () => ({ k: 'ptr' as const })), ...[...ref.dims].reverse().map((dim) => ({ k: 'array' as const, dim }))];
    // A pointer is an 8-byte address whatever it points to: the pointee is resolved only for its
    // name, and only when it is a definition or already known (no "contains itself" for `next`).
    const firstPtr = steps.findIndex((x) => x.k === 'ptr');
    let t: Type | undefined;
    if (firstPtr >= 0 && steps.slice(0, firstPtr).every((x) => x.k === 'fn') && !(ref.spec.k === 'struct' && ref.spec.body) && !(ref.spec.k === 'enum' && ref.spec.body)) {
      if (ref.spec.k === 'named' && !BUILTINS.has(ref.spec.name) && !this.typedefDecls.has(ref.spec.name) && !this.tagDecls.has(ref.spec.name)) {
        if (report) this.err(ref.spec.range, `unknown type "${ref.spec.name}"`);
        return undefined;
      }
      t = { k: 'void', name: this.specName(ref.spec), size: 0, align: 1 };
    } else t = this.resolveSpec(ref.spec, report);
    if (!t) return undefined;
    if (ref.mode) {
      const m = this.modeType(ref.mode, t);
      if (!m && report) this.err(ref.range, `unknown machine mode "${ref.mode}"`);
      if (m) t = m;
    }
    if (ref.vector) {
      t = this.vectorOf(t, ref.vector);
      if (!t) return undefined;
    }
    for (const step of steps) {
      if (step.k === 'ptr') t = { k: 'pointer', name: `${t.name}*`, size: 8, align: 8 };
      else if (step.k === 'fn') t = { k: 'void', name: `${t.name}()`, size: 0, align: 1, fn: true };
      else {
        const a = this.arrayOf(t, step.dim, report, fieldNames);
        if (!a) return undefined;
        t = a;
      }
    }
    return t;
  }
  /** gcc's vector types: N bytes of a scalar, N a power of two and a multiple of it, aligned to N. */
  private vectorOf(elem: Type, e: Expr): Type | undefined {
    const n = this.constInt(e, 'vector_size');
    if (n === undefined) return undefined;
    if ((elem.k !== 'int' && elem.k !== 'float') || elem.size === 0) {
      this.err(e.range, `vector_size applies to an integer or floating type, not ${elem.name}`);
      return undefined;
    }
    const size = Number(n);
    if (n <= 0n || n > 1n << 16n || (size & (size - 1)) !== 0 || size % elem.size !== 0) {
      this.err(e.range, `vector_size(${n}) is not a power of two multiple of ${elem.name}'s ${elem.size} bytes`);
      return undefined;
    }
    // Wider vectors: gcc places them at their size's alignment in a struct but gives the struct
    // less; not modelled, so refused rather than laid out differently.
    if (size > 16) {
      this.err(e.range, `vector_size(${size}): vectors wider than 16 bytes are not supported`);
      return undefined;
    }
    return { k: 'array', name: `${elem.name} __attribute__((vector_size(${size})))`, elem, count: size / elem.size, size, align: size };
  }
  /** `__attribute__((mode(QI)))` and friends: the integer of that width, signedness kept. */
  private modeType(mode: string, base: Type): Type | undefined {
    const bytes = ({ QI: 1, HI: 2, SI: 4, DI: 8, TI: 16, word: 8, pointer: 8, byte: 1 } as Record<string, number>)[mode];
    if (bytes === undefined || (base.k !== 'int' && base.k !== 'enum')) return undefined;
    const signed = base.k === 'int' ? base.signed : base.base.signed;
    const name = bytes === 16 ? (signed ? '__int128' : 'unsigned __int128') : `${signed ? '' : 'u'}int${bytes * 8}_t`;
    return BUILTINS.get(name);
  }
  private arrayOf(elem: Type, dim: Expr, report: boolean, fieldNames?: Set<string>): ArrayType | undefined {
    // A file-scope variable of a header (`int a[sizeof(v) / sizeof(v[0])]`) is no field and no
    // constant the engine evaluates: an error at it, and the layout stops (never a silent [0]).
    const variable = namesIn(dim).find((n) => this.parsed.variables.has(n.name) && !fieldNames?.has(n.name) && !this.constants.has(n.name));
    if (variable) {
      if (report) this.err(variable.range, `"${variable.name}" is a variable of the header: the engine does not evaluate variables, so this array's size is unknown (write it as a constant)`);
      return undefined;
    }
    if (fieldNames && !this.isConstant(dim, fieldNames)) {
      this.checkNames(dim, fieldNames);
      return { k: 'array', name: `${elem.name}[${exprText(dim)}]`, elem, countExpr: dim, size: 0, align: elem.align };
    }
    const n = report ? this.constInt(dim, 'array size', fieldNames) : this.safeConst(dim);
    let count = n === undefined ? 0 : Number(n);
    if (n !== undefined && (n < 0n || n > 0xffff_ffffn)) {
      if (report) this.err(dim.range, `array size ${n} is out of range`);
      count = 0;
    }
    const size = elem.size * count;
    if (size > Number.MAX_SAFE_INTEGER / 8) {
      if (report) this.err(dim.range, 'array too large');
      count = 0;
    }
    return { k: 'array', name: `${elem.name}[${count}]`, elem, count, size: elem.size * count, align: elem.align };
  }
  private safeConst(e: Expr): bigint | undefined {
    try {
      return evalInt(e, this.constEnv());
    } catch {
      return undefined;
    }
  }
  private checkNames(e: Expr, fieldNames: Set<string>): void {
    for (const n of namesIn(e)) {
      if (!fieldNames.has(n.name) && !this.constants.has(n.name) && this.enumConstant(n.name) === undefined && !this.outerNames.has(n.name)) {
        this.warn(n.range, `"${n.name}" is not an earlier field here; it is looked up in the enclosing structs when decoding`);
      }
    }
  }
  private bounded<T>(range: Range, run: () => T | undefined): T | undefined {
    if (this.nesting >= 500) {
      if (!this.nestingReported) this.err(range, 'types nested more than 500 deep: not resolved');
      this.nestingReported = true;
      return undefined;
    }
    this.nesting++;
    try {
      return run();
    } finally {
      this.nesting--;
    }
  }
  private resolveTypedef(d: TypedefDecl): Type | undefined {
    return this.resolved.has(d) ? this.resolved.get(d) : this.bounded(d.nameRange, () => this.resolveTypedefNow(d));
  }
  private resolveTypedefNow(d: TypedefDecl): Type | undefined {
    const done = this.resolved.get(d);
    if (done) return done;
    if (this.inProgress.has(d)) {
      this.err(d.nameRange, `typedef "${d.name}" refers to itself`);
      return undefined;
    }
    this.inProgress.add(d);
    try {
      let t = this.resolveRef(d.type);
      if (!t) return undefined;
      if (d.alignas || d.packed) {
        let align = t.align;
        if (d.alignas) {
          const a = this.constInt(d.alignas, 'alignment');
          if (a !== undefined && this.validAlign(a, d.alignas.range)) align = Number(a);
        }
        t = { ...t, name: d.name, align } as Type;
      } else if (t.k === 'struct' || t.k === 'enum') {
        if (!t.name || t.name.startsWith('(anonymous')) t.name = d.name;
      } else t = { ...t, name: d.name };
      this.resolved.set(d, t);
      this.types.set(d.name, t);
      return t;
    } finally {
      this.inProgress.delete(d);
    }
  }
  private validAlign(a: bigint, range: Range): boolean {
    if (a <= 0n || a > 1n << 28n || (a & (a - 1n)) !== 0n) {
      this.err(range, `alignment ${a} is not a power of two`);
      return false;
    }
    return true;
  }
  private resolveEnum(d: EnumDecl): EnumType {
    const done = this.resolved.get(d);
    if (done) return done as EnumType;
    let base = BUILTINS.get('unsigned int') as IntType;
    const t: EnumType = { k: 'enum', name: d.name ?? '(anonymous enum)', size: 4, align: 4, base, names: new Map(), values: new Map(), flags: d.flags, decl: d };
    this.resolved.set(d, t);
    if (d.underlying) {
      const u = this.resolveRef(d.underlying);
      if (u && u.k === 'int') base = u;
      else if (u && u.k === 'enum') base = u.base;
      else if (u) this.err(d.underlying.range, 'the underlying type of an enum must be an integer type');
    }
    let next = 0n;
    let min = 0n;
    let max = 0n;
    for (const it of d.items) {
      let v = next;
      if (it.value) v = this.constInt(it.value, `value of ${it.name}`) ?? next;
      if (this.constants.has(it.name)) this.err(it.range, `"${it.name}" is already defined`);
      this.constants.set(it.name, { value: v, enumType: t, range: it.range });
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
        if (wrapInt(base, v) !== v) this.err(it.range, `${it.name} = ${v} does not fit in ${base.name}`);
      }
    }
    t.base = base;
    t.size = base.size;
    t.align = base.align;
    this.enums.push(t);
    if (d.name) this.types.set(d.name, t);
    return t;
  }
  private resolveStruct(d: StructDecl): StructType | undefined {
    return this.resolved.has(d) ? this.resolveStructNow(d) : this.bounded(d.nameRange, () => this.resolveStructNow(d));
  }
  private resolveStructNow(d: StructDecl): StructType | undefined {
    const done = this.resolved.get(d);
    if (done) {
      if ((done as StructType).incomplete) {
        this.err(d.nameRange, `"${d.name}" contains itself (use offset<${d.name}> to point to one)`);
        return undefined;
      }
      return done as StructType;
    }
    const t: StructType = { k: 'struct', name: d.name ?? `(anonymous ${d.union ? 'union' : 'struct'})`, union: d.union, fields: [], size: 0, align: 1, dynamic: false, incomplete: true, decl: d, tailPadding: 0 };
    this.resolved.set(d, t);
    this.layoutStruct(d, t);
    t.incomplete = false;
    this.structs.push(t);
    if (d.segment) {
      this.segments.push(t);
      const b = d.segment.binding;
      if (b) {
        if (b.kind === 'magic') {
          const hex = this.magicHex(b.value, b.range);
          t.segment = { binding: hex === undefined ? undefined : { kind: 'magic', value: hex, range: b.range } };
        } else if (typeof b.value === 'string') {
          if (b.kind === 'posix' && !b.value.startsWith('/')) this.err(b.range, `a POSIX name starts with "/", like "/${b.value}"`);
          if (b.kind === 'file' && !b.value.startsWith('/')) this.err(b.range, `a file is named by its absolute path, like "/${b.value}"`);
          t.segment = { binding: { kind: b.kind === 'key' || b.kind === 'id' ? 'posix' : b.kind, value: b.value, range: b.range } };
        } else {
          const v = this.constInt(b.value, `segment ${b.kind}`);
          t.segment = { binding: v === undefined ? undefined : { kind: b.kind, value: Number(BigInt.asIntN(32, v)), range: b.range } };
        }
      } else t.segment = {};
    }
    const magicAttr = d.attrs.find((a) => a.name === 'magic');
    if (magicAttr) {
      const arg = magicAttr.args[0]?.expr;
      const hex = arg ? this.magicHex(arg.k === 'str' ? arg.s : arg, magicAttr.range) : undefined;
      if (!arg) this.err(magicAttr.range, 'magic needs the first bytes: [[magic(0x52494E47)]] or [[magic("RING")]]');
      if (hex !== undefined) t.magic = hex;
    }
    if (d.name) this.types.set(d.name, t);
    return t;
  }
  private layoutStruct(d: StructDecl, t: StructType): void {
    layoutMembers(this.layoutContext, d, t);
  }
  private checkAttrs(attrs: Attr[], ty: Type, fieldNames: Set<string>, m: MemberDecl): Attr[] {
    for (const a of attrs) {
      const argc = a.args.length;
      const need = (n: number) => {
        if (argc !== n) this.err(a.range, `[[${a.name}]] takes ${n === 0 ? 'no arguments' : n === 1 ? 'one argument' : `${n} arguments`}`);
      };
      switch (a.name) {
        case 'expect':
          need(1);
          if (ty.k === 'struct' || ty.k === 'array' && !(ty.elem.k === 'int' && ty.elem.char)) this.err(a.range, '[[expect]] needs a number, enum or text field');
          break;
        case 'seqlock':
          need(0);
          if (ty.k !== 'int') this.err(a.range, '[[seqlock]] needs an integer counter field');
          break;
        case 'checksum': {
          const alg = a.args[0]?.expr;
          if (!alg || alg.k !== 'name' || !(CHECKSUMS as readonly string[]).includes(alg.name)) this.err(alg?.range ?? a.range, `the first argument of [[checksum]] is one of ${CHECKSUMS.join(', ')}`);
          if (argc < 2 || argc > 3) this.err(a.range, '[[checksum(algorithm, field)]] or [[checksum(algorithm, start, length)]]');
          if (ty.k !== 'int') this.err(a.range, '[[checksum]] needs an integer field holding the stored checksum');
          break;
        }
        case 'ring': {
          if (ty.k !== 'array') this.err(a.range, '[[ring]] applies to an array');
          const names = a.args.map((x) => x.name);
          if (!names.includes('head') || !names.includes('tail')) this.err(a.range, '[[ring(head = …, tail = …)]] needs both head and tail');
          for (const x of a.args) if (x.name !== 'head' && x.name !== 'tail') this.err(x.range, `unknown [[ring]] argument "${x.name ?? exprText(x.expr)}" (head, tail)`);
          break;
        }
        case 'format': {
          need(1);
          const f = a.args[0]?.expr;
          if (f && (f.k !== 'name' || !(FORMATS as readonly string[]).includes(f.name))) this.err(f.range, `unknown format; use one of ${FORMATS.join(', ')}`);
          break;
        }
        case 'if':
          need(1);
          if (a.args[0]) this.checkNames(a.args[0].expr, fieldNames);
          break;
        case 'flags':
          this.warn(a.range, '[[flags]] belongs on an enum declaration');
          break;
        case 'futex':
          need(0);
          if (ty.k !== 'int' || ty.size !== 4) this.err(a.range, '[[futex]] marks a 32-bit integer futex word (uint32_t)');
          break;
        default:
          if (!ATTRS.has(a.name)) this.warn(a.range, `unknown attribute "${a.name}" ignored`);
      }
    }
    void m;
    return attrs;
  }

  run(): Schema {
    this.indexDeclarations();
    for (const d of this.parsed.decls) if (d.kind === 'struct') for (const m of d.members) if (m.name) this.outerNames.add(m.name);
    this.resolveAll();
    this.checkAsserts();
    return this.emit();
  }

  /** Declarations by name first, so order does not matter for lookups; their definitions. */
  private indexDeclarations(): void {
    for (const d of this.parsed.decls) {
      if (d.kind === 'struct' && d.name) {
        // C keeps tags and typedef names apart (`typedef struct foo foo;`): only two tags clash.
        const prev = this.tagDecls.get(d.name);
        if (prev) this.err(d.nameRange, `"${d.name}" is already defined (line ${prev.range.start.line + 1})`);
        else this.tagDecls.set(d.name, d);
        this.definitions.push({ name: d.name, kind: d.segment ? 'segment' : d.union ? 'union' : 'struct', range: d.range, nameRange: d.nameRange });
      } else if (d.kind === 'enum') {
        if (d.name) {
          const prev = this.tagDecls.get(d.name);
          if (prev) this.err(d.nameRange, `"${d.name}" is already defined (line ${prev.range.start.line + 1})`);
          else this.tagDecls.set(d.name, d);
          this.definitions.push({ name: d.name, kind: 'enum', range: d.range, nameRange: d.nameRange });
        }
        for (const it of d.items) this.definitions.push({ name: it.name, kind: 'enumerator', range: it.range, nameRange: it.range, container: d.name });
      } else if (d.kind === 'typedef') {
        const prev = this.typedefDecls.get(d.name);
        if (prev) {
          // Repeating an identical typedef is fine in C11; keep the first.
        } else this.typedefDecls.set(d.name, d);
        this.definitions.push({ name: d.name, kind: 'typedef', range: d.range, nameRange: d.nameRange, ...(d.origin ? { origin: d.origin } : {}) });
      }
    }
    for (const def of this.parsed.defines.values()) this.definitions.push({ name: def.name, kind: 'define', range: def.range, nameRange: def.range });
  }

  /** Every declaration to a type, then the offset targets (which may be declared later). */
  private resolveAll(): void {
    for (const d of this.parsed.decls) {
      if (d.kind === 'struct') this.resolveStruct(d);
      else if (d.kind === 'enum') this.resolveEnum(d);
      else if (d.kind === 'typedef') this.resolveTypedef(d);
    }
    for (const { t, ref } of this.pendingOffsets) {
      const target = this.resolveRef(ref);
      if (target) t.target = target;
      t.name = `offset<${t.target.name}${t.base === 'self' ? ', self' : typeof t.base === 'object' ? `, ${exprText(t.base)}` : ''}${t.width.name !== 'uint64_t' ? `, ${t.width.name}` : ''}>`;
    }
  }

  private checkAsserts(): void {
    for (const d of this.parsed.decls) {
      if (d.kind !== 'static_assert') continue;
      const v = this.constInt(d.expr, 'static_assert');
      if (v === 0n) this.err(d.range, `static_assert failed${d.message ? `: ${d.message}` : ''}: ${describeAssert(d.expr, this.constEnv())}`);
    }
  }

  /** The Schema, its field definitions and its references resolved to definitions. */
  private emit(): Schema {
    const byName = new Map<string, Definition>();
    for (const def of this.definitions) if (!byName.has(def.name)) byName.set(def.name, def);
    for (const s of this.structs) {
      for (const f of s.fields) if (f.name) this.definitions.push({ name: f.name, kind: 'field', range: f.range, nameRange: f.nameRange, container: s.name });
    }
    const references = this.parsed.refs.map((r) => ({ name: r.name, range: r.range, target: byName.get(r.name) }));
    return {
      uri: this.uri, text: this.text, types: this.types, structs: this.structs, segments: this.segments, enums: this.enums, constants: this.constants, defines: this.parsed.defines, diagnostics: this.diagnostics, definitions: this.definitions, references, skipped: this.parsed.skipped, decls: this.parsed.decls,
      macros: this.parsed.macros, tokens: this.parsed.tokens, spans: this.parsed.spans, included: this.parsed.included, ...(this.parsed.values ? { values: this.parsed.values } : {}),
      ...(this.parsed.tokenLimit ? { tokenLimit: this.parsed.tokenLimit } : {}),
    };
  }
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
      return `offsetof(…, ${pathText(e.path)})`;
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
