// The `*.shmrec` file: an object's bytes over time, as key frames and byte-range deltas, with a
// JSON header saying what was recorded, how and when. Pure: no vscode, no fs, no native import.
//
// Layout (all integers little-endian):
//   "SHMREC01" | uint32 header length N | N bytes of UTF-8 JSON header (RecordingHeader)
//   then records, each:
//     uint32 body length L (the bytes after this field)
//     uint8  kind: 1 key frame, 2 delta frame
//     uint8  flags: bit 0 torn (no stable seqlock generation within the frame's budget),
//                   bit 1 short (the object was smaller than the window: the rest is zeros)
//     uint16 S, the number of semaphore values
//     uint32 frame number (0, 1, 2, … with no gaps)
//     float64 time in milliseconds since the header's `startMs`
//     S × int32 semaphore values
//     key frame: the whole window (header.size bytes)
//     delta frame: { uint32 offset in the window, uint32 length, length bytes } repeated to L
// A recording is appended to as it is taken, so a file cut short (power loss, SIGKILL) is still
// valid up to its last whole record: the reader indexes what is there and ignores a partial tail.

export const RECORDING_MAGIC = 'SHMREC01';
const PREFIX = 12;
const MAX_HEADER = 1 << 20;
/** Bytes of a record before its semaphore values: length, kind, flags, S, frame, time. */
export const RECORD_HEAD = 4 + 1 + 1 + 2 + 4 + 8;
/** Cost of one delta range beyond its bytes; changed bytes closer than this merge into one range. */
const RANGE_HEAD = 8;

/**
 * A key frame comes at least every this many frames: the recorder writes one, and the reader
 * refuses a file without (a seek then never decodes more than this many records).
 */
export const KEY_INTERVAL = 4096;
/** Most frames a reader indexes (21 bytes each: 88 MiB); later frames are left out, and it says so. */
export const MAX_INDEXED_FRAMES = 1 << 22;

/** The most bytes of an object replay places (and a window may hold): past it, a header is refused. */
const MAX_PLACED = 1 << 30;
/** How far past the recorded ranges replay shows an object's unrecorded bytes (as zeros). */
const ZEROS_PLACED = 16 << 20;

export const FLAG_TORN = 1;
export const FLAG_SHORT = 2;
export const KIND_KEY = 1;
export const KIND_DELTA = 2;

/** One recorded range of the object: the window is these ranges end to end. */
export interface RecordedRange {
  offset: number;
  length: number;
}

/** What a recording says about itself (the JSON header). */
export interface RecordingHeader {
  version: 1;
  /** The object as a target string (`key:0x52494e47`, `shm:5`, `posix:/ring`). */
  target: string;
  /** How a person names it (`key 0x52494e47 · id 3`). */
  title: string;
  /** The machine it was recorded on. */
  host: string;
  /** When the recording started: ISO-8601 and epoch milliseconds. */
  start: string;
  startMs: number;
  /** Frames per second asked for. */
  hz: number;
  /** The object's size when the recording started. */
  objectSize: number;
  /** What each frame holds, in order; the window's size is the sum of their lengths. */
  ranges: RecordedRange[];
  size: number;
  /** The schema bound while recording: its text (so the file explains itself), file and type. */
  schema?: { file: string; type?: string; text: string };
  /** The `[[seqlock]]` counter every frame was read under (absolute offset in the object). */
  seqlock?: { path: string; offset: number; size: number; littleEndian: boolean };
  /** The semaphore set whose values ride along with each frame. */
  semaphores?: { target: string; count: number };
}

/** A file that is not a recording, or a damaged one. */
export class RecordingError extends Error {
  readonly code = 'EINVAL';
}

/** The bytes before the first record: magic, length, JSON header. */
export function encodeRecordingHeader(h: RecordingHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(PREFIX + json.length);
  out.set(new TextEncoder().encode(RECORDING_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, PREFIX);
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** How many bytes the header prefix says the header takes (magic checked); from the first 12 bytes. */
export function recordingHeaderLength(start: Uint8Array): number {
  if (start.length < PREFIX || new TextDecoder().decode(start.subarray(0, 8)) !== RECORDING_MAGIC) {
    throw new RecordingError('not a shmscope recording (no SHMREC01 signature)');
  }
  const n = new DataView(start.buffer, start.byteOffset, start.byteLength).getUint32(8, true);
  if (n > MAX_HEADER) throw new RecordingError(`recording header claims ${n} bytes (at most ${MAX_HEADER})`);
  return PREFIX + n;
}

/** Parses and validates the header (untrusted input); returns it and where the records start. */
export function decodeRecordingHeader(start: Uint8Array): { header: RecordingHeader; dataOffset: number } {
  const end = recordingHeaderLength(start);
  if (start.length < end) throw new RecordingError('recording header is truncated');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(start.subarray(PREFIX, end)));
  } catch {
    throw new RecordingError('recording header is not valid JSON');
  }
  const h = raw as Partial<RecordingHeader> | null;
  const bad = (what: string): never => {
    throw new RecordingError(`recording header: ${what}`);
  };
  if (!h || typeof h !== 'object') bad('not an object');
  if (h!.version !== 1) bad(`version ${JSON.stringify(h!.version)} is not supported (this shmscope reads version 1)`);
  for (const k of ['target', 'title', 'host', 'start'] as const) if (typeof h![k] !== 'string') bad(`"${k}" is not a string`);
  if (typeof h!.startMs !== 'number' || !Number.isFinite(h!.startMs)) bad('"startMs" is not a number');
  if (typeof h!.hz !== 'number' || !(h!.hz > 0)) bad('"hz" is not a positive number');
  if (!isCount(h!.objectSize) || !isCount(h!.size)) bad('"size" or "objectSize" is not a byte count');
  if (!Array.isArray(h!.ranges) || h!.ranges.length === 0 || h!.ranges.length > 4096) bad('"ranges" is not a list of 1 to 4096 ranges');
  let total = 0;
  for (const r of h!.ranges!) {
    if (!r || !isCount(r.offset) || !isCount(r.length) || r.length === 0) bad('a range is not {offset, length}');
    if (r.offset + r.length > h!.objectSize!) bad(`the range ${r.offset}:${r.length} runs past the object's ${h!.objectSize} bytes`);
    if (r.offset + r.length > MAX_PLACED) bad(`the range ${r.offset}:${r.length} ends past 1 GiB, further than replay places an object's bytes`);
    total += r.length;
  }
  if (total !== h!.size) bad(`the ranges hold ${total} bytes but "size" says ${h!.size}`);
  if (h!.size! > MAX_PLACED) bad('a window of more than 1 GiB');
  const s = h!.schema;
  if (s !== undefined && (typeof s !== 'object' || typeof s.text !== 'string' || typeof s.file !== 'string' || (s.type !== undefined && typeof s.type !== 'string'))) bad('"schema" is not {file, type, text}');
  const q = h!.seqlock;
  if (q !== undefined && (typeof q !== 'object' || typeof q.path !== 'string' || !isCount(q.offset) || ![1, 2, 4, 8].includes(q.size) || typeof q.littleEndian !== 'boolean')) bad('"seqlock" is not {path, offset, size, littleEndian}');
  const m = h!.semaphores;
  if (m !== undefined && (typeof m !== 'object' || typeof m.target !== 'string' || !isCount(m.count) || m.count > 65535)) bad('"semaphores" is not {target, count}');
  return { header: h as RecordingHeader, dataOffset: end };
}

/** One frame as the recorder hands it over. */
export interface FrameIn {
  frame: number;
  timeMs: number;
  flags: number;
  sems?: readonly number[];
}

function writeHead(out: Uint8Array, length: number, kind: number, f: FrameIn): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const s = f.sems?.length ?? 0;
  dv.setUint32(0, length - 4, true);
  out[4] = kind;
  out[5] = f.flags;
  dv.setUint16(6, s, true);
  dv.setUint32(8, f.frame, true);
  dv.setFloat64(12, f.timeMs, true);
  for (let i = 0; i < s; i++) dv.setInt32(RECORD_HEAD + 4 * i, f.sems![i]! | 0, true);
  return RECORD_HEAD + 4 * s;
}

/** A key frame record: the whole window. */
export function encodeKeyFrame(f: FrameIn, window: Uint8Array): Uint8Array {
  const at = RECORD_HEAD + 4 * (f.sems?.length ?? 0);
  const out = new Uint8Array(at + window.length);
  writeHead(out, out.length, KIND_KEY, f);
  out.set(window, at);
  return out;
}

/**
 * The ranges where `cur` differs from `prev` (same length), merging ranges closer than a range
 * header costs. Compares 4 bytes at a time, so an unchanged 64 KiB window costs microseconds.
 */
export function changedRanges(prev: Uint8Array, cur: Uint8Array): RecordedRange[] {
  const out: RecordedRange[] = [];
  const n = Math.min(prev.length, cur.length);
  // 32-bit words where both views are aligned (plain numbers: no allocation per comparison).
  const aligned = prev.byteOffset % 4 === 0 && cur.byteOffset % 4 === 0;
  const words = aligned ? n >> 2 : 0;
  const a = aligned ? new Uint32Array(prev.buffer, prev.byteOffset, words) : undefined;
  const b = aligned ? new Uint32Array(cur.buffer, cur.byteOffset, words) : undefined;
  let start = -1;
  let last = -1;
  const mark = (i: number) => {
    if (start >= 0 && i - last - 1 < RANGE_HEAD) {
      last = i;
      return;
    }
    if (start >= 0) out.push({ offset: start, length: last - start + 1 });
    start = i;
    last = i;
  };
  for (let w = 0; w < words; w++) {
    if (a![w] === b![w]) continue;
    for (let i = w * 4; i < w * 4 + 4; i++) if (prev[i] !== cur[i]) mark(i);
  }
  for (let i = words * 4; i < n; i++) if (prev[i] !== cur[i]) mark(i);
  if (start >= 0) out.push({ offset: start, length: last - start + 1 });
  return out;
}

/** A delta frame record holding `ranges` of `cur`. */
export function encodeDeltaFrame(f: FrameIn, cur: Uint8Array, ranges: readonly RecordedRange[]): Uint8Array {
  let body = 0;
  for (const r of ranges) body += RANGE_HEAD + r.length;
  const at = RECORD_HEAD + 4 * (f.sems?.length ?? 0);
  const out = new Uint8Array(at + body);
  writeHead(out, out.length, KIND_DELTA, f);
  const dv = new DataView(out.buffer);
  let p = at;
  for (const r of ranges) {
    dv.setUint32(p, r.offset, true);
    dv.setUint32(p + 4, r.length, true);
    out.set(cur.subarray(r.offset, r.offset + r.length), p + RANGE_HEAD);
    p += RANGE_HEAD + r.length;
  }
  return out;
}

/** A record's fixed part, parsed from its first bytes. */
export interface RecordHead {
  /** Bytes of the whole record, length field included. */
  length: number;
  kind: number;
  flags: number;
  frame: number;
  timeMs: number;
  semCount: number;
}

/** Parses a record's head at `p` of `buf`; undefined when `buf` does not hold it (a partial tail). */
export function readRecordHead(buf: Uint8Array, p: number): RecordHead | undefined {
  if (p + RECORD_HEAD > buf.length) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const body = dv.getUint32(p, true);
  return {
    length: body + 4,
    kind: buf[p + 4]!,
    flags: buf[p + 5]!,
    semCount: dv.getUint16(p + 6, true),
    frame: dv.getUint32(p + 8, true),
    timeMs: dv.getFloat64(p + 12, true),
  };
}

/**
 * Applies the record at `rec` (a whole record) to `window`: a key frame replaces it, a delta
 * patches it. Returns the semaphore values. Throws RecordingError on a damaged record (a range
 * past the window, a key frame of the wrong size), never writes out of bounds.
 */
export function applyRecord(rec: Uint8Array, window: Uint8Array): number[] {
  const head = readRecordHead(rec, 0);
  if (!head || head.length !== rec.length) throw new RecordingError('a record is truncated');
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const at = RECORD_HEAD + 4 * head.semCount;
  if (at > rec.length) throw new RecordingError(`frame ${head.frame}: its semaphore values run past the record`);
  const sems: number[] = [];
  for (let i = 0; i < head.semCount; i++) sems.push(dv.getInt32(RECORD_HEAD + 4 * i, true));
  if (head.kind === KIND_KEY) {
    if (rec.length - at !== window.length) throw new RecordingError(`frame ${head.frame}: a key frame of ${rec.length - at} bytes in a ${window.length}-byte window`);
    window.set(rec.subarray(at));
    return sems;
  }
  if (head.kind !== KIND_DELTA) throw new RecordingError(`frame ${head.frame}: unknown record kind ${head.kind}`);
  for (let p = at; p < rec.length; ) {
    if (p + RANGE_HEAD > rec.length) throw new RecordingError(`frame ${head.frame}: a range header is cut short`);
    const off = dv.getUint32(p, true);
    const len = dv.getUint32(p + 4, true);
    if (p + RANGE_HEAD + len > rec.length || off + len > window.length) throw new RecordingError(`frame ${head.frame}: a range of ${len} bytes at ${off} runs past the window`);
    window.set(rec.subarray(p + RANGE_HEAD, p + RANGE_HEAD + len), off);
    p += RANGE_HEAD + len;
  }
  return sems;
}

/** The window's bytes placed at their offsets in an object-sized buffer (unrecorded bytes are 0). */
export function placeWindow(header: RecordingHeader, window: Uint8Array, into?: Uint8Array): Uint8Array {
  const single = header.ranges.length === 1 && header.ranges[0]!.offset === 0 && header.ranges[0]!.length >= header.objectSize;
  if (single) return window;
  // The header is checked: every range ends within objectSize and within MAX_PLACED. Unrecorded
  // bytes read as zeros up to the object's size, but a header saying "2^50 bytes" around a small
  // range must not make every frame allocate that: zeros go at most 16 MiB past the last range.
  const ends = Math.max(...header.ranges.map((r) => r.offset + r.length));
  const size = Math.min(header.objectSize, Math.max(ends, ZEROS_PLACED));
  const out = into && into.length === size ? into : new Uint8Array(size);
  let p = 0;
  for (const r of header.ranges) {
    out.set(window.subarray(p, p + r.length), r.offset);
    p += r.length;
  }
  return out;
}
