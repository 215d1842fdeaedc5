// The inspector's pure logic: scroll math, navigation, Go to Offset, data inspector, Copy As,
// Find over a ByteSource, change tracking and the snapshot format.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BufferSource, type ByteSource } from '../../extension/src/shared/source';
import * as vp from '../../extension/src/shared/inspector/viewport';
import { formatOffset, moveCursor, parseGoto, selectionRange } from '../../extension/src/shared/inspector/navigation';
import { inspect, inspectedOffset, utf8At } from '../../extension/src/shared/inspector/datainspector';
import { formatCopy, toBase64 } from '../../extension/src/shared/inspector/copyas';
import { CancelledError, compileQuery, findInSource, indexOfBytes, lastIndexOfBytes, QueryError } from '../../extension/src/shared/inspector/find';
import { ChangeTracker, changedOffsets } from '../../extension/src/shared/inspector/changes';
import { decodeSnapshot, decodeSnapshotHeader, diffRanges, encodeSnapshot, SnapshotError } from '../../extension/src/shared/inspector/snapshot';

const GiB = 2 ** 30;

describe('virtual scroll', () => {
  it('is unscaled for small objects: one px of scrollbar is one px of rows', () => {
    const g = { rows: 100, rowHeight: 20, viewport: 400 };
    assert.equal(vp.isScaled(g), false);
    assert.equal(vp.spacerHeight(g), 2000);
    assert.equal(vp.firstRowAt(g, 200), 10);
    assert.equal(vp.scrollTopFor(g, 10), 200);
    assert.equal(vp.maxFirstRow(g), 80);
    assert.equal(vp.firstRowAt(g, 1e9), 80);
  });

  it('scales for 64 GiB: spacer under the browser cap, both ends reachable, round trip within a row', () => {
    const g = { rows: (64 * GiB) / 16, rowHeight: 20, viewport: 600 };
    assert.ok(vp.isScaled(g));
    assert.ok(vp.spacerHeight(g) <= vp.MAX_SCROLL_PX);
    assert.equal(vp.firstRowAt(g, 0), 0);
    const travel = vp.spacerHeight(g) - g.viewport;
    assert.equal(vp.firstRowAt(g, travel), vp.maxFirstRow(g));
    assert.equal(vp.maxFirstRow(g), g.rows - 30);
    fc.assert(fc.property(fc.integer({ min: 0, max: vp.maxFirstRow(g) }), (row) => vp.firstRowAt(g, vp.scrollTopFor(g, row)) === row));
  });

  it('keeps both ends reachable when the scroll container is taller than the rows area (chrome)', () => {
    for (const rows of [1000, (64 * GiB) / 16]) {
      const g = { rows, rowHeight: 20, viewport: 600, chrome: 21 };
      const scrollerHeight = g.viewport + g.chrome;
      const maxScrollTop = vp.spacerHeight(g) - scrollerHeight; // what the browser allows
      assert.equal(vp.firstRowAt(g, maxScrollTop), vp.maxFirstRow(g));
      assert.ok(vp.scrollTopFor(g, vp.maxFirstRow(g)) <= maxScrollTop + 1e-6);
    }
  });

  it('reveals a row by moving the view as little as possible', () => {
    const g = { rows: 1000, rowHeight: 10, viewport: 100 };
    assert.equal(vp.firstRowToReveal(g, 50, 55), 50);
    assert.equal(vp.firstRowToReveal(g, 50, 60), 51);
    assert.equal(vp.firstRowToReveal(g, 50, 10), 10);
    assert.equal(vp.firstRowToReveal(g, 0, 999), 990);
  });

  it('maps rows to byte windows clipped to the size', () => {
    assert.deepEqual(vp.windowFor(2, 3, 16, 1000), { offset: 32, length: 48 });
    assert.deepEqual(vp.windowFor(61, 5, 16, 1000), { offset: 976, length: 24 });
    assert.deepEqual(vp.rowOf(35, 16), { row: 2, col: 3 });
    assert.equal(vp.rowCount(17, 16), 2);
  });

  it('reads a margin of rows around the view and around a Go to target, clipped to the object', () => {
    // Rows 10..14 shown, 5 rows either side: rows 5..19.
    assert.deepEqual(vp.prefetchWindow(10, 5, 16, 1000, 5), { offset: 80, length: 240 });
    // At the top nothing lies above; at the end nothing past the size.
    assert.deepEqual(vp.prefetchWindow(0, 5, 16, 1000, 5), { offset: 0, length: 160 });
    assert.deepEqual(vp.prefetchWindow(60, 3, 16, 1000, 5), { offset: 880, length: 120 });
    // A target's neighbourhood: its row and `count` rows on either side.
    assert.deepEqual(vp.neighbourhood(0x1234, 4, 16, 1 << 20), { offset: 0x1230 - 64, length: 9 * 16 });
    assert.deepEqual(vp.neighbourhood(999, 4, 16, 1000), { offset: 992 - 64, length: 72 });
    const w = { offset: 100, length: 50 };
    assert.ok(vp.holds(w, 100, 50));
    assert.ok(vp.holds(w, 120, 10));
    assert.ok(!vp.holds(w, 99, 2));
    assert.ok(!vp.holds(w, 140, 11));
  });
});

describe('navigation', () => {
  const o = { bytesPerRow: 16, size: 100, pageRows: 4, ctrl: false };
  it('moves by byte, row, page, row ends and object ends, clamped', () => {
    assert.equal(moveCursor(0, 'ArrowLeft', o), 0);
    assert.equal(moveCursor(5, 'ArrowRight', o), 6);
    assert.equal(moveCursor(20, 'ArrowUp', o), 4);
    assert.equal(moveCursor(4, 'ArrowUp', o), 4);
    assert.equal(moveCursor(20, 'ArrowDown', o), 36);
    assert.equal(moveCursor(90, 'ArrowDown', o), 90, 'no row below in that column: stays');
    assert.equal(moveCursor(0, 'PageDown', o), 64);
    assert.equal(moveCursor(20, 'Home', o), 16);
    assert.equal(moveCursor(20, 'End', o), 31);
    assert.equal(moveCursor(97, 'End', o), 99);
    assert.equal(moveCursor(50, 'Home', { ...o, ctrl: true }), 0);
    assert.equal(moveCursor(50, 'End', { ...o, ctrl: true }), 99);
  });
  it('stays inside the object for any key and start', () => {
    const keys = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'] as const;
    fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 64 }), fc.nat(), fc.constantFrom(...keys), fc.boolean(), (size, bpr, c, key, ctrl) => {
      const r = moveCursor(c % size, key, { bytesPerRow: bpr, size, pageRows: 7, ctrl });
      return r >= 0 && r < size;
    }));
  });
  it('selection spans anchor to cursor inclusive either way', () => {
    assert.deepEqual(selectionRange(10, 4), { offset: 4, length: 7 });
    assert.deepEqual(selectionRange(4, 4), { offset: 4, length: 1 });
  });
});

describe('Go to Offset', () => {
  it('parses decimal, 0x hex, h suffix, separators and relative moves', () => {
    assert.deepEqual(parseGoto('1234', 0, 2000), { ok: true, offset: 1234 });
    assert.deepEqual(parseGoto(' 0x4D2 ', 0, 2000), { ok: true, offset: 1234 });
    assert.deepEqual(parseGoto('4d2h', 0, 2000), { ok: true, offset: 1234 });
    assert.deepEqual(parseGoto('1_000', 0, 2000), { ok: true, offset: 1000 });
    assert.deepEqual(parseGoto('+0x10', 100, 2000), { ok: true, offset: 116 });
    assert.deepEqual(parseGoto('-16', 100, 2000), { ok: true, offset: 84 });
    assert.deepEqual(parseGoto('0x3FFFFFF0', 0, GiB), { ok: true, offset: GiB - 16 });
  });
  it('refuses garbage, offsets past the end and before the start, with a sentence', () => {
    for (const t of ['', 'abc', '0x', '1.5', '--1', '0xZZ']) {
      const r = parseGoto(t, 0, 100);
      assert.equal(r.ok, false, t);
    }
    const past = parseGoto('100', 0, 100);
    assert.ok(!past.ok && /past the end.*99/.test(past.message));
    assert.ok(!parseGoto('-11', 10, 100).ok);
    assert.ok(!parseGoto('0xffffffffffffffffff', 0, 100).ok);
  });
  it('formats offsets as padded hex', () => {
    assert.equal(formatOffset(255, 1000), '000000ff');
    assert.equal(formatOffset(16, 2 ** 40), '0000000010', 'ten digits for 2^40 bytes');
  });
});

describe('data inspector', () => {
  const value = (bytes: number[], label: string, le = true) => inspect(new Uint8Array(bytes), le).find((r) => r.label === label)?.value;
  it('reads integers of every width, signed and unsigned, in both byte orders', () => {
    const b = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert.equal(value(b, 'int8'), '-2');
    assert.equal(value(b, 'uint8'), '254');
    assert.equal(value(b, 'int16 LE'), '-2');
    assert.equal(value(b, 'uint16 LE'), '65534');
    assert.equal(value(b, 'uint16 BE', false), '65279');
    assert.equal(value(b, 'int64 LE'), '-2');
    assert.equal(value(b, 'uint64 LE'), '18446744073709551614');
    assert.equal(value([1, 2, 3, 4], 'uint32 BE', false), '16909060');
  });
  it('says nothing for widths past the end', () => {
    assert.equal(value([1, 2], 'int32 LE'), undefined);
    assert.equal(value([1, 2], 'int16 LE'), '513');
  });
  it('reads floats, shortest form', () => {
    const f = new Uint8Array(8);
    new DataView(f.buffer).setFloat32(0, 0.1, true);
    assert.equal(value([...f], 'float32 LE'), '0.1');
    new DataView(f.buffer).setFloat64(0, -2.5, true);
    assert.equal(value([...f], 'float64 LE'), '-2.5');
    assert.equal(value([0, 0, 0xc0, 0x7f], 'float32 LE'), 'NaN');
  });
  it('reads ASCII and UTF-8, and says why a sequence is invalid', () => {
    assert.equal(value([0x41], 'ASCII'), "'A'");
    assert.equal(value([0x0a], 'ASCII'), 'LF');
    assert.deepEqual(utf8At(new Uint8Array([0xe2, 0x82, 0xac])), { text: '€', length: 3 });
    assert.deepEqual(utf8At(new Uint8Array([0xf0, 0x9f, 0x98, 0x80])), { text: '😀', length: 4 });
    assert.deepEqual(utf8At(new Uint8Array([0x80])), { error: 'continuation byte' });
    assert.deepEqual(utf8At(new Uint8Array([0xe2, 0x82])), { error: 'truncated sequence' });
    assert.deepEqual(utf8At(new Uint8Array([0xe0, 0x80, 0x80])), { error: 'invalid sequence' }, 'overlong');
  });
  it('reads unix times in s, ms and ns', () => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 1_700_000_000, true);
    assert.equal(value([...b], 'time_t (s, uint32 LE)'), '2023-11-14T22:13:20.000Z');
    dv.setBigInt64(0, 1_700_000_000_123n, true);
    assert.equal(value([...b], 'time (ms, int64 LE)'), '2023-11-14T22:13:20.123Z');
    dv.setBigInt64(0, 1_700_000_000_123_456_789n, true);
    assert.equal(value([...b], 'time (ns, int64 LE)'), '2023-11-14T22:13:20.123456789Z');
    dv.setBigInt64(0, -1n, true);
    assert.equal(value([...b], 'time (s, int64 LE)'), '1969-12-31T23:59:59.000Z');
    dv.setBigInt64(0, 2n ** 62n, true);
    assert.equal(value([...b], 'time (s, int64 LE)'), 'out of range');
  });
});

describe('Copy As', () => {
  const b = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x41]);
  it('formats hex, C array, base64 and text', () => {
    assert.equal(formatCopy(b, 'hex'), 'de ad be ef 41');
    assert.equal(formatCopy(b, 'c'), 'const unsigned char data[5] = {\n    0xde, 0xad, 0xbe, 0xef, 0x41\n};');
    assert.equal(formatCopy(new Uint8Array(13), 'c').split('\n').length, 4, 'twelve a line');
    assert.equal(formatCopy(new TextEncoder().encode('héllo'), 'text'), 'héllo');
  });
  it('base64 matches Node for any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (u) => toBase64(u) === Buffer.from(u).toString('base64')));
  });
});

/** A source that counts reads, to prove chunking. */
class CountingSource implements ByteSource {
  reads = 0;
  constructor(private readonly inner: ByteSource) {}
  get size() { return this.inner.size; }
  read(offset: number, length: number) {
    this.reads++;
    assert.ok(offset + length <= this.size, `read past the end: ${offset}+${length} > ${this.size}`);
    return this.inner.read(offset, length);
  }
}

describe('Find', () => {
  it('compiles hex, text and numbers of each width and byte order', () => {
    assert.deepEqual([...compileQuery({ kind: 'hex', text: 'DE ad,0xbe EF' })], [0xde, 0xad, 0xbe, 0xef]);
    assert.deepEqual([...compileQuery({ kind: 'text', text: 'é' })], [0xc3, 0xa9]);
    assert.deepEqual([...compileQuery({ kind: 'number', text: '0x01020304', width: 4, endian: 'le' })], [4, 3, 2, 1]);
    assert.deepEqual([...compileQuery({ kind: 'number', text: '258', width: 2, endian: 'be' })], [1, 2]);
    assert.deepEqual([...compileQuery({ kind: 'number', text: '-1', width: 8 })], [255, 255, 255, 255, 255, 255, 255, 255]);
    for (const q of [{ kind: 'hex', text: 'abc' }, { kind: 'hex', text: 'zz' }, { kind: 'number', text: '256', width: 1 }, { kind: 'number', text: '-129', width: 1 }, { kind: 'number', text: '1.5', width: 4 }] as const) {
      assert.throws(() => compileQuery(q), QueryError, JSON.stringify(q));
    }
  });

  it('byte search helpers agree with Buffer', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), fc.uint8Array({ minLength: 1, maxLength: 3 }), (hay, needle) => {
      const small = hay.map((x) => x % 3);
      const nd = needle.map((x) => x % 3);
      return indexOfBytes(small, nd) === Buffer.from(small).indexOf(Buffer.from(nd))
        && lastIndexOfBytes(small, nd) === Buffer.from(small).lastIndexOf(Buffer.from(nd));
    }));
  });

  it('finds across chunk boundaries, forward and backward, with wrap and progress', async () => {
    const bytes = new Uint8Array(10_000);
    bytes.set([1, 2, 3, 4], 4094); // straddles the 4096 chunk edge
    bytes.set([1, 2, 3, 4], 9000);
    const src = new CountingSource(new BufferSource(bytes));
    const needle = new Uint8Array([1, 2, 3, 4]);
    const progress: number[] = [];
    assert.equal(await findInSource(src, needle, 0, false, { chunk: 4096, onProgress: (d) => progress.push(d) }), 4094);
    assert.ok(src.reads >= 1);
    assert.equal(await findInSource(src, needle, 4095, false, { chunk: 4096 }), 9000);
    assert.equal(await findInSource(src, needle, 9001, false, { chunk: 4096 }), 4094, 'wraps to the start');
    assert.equal(await findInSource(src, needle, 9001, false, { chunk: 4096, wrap: false }), null);
    assert.equal(await findInSource(src, needle, 9000, true, { chunk: 4096 }), 4094);
    assert.equal(await findInSource(src, needle, 4094, true, { chunk: 4096 }), 9000, 'wraps to the end');
    assert.equal(await findInSource(src, new Uint8Array([9]), 0, false, { chunk: 4096, onProgress: (d) => progress.push(d) }), null);
    assert.equal(progress.at(-1), 10_000);
  });

  it('agrees with Buffer.indexOf on random data at any chunk size', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 50 }), fc.nat(300), async (hay, n, chunk, from) => {
      const h = hay.map((x) => x % 2);
      const nd = n.map((x) => x % 2);
      const start = Math.min(from, h.length);
      let want = Buffer.from(h).indexOf(Buffer.from(nd), start);
      if (want === -1) { want = Buffer.from(h).indexOf(Buffer.from(nd)); }
      const got = await findInSource(new CountingSource(new BufferSource(h)), nd, start, false, { chunk });
      return got === (want === -1 ? null : want);
    }), { numRuns: 300 });
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const src = new BufferSource(new Uint8Array(1 << 20));
    const p = findInSource(src, new Uint8Array([7]), 0, false, { chunk: 1024, signal: ac.signal, onProgress: (d) => { if (d >= 4096) ac.abort(); } });
    await assert.rejects(p, CancelledError);
  });
});

describe('change tracking', () => {
  it('lists the changed offsets in the overlap of two windows', () => {
    const a = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const b = new Uint8Array([3, 9, 5, 6, 7, 8]);
    assert.deepEqual(changedOffsets(100, a, 102, b), [103]);
    assert.deepEqual(changedOffsets(0, a, 50, b), []);
  });
  it('fades each highlight over its time and forgets it after', () => {
    const t = new ChangeTracker(1000);
    t.mark([5, 6], 0);
    assert.equal(t.intensity(5, 0), 1);
    assert.equal(t.intensity(5, 500), 0.5);
    assert.equal(t.intensity(7, 0), 0);
    assert.equal(t.prune(999), true);
    assert.equal(t.prune(1000), false);
    assert.equal(t.size, 0);
  });
});

describe('snapshot files', () => {
  it('round-trip header and bytes', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const file = encodeSnapshot({ target: 'shm:5', title: 'segment 5', time: '2026-11-23T00:00:00.000Z' }, bytes);
    const { header, bytes: back } = decodeSnapshot(file);
    assert.deepEqual(header, { version: 1, target: 'shm:5', title: 'segment 5', size: 3, time: '2026-11-23T00:00:00.000Z' });
    assert.deepEqual([...back], [1, 2, 3]);
  });
  it('refuses other files, truncated data and hostile headers', () => {
    const good = encodeSnapshot({ target: 'shm:5', title: 't', time: 'x' }, new Uint8Array(10));
    assert.throws(() => decodeSnapshot(new TextEncoder().encode('hello world, not a snapshot')), SnapshotError);
    assert.throws(() => decodeSnapshot(good.subarray(0, good.length - 1)), /header says 10/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    assert.throws(() => decodeSnapshot(huge), SnapshotError);
    const bad = encodeSnapshot({ target: 'shm:5', title: 't', time: 'x' }, new Uint8Array(0));
    bad[12] = 0x7b + 1;
    assert.throws(() => decodeSnapshot(bad), /not valid JSON/);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
      try { decodeSnapshotHeader(u, u.length); return true; } catch (e) { return e instanceof SnapshotError; }
    }));
  });
  it('diffs into ranges, merging near ones, counting a size change as different', async () => {
    const a = new Uint8Array(100);
    const b = new Uint8Array(120);
    b[5] = 1; b[6] = 1; b[50] = 1; b[52] = 1;
    assert.deepEqual((await diffRanges(new BufferSource(a), new BufferSource(b), { chunk: 7 })).ranges,
      [{ offset: 5, length: 2 }, { offset: 50, length: 1 }, { offset: 52, length: 1 }, { offset: 100, length: 20 }]);
    assert.deepEqual((await diffRanges(new BufferSource(a), new BufferSource(b), { mergeGap: 1 })).ranges,
      [{ offset: 5, length: 2 }, { offset: 50, length: 3 }, { offset: 100, length: 20 }]);
    const capped = await diffRanges(new BufferSource(a), new BufferSource(b), { maxRanges: 2 });
    assert.equal(capped.truncated, true);
    assert.equal(capped.ranges.length, 2);
    assert.deepEqual((await diffRanges(new BufferSource(a), new BufferSource(a))).ranges, []);
  });
});

describe('the data inspector reads from the selection\'s start', () => {
  it('a field selected by a drag or Shift+Right (cursor on its last byte) decodes from its first', () => {
    // hdr.flags = 7 (uint16 LE at 0x10): selected 0x10..0x11, the cursor on 0x11.
    const bytes = new Uint8Array(32);
    bytes[0x10] = 7;
    const at = inspectedOffset(0x10, 0x11);
    assert.equal(at, 0x10);
    assert.equal(inspect(bytes.subarray(at, at + 8), true).find((r) => r.label === 'uint16 LE')?.value, '7');
    assert.equal(inspectedOffset(0x11, 0x10), 0x10, 'selected backwards');
    assert.equal(inspectedOffset(5, 5), 5, 'no selection: the cursor');
  });
});
