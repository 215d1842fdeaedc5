// Resolved types and their layout (gcc, x86-64 LP64).
import type { Attr, EnumDecl, Expr, StructDecl } from './ast';
import type { Diagnostic, Range } from './lexer';
import type { PrimitiveKind } from './primitives';

export interface IntType {
  k: 'int';
  name: string;
  size: number;
  align: number;
  signed: boolean;
  /** `char` family: arrays of it are text. */
  char?: boolean;
  bool?: boolean;
}
export interface FloatType {
  k: 'float';
  name: string;
  size: number;
  align: number;
}
export interface VoidType {
  k: 'void';
  name: string;
  size: 0;
  align: 1;
  /** A function type (`typedef int read_fn(void *)`): only a pointer to it can be a member. */
  fn?: boolean;
}
export interface PointerType {
  k: 'pointer';
  name: string;
  size: 8;
  align: 8;
}
export interface EnumType {
  k: 'enum';
  name: string;
  size: number;
  align: number;
  base: IntType;
  /** value -> name (first one declared wins). */
  names: Map<bigint, string>;
  values: Map<string, bigint>;
  flags: boolean;
  decl?: EnumDecl;
}
export interface ArrayType {
  k: 'array';
  name: string;
  elem: Type;
  /** Element count when constant; undefined when it comes from data. */
  count?: number;
  countExpr?: Expr;
  size: number;
  align: number;
}
export interface OffsetType {
  k: 'offset';
  name: string;
  target: Type;
  base: 'segment' | 'self' | Expr;
  width: IntType;
  size: number;
  align: number;
}

/** A laid-out member. `offset` is -1 when it depends on data (computed while decoding). */
export interface Field {
  name: string;
  type: Type;
  offset: number;
  size: number;
  align: number;
  /** Bitfields: bit position within the storage unit read at `offset` with `size` bytes. */
  bitOffset?: number;
  bitWidth?: number;
  endian: 'le' | 'be';
  at?: Expr;
  cond?: Expr;
  attrs: Attr[];
  range: Range;
  nameRange: Range;
  paddingBefore: number;
  /** A nested anonymous struct/union: its members are looked up as the parent's. */
  anonymous: boolean;
}

export interface StructType {
  k: 'struct';
  name: string;
  union: boolean;
  fields: Field[];
  /** Static size; for data-dependent structs, the size of the fixed part. */
  size: number;
  align: number;
  /** True when some member's offset, count or presence comes from data. */
  dynamic: boolean;
  /** True while the definition is incomplete (self references are through offsets only). */
  incomplete?: boolean;
  /** Declared but never defined (`struct __dirstream`): usable only behind a pointer. */
  opaque?: boolean;
  /** Errors in its members: the layout stops at the first member that could not be laid out. */
  errors?: Diagnostic[];
  /** Why it (or a member's type) has no layout at all: an attribute the engine refuses. */
  refused?: string;
  decl?: StructDecl;
  segment?: { binding?: { kind: BindingKind; value: number | string; range: Range } };
  /** `[[magic(V)]]` on the type: the hex of the first bytes that bind an unnamed object to it. */
  magic?: string;
  tailPadding: number;
  /** A built-in glibc primitive (pthread_mutex_t, sem_t, …): decoded to its state (primitives.ts). */
  primitive?: PrimitiveKind;
}

export type Type = IntType | FloatType | VoidType | PointerType | EnumType | ArrayType | OffsetType | StructType;

const int = (name: string, size: number, signed: boolean, extra?: Partial<IntType>): IntType => ({ k: 'int', name, size, align: size, signed, ...extra });

/** Every builtin type name of DESIGN.md §4 with its x86-64 Linux size. */
export function builtinTypes(): Map<string, Type> {
  const m = new Map<string, Type>();
  const add = (t: Type, ...aliases: string[]) => {
    m.set(t.name, t);
    for (const a of aliases) m.set(a, t);
  };
  add(int('char', 1, true, { char: true }));
  add(int('signed char', 1, true, { char: true }));
  add(int('unsigned char', 1, false));
  add(int('bool', 1, false, { bool: true }), '_Bool');
  add(int('short', 2, true));
  add(int('unsigned short', 2, false));
  add(int('int', 4, true));
  add(int('unsigned int', 4, false));
  add(int('long', 8, true));
  add(int('unsigned long', 8, false));
  add(int('long long', 8, true));
  add(int('unsigned long long', 8, false));
  add({ k: 'float', name: 'float', size: 4, align: 4 });
  add({ k: 'float', name: 'double', size: 8, align: 8 });
  add({ k: 'float', name: 'long double', size: 16, align: 16 }, '_Float64x');
  add({ k: 'float', name: '_Float128', size: 16, align: 16 }, '__float128');
  add({ k: 'float', name: '_Float16', size: 2, align: 2 });
  // Decimal floating types: their layout, and their bits shown as the unsigned integers they are
  // (not decoded as binary floats, which they are not).
  const raw = (name: string, size: number) => {
    const word = int(size === 4 ? 'uint32_t' : 'uint64_t', Math.min(size, 8), false);
    m.set(name, { k: 'array', name, elem: word, count: size / word.size, size, align: size });
  };
  raw('_Decimal32', 4);
  raw('_Decimal64', 8);
  raw('_Decimal128', 16);
  m.set('_Float32', m.get('float')!);
  m.set('_Float64', m.get('double')!);
  m.set('_Float32x', m.get('double')!);
  add(int('__int128', 16, true), '__int128_t');
  add(int('unsigned __int128', 16, false), '__uint128_t');
  // _Complex: the real and imaginary parts, as an array of two.
  for (const f of ['float', 'double', 'long double']) {
    const part = m.get(f) as FloatType;
    m.set(`${f} _Complex`, { k: 'array', name: `${f} _Complex`, elem: part, count: 2, size: part.size * 2, align: part.align });
  }
  // va_list on x86-64: struct { unsigned gp_offset, fp_offset; void *overflow_arg_area, *reg_save_area; }[1].
  const u64 = int('unsigned long', 8, false);
  m.set('__builtin_va_list', { k: 'array', name: '__builtin_va_list', elem: u64, count: 3, size: 24, align: 8 });
  add({ k: 'void', name: 'void', size: 0, align: 1 });
  for (const bits of [8, 16, 32, 64]) {
    add(int(`int${bits}_t`, bits / 8, true), `__int${bits}_t`, `int_least${bits}_t`, `s${bits}`, `__s${bits}`);
    add(int(`uint${bits}_t`, bits / 8, false), `__uint${bits}_t`, `uint_least${bits}_t`, `u${bits}`, `__u${bits}`, `u_int${bits}_t`);
    add(int(`int_fast${bits}_t`, bits === 8 ? 1 : 8, true));
    add(int(`uint_fast${bits}_t`, bits === 8 ? 1 : 8, false));
  }
  add(int('__le16', 2, false));
  add(int('__le32', 4, false));
  add(int('__le64', 8, false));
  for (const n of ['size_t', 'uintptr_t', 'uintmax_t', 'dev_t', 'ino_t', 'nlink_t', 'rlim_t', 'fsblkcnt_t', 'fsfilcnt_t', 'ino64_t', 'off64_t_u', '__kernel_size_t']) add(int(n, 8, false));
  for (const n of ['ssize_t', 'ptrdiff_t', 'intptr_t', 'intmax_t', 'off_t', 'off64_t', 'time_t', 'clock_t', 'suseconds_t', 'blkcnt_t', 'blksize_t', 'loff_t', 'key_t_64', '__kernel_long_t', 'register_t']) add(int(n, 8, true));
  for (const n of ['pid_t', 'key_t', 'id_t', 'clockid_t', 'wchar_t', 'int32', '__pid_t']) add(int(n, 4, true));
  for (const n of ['uid_t', 'gid_t', 'mode_t', 'useconds_t', 'socklen_t', 'in_addr_t', '__uid_t', '__gid_t', 'char32_t']) add(int(n, 4, false));
  add(int('in_port_t', 2, false));
  add(int('char16_t', 2, false));
  add(int('char8_t', 1, false, { char: true }));
  add(int('max_align_t_', 16, true));
  m.delete('off64_t_u');
  m.delete('key_t_64');
  m.delete('max_align_t_');
  m.delete('int32');
  return m;
}

export const alignUp = (v: number, a: number): number => (a <= 1 ? v : Math.ceil(v / a) * a);

export function typeName(t: Type): string {
  return t.name;
}

/**
 * How `segment … for` names an object: a System V `key` or `id`, a `posix` name, a `memfd` name,
 * a mapped `file`'s path, `anon of "COMMAND"` (a shared anonymous region of that program), or
 * `magic 0x…`/`magic "TEXT"` (an object whose first bytes are these; the value is their hex).
 */
export type BindingKind = 'key' | 'id' | 'posix' | 'memfd' | 'file' | 'anon' | 'magic';
