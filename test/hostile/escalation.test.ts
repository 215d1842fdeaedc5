// An unprivileged user's "container" (a user, mount and IPC namespace of its own, made by nobody)
// whose /dev/shm is a symbolic link to a root-owned host directory, or that directory
// bind-mounted: root's `list --namespace all` must not show the host's files as the container's
// objects, and removing one as that container's object must not unlink a host file. Runs in the
// private namespace of ./namespace; the "host" directory lives on its private tmpfs.
import './namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { CLI, ensureBuilt } from '../helpers/ipc';
import { Fixture } from '../helpers/regions';

const BOUND_MS = 20_000;
const HOST = '/dev/shm/hostile-host-dir';
const SECRET = `${HOST}/secret`;
const running: Fixture[] = [];

before(() => {
  ensureBuilt();
  mkdirSync(HOST, { recursive: true, mode: 0o755 });
  writeFileSync(SECRET, 'root only\n', { mode: 0o600 });
});
after(async () => {
  for (const f of running) {
    f.proc.stdin.end();
    await f.exited;
  }
  rmSync(HOST, { recursive: true, force: true });
});

/** Nobody's container: `setup` runs as its root, then it prints `ready {pid}` and waits on stdin. */
async function container(setup: string): Promise<number> {
  const script = `${setup} && echo "ready {\\"pid\\":$$}" && exec cat`;
  const f = new Fixture(
    spawn('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'unshare', '--user', '--map-root-user', '--mount', '--ipc', 'sh', '-c', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  running.push(f);
  return (await f.ready()).pid;
}

describe('another user namespace cannot lend root the host', () => {
  it('a /dev/shm that is a symbolic link to a host directory: not listed as its objects, and said so', async () => {
    const pid = await container(`mount -t tmpfs none /dev && ln -s ${HOST} /dev/shm`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [CLI, 'list', '--namespace', String(pid), '--json'], { encoding: 'utf8', timeout: BOUND_MS, maxBuffer: 256 << 20 });
    assert.equal(r.error, undefined, `did not end within ${BOUND_MS} ms`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Date.now() - t0 < BOUND_MS);
    const l = JSON.parse(r.stdout) as { namespaces: { posixShm: { name: string }[] }[]; notes: string[] };
    assert.deepEqual(l.namespaces.flatMap((n) => n.posixShm.map((p) => p.name)), [], 'no host file shown as its object');
    assert.ok(l.notes.some((n) => /its \/dev\/shm is a symbolic link/.test(n)), l.notes.join('\n'));
  });

  it('a host directory bind-mounted on its /dev/shm: removing its "object" is refused and the host file stays', async () => {
    const pid = await container(`mount --bind ${HOST} /dev/shm`);
    const l = await ipc.list(['posix-shm'], { namespaces: pid });
    const o = l.namespaces?.[0]?.posixShm.find((p) => p.name === '/secret');
    // Listed (it is a tmpfs, mounted in that namespace), but removing it has that namespace's rights only.
    assert.ok(o, 'listed as its object');
    await assert.rejects(ipc.nsPosixShmRemove(pid, '/secret', o.id), (e: ipc.IpcError) => {
      assert.match(e.code, /^(EACCES|EPERM)$/);
      assert.match(e.message, /^permission denied removing POSIX object \/secret of the namespace of process \d+/);
      return true;
    });
    assert.ok(existsSync(SECRET), 'the host file is still there');
  });

  it('a name with a slash or a dot-dot never leaves that /dev/shm', async () => {
    const pid = await container('mount -t tmpfs none /dev/shm');
    for (const name of ['/../hostile-host-dir/secret', '/..', '/a/b']) {
      await assert.rejects(ipc.nsPosixShmRemove(pid, name, 1));
    }
    assert.ok(existsSync(SECRET), 'the host file is still there');
  });
});
