// Core benchmark (issue 3): listing, reading and semaphores, each as a ratio against a baseline
// measured in the same run on this machine. Prints one JSON line; creates and removes its objects.
//   node --import tsx scripts/bench/core.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ipc from '../../extension/src/ipc';
import { CLI, compare, figure, type Comparison, type Run } from './process';

const root = path.resolve(__dirname, '..', '..');
const out = path.join(root, 'out', 'bench');
mkdirSync(out, { recursive: true });
const baseline = path.join(out, 'baseline');
execFileSync('cc', ['-O2', '-o', baseline, path.join(__dirname, 'baseline.c')]);

const created: ipc.Target[] = [];
const best = async (reps: number, fn: () => unknown): Promise<number> => {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    await fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return min;
};
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

const LIST: Run = { name: 'shmscope list --kind shm --json', cmd: process.execPath, args: [CLI, 'list', '--kind', 'shm', '--json'] };
const LSIPC: Run = { name: 'lsipc -m --json', cmd: 'lsipc', args: ['-m', '--json'] };

async function listing(): Promise<{ ours: number; lsipc: number; whole: Comparison }> {
  const N = 4096;
  const SHMMNI = '/proc/sys/kernel/shmmni';
  const existing = ipc.list(['shm']).then((l) => l.shm.length);
  const limit = Number(readFileSync(SHMMNI, 'utf8'));
  const need = (await existing) + N;
  let restore: string | undefined;
  if (need > limit) {
    restore = String(limit);
    writeFileSync(SHMMNI, String(need)); // as root; restored below
  }
  try {
    log(`creating ${N} segments`);
    for (let i = 0; i < N; i++) created.push({ kind: 'shm', id: ipc.createShm({ key: 0, size: 4096 }) });
    const ours = await best(7, async () => {
      const l = await ipc.list(['shm']);
      if (l.shm.length < N) throw new Error('listing missed segments');
    });
    const lsipc = await best(7, () => {
      const r = spawnSync('lsipc', ['-m', '--json'], { maxBuffer: 1 << 28 });
      if (r.status !== 0) throw new Error(`lsipc failed: ${String(r.stderr)}`);
    });
    // As a user runs it: `shmscope list --kind shm --json` against `lsipc -m --json`, whole processes.
    const whole = compare(5, LIST, LSIPC);
    return { ours, lsipc, whole };
  } finally {
    for (const t of created.splice(0)) ipc.remove(t);
    if (restore) writeFileSync(SHMMNI, restore);
  }
}

async function reading() {
  const SIZE = 1 << 30;
  const t = { kind: 'shm' as const, id: ipc.createShm({ key: 0, size: SIZE }) };
  created.push(t);
  try {
    const h = ipc.openShm(t, { readWrite: true });
    const buf = Buffer.alloc(SIZE, 0x5a);
    h.write(0, buf); // the segment's pages now exist
    h.close();
    const ro = ipc.openShm(t);
    ro.readInto(buf, 0); // map the source once, as the C side does
    const js = await best(5, () => ro.readInto(buf, 0));
    ro.close();
    const c = Number(execFileSync(baseline, ['memcpy', String(t.id), '5'], { encoding: 'utf8' }));
    return { js, c, size: SIZE };
  } finally {
    ipc.remove(t);
    created.pop();
  }
}

async function semaphores() {
  const PAIRS = 200_000;
  const id = ipc.createSemSet({ key: 0, nsems: 1, values: [0] });
  created.push({ kind: 'sem', id });
  try {
    const jsTime = await best(3, async () => {
      for (let i = 0; i < PAIRS; i++) {
        ipc.semPost(id, 0);
        await ipc.semWait(id, 0, { timeoutMs: 1000 });
      }
    });
    const c = Number(execFileSync(baseline, ['sem', String(id), String(PAIRS)], { encoding: 'utf8' }));
    return { js: PAIRS / jsTime, c };
  } finally {
    ipc.remove({ kind: 'sem', id });
    created.pop();
  }
}

async function main() {
  const l = await listing();
  log(`list: ${(l.ours * 1e3).toFixed(1)} ms in-process, lsipc ${(l.lsipc * 1e3).toFixed(1)} ms; whole processes ${l.whole.ours.toFixed(0)} ms vs ${l.whole.baseline.toFixed(0)} ms`);
  const r = await reading();
  const gbps = (s: number) => r.size / s / 2 ** 30;
  log(`read: ${gbps(r.js).toFixed(2)} GiB/s from JS, memcpy ${gbps(r.c).toFixed(2)} GiB/s`);
  const s = await semaphores();
  log(`sem: ${Math.round(s.js)} pairs/s from JS, ${Math.round(s.c)} in C`);
  const result = {
    'list.ratioVsLsipc': {
      value: l.ours / l.lsipc,
      goal: '<= 0.25',
      detail: `4096 segments: ${(l.ours * 1e3).toFixed(1)} ms in-process vs lsipc -m --json ${(l.lsipc * 1e3).toFixed(1)} ms (best of 7)`,
    },
    'list.processRatioVsLsipc': figure(l.whole, 'reported (in-process goal above)', '4096 segments', LIST, LSIPC),
    'read.ratioVsMemcpy': {
      value: r.c / r.js,
      goal: '>= 0.5',
      detail: `1 GiB into a reused buffer: ${gbps(r.js).toFixed(2)} GiB/s vs C memcpy ${gbps(r.c).toFixed(2)} GiB/s (best of 5)`,
    },
    'sem.opsPerSec': {
      value: Math.round(s.js),
      goal: 'reported next to C',
      detail: `post+wait pairs/s: ${Math.round(s.js)} from JS vs ${Math.round(s.c)} in C (ratio ${(s.js / s.c).toFixed(2)})`,
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  for (const t of created) {
    try {
      ipc.remove(t);
    } catch {
      /* gone */
    }
  }
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
