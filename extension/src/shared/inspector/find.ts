// Find in a ByteSource: hex bytes, text, or a number of a given width and byte order. Runs in
// chunks, yielding between them, with progress and cancellation, so a search through GiB never
// blocks the extension host for long. Pure: no vscode, no DOM.

import type { FindQuery } from '../protocol';
import type { ByteSource } from '../source';

/** A query that cannot be searched for; `message` is a sentence for the user. */
export class QueryError extends Error {
  readonly code = 'EINVAL';
}

/** The bytes a query looks for. */
export function compileQuery(q: FindQuery): Uint8Array {
  switch (q.kind) {
    case 'hex': {
      const digits = q.text.replace(/0x/gi, '').replace(/[\s,]/g, '');
      if (!/^[0-9a-f]+$/i.test(digits)) throw new QueryError(`"${q.text}" is not hex bytes: write pairs like "de ad be ef"`);
      if (digits.length % 2 !== 0) throw new QueryError(`"${q.text}" has an odd number of hex digits`);
      const out = new Uint8Array(digits.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
    case 'text': {
      const out = new TextEncoder().encode(q.text);
      if (out.length === 0) throw new QueryError('the text to find is empty');
      return out;
    }
    case 'number': {
      const width = q.width ?? 4;
      const t = q.text.trim().replace(/_/g, '');
      const m = /^(-?)(0x[0-9a-f]+|[0-9]+)$/i.exec(t);
      if (!m) throw new QueryError(`"${q.text}" is not an integer (decimal or 0x hex)`);
      let n = BigInt(m[2] ?? '0');
      if (m[1] === '-') n = -n;
      const bits = BigInt(width * 8);
      const min = -(1n << (bits - 1n));
      const max = (1n << bits) - 1n;
      if (n < min || n > max) throw new QueryError(`${t} does not fit in ${width} byte${width > 1 ? 's' : ''} (${min} to ${max})`);
      const u = BigInt.asUintN(width * 8, n);
      const out = new Uint8Array(width);
      for (let i = 0; i < width; i++) {
        const byte = Number((u >> BigInt(8 * i)) & 0xffn);
        out[q.endian === 'be' ? width - 1 - i : i] = byte;
      }
      return out;
    }
  }
}

/** Index of `needle` in `hay` at or after `from`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  if (first === undefined) return -1;
  const lastStart = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i !== -1 && i <= lastStart; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** Index of the last `needle` in `hay` that starts at or before `before`, or -1. */
export function lastIndexOfBytes(hay: Uint8Array, needle: Uint8Array, before = hay.length - needle.length): number {
  const first = needle[0];
  if (first === undefined) return -1;
  const start = Math.min(before, hay.length - needle.length);
  if (start < 0) return -1;
  for (let i = hay.lastIndexOf(first, start); i !== -1; i = i === 0 ? -1 : hay.lastIndexOf(first, i - 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

export interface FindOptions {
  /** Bytes read per step (default 1 MiB). */
  chunk?: number;
  signal?: AbortSignal;
  /** Called after each chunk with bytes searched so far and the total to search. */
  onProgress?: (done: number, total: number) => void;
  /** Search on from the other end when nothing lies between `from` and the end (default true). */
  wrap?: boolean;
}

/** Rejected when the search was cancelled. */
export class CancelledError extends Error {
  readonly code = 'ECANCELED';
  constructor() {
    super('the search was cancelled');
  }
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The offset of the first match at or after `from` (or, backward, the last match starting before
 * `from`), or null. Reads the source in chunks, yielding to the event loop between them.
 */
export async function findInSource(src: ByteSource, needle: Uint8Array, from: number, backward: boolean, o: FindOptions = {}): Promise<number | null> {
  const chunk = Math.max(needle.length * 2, o.chunk ?? 1 << 20);
  const size = src.size;
  const m = needle.length;
  if (m === 0 || m > size) return null;
  const wrap = o.wrap ?? true;
  const start = Math.max(0, Math.min(from, size));
  // Each pass covers match starts in [lo, hi).
  const passes: [number, number][] = backward
    ? [[0, start], ...(wrap ? [[start, size - m + 1] as [number, number]] : [])]
    : [[start, size - m + 1], ...(wrap ? [[0, Math.min(start, size - m + 1)] as [number, number]] : [])];
  const total = passes.reduce((a, [lo, hi]) => a + Math.max(0, hi - lo), 0);
  let done = 0;
  for (const [lo, hi] of passes) {
    if (hi <= lo) continue;
    if (!backward) {
      for (let pos = lo; pos < hi; pos += chunk) {
        if (o.signal?.aborted) throw new CancelledError();
        const n = Math.min(chunk, hi - pos);
        const bytes = src.read(pos, Math.min(n + m - 1, size - pos));
        const i = indexOfBytes(bytes, needle);
        if (i !== -1 && i < n) return pos + i;
        done += n;
        o.onProgress?.(done, total);
        await tick();
      }
    } else {
      for (let end = hi; end > lo; end -= chunk) {
        if (o.signal?.aborted) throw new CancelledError();
        const pos = Math.max(lo, end - chunk);
        const n = end - pos;
        const bytes = src.read(pos, Math.min(n + m - 1, size - pos));
        const i = lastIndexOfBytes(bytes, needle, n - 1);
        if (i !== -1) return pos + i;
        done += n;
        o.onProgress?.(done, total);
        await tick();
      }
    }
  }
  return null;
}
