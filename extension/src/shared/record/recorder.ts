// Taking a recording: frames read on a fixed rate from an object, each a consistent read. With a
// `[[seqlock]]` in the bound schema a frame is taken only inside one generation (the counter even
// before and unchanged after the whole window was read), retried within the frame's budget and
// kept flagged torn when no generation held. Frames go out as key frames and byte-range deltas
// (format.ts). Pure: the object, the semaphores, the clock and the output are passed in.
import type { Schema, StructType, Type } from '../schema';
import { findType, defaultSegment } from '../schema';
import {
  changedRanges, encodeDeltaFrame, encodeKeyFrame, encodeRecordingHeader, FLAG_SHORT, FLAG_TORN, KEY_INTERVAL, type RecordedRange, type RecordingHeader,
} from './format';

/** What the recorder reads: an open object (ShmHandle fits). */
export interface FrameSource {
  /** Fills `buf` from `offset`; returns how many bytes were read (fewer at the end of the object). */
  readInto(buf: Uint8Array, offset: number): number;
}

/** Where the seqlock counter sits, as the header stores it. */
export type SeqlockSpec = NonNullable<RecordingHeader['seqlock']>;

/**
 * The first `[[seqlock]]` counter of `type` (default: the schema's segment) at a fixed offset,
 * found through nested structs placed at fixed offsets; undefined when there is none.
 */
export function findSeqlock(schema: Schema, type?: string | Type): SeqlockSpec | undefined {
  const t = typeof type === 'string' ? findType(schema, type) : (type ?? defaultSegment(schema));
  const walk = (s: StructType, base: number, path: string, depth: number): SeqlockSpec | undefined => {
    if (depth > 16) return undefined;
    for (const f of s.fields) {
      if (f.offset < 0) continue;
      const p = f.anonymous ? path : path ? `${path}.${f.name}` : f.name;
      if (f.attrs.some((a) => a.name === 'seqlock') && f.type.k === 'int' && [1, 2, 4, 8].includes(f.type.size)) {
        return { path: p, offset: base + f.offset, size: f.type.size, littleEndian: f.endian === 'le' };
      }
      if (f.type.k === 'struct') {
        const inner = walk(f.type, base + f.offset, p, depth + 1);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return t && t.k === 'struct' ? walk(t, 0, '', 0) : undefined;
}

/** Parses `OFF:LEN` (decimal or 0x hex each). */
export function parseRange(text: string): RecordedRange | undefined {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*:\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(text);
  if (!m) return undefined;
  const offset = Number(m[1]);
  const length = Number(m[2]);
  return Number.isSafeInteger(offset) && Number.isSafeInteger(length) && length > 0 ? { offset, length } : undefined;
}

/** Counts the recorder keeps, for a status line. */
export interface RecorderStats {
  frames: number;
  torn: number;
  short: number;
  keyFrames: number;
  /** Bytes written so far, header included. */
  bytes: number;
  /** Frames the schedule skipped because a frame took longer than its period. */
  missed: number;
}

export interface RecorderOptions {
  source: FrameSource;
  /** Appends bytes to the recording. */
  write(bytes: Uint8Array): void;
  /** Semaphore values to ride along with each frame (throws or undefined: none this frame). */
  sems?: () => readonly number[] | undefined;
  /** A monotonic clock in ms (performance.now). */
  now?: () => number;
  /** Lets other work run between two tries of a held seqlock (default: a 1 ms timer). */
  pause?: () => Promise<void>;
  /** Frames between two key frames at most (default 4096); one also comes once the deltas since the last one outweigh it. */
  keyInterval?: number;
  /** Tries in a row before pausing, while the seqlock is held (default 100, as the decoder). */
  spins?: number;
}

const timer = () => new Promise<void>((r) => setTimeout(r, 1));

/** Writes a recording frame by frame. */
export class Recorder {
  readonly stats: RecorderStats = { frames: 0, torn: 0, short: 0, keyFrames: 0, bytes: 0, missed: 0 };
  private readonly prev: Uint8Array;
  private readonly cur: Uint8Array;
  private readonly seqBuf = new Uint8Array(8);
  private readonly now: () => number;
  private readonly t0: number;
  private deltaBytesSinceKey = 0;
  private framesSinceKey = 0;

  constructor(
    readonly header: RecordingHeader,
    private readonly o: RecorderOptions,
  ) {
    this.now = o.now ?? (() => performance.now());
    this.prev = new Uint8Array(header.size);
    this.cur = new Uint8Array(header.size);
    this.t0 = this.now();
    this.emit(encodeRecordingHeader(header));
  }

  /** Milliseconds since the recording started. */
  elapsedMs(): number {
    return this.now() - this.t0;
  }

  private emit(bytes: Uint8Array) {
    this.o.write(bytes);
    this.stats.bytes += bytes.length;
  }

  private seq(): bigint | undefined {
    const s = this.header.seqlock!;
    const b = this.seqBuf.subarray(0, s.size);
    if (this.o.source.readInto(b, s.offset) !== s.size) return undefined;
    let v = 0n;
    for (let i = 0; i < s.size; i++) v |= BigInt(b[s.littleEndian ? i : s.size - 1 - i]!) << BigInt(8 * i);
    return v;
  }

  /** Reads every range into `cur`; false when the object was shorter than a range (zeros stand in). */
  private readWindow(): boolean {
    let p = 0;
    let whole = true;
    for (const r of this.header.ranges) {
      const dst = this.cur.subarray(p, p + r.length);
      const n = this.o.source.readInto(dst, r.offset);
      if (n < r.length) {
        dst.fill(0, Math.max(0, n));
        whole = false;
      }
      p += r.length;
    }
    return whole;
  }

  /** One try: true when the window was read inside one seqlock generation (always, without a seqlock). */
  private tryRead(): { stable: boolean; whole: boolean } {
    if (!this.header.seqlock) return { stable: true, whole: this.readWindow() };
    const s1 = this.seq();
    if (s1 === undefined || s1 % 2n !== 0n) return { stable: false, whole: true };
    const whole = this.readWindow();
    return { stable: this.seq() === s1, whole };
  }

  /**
   * Takes one frame, retrying a held or moving seqlock until `deadline` (ms since the start),
   * then writes it (flagged torn when no generation held). Returns its flags.
   */
  async capture(deadline: number): Promise<number> {
    const spins = this.o.spins ?? 100;
    let got = this.tryRead();
    while (!got.stable) {
      for (let i = 1; i < spins && !got.stable; i++) got = this.tryRead();
      if (got.stable || this.elapsedMs() >= deadline) break;
      await (this.o.pause ?? timer)();
      got = this.tryRead();
    }
    if (!got.stable) this.readWindow(); // keep what is there now, marked torn
    const flags = (got.stable ? 0 : FLAG_TORN) | (got.whole ? 0 : FLAG_SHORT);
    this.commit(flags);
    return flags;
  }

  private commit(flags: number) {
    let sems: readonly number[] | undefined;
    try {
      sems = this.o.sems?.();
    } catch {
      sems = undefined;
    }
    const f = { frame: this.stats.frames, timeMs: this.elapsedMs(), flags, sems };
    const interval = Math.min(this.o.keyInterval ?? KEY_INTERVAL, KEY_INTERVAL);
    let rec: Uint8Array;
    const ranges = this.stats.frames === 0 ? undefined : changedRanges(this.prev, this.cur);
    let changed = 0;
    for (const r of ranges ?? []) changed += r.length + 8;
    if (!ranges || this.framesSinceKey + 1 >= interval || this.deltaBytesSinceKey + changed > this.header.size) {
      rec = encodeKeyFrame(f, this.cur);
      this.stats.keyFrames++;
      this.deltaBytesSinceKey = 0;
      this.framesSinceKey = 0;
    } else {
      rec = encodeDeltaFrame(f, this.cur, ranges);
      this.deltaBytesSinceKey += changed;
      this.framesSinceKey++;
    }
    this.prev.set(this.cur);
    this.emit(rec);
    this.stats.frames++;
    if (flags & FLAG_TORN) this.stats.torn++;
    if (flags & FLAG_SHORT) this.stats.short++;
  }
}

/**
 * Records at `header.hz` on absolute deadlines (the rate does not drift with the time a frame
 * takes) until `durationMs` has passed or `signal` aborts; each frame may retry its seqlock until
 * 80 % of its period. A frame that runs past its slot skips the slots it overran (counted as missed).
 */
export async function runRecording(rec: Recorder, opts: { durationMs?: number; signal?: AbortSignal; onFrame?: (s: RecorderStats) => void; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> }): Promise<RecorderStats> {
  const period = 1000 / rec.header.hz;
  const sleep = opts.sleep ?? ((ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  }));
  const end = opts.durationMs ?? Infinity;
  let slot = 0;
  while (!opts.signal?.aborted) {
    const due = slot * period;
    if (due >= end) break;
    const wait = due - rec.elapsedMs();
    if (wait > 0) await sleep(wait, opts.signal);
    if (opts.signal?.aborted) break;
    await rec.capture(rec.elapsedMs() + period * 0.8);
    opts.onFrame?.(rec.stats);
    const next = Math.floor(rec.elapsedMs() / period) + 1;
    if (next > slot + 1) rec.stats.missed += next - slot - 1;
    slot = Math.max(slot + 1, next);
  }
  return rec.stats;
}
