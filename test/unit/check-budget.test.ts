// Checks that cannot be decided are their own count (never "passed"), and a live refresh's
// checksums have one budget: a writer that never leaves its seqlock still cannot make one decode
// sum the same range again and again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { compileSchema, countChecks, decode, decodeJson, type CheckResult, type DecodedNode } from '../../extension/src/shared/schema';
import type { ByteSource } from '../../extension/src/shared/source';
import { ringBytes } from '../helpers/schema-ring';

const ring = compileSchema(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8'), 'ring.shms');

/** Every check of a decoded tree. */
function allChecks(n: DecodedNode, out: CheckResult[] = []): CheckResult[] {
  out.push(...n.checks);
  for (const c of n.children(0, 1000)) allChecks(c, out);
  return out;
}

/** The ring's bytes, with a writer that bumps the seqlock (by 2: always even) after every read of it. */
function busyRing(cap: number) {
  const bytes = ringBytes(cap);
  const dv = new DataView(bytes.buffer);
  const seen = { bytes: 0 };
  const source: ByteSource = {
    size: bytes.length,
    read(offset, length) {
      const out = bytes.slice(offset, Math.min(bytes.length, offset + length));
      seen.bytes += out.length;
      if (offset <= 32 && offset + length >= 36) dv.setUint32(32, dv.getUint32(32, true) + 2, true);
      return out;
    },
  };
  return { source, seen };
}

describe('check counts and the checksum budget', () => {
  it('counts unknown checks on their own; in the JSON an unknown check has ok null', () => {
    const s = compileSchema('struct S { uint32_t m [[expect(1)]]; uint32_t n [[expect(5)]]; uint32_t crc [[checksum(crc32, 0, 1000)]]; };', 's.shms');
    const bytes = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    const src: ByteSource = { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) };
    const r = decode(s, 'S', src);
    assert.deepEqual(countChecks(allChecks(r.root!)), { ok: 1, failed: 1, unknown: 1 });
    assert.deepEqual((decodeJson(s, 'S', src).json.checks as { ok: unknown }[]).map((c) => c.ok), [true, false, null]);
  });

  it('stops summing when the budget is spent and says why in the check', () => {
    const cap = 1024;
    const unbounded = busyRing(cap);
    const r1 = decode(ring, 'Ring', unbounded.source, { seqlockRetries: 100 });
    const crc1 = allChecks(r1.root!).find((c) => c.kind === 'checksum')!;
    const slotBytes = cap * 64;
    assert.ok(unbounded.seen.bytes > 50 * slotBytes, `without a budget the busy writer makes it sum again and again (${unbounded.seen.bytes} bytes read)`);
    assert.notEqual(crc1.message, undefined);

    const bounded = busyRing(cap);
    const r2 = decode(ring, 'Ring', bounded.source, { seqlockRetries: 100, checksumBudgetBytes: 2 * slotBytes });
    const crc2 = allChecks(r2.root!).find((c) => c.kind === 'checksum')!;
    assert.ok(bounded.seen.bytes < 4 * slotBytes, `with a budget of two sums it reads about that much (${bounded.seen.bytes} bytes)`);
    assert.equal(crc2.ok, null);
    assert.match(crc2.message ?? '', /not checked in this refresh: its budget of 131072 bytes of checksums ran out/);
  });

  it('a budget that suffices changes nothing', () => {
    const bytes = ringBytes(8);
    const src: ByteSource = { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) };
    const crc = allChecks(decode(ring, 'Ring', src, { checksumBudgetBytes: 2 * 8 * 64 }).root!).find((c) => c.kind === 'checksum')!;
    assert.equal(crc.ok, true);
  });
});
