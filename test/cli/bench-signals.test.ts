// `npm run bench` interrupted: each bench, stopped by SIGINT or SIGTERM at a random moment of its
// run (or by its timeout), leaves no process and no kernel object behind. A bench runs in an IPC
// namespace of its own (scripts/bench.mjs): once no process is left in it, the kernel has freed
// every object it made; the test checks that no process is left in it, none in the bench's process
// group, that this namespace's objects are as they were, and that nothing of the bench is in the
// temporary folder it gave the bench script (a bench's files, a PostgreSQL cluster's folder). This file runs in a private namespace
// itself (test/hostile/namespace.ts), so that other programs' objects cannot come and go in it.
// The same for the editor tests' runner (test/editor/run.mjs) stopped in the middle of a page-driven
// test that holds kernel objects, a workbench and a Chromium (test/fixtures/editor/interrupted.ts),
// by SIGINT or SIGTERM, and by a SIGKILL that leaves the runner no say: no process (no code-server,
// no Chromium above all), no object, no workbench run folder is left.
import '../hostile/namespace';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, ROOT } from '../helpers/ipc';
import { untilWithin } from '../helpers/wait';

const until = untilWithin(120_000);
const benches = readdirSync(path.join(ROOT, 'scripts', 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const started: ChildProcess[] = [];
/**
 * The bench script's temporary folder (TMPDIR): a bench's files go to a tmpfs of its namespace
 * mounted there, so this stays empty. A short name: the editor bench's workbench puts a socket
 * some 75 characters deep in it, and a socket's path has at most 107.
 */
const tmp = mkdtempSync(path.join(tmpdir(), 'sig-'));

const nsOf = (pid: number | string) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/ipc`);
  } catch {
    return undefined;
  }
};
const pids = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);
const ppidOf = (pid: number) => {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  } catch {
    return 0;
  }
};
const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/** This namespace's System V objects and POSIX names. */
function objects(): string[] {
  const rows = (kind: string) => readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n').slice(1).map((l) => `${kind} ${l.trim().split(/\s+/).slice(0, 2).join(' ')}`);
  return [...rows('shm'), ...rows('sem'), ...rows('msg'), ...readdirSync('/dev/shm').map((n) => `/dev/shm/${n}`)].sort();
}

/** Starts `npm run bench -- --only NAME --no-build` in a process group of its own. */
function startBench(name: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'bench.mjs'), '--only', name, '--no-build'], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, TMPDIR: tmp, ...env },
  });
  started.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, stderr: () => stderr };
}

/** Waits until the bench runs in its own namespace; returns that namespace. */
async function benchNamespace(benchPid: number, exited: Promise<unknown>): Promise<string | undefined> {
  let done = false;
  void exited.then(() => (done = true));
  const ours = nsOf(process.pid);
  return until('the bench runs in a namespace of its own', () => {
    if (done) return 'exited';
    // Not the script's probe of whether namespaces can be made (`unshare … -- true`), which is a
    // child in another namespace for a moment before any bench runs.
    const probe = (p: number) => {
      try {
        return /(^|\0)true\0$/.test(readFileSync(`/proc/${p}/cmdline`, 'latin1'));
      } catch {
        return true; // gone: the probe, or a bench already ended
      }
    };
    const child = pids().find((p) => ppidOf(p) === benchPid && nsOf(p) !== undefined && nsOf(p) !== ours && !probe(p));
    return child === undefined ? undefined : nsOf(child);
  }).then((ns) => (ns === 'exited' ? undefined : ns));
}

/** No process in `ns` nor in the group `pgid`, and this namespace's objects as `before`. */
async function nothingLeft(what: string, ns: string | undefined, pgid: number, before: string[]) {
  await until(`${what}: no process left in the bench's process group`, () => !groupAlive(pgid), 30_000);
  if (ns) await until(`${what}: no process left in the bench's IPC namespace ${ns}`, () => !pids().some((p) => nsOf(p) === ns), 30_000);
  assert.deepEqual(objects(), before, `${what}: this namespace's objects are as they were`);
  assert.deepEqual(readdirSync(tmp), [], `${what}: no file of the bench is left in its temporary folder`);
}

before(() => ensureBuilt());
after(() => {
  for (const c of started) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  rmSync(mark, { force: true });
});

/** Where the interrupted test file says how far it got. */
const mark = path.join(tmpdir(), `sig-mark-${process.pid}`);
/** A process's descendants (children, theirs, …). */
function descendants(pid: number): number[] {
  const all = pids().map((p) => [p, ppidOf(p)] as const);
  const found: number[] = [];
  for (let next = [pid]; next.length > 0;) {
    next = all.filter(([, pp]) => next.includes(pp)).map(([p]) => p);
    found.push(...next);
  }
  return found;
}
const pgidOf = (pid: number) => {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[2]);
  } catch {
    return 0;
  }
};

/** A process's start time (clock ticks since boot): with its pid, its identity (pids are reused). */
const startOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19];
  } catch {
    return undefined;
  }
};
const pidNsOf = (pid: number) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
};
const cmdline = (p: number) => {
  try {
    return readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0/g, ' ').trim().slice(0, 120);
  } catch {
    return '(gone)';
  }
};
/** A workbench's processes: code-server (its server and extension hosts) and Chromium (browser, renderers, helpers). */
const workbenchKind = (p: number) => {
  const argv0 = cmdline(p).split(' ')[0] ?? '';
  if (/chrom/i.test(argv0)) return 'Chromium';
  if (cmdline(p).includes('code-server')) return 'code-server';
  return undefined;
};

/**
 * Runs test/editor/run.mjs on the interrupted fixture, waits until the fixture has reached `stage`
 * ("objects made" or "browser up"), then for a random moment of up to `jitterMs`, and sends
 * `signal` to the runner. Then: no process in any of its process groups, in the tests' IPC or pid
 * namespace, no code-server or Chromium of the run alive, no object, no workbench run folder.
 */
async function interruptEditorRun(signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL', stage: string, jitterMs: number) {
  const before = objects();
  rmSync(mark, { force: true });
  const child = spawn(process.execPath, [path.join(ROOT, 'test', 'editor', 'run.mjs'), '--no-build', '--only', 'ui', '--files', path.join(ROOT, 'test', 'fixtures', 'editor', 'interrupted.ts')], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, TMPDIR: tmp, SHMSCOPE_INTERRUPTED_MARK: mark },
  });
  started.push(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  let done = false;
  void exited.then(() => (done = true));
  await until(`the test file reached "${stage}"`, () => done || (existsSync(mark) && readFileSync(mark, 'utf8').includes(stage)));
  assert.equal(done, false, `the runner is still running (${output})`);
  // The test file's namespaces (not the runner's) and every process group under the runner.
  const ours = nsOf(process.pid);
  const ourPids = pidNsOf(process.pid);
  const below = descendants(child.pid!);
  const ns = below.map(nsOf).find((n) => n !== undefined && n !== ours);
  assert.ok(ns, 'the page-driven tests run in an IPC namespace of their own');
  const pidNs = below.map(pidNsOf).find((n) => n !== undefined && n !== ourPids);
  assert.ok(pidNs, 'the page-driven tests run in a pid namespace of their own');
  // A random moment of the test: starting its workbench or browser, or holding everything.
  await new Promise((r) => setTimeout(r, randomInt(jitterMs)));
  const progress = readFileSync(mark, 'utf8').trim().split('\n').pop();
  // Every process of the run just before the signal, and which of them are a workbench's.
  const all = descendants(child.pid!);
  const groups = new Set([child.pid!, ...all.map(pgidOf).filter((g) => g > 0)]);
  const workbench = all.flatMap((p) => {
    const kind = workbenchKind(p);
    const start = startOf(p);
    return kind && start ? [{ pid: p, kind, start, cmd: cmdline(p) }] : [];
  });
  if (progress === 'browser up') {
    assert.ok(workbench.some((w) => w.kind === 'code-server'), `a code-server runs under the runner: ${all.map(cmdline).join('; ')}`);
    assert.ok(workbench.some((w) => w.kind === 'Chromium'), `a Chromium runs under the runner: ${all.map(cmdline).join('; ')}`);
  }
  process.kill(child.pid!, signal);
  const status = await exited;
  assert.equal(status, signal === 'SIGKILL' ? 'SIGKILL' : signal === 'SIGINT' ? 130 : 143, output);
  const alive = () => workbench.filter((w) => startOf(w.pid) === w.start);
  await until(`no code-server or Chromium of the run is left (stopped at "${progress}")`, () => alive().length === 0, 30_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${alive().map((w) => `${w.pid} ${w.kind} [group ${pgidOf(w.pid)}, parent ${ppidOf(w.pid)}] ${w.cmd}`).join('; ')}`);
  });
  for (const g of groups) await until(`no process left in the group ${g} (stopped at "${progress}")`, () => !groupAlive(g), 30_000);
  const inNs = () => pids().filter((p) => nsOf(p) === ns || pidNsOf(p) === pidNs);
  await until(`no process left in the tests' namespaces ${ns} ${pidNs}`, () => inNs().length === 0, 30_000).catch((e: Error) => {
    throw new Error(`${e.message} (stopped at "${progress}"): ${inNs().map((p) => `${p} [group ${pgidOf(p)}] ${cmdline(p)}`).join('; ')}`);
  });
  assert.deepEqual(objects(), before, 'this namespace\'s objects are as they were');
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('shmscope-wb-')), [], 'no workbench run folder is left');
  // An interrupted runner leaves its report of the run (and the namespace's probe, written as it
  // went): the run's artifacts, not a leak of the tests'; this test's own runs need none.
  for (const f of [`ui-${child.pid}.tap`, `ui-left-${child.pid}.json`]) rmSync(path.join(ROOT, '.test-artifacts', 'editor', f), { force: true });
}

describe('an interrupted editor test run', () => {
  it('SIGTERM or SIGINT to test/editor/run.mjs at a random moment of a page-driven test leaves no process, no workbench, no object and no run folder', { timeout: 10 * 60_000 }, async () => {
    await interruptEditorRun(randomInt(2) === 0 ? 'SIGINT' : 'SIGTERM', 'objects made', 8000);
  });

  it('SIGKILL of test/editor/run.mjs while a workbench and its Chromium run leaves no code-server, no Chromium, no object and no run folder', { timeout: 10 * 60_000 }, async () => {
    // Nothing of the runner's runs then: only the kernel can end what it started.
    await interruptEditorRun('SIGKILL', 'browser up', 3000);
  });
});

describe('an interrupted bench', () => {
  for (const [i, name] of benches.entries()) {
    const signal = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
    it(`${name}: ${signal} at a random moment leaves no process and no object`, { timeout: 10 * 60_000 }, async () => {
      const before = objects();
      const b = startBench(name);
      const ns = await benchNamespace(b.child.pid!, b.exited);
      assert.ok(ns, `the bench ${name} started (${b.stderr()})`);
      // A random moment of its run: creating objects, measuring, or removing them.
      await new Promise((r) => setTimeout(r, randomInt(6000)));
      try {
        process.kill(b.child.pid!, signal);
      } catch (e) {
        // The moment fell after the bench's own end (a short bench on a quiet machine): it must
        // still have left nothing.
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
      const status = await b.exited;
      if (status !== 0 && status !== 1) assert.equal(status, signal === 'SIGINT' ? 130 : 143, b.stderr());
      await nothingLeft(name, ns, b.child.pid!, before);
    });
  }

  it('a bench that outlives SHMSCOPE_BENCH_TIMEOUT_MS is stopped, reported, and leaves nothing', { timeout: 10 * 60_000 }, async () => {
    const before = objects();
    const b = startBench('core', { SHMSCOPE_BENCH_TIMEOUT_MS: '1500' });
    const ns = await benchNamespace(b.child.pid!, b.exited);
    assert.equal(await b.exited, 1, b.stderr());
    assert.match(b.stderr(), /bench core\.ts: still running after 1\.5 s: stopped/);
    await nothingLeft('core', ns, b.child.pid!, before);
  });
});
