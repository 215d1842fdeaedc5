// The Prometheus exporter (issue 22): the CPU of one scrape of `shmscope metrics --listen` (the
// process stays up: no start-up cost) on a machine with 500 processes and 1 000 objects (50
// regions mapped by all 500 processes, as the regions bench, and 950 System V and POSIX objects), from the exporter's own
// /proc/PID/stat; and the memory of the long-running exporter over many scrapes (10 000 unless
// SHMSCOPE_BENCH_METRICS_SCRAPES says otherwise): the same listen-mode code (scrape cache, HTTP
// server, renderer) in this process, scraped over loopback, its RSS and its heap after a full
// garbage collection at the start (after 100 scrapes, warm) and at the end. The scrapes stop at
// SHMSCOPE_BENCH_METRICS_MEMORY_MS (default 9 minutes, inside the bench's 15-minute timeout) if
// they have not all run by then: a scrape scans the whole machine, about 0.6 s at a load average
// of 20 on 2 cores, so 10 000 take over an hour there; the figure then says how many ran. The RSS
// is sampled at 0, 100, 1 000, 2 000 scrapes and every 1 000 after (the curve, on stderr as it
// goes and in the figure). SHMSCOPE_BENCH_METRICS_PARTS=cpu or =memory runs one part only, and
// SHMSCOPE_BENCH_METRICS_MEMORY_PROCESSES=N keeps N processes mapping 10 regions each during the
// memory part: a long memory run in the background, in private PID, IPC and mount namespaces (the
// machine state then is the bench's own, and what it made goes with them):
//   unshare --pid --fork --mount-proc --ipc --mount sh -c 'mount -t tmpfs none /dev/shm && exec node …'
// with SHMSCOPE_NATIVE=old/shmscope.node in a second one beside it to measure a previous addon.
// SHMSCOPE_BENCH_METRICS_BASELINE=DIR (a copy of another build's dist/, its shmscope.node beside
// cli.js) alternates that build's exporter with this one's in the CPU part, three rounds each;
// SHMSCOPE_BENCH_METRICS_PROFILE=DIR writes each exporter's CPU profile there.
// Prints one JSON line.
//   node --import tsx scripts/bench/metrics.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { scanWaits, WaitHistory } from '../../extension/src/analysis/waits';
import { MetricsRenderer, ScrapeCache, scanMetrics } from '../../extension/src/analysis/metrics';
import { metricsServer } from '../../extension/src/cli/commands/metrics';
import * as ipc from '../../extension/src/ipc';
import { CLI, ensureBuilt } from '../../test/helpers/ipc';
import { startRegions } from '../../test/helpers/regions';

const PROCESSES = 500;
const REGIONS = 50;
const SCRAPES = Number(process.env.SHMSCOPE_BENCH_METRICS_SCRAPES) > 0 ? Number(process.env.SHMSCOPE_BENCH_METRICS_SCRAPES) : 10_000;
const CPU_SCRAPES = 20;
/** Another build's dist/ folder (its cli.js and shmscope.node): the CPU part alternates it with this build. */
const BASELINE = process.env.SHMSCOPE_BENCH_METRICS_BASELINE;
const MEMORY_PROCESSES = Number(process.env.SHMSCOPE_BENCH_METRICS_MEMORY_PROCESSES) > 0 ? Number(process.env.SHMSCOPE_BENCH_METRICS_MEMORY_PROCESSES) : 0;
const PARTS = new Set((process.env.SHMSCOPE_BENCH_METRICS_PARTS ?? 'cpu,memory').split(','));
const MEMORY_MS = Number(process.env.SHMSCOPE_BENCH_METRICS_MEMORY_MS) > 0 ? Number(process.env.SHMSCOPE_BENCH_METRICS_MEMORY_MS) : 9 * 60_000;
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const TICK_MS = 1000 / 100; // USER_HZ

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

const rssMB = (pid: number | 'self') => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function scrape(url: string): Promise<string> {
  const r = await fetch(url);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`scrape answered ${r.status}: ${text}`);
  return text;
}

/** 950 System V and POSIX objects (with the 50 regions: 1 000 objects); removed at the end (outside a namespace of its own too). */
function makeObjects(): ipc.Target[] {
  const made: ipc.Target[] = [];
  for (let i = 0; i < 400; i++) made.push({ kind: 'shm', id: ipc.createShm({ key: 0, size: 4096, mode: 0o600 }) });
  for (let i = 0; i < 100; i++) made.push({ kind: 'sem', id: ipc.createSemSet({ key: 0, nsems: 4, mode: 0o600 }) });
  for (let i = 0; i < 100; i++) made.push({ kind: 'msg', id: ipc.createMsgQueue({ key: 0, mode: 0o600 }) });
  for (let i = 0; i < 250; i++) {
    const name = `/bench-metrics-${process.pid}-${i}`;
    ipc.createPosixShm({ name, size: 4096, mode: 0o600 });
    made.push({ kind: 'posix-shm', name });
  }
  for (let i = 0; i < 50; i++) {
    const name = `/bench-metrics-sem-${process.pid}-${i}`;
    ipc.createPosixSem({ name, value: 0, mode: 0o600 });
    made.push({ kind: 'posix-sem', name });
  }
  return made;
}

async function cpuPerScrape(cli = CLI): Promise<{ cpu: number; wall: number; objects: number }> {
  const child = spawn(process.execPath, [...(process.env.SHMSCOPE_BENCH_METRICS_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SHMSCOPE_BENCH_METRICS_PROFILE}`] : []), cli, 'metrics', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let address = '';
    for await (const line of createInterface({ input: child.stderr })) {
      const m = /serving metrics at http:\/\/(\S+)\/metrics/.exec(line);
      if (m) {
        address = m[1]!;
        break;
      }
    }
    if (!address) throw new Error('the exporter did not start');
    const url = `http://${address}/metrics`;
    let text = '';
    for (let i = 0; i < 3; i++) text = await scrape(url); // warm: JIT, caches
    const objects = text.split('\n').filter((l) => l.startsWith('shmscope_objects{')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    const c0 = cpuMs(child.pid!);
    const t0 = performance.now();
    for (let i = 0; i < CPU_SCRAPES; i++) await scrape(url);
    return { cpu: (cpuMs(child.pid!) - c0) / CPU_SCRAPES, wall: (performance.now() - t0) / CPU_SCRAPES, objects };
  } finally {
    child.kill('SIGTERM');
  }
}

/** CPU of the scan's parts in this process (mean of 5 after one warm), to say where a scrape's time goes. */
async function parts(): Promise<string> {
  const cpu = async (f: () => Promise<unknown>) => {
    await f();
    const c = process.cpuUsage();
    for (let i = 0; i < 5; i++) await f();
    const d = process.cpuUsage(c);
    return (d.user + d.system) / 5000;
  };
  const all = await cpu(() => scanMetrics());
  const listing = await cpu(() => ipc.list(undefined, { namespaces: 'all' }));
  const waits = await cpu(() => scanWaits());
  return `in-process scan ${all.toFixed(0)} ms CPU: listing ${listing.toFixed(0)} ms, wait scan ${waits.toFixed(0)} ms, limits, verdicts and /dev/shm the rest`;
}

async function memoryOverScrapes(): Promise<{ rss: [number, number][]; heap: [number, number]; scrapes: number }> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const server = metricsServer(new ScrapeCache(() => scanMetrics({ history: new WaitHistory() }), 8000), new MetricsRenderer());
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const sample = () => {
    gc();
    return { rss: rssMB('self'), heap: process.memoryUsage().heapUsed / (1 << 20) };
  };
  const rss: [number, number][] = [];
  const at = (i: number) => {
    const s = sample();
    rss.push([i, s.rss]);
    log(`memory: ${i} scrapes, RSS ${s.rss.toFixed(1)} MB, heap ${s.heap.toFixed(1)} MB, load ${loadavg()[0]!.toFixed(1)}`);
    return s;
  };
  try {
    await scrape(url); // the first: the addon and the renderer loaded, before any scrape's garbage
    const first = at(0);
    const until = performance.now() + MEMORY_MS;
    let i = 1;
    for (; i < SCRAPES && performance.now() < until; i++) {
      await scrape(url);
      if (i === 100 || i % 1000 === 0) at(i);
    }
    const end = rss[rss.length - 1]![0] === i ? { heap: sample().heap } : at(i);
    return { rss, heap: [first.heap, end.heap], scrapes: i };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

async function main() {
  ensureBuilt();
  const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-bench-metrics-'));
  log(`making 950 objects${PARTS.has('cpu') ? ` and ${PROCESSES} processes mapping ${REGIONS} regions` : ''}`);
  const made = makeObjects();
  const out: Record<string, { value: number | string; goal: string; detail: string }> = {};
  try {
    if (PARTS.has('cpu')) {
      const f = startRegions(['many', String(PROCESSES - 1), String(REGIONS), dir]);
      try {
        await f.line('ready ', 120_000); // forking 500 processes under load can take a while
        if (BASELINE) {
          // This build and the baseline's, one after the other, three times: the same machine state and load for both.
          const ours: number[] = [];
          const theirs: number[] = [];
          let objects = 0;
          for (let round = 0; round < 3; round++) {
            const a = await cpuPerScrape();
            const b = await cpuPerScrape(path.join(path.resolve(BASELINE), 'cli.js'));
            ours.push(a.cpu);
            theirs.push(b.cpu);
            objects = a.objects;
            log(`round ${round}: ${a.cpu.toFixed(0)} ms, baseline ${b.cpu.toFixed(0)} ms (load ${loadavg()[0]!.toFixed(1)})`);
          }
          const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
          out['metrics.scrapeCpuMs'] = {
            value: Math.round(mean(ours)), goal: '< 200',
            detail: `CPU of the exporter per scrape with ${PROCESSES} processes and ${objects} objects, mean of 3 alternated rounds of ${CPU_SCRAPES}: ${ours.map((c) => c.toFixed(0)).join(', ')} ms; the baseline (${BASELINE}) ${theirs.map((c) => c.toFixed(0)).join(', ')} ms (ratio ${(mean(ours) / mean(theirs)).toFixed(2)}); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
          };
        } else {
          const { cpu, wall, objects } = await cpuPerScrape();
          const where = await parts();
          out['metrics.scrapeCpuMs'] = {
            value: Math.round(cpu), goal: '< 200',
            detail: `CPU of the exporter per scrape (scan, render, HTTP) with ${PROCESSES} processes and ${objects} objects, mean of ${CPU_SCRAPES} after 3 warm; wall ${wall.toFixed(0)} ms; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${where}`,
          };
        }
      } finally {
        await f.stop();
      }
    }
    if (PARTS.has('memory')) {
      log(`memory: ${SCRAPES} scrapes of the listen-mode exporter in this process`);
      const f = MEMORY_PROCESSES ? startRegions(['many', String(MEMORY_PROCESSES - 1), '10', dir]) : undefined;
      await f?.line('ready ', 120_000);
      const m = await memoryOverScrapes().finally(() => f?.stop());
      const ran = m.scrapes < SCRAPES ? `${m.scrapes} (of ${SCRAPES} asked: the time budget of ${MEMORY_MS / 1000} s ran out)` : String(m.scrapes);
      out['metrics.memoryRssMB'] = {
        value: m.rss.map(([, mb]) => mb.toFixed(1)).join(' → '),
        goal: `flat over ${SCRAPES} scrapes`,
        detail: `RSS after ${m.rss.map(([i]) => i).join(', ')} scrapes (${ran} ran; with the 950 objects${MEMORY_PROCESSES ? ` and ${MEMORY_PROCESSES} processes mapping 10 regions each` : PARTS.has('cpu') ? ', the processes stopped' : ''}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')})`,
      };
      out['metrics.memoryHeapMB'] = { value: `${m.heap[0].toFixed(1)} → ${m.heap[1].toFixed(1)}`, goal: `flat over ${SCRAPES} scrapes`, detail: `V8 heap used after a full garbage collection, after the first scrape → after the last (${ran} scrapes)` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const t of made) {
      try {
        ipc.remove(t);
      } catch {
        /* gone */
      }
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
