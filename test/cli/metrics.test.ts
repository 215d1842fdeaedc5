// shmscope metrics on a machine with every kind of object, in an IPC and mount namespace of this
// file's own (a fresh /dev/shm and /dev/mqueue): `promtool check metrics` on its exposition, a
// real Prometheus (Debian's) scraping `metrics --listen` and answering queries for every series
// (and every expression of deploy/'s rules and dashboard), `promtool test rules` on deploy/'s
// alert rules, the exporter scraped while /dev/shm holds FIFOs, symlinks, garbage and a file being
// resized and processes come and go, and scrapes that arrive during a slow scan. One namespace,
// one set of objects and one Prometheus for the whole file.
import '../hostile/namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { scanWaits } from '../../extension/src/analysis/waits';
import { MetricsRenderer, ScrapeCache, type MetricsScan } from '../../extension/src/analysis/metrics';
import { metricsServer } from '../../extension/src/cli/commands/metrics';
import * as ipc from '../../extension/src/ipc';
import { cli, CLI, Created, ensureBuilt, freshKey, ROOT, until } from '../helpers/ipc';
import { ensurePrometheus, Prometheus, PROMTOOL } from '../helpers/prometheus';
import { buildRegions, startRegions, stopAllRegions } from '../helpers/regions';

const made = new Created();
const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-metrics-'));
const children: ChildProcess[] = [];
const DEPLOY = path.join(ROOT, 'deploy');
/** POSIX queues are listed only where the mqueue filesystem can be mounted at /dev/mqueue (not in every container). */
// Every kind the fixtures below make: no kernel ring (test/native/unlinked-rings.test.ts makes those).
let KINDS: readonly ipc.Kind[] = ipc.KINDS.filter((k) => k !== 'ring');
let posixName = '';
let shmTarget = '';
let nsPid = 0;
let waitersExe = '';

/** The samples of an exposition: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Starts a waiters.c mode; resolves on its "ready PID TID" line. */
async function waiter(...args: string[]): Promise<{ child: ChildProcess; pid: number; tid: number }> {
  const child = spawn(waitersExe, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^ready (\d+) (\d+)$/.exec(line);
    if (m) return { child, pid: Number(m[1]), tid: Number(m[2]) };
  }
  throw new Error(`waiters ${args.join(' ')} exited before it was ready`);
}

/** `shmscope metrics --listen 127.0.0.1:0`: the process and its address (from its stderr line). */
async function exporter(...args: string[]): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [CLI, 'metrics', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stderr })) {
    const m = /serving metrics at http:\/\/(\S+)\/metrics/.exec(line);
    if (m) return { child, address: m[1]! };
  }
  throw new Error('the exporter exited before it listened');
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const gone = once(child, 'exit');
  child.kill(signal);
  const [code] = (await gone) as [number | null];
  return code;
}

before(async () => {
  ensureBuilt();
  ensurePrometheus();
  // This namespace's own POSIX message queues.
  if (!existsSync('/dev/mqueue') || spawnSync('mount', ['-t', 'mqueue', 'shmscope-metrics', '/dev/mqueue']).status !== 0) KINDS = KINDS.filter((k) => k !== 'posix-mq');
  const key = freshKey();
  const shm = made.shm(8192, { key });
  shmTarget = `shm:${shm.id}`;
  made.sem(2, [1, 0]);
  // A leftover: a segment whose creator (ipcmk) has exited, nothing attached.
  const mk = spawnSync('ipcmk', ['-M', '12288'], { encoding: 'utf8' });
  const leftover = /(\d+)\s*$/.exec(mk.stdout.trim());
  assert.ok(leftover, mk.stdout + mk.stderr);
  made.track({ kind: 'shm', id: Number(leftover[1]) });
  const q = made.msg();
  ipc.msgSend(q.id, 1, Buffer.from('hello'));
  const posix = made.posixShm(4096, 'metrics');
  posixName = posix.name;
  const h = ipc.openShm(posix, { readWrite: true });
  const view = Buffer.alloc(8);
  view.writeUInt32LE(0x52494e47, 0);
  view.writeUInt32LE(4242, 4);
  h.write(0, view);
  h.close();
  made.posixSem(3);
  const mq = `/shmscope-metrics-${process.pid}`;
  ipc.createPosixMq({ name: mq, maxMessages: 4, messageSize: 64 });
  made.track({ kind: 'posix-mq', name: mq });
  buildRegions();
  await Promise.all([
    startRegions(['memfd', 'metrics-memfd', '4096', path.join(tmp, 'memfd.sock')]).ready(),
    startRegions(['anon', '4096']).ready(),
    startRegions(['file', path.join(tmp, 'mapped'), '4096']).ready(),
  ]);
  // A container: an IPC and mount namespace with its own /dev/shm and a segment.
  const inner = spawn('unshare', ['--ipc', '--mount', '--fork', 'sh', '-c', `mount -t tmpfs none /dev/shm && exec ${buildRegions()} sysv 4096`], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(inner);
  for await (const line of createInterface({ input: inner.stdout })) {
    if (line.startsWith('ready ')) {
      nsPid = (JSON.parse(line.slice(6)) as { pid: number }).pid;
      break;
    }
  }
  // Waits: an AB–BA deadlock, a lock whose owner died, a reader of an empty queue.
  waitersExe = path.join(tmp, 'waiters');
  const cc = spawnSync('cc', ['-std=gnu11', '-O0', '-pthread', '-o', waitersExe, path.join(ROOT, 'test', 'fixtures', 'waits', 'waiters.c'), '-lrt'], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const locks = made.shm(4096);
  assert.equal(spawnSync(waitersExe, ['init', String(locks.id)]).status, 0);
  await Promise.all([waiter('ab', String(locks.id)), waiter('ba', String(locks.id))]);
  const holder = await waiter('hold', String(locks.id));
  await stop(holder.child);
  await waiter('wait-plain', String(locks.id));
  const empty = made.msg();
  await waiter('msgrcv', String(empty.id));
  await until('the deadlock, the dead owner and the reader are seen', async () => {
    const r = await scanWaits();
    return r.deadlocks.length >= 1 && r.waits.some((w) => w.ownerDied) && r.waits.some((w) => w.object.kind === 'msg');
  });
});

after(async () => {
  await Promise.all(children.map((c) => stop(c)));
  await stopAllRegions();
  made.removeAll();
  rmSync(tmp, { recursive: true, force: true });
});

describe('shmscope metrics', () => {
  let text = '';

  it('prints an exposition that promtool accepts, with every kind of object, limits, /dev/shm of each namespace and the waits', () => {
    const r = cli(['metrics', '--per-object']);
    assert.equal(r.status, 0, r.stderr);
    text = r.stdout;
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.equal(check.stdout + check.stderr, '', 'no lint finding');
    const s = samples(text);
    for (const kind of KINDS) assert.ok((s.get(`shmscope_objects{kind="${kind}"}`) ?? 0) >= 1, `a ${kind} object is counted`);
    assert.ok(s.get('shmscope_objects{kind="shm"}')! >= 4, 'our three segments and the container\'s');
    assert.ok(s.get('shmscope_bytes{kind="shm"}')! >= 8192 + 12288 + 4096 + 4096);
    assert.ok(s.get('shmscope_bytes{kind="msg"}')! >= 5, 'the queued message');
    assert.ok(s.get('shmscope_devshm_used_bytes{mount="/dev/shm",namespace="host"}')! >= 4096);
    const nsIpc = readlinkSync(`/proc/${nsPid}/ns/ipc`).replace(/\D/g, '');
    assert.ok(s.get(`shmscope_devshm_size_bytes{mount="/dev/shm",namespace="ipc:${nsIpc}"}`)! > 0, 'the container\'s /dev/shm');
    assert.ok(s.get('shmscope_limit_used{name="shmmni"}')! >= 2);
    assert.ok(s.get('shmscope_limit{name="shmmni"}')! >= s.get('shmscope_limit_used{name="shmmni"}')!);
    assert.ok(s.get('shmscope_deadlocks')! >= 1);
    assert.ok(s.get('shmscope_dead_owners')! >= 1);
    assert.ok(s.get('shmscope_waiting_threads{kind="msg"}')! >= 1);
    assert.ok(s.get('shmscope_waiting_threads{kind="shm"}')! >= 3, 'the two deadlocked threads and the dead owner\'s waiter');
    assert.ok(s.has('shmscope_stuck_waits'));
    assert.ok(s.has('shmscope_unreadable_processes'));
    assert.ok(s.get('shmscope_scan_duration_seconds')! > 0);
    assert.equal(s.get('shmscope_dropped_series'), 0);
    // The triage verdict: ipcmk's segment is a leftover (other containers on the machine may add theirs).
    assert.ok(s.get('shmscope_leftover_objects{kind="shm"}')! >= 1);
    assert.ok(s.get('shmscope_leftover_bytes{kind="shm"}')! >= 12288);
    assert.equal(s.get(`shmscope_object_bytes{kind="shm",target="${shmTarget}",namespace="host"}`), 8192);
    assert.equal(s.get(`shmscope_object_bytes{kind="posix-shm",target="posix:${posixName}",namespace="host"}`), 4096);
    // No label carries a pid or a name unless asked: without --per-object no target label at all.
    const plain = cli(['metrics']).stdout;
    assert.doesNotMatch(plain, /target=|pid=|name="\//);
  });

  it('caps per-object and field series with --max-series and counts what it cut', () => {
    const all = [...samples(text).keys()].filter((k) => k.startsWith('shmscope_object_bytes{')).length;
    assert.ok(all >= 6);
    // (How many the machine has moves with its other processes' shared file mappings: each run
    // is checked against itself.)
    const r = cli(['metrics', '--per-object', '--max-series', '2']);
    assert.equal(r.status, 4, 'a limit cut the output: exit 4');
    const s = samples(r.stdout);
    assert.equal([...s.keys()].filter((k) => k.startsWith('shmscope_object_bytes{')).length, 2);
    const dropped = s.get('shmscope_dropped_series')!;
    assert.ok(dropped >= 4);
    assert.equal(r.stderr, `shmscope: output cut short: ${dropped} per-object or field series left out, counted in shmscope_dropped_series (--max-series ${dropped + 2} writes them all)\n`);
  });

  it('exports a schema field with --field, bound by the schema\'s segment declaration', () => {
    const schema = path.join(tmp, 'hdr.shms');
    writeFileSync(schema, `struct Hdr { uint32_t magic; uint32_t dropped; };\nsegment S for posix "${posixName}" { Hdr hdr @ 0; };\n`);
    const r = cli(['metrics', '--schema', schema, '--field', `posix:${posixName}:hdr.dropped`, '--field', `posix:${posixName}:hdr.magic`]);
    assert.equal(r.status, 0, r.stderr);
    const s = samples(r.stdout);
    assert.equal(s.get(`shmscope_field{target="posix:${posixName}",field="hdr.dropped"}`), 4242);
    assert.equal(s.get(`shmscope_field{target="posix:${posixName}",field="hdr.magic"}`), 0x52494e47);
    const cutRun = cli(['metrics', '--schema', schema, '--field', `posix:${posixName}:hdr.dropped`, '--field', `posix:${posixName}:hdr.magic`, '--max-series', '1']);
    assert.equal(cutRun.status, 4);
    assert.equal(samples(cutRun.stdout).get('shmscope_dropped_series'), 1);
    const bad = cli(['metrics', '--field', 'hdr.dropped']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--field takes TARGET:FIELD/);
  });

  it('writes --textfile atomically: a new file renamed over the path, a symbolic link there replaced, never followed', () => {
    const dir = path.join(tmp, 'textfile');
    mkdirSync(dir);
    const victim = path.join(tmp, 'victim');
    writeFileSync(victim, 'untouched');
    const file = path.join(dir, 'shmscope.prom');
    symlinkSync(victim, file);
    const r = cli(['metrics', '--textfile', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assert.ok(lstatSync(file).isFile());
    assert.equal(lstatSync(file).mode & 0o777, 0o644);
    assert.ok(samples(readFileSync(file, 'utf8')).get('shmscope_objects{kind="shm"}')! >= 3);
    assert.deepEqual(readdirSync(dir), ['shmscope.prom'], 'no temporary file left');
    const into = cli(['metrics', '--textfile', dir]);
    assert.equal(into.status, 1);
    assert.deepEqual(readdirSync(dir), ['shmscope.prom']);
  });

  it('deploy/: promtool accepts the alert rules and their unit tests pass on recorded series', () => {
    const check = spawnSync(PROMTOOL, ['check', 'rules', 'shmscope-rules.yml'], { cwd: path.join(DEPLOY, 'prometheus'), encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: 5 rules found/);
    const test = spawnSync(PROMTOOL, ['test', 'rules', 'shmscope-rules.test.yml'], { cwd: path.join(DEPLOY, 'prometheus'), encoding: 'utf8' });
    assert.equal(test.status, 0, test.stdout + test.stderr);
  });

  it('a real Prometheus scrapes --listen and answers queries for every series, the rules and the dashboard', async () => {
    // A scan that runs past 1 s (a loaded machine) answers with the previous one, within the 2 s scrape timeout.
    const ex = await exporter('--deadline', '1s');
    const prom = await Prometheus.start(ex.address, [path.join(DEPLOY, 'prometheus', 'shmscope-rules.yml')]);
    try {
      await until('Prometheus has scraped the exporter', async () => (await prom.query('up{job="shmscope"} == 1')).length === 1, 60_000);
      const names = ['objects', 'bytes', 'resident_bytes', 'leftover_objects', 'leftover_bytes', 'devshm_size_bytes', 'devshm_used_bytes', 'limit', 'limit_used', 'waiting_threads', 'deadlocks',
        'dead_owners', 'stuck_waits', 'scan_duration_seconds', 'unreadable_processes', 'dropped_series', 'scan_late'];
      for (const n of names) assert.ok((await prom.query(`shmscope_${n}`)).length >= 1, `shmscope_${n} is in Prometheus`);
      const kinds = (await prom.query('shmscope_objects > 0')).map((r) => r.metric.kind).sort();
      assert.deepEqual(kinds, [...KINDS].sort());
      // The deadlock alert has no `for`: it fires at the first evaluation that sees it.
      await until('ShmscopeDeadlock fires', async () => {
        const r = await prom.api('alerts');
        return ((r?.data as { alerts: { labels: { alertname: string }; state: string }[] } | undefined)?.alerts ?? []).some((a) => a.labels.alertname === 'ShmscopeDeadlock' && a.state === 'firing');
      }, 60_000);
      // Every expression of the dashboard parses and evaluates.
      const dash = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana', 'shmscope-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
      for (const p of dash.panels) for (const t of p.targets) await prom.query(t.expr.replaceAll('$instance', '.*'));
    } finally {
      await prom.stop();
      assert.equal(await stop(ex.child, 'SIGTERM'), 0, 'SIGTERM ends the exporter with status 0');
    }
  });

  it('keeps answering while /dev/shm holds a FIFO, a symlink, garbage and a file being resized, and processes come and go', async () => {
    spawnSync('mkfifo', ['/dev/shm/metrics-fifo']);
    symlinkSync('/etc/shadow', '/dev/shm/metrics-evil');
    writeFileSync('/dev/shm/sem.metrics-garbage', Buffer.from('\xff\x00garbage', 'latin1'));
    mkdirSync('/dev/shm/metrics-dir');
    const resizer = spawn('sh', ['-c', 'while :; do truncate -s 1M /dev/shm/metrics-grow; truncate -s 0 /dev/shm/metrics-grow; done'], { stdio: 'ignore' });
    const churn = spawn('sh', ['-c', 'while :; do /bin/true & /bin/true & wait; done'], { stdio: 'ignore' });
    children.push(resizer, churn);
    const ex = await exporter();
    try {
      for (let i = 0; i < 10; i++) {
        const r = await fetch(`http://${ex.address}/metrics`);
        assert.equal(r.status, 200);
        const body = await r.text();
        const s = samples(body);
        assert.ok(s.get('shmscope_objects{kind="posix-shm"}')! >= 1);
        if (i === 9) {
          const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8' });
          assert.equal(check.status, 0, check.stdout + check.stderr);
          assert.equal(s.get('shmscope_scan_failed{part="list"}'), undefined, 'the listing never failed whole');
        }
      }
      assert.equal(ex.child.exitCode, null, 'the exporter is still up');
      // Asked before the synchronous CLI run below: while it blocks this thread, the server closes the
      // idle keep-alive connection and fetch would reuse a closed socket ("fetch failed").
      assert.notEqual((await fetch(`http://${ex.address}/nothing`)).status, 200);
      // Only regular files are objects: the FIFO, the symlink and the directory are left out (our
      // namespace's series: other containers on the machine have theirs).
      const regular = readdirSync('/dev/shm').filter((n) => !n.startsWith('sem.') && lstatSync(`/dev/shm/${n}`).isFile()).length;
      const listed = [...samples(cli(['metrics', '--per-object', '--max-series', '100000']).stdout).keys()]
        .filter((k) => k.startsWith('shmscope_object_bytes{kind="posix-shm"') && k.endsWith('namespace="host"}'));
      assert.equal(listed.length, regular, listed.join('\n'));
    } finally {
      await Promise.all([stop(ex.child), stop(resizer), stop(churn)]);
      for (const f of ['metrics-fifo', 'metrics-evil', 'sem.metrics-garbage', 'metrics-grow']) rmSync(`/dev/shm/${f}`, { force: true });
      rmSync('/dev/shm/metrics-dir', { recursive: true, force: true });
    }
  });
});

describe('the exporter\'s scrape cache', () => {
  /** A scan whose numbers say which one it is. */
  const fake = (n: number): MetricsScan => ({
    objects: new Map([['shm', n]]), bytes: new Map(), resident: new Map(), devshm: [], limits: [], waiting: new Map(), deadlocks: 0, deadOwners: 0, stuckWaits: 0,
    unreadableProcesses: 0, series: { objectBytes: [], fields: [] }, droppedSeries: 0, failed: [], durationSeconds: 0, at: 0,
  });

  it('serves the previous scan (late) to scrapes that arrive during a slow scan, shares that scan among them, and 503 before any', async () => {
    let scans = 0;
    let hang = true;
    let failing = false;
    const gates: (() => void)[] = [];
    const cache = new ScrapeCache(async () => {
      const n = ++scans;
      if (hang) await new Promise<void>((resolve) => gates.push(resolve));
      if (failing) throw new Error('a scan that failed');
      return fake(n);
    }, 50);
    const release = () => gates.splice(0).forEach((f) => f());
    const server = metricsServer(cache, new MetricsRenderer());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    const get = async () => {
      const r = await fetch(url);
      const s = samples(await r.text());
      return { status: r.status, late: s.get('shmscope_scan_late'), n: s.get('shmscope_objects{kind="shm"}') };
    };
    try {
      assert.equal((await get()).status, 503, 'no scan has finished yet');
      hang = false;
      release();
      const first = await get();
      assert.deepEqual([first.status, first.late], [200, 0]);
      // A slow scan: every scrape meanwhile gets the previous one, late, and no other scan starts.
      hang = true;
      const before = scans;
      const during = await Promise.all([get(), get(), get()]);
      assert.deepEqual(during, [1, 2, 3].map(() => ({ status: 200, late: 1, n: first.n })));
      assert.equal(scans, before + 1, 'the scrapes shared the running scan');
      // A scan that fails: still the previous, late.
      failing = true;
      hang = false;
      release();
      assert.deepEqual(await get(), { status: 200, late: 1, n: first.n });
      // Then a scan on time: fresh.
      failing = false;
      const fresh = await get();
      assert.deepEqual([fresh.status, fresh.late, fresh.n], [200, 0, scans]);
    } finally {
      release();
      server.closeAllConnections();
      server.close();
    }
  });
});
