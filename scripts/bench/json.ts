// The CLI's JSON writer (issue 26): writing a value as JSON in chunks (cli/output.ts JsonText)
// against JSON.stringify(value, null, 2) of the same value, in the same run; best of five each,
// alternated. Two values: a listing-like document of about 14 MB and a million decoded ring
// slots. Prints one JSON line.
//   node --import tsx scripts/bench/json.ts
import assert from 'node:assert/strict';
import { JsonText } from '../../extension/src/cli/output';

function listing(n: number) {
  const shm = Array.from({ length: n }, (_, i) => ({
    id: 32768 + i, key: i * 7919, uid: 0, user: 'root', mode: 0o600, size: 4096 * (1 + (i % 64)), nattch: i % 3, cpid: 1000 + i, lpid: 2000 + i,
    atime: null, dtime: null, ctime: '2026-12-04T17:00:00.000Z', removed: false, attachedBy: i % 3 ? [{ pid: 1000 + i, command: `worker --id ${i}` }] : [],
  }));
  return { shm, sem: [], msg: [], posixShm: [], posixSem: [], posixMq: [] };
}
function slots(n: number) {
  return { hdr: { magic: 0x474e4952, version: 3, capacity: n }, slots: Array.from({ length: n }, (_, i) => ({ t_ns: `${1_700_000_000_000_000_000n + BigInt(i) * 1000n}`, len: 37, text: `message number ${i} from the producer` })), checks: [], diagnostics: [] };
}

/** What `shmscope … --json` does with the text: every chunk handed on (here: its length summed). */
function ours(v: unknown): number {
  let n = 0;
  const t = new JsonText(v, 2);
  for (let c = t.next(); c !== undefined; c = t.next()) n += c.length;
  return n;
}
const stringify = (v: unknown): number => JSON.stringify(v, null, 2).length;

function time(fn: () => unknown): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const out: Record<string, { value: number; goal: string; detail: string }> = {};
for (const [name, v] of [['listing', listing(40_000)], ['slots', slots(1_000_000)]] as const) {
  const size = stringify(v);
  assert.equal(ours(v), size);
  let a = Infinity;
  let b = Infinity;
  for (let i = 0; i < 5; i++) {
    b = Math.min(b, time(() => stringify(v)));
    a = Math.min(a, time(() => ours(v)));
  }
  out[`json.${name}RatioVsStringify`] = { value: Number((a / b).toFixed(3)), goal: '<= 1.5', detail: `${(size / 1e6).toFixed(1)} MB of JSON: ${a.toFixed(0)} ms in chunks vs JSON.stringify ${b.toFixed(0)} ms (best of 5)` };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
