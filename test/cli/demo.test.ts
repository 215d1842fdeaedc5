// `npm run demo` as a process: it creates every object DESIGN.md §6 lists, the ring is live and
// consistent (magic, seqlock, CRC, head advancing), and SIGINT or SIGTERM removes everything within
// 10 s, also when the producer died without cleaning up.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import * as ipc from '../../extension/src/ipc';
import { cli, ensureBuilt, ROOT, until } from '../helpers/ipc';

const KEY = 0x52494e47;
const NAME = '/shmscope-demo';
const DEMO = path.join(ROOT, 'scripts', 'demo.mjs');
const WORKBENCH = path.join(ROOT, 'scripts', 'editor', 'workbench.mjs');

/** Demo objects that exist now, read from the kernel's tables. */
function demoObjects(): ipc.Target[] {
  const found: ipc.Target[] = [];
  for (const kind of ['shm', 'sem', 'msg'] as const) {
    const lines = readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n').slice(1);
    for (const l of lines) {
      const f = l.trim().split(/\s+/);
      if (Number(f[0]) >>> 0 === KEY) found.push({ kind, id: Number(f[1]) });
    }
  }
  if (existsSync(`/dev/shm${NAME}`)) found.push({ kind: 'posix-shm', name: NAME });
  if (existsSync(`/dev/shm/sem${NAME.replace('/', '.')}`)) found.push({ kind: 'posix-sem', name: NAME });
  return found;
}

interface Demo {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Demo[] = [];

function startDemo(args: string[]): Demo {
  const child = spawn(process.execPath, [DEMO, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const demo = { child, output: () => text, exit };
  running.push(demo);
  return demo;
}

/** The pids the demo prints: "producer pid N … consumer pid M". */
function pids(demo: Demo): { producer: number; consumer: number } {
  const m = /producer pid (\d+) .* consumer pid (\d+)/.exec(demo.output());
  assert.ok(m, `the demo names its processes:\n${demo.output()}`);
  return { producer: Number(m[1]), consumer: Number(m[2]) };
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

/** Waits until every object exists and the producer and consumer run; returns the segment. */
async function waitLive(demo: Demo): Promise<ipc.Target & { kind: 'shm' }> {
  const kinds = () => new Set(demoObjects().map((t) => t.kind));
  await until(
    `the demo created all five objects (output so far:\n${demo.output()})`,
    () => kinds().size === 5 && /consumer pid \d+/.test(demo.output()),
    60_000,
  );
  const shm = demoObjects().find((t) => t.kind === 'shm');
  assert.ok(shm && shm.kind === 'shm');
  return shm;
}

/** Reads the header and slots under the seqlock: seq even and unchanged across the copy. */
function readStable(h: ipc.ShmHandle): { header: DataView; slots: Uint8Array } {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const seq1 = new DataView(h.read(32, 4).buffer.slice(0)).getUint32(0, true);
    if (seq1 % 2 === 1) continue;
    const bytes = h.read(0, 64 + 16 * 64);
    const header = new DataView(bytes.buffer, bytes.byteOffset, 64);
    const seq2 = new DataView(h.read(32, 4).buffer.slice(0)).getUint32(0, true);
    if (header.getUint32(32, true) === seq1 && seq2 === seq1) return { header, slots: bytes.subarray(64) };
  }
  throw new Error('the seqlock never settled in 1000 tries');
}

/** Sends a signal and asserts that the demo, its processes and its objects are gone within 10 s. */
async function assertStopsClean(demo: Demo, signal: NodeJS.Signals): Promise<void> {
  const { producer, consumer } = pids(demo);
  const t0 = Date.now();
  demo.child.kill(signal);
  await until('the demo exits', () => demo.child.exitCode !== null || demo.child.signalCode !== null, 10_000);
  await until('producer and consumer are gone', () => !alive(producer) && !alive(consumer), 10_000 - (Date.now() - t0));
  assert.deepEqual(demoObjects(), [], `nothing left behind; output:\n${demo.output()}`);
  assert.ok(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms`);
  const { code } = await demo.exit;
  assert.equal(code, 0, demo.output());
  assert.match(demo.output(), /everything it created is removed/);
}

before(() => {
  ensureBuilt();
  assert.deepEqual(demoObjects(), [], 'no demo is running on this machine (stop it before running the tests)');
});

after(async () => {
  // A failed test may leave a demo running: kill it (its children get SIGTERM from the kernel via
  // PR_SET_PDEATHSIG and clean up), then remove whatever is still there.
  for (const d of running) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  await Promise.all(running.map((d) => d.exit));
  await until('the demo processes end', () => !running.some((d) => {
    const m = /producer pid (\d+) .* consumer pid (\d+)/.exec(d.output());
    return m ? alive(Number(m[1])) || alive(Number(m[2])) : false;
  }), 10_000).catch(() => {});
  // Only demos this file started are ours to clean up (never a user's demo that was running).
  if (running.length === 0) return;
  for (const t of demoObjects()) {
    try {
      ipc.remove(t);
    } catch {
      /* gone meanwhile */
    }
  }
});

describe('npm run demo', () => {
  it('the producer and consumer match the schema layout (the C compiler says so)', () => {
    let layout: SpawnSyncReturns<string>;
    // ring.shms states these sizes and offsets; the producer prints what its compiler chose.
    const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-demo-cc-'));
    const producer = path.join(dir, 'producer');
    try {
      for (const name of ['producer', 'consumer']) {
        const cc = spawnSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', path.join(dir, name),
          path.join(ROOT, 'demo', `${name}.c`)], { encoding: 'utf8' });
        assert.equal(cc.status, 0, `${name}.c compiles without warnings:\n${cc.stderr}`);
      }
      layout = spawnSync(producer, ['--layout'], { encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const r = layout;
    assert.equal(r.status, 0, r.stderr);
    const got = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' = ') as [string, string]));
    // What demo/workspace/ring.shms states (DESIGN.md §4).
    const expected: Record<string, string> = {
      'sizeof(struct Header)': '56',
      'offsetof(struct Header, magic)': '0',
      'offsetof(struct Header, version)': '4',
      'offsetof(struct Header, flags)': '6',
      'offsetof(struct Header, capacity)': '8',
      'offsetof(struct Header, slot_size)': '12',
      'offsetof(struct Header, head)': '16',
      'offsetof(struct Header, tail)': '24',
      'offsetof(struct Header, seq)': '32',
      'offsetof(struct Header, crc)': '36',
      'offsetof(struct Header, state)': '40',
      'offsetof(struct Header, stats)': '48',
      'sizeof(struct Slot)': '64',
      'offsetof(struct Slot, text)': '12',
      'sizeof(struct Stats)': '16',
      'slots offset': '64',
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(got[k], v, k);
    const schema = readFileSync(path.join(ROOT, 'demo', 'workspace', 'ring.shms'), 'utf8');
    assert.match(schema, /segment Ring for key 0x52494E47/);
    assert.match(schema, /static_assert\(sizeof\(Header\) == 56\)/);
  });

  it('creates every object, keeps the ring live and consistent, and SIGINT removes it all', async () => {
    const demo = startDemo(['--no-open', '--no-editor']);
    const shm = await waitLive(demo);
    const h = ipc.openShm(shm);
    try {
      assert.equal(h.size, 4096);
      const first = readStable(h);
      assert.equal(first.header.getUint32(0, true), 0x474e4952, 'magic "RING"');
      assert.equal(first.header.getUint16(4, true), 3, 'version');
      assert.equal(first.header.getUint32(8, true), 16, 'capacity');
      assert.equal(first.header.getUint32(12, true), 64, 'slot_size');
      assert.equal(first.header.getUint32(40, true), 1, 'state RUNNING');
      assert.equal(first.header.getBigUint64(48, true), 64n + 16n * 64n, 'stats offset');
      const head0 = first.header.getBigUint64(16, true);
      await until('the ring head advances', () => readStable(h).header.getBigUint64(16, true) > head0 + 1n, 5000);
      const now = readStable(h);
      assert.equal(now.header.getUint32(36, true), crc32(now.slots), 'crc32 over the slots matches');
      const head = now.header.getBigUint64(16, true);
      const tail = now.header.getBigUint64(24, true);
      assert.ok(tail <= head && head - tail <= 16n, `0 <= head - tail <= capacity (head ${head}, tail ${tail})`);
      const last = Number((head - 1n) % 16n) * 64;
      const text = Buffer.from(now.slots.subarray(last + 12, last + 64)).toString('latin1').replace(/\0.*$/s, '');
      assert.match(text, new RegExp(`^message ${head} from pid \\d+$`), 'the newest slot holds the newest message');
      await until('the consumer advances the tail', () => readStable(h).header.getBigUint64(24, true) > 0n, 5000);
    } finally {
      h.close();
    }

    // The schema the user opens decodes the live segment with every check passing.
    const decoded = cli(['decode', `key:0x${KEY.toString(16)}`, '--schema', path.join(ROOT, 'demo', 'workspace', 'ring.shms'), '--json']);
    assert.equal(decoded.status, 0, decoded.stderr);
    const doc = JSON.parse(decoded.stdout) as { checks: { path: string; kind: string; ok: boolean | null }[]; diagnostics: unknown[]; hdr: { state: string } };
    assert.deepEqual(doc.diagnostics, []);
    assert.deepEqual(doc.checks.map((c) => [c.path, c.kind, c.ok]), [
      ['hdr.magic', 'expect', true],
      ['hdr.version', 'expect', true],
      ['hdr.seq', 'seqlock', true],
      ['hdr.crc', 'checksum', true],
      ['slots', 'ring', true],
    ]);
    assert.equal(doc.hdr.state, 'RUNNING');

    const all = demoObjects();
    const sem = all.find((t) => t.kind === 'sem');
    const msg = all.find((t) => t.kind === 'msg');
    assert.ok(sem?.kind === 'sem' && msg?.kind === 'msg');
    assert.equal(ipc.semGet(sem.id).nsems, 2);
    await until('the consumer waits on "used" (ncnt 1)', () => ipc.semGet(sem.id).ncnt[1] === 1, 5000);
    const types = [0, 1, 2, 3].map((i) => ipc.msgPeek(msg.id, i).type);
    assert.deepEqual(types, [1, 2, 7, 3], 'four messages of different types, unconsumed');
    assert.ok([0, 1].includes(ipc.psemValue(NAME)), 'the POSIX semaphore is a mutex');
    const status = ipc.openShm({ kind: 'posix-shm', name: NAME });
    try {
      assert.equal(Buffer.from(status.read(0, 13)).toString('latin1'), 'shmscope-demo');
    } finally {
      status.close();
    }

    await assertStopsClean(demo, 'SIGINT');
  });

  it('SIGTERM removes everything too', async () => {
    const demo = startDemo(['--no-open', '--no-editor']);
    await waitLive(demo);
    await assertStopsClean(demo, 'SIGTERM');
  });

  it('removes the objects itself when the producer died without cleaning up', async () => {
    const demo = startDemo(['--no-open', '--no-editor']);
    await waitLive(demo);
    const { producer, consumer } = pids(demo);
    process.kill(producer, 'SIGKILL'); // no chance to run its cleanup
    const { code } = await demo.exit;
    assert.equal(code, 1, 'an unexpected producer death is a failure');
    assert.match(demo.output(), /producer exited unexpectedly \(SIGKILL\)/);
    await until('the consumer is gone', () => !alive(consumer), 5000);
    assert.deepEqual(demoObjects(), [], `nothing left behind; output:\n${demo.output()}`);
  });

  it('serves the workbench and prints its URL; SIGINT stops it', { timeout: 15 * 60_000 }, async (t) => {
    if (!existsSync(WORKBENCH)) {
      t.skip('scripts/editor/workbench.mjs is not in this checkout, so the demo has no workbench to serve');
      return;
    }
    const demo = startDemo(['--no-open']);
    // The first run on a machine installs code-server into ~/.cache/shmscope: minutes.
    await until(`the demo prints the workbench URL (output so far:\n${demo.output()})`,
      () => /^shmscope demo: open http:\/\/127\.0\.0\.1:\d+\/\S*$/m.test(demo.output()) || demo.child.exitCode !== null,
      14 * 60_000);
    const url = /^shmscope demo: open (\S+)$/m.exec(demo.output())?.[1];
    assert.ok(url, demo.output());
    const u = new URL(url);
    assert.equal(u.searchParams.get('folder'), path.join(ROOT, 'demo', 'workspace'));
    // A normal window (toasts shown, no test driver): the checkout is installed as an extension,
    // not loaded in development mode.
    assert.doesNotMatch(u.searchParams.get('payload') ?? '', /extensionDevelopmentPath/);
    const res = await fetch(url);
    assert.equal(res.status, 200, 'the workbench page is served');
    assert.match(await res.text(), /<html/i);
    await waitLive(demo);
    await assertStopsClean(demo, 'SIGINT');
    await assert.rejects(fetch(url), 'code-server no longer listens');
  });
});
