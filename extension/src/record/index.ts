// Recordings on disk and from live objects: the Node side of `extension/src/shared/record`, used
// by `shmscope record` and by the inspector's Start Recording. No vscode import.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { describeTarget, formatTarget, openShm, parseTarget, psemValue, resolveKey, semGet, type ShmHandle, type Target } from '../ipc';
import { FileRefused, openRegularFile } from '../ipc/regular';
import { userError } from '../ipc/errors';
import { binding } from '../ipc/native';
import { Recorder, Recording, RecordingError, findSeqlock, runRecording, type RandomAccess, type RecordedRange, type RecorderStats, type RecordingHeader } from '../shared/record';
import { findType, defaultSegment, type Schema } from '../shared/schema';

/** The largest window one frame reads (each frame copies and compares all of it). */
const MAX_WINDOW = 64 << 20;

/** A recording file opened for reading (positional reads, nothing loaded up front). */
export class RecordingFile implements RandomAccess {
  private readonly fd: number;
  constructor(readonly path: string) {
    // A FIFO named like a recording must not block the open; only a regular file is read.
    try {
      this.fd = openRegularFile(path);
    } catch (e) {
      if (e instanceof FileRefused && e.code !== 'ENOENT' && e.code !== 'EACCES') throw new RecordingError(e.message);
      throw e;
    }
  }
  get size(): number {
    return fstatSync(this.fd).size;
  }
  read(position: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(length, this.size - position)));
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === out.length ? out : out.subarray(0, done);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Opens a `.shmrec` for replay; the caller closes `file`. */
export function openRecording(path: string): { recording: Recording; file: RecordingFile } {
  const file = new RecordingFile(path);
  try {
    return { recording: new Recording(file), file };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** Opens a `.shmrec` for the editor: the index is built between turns of the event loop. */
export async function openRecordingAsync(path: string, signal?: AbortSignal): Promise<{ recording: Recording; file: RecordingFile }> {
  const file = new RecordingFile(path);
  try {
    return { recording: await Recording.open(file, signal), file };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** What to record. */
export interface RecordRequest {
  target: Target | string;
  hz: number;
  ranges?: RecordedRange[];
  /** The schema bound while recording; its seqlock makes the frames consistent. */
  schema?: { schema: Schema; file: string; text: string; type?: string };
  /** A semaphore set (`sem:ID`, `key:0x…`) or POSIX semaphore (`psem:/NAME`) whose values ride along. */
  semaphores?: Target | string;
  output: string;
  title?: string;
  /**
   * The object already open (a region, an unlinked POSIX object or a ring, which only a scan of
   * /proc reaches: see ipc.openObject); the recording closes it. Else `target` is opened here.
   */
  handle?: ShmHandle;
}

/** A recording being taken: its stats, and stop. */
export interface LiveRecording {
  readonly header: RecordingHeader;
  readonly stats: RecorderStats;
  elapsedMs(): number;
  /** Resolves when the recording has ended (duration reached or stopped) and the file is closed. */
  readonly done: Promise<RecorderStats>;
  stop(): void;
}

/** The segment's semaphore set: the System V set with the same key, when there is one. */
export function semaphoresOf(t: Target): Target | undefined {
  if (t.kind !== 'shm') return undefined;
  try {
    const key = binding().shmStat(t.id).key >>> 0;
    return key ? resolveKey(key, 'sem') : undefined;
  } catch {
    return undefined;
  }
}

function semReader(t: Target): { count: number; read: () => number[] } {
  if (t.kind === 'sem') return { count: semGet(t.id).nsems, read: () => semGet(t.id).values };
  if (t.kind === 'posix-sem') return { count: 1, read: () => [psemValue(t.name)] };
  throw userError('EINVAL', 'record', `${describeTarget(t)} is not a semaphore set or POSIX semaphore`);
}

function titleOf(t: Target): string {
  if (t.kind === 'shm') {
    const key = binding().shmStat(t.id).key >>> 0;
    return `${key ? `key 0x${key.toString(16).padStart(8, '0')}` : 'private'} · id ${t.id}`;
  }
  return t.kind === 'posix-shm' ? t.name : describeTarget(t);
}

/** Starts recording `req.target` into `req.output` (created, or replaced when it exists: the save dialog asks first). */
export function startRecording(req: RecordRequest, opts: { durationMs?: number; onFrame?: (s: RecorderStats) => void } = {}): LiveRecording {
  const t = typeof req.target === 'string' ? parseTarget(req.target, 'shm') : req.target;
  const handle = req.handle ?? openShm(t);
  let fd: number | undefined;
  try {
    const objectSize = handle.size;
    const ranges = req.ranges?.length ? req.ranges : [{ offset: 0, length: objectSize }];
    for (const r of ranges) {
      if (r.offset + r.length > objectSize) {
        throw userError('ERANGE', 'record', `the range ${r.offset}:${r.length} runs past the end of ${describeTarget(t)} (${objectSize} bytes)`);
      }
    }
    const window = ranges.reduce((a, r) => a + r.length, 0);
    if (window > MAX_WINDOW) {
      throw userError('EFBIG', 'record', `a frame of ${window} bytes is more than a recording reads ${MAX_WINDOW >> 20} MiB at a time: record the part that matters with --range OFF:LEN`);
    }
    const semTarget = req.semaphores === undefined ? undefined : typeof req.semaphores === 'string' ? parseTarget(req.semaphores, 'sem') : req.semaphores;
    const sems = semTarget ? semReader(semTarget) : undefined;
    const type = req.schema ? (req.schema.type ? findType(req.schema.schema, req.schema.type) : defaultSegment(req.schema.schema)) : undefined;
    const seqlock = req.schema && type ? findSeqlock(req.schema.schema, type) : undefined;
    if (seqlock && seqlock.offset + seqlock.size > objectSize) {
      throw userError('ERANGE', 'record', `the schema's seqlock ${seqlock.path} (at ${seqlock.offset}) lies past the end of ${describeTarget(t)} (${objectSize} bytes): is it the right schema?`);
    }
    const now = new Date();
    const header: RecordingHeader = {
      version: 1,
      target: formatTarget(t),
      title: req.title ?? titleOf(t),
      host: hostname(),
      start: now.toISOString(),
      startMs: now.getTime(),
      hz: req.hz,
      objectSize,
      ranges,
      size: window,
      ...(req.schema ? { schema: { file: req.schema.file, text: req.schema.text, ...(type ? { type: type.name } : {}) } } : {}),
      ...(seqlock ? { seqlock } : {}),
      ...(semTarget && sems ? { semaphores: { target: formatTarget(semTarget), count: sems.count } } : {}),
    };
    fd = openSync(req.output, 'w', 0o600);
    const out = fd;
    // One write per record: a recording killed at any moment is valid up to its last frame.
    const rec = new Recorder(header, { source: handle, write: (b) => void writeSync(out, b), sems: sems?.read });
    const abort = new AbortController();
    const done = runRecording(rec, { durationMs: opts.durationMs, signal: abort.signal, onFrame: opts.onFrame }).finally(() => {
      closeSync(out);
      handle.close();
    });
    return { header, stats: rec.stats, elapsedMs: () => rec.elapsedMs(), done, stop: () => abort.abort() };
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    handle.close();
    throw e;
  }
}
