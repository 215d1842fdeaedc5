// A filesystem that stops answering: a FUSE mount whose "daemon" holds /dev/fuse and never reads
// it (not even the kernel's INIT), so every lookup, stat and read there waits until the fd is
// closed. No extra package: the kernel's fuse module and util-linux's mount are enough. The CLI
// must answer within its bound with one true line and then exit, whether the file: target or a
// container's /dev/shm is on it. Runs in the private namespace of ./namespace.
import './namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
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

before(() => {
  ensureBuilt();
  mkdirSync(MNT, { recursive: true });
});
after(async () => {
  // Closing /dev/fuse (its holder ends) aborts the connection: whatever still waits there fails.
  for (const f of running) {
    f.proc.stdin.end();
    await f.exited;
  }
  spawnSync('umount', ['-l', MNT]);
  rmSync(DIR, { recursive: true, force: true });
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
