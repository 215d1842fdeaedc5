// A value typed by a person -> the bytes that store it in one decoded field (the inspector's
// in-place edit, as in a hex editor's template view). Pure: no vscode, no DOM, no native.
//
// The inverse of decode.ts for scalars and char arrays: whatever a node displays can be typed
// back (decimal, 0x/0b/0o, 'c', true/false, enum names and `A|B` flags, ISO dates for time
// formats, dotted quads for ipv4, JSON string literals for text) and encodes to the same bytes.
import { halfBits } from './float16';
import type { EnumType, IntType, Type } from './types';

export type EncodeErrorCode = 'EINVAL' | 'ERANGE' | 'EIO';

/** Why a text cannot be stored: EINVAL (not a value of the type), ERANGE (does not fit), EIO (the bytes around it could not be read). */
export class EncodeError extends Error {
  constructor(
    readonly code: EncodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EncodeError';
  }
}

/** What encoding needs to know about one placed field. */
export interface EncodeTarget {
  /** The field's name (for messages: `text[52] holds 52`). */
  name: string;
  /** The resolved type at this place (arrays with a count from data have a concrete count). */
  type: Type;
  /** Absolute offset and size of the bytes the field covers (a bit-field's storage bytes). */
  offset: number;
  size: number;
  endian: 'le' | 'be';
  /** Bit-fields: position and width within the little-endian storage bytes at `offset`. */
  bits?: { offset: number; width: number };
  /** The field's `[[format(…)]]`, if any. */
  format?: string;
  /** The bytes now at [offset, offset+length): read-modify-write of bit-fields without `current`. */
  read?(offset: number, length: number): Uint8Array;
}

/** True for the types encodeValue handles: integers, enums, bools, pointers, offsets, float/double, char arrays. */
export function canEncode(type: Type): boolean {
  switch (type.k) {
    case 'int':
    case 'enum':
    case 'pointer':
    case 'offset':
      return type.size > 0 && type.size <= 8;
    case 'float':
      return type.size === 4 || type.size === 8;
    case 'array':
      return type.elem.k === 'int' && type.elem.char === true && type.elem.size === 1;
    default:
      return false;
  }
}

/**
 * The bytes that make `text` the value of the field `target` describes. `current` holds the
 * bytes now at [offset, offset+size) (bit-fields keep the bits that are not theirs); without it
 * they are read through `target.read`. Throws EncodeError.
 */
export function encodeValue(target: EncodeTarget, text: string, current?: Uint8Array): { offset: number; bytes: Uint8Array } {
  const t = target.type;
  const le = target.endian === 'le';
  switch (t.k) {
    case 'int':
    case 'enum': {
      const it = t.k === 'enum' ? t.base : t;
      if (target.bits) {
        const { offset: bit, width } = target.bits;
        const v = parseInteger(text, { type: t, bits: width, signed: it.signed && !it.bool, label: `${t.name} : ${width}`, format: target.format });
        const cur = current ?? target.read?.(target.offset, target.size);
        if (!cur || cur.length < target.size) {
          throw new EncodeError('EIO', `the ${target.size} byte${target.size === 1 ? '' : 's'} holding ${target.name} at offset ${target.offset} could not be read`);
        }
        // The storage bytes are little-endian, as decode.ts reads them.
        let raw = 0n;
        for (let i = target.size - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(cur[i]!);
        const mask = ((1n << BigInt(width)) - 1n) << BigInt(bit);
        raw = (raw & ~mask) | ((BigInt.asUintN(width, v) << BigInt(bit)) & mask);
        return { offset: target.offset, bytes: intBytes(raw, target.size, true) };
      }
      const v = parseInteger(text, { type: t, bits: it.size * 8, signed: it.signed, label: t.name, format: target.format });
      return { offset: target.offset, bytes: intBytes(v, it.size, le) };
    }
    case 'pointer': {
      const v = parseInteger(text, { type: t, bits: 64, signed: false, label: t.name, format: target.format });
      return { offset: target.offset, bytes: intBytes(v, 8, le) };
    }
    case 'offset': {
      const w = t.width;
      const v = parseInteger(text, { type: t, bits: w.size * 8, signed: w.signed, label: t.name, format: target.format });
      return { offset: target.offset, bytes: intBytes(v, w.size, le) };
    }
    case 'float':
      return { offset: target.offset, bytes: floatBytes(text, t.name, t.size, le) };
    case 'array':
      if (canEncode(t)) return { offset: target.offset, bytes: textBytes(text, target.name, t.size) };
      break;
    default:
      break;
  }
  throw new EncodeError('EINVAL', `${target.name} (${t.name}) cannot be edited as a value`);
}

// ------------------------------------------------------------------------------ integers

interface IntSpec {
  type: Type;
  bits: number;
  signed: boolean;
  /** How messages name the type: `uint8_t`, `State`, `uint32_t : 3`. */
  label: string;
  format?: string;
}

const NUMBER_HINT = 'decimal, 0x hex, 0b binary';

/**
 * An integer literal: decimal, 0x hex, 0b binary, 0o octal, a leading sign, `_` or `'` between
 * digits and a C suffix (u, l, ul, ull, …). `pattern` is true for a prefixed literal without a
 * minus sign: a bit pattern, which a signed type takes as two's complement (0xff in int8_t is -1).
 */
export function parseIntLiteral(text: string): { value: bigint; pattern: boolean } | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F](?:[_']?[0-9a-fA-F])*|0[bB][01](?:[_']?[01])*|0[oO][0-7](?:[_']?[0-7])*|[0-9](?:[_']?[0-9])*)(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?$/.exec(text);
  if (!m) return undefined;
  const body = m[2]!.replace(/[_']/g, '');
  const prefixed = /^0[xXbBoO]/.test(body);
  // BigInt() reads 0x/0b/0o; a decimal with leading zeros stays decimal.
  const mag = prefixed ? BigInt(body) : BigInt(body.replace(/^0+(?=\d)/, ''));
  return { value: m[1] === '-' ? -mag : mag, pattern: prefixed && m[1] !== '-' };
}

function rangeOf(bits: number, signed: boolean): [bigint, bigint] {
  const b = BigInt(bits);
  return signed ? [-(1n << (b - 1n)), (1n << (b - 1n)) - 1n] : [0n, (1n << b) - 1n];
}

/** `v` checked against the spec's range; bit patterns are taken as two's complement by signed types. */
function fit(v: bigint, pattern: boolean, spec: IntSpec, shown: string): bigint {
  const [min, max] = rangeOf(spec.bits, spec.signed);
  let x = v;
  if (spec.signed && pattern && x > max && x <= (1n << BigInt(spec.bits)) - 1n) x = BigInt.asIntN(spec.bits, x);
  if (x < min || x > max) throw new EncodeError('ERANGE', `${shown} does not fit in ${spec.label} (${min} … ${max})`);
  return x;
}

const quote = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}…` : s);

function parseInteger(text: string, spec: IntSpec): bigint {
  const s = text.trim();
  const t = spec.type;
  const it: IntType | undefined = t.k === 'int' ? t : t.k === 'enum' ? t.base : undefined;
  if (s === '') throw new EncodeError('EINVAL', `an empty text is not a value of ${spec.label}`);
  const fmt = spec.format;

  if (t.k === 'enum') {
    const e = enumValue(s, t);
    if (e !== undefined) return fit(e.value, e.pattern, spec, s);
  }
  if ((it?.bool || fmt === 'bool') && /^(true|false)$/i.test(s)) return s.toLowerCase() === 'true' ? 1n : 0n;
  if (s.startsWith("'") && ((it !== undefined && it.size === 1) || fmt === 'char')) {
    const c = charLiteral(s);
    if (c === undefined) throw new EncodeError('EINVAL', `${quote(s)} is not a character literal ('A', '\\n', '\\x41')`);
    // A signed char holds the byte's value as C does: 'é' (0xe9) in char is -23.
    return fit(BigInt(c), true, spec, s);
  }
  if (fmt === 'time_s' || fmt === 'time_ns') {
    const v = timeValue(s, fmt);
    if (v !== undefined) return fit(v, false, spec, s);
  }
  if (fmt === 'ipv4') {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (m) {
      const parts = m.slice(1).map(Number);
      if (parts.some((p) => p > 255)) throw new EncodeError('EINVAL', `${quote(s)} is not an IPv4 address (each part 0 … 255)`);
      // decode.ts shows the integer's low byte first: the inverse puts the first part low.
      const v = parts.reduceRight((acc, p) => (acc << 8n) | BigInt(p), 0n);
      return fit(v, true, spec, s);
    }
  }
  const n = parseIntLiteral(s);
  if (n) return fit(n.value, n.pattern, spec, s);
  if (t.k === 'enum') {
    const names = [...t.values.keys()];
    const few = names.slice(0, 6).join(', ') + (names.length > 6 ? ', …' : '');
    const flags = t.flags ? ' joined with |' : '';
    throw new EncodeError('EINVAL', `${quote(s)} is not a ${t.name} value (${few ? `${few}${flags}, ` : ''}or a number)`);
  }
  const extra = it?.bool || fmt === 'bool' ? ', true, false' : fmt === 'time_s' || fmt === 'time_ns' ? ', or a date-time like 2026-11-23T10:00:00Z' : fmt === 'ipv4' ? ', or an address like 10.0.0.1' : '';
  throw new EncodeError('EINVAL', `${quote(s)} is not a number (${NUMBER_HINT}${extra})`);
}

/** An enumerator name, `A | B | 0x10` for flags enums, or what decode.ts displays for a stray value. */
function enumValue(s: string, t: EnumType): { value: bigint; pattern: boolean } | undefined {
  const named = t.values.get(s);
  if (named !== undefined) return { value: named, pattern: false };
  const stray = new RegExp(`^(\\S+) \\(not a ${t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} value\\)$`).exec(s);
  if (stray) return parseIntLiteral(stray[1]!);
  if (t.flags && s.includes('|')) {
    let v = 0n;
    for (const part of s.split('|').map((x) => x.trim())) {
      const name = t.values.get(part);
      if (name !== undefined) {
        v |= name;
        continue;
      }
      const n = parseIntLiteral(part);
      if (!n || n.value < 0n) {
        const names = [...t.values.keys()].slice(0, 6).join(', ');
        throw new EncodeError('EINVAL', `${quote(part)} is not a ${t.name} flag (${names ? `${names}, ` : ''}or a number)`);
      }
      v |= n.value;
    }
    return { value: v, pattern: true };
  }
  return undefined;
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, a: 7, b: 8, f: 12, v: 11, e: 27, '\\': 92, "'": 39, '"': 34, '?': 63 };

/** `'A'`, `'\n'`, `'\x41'`, `'\101'` -> 0 … 255, or undefined. */
function charLiteral(s: string): number | undefined {
  const m = /^'(.+)'$/su.exec(s);
  if (!m) return undefined;
  const body = m[1]!;
  if (body.startsWith('\\') && body !== '\\') {
    const rest = body.slice(1);
    const hex = /^x([0-9a-fA-F]{1,2})$/.exec(rest);
    if (hex) return parseInt(hex[1]!, 16);
    const oct = /^([0-7]{1,3})$/.exec(rest);
    if (oct) {
      const v = parseInt(oct[1]!, 8);
      return v <= 255 ? v : undefined;
    }
    return rest.length === 1 ? ESCAPES[rest] : undefined;
  }
  const cp = body.codePointAt(0)!;
  return [...body].length === 1 && cp < 256 ? cp : undefined;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A time for `[[format(time_s|time_ns)]]`: an ISO-8601 date-time (UTC when no zone is given), or
 * what decode.ts displays (`2026-11-23T10:00:00.000000000Z (1795428000000000000)`, the two parts
 * agreeing). Undefined when `s` is not a date at all.
 */
function timeValue(s: string, fmt: 'time_s' | 'time_ns'): bigint | undefined {
  const shown = /^(.+?)\s+\((-?\d+)\)$/.exec(s);
  if (shown) {
    // decode.ts shows a time outside what a Date holds as `invalid time (n)`.
    if (shown[1] === 'invalid time') return BigInt(shown[2]!);
    const date = isoValue(shown[1]!, fmt);
    if (date === undefined) return undefined;
    if (date !== BigInt(shown[2]!)) throw new EncodeError('EINVAL', `the date and the number in parentheses disagree: give one of them`);
    return date;
  }
  return isoValue(s, fmt);
}

function isoValue(s: string, fmt: 'time_s' | 'time_ns'): bigint | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const when = new Date(0);
  when.setUTCFullYear(y, mo - 1, d);
  when.setUTCHours(h, mi, sec, 0);
  const valid = mo >= 1 && mo <= 12 && when.getUTCDate() === d && when.getUTCMonth() === mo - 1 && h < 24 && mi < 60 && sec < 60;
  if (!valid || Number.isNaN(when.getTime())) throw new EncodeError('EINVAL', `${quote(s)} is not a valid date-time`);
  let zone = 0;
  const z = m[8];
  if (z && z !== 'Z' && z !== 'z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(z)!;
    zone = (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * (zm[1] === '-' ? -1 : 1);
    if (Number(zm[2]) > 23 || Number(zm[3] ?? 0) > 59) throw new EncodeError('EINVAL', `${quote(s)} has an invalid time zone offset`);
  }
  const seconds = BigInt(when.getTime() / 1000) - BigInt(zone * 60);
  const frac = m[7] ?? '';
  if (fmt === 'time_s') {
    if (/[1-9]/.test(frac)) throw new EncodeError('EINVAL', `${quote(s)} has a fraction of a second; time_s holds whole seconds`);
    return seconds;
  }
  if (frac.length > 9 && /[1-9]/.test(frac.slice(9))) throw new EncodeError('EINVAL', `${quote(s)} is finer than a nanosecond`);
  return seconds * 1_000_000_000n + BigInt(frac.slice(0, 9).padEnd(9, '0'));
}

/** `v` as `size` bytes (two's complement) in the given byte order. */
export function intBytes(v: bigint, size: number, le: boolean): Uint8Array {
  const out = new Uint8Array(size);
  let u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out[le ? i : size - 1 - i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

// ------------------------------------------------------------------------------ floats and text

const FLOAT_MAX = 3.4028234663852886e38;

function floatBytes(text: string, name: string, size: number, le: boolean): Uint8Array {
  const s = text.trim();
  let v: number;
  const nan = /^[+-]?nan$/i.test(s);
  if (/^[+-]?inf(inity)?$/i.test(s)) v = s.startsWith('-') ? -Infinity : Infinity;
  else if (nan) v = NaN;
  else v = s === '' ? NaN : Number(s.replace(/(?<=\d)[_'](?=\d)/g, ''));
  if (Number.isNaN(v) && !nan) throw new EncodeError('EINVAL', `${quote(s)} is not a number (like 1.5, -2e-3, inf, nan)`);
  if (size === 4 && Number.isFinite(v) && Math.abs(v) > FLOAT_MAX) throw new EncodeError('ERANGE', `${s} does not fit in ${name} (±${FLOAT_MAX})`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  if (size === 2 && Number.isFinite(v) && Math.abs(v) > 65504) throw new EncodeError('ERANGE', `${s} does not fit in ${name} (±65504)`);
  if (size === 2) dv.setUint16(0, halfBits(v), le);
  else if (size === 4) dv.setFloat32(0, v, le);
  else dv.setFloat64(0, v, le);
  return out;
}

/**
 * A char array's bytes: `text` as typed, or a JSON string literal when it starts with `"`; Latin-1
 * when every character is below 256, else UTF-8; NUL-padded to the whole array.
 */
function textBytes(text: string, name: string, size: number): Uint8Array {
  let s = text;
  if (s.startsWith('"')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'string') throw new EncodeError('EINVAL', `${quote(s)} is not a string literal: write the text as is, or "…" with JSON escapes (\\n, \\t, \\", \\u00e9)`);
    s = parsed;
  }
  let enc: Uint8Array;
  let latin = true;
  for (let i = 0; i < s.length && latin; i++) if (s.charCodeAt(i) > 255) latin = false;
  if (latin) {
    enc = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) enc[i] = s.charCodeAt(i);
  } else enc = new TextEncoder().encode(s);
  if (enc.length > size) throw new EncodeError('ERANGE', `${quote(s)} is ${enc.length} bytes; ${name}[${size}] holds ${size}`);
  const out = new Uint8Array(size);
  out.set(enc);
  return out;
}
