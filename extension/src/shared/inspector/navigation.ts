// Cursor and selection in the hex grid, and Go to Offset parsing. Pure: no DOM.

import type { Range } from '../protocol';

export type NavKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'PageUp' | 'PageDown' | 'Home' | 'End';

export const NAV_KEYS: readonly string[] = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'];

/** Where the cursor goes for a key. Home/End: row start/end; with ctrl: object start/end. */
export function moveCursor(cursor: number, key: NavKey, o: { bytesPerRow: number; size: number; pageRows: number; ctrl: boolean }): number {
  const last = Math.max(0, o.size - 1);
  const bpr = o.bytesPerRow;
  let next = cursor;
  switch (key) {
    case 'ArrowLeft': next = cursor - 1; break;
    case 'ArrowRight': next = cursor + 1; break;
    case 'ArrowUp': next = cursor - bpr; break;
    case 'ArrowDown': next = cursor + bpr; break;
    case 'PageUp': next = cursor - bpr * o.pageRows; break;
    case 'PageDown': next = cursor + bpr * o.pageRows; break;
    case 'Home': next = o.ctrl ? 0 : cursor - (cursor % bpr); break;
    case 'End': next = o.ctrl ? last : cursor - (cursor % bpr) + bpr - 1; break;
  }
  // A move up/down past either end stays in the column where it can, else clamps.
  if (next < 0) next = key === 'ArrowUp' || key === 'PageUp' ? cursor % bpr : 0;
  if (next > last) next = key === 'ArrowDown' || key === 'PageDown' ? (cursor + bpr * Math.floor((last - cursor) / bpr)) : last;
  return Math.max(0, Math.min(last, next));
}

/** The selected range between an anchor and the cursor, both inclusive. */
export function selectionRange(anchor: number, cursor: number): Range {
  const lo = Math.min(anchor, cursor);
  return { offset: lo, length: Math.abs(cursor - anchor) + 1 };
}

/** Whether `offset` lies in `r`. */
export function inRange(r: Range, offset: number): boolean {
  return offset >= r.offset && offset < r.offset + r.length;
}

/** Result of parsing a Go to Offset input. */
export type GotoResult = { ok: true; offset: number } | { ok: false; message: string };

/**
 * Parses "1234", "0x4d2", "4d2h", "+16", "-0x10" (relative to `current`), with `_` separators.
 * The result must lie inside [0, size) (or be 0 for an empty object).
 */
export function parseGoto(text: string, current: number, size: number): GotoResult {
  const t = text.trim().replace(/_/g, '');
  const m = /^([+-]?)(?:(0x[0-9a-f]+)|([0-9a-f]+)h|([0-9]+))$/i.exec(t);
  if (!m) return { ok: false, message: `"${text.trim()}" is not an offset: use decimal, 0x hex, or +N / -N relative to the cursor` };
  const digits = m[2] ?? (m[3] !== undefined ? `0x${m[3]}` : m[4] ?? '0');
  const n = BigInt(digits);
  const sign = m[1];
  const target = sign === '+' ? BigInt(current) + n : sign === '-' ? BigInt(current) - n : n;
  const limit = BigInt(Math.max(0, size - 1));
  if (target < 0n) return { ok: false, message: `${t} lands before the start (offset ${target})` };
  if (target > limit) return { ok: false, message: `${t} is past the end: the last offset is ${limit} (0x${limit.toString(16)})` };
  return { ok: true, offset: Number(target) };
}

/** An offset as the grid shows it: hex, zero-padded to the width the object's size needs. */
export function formatOffset(offset: number, size: number): string {
  const width = Math.max(8, Math.max(1, size - 1).toString(16).length);
  return offset.toString(16).padStart(width, '0');
}
