// Syntax tree of a `.shms` schema (C declarations plus the shmscope extensions).
import type { CInt } from './c-int';
import type { Range } from './lexer';

export type Expr =
  /** An integer; `ct`, its C type, for a literal of the text (`0xffffffff` is unsigned int). */
  | { k: 'num'; v: bigint; range: Range; ct?: CInt }
  | { k: 'float'; v: number; range: Range }
  | { k: 'str'; s: string; range: Range }
  | { k: 'name'; name: string; range: Range }
  | { k: 'member'; obj: Expr; name: string; range: Range; nameRange: Range }
  | { k: 'index'; obj: Expr; index: Expr; range: Range }
  | { k: 'unary'; op: string; e: Expr; range: Range }
  | { k: 'binary'; op: string; a: Expr; b: Expr; range: Range }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr; range: Range }
  | { k: 'sizeof'; type?: TypeRef; e?: Expr; range: Range }
  | { k: 'alignof'; type: TypeRef; range: Range }
  /** `offsetof(T, a.b[2])`: member names, and an expression for each subscript. */
  | { k: 'offsetof'; type: TypeRef; path: (string | Expr)[]; range: Range }
  | { k: 'cast'; type: TypeRef; e: Expr; range: Range }
  | { k: 'error'; range: Range };

export type TypeSpec =
  | { k: 'named'; name: string; range: Range }
  | { k: 'struct'; union: boolean; tag?: string; tagRange?: Range; body?: StructDecl; range: Range }
  | { k: 'enum'; tag?: string; tagRange?: Range; body?: EnumDecl; range: Range }
  | { k: 'offset'; target: TypeRef; base: 'segment' | 'self' | Expr; width?: TypeRef; range: Range }
  /** `_Atomic(T)` and `__typeof__(T)`: a whole type name in specifier position. */
  | { k: 'ref'; ref: TypeRef; atomic?: boolean; range: Range };

/** One step of a C declarator, from the specifier outward: `int (*f[4])(void)` is fn, ptr, array. */
export type Derived = { k: 'ptr' } | { k: 'array'; dim: Expr } | { k: 'fn' };

/**
 * A type as written: specifier, pointer stars, array dimensions (`int *a[3]`: pointers 1, dims [3]).
 * Declarators of any other shape (function pointers, pointers to arrays) are in `derived`, and then
 * `pointers` is 0 and `dims` empty.
 */
export interface TypeRef {
  spec: TypeSpec;
  pointers: number;
  dims: Expr[];
  derived?: Derived[];
  /** `__attribute__((mode(QI|HI|SI|DI|TI|word|pointer)))`: the integer of that size. */
  mode?: string;
  /** `__attribute__((vector_size(N)))`: a vector of N bytes of the scalar type (an array aligned to N). */
  vector?: Expr;
  range: Range;
}

export interface AttrArg {
  name?: string;
  expr: Expr;
  range: Range;
}
export interface Attr {
  name: string;
  args: AttrArg[];
  range: Range;
}

export interface MemberDecl {
  name?: string;
  nameRange: Range;
  type: TypeRef;
  bits?: Expr;
  endian?: 'le' | 'be';
  at?: Expr;
  attrs: Attr[];
  alignas?: Expr;
  packed: boolean;
  range: Range;
}

export interface StructDecl {
  kind: 'struct';
  union: boolean;
  name?: string;
  nameRange: Range;
  members: MemberDecl[];
  packed: boolean;
  /** `#pragma pack` value in effect (0 = none). */
  pack: number;
  alignas?: Expr;
  attrs: Attr[];
  range: Range;
  segment?: { binding?: { kind: 'key' | 'id' | 'posix' | 'memfd' | 'file' | 'anon' | 'magic'; value: Expr | string; range: Range } };
  /** Its body was not read (nested too deeply, or refused): the type has no layout. */
  broken?: string;
  /** A layout gcc makes and the engine does not (`ms_struct`, `scalar_storage_order`): refused. */
  refused?: boolean;
  /** `file:line` when it comes from an included file (not shown in the including file's outline). */
  origin?: string;
}

export interface EnumItem {
  name: string;
  value?: Expr;
  range: Range;
}
export interface EnumDecl {
  kind: 'enum';
  name?: string;
  nameRange: Range;
  underlying?: TypeRef;
  items: EnumItem[];
  flags: boolean;
  packed: boolean;
  range: Range;
  origin?: string;
}

export interface TypedefDecl {
  kind: 'typedef';
  name: string;
  nameRange: Range;
  type: TypeRef;
  packed: boolean;
  alignas?: Expr;
  range: Range;
  origin?: string;
}
export interface StaticAssertDecl {
  kind: 'static_assert';
  expr: Expr;
  message?: string;
  range: Range;
}

export type Decl = StructDecl | EnumDecl | TypedefDecl | StaticAssertDecl;

/** A reference to a type or field name, for go to definition. */
export interface NameRef {
  name: string;
  range: Range;
  kind: 'type' | 'tag' | 'value';
}
