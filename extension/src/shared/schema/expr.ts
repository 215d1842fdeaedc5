// Evaluation of C expressions, at compile time (constants) and while decoding (over fields).
import type { Expr, TypeRef } from './ast';
import { common, INT, ULONG, wrapTo, type CInt } from './c-int';

/** A value seen by an expression: an integer, a float, a string, or a struct/array to index. */
export type Val = bigint | number | string | Rec;
export interface Rec {
  readonly rec: true;
  member(name: string): Val | undefined;
  index(i: number): Val | undefined;
  /** Byte size of the thing, for `sizeof expr`. */
  readonly byteSize: number;
}

export interface Env {
  name(name: string): Val | undefined;
  sizeof(t: TypeRef): number | undefined;
  alignof(t: TypeRef): number | undefined;
  /** Offset of a member path; a number is an element index of the array before it. */
  offsetof(t: TypeRef, path: (string | number)[]): number | undefined;
  /** Integer conversion of a cast (truncation to the type's width and signedness). */
  cast?(t: TypeRef, v: bigint): bigint | undefined;
  /** `sizeof` of an expression known from types alone (`((T *)0)->m`). */
  sizeofExpr?(e: Expr): number | undefined;
  /** The C type a cast to `t` gives an integer (after promotion); undefined when not an integer. */
  castType?(t: TypeRef): CInt | undefined;
}

/** An expression could not be evaluated; `range` says where and `message` why. */
export class EvalError extends Error {
  constructor(
    message: string,
    readonly range: Expr['range'],
    /** True when the failure is "depends on data" rather than a real error. */
    readonly notConstant = false,
  ) {
    super(message);
  }
}

const isRec = (v: Val): v is Rec => typeof v === 'object' && v !== null && (v).rec === true;

function toInt(v: Val, e: Expr): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new EvalError('not a finite number', e.range);
    return BigInt(Math.trunc(v));
  }
  throw new EvalError(typeof v === 'string' ? 'a string is not a number here' : 'a struct or array is not a number here', e.range);
}

const MAX_STEPS = 100_000;

/**
 * The C type of the integer the latest `evaluate` returned, when it is known: literals, sizeof,
 * casts and what operators make of them have C's types (`~0U` is 4294967295, `-1 > 0u` holds); a
 * field's value, a name or a float has none, and operators on it keep exact arithmetic. Set by
 * every case before it returns (no allocation per node on the decode path).
 */
let lastType: CInt | undefined;

/** `v` of type `t`, remembered as the latest type. */
const typed = (t: CInt | undefined, v: bigint): bigint => {
  lastType = t;
  return t ? wrapTo(t, v) : v;
};

/** Evaluates `e`; throws EvalError. Integer arithmetic is done in bigint, in C's types where known. */
export function evaluate(e: Expr, env: Env, budget = { steps: 0 }): Val {
  if (++budget.steps > MAX_STEPS) throw new EvalError('expression too expensive to evaluate', e.range);
  lastType = undefined;
  switch (e.k) {
    case 'num':
      lastType = e.ct;
      return e.v;
    case 'float':
      return e.v;
    case 'str':
      return e.s;
    case 'error':
      throw new EvalError('invalid expression', e.range);
    case 'name': {
      const v = env.name(e.name);
      if (v === undefined) throw new EvalError(`unknown name "${e.name}"`, e.range);
      lastType = undefined;
      return v;
    }
    case 'member': {
      const o = evaluate(e.obj, env, budget);
      if (!isRec(o)) throw new EvalError(`"${e.name}" is looked up in something that is not a struct`, e.range);
      const v = o.member(e.name);
      if (v === undefined) throw new EvalError(`no member "${e.name}"`, e.nameRange);
      lastType = undefined;
      return v;
    }
    case 'index': {
      const o = evaluate(e.obj, env, budget);
      const i = toInt(evaluate(e.index, env, budget), e.index);
      if (!isRec(o)) throw new EvalError('indexing something that is not an array', e.range);
      if (i < 0n || i > BigInt(Number.MAX_SAFE_INTEGER)) throw new EvalError(`index ${i} out of range`, e.index.range);
      const v = o.index(Number(i));
      if (v === undefined) throw new EvalError(`index ${i} out of range`, e.index.range);
      lastType = undefined;
      return v;
    }
    case 'unary': {
      const v = evaluate(e.e, env, budget);
      const t = lastType;
      if (typeof v === 'number' && (e.op === '-' || e.op === '+')) {
        lastType = undefined;
        return e.op === '-' ? -v : v;
      }
      const i = toInt(v, e.e);
      switch (e.op) {
        case '-':
          return typed(t, -i);
        case '+':
          return typed(t, i);
        case '!':
          return typed(INT, i === 0n ? 1n : 0n);
        case '~':
          return typed(t, ~i);
        case '*':
        case '&':
          throw new EvalError(`${e.op === '*' ? 'dereferencing' : 'taking an address'} is not a constant`, e.range);
      }
      throw new EvalError(`unknown operator ${e.op}`, e.range);
    }
    case 'binary':
      return evalBinary(e, env, budget);
    case 'cond':
      // The branch taken, in its own type (the other branch is not evaluated, so not converted to).
      return toInt(evaluate(e.c, env, budget), e.c) !== 0n ? evaluate(e.a, env, budget) : evaluate(e.b, env, budget);
    case 'sizeof': {
      if (e.type) {
        const s = env.sizeof(e.type);
        if (s === undefined) throw new EvalError('size not known', e.range);
        return typed(ULONG, BigInt(s));
      }
      if (e.e!.k === 'str') return typed(ULONG, BigInt(new TextEncoder().encode(e.e.s).length + 1));
      const st = env.sizeofExpr?.(e.e!);
      if (st !== undefined) return typed(ULONG, BigInt(st));
      const v = evaluate(e.e!, env, budget);
      if (isRec(v)) return typed(ULONG, BigInt(v.byteSize));
      throw new EvalError('sizeof of a value needs a field name', e.range);
    }
    case 'alignof': {
      const s = env.alignof(e.type);
      if (s === undefined) throw new EvalError('alignment not known', e.range);
      return typed(ULONG, BigInt(s));
    }
    case 'offsetof': {
      const steps = e.path.map((x) => {
        if (typeof x === 'string') return x;
        const i = toInt(evaluate(x, env, budget), x);
        if (i < 0n || i > 0xffff_ffffn) throw new EvalError(`index ${i} out of range`, x.range);
        return Number(i);
      });
      const s = env.offsetof(e.type, steps);
      if (s === undefined) throw new EvalError(`no member "${pathText(steps)}" with a fixed offset`, e.range);
      return typed(ULONG, BigInt(s));
    }
    case 'cast': {
      const v = evaluate(e.e, env, budget);
      if (typeof v === 'number') {
        lastType = undefined;
        return v;
      }
      const i = toInt(v, e.e);
      const r = env.cast?.(e.type, i) ?? i;
      const t = env.castType?.(e.type);
      return t ? typed(t, r) : ((lastType = undefined), r);
    }
  }
}

/** A binary operator: `&&`/`||` short-circuit, floating operands in double, integers in C's types. */
function evalBinary(e: Extract<Expr, { k: 'binary' }>, env: Env, budget: { steps: number }): Val {
  if (e.op === '&&' || e.op === '||') {
    const a = toInt(evaluate(e.a, env, budget), e.a) !== 0n;
    if (e.op === '&&' && !a) return typed(INT, 0n);
    if (e.op === '||' && a) return typed(INT, 1n);
    return typed(INT, toInt(evaluate(e.b, env, budget), e.b) !== 0n ? 1n : 0n);
  }
  const av = evaluate(e.a, env, budget);
  const ta = lastType;
  const bv = evaluate(e.b, env, budget);
  const tb = lastType;
  if (typeof av === 'number' || typeof bv === 'number') {
    lastType = undefined;
    const x = typeof av === 'number' ? av : Number(toInt(av, e.a));
    const y = typeof bv === 'number' ? bv : Number(toInt(bv, e.b));
    switch (e.op) {
      case '+': return x + y;
      case '-': return x - y;
      case '*': return x * y;
      case '/': return x / y;
    }
    const truth = compared(e.op, x, y);
    if (truth !== undefined) return typed(INT, truth);
    throw new EvalError(`operator ${e.op} needs integers`, e.range);
  }
  // Both of known C types: converted to their common type (a shift keeps its left operand's).
  const shift = e.op === '<<' || e.op === '>>';
  const t = ta && tb ? (shift ? ta : common(ta, tb)) : undefined;
  const a = t ? wrapTo(t, toInt(av, e.a)) : toInt(av, e.a);
  const b = t && !shift ? wrapTo(t, toInt(bv, e.b)) : toInt(bv, e.b);
  switch (e.op) {
    case '+': return typed(t, a + b);
    case '-': return typed(t, a - b);
    case '*': return typed(t, a * b);
    case '/':
      if (b === 0n) throw new EvalError('division by zero', e.range);
      return typed(t, a / b);
    case '%':
      if (b === 0n) throw new EvalError('division by zero', e.range);
      return typed(t, a % b);
    case '<<':
      if (b < 0n || b > 128n || (t && b >= BigInt(t.bits))) throw new EvalError(`shift by ${b} is out of range`, e.range);
      return typed(t, a << b);
    case '>>':
      if (b < 0n || b > 128n || (t && b >= BigInt(t.bits))) throw new EvalError(`shift by ${b} is out of range`, e.range);
      return typed(t, a >> b);
    case '&': return typed(t, a & b);
    case '|': return typed(t, a | b);
    case '^': return typed(t, a ^ b);
  }
  const truth = compared(e.op, a, b);
  if (truth !== undefined) return typed(INT, truth);
  throw new EvalError(`unknown operator ${e.op}`, e.range);
}

/** A comparison's value as C gives it (an `int` 1 or 0), of two numbers or two integers; undefined for another operator. */
function compared<T extends number | bigint>(op: string, a: T, b: T): bigint | undefined {
  switch (op) {
    case '<': return a < b ? 1n : 0n;
    case '>': return a > b ? 1n : 0n;
    case '<=': return a <= b ? 1n : 0n;
    case '>=': return a >= b ? 1n : 0n;
    case '==': return a === b ? 1n : 0n;
    case '!=': return a !== b ? 1n : 0n;
  }
  return undefined;
}

/** `a.b[2]` */
export function pathText(path: (string | number | Expr)[]): string {
  return path.map((x, i) => (typeof x === 'string' ? `${i ? '.' : ''}${x}` : `[${typeof x === 'number' ? x : '…'}]`)).join('');
}

/** `evaluate` as an integer. */
export function evalInt(e: Expr, env: Env, budget = { steps: 0 }): bigint {
  return toInt(evaluate(e, env, budget), e);
}

/** Names an expression reads (for completion and earlier-field checks). */
export function namesIn(e: Expr, out: { name: string; range: Expr['range'] }[] = []): { name: string; range: Expr['range'] }[] {
  switch (e.k) {
    case 'name':
      out.push({ name: e.name, range: e.range });
      break;
    case 'member':
      namesIn(e.obj, out);
      break;
    case 'index':
      namesIn(e.obj, out);
      namesIn(e.index, out);
      break;
    case 'unary':
    case 'cast':
      namesIn(e.e, out);
      break;
    case 'binary':
      namesIn(e.a, out);
      namesIn(e.b, out);
      break;
    case 'cond':
      namesIn(e.c, out);
      namesIn(e.a, out);
      namesIn(e.b, out);
      break;
    case 'sizeof':
      if (e.e) namesIn(e.e, out);
      break;
    default:
      break;
  }
  return out;
}
