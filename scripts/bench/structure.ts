// Structure view benchmark (issue 5): what one live refresh of an inspector with a bound schema
// costs the extension host on a ring of 1 M slots (64 MiB), its slots expanded and the view in
// the middle: decode, the 45 visible tree rows, the fields and ring marks over the visible hex
// window, and the check summary. The share of a core that costs at 10 Hz is the figure (the
// refresh period is the baseline); best of several runs. Prints one JSON line.
//   node --import tsx scripts/bench/structure.ts
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LIVE_CHECKSUM_BUDGET, LIVE_CHECKSUM_BYTES } from '../../extension/src/inspector/schemaview';
import { StructureTree } from '../../extension/src/shared/inspector/structure';
import { compileSchema, decode } from '../../extension/src/shared/schema';
import { BufferSource } from '../../extension/src/shared/source';

const CAP = 1 << 20;
const schema = compileSchema(readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'schema', 'ring.shms'), 'utf8'), 'ring.shms');
const bytes = new Uint8Array(64 + CAP * 64 + 16);
const dv = new DataView(bytes.buffer);
dv.setUint32(0, 0x474e4952, true);
dv.setUint16(4, 3, true);
dv.setUint32(8, CAP, true);
dv.setUint32(12, 64, true);
dv.setBigUint64(16, BigInt(CAP + 100), true);
dv.setBigUint64(24, 200n, true);
for (let i = 0; i < CAP; i += 1) dv.setBigUint64(64 + i * 64, BigInt(i), true);
const source = new BufferSource(bytes);
const tree = new StructureTree();
tree.expanded.add('0');
tree.expanded.add('1');
const mid = CAP / 2;

function refresh(): number {
  const t0 = performance.now();
  tree.setRoot(decode(schema, 'Ring', source, { maxChecksumBytes: LIVE_CHECKSUM_BYTES, checksumBudgetBytes: LIVE_CHECKSUM_BUDGET }).root);
  const rows = tree.rows(13 + mid, 45);
  const { spans, rings } = tree.layout(64 + mid * 64, 45 * 16);
  const s = tree.summary();
  const ms = performance.now() - t0;
  if (rows.length !== 45 || spans.length === 0 || rings.length !== 1 || s.ok < 3) throw new Error('the refresh did not produce the view');
  return ms;
}

for (let i = 0; i < 20; i++) refresh();
const times = Array.from({ length: 200 }, refresh).sort((a, b) => a - b);
const median = times[times.length >> 1]!;
const share = (median * 10) / 1000;
process.stdout.write(`${JSON.stringify({ 'structure.refreshCpuAt10Hz': { value: Number(share.toFixed(4)), goal: '< 0.05', detail: `one refresh of a 1 M-slot ring, slots expanded: median ${median.toFixed(2)} ms, p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(2)} ms, of a 100 ms period` } })}\n`);
