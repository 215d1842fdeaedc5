// Schema decode benchmark (issue 6): 1 M §4 `Slot` structs decoded to JSON values through the
// engine, against a hand-written DataView loop producing the same values from the same bytes, in
// the same run; best of several repetitions. Prints one JSON line.
//   node --import tsx scripts/bench/decode.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileSchema, decodeJson } from '../../extension/src/shared/schema';
import { BufferSource } from '../../extension/src/shared/source';

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
process.stdout.write(`${JSON.stringify({ 'decode.ratioVsDataView': { value: Number(ratio.toFixed(3)), goal: '>= 0.5', detail: `engine ${mEngine.toFixed(2)} Mslots/s, DataView ${mHand.toFixed(2)} Mslots/s` } })}\n`);
