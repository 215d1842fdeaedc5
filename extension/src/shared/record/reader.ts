// Reading a `.shmrec`: one pass over the record heads builds the seek index (where each frame
// starts, its time, and the key frame it depends on); a seek then reads one contiguous run of
// records, from that key frame (or from the frame already decoded, when it is on the way) to the
// frame asked for. Pure: the bytes come through a RandomAccess (a file, or memory in tests).
import {
  applyRecord, decodeRecordingHeader, FLAG_SHORT, FLAG_TORN, KEY_INTERVAL, KIND_DELTA, KIND_KEY, MAX_INDEXED_FRAMES, placeWindow, RECORD_HEAD, recordingHeaderLength,
  RecordingError, type RecordingHeader,
} from './format';
import { DURATION_FORMS, formatSeconds, parseTimePoint } from '../time';

/** Positional reads of a file's bytes: fewer bytes only at the end. */
export interface RandomAccess {
  readonly size: number;
  read(position: number, length: number): Uint8Array;
}

/** A RandomAccess over bytes in memory. */
export class MemoryAccess implements RandomAccess {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(position: number, length: number): Uint8Array {
    return this.bytes.subarray(position, Math.min(this.bytes.length, position + length));
  }
}

/** One frame as replay shows it. */
export interface Frame {
  index: number;
  /** Milliseconds since the recording started. */
  timeMs: number;
  torn: boolean;
  short: boolean;
  /** The window's bytes (header.ranges end to end). Valid until the next seek: copy to keep. */
  window: Uint8Array;
  sems: number[];
}

const SCAN_CHUNK = 1 << 20;

/** Growable columns of the frame index (typed arrays: 21 bytes a frame, not four JS arrays). */
class Columns {
  offsets = new Float64Array(1024);
  times = new Float64Array(1024);
  flags = new Uint8Array(1024);
  keyOf = new Uint32Array(1024);
  length = 0;
  push(offset: number, time: number, flags: number, key: number): void {
    if (this.length === this.offsets.length) {
      const grow = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.offsets = grow(this.offsets, (n) => new Float64Array(n));
      this.times = grow(this.times, (n) => new Float64Array(n));
      this.flags = grow(this.flags, (n) => new Uint8Array(n));
      this.keyOf = grow(this.keyOf, (n) => new Uint32Array(n));
    }
    const i = this.length++;
    this.offsets[i] = offset;
    this.times[i] = time;
    this.flags[i] = flags;
    this.keyOf[i] = key;
  }
}

/** What one pass over the record heads found. */
interface Index {
  header: RecordingHeader;
  cols: Columns;
  end: number;
  framesLeftOut: boolean;
}

/**
 * Scans the record heads, one MiB read at a time, yielding after each read so that a caller on a
 * thread that must stay responsive (the extension host) can let other work run in between.
 */
function* scan(file: RandomAccess): Generator<void, Index> {
  const first = file.read(0, 12);
  const headerEnd = recordingHeaderLength(first);
  const { header, dataOffset } = decodeRecordingHeader(file.read(0, headerEnd));
  const cols = new Columns();
  let lastKey = -1;
  let pos = dataOffset;
  let lastTime = 0;
  let framesLeftOut = false;
  let chunk: Uint8Array = new Uint8Array(0);
  let dv = new DataView(chunk.buffer);
  let chunkAt = pos;
  const size = file.size;
  for (;;) {
    if (pos + RECORD_HEAD > chunkAt + chunk.length) {
      if (cols.length > 0) yield;
      chunk = file.read(pos, SCAN_CHUNK);
      dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      chunkAt = pos;
      if (chunk.length < RECORD_HEAD) break;
    }
    const p = pos - chunkAt;
    const length = dv.getUint32(p, true) + 4;
    if (length < RECORD_HEAD || pos + length > size) break;
    const index = cols.length;
    if (index >= MAX_INDEXED_FRAMES) {
      framesLeftOut = true;
      break;
    }
    const kind = chunk[p + 4]!;
    const frame = dv.getUint32(p + 8, true);
    const time = dv.getFloat64(p + 12, true);
    if (frame !== index || (kind !== KIND_KEY && kind !== KIND_DELTA)) throw new RecordingError(`record at byte ${pos}: frame ${frame} where frame ${index} was expected`);
    if (kind === KIND_KEY) lastKey = index;
    if (lastKey < 0) throw new RecordingError('the first frame is not a key frame');
    // Enforced: a file without them would make every seek decode from the start.
    if (index - lastKey >= KEY_INTERVAL) throw new RecordingError(`frame ${index}: no key frame in the ${KEY_INTERVAL} frames before it (a recording has one at least every ${KEY_INTERVAL})`);
    if (!Number.isFinite(time) || time < lastTime) throw new RecordingError(`frame ${index}: its time goes backwards`);
    lastTime = time;
    cols.push(pos, time, chunk[p + 5]!, lastKey);
    pos += length;
  }
  return { header, cols, end: pos, framesLeftOut };
}

/** An open recording: the header, the frame index, and a cursor that seeks. */
export class Recording {
  readonly header: RecordingHeader;
  /** Where each frame's record starts in the file. */
  private readonly offsets: Float64Array;
  /** Each frame's time (ms since the start), non-decreasing. */
  readonly times: Float64Array;
  /** Each frame's flags. */
  private readonly flags: Uint8Array;
  /** The key frame each frame is decoded from. */
  private readonly keyOf: Uint32Array;
  /** File position after the last whole record. */
  private readonly end: number;
  /** Bytes at the end of the file that hold no whole record (a recording cut short). */
  readonly partialTail: number;
  /** More than MAX_INDEXED_FRAMES frames: those past it are not shown. */
  readonly framesLeftOut: boolean;
  private readonly window: Uint8Array;
  private current = -1;
  private sems: number[] = [];

  /** Indexes the recording in one go (the CLI, tests); the editor uses `open`. */
  constructor(file: RandomAccess, index?: Index) {
    let ix = index;
    if (!ix) {
      const it = scan(file);
      for (let r = it.next(); ; r = it.next()) if (r.done) {
        ix = r.value;
        break;
      }
    }
    this.file = file;
    this.header = ix.header;
    this.window = new Uint8Array(ix.header.size);
    // Views, not copies: a copy would double the peak memory of a long recording's index.
    const n = ix.cols.length;
    this.offsets = ix.cols.offsets.subarray(0, n);
    this.times = ix.cols.times.subarray(0, n);
    this.flags = ix.cols.flags.subarray(0, n);
    this.keyOf = ix.cols.keyOf.subarray(0, n);
    this.end = ix.end;
    this.partialTail = file.size - ix.end;
    this.framesLeftOut = ix.framesLeftOut;
  }

  private readonly file: RandomAccess;

  /** Indexes the recording, letting the event loop run between MiB reads; `signal` abandons it. */
  static async open(file: RandomAccess, signal?: AbortSignal): Promise<Recording> {
    const it = scan(file);
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) return new Recording(file, r.value);
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new RecordingError('opening the recording was cancelled');
    }
  }

  get frameCount(): number {
    return this.offsets.length;
  }

  /** Milliseconds from the first frame to the last. */
  get durationMs(): number {
    return this.frameCount ? this.times[this.frameCount - 1]! - this.times[0]! : 0;
  }

  /** Frames whose seqlock never held still within their budget. */
  get tornCount(): number {
    let n = 0;
    for (const f of this.flags) if (f & FLAG_TORN) n++;
    return n;
  }

  /** The last frame at or before `timeMs` (the first frame when before it). */
  frameAt(timeMs: number): number {
    let lo = 0;
    let hi = this.frameCount - 1;
    if (hi < 0) throw new RecordingError('the recording has no frames');
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.times[mid]! <= timeMs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The frame `index`, decoded from its key frame (or from the current frame when it is on the way). */
  seek(index: number): Frame {
    if (!Number.isInteger(index) || index < 0 || index >= this.frameCount) {
      throw new RecordingError(`frame ${index} is not in the recording (it has frames 0 to ${this.frameCount - 1})`);
    }
    const key = this.keyOf[index]!;
    const from = this.current >= key && this.current <= index ? this.current + 1 : key;
    if (from <= index) {
      const start = this.offsets[from]!;
      const stop = index + 1 < this.frameCount ? this.offsets[index + 1]! : this.end;
      const run = this.file.read(start, stop - start);
      if (run.length !== stop - start) throw new RecordingError('the recording file shrank while it was read');
      this.current = -1; // a damaged record below leaves no half-applied frame behind
      for (let f = from; f <= index; f++) {
        const a = this.offsets[f]! - start;
        const b = (f + 1 <= index ? this.offsets[f + 1]! : stop) - start;
        this.sems = applyRecord(run.subarray(a, b), this.window);
      }
      this.current = index;
    }
    const flags = this.flags[index]!;
    return { index, timeMs: this.times[index]!, torn: (flags & FLAG_TORN) !== 0, short: (flags & FLAG_SHORT) !== 0, window: this.window, sems: this.sems.slice() };
  }

  /** The frame's bytes at their offsets in the object (unrecorded bytes read as 0). */
  objectBytes(frame: Frame): Uint8Array {
    return placeWindow(this.header, frame.window);
  }

  /** Whether frame `index` is torn, without decoding it. */
  isTorn(index: number): boolean {
    return (this.flags[index]! & FLAG_TORN) !== 0;
  }
}

/**
 * Parses a position the way `decode --at` and Go to Frame or Time take it: `#N` a frame number,
 * else a point in time (shared/time.ts): a time since the start (`12.5s`, `350ms`, `1m30s`; a bare
 * number is seconds) or an ISO-8601 time. Returns a frame index. A time outside the recording (its
 * start to one frame period after its last frame) is an error that says its span, never its first
 * or last frame.
 */
export function parsePosition(rec: Recording, text: string): number {
  const t = text.trim();
  const frame = /^#(\d+)$/.exec(t);
  if (frame) {
    const n = Number(frame[1]);
    if (n >= rec.frameCount) throw new RecordingError(`frame ${n} is not in the recording (it has frames 0 to ${rec.frameCount - 1})`);
    return n;
  }
  const point = parseTimePoint(t, 's');
  if (!point) throw new RecordingError(`"${text}" is not a position: give #FRAME, a time since the start (${DURATION_FORMS}) or an ISO-8601 time`);
  if (rec.frameCount === 0) throw new RecordingError('the recording has no frames');
  const ms = 'afterMs' in point ? point.afterMs : point.epochMs - rec.header.startMs;
  // The last frame stands for the object until the next one would have been taken: one period.
  const endMs = rec.times[rec.frameCount - 1]! + 1000 / rec.header.hz;
  if (ms < 0 || ms > endMs) {
    const iso = (offset: number) => new Date(rec.header.startMs + offset).toISOString();
    throw new RecordingError(`${t} is ${ms < 0 ? 'before the start' : 'past the end'} of the recording, which spans 0 to ${formatSeconds(endMs)} (${iso(0)} to ${iso(endMs)})`);
  }
  return rec.frameAt(ms);
}
