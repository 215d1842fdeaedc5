// Schema decode benchmark (issue 6): 1 M §4 `Slot` structs decoded to JSON values through the
// engine, against a hand-written DataView loop producing the same values from the same bytes, in
// the same run; best of several repetitions. And (issue 26) as a user runs it: `shmscope decode
// --file … --schema demo/workspace/ring.shms --json` of a 1 M-slot snapshot of the demo's ring
// (its `[[ring]]`, checksum over the slots and all), whole process, against a plain DataView
// script that prints byte for byte the same text (decode-dataview.mjs). Prints one JSON line.
//   node --import tsx scripts/bench/decode.ts
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileSchema, decodeJson } from '../../extension/src/shared/schema';
import { BufferSource } from '../../extension/src/shared/source';
import { checksum } from '../../extension/src/shared/schema';
import { CLI, compare, figure, ROOT, wallMs, type Run } from './process';

const N = 1_000_000;
const SLOT = 64;
const ring = readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'schema', 'ring.shms'), 'utf8');
const schema = compileSchema(`${ring}\nsegment Bench { Slot slots[${N}]; };\n`, 'bench.shms');
if (schema.diagnostics.length) throw new Error(schema.diagnostics.map((d) => d.message).join('\n'));

// 64 MB of slots: a nanosecond timestamp, a length and a short ASCII message.
const bytes = new Uint8Array(N * SLOT);
const dv0 = new DataView(bytes.buffer);
const enc = new TextEncoder();
for (let i = 0; i < N; i++) {
  const o = i * SLOT;
  dv0.setBigUint64(o, 1_700_000_000_000_000_000n + BigInt(i) * 1000n, true);
  const msg = enc.encode(`message number ${i} from the producer`);
  dv0.setUint32(o + 8, msg.length, true);
  bytes.set(msg.subarray(0, 52), o + 12);
}

type Slot = { t_ns: number | string; len: number; text: string };
/** What a person writes by hand: a DataView loop, same JSON rules as the engine. */
function handWritten(b: Uint8Array): Slot[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Array<Slot>(N);
  const MAX = BigInt(Number.MAX_SAFE_INTEGER);
  for (let i = 0; i < N; i++) {
    const o = i * SLOT;
    const t = dv.getBigUint64(o, true);
    let end = o + 12;
    while (end < o + 64 && b[end] !== 0) end++;
    const text = String.fromCharCode.apply(null, b.subarray(o + 12, end) as unknown as number[]);
    out[i] = { t_ns: t <= MAX ? Number(t) : t.toString(), len: dv.getUint32(o + 8, true), text };
  }
  return out;
}
function engine(b: Uint8Array): Slot[] {
  return (decodeJson(schema, 'Bench', new BufferSource(b), { maxElements: N }).json as unknown as { slots: Slot[] }).slots;
}

const best = (reps: number, fn: () => unknown): number => {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return min;
};

// Same values from both, or the comparison means nothing.
const a = engine(bytes);
const h = handWritten(bytes);
assert.equal(a.length, N);
for (const i of [0, 1, 12345, N - 1]) assert.deepEqual(a[i], h[i]);

let tEngine = Infinity;
let tHand = Infinity;
// Alternate the two so machine load hits both alike.
for (let round = 0; round < 3; round++) {
  tHand = Math.min(tHand, best(1, () => handWritten(bytes)));
  tEngine = Math.min(tEngine, best(1, () => engine(bytes)));
}
const mEngine = N / tEngine / 1e6;
const mHand = N / tHand / 1e6;
const ratio = mEngine / mHand;

// Whole processes: a snapshot of the demo ring with these slots (header, slots, Stats after them).
const outDir = path.join(ROOT, 'out', 'bench');
mkdirSync(outDir, { recursive: true });
const snap = path.join(outDir, 'ring-1m.bin');
const file = new Uint8Array(64 + N * SLOT + 16);
const hv = new DataView(file.buffer);
file.set(bytes, 64);
hv.setUint32(0, 0x474e4952, true);
hv.setUint16(4, 3, true);
hv.setUint32(8, N, true);
hv.setUint32(12, SLOT, true);
hv.setBigUint64(16, BigInt(N) + 5n, true);
hv.setBigUint64(24, 6n, true);
hv.setUint32(32, 4, true);
hv.setUint32(36, checksum('crc32', bytes), true);
hv.setUint32(40, 1, true);
hv.setBigUint64(48, BigInt(64 + N * SLOT), true);
hv.setBigUint64(64 + N * SLOT, 42n, true);
writeFileSync(snap, file);
const DECODE: Run = { name: 'shmscope decode --json', cmd: process.execPath, args: [CLI, 'decode', '--file', snap, '--schema', path.join(ROOT, 'demo', 'workspace', 'ring.shms'), '--json'] };
const SCRIPT: Run = { name: 'a DataView script', cmd: process.execPath, args: [path.join(__dirname, 'decode-dataview.mjs'), snap] };
// Byte for byte the same text, or the comparison means nothing.
const digest = (r: Run) => {
  const to = path.join(outDir, `decode-${r === DECODE ? 'ours' : 'dataview'}.json`);
  wallMs({ ...r, stdout: to });
  return createHash('sha256').update(readFileSync(to)).digest('hex');
};
assert.equal(digest(DECODE), digest(SCRIPT), 'shmscope decode --json and the DataView script print different text');
const jsonMB = statSync(path.join(outDir, 'decode-ours.json')).size / 1e6;
for (const f of ['decode-ours.json', 'decode-dataview.json']) rmSync(path.join(outDir, f));
let whole;
try {
  whole = compare(5, DECODE, SCRIPT);
} finally {
  rmSync(snap);
}

process.stdout.write(`${JSON.stringify({
  'decode.ratioVsDataView': { value: Number(ratio.toFixed(3)), goal: '>= 0.5', detail: `in-process, the Slot array only: engine ${mEngine.toFixed(2)} Mslots/s, DataView ${mHand.toFixed(2)} Mslots/s` },
  'decode.processRatioVsDataView': figure(whole, 'reported', `1 M slots of the demo ring (${jsonMB.toFixed(0)} MB of JSON)`, DECODE, SCRIPT),
})}\n`);
