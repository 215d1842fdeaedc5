// JSON of decoded data (DESIGN.md §5), with generated decoders for fixed-layout types: a struct
// without checks, offsets or data-driven parts becomes one specialised function (object literal
// in field order, DataView reads at constant offsets), built once per type and reused. An array's
// elements may carry [[expect]]s of constant values: those are checked in a loop beside it.
import type { Expr } from './ast';
import { diagnostic, type Diagnostic } from './diagnostics';
import type { Range } from './lexer';
import { enumName, expectShow, intJson, NodeImpl, textOf, type CheckResult, type DecodedNode, type JsonValue, type StructInstance } from './decode';
import { evaluate, type Val } from './expr';
import type { Type } from './types';

export type FastDecoder = (u8: Uint8Array, dv: DataView, o: number) => JsonValue;

const generated = new WeakMap<Type, FastDecoder | null>();
const generatedWithExpects = new WeakMap<Type, FastDecoder | null>();

const TWO32 = 4294967296;
const helpers = {
  u64(dv: DataView, o: number, le: boolean): number | string {
    const v = dv.getUint32(le ? o + 4 : o, le) * TWO32 + dv.getUint32(le ? o : o + 4, le);
    return v <= Number.MAX_SAFE_INTEGER ? v : dv.getBigUint64(o, le).toString();
  },
  i64(dv: DataView, o: number, le: boolean): number | string {
    const v = dv.getInt32(le ? o + 4 : o, le) * TWO32 + dv.getUint32(le ? o : o + 4, le);
    return Number.isSafeInteger(v) ? v : dv.getBigInt64(o, le).toString();
  },
  ptr(dv: DataView, o: number, le: boolean): string {
    return `0x${dv.getBigUint64(o, le).toString(16)}`;
  },
  fin(v: number): number | string {
    return Number.isFinite(v) ? v : String(v);
  },
  text: textOf,
};

/**
 * Is `t` decodable by a generated function (fixed layout, nothing to check or follow)? With
 * `expects`, `[[expect]]` on integer and enum members is allowed too: the values are still
 * generated, and the checks come from expectPlan's loop.
 */
function simple(t: Type, depth = 0, expects = false): boolean {
  if (depth > 32) return false;
  switch (t.k) {
    case 'int':
      return t.size <= 8;
    case 'float':
      return t.size === 4 || t.size === 8;
    case 'pointer':
      return true;
    case 'enum':
      return t.base.size <= 4;
    case 'array':
      return t.count !== undefined && !t.countExpr && simple(t.elem, depth + 1, expects);
    case 'struct':
      return (
        !t.dynamic && !t.primitive &&
        t.fields.every((f) => f.offset >= 0 && !f.cond && f.attrs.every((a) => a.name === 'format' || (expects && a.name === 'expect' && (f.type.k === 'int' || f.type.k === 'enum'))) && f.bitWidth === undefined && simple(f.type, depth + 1, expects))
      );
    default:
      return false;
  }
}

/** The generated decoder of `t`, or undefined when it needs the general path. */
export function fastDecoder(t: Type): FastDecoder | undefined {
  return generate(t, false);
}

/**
 * The generated decoder of `t`'s values when its members may carry `[[expect]]` (the checks are
 * not its part: see expectPlan), or undefined when it needs the general path.
 */
function valueDecoder(t: Type): FastDecoder | undefined {
  return generate(t, true);
}

function generate(t: Type, expects: boolean): FastDecoder | undefined {
  const cache = expects ? generatedWithExpects : generated;
  if (cache.has(t)) return cache.get(t) ?? undefined;
  // Without any [[expect]] the two decoders are the same function.
  if (expects && simple(t)) {
    const same = generate(t, false);
    cache.set(t, same ?? null);
    return same;
  }
  let fn: FastDecoder | null = null;
  if (simple(t, 0, expects)) {
    try {
      const consts: unknown[] = [];
      const body = `return ${expr(t, '0', 'le', consts, 0)};`;
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the specialised decoder is generated from the layout (numbers and helper calls only, names go through C[])
      const make = new Function('H', 'C', `"use strict"; return function decode(u8, dv, o) { ${body} };`) as (h: typeof helpers, c: unknown[]) => FastDecoder;
      fn = make(helpers, consts);
    } catch {
      fn = null;
    }
  }
  cache.set(t, fn);
  return fn ?? undefined;
}

/** JS source computing the JSON of `t` at byte `o + off`. */
function expr(t: Type, off: string, endian: string, consts: unknown[], depth: number): string {
  const at = off === '0' ? 'o' : `o + ${off}`;
  const le = endian === 'le' ? 'true' : 'false';
  switch (t.k) {
    case 'int':
      if (t.bool) return `(u8[${at}] !== 0)`;
      if (t.size === 1) return t.signed ? `((u8[${at}] << 24) >> 24)` : `u8[${at}]`;
      if (t.size === 2) return `dv.${t.signed ? 'getInt16' : 'getUint16'}(${at}, ${le})`;
      if (t.size === 4) return `dv.${t.signed ? 'getInt32' : 'getUint32'}(${at}, ${le})`;
      return `H.${t.signed ? 'i64' : 'u64'}(dv, ${at}, ${le})`;
    case 'float':
      return `H.fin(dv.${t.size === 4 ? 'getFloat32' : 'getFloat64'}(${at}, ${le}))`;
    case 'pointer':
      return `H.ptr(dv, ${at}, ${le})`;
    case 'enum': {
      const names = new Map<number, string>();
      for (const [v, n] of t.names) names.set(Number(v), n);
      const raw = expr(t.base, off, endian, consts, depth);
      consts.push({ names, flag: (v: number) => enumName(t, BigInt(v)) ?? v });
      const i = consts.length - 1;
      if (t.flags) return `((v) => C[${i}].names.get(v) ?? C[${i}].flag(v))(${raw})`;
      return `((v) => C[${i}].names.get(v) ?? v)(${raw})`;
    }
    case 'array': {
      const n = t.count ?? 0;
      const e = t.elem;
      if (e.k === 'int' && e.char) return `H.text(u8, ${at}, ${n})`;
      consts.push(null);
      const i = consts.length - 1;
      const inner = expr(e, `k${depth} * ${e.size}`, endian, consts, depth + 1);
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- as above: generated from the layout
      const fn = new Function('H', 'C', `"use strict"; return function (u8, dv, o) { const a = new Array(${n}); for (let k${depth} = 0; k${depth} < ${n}; k${depth}++) a[k${depth}] = ${inner}; return a; };`);
      consts[i] = (fn as (h: typeof helpers, c: unknown[]) => unknown)(helpers, consts);
      return `C[${i}](u8, dv, ${at})`;
    }
    case 'struct': {
      const parts: string[] = [];
      for (const f of t.fields) {
        const fo = off === '0' ? String(f.offset) : `${off} + ${f.offset}`;
        const v = expr(f.type, fo, f.endian, consts, depth + 1);
        if (f.anonymous && f.type.k === 'struct') {
          parts.push(`...${v}`);
        } else parts.push(`${JSON.stringify(f.name)}: ${v}`);
      }
      return `{ ${parts.join(', ')} }`;
    }
    default:
      return 'null';
  }
}

export interface JsonOptions {
  /** Most elements written per array (longer arrays are cut, reported in `cut`). Default 1 000 000. */
  maxArrayElements?: number;
  /**
   * False: every value goes through the decode nodes, none through a generated decoder (the
   * reference the generated decoders are tested against). Default true.
   */
  generated?: boolean;
}

/** An array that `toJson` wrote only in part (JsonOptions.maxArrayElements). */
export interface CutArray {
  path: string;
  total: number;
  written: number;
}

/** What `toJson` collected while walking: every check and diagnostic seen, and the arrays it cut. */
export interface JsonReport {
  checks: CheckResult[];
  diagnostics: Diagnostic[];
  cut?: CutArray[];
}

/** Default of JsonOptions.maxArrayElements. */
export const MAX_ARRAY_ELEMENTS = 1_000_000;

function cutArray(n: DecodedNode, max: number, report: JsonReport): void {
  report.diagnostics.push(diagnostic(n.range, 'warning', `${n.path}: ${n.childCount} elements, only the first ${max} written`));
  (report.cut ??= []).push({ path: n.path, total: n.childCount, written: max });
}

/** The JSON of a node and everything under it (DESIGN.md §5), collecting checks and diagnostics. */
export function toJson(node: DecodedNode, report: JsonReport = { checks: [], diagnostics: [] }, opts: JsonOptions = {}): JsonValue {
  const max = opts.maxArrayElements ?? MAX_ARRAY_ELEMENTS;
  const walk = (n: DecodedNode): JsonValue => {
    report.checks.push(...n.checks);
    report.diagnostics.push(...n.diagnostics);
    // A glibc primitive is its state ({"primitive": "mutex", "locked": true, "owner": 4242, …}).
    if (n.lock && n.lock.primitive !== 'futex') return { ...n.lock };
    if (n instanceof NodeImpl) {
      const t = n.placement.type;
      // The node's own checks ([[ring]] on an array, [[checksum]] over it) and diagnostics are
      // already taken above: only its members come from the generated decoder, and those have
      // none but the absolute-pointer flags, which flagPointers adds as the nodes would, and an
      // array's elements' [[expect]]s, which runExpects makes as the nodes would.
      if (opts.generated !== false && (n.kind === 'array' || n.kind === 'struct' || n.kind === 'union')) {
        const fast = fastArrayOrStruct(n, t, max, report);
        if (fast !== undefined) return fast;
      }
    }
    switch (n.kind) {
      case 'struct':
      case 'union': {
        const o: Record<string, JsonValue> = {};
        for (let i = 0; i < n.childCount; i += 1000) {
          for (const c of n.children(i, 1000)) {
            const v = walk(c);
            if (c.name.startsWith('(anonymous') && v && typeof v === 'object' && !Array.isArray(v)) Object.assign(o, v);
            else o[c.name] = v;
          }
        }
        return o;
      }
      case 'array': {
        const a: JsonValue[] = [];
        const total = Math.min(n.childCount, max);
        for (let i = 0; i < total; i += 1000) {
          const kids = n.children(i, Math.min(1000, total - i));
          if (kids.length === 0) break;
          for (const c of kids) a.push(walk(c));
        }
        if (n.childCount > max) cutArray(n, max, report);
        return a;
      }
      case 'offset': {
        const kid = n.childCount ? n.children(0, 1)[0] : undefined;
        return { offset: typeof n.value === 'bigint' ? intJson(n.value) : null, value: kid ? walk(kid) : null };
      }
      case 'error':
        return null;
      default:
        return n instanceof NodeImpl ? n.jsonScalar() : typeof n.value === 'bigint' ? intJson(n.value) : (n.value ?? null);
    }
  };
  return walk(node);
}

function fastArrayOrStruct(n: InstanceType<typeof NodeImpl>, t: Type, max: number, report: JsonReport): JsonValue | undefined {
  if (t.k === 'array') {
    const fn = valueDecoder(t.elem);
    if (!fn || t.elem.size === 0) return undefined;
    // The elements' [[expect]]s, each with its expected value known before the loop (else the nodes do it).
    const plan = expectPlan(n, t.elem);
    if (!plan) return undefined;
    const count = Math.min(n.childCount, max);
    const out = new Array<JsonValue>(count);
    const stride = t.elem.size;
    const per = Math.max(1, Math.floor((16 << 20) / stride));
    // Checks are kept aside until the whole array is read: a short read falls back to the nodes, which make them again.
    const checks: CheckResult[] = [];
    for (let i = 0; i < count; i += per) {
      const k = Math.min(per, count - i);
      const bytes = n.owner.bytes(n.offset + i * stride, k * stride);
      if (bytes.length < k * stride) return undefined;
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let j = 0; j < k; j++) out[i + j] = fn(bytes, dv, j * stride);
      if (plan.length) runExpects(plan, bytes, dv, stride, i, k, n.path, checks);
      if (n.owner.ctx.pointers) flagPointers(n.owner.ctx.pointers, t.elem, { range: n.range, le: n.placement.field.endian === 'le' }, dv, stride, i, k, (j) => `${n.path}[${j}]`, report);
    }
    for (const c of checks) report.checks.push(c);
    // A fixed-layout array is read straight from its bytes, once: it counts as one value of the
    // decode's budget (which bounds the nodes a hostile layout can make), not one per element.
    if (!n.owner.ctx.spend(1, report.diagnostics, n.range)) return undefined;
    if (n.childCount > max) cutArray(n, max, report);
    return out;
  }
  if (t.k === 'struct') {
    const fn = fastDecoder(t);
    if (!fn || longestArray(t) > max) return undefined;
    if (!n.owner.ctx.spend(1, report.diagnostics, n.range)) return undefined;
    const bytes = n.owner.bytes(n.offset, t.size);
    if (bytes.length < t.size) return undefined;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = fn(bytes, dv, 0);
    if (n.owner.ctx.pointers) flagPointers(n.owner.ctx.pointers, t, { range: n.range, le: n.placement.field.endian === 'le' }, dv, t.size, 0, 1, () => n.path, report);
    return v;
  }
  return undefined;
}

/** One `[[expect]]` on a member of a fixed-layout array element, ready for a loop over the elements. */
interface ElementExpect {
  /** Byte offset of the member in the element. */
  at: number;
  size: number;
  le: boolean;
  signed: boolean;
  /** The member's path after `array[i]` (`.magic`, `.hdr.magic`, `.ids[2]`). */
  path: string;
  range: Range;
  /** The wanted value as the member's bits: a number up to 4 bytes, a bigint for 8. */
  bits: number | bigint;
  expected: JsonValue;
  show: (v: Val) => JsonValue;
  /** The last actual value shown and its bits (elements mostly repeat one value). */
  lastBits: number | bigint | undefined;
  lastShown: JsonValue;
}

/** Most `[[expect]]`s one element may carry for the loop (more: the nodes check them). */
const MAX_ELEMENT_EXPECTS = 4096;

/**
 * The `[[expect]]`s of `elem` in the order the nodes check them (members depth first, attributes
 * in order), each with its wanted value evaluated once. Undefined when one depends on data or on
 * a name a member could shadow (the nodes then evaluate it per element, as always).
 */
function expectPlan(n: InstanceType<typeof NodeImpl>, elem: Type): ElementExpect[] | undefined {
  const out: ElementExpect[] = [];
  if (!hasExpect(elem, 0)) return out;
  // Expressions see the members of every enclosing struct before the schema's constants.
  const shadow = new Set<string>();
  memberNames(elem, shadow, 0);
  for (let i: StructInstance | undefined = n.owner; i; i = i.parent) memberNames(i.type, shadow, 0);
  const constants = n.owner.ctx.schema.constants;
  const env = { name: (x: string) => constants.get(x)?.value, sizeof: () => undefined, alignof: () => undefined, offsetof: () => undefined };
  const collect = (t: Type, at: number, path: string, depth: number): boolean => {
    if (depth > 32 || out.length > MAX_ELEMENT_EXPECTS) return false;
    if (t.k === 'struct') {
      for (const f of t.fields) {
        const p = f.name === '' ? path : `${path}.${f.name}`;
        for (const a of f.attrs) {
          if (a.name !== 'expect') continue;
          const e = a.args[0]?.expr;
          if (!e) continue;
          if ((f.type.k !== 'int' && f.type.k !== 'enum') || ![1, 2, 4, 8].includes(f.size)) return false;
          if (!constantExpr(e, shadow, constants, 0)) return false;
          let want: Val;
          try {
            want = evaluate(e, env);
          } catch {
            return false;
          }
          if (typeof want !== 'bigint') return false;
          const it = f.type.k === 'enum' ? f.type.base : f.type;
          const width = BigInt(f.size * 8);
          const bits = BigInt.asUintN(Number(width), want);
          const show = expectShow(f.type, f.size, f.attrs, want);
          // Every property set here, in one order: one shape for the loop.
          out.push({ at: at + f.offset, size: f.size, le: f.endian === 'le', signed: it.signed, path: p, range: a.range, bits: f.size <= 4 ? Number(bits) : bits, expected: show(want), show, lastBits: undefined, lastShown: null });
        }
        if (!collect(f.type, at + f.offset, p, depth + 1)) return false;
      }
    } else if (t.k === 'array' && hasExpect(t.elem, depth + 1)) {
      for (let k = 0; k < (t.count ?? 0); k++) if (!collect(t.elem, at + k * t.elem.size, `${path}[${k}]`, depth + 1)) return false;
    }
    return true;
  };
  return collect(elem, 0, '', 0) ? out : undefined;
}

function hasExpect(t: Type, depth: number): boolean {
  if (depth > 32) return true;
  if (t.k === 'array') return hasExpect(t.elem, depth + 1);
  return t.k === 'struct' && t.fields.some((f) => f.attrs.some((a) => a.name === 'expect') || hasExpect(f.type, depth + 1));
}

/** Every member name in `t`, at all depths (more than expressions can see: safe for shadowing). */
function memberNames(t: Type, out: Set<string>, depth: number): void {
  if (depth > 32) return;
  if (t.k === 'array') memberNames(t.elem, out, depth + 1);
  else if (t.k === 'struct') {
    for (const f of t.fields) {
      if (f.name) out.add(f.name);
      memberNames(f.type, out, depth + 1);
    }
  }
}

/** Is `e` made of literals, operators and constants no member name shadows? */
function constantExpr(e: Expr, shadow: Set<string>, constants: Map<string, unknown>, depth: number): boolean {
  if (depth > 64) return false;
  switch (e.k) {
    case 'num':
      return true;
    case 'name':
      return !shadow.has(e.name) && constants.has(e.name);
    case 'unary':
      return constantExpr(e.e, shadow, constants, depth + 1);
    case 'binary':
      return constantExpr(e.a, shadow, constants, depth + 1) && constantExpr(e.b, shadow, constants, depth + 1);
    case 'cond':
      return constantExpr(e.c, shadow, constants, depth + 1) && constantExpr(e.a, shadow, constants, depth + 1) && constantExpr(e.b, shadow, constants, depth + 1);
    default:
      return false;
  }
}

/**
 * The checks of elements `first .. first+count` (`stride` bytes apart in `dv`), as the nodes make
 * them: same path, values, order. A passing check costs a comparison and one small object.
 */
function runExpects(plan: ElementExpect[], u8: Uint8Array, dv: DataView, stride: number, first: number, count: number, arrayPath: string, out: CheckResult[]): void {
  for (let j = 0; j < count; j++) {
    const o = j * stride;
    let base: string | undefined;
    for (const x of plan) {
      const at = o + x.at;
      const bits: number | bigint = x.size === 1 ? u8[at]! : x.size === 2 ? dv.getUint16(at, x.le) : x.size === 4 ? dv.getUint32(at, x.le) : dv.getBigUint64(at, x.le);
      let actual: JsonValue;
      if (bits === x.lastBits) actual = x.lastShown;
      else {
        const raw = BigInt(bits);
        actual = x.show(x.signed ? BigInt.asIntN(x.size * 8, raw) : raw);
        x.lastBits = bits;
        x.lastShown = actual;
      }
      base ??= `${arrayPath}[${first + j}]`;
      out.push({ path: base + x.path, kind: 'expect', range: x.range, ok: bits === x.bits, expected: x.expected, actual });
    }
  }
}

/** A 64-bit member of a fixed-layout type that may hold an absolute address: where, its path, its schema range. */
interface PointerField {
  at: number;
  path: string;
  range: Range;
  le: boolean;
}
const pointerFieldsOf = new WeakMap<Type, PointerField[]>();

/** The members the node path flags as absolute pointers (8-byte integers, pointers), at all depths. */
function pointerFields(t: Type, range: Range, le: boolean): PointerField[] {
  if ((t.k === 'int' && t.size === 8) || t.k === 'pointer') return [{ at: 0, path: '', range, le }];
  // A struct's members carry their own byte order and range: its list is the same wherever it is.
  if (t.k !== 'struct') {
    const out: PointerField[] = [];
    collectPointerFields(t, 0, '', range, le, out, 0);
    return out;
  }
  let r = pointerFieldsOf.get(t);
  if (!r) {
    r = [];
    collectPointerFields(t, 0, '', range, le, r, 0);
    pointerFieldsOf.set(t, r);
  }
  return r;
}
function collectPointerFields(t: Type, at: number, path: string, range: Range, le: boolean, out: PointerField[], depth: number): void {
  if (depth > 32) return;
  if (t.k === 'struct') {
    for (const f of t.fields) {
      const p = f.name === '' ? path : path === '' ? f.name : `${path}.${f.name}`;
      const fle = f.endian === 'le';
      if ((f.type.k === 'int' && f.type.size === 8 && f.bitWidth === undefined) || f.type.k === 'pointer') out.push({ at: at + f.offset, path: p, range: f.range, le: fle });
      else collectPointerFields(f.type, at + f.offset, p, f.range, fle, out, depth + 1);
    }
  } else if (t.k === 'array' && !(t.elem.k === 'int' && t.elem.char)) {
    const e = t.elem;
    for (let k = 0; k < (t.count ?? 0); k++) {
      if ((e.k === 'int' && e.size === 8) || e.k === 'pointer') out.push({ at: at + k * e.size, path: `${path}[${k}]`, range, le });
      else collectPointerFields(e, at + k * e.size, `${path}[${k}]`, range, le, out, depth + 1);
    }
  }
}

/**
 * The absolute-pointer warnings of `count` values of `t` (`stride` bytes apart in `dv`, the first
 * being number `first`), as the per-field nodes give them: same message, path, range and order.
 */
function flagPointers(note: (v: bigint) => string | undefined, t: Type, at: { range: Range; le: boolean }, dv: DataView, stride: number, first: number, count: number, pathOf: (i: number) => string, report: JsonReport): void {
  const fields = pointerFields(t, at.range, at.le);
  if (!fields.length) return;
  for (let j = 0; j < count; j++) {
    for (const f of fields) {
      const v = dv.getBigUint64(j * stride + f.at, f.le);
      const said = note(v);
      if (!said) continue;
      const base = pathOf(first + j);
      const path = f.path === '' || f.path.startsWith('[') || base === '' ? `${base}${f.path}` : `${base}.${f.path}`;
      report.diagnostics.push(diagnostic(f.range, 'warning', `${path}: ${said}: store an offset instead`));
    }
  }
}

/** The longest array count inside a fixed-layout type (toJson caps arrays). */
function longestArray(t: Type, depth = 0): number {
  if (depth > 32) return Infinity;
  if (t.k === 'array') return Math.max(t.count ?? 0, longestArray(t.elem, depth + 1));
  if (t.k === 'struct') return Math.max(0, ...t.fields.map((f) => longestArray(f.type, depth + 1)));
  return 0;
}
