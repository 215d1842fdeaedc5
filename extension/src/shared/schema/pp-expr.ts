// Integer constant expressions of `#if` (C11 §6.10.1): after macro expansion, every identifier
// left is 0, arithmetic is in intmax_t or uintmax_t (64 bits), and `&&`, `||` and `?:` evaluate
// only what they need (so `#if 0 && 1/0` is fine). With `cTypes`, the same expression in C's own
// types, for a #define's value (`#define NONE (~0U)` is 4294967295, not 2^64 - 1).
import { common, INT, LONG, literalType, ULONG, wrapTo, type CInt } from './c-int';
import type { Token } from './lexer';

interface V {
  v: bigint;
  t: CInt;
}

const norm = (x: V): V => ({ v: wrapTo(x.t, x.v), t: x.t });

/** Why a line is not a constant expression (thrown inside, returned as `{ error }`). */
class Fail extends Error {}
const PREC: Readonly<Record<string, number>> = { '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10 };

/** The value of a `#if` line, or why it is not a constant expression. */
export function evalDirective(toks: Token[], _defined: (name: string) => boolean, cTypes = false): { value: bigint } | { error: string } {
  /** The type of a comparison, a logical operator, a character or a name left over. */
  const I = cTypes ? INT : LONG;
  let p = 0;
  let skip = 0; // > 0 inside an operand that is not evaluated
  const fail = (m: string): never => {
    throw new Fail(m);
  };
  const peek = () => toks[p];
  const at = (s: string) => toks[p]?.kind === 'punct' && toks[p]!.text === s;
  const expect = (s: string) => {
    if (!at(s)) fail(`expected "${s}"${toks[p] ? ` before "${toks[p]!.text}"` : ' at the end of the line'}`);
    p++;
  };

  const primary = (): V => {
    const t = peek();
    if (!t) return fail('expression expected');
    p++;
    if (t.kind === 'number') {
      if (t.float !== undefined) fail(`floating constant "${t.text}" in #if`);
      if (t.bad) fail(t.bad);
      const v = t.value ?? 0n;
      if (cTypes) return norm({ v, t: literalType(t.text, v) });
      return norm({ v, t: t.unsigned || v > 0x7fff_ffff_ffff_ffffn ? ULONG : LONG });
    }
    if (t.kind === 'char') return { v: t.value ?? 0n, t: I };
    if (t.kind === 'ident') {
      // A function-like call of an unknown name (`__has_feature(x)`): gcc refuses it too.
      if (at('(')) fail(`"${t.text}" is not a macro that takes arguments here`);
      return { v: 0n, t: I };
    }
    if (t.kind === 'punct') {
      if (t.text === '(') {
        const v = cond();
        expect(')');
        return v;
      }
      if (t.text === '-' || t.text === '+' || t.text === '~' || t.text === '!') {
        const x = primary();
        if (t.text === '-') return norm({ v: -x.v, t: x.t });
        if (t.text === '+') return x;
        if (t.text === '~') return norm({ v: ~x.v, t: x.t });
        return { v: x.v === 0n ? 1n : 0n, t: I };
      }
    }
    if (t.kind === 'string') return fail('a string is not allowed in #if');
    return fail(`"${t.text}" is not allowed in #if`);
  };

  const binary = (min: number): V => {
    let a = primary();
    for (;;) {
      const t = peek();
      const prec = t && t.kind === 'punct' ? PREC[t.text] : undefined;
      if (prec === undefined || prec < min) return a;
      p++;
      const op = t!.text;
      if (op === '&&' || op === '||') {
        const short = op === '&&' ? a.v === 0n : a.v !== 0n;
        if (short) skip++;
        const b = binary(prec + 1);
        if (short) skip--;
        a = { v: (op === '&&' ? a.v !== 0n && b.v !== 0n : a.v !== 0n || b.v !== 0n) ? 1n : 0n, t: I };
        continue;
      }
      const b = binary(prec + 1);
      // A shift has its left operand's type; the other operators convert both to a common one.
      const shift = op === '<<' || op === '>>';
      const ty = shift ? a.t : common(a.t, b.t);
      const x = wrapTo(ty, a.v);
      const y = shift ? b.v : wrapTo(ty, b.v);
      const width = BigInt(ty.bits);
      let r: bigint;
      switch (op) {
        case '*': r = x * y; break;
        case '/':
        case '%':
          if (y === 0n) {
            if (skip) {
              r = 0n;
              break;
            }
            return fail('division by zero');
          }
          r = op === '/' ? x / y : x % y;
          break;
        case '+': r = x + y; break;
        case '-': r = x - y; break;
        case '<<': r = y < 0n || y >= width ? 0n : x << y; break;
        case '>>': r = y < 0n || y >= width ? (x < 0n ? -1n : 0n) : x >> y; break;
        case '<': a = { v: x < y ? 1n : 0n, t: I }; continue;
        case '>': a = { v: x > y ? 1n : 0n, t: I }; continue;
        case '<=': a = { v: x <= y ? 1n : 0n, t: I }; continue;
        case '>=': a = { v: x >= y ? 1n : 0n, t: I }; continue;
        case '==': a = { v: x === y ? 1n : 0n, t: I }; continue;
        case '!=': a = { v: x !== y ? 1n : 0n, t: I }; continue;
        case '&': r = x & y; break;
        case '|': r = x | y; break;
        case '^': r = x ^ y; break;
        default: return fail(`unknown operator ${op}`);
      }
      a = norm({ v: r, t: ty });
    }
  };

  const cond = (): V => {
    const c = binary(1);
    if (!at('?')) return c;
    p++;
    if (c.v === 0n) skip++;
    const a = cond();
    if (c.v === 0n) skip--;
    expect(':');
    if (c.v !== 0n) skip++;
    const b = cond();
    if (c.v !== 0n) skip--;
    return norm({ v: c.v !== 0n ? a.v : b.v, t: common(a.t, b.t) });
  };

  // A plain `#if 1` or `#if 0`, the commonest line by far: no parser needed.
  if (toks.length === 1 && toks[0]!.kind === 'number' && toks[0]!.float === undefined && !toks[0]!.bad) return { value: toks[0]!.value ?? 0n };
  try {
    if (toks.length === 0) return { error: 'no expression' };
    const r = cond();
    if (p < toks.length) fail(`unexpected "${toks[p]!.text}"`);
    return { value: r.v };
  } catch (e) {
    if (e instanceof Fail) return { error: e.message };
    if (e instanceof RangeError) return { error: 'expression too deep' };
    throw e;
  }
}
