// The `*.shmsnap` file: a snapshot of an object's bytes with where and when they came from, and
// the comparison of two byte sources as differing ranges. Pure: no vscode, no fs.
//
// Layout: "SHMSNAP1" (8 bytes) | header length N (uint32 LE) | N bytes of UTF-8 JSON header
// {"version":1,"target":"shm:…","title":"…","size":S,"time":"ISO-8601"} | S bytes of data.

import type { Range } from '../protocol';
import type { ByteSource } from '../source';

export const SNAPSHOT_MAGIC = 'SHMSNAP1';
const MAX_HEADER = 64 * 1024;

/** What a snapshot says about itself. */
export interface SnapshotHeader {
  version: 1;
  target: string;
  title: string;
  size: number;
  /** When it was taken, ISO-8601. */
  time: string;
}

/** A file that is not a snapshot, or a damaged one. */
export class SnapshotError extends Error {
  readonly code = 'EINVAL';
}

/** The bytes before the data: magic, length, JSON header. */
export function encodeSnapshotHeader(h: SnapshotHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(12 + json.length);
  out.set(new TextEncoder().encode(SNAPSHOT_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  return out;
}

/** A whole snapshot in memory (header and bytes). */
export function encodeSnapshot(h: Omit<SnapshotHeader, 'size' | 'version'>, bytes: Uint8Array): Uint8Array {
  const head = encodeSnapshotHeader({ version: 1, ...h, size: bytes.length });
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head, 0);
  out.set(bytes, head.length);
  return out;
}

/**
 * Parses the start of a file (at least the first 12 bytes; the header if they hold it) and says
 * where the data starts. `fileSize` checks the data is all there.
 */
export function decodeSnapshotHeader(start: Uint8Array, fileSize: number): { header: SnapshotHeader; dataOffset: number } {
  if (start.length < 12 || new TextDecoder().decode(start.subarray(0, 8)) !== SNAPSHOT_MAGIC) {
    throw new SnapshotError('not a shmscope snapshot (no SHMSNAP1 signature)');
  }
  const n = new DataView(start.buffer, start.byteOffset, start.byteLength).getUint32(8, true);
  if (n > MAX_HEADER) throw new SnapshotError(`snapshot header claims ${n} bytes (at most ${MAX_HEADER})`);
  if (start.length < 12 + n) throw new SnapshotError('snapshot header is truncated');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(start.subarray(12, 12 + n)));
  } catch {
    throw new SnapshotError('snapshot header is not valid JSON');
  }
  const h = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || h.version !== 1 || typeof h.target !== 'string' || typeof h.title !== 'string'
    || typeof h.time !== 'string' || typeof h.size !== 'number' || !Number.isSafeInteger(h.size) || h.size < 0) {
    throw new SnapshotError('snapshot header lacks version 1, target, title, size or time');
  }
  const dataOffset = 12 + n;
  if (fileSize - dataOffset !== h.size) {
    throw new SnapshotError(`snapshot holds ${Math.max(0, fileSize - dataOffset)} bytes of data but its header says ${h.size}`);
  }
  return { header: { version: 1, target: h.target, title: h.title, size: h.size, time: h.time }, dataOffset };
}

/** A whole snapshot in memory: its header and a view of its bytes. */
export function decodeSnapshot(file: Uint8Array): { header: SnapshotHeader; bytes: Uint8Array } {
  const { header, dataOffset } = decodeSnapshotHeader(file, file.length);
  return { header, bytes: file.subarray(dataOffset) };
}

export interface DiffOptions {
  chunk?: number;
  /** Ranges closer than this many equal bytes merge into one (default 0: exact). */
  mergeGap?: number;
  /** Stop after this many ranges (default 10 000); `truncated` says so. */
  maxRanges?: number;
  signal?: AbortSignal;
}

/**
 * The ranges where two sources differ. Bytes that exist in only one of them (a size change)
 * count as different. Async and chunked, like Find.
 */
export async function diffRanges(a: ByteSource, b: ByteSource, o: DiffOptions = {}): Promise<{ ranges: Range[]; truncated: boolean }> {
  const chunk = o.chunk ?? 1 << 20;
  const gap = o.mergeGap ?? 0;
  const max = o.maxRanges ?? 10_000;
  const common = Math.min(a.size, b.size);
  const longest = Math.max(a.size, b.size);
  const ranges: Range[] = [];
  const add = (offset: number, length: number): boolean => {
    const last = ranges.at(-1);
    if (last && offset - (last.offset + last.length) <= gap) {
      last.length = offset + length - last.offset;
      return true;
    }
    if (ranges.length >= max) return false;
    ranges.push({ offset, length });
    return true;
  };
  for (let pos = 0; pos < common; pos += chunk) {
    if (o.signal?.aborted) throw Object.assign(new Error('the comparison was cancelled'), { code: 'ECANCELED' });
    const n = Math.min(chunk, common - pos);
    const x = a.read(pos, n);
    const y = b.read(pos, n);
    let i = 0;
    while (i < n) {
      if (x[i] === y[i]) { i++; continue; }
      const s = i;
      while (i < n && x[i] !== y[i]) i++;
      if (!add(pos + s, i - s)) return { ranges, truncated: true };
    }
    if (pos + chunk < common) await new Promise<void>((r) => setTimeout(r, 0));
  }
  if (longest > common && !add(common, longest - common)) return { ranges, truncated: true };
  return { ranges, truncated: false };
}
