// A filesystem that stops answering: a FUSE mount whose "daemon" holds /dev/fuse and never reads
// it (not even the kernel's INIT), so every lookup, stat and read there waits until the fd is
// closed. No extra package: the kernel's fuse module and util-linux's mount are enough. The CLI
// must answer within its bound with one true line and then exit, whether the file: target or a
// container's /dev/shm is on it. Runs in the private namespace of ./namespace.
import './namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binding } from '../../extension/src/ipc/native';
import { CLI, ensureBuilt } from '../helpers/ipc';
import { Fixture } from '../helpers/regions';

const BOUND_MS = 20_000;
const DIR = '/dev/shm/hostile-hung';
const MNT = `${DIR}/mnt`;
const HUNG_MOUNT = (dir: string) => `exec 3<>/dev/fuse && mount -t fuse -o fd=3,rootmode=40000,user_id=0,group_id=0 shmscope-hung ${dir}`;
const running: Fixture[] = [];

function hung(args: string[], script: string): Fixture {
  const f = new Fixture(spawn(args[0]!, [...args.slice(1), 'sh', '-c', `${script} && echo 'ready {"pid":'$$'}' && exec cat`], { stdio: ['pipe', 'pipe', 'pipe'] }));
  running.push(f);
  return f;
}

// The server that answers and then stops (fuse-stall.c, built here): a process maps its file "x",
// and another maps "y" and deletes it, while it still answers; then it takes every request and
// answers none.
const STALL = path.join(tmpdir(), `shmscope-fuse-stall-${process.pid}`); // outside /dev/shm: a container below hides it
const SERVED = `${DIR}/served`;
const TOP = '/dev/shm/hostile-hung-top'; // a mount on an entry of /dev/shm itself

before(() => {
  ensureBuilt();
  mkdirSync(MNT, { recursive: true });
  mkdirSync(SERVED, { recursive: true });
  mkdirSync(TOP, { recursive: true });
  const cc = spawnSync('cc', ['-O1', '-o', STALL, path.join(__dirname, 'fuse-stall.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
});
after(async () => {
  // Closing /dev/fuse (its holder ends) aborts the connection: whatever still waits there fails.
  for (const f of running) {
    f.proc.stdin.end();
    await f.exited;
  }
  for (const m of [MNT, SERVED, TOP]) spawnSync('umount', ['-l', m]);
  rmSync(DIR, { recursive: true, force: true });
  rmSync(TOP, { recursive: true, force: true });
  rmSync(STALL, { force: true });
});

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: BOUND_MS, maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('a FUSE mount that never answers', { skip: !existsSync('/dev/fuse') && 'no /dev/fuse here' }, () => {
  it('dump file: of a path on it: one line within the bound, and the CLI exits', async () => {
    await hung(['env'], HUNG_MOUNT(MNT)).ready();
    const r = run(['dump', `file:${MNT}/x`, '--length', '16']);
    assert.equal(r.error, undefined, `did not end within ${BOUND_MS} ms`);
    assert.equal(r.signal, null);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^shmscope: file .*\/mnt\/x is on a fuse filesystem, which its server or the network can stop answering/);
  });

  it('list --namespace of a container whose /dev/shm is on it: answers with a note, and exits', async () => {
    const c = await hung(['unshare', '--mount', '--ipc', '--propagation', 'private'], HUNG_MOUNT('/dev/shm')).ready();
    const r = run(['list', '--namespace', String(c.pid), '--json']);
    assert.equal(r.error, undefined, `did not end within ${BOUND_MS} ms`);
    assert.equal(r.signal, null);
    assert.equal(r.status, 0, r.stderr);
    const l = JSON.parse(r.stdout) as { notes: string[] };
    assert.ok(l.notes.some((n) => /its POSIX objects are not listed: its \/dev\/shm is on a fuse filesystem, which can stop answering/.test(n)), l.notes.join('\n'));
  });
});

/** Runs the CLI and resolves when it has exited; fails when it has not within the bound, even after SIGKILL. */
async function runBounded(args: string[], killAfterOutput?: NodeJS.Signals): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (killAfterOutput) p.kill(killAfterOutput);
  });
  p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => p.on('close', (code, sig) => resolve([code, sig])));
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => {
      p.kill('SIGKILL');
      resolve('late');
    }, BOUND_MS);
  });
  const r = await Promise.race([ended, late]);
  clearTimeout(timer);
  assert.notEqual(r, 'late', `${args.join(' ')} did not end within ${BOUND_MS} ms (not even on SIGKILL): ${stderr}`);
  const [status, signal] = r as [number | null, NodeJS.Signals | null];
  return { status, signal, stdout, stderr };
}

describe('a FUSE server that answers, then stops, with its files mapped', { skip: !existsSync('/dev/fuse') && 'no /dev/fuse here' }, () => {
  let server: Fixture;
  before(async () => {
    server = new Fixture(spawn(STALL, ['serve', SERVED], { stdio: ['pipe', 'pipe', 'pipe'] }));
    running.push(server);
    await server.ready();
    const top = new Fixture(spawn(STALL, ['serve', TOP], { stdio: ['pipe', 'pipe', 'pipe'] }));
    running.push(top);
    await top.ready();
    for (const args of [['map', `${SERVED}/x`], ['map', `${SERVED}/y`, 'unlink']]) {
      const m = new Fixture(spawn(STALL, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
      running.push(m);
      await m.ready();
    }
    for (const f of [server, top]) {
      f.proc.stdin.write('stall\n');
      await f.line('stalled');
    }
  });

  it('list: answers with the mapped file, its size from the mapping, and exits', async () => {
    const r = await runBounded(['list', '--json']);
    assert.equal(r.signal, null);
    assert.equal(r.status, 0, r.stderr);
    const l = JSON.parse(r.stdout) as { file: { path: string; deleted: boolean; size: number }[]; notes: string[] };
    const x = l.file.find((f) => f.path === `${SERVED}/x`);
    assert.ok(x && !x.deleted, r.stdout.slice(0, 2000));
    assert.ok(l.file.some((f) => f.path === `${SERVED}/y` && f.deleted), 'the deleted file is listed too');
    // At least ours (x and y): other processes of the machine may map such files too.
    const served = l.notes.map((n) => /^(\d+) mapped file\(s\) are on a FUSE or network filesystem, which can stop answering: never asked anything \(owner unknown, size from the mappings\)$/.exec(n)).find((m) => m);
    assert.ok(served && Number(served[1]) >= 2, l.notes.join('\n'));
    assert.equal(x.size, 65536);
    assert.ok(l.notes.includes(`${TOP} is the mount point of a FUSE or network filesystem, which can stop answering: left out, not asked anything`), l.notes.join('\n'));
  });

  it('list --namespace all: answers and exits', async () => {
    const r = await runBounded(['list', '--namespace', 'all', '--json']);
    assert.equal(r.signal, null);
    assert.equal(r.status, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { file: { path: string }[] }).file.some((f) => f.path === `${SERVED}/x`));
  });

  it('waits and decode of the mapped file: each ends within the bound', async () => {
    const w = await runBounded(['waits', '--json']);
    assert.equal(w.signal, null);
    assert.equal(w.status, 0, w.stderr);
    const d = await runBounded(['decode', `file:${SERVED}/x`, '--schema', path.join(__dirname, '..', 'fixtures', 'schema', 'ring.shms')]);
    assert.equal(d.signal, null);
    assert.notEqual(d.status, 0);
    assert.match(d.stderr, /^shmscope: file .*\/served\/x is on a fuse filesystem, which its server or the network can stop answering[^\n]*\n$/);
  });

  it('list --namespace of a container with such a mount on an entry of its /dev/shm: its objects listed, the entry unasked', async () => {
    const setup = `mount -t tmpfs none /dev/shm && mkdir /dev/shm/m && : > /dev/shm/obj && exec ${STALL} serve /dev/shm/m`;
    const c = new Fixture(spawn('unshare', ['--mount', '--ipc', '--propagation', 'private', 'sh', '-c', setup], { stdio: ['pipe', 'pipe', 'pipe'] }));
    running.push(c);
    const { pid } = await c.ready();
    c.proc.stdin.write('stall\n');
    await c.line('stalled');
    const r = await runBounded(['list', '--namespace', String(pid), '--json']);
    assert.equal(r.signal, null);
    assert.equal(r.status, 0, r.stderr);
    const l = JSON.parse(r.stdout) as { namespaces: { namespace: { pid: number }; posixShm: { name: string }[] }[] };
    assert.deepEqual(l.namespaces.find((n) => n.namespace.pid === pid)?.posixShm.map((o) => o.name), ['/obj']);
  });

  it('list ends on SIGTERM and on SIGKILL once it has printed', async () => {
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      const r = await runBounded(['list'], sig);
      assert.ok(r.stdout.length > 0);
    }
  });

  it('dump file: of the mapped file: one line within the bound, and the CLI exits', async () => {
    const r = await runBounded(['dump', `file:${SERVED}/x`, '--length', '16']);
    assert.equal(r.signal, null);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^shmscope: file .*\/served\/x is on a fuse filesystem, which its server or the network can stop answering[^\n]*\n$/);
  });

  it('dump file: of the deleted file: not reached through map_files or /proc/PID/mem, one line', async () => {
    const r = await runBounded(['dump', `file:${SERVED}/y`, '--length', '16']);
    assert.equal(r.signal, null);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^shmscope: file .*\/served\/y is on a fuse filesystem, which its server or the network can stop answering[^\n]*\n$/);
  });
});

// Nothing a namespace holds makes its System V listing hang, but it can be slow (a set of 32 000
// semaphores is 96 000 semctl calls): with a budget far below that, the thread that entered it is
// left behind and named, and the addon goes on answering (the default budget lists it whole).
describe('a namespace whose System V listing does not finish within its budget', () => {
  it('nsList rejects with ETIMEDOUT naming the thread left behind; a later listing answers', async () => {
    const c = await hung(['unshare', '--ipc'], 'ipcmk -S 32000 >/dev/null').ready();
    await assert.rejects(binding().nsList(c.pid, 1), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ETIMEDOUT');
      assert.match(e.message, new RegExp(`the thread that entered the IPC namespace of process ${c.pid} did not finish within 1 ms: it is left behind`));
      return true;
    });
    const whole = await binding().nsList(c.pid);
    assert.equal(whole.sem.length, 1);
    assert.equal(whole.sem[0]!.nsems, 32000);
  });
});
