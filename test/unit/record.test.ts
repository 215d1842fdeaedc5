// The `.shmrec` format, the recorder and the reader, on bytes in memory with a fake clock: frames
// round-trip exactly, seeks land on the right bytes from any direction, a held seqlock is retried
// and then flagged torn, a file cut short reads up to its last whole frame, and damaged files
// are refused with RecordingError, never a crash.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  changedRanges, decodeRecordingHeader, encodeRecordingHeader, fieldValue, findSeqlock, FrameDecoder, MemoryAccess, nextChange, nextFailure, parsePath, parsePosition, parseRange, parseWatchList,
  Recorder, Recording, RecordingError, runRecording, sampleSeries, timelineLabel, type RecordingHeader,
} from '../../extension/src/shared/record';
import { PageNotes, parseFromPlot } from '../../extension/src/shared/protocol';

const parseTimelineOp = (v: unknown) => PageNotes.timelineOp.parse(v);
import { compileSchema } from '../../extension/src/shared/schema';

const ringSchema = compileSchema(readFileSync(path.join(__dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8'), 'ring.shms');

function header(size: number, extra: Partial<RecordingHeader> = {}): RecordingHeader {
  return {
    version: 1, target: 'shm:1', title: 'test', host: 'h', start: new Date(0).toISOString(), startMs: 0, hz: 100,
    objectSize: size, ranges: [{ offset: 0, length: size }], size, ...extra,
  };
}

/** An object in memory the recorder reads, with a fake clock. */
function rig(size: number, extra: Partial<RecordingHeader> = {}, keyInterval?: number) {
  const mem = new Uint8Array(size);
  const out: Uint8Array[] = [];
  let clock = 0;
  let reads = 0;
  let onRead: ((n: number) => void) | undefined;
  const source = {
    readInto(buf: Uint8Array, offset: number) {
      reads++;
      onRead?.(reads);
      const n = Math.max(0, Math.min(buf.length, mem.length - offset));
      buf.set(mem.subarray(offset, offset + n));
      return n;
    },
  };
  const rec = new Recorder(header(size, extra), {
    source, write: (b) => out.push(b.slice()), now: () => clock, pause: () => { clock += 1; return Promise.resolve(); }, keyInterval,
  });
  const file = () => {
    const all = new Uint8Array(out.reduce((a, b) => a + b.length, 0));
    let p = 0;
    for (const b of out) {
      all.set(b, p);
      p += b.length;
    }
    return all;
  };
  return { mem, rec, file, tick: (ms: number) => (clock += ms), setOnRead: (f: typeof onRead) => (onRead = f) };
}

describe('.shmrec format', () => {
  it('round-trips every frame exactly, seeking forwards, backwards and at random', async () => {
    const r = rig(4096, {}, 16);
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      r.mem[(i * 37) % 4096] = i;
      r.mem.set([i, i + 1, i + 2], 64 + (i % 16) * 64);
      if (i % 25 === 0) r.mem.fill(i, 1000, 3000);
      await r.rec.capture(1e9);
      expected.push(r.mem.slice());
      r.tick(10);
    }
    const rec = new Recording(new MemoryAccess(r.file()));
    assert.equal(rec.frameCount, 100);
    assert.equal(rec.partialTail, 0);
    assert.ok(r.rec.stats.keyFrames >= 100 / 16, `a key frame at least every 16 frames (${r.rec.stats.keyFrames})`);
    const order = [...Array(100).keys(), ...[...Array(100).keys()].reverse(), 7, 93, 0, 50, 51, 49, 99, 15, 16, 17];
    for (const i of order) assert.deepEqual(rec.seek(i).window, expected[i], `frame ${i}`);
    assert.equal(rec.seek(42).timeMs, 420);
    assert.equal(rec.frameAt(425), 42);
    assert.equal(rec.frameAt(-5), 0);
    assert.equal(rec.frameAt(1e9), 99);
  });

  it('stores a few changed bytes as a delta of about their size, not the window', async () => {
    const r = rig(65536);
    await r.rec.capture(1e9);
    const afterKey = r.rec.stats.bytes;
    for (let i = 0; i < 100; i++) {
      r.mem.set([1, 2, 3, 4, 5, 6, 7, i], 128 + i * 64);
      await r.rec.capture(1e9);
    }
    const perFrame = (r.rec.stats.bytes - afterKey) / 100;
    assert.ok(perFrame < 64, `a delta frame of 8 changed bytes takes ${perFrame} bytes`);
    assert.equal(r.rec.stats.keyFrames, 1);
  });

  it('records only the ranges asked for, placed at their offsets on replay', async () => {
    const r = rig(256, { ranges: [{ offset: 16, length: 8 }, { offset: 200, length: 4 }], size: 12 });
    r.mem.fill(7);
    r.mem.set([1, 2, 3, 4], 200);
    await r.rec.capture(1e9);
    const rec = new Recording(new MemoryAccess(r.file()));
    const f = rec.seek(0);
    assert.deepEqual([...f.window], [7, 7, 7, 7, 7, 7, 7, 7, 1, 2, 3, 4]);
    const obj = rec.objectBytes(f);
    assert.equal(obj.length, 256);
    assert.equal(obj[16], 7);
    assert.equal(obj[15], 0, 'bytes outside the ranges read as 0');
    assert.deepEqual([...obj.subarray(200, 204)], [1, 2, 3, 4]);
  });

  it('carries semaphore values with each frame', async () => {
    const mem = new Uint8Array(8);
    const out: Uint8Array[] = [];
    let v = 0;
    const rec = new Recorder(header(8, { semaphores: { target: 'sem:1', count: 2 } }), {
      source: { readInto: (b, o) => (b.set(mem.subarray(o, o + b.length)), b.length) }, write: (b) => out.push(b.slice()), sems: () => [v, 16 - v],
    });
    for (v = 0; v < 5; v++) await rec.capture(1e9);
    const r = new Recording(new MemoryAccess(Buffer.concat(out)));
    assert.deepEqual(r.seek(3).sems, [3, 13]);
    assert.deepEqual(r.seek(1).sems, [1, 15]);
  });

  it('reads a file cut short up to its last whole frame', async () => {
    const r = rig(512);
    for (let i = 0; i < 10; i++) {
      r.mem[i] = i + 1;
      await r.rec.capture(1e9);
    }
    const all = r.file();
    const rec = new Recording(new MemoryAccess(all.subarray(0, all.length - 3)));
    assert.equal(rec.frameCount, 9);
    assert.ok(rec.partialTail > 0);
    assert.equal(rec.seek(8).window[8], 9);
  });

  it('refuses what is not a recording, or a damaged one, with RecordingError', () => {
    assert.throws(() => new Recording(new MemoryAccess(new TextEncoder().encode('SHMSNAP1xxxxxxxxxx'))), RecordingError);
    const bad = encodeRecordingHeader({ ...header(16), size: 99 });
    assert.throws(() => decodeRecordingHeader(bad), /ranges hold 16 bytes/);
    const future = encodeRecordingHeader({ ...header(16), version: 2 as 1 });
    assert.throws(() => decodeRecordingHeader(future), /version 2/);
  });

  it('never fails other than with RecordingError on damaged bytes (fuzz)', async () => {
    const r = rig(256, {}, 4);
    for (let i = 0; i < 20; i++) {
      r.mem[i * 7] = i;
      await r.rec.capture(1e9);
    }
    const good = r.file();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.nat(good.length), (flips, cut) => {
        const bytes = good.slice(0, Math.max(cut, 12));
        for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
        try {
          const rec = new Recording(new MemoryAccess(bytes));
          for (let i = 0; i < rec.frameCount; i++) rec.seek(i);
        } catch (e) {
          if (!(e instanceof RecordingError)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('merges changed bytes closer than a range header into one range', () => {
    const a = new Uint8Array(64);
    const b = a.slice();
    b[3] = 1;
    b[9] = 1; // 5 bytes apart: one range
    b[40] = 1; // far: another
    b[63] = 1;
    assert.deepEqual(changedRanges(a, b), [{ offset: 3, length: 7 }, { offset: 40, length: 1 }, { offset: 63, length: 1 }]);
    assert.deepEqual(changedRanges(a, a.slice()), []);
  });

  it('parses positions: #frame, times since the start, ISO times', async () => {
    const r = rig(8);
    for (let i = 0; i < 50; i++) {
      await r.rec.capture(1e9);
      r.tick(100);
    }
    const rec = new Recording(new MemoryAccess(r.file()));
    assert.equal(parsePosition(rec, '#7'), 7);
    assert.equal(parsePosition(rec, '1.25s'), 12);
    assert.equal(parsePosition(rec, '2'), 20);
    assert.equal(parsePosition(rec, '350ms'), 3);
    assert.equal(parsePosition(rec, '0m4s'), 40);
    assert.equal(parsePosition(rec, new Date(1500).toISOString()), 15);
    assert.throws(() => parsePosition(rec, '#50'), /frames 0 to 49/);
    assert.throws(() => parsePosition(rec, 'soon'), /not a position/);
    assert.deepEqual(parseRange('0x40:1024'), { offset: 64, length: 1024 });
    assert.equal(parseRange('12:0'), undefined);
  });
});

describe('recorder and seqlock', () => {
  const seq = findSeqlock(ringSchema, 'Ring')!;

  it('finds the seqlock counter of the bound segment at its absolute offset', () => {
    assert.deepEqual(seq, { path: 'hdr.seq', offset: 32, size: 4, littleEndian: true });
  });

  it('takes a frame only inside one generation: an odd or moving counter is retried', async () => {
    const r = rig(128, { seqlock: seq });
    const dv = new DataView(r.mem.buffer);
    dv.setUint32(32, 5, true); // a writer is inside
    r.setOnRead((n) => {
      if (n === 30) {
        r.mem[100] = 42; // ...finishes its write
        dv.setUint32(32, 6, true);
      }
    });
    const flags = await r.rec.capture(1e9);
    assert.equal(flags, 0, 'not torn');
    const rec = new Recording(new MemoryAccess(r.file()));
    assert.equal(rec.seek(0).window[100], 42, 'the frame holds the finished write');
    assert.equal(new DataView(rec.seek(0).window.buffer).getUint32(32, true), 6);
  });

  it('flags a frame torn when no generation holds within its budget, and counts it', async () => {
    const r = rig(128, { seqlock: seq });
    new DataView(r.mem.buffer).setUint32(32, 7, true); // held for good
    const flags = await r.rec.capture(5); // 5 ms of (fake) budget
    assert.equal(flags & 1, 1);
    assert.equal(r.rec.stats.torn, 1);
    new DataView(r.mem.buffer).setUint32(32, 8, true);
    assert.equal(await r.rec.capture(r.rec.elapsedMs() + 5), 0);
    const rec = new Recording(new MemoryAccess(r.file()));
    assert.equal(rec.tornCount, 1);
    assert.equal(rec.isTorn(0), true);
    assert.equal(rec.seek(1).torn, false);
  });

  it('runs on a fixed rate for a duration, and stops at once when aborted', async () => {
    const r = rig(64);
    let slept = 0;
    const stats = await runRecording(r.rec, { durationMs: 1000, sleep: (ms) => { slept += ms; r.tick(ms); return Promise.resolve(); } });
    assert.equal(stats.frames, 100, '1 s at 100 Hz');
    assert.ok(slept > 0);
    const abort = new AbortController();
    const r2 = rig(64);
    const stats2 = await runRecording(r2.rec, { signal: abort.signal, sleep: (ms) => { r2.tick(ms); return Promise.resolve(); }, onFrame: (s) => s.frames === 7 && abort.abort() });
    assert.equal(stats2.frames, 7);
  });
});

describe('replay through the schema', () => {
  let lastFile: Uint8Array | undefined;
  /** A recording of the ring fixture whose head moves by one per frame, with its schema inside. */
  async function ringRecording(frames: number, badCrcAt?: number) {
    const { ringBytes } = await import('../helpers/schema-ring');
    const text = readFileSync(path.join(__dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8');
    const base = ringBytes(4, { head: 5n, tail: 2n });
    const out: Uint8Array[] = [];
    let clock = 0;
    const mem = base.slice();
    const r = {
      mem,
      rec: new Recorder({ ...header(base.length), schema: { file: 'ring.shms', text, type: 'Ring' }, semaphores: { target: 'sem:1', count: 1 } }, {
        source: { readInto: (b, o) => (b.set(mem.subarray(o, o + b.length)), b.length) }, write: (b) => out.push(b.slice()), now: () => clock, sems: () => [7],
      }),
      tick: (ms: number) => (clock += ms),
      file: () => (lastFile = Buffer.concat(out)),
    };
    r.mem.set(base);
    const dv = new DataView(r.mem.buffer);
    for (let i = 0; i < frames; i++) {
      dv.setBigUint64(16, 5n + BigInt(Math.floor(i / 2)), true); // head moves every other frame
      dv.setBigUint64(24, 2n + BigInt(Math.floor(i / 2)), true); // and tail with it: the ring check holds
      // A wrong crc in frame badCrcAt only: flipped there, flipped back in the next frame.
      if (badCrcAt !== undefined && (i === badCrcAt || i === badCrcAt + 1)) dv.setUint32(36, dv.getUint32(36, true) ^ 1, true);
      await r.rec.capture(1e9);
      r.tick(50);
    }
    return new Recording(new MemoryAccess(r.file()));
  }
  /** The file bytes of ringRecording(frames). */
  async function ringRecordingBytes(frames: number): Promise<Uint8Array> {
    lastFile = undefined;
    await ringRecording(frames);
    return lastFile!;
  }

  it('a limit that cuts a frame\'s JSON is reported, and `replay` exits 4 with one line; --max-elements lifts it', async () => {
    const rec = await ringRecording(3);
    const d = new FrameDecoder(rec).decode(1, { maxArrayElements: 2 });
    assert.equal((d.json!.slots as unknown[]).length, 2);
    assert.deepEqual(d.cut, [{ path: 'slots', total: 4, written: 2 }]);
    const { cli, ensureBuilt } = await import('../helpers/ipc');
    ensureBuilt();
    const dir = mkdtempSync(path.join(tmpdir(), 'shmrec-cut-'));
    try {
      const file = path.join(dir, 'ring.shmrec');
      writeFileSync(file, await ringRecordingBytes(3));
      const r = cli(['replay', file, '--json', '--max-elements', '2']);
      assert.equal(r.status, 4, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 3, 'every frame is written');
      assert.deepEqual(r.stderr.trimEnd().split('\n'), ['shmscope: frame 0: output cut short: slots has 4 elements, the first 2 written (--max-elements 4 writes them all)']);
      const all = cli(['replay', file, '--json', '--max-elements', '4']);
      assert.equal(all.status, 0, all.stderr);
      assert.equal(JSON.parse(all.stdout.split('\n')[0]!).decoded.slots.length, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('decodes each frame through the schema the recording carries, and picks fields by path', async () => {
    const rec = await ringRecording(10);
    const dec = new FrameDecoder(rec);
    const d = dec.decode(7);
    assert.equal(fieldValue(d, 'hdr.head'), 8);
    assert.equal(fieldValue(d, 'hdr.state'), 'STOPPED');
    assert.equal(fieldValue(d, 'slots[1].text'), 'msg 1');
    assert.equal(fieldValue(d, 'hdr.stats.produced'), 42, 'an offset<T> is followed through its value');
    assert.equal(fieldValue(d, 'hdr.nothing'), undefined);
    assert.equal(fieldValue(d, 'slots[99].len'), undefined);
    assert.ok(d.checks.every((c) => c.ok === true), 'every check holds');
    assert.deepEqual(parsePath('slots[3].len'), ['slots', 3, 'len']);
    assert.deepEqual(parseWatchList('hdr.head, hdr.tail sem[0]'), { paths: ['hdr.head', 'hdr.tail', 'sem[0]'] });
    assert.match((parseWatchList(' ') as { problem: string }).problem, /at least one/);
    assert.match((parseWatchList('a b c d e f g h i') as { problem: string }).problem, /At most 8/);
    assert.match((parseWatchList('hdr.head 3x') as { problem: string }).problem, /"3x" is not a field path/);
    assert.equal(parsePath('.x'), undefined);
    assert.equal(parsePath('a..b'), undefined);
  });

  it('samples fields over time for a plot: every frame, or evenly spread; enums by number with labels', async () => {
    const rec = await ringRecording(40);
    const dec = new FrameDecoder(rec);
    const all = await sampleSeries(dec, ['hdr.head', 'hdr.state'], 20_000, { yieldEvery: 7 });
    assert.equal(all.t.length, 40);
    assert.deepEqual(all.columns[0]!.values.slice(0, 4), [5, 5, 6, 6]);
    assert.equal(all.columns[1]!.values[0], 2, 'STOPPED is 2');
    assert.deepEqual(all.columns[1]!.labels, { 2: 'STOPPED' });
    assert.equal(all.t[3], 0.15);
    const few = await sampleSeries(dec, ['hdr.head'], 5);
    assert.deepEqual(few.frames, [0, 10, 20, 29, 39]);
    const more = await sampleSeries(dec, ['hdr.stats.produced', 'slots[1].text', 'slots[2].text', 'sem[0]', 'hdr.nothing', 'slots[9].len'], 3);
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(sampleSeries(dec, ['hdr.head'], 20_000, { signal: abort.signal, yieldEvery: 5 }), /cancelled/);
    assert.deepEqual(more.columns.map((c) => c.values[0]), [42, 0, 0, 7, null, null], 'through an offset, text numbered by appearance (per field), a semaphore, nothing');
    assert.deepEqual(more.columns[2]!.labels, { 0: 'msg 2' });
  });

  it('finds the next change of some bytes, and the next failing check, both ways', async () => {
    const rec = await ringRecording(20, 13);
    assert.equal(nextChange(rec, 0, 16, 8), 2, 'head changes at frame 2');
    assert.equal(nextChange(rec, 5, 16, 8, -1), 3);
    assert.equal(nextChange(rec, 0, 0, 4), undefined, 'magic never changes');
    const dec = new FrameDecoder(rec);
    assert.equal(nextFailure(dec, 0), 13, 'the crc is wrong in frame 13 only');
    assert.equal(nextFailure(dec, 13), undefined);
    assert.equal(nextFailure(dec, 19, -1), 13);
  });
});

describe('timeline and watch plot messages', () => {
  it('accepts exactly the timeline bar\'s requests', () => {
    assert.deepEqual(parseTimelineOp({ op: 'seek', frame: 12 }), { op: 'seek', frame: 12 });
    assert.deepEqual(parseTimelineOp({ op: 'step', delta: -1 }), { op: 'step', delta: -1 });
    assert.deepEqual(parseTimelineOp({ op: 'nextFailure' }), { op: 'nextFailure' });
    for (const bad of [{ op: 'seek' }, { op: 'seek', frame: -1 }, { op: 'step', delta: 5 }, { op: 'play', frame: 1 }, { op: 'rewind' }, { op: 'pause', x: 1 }, null, 'seek']) {
      assert.equal(parseTimelineOp(bad), undefined, JSON.stringify(bad));
    }
  });

  it('labels the timeline as the status bar and the bar show it', () => {
    assert.equal(timelineLabel({ frame: 12, frames: 361, timeMs: 1200, durationMs: 36_000, speed: 1, torn: false }), '#12 / 360 · 1.20 s of 36.00 s · 1×');
    assert.equal(timelineLabel({ frame: 0, frames: 1, timeMs: 0, durationMs: 65_300, speed: 0.5, torn: true }), '#0 / 0 · 0.00 s of 1:05.30 · 0.5× · torn');
  });

  it('accepts exactly the plot page\'s messages', () => {
    assert.deepEqual(parseFromPlot({ type: 'plotReady' }), { type: 'plotReady' });
    assert.deepEqual(parseFromPlot({ type: 'plotSeek', t: 1.5 }), { type: 'plotSeek', t: 1.5 });
    for (const bad of [null, 1, {}, { type: 'plotSeek' }, { type: 'plotSeek', t: Infinity }, { type: 'plotSeek', t: '1' }, { type: 'plotReady', x: 1 }, { type: 'read' }]) {
      assert.equal(parseFromPlot(bad), undefined, JSON.stringify(bad));
    }
  });
});
