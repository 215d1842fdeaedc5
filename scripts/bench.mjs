#!/usr/bin/env node
// `npm run bench [-- --json] [-- --only core,decode] [-- --no-build]`: runs every scripts/bench/*.ts (each prints one
// JSON line of { name: { value, goal, detail } }), then prints the figures beside their goals, or
// one JSON object with --json. Ratios are against baselines measured in the same run.
// Each bench runs in an IPC and mount namespace of its own (fresh /dev/shm, its own System V
// tables and limits, as root): when it ends, however it ends, the kernel frees every object it
// made, and nothing it creates can meet the machine's objects. Its temporary folder (TMPDIR, /tmp
// by default) is a fresh tmpfs in there too: a bench stopped mid-run leaves none of its files (a
// workspace, a PostgreSQL cluster's folder) behind. It runs in a process group of its
// own, ended (SIGTERM, then SIGKILL) when this script gets SIGINT or SIGTERM or the bench outlives
// SHMSCOPE_BENCH_TIMEOUT_MS (default 15 min). `--no-build` skips the build.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canUnshare, namespaceArgv, notRootNote } from './namespace.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1]?.split(',')) : undefined;

/** The running bench's process group (its pid), ended on a signal or a timeout. */
let running;
// First of all, so that a signal during the build or the namespace probe below still ends this
// script with its status (the probe's `unshare` is a child in another namespace, which a caller
// may already take for the bench).
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}: stopping\n`);
    void stopRunning().then(() => process.exit(status));
  });
}

if (!args.includes('--no-build')) {
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) process.exit(1);
}

const TIMEOUT_MS = Number(process.env.SHMSCOPE_BENCH_TIMEOUT_MS) > 0 ? Number(process.env.SHMSCOPE_BENCH_TIMEOUT_MS) : 15 * 60_000;
const namespaces = canUnshare();
if (!namespaces) process.stderr.write(`bench: ${notRootNote('benches run in the machine\'s namespace and remove their objects themselves')}\n`);

/** Ends the running bench's whole process group: SIGTERM, then SIGKILL after a grace period. */
async function stopRunning() {
  const child = running;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  // The bench's own IPC namespace: a process it started in a group of its own (a browser, a
  // workbench) is still in it, and is ended too.
  const ns = nsOf(child.pid);
  const gone = new Promise((resolve) => child.once('exit', resolve));
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  const grace = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await gone;
  clearTimeout(grace);
  // Whatever of the group outlived its leader, and whatever else is left in its namespace.
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
  if (ns && ns !== nsOf(process.pid)) {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      if (nsOf(pid) === ns) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

/** A process's IPC namespace ("ipc:[4026531839]"), or undefined once it is gone. */
function nsOf(pid) {
  try { return readlinkSync(`/proc/${pid}/ns/ipc`); } catch { return undefined; }
}

/** Runs one bench script; resolves with its status and standard output. */
function runBench(file) {
  const cmd = [process.execPath, '--import', 'tsx', path.join(root, 'scripts', 'bench', file)];
  const [bin, ...rest] = namespaces ? namespaceArgv(cmd, { name: 'shmscope-bench', mqueue: true, tmpDir: os.tmpdir() }) : cmd;
  return new Promise((resolve) => {
    const child = spawn(bin, rest, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: process.env });
    running = child;
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { if (stdout.length < 1 << 24) stdout += d; });
    const timer = setTimeout(() => {
      process.stderr.write(`bench ${file}: still running after ${TIMEOUT_MS / 1000} s: stopped\n`);
      void stopRunning();
    }, TIMEOUT_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      running = undefined;
      resolve({ status: status ?? signal, stdout });
    });
  });
}

const benches = readdirSync(path.join(root, 'scripts', 'bench'))
  .filter((f) => f.endsWith('.ts') && (!only || only.has(f.replace(/\.ts$/, ''))))
  .sort();
const results = {};
let failed = false;
for (const file of benches) {
  const r = await runBench(file);
  const line = r.stdout.trim().split('\n').pop();
  try {
    if (r.status !== 0) throw new Error(`exit ${r.status}`);
    Object.assign(results, JSON.parse(line));
  } catch (e) {
    failed = true;
    process.stderr.write(`bench ${file} failed: ${e.message}\n`);
  }
}

if (json) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  const rows = Object.entries(results).map(([name, r]) => [name, typeof r.value === 'number' && r.value < 100 ? r.value.toFixed(3) : String(r.value), r.goal, r.detail]);
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length), ['figure', 'value', 'goal'][c].length));
  const line = (row) => `${row[0].padEnd(w[0])}  ${row[1].padStart(w[1])}  ${row[2].padEnd(w[2])}  ${row[3]}`;
  console.log(line(['figure', 'value', 'goal', 'how']));
  for (const row of rows) console.log(line(row));
}
process.exit(failed ? 1 : 0);
