// Offsets, not pointers: shared memory sits at a different address in every
// process, so a value in a segment that equals an address inside some process's mapping of that
// segment is an absolute pointer, valid in that process only. This module turns a process address
// into an offset ("pid 4242: 0x7f3a…" in Go to Offset) and says which values look like such
// pointers. Pure: the mappings come from the caller (the native maps reader).

/** Where one process maps (part of) an object: [start, end) in its address space at file offset `offset`. */
export interface ProcessView {
  pid: number;
  start: bigint;
  end: bigint;
  /** Offset in the object of `start` (maps' pgoff column). */
  offset: bigint;
}

/** Parses "pid 4242: 0x7f3a…", "4242:0x7f3a…" or "pid 4242 0x7f3a…"; undefined when it is not one. */
export function parseProcessAddress(text: string): { pid: number; address: bigint } | undefined {
  const m = /^\s*(?:pid\s*)?(\d{1,10})\s*[: ]\s*(0x[0-9a-f]{1,16}|\d{1,20})\s*$/i.exec(text.replace(/_/g, ''));
  if (!m) return undefined;
  const pid = Number(m[1]);
  const address = BigInt(m[2]!);
  if (pid <= 0 || pid > 0x7fffffff || address >= 1n << 64n) return undefined;
  return { pid, address };
}

/** The offset in the object of `address` as process `pid` maps it; a sentence when it is not inside. */
export function addressToOffset(address: bigint, pid: number, views: ProcessView[], size: number): { ok: true; offset: number } | { ok: false; message: string } {
  const mine = views.filter((v) => v.pid === pid);
  if (!mine.length) return { ok: false, message: `pid ${pid} does not map this object` };
  for (const v of mine) {
    if (address >= v.start && address < v.end) {
      const off = address - v.start + v.offset;
      if (off >= BigInt(size)) return { ok: false, message: `0x${address.toString(16)} is past the end of the object as pid ${pid} maps it` };
      return { ok: true, offset: Number(off) };
    }
  }
  const ranges = mine.map((v) => `0x${v.start.toString(16)}–0x${v.end.toString(16)}`).join(', ');
  return { ok: false, message: `0x${address.toString(16)} is outside pid ${pid}'s mapping of this object (${ranges})` };
}

/**
 * If `value` is an address inside some process's mapping of the object, the sentence that says so:
 * "pointer into this segment as mapped by pid 4242; offset 0x40". Undefined otherwise (and for
 * small values, which are counts, not addresses).
 */
export function pointerNote(value: bigint, views: ProcessView[], size: number, what = 'segment'): string | undefined {
  if (value < 0x10000n) return undefined;
  for (const v of views) {
    if (value >= v.start && value < v.end) {
      const off = value - v.start + v.offset;
      if (off < BigInt(size)) return `pointer into this ${what} as mapped by pid ${v.pid}; offset 0x${off.toString(16)}`;
    }
  }
  return undefined;
}
