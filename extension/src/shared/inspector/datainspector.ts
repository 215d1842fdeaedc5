// The data inspector: what the bytes at the selection's start (or the cursor) mean as each common
// type. Pure: no DOM.
import { selectionRange } from './navigation';

/** One line of the inspector: a label and its value, or undefined when too few bytes remain. */
export interface InspectorRow {
  label: string;
  value: string | undefined;
}

const INT_WIDTHS = [1, 2, 4, 8] as const;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads an integer of `width` bytes as bigint. */
export function readInt(bytes: Uint8Array, width: 1 | 2 | 4 | 8, signed: boolean, littleEndian: boolean): bigint | undefined {
  if (bytes.length < width) return undefined;
  const v = view(bytes);
  switch (width) {
    case 1: return BigInt(signed ? v.getInt8(0) : v.getUint8(0));
    case 2: return BigInt(signed ? v.getInt16(0, littleEndian) : v.getUint16(0, littleEndian));
    case 4: return BigInt(signed ? v.getInt32(0, littleEndian) : v.getUint32(0, littleEndian));
    case 8: return signed ? v.getBigInt64(0, littleEndian) : v.getBigUint64(0, littleEndian);
  }
}

/** A float as the inspector shows it: shortest round-trip form, NaN/Infinity spelled out. */
export function formatFloat(x: number, single: boolean): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(x, -0)) return '-0';
  if (!single) return String(x);
  // The shortest decimal that reads back as the same float32.
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return String(y);
  }
  return String(Number(x.toPrecision(9)));
}

/** The character of a byte in ASCII, or a description for control and high bytes. */
export function asciiOf(b: number): string {
  if (b >= 0x20 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  const names: Record<number, string> = { 0: 'NUL', 9: 'TAB', 10: 'LF', 13: 'CR', 0x1b: 'ESC', 0x7f: 'DEL' };
  return names[b] ?? (b < 0x80 ? `control 0x${b.toString(16).padStart(2, '0')}` : 'not ASCII');
}

/** The UTF-8 sequence starting at bytes[0]: the character and its length, or why it is invalid. */
export function utf8At(bytes: Uint8Array): { text: string; length: number } | { error: string } {
  const b0 = bytes[0];
  if (b0 === undefined) return { error: 'no bytes' };
  let need: number;
  let cp: number;
  let min: number;
  if (b0 < 0x80) return { text: b0 >= 0x20 && b0 !== 0x7f ? String.fromCharCode(b0) : `U+${b0.toString(16).toUpperCase().padStart(4, '0')}`, length: 1 };
  else if (b0 >= 0xc2 && b0 <= 0xdf) { need = 1; cp = b0 & 0x1f; min = 0x80; }
  else if (b0 >= 0xe0 && b0 <= 0xef) { need = 2; cp = b0 & 0x0f; min = 0x800; }
  else if (b0 >= 0xf0 && b0 <= 0xf4) { need = 3; cp = b0 & 0x07; min = 0x10000; }
  else return { error: b0 < 0xc0 ? 'continuation byte' : 'invalid lead byte' };
  if (bytes.length < need + 1) return { error: 'truncated sequence' };
  for (let i = 1; i <= need; i++) {
    const b = bytes[i] ?? 0;
    if ((b & 0xc0) !== 0x80) return { error: 'invalid sequence' };
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { error: 'invalid sequence' };
  return { text: String.fromCodePoint(cp), length: need + 1 };
}

/** Milliseconds since the epoch as ISO-8601 UTC, or undefined when outside Date's range. */
export function isoFromMs(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}

/**
 * Where the inspector reads: the selection's first byte, as a selected field reads from its start
 * (the cursor sits on its last byte after a drag or Shift+Right); the cursor when nothing is selected.
 */
export function inspectedOffset(anchor: number, cursor: number): number {
  return selectionRange(anchor, cursor).offset;
}

/** Every row of the data inspector for the bytes at inspectedOffset (pass up to 8 bytes). */
export function inspect(bytes: Uint8Array, littleEndian: boolean): InspectorRow[] {
  const rows: InspectorRow[] = [];
  const e = littleEndian ? 'LE' : 'BE';
  for (const w of INT_WIDTHS) {
    const bits = w * 8;
    const suffix = w === 1 ? '' : ` ${e}`;
    rows.push({ label: `int${bits}${suffix}`, value: readInt(bytes, w, true, littleEndian)?.toString() });
    rows.push({ label: `uint${bits}${suffix}`, value: readInt(bytes, w, false, littleEndian)?.toString() });
  }
  const v = view(bytes);
  rows.push({ label: `float32 ${e}`, value: bytes.length >= 4 ? formatFloat(v.getFloat32(0, littleEndian), true) : undefined });
  rows.push({ label: `float64 ${e}`, value: bytes.length >= 8 ? formatFloat(v.getFloat64(0, littleEndian), false) : undefined });
  rows.push({ label: 'ASCII', value: bytes.length >= 1 ? asciiOf(bytes[0] ?? 0) : undefined });
  const u = utf8At(bytes);
  rows.push({ label: 'UTF-8', value: bytes.length === 0 ? undefined : 'error' in u ? `(${u.error})` : `${u.text} (${u.length} byte${u.length > 1 ? 's' : ''})` });
  const u32 = readInt(bytes, 4, false, littleEndian);
  const i64 = readInt(bytes, 8, true, littleEndian);
  rows.push({ label: `time_t (s, uint32 ${e})`, value: u32 === undefined ? undefined : isoFromMs(Number(u32) * 1000) });
  rows.push({ label: `time (s, int64 ${e})`, value: i64 === undefined ? undefined : (isoFromMs(Number(i64) * 1000) ?? 'out of range') });
  rows.push({ label: `time (ms, int64 ${e})`, value: i64 === undefined ? undefined : (isoFromMs(Number(i64)) ?? 'out of range') });
  rows.push({
    label: `time (ns, int64 ${e})`,
    value: i64 === undefined ? undefined : (() => {
      const iso = isoFromMs(Number(i64 / 1_000_000n));
      if (iso === undefined) return 'out of range';
      const ns = ((i64 % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
      return iso.replace(/\.\d{3}Z$/, `.${ns.toString().padStart(9, '0')}Z`);
    })(),
  });
  return rows;
}
