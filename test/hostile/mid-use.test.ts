// Processes that end while shmscope is using what they hold, in the private IPC and mount
// namespace of ./namespace: the only holder of an unlinked POSIX object ending between the listing
// and the open, and after the open (mid-dump); a ring's process ending after the ring was opened
// (mid-dump); and the processes smapsOf and peersOf read ending after the call and before the read
// (every scan held at its start until the process is gone, so the order is certain). Each answers
// in one line (ENOENT or ESRCH, a typed error) or with the bytes it had, never a crash nor a hang.
import './namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { binding } from '../../extension/src/ipc/native';
import { findRegion, openFound, scanRegions } from '../../extension/src/ipc/regions';
import { cli, ensureBuilt, ROOT } from '../helpers/ipc';

const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-mid-use-'));
const children: ChildProcess[] = [];
const SIZE = 3 * 4096;

before(() => ensureBuilt());
after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a process whose first stdout line is JSON; resolves it. */
function start(cmd: string, args: string[]): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (l) => resolve({ child, ready: JSON.parse(l) as Record<string, unknown> }));
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before its ready line`)));
  });
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGKILL');
  await gone; // reaped: its /proc entry is gone
}

/** A POSIX object of SIZE bytes (byte i is i % 251), unlinked at once and held only by an fd. */
const HOLDER = `
import json, os, sys
fd = os.open('/dev/shm/mid-use-unlinked', os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, bytes(i % 251 for i in range(${SIZE})))
os.unlink('/dev/shm/mid-use-unlinked')
print(json.dumps({'pid': os.getpid(), 'fd': fd, 'ino': os.fstat(fd).st_ino}), flush=True)
sys.stdin.read()
`;
/** A pipe: this process keeps its write end, a fork of it (which waits) the read end. */
const PIPE = `
import json, os, sys, time
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(w)
    while True: time.sleep(60)
os.close(r)
print(json.dumps({'pid': os.getpid(), 'fd': w, 'reader': child}), flush=True)
sys.stdin.read()
`;
const pattern = Uint8Array.from({ length: SIZE }, (_, i) => i % 251);

/** The code of what fn threw, after checking it is a typed error of one line. */
async function oneLine(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ipc.IpcError, `a typed error, not ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return e.code;
  }
  assert.fail('expected an error');
}

describe('an unlinked POSIX object whose only holder ends', () => {
  it('mid-dump (after the open): every byte is read through our own descriptor', async () => {
    const { child, ready } = await start('python3', ['-c', HOLDER]);
    const handle = await ipc.openObject(`posix:@${Number(ready.ino)}`);
    try {
      await end(child);
      const bytes = handle.read(0, handle.size);
      assert.equal(bytes.length, SIZE);
      assert.ok(Buffer.from(bytes).equals(Buffer.from(pattern)), 'the bytes written');
    } finally {
      handle.close();
    }
  });

  it('between the listing and the open: ENOENT in one line, from the façade and from `dump`', async () => {
    const { child, ready } = await start('python3', ['-c', HOLDER]);
    const target = { kind: 'unlinked' as const, of: 'posix-shm' as const, id: Number(ready.ino) };
    const found = findRegion(await scanRegions(), target);
    assert.ok(found, 'listed while held');
    await end(child);
    assert.equal(await oneLine(() => openFound(target, found, false)), 'ENOENT');
    const r = cli(['dump', `posix:@${target.id}`]);
    assert.equal(r.signal, null);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /does not exist: no process maps or holds it/);
  });
});

describe('a ring whose process ends', () => {
  let rings: { child: ChildProcess; ready: Record<string, unknown> } | undefined;
  before(async () => {
    const exe = path.join(dir, 'rings');
    const cc = spawnSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'rings', 'rings.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    rings = await start(exe, []);
  });

  it('mid-dump (after the open): ESRCH in one line that names the process, never short bytes', async (t) => {
    const ring = rings!.ready.io_uring as { addr: string; length: number } | { skip: string };
    if ('skip' in ring) return t.skip(ring.skip);
    const pid = Number(rings!.ready.pid);
    const handle = await ipc.openObject(`ring:${pid}@${ring.addr}`);
    try {
      assert.equal(handle.read(0, 64).length, 64, 'readable while the process lives');
      await end(rings!.child);
      const view = new Uint8Array(handle.size);
      assert.equal(await oneLine(() => handle.readInto(view, 0)), 'ESRCH');
      assert.equal(await oneLine(() => handle.read(0, 64)), 'ESRCH');
      const r = cli(['dump', `ring:${pid}@${ring.addr}`]);
      assert.equal(r.signal, null);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.includes(String(pid)), r.stderr);
    } finally {
      handle.close();
    }
  });
});

describe('smapsOf and peersOf of a process that ends during the read', () => {
  const hold = (on: boolean) => {
    const b = binding();
    assert.ok(b._testHoldScans, 'the addon is in test mode (SHMSCOPE_TEST=1)');
    b._testHoldScans(on);
  };

  it('smapsOf: answers without it (no row, not slow) and the others are still read', async () => {
    const { child, ready } = await start('python3', ['-c', HOLDER]);
    // The survivor maps its object shared, so that it has a row to show.
    const alive = await start('python3', ['-c', HOLDER.replace(/mid-use-unlinked/g, 'mid-use-alive').replace('print(', `import mmap; m = mmap.mmap(fd, ${SIZE})\nprint(`)]);
    const [pid, other] = [Number(ready.pid), Number(alive.ready.pid)];
    hold(true);
    let answer: Promise<{ rows: (number | string)[]; slow: number[] }>;
    try {
      answer = binding().smapsOf([pid, other], 10_000);
      await end(child);
    } finally {
      hold(false);
    }
    const r = await answer;
    const pids = new Set(r.rows.filter((_, i) => i % 6 === 0));
    assert.ok(!pids.has(pid), 'no row of the ended process');
    assert.deepEqual(r.slow, []);
    assert.ok(pids.has(other), 'the survivor\'s shared mapping is read');
    await end(alive.child);
  });

  it('peersOf: answers without it, the survivor at the other end still named', async () => {
    // A pipe between two processes: the writer (our child) ends; its fork holds the read end.
    const { child: writer, ready } = await start('python3', ['-c', PIPE]);
    const reader = Number(ready.reader);
    try {
      const link = readlinkSync(`/proc/${writer.pid}/fd/${Number(ready.fd)}`);
      assert.match(link, /^pipe:\[\d+\]$/);
      hold(true);
      let answer: ReturnType<ReturnType<typeof binding>['peersOf']>;
      try {
        answer = binding().peersOf([link], 10_000);
        await end(writer);
      } finally {
        hold(false);
      }
      const r = await answer;
      const holders = r.holders[link] ?? [];
      assert.ok(!holders.some((h) => h.pid === writer.pid), `the ended writer is not named: ${JSON.stringify(holders)}`);
      assert.ok(holders.some((h) => h.pid === reader && (h.flags & 3) === 0), `the reader is named, read-only: ${JSON.stringify(holders)}`);
    } finally {
      process.kill(reader, 'SIGKILL');
    }
  });
});
