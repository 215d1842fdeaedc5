// CLI start-up (issue 24): `shmscope list --kind sem` and `shmscope dump` of a 4 KiB POSIX object,
// each as a whole process (start-up, loading, the answer, exit) ÷ `node -e 0`, Node's own start,
// timed in the same run, interleaved so that a change of load hits every figure alike. Prints one
// JSON line; creates and removes its object.
//   node --import tsx scripts/bench/startup.ts
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as ipc from '../../extension/src/ipc';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const REPS = 15;
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

function timed(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${String(r.stderr)}`);
  return ms;
}

function main() {
  const name = `/shmscope-bench-startup-${process.pid}`;
  ipc.createPosixShm({ name, size: 4096 });
  try {
    const runs: Record<'node' | 'version' | 'sem' | 'dump', number[]> = { node: [], version: [], sem: [], dump: [] };
    for (let i = 0; i < REPS; i++) {
      runs.node.push(timed(['-e', '0']));
      runs.version.push(timed([cli, '--version']));
      runs.sem.push(timed([cli, 'list', '--kind', 'sem']));
      runs.dump.push(timed([cli, 'dump', `posix:${name}`]));
    }
    const best = (a: number[]) => Math.min(...a);
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const node = best(runs.node);
    const fig = (k: 'version' | 'sem' | 'dump') => `${best(runs[k]).toFixed(0)} ms vs node -e 0 ${node.toFixed(0)} ms (best of ${REPS}; medians ${median(runs[k]).toFixed(0)} and ${median(runs.node).toFixed(0)} ms)`;
    log(`node -e 0 ${node.toFixed(0)} ms, --version ${best(runs.version).toFixed(0)}, list --kind sem ${best(runs.sem).toFixed(0)}, dump ${best(runs.dump).toFixed(0)}`);
    process.stdout.write(`${JSON.stringify({
      'startup.listSemRatioVsNode': { value: best(runs.sem) / node, goal: '<= 1.5', detail: `shmscope list --kind sem as a whole process: ${fig('sem')}` },
      'startup.dumpPosixRatioVsNode': { value: best(runs.dump) / node, goal: '<= 1.5', detail: `shmscope dump of a 4 KiB POSIX object as a whole process: ${fig('dump')}` },
      'startup.versionRatioVsNode': { value: best(runs.version) / node, goal: 'shown', detail: `shmscope --version (loads no command): ${fig('version')}` },
    })}\n`);
  } finally {
    ipc.remove({ kind: 'posix-shm', name });
  }
}

main();
