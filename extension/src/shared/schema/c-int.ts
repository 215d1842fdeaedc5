// C's integer types in constant expressions, as gcc has them on LP64 Linux: a literal's type from
// its value, base and suffix (C11 §6.4.4.1), integer promotion, the usual arithmetic conversions
// (§6.3.1.8) and a value wrapped to its type. `#define NONE (~0U)` is 4294967295 and
// `-1 > 0u` holds, as in C. `#if` arithmetic is the special case where every type is intmax_t or
// uintmax_t (INTMAX below).

/** An integer type by width and signedness (int, long and __int128; narrower types promote to int). */
export interface CInt {
  readonly bits: 32 | 64 | 128;
  readonly u: boolean;
}

export const INT: CInt = { bits: 32, u: false };
export const UINT: CInt = { bits: 32, u: true };
export const LONG: CInt = { bits: 64, u: false };
export const ULONG: CInt = { bits: 64, u: true };
const INT128: CInt = { bits: 128, u: false };
const UINT128: CInt = { bits: 128, u: true };

const maxOf = (t: CInt): bigint => (t.u ? (1n << BigInt(t.bits)) - 1n : (1n << BigInt(t.bits - 1)) - 1n);

/**
 * The type of an integer literal from its spelling (`0xffffffff` is unsigned int, `4294967295` is
 * long, `1UL` unsigned long). A decimal too big for long is __int128 as gcc makes it.
 */
export function literalType(spelling: string, value: bigint): CInt {
  const suffix = /[uUlL]*$/.exec(spelling)![0];
  const u = /u/i.test(suffix);
  const l = /l/i.test(suffix);
  const decimal = !/^0./.test(spelling);
  const order = u ? (l ? [ULONG] : [UINT, ULONG]) : l ? (decimal ? [LONG] : [LONG, ULONG]) : decimal ? [INT, LONG] : [INT, UINT, LONG, ULONG];
  return order.find((t) => value <= maxOf(t)) ?? (decimal && !u ? INT128 : UINT128);
}

/** An integer type of `size` bytes after integer promotion (a char, short or bool is an int). */
export function promoted(size: number, signed: boolean): CInt {
  if (size < 4) return INT;
  if (size === 4) return signed ? INT : UINT;
  if (size === 8) return signed ? LONG : ULONG;
  return signed ? INT128 : UINT128;
}

/** The usual arithmetic conversions: the wider type, and of equal widths the unsigned one. */
export function common(a: CInt, b: CInt): CInt {
  if (a.bits !== b.bits) return a.bits > b.bits ? a : b;
  return a.u ? a : b;
}

/** `v` as a value of type `t` (two's complement wrap). */
export function wrapTo(t: CInt, v: bigint): bigint {
  return t.u ? BigInt.asUintN(t.bits, v) : BigInt.asIntN(t.bits, v);
}
