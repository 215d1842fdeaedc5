// The `.shmrec` format, the recorder and the reader, on bytes in memory with a fake clock: frames
// round-trip exactly, seeks land on the right bytes from any direction, a held seqlock is retried
// and then flagged torn, a file cut short reads up to its last whole frame, and damaged files
// are refused with RecordingError, never a crash.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  changedRanges, decodeRecordingHeader, encodeRecordingHeader, findSeqlock, MemoryAccess, parsePosition, parseRange, Recorder, Recording, RecordingError,
  runRecording, type RecordingHeader,
} from '../../extension/src/shared/record';
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
    source, write: (b) => out.push(b.slice()), now: () => clock, pause: async () => void (clock += 1), keyInterval,
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
    const stats = await runRecording(r.rec, { durationMs: 1000, sleep: async (ms) => void (slept += ms, r.tick(ms)) });
    assert.equal(stats.frames, 100, '1 s at 100 Hz');
    assert.ok(slept > 0);
    const abort = new AbortController();
    const r2 = rig(64);
    const stats2 = await runRecording(r2.rec, { signal: abort.signal, sleep: async (ms) => void r2.tick(ms), onFrame: (s) => s.frames === 7 && abort.abort() });
    assert.equal(stats2.frames, 7);
  });
});
