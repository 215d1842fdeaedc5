// Bytes of the DESIGN.md §4 ring buffer (test/fixtures/schema/ring.shms), for decode tests.
import { checksum } from '../../extension/src/shared/schema';

export /** The §4 ring: header, `cap` slots, Stats after the slots; checksum and seq correct. */
function ringBytes(cap: number, o: { head?: bigint; tail?: bigint; seq?: number; badCrc?: boolean; magic?: number } = {}) {
  const buf = new Uint8Array(64 + cap * 64 + 16);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, o.magic ?? 0x474e4952, true);
  dv.setUint16(4, 3, true);
  dv.setUint32(8, cap, true);
  dv.setUint32(12, 64, true);
  dv.setBigUint64(16, o.head ?? 5n, true);
  dv.setBigUint64(24, o.tail ?? 2n, true);
  dv.setUint32(32, o.seq ?? 4, true);
  dv.setUint32(40, 2, true);
  dv.setBigUint64(48, BigInt(64 + cap * 64), true);
  for (let i = 0; i < cap; i++) {
    dv.setBigUint64(64 + i * 64, 1_700_000_000_123_456_789n + BigInt(i), true);
    const t = new TextEncoder().encode(`msg ${i}`);
    dv.setUint32(64 + i * 64 + 8, t.length, true);
    buf.set(t, 64 + i * 64 + 12);
  }
  dv.setBigUint64(64 + cap * 64, 42n, true);
  dv.setBigUint64(64 + cap * 64 + 8, 7n, true);
  const crc = checksum('crc32', buf.subarray(64, 64 + cap * 64));
  dv.setUint32(36, o.badCrc ? crc ^ 1 : crc, true);
  return buf;
}

