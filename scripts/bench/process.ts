// Whole-process timing for the bench (issue 26): a command as a user runs it — process start,
// module loading, the work, the output written — against a baseline process, alternated so that
// machine load hits both alike; medians. Used by the core, waits, decode and import benches.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
/** The built CLI (npm run bench builds it first). */
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface Run {
  /** What the figure's detail calls it. */
  name: string;
  cmd: string;
  args: string[];
  /** Where stdout goes (default /dev/null). */
  stdout?: string;
  /** Exit statuses that count as success (default [0]). */
  ok?: number[];
}

/** Wall time of one run in ms; throws when it fails. */
export function wallMs(r: Run): number {
  const fd = openSync(r.stdout ?? '/dev/null', 'w');
  try {
    const t = process.hrtime.bigint();
    const p = spawnSync(r.cmd, r.args, { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], maxBuffer: 1 << 24 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (p.error || !(r.ok ?? [0]).includes(p.status ?? -1)) throw new Error(`${r.name} failed (exit ${p.status}): ${p.error?.message ?? String(p.stderr).trim().split('\n')[0]}`);
    return ms;
  } finally {
    closeSync(fd);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Medians of `n` runs of each, alternated (ours first, then the baseline, n times). */
export function compare(n: number, ours: Run, baseline: Run): Comparison {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    a.push(wallMs(ours));
    b.push(wallMs(baseline));
  }
  const o = median(a);
  const c = median(b);
  return { ours: o, baseline: c, ratio: o / c, n };
}

/**
 * Wall and CPU time (user + system of the process, its threads and its children, as bash's `time`
 * counts them) of one run, in ms; throws when it fails. CPU time is what a loaded machine changes
 * least: the wall time of a run waits for the cores that others hold.
 */
export function timedRun(r: Run): { wall: number; cpu: number } {
  const fd = openSync(r.stdout ?? '/dev/null', 'w');
  try {
    const script = 'TIMEFORMAT="@shmscope-time %3R %3U %3S"; time "$@"';
    const p = spawnSync('bash', ['-c', script, 'bash', r.cmd, ...r.args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 24 });
    const m = /@shmscope-time ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(p.stderr ?? '');
    if (p.error || !(r.ok ?? [0]).includes(p.status ?? -1) || !m) throw new Error(`${r.name} failed (exit ${p.status}): ${p.error?.message ?? String(p.stderr).trim().split('\n')[0]}`);
    return { wall: Number(m[1]) * 1000, cpu: (Number(m[2]) + Number(m[3])) * 1000 };
  } finally {
    closeSync(fd);
  }
}

/** Like `compare`, in wall and in CPU time: medians of `n` runs of each, alternated. */
export function compareTimes(n: number, ours: Run, baseline: Run): { wall: Comparison; cpu: Comparison } {
  const a: { wall: number; cpu: number }[] = [];
  const b: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < n; i++) {
    a.push(timedRun(ours));
    b.push(timedRun(baseline));
  }
  const of = (k: 'wall' | 'cpu'): Comparison => {
    const o = median(a.map((x) => x[k]));
    const c = median(b.map((x) => x[k]));
    return { ours: o, baseline: c, ratio: o / c, n };
  };
  return { wall: of('wall'), cpu: of('cpu') };
}

export interface Comparison {
  ours: number;
  baseline: number;
  ratio: number;
  n: number;
}

/** The figure of a comparison: `ours ÷ baseline` with both times in its detail. */
export function figure(c: Comparison, goal: string, what: string, ours: Run, baseline: Run) {
  return {
    value: Number(c.ratio.toFixed(3)),
    goal,
    detail: `${what}, whole processes, median of ${c.n}: ${ours.name} ${c.ours.toFixed(0)} ms vs ${baseline.name} ${c.baseline.toFixed(0)} ms`,
  };
}
