// Shared memory through the façade, on real segments and POSIX objects that the tests create.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { truncateSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { binding } from '../../extension/src/ipc/native';
import { Created, freshKey } from '../helpers/ipc';

const made = new Created();
after(() => made.removeAll());

const isIpcError = (code: string) => (e: unknown) => e instanceof ipc.IpcError && e.code === code;

describe('System V segments', () => {
  it('attaches read-only by default and reads what a read-write attachment wrote', () => {
    const t = made.shm(8192);
    const rw = made.hold(ipc.openShm(t, { readWrite: true }));
    const ro = made.hold(ipc.openShm(t));
    assert.equal(ro.readOnly, true);
    assert.equal(rw.readOnly, false);
    assert.equal(ro.size, 8192);
    rw.write(4000, Buffer.from('shmscope'));
    assert.equal(Buffer.from(ro.read(4000, 8)).toString(), 'shmscope');
    const buf = new Uint8Array(16);
    assert.equal(ro.readInto(buf, 8192 - 10), 10, 'readInto stops at the end');
    assert.equal(ro.readInto(buf, 4000), 16);
    assert.equal(Buffer.from(buf.subarray(0, 8)).toString(), 'shmscope');
  });

  it('refuses a write on a read-only attachment with EROFS', () => {
    const t = made.shm(4096);
    const ro = made.hold(ipc.openShm(t));
    assert.throws(() => ro.write(0, new Uint8Array([1])), (e: unknown) => {
      assert.ok(e instanceof ipc.IpcError);
      assert.equal(e.code, 'EROFS');
      assert.match(e.message, /read-only: open it read-write/);
      return true;
    });
    assert.equal(ro.read(0, 1)[0], 0, 'nothing was written');
  });

  it('bounds-checks every read and write (ERANGE naming offset, length and size)', () => {
    const t = made.shm(4096);
    const rw = made.hold(ipc.openShm(t, { readWrite: true }));
    assert.throws(() => rw.read(4090, 7), isIpcError('ERANGE'));
    assert.throws(() => rw.read(4097, 0), isIpcError('ERANGE'));
    assert.throws(() => rw.write(4095, new Uint8Array(2)), (e: unknown) => isIpcError('ERANGE')(e) && /4095.*4096 bytes/.test((e as Error).message));
    assert.throws(() => rw.readInto(new Uint8Array(1), 5000), isIpcError('ERANGE'));
    assert.equal(rw.read(4096, 0).length, 0, 'an empty read at the end is fine');
    // Hostile arguments from JS never reach memory: the addon validates before any cast.
    const raw = binding();
    const seg = new raw.ShmSegment(t.id, false);
    try {
      for (const [o, l] of [[-1, 1], [1.5, 1], [Number.NaN, 1], [0, -1], [2 ** 60, 1]] as const) {
        assert.throws(() => seg.read(o, l), TypeError);
      }
      assert.throws(() => (seg.read as (...a: unknown[]) => unknown)('0', 1), TypeError);
      assert.throws(() => (seg.readInto as (...a: unknown[]) => unknown)([1, 2], 0), TypeError);
    } finally {
      seg.detach();
    }
  });

  it('keeps the bytes of a segment removed while attached, and reports it removed', () => {
    const t = made.shm(4096);
    const rw = made.hold(ipc.openShm(t, { readWrite: true }));
    rw.write(0, Buffer.from('still here'));
    assert.equal(rw.status().removed, false);
    ipc.remove(t);
    assert.equal(rw.status().removed, true);
    assert.equal(Buffer.from(rw.read(0, 10)).toString(), 'still here');
    rw.close();
    assert.throws(() => ipc.openShm(t), (e: unknown) => {
      assert.ok(e instanceof ipc.IpcError);
      assert.ok(['EINVAL', 'EIDRM'].includes(e.code), e.code);
      assert.match(e.message, new RegExp(`segment ${t.id}`));
      return true;
    });
  });

  it('detaches when the handle is garbage-collected', () => {
    const t = made.shm(4096);
    const addon = require.resolve('../../native/build/Release/shmscope.node');
    const script = `
      const b = require(${JSON.stringify(addon)});
      let seg = new b.ShmSegment(${t.id}, false);
      const before = b.shmStat(${t.id}).nattch;
      seg = null;
      (async () => {
        // Finalizers run after a turn of the event loop, not inside gc() itself.
        for (let i = 0; i < 50 && b.shmStat(${t.id}).nattch > 0; i++) {
          globalThis.gc();
          await new Promise((r) => setImmediate(r));
        }
        console.log(before, b.shmStat(${t.id}).nattch);
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '1 0', r.stderr);
  });

  it('a detached handle answers with a typed error, not a crash', () => {
    const h = ipc.openShm(made.shm(4096));
    h.close();
    assert.throws(() => h.read(0, 1), isIpcError('EBADF'));
  });

  it('opens by key, and says which kinds share a key', () => {
    const key = freshKey();
    const t = made.shm(4096, { key });
    const h = made.hold(ipc.openShm(`key:0x${key.toString(16)}`));
    assert.equal(h.size, 4096);
    made.sem(1, undefined, key);
    assert.throws(() => ipc.parseTarget(`key:0x${key.toString(16)}`), /say which kind with --kind/);
    assert.deepEqual(ipc.parseTarget(`key:0x${key.toString(16)}`, 'shm'), t);
  });

  it('lists segments with owner, size, attachments by this process and an orphan mark', async () => {
    const key = freshKey();
    const t = made.shm(12345, { key, mode: 0o640 });
    const h = made.hold(ipc.openShm(t));
    let rec = (await ipc.list(['shm'])).shm.find((r) => r.id === t.id);
    assert.ok(rec);
    assert.equal(rec.key, key);
    assert.equal(rec.size, 12345);
    assert.equal(rec.mode, 0o640);
    assert.equal(rec.uid, process.getuid!());
    assert.equal(rec.user, 'root');
    assert.equal(rec.nattch, 1);
    assert.equal(rec.cpid, process.pid);
    assert.deepEqual(rec.attachedBy.map((a) => a.pid), [process.pid]);
    assert.match(rec.attachedBy[0]!.command, /node/);
    assert.equal(rec.orphan, false);
    assert.match(rec.ctime!, /^\d{4}-\d\d-\d\dT/);
    h.close();
    rec = (await ipc.list(['shm'])).shm.find((r) => r.id === t.id)!;
    assert.equal(rec.nattch, 0);
    assert.equal(rec.orphan, false, 'its creator (this process) is alive');

    // A segment made by a process that has exited, attached by nobody: a leftover.
    const out = spawnSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' });
    const id = Number(/(\d+)\s*$/.exec(out.stdout.trim())?.[1]);
    assert.ok(Number.isInteger(id), out.stdout + out.stderr);
    made.track({ kind: 'shm', id });
    const orphan = (await ipc.list(['shm'])).shm.find((r) => r.id === id)!;
    assert.equal(orphan.orphan, true);
  });
});

describe('who attaches', () => {
  it('finds another process by the segment id and the POSIX object by path, with its command line', async () => {
    const t = made.shm(4096);
    const p = made.posixShm(4096, 'mapped');
    // A Python producer that attaches the segment (shmat) and maps the POSIX object (mmap),
    // then waits until told to end.
    const script = [
      'import ctypes, mmap, os, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'libc.shmat.restype = ctypes.c_void_p',
      `addr = libc.shmat(${t.id}, None, 0o10000)`,
      `fd = os.open('/dev/shm${p.name}', os.O_RDONLY)`,
      'm = mmap.mmap(fd, 4096, prot=mmap.PROT_READ)',
      'print("ready", flush=True)',
      'sys.stdin.read()',
    ].join('\n');
    const child = spawn('python3', ['-c', script, 'shmscope-attacher'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await once(child.stdout, 'data');
      const listing = await ipc.list();
      const rec = listing.shm.find((r) => r.id === t.id)!;
      assert.deepEqual(rec.attachedBy.map((a) => a.pid), [child.pid]);
      assert.match(rec.attachedBy[0]!.command, /python3 -c .*shmscope-attacher/s);
      assert.equal(rec.nattch, 1);
      assert.equal(rec.hiddenAttachers, 0);
      const posix = listing.posixShm.find((r) => r.name === p.name)!;
      assert.deepEqual(posix.attachedBy.map((a) => a.pid), [child.pid]);
      ipc.remove(t);
      const marked = (await ipc.list(['shm'])).shm.find((r) => r.id === t.id)!;
      assert.equal(marked.removed, true, 'removed while attached: still listed, marked');
      assert.equal(marked.key, 0, 'the kernel drops the key of a segment marked for removal');
    } finally {
      child.stdin.end('bye');
      await once(child, 'exit');
    }
  });
});

describe('POSIX shared memory', () => {
  it('reads and writes within the object and lists it', async () => {
    const t = made.posixShm(4096);
    const rw = made.hold(ipc.openShm(t, { readWrite: true }));
    rw.write(100, Buffer.from('posix'));
    const ro = made.hold(ipc.openShm(`posix:${t.name}`));
    assert.equal(Buffer.from(ro.read(100, 5)).toString(), 'posix');
    assert.throws(() => ro.write(0, new Uint8Array(1)), isIpcError('EROFS'));
    assert.throws(() => rw.write(4095, new Uint8Array(2)), isIpcError('ERANGE'), 'a write never grows the object');
    const rec = (await ipc.list(['posix-shm'])).posixShm.find((r) => r.name === t.name);
    assert.ok(rec);
    assert.equal(rec.size, 4096);
    assert.equal(rec.mode, 0o600);
  });

  it('survives the object being truncated while open: no SIGBUS, a typed error past the new end', () => {
    const t = made.posixShm(1 << 20, 'trunc');
    const h = made.hold(ipc.openShm(t));
    const buf = new Uint8Array(64 * 1024);
    assert.equal(h.readInto(buf, 512 * 1024), buf.length);
    // Another process shrinks it, as a crashing producer might.
    truncateSync(`/dev/shm${t.name}`, 1000);
    assert.equal(h.size, 1000);
    assert.throws(() => h.read(512 * 1024, 16), isIpcError('ERANGE'));
    assert.equal(h.readInto(buf, 900), 100, 'a read that straddles the new end returns what is left');
    assert.equal(h.read(0, 1000).length, 1000);
    truncateSync(`/dev/shm${t.name}`, 0);
    assert.throws(() => h.read(0, 1), isIpcError('ERANGE'));
  });

  it('reports an unlinked object as removed while keeping it readable', () => {
    const t = made.posixShm(64);
    const h = made.hold(ipc.openShm(t));
    ipc.remove(t);
    assert.equal(h.status().removed, true);
    assert.equal(h.read(0, 64).length, 64);
    assert.throws(() => ipc.openShm(t), isIpcError('ENOENT'));
  });
});

describe('kernel limits', () => {
  it('reports limits with their current use', async () => {
    const before = (await ipc.limits()).find((l) => l.name === 'shmmni')!;
    made.shm(4096);
    const now = (await ipc.limits()).find((l) => l.name === 'shmmni')!;
    assert.equal(now.used, before.used! + 1);
    assert.ok(Number(now.value) >= now.used);
    const names = (await ipc.limits()).map((l) => l.name);
    for (const n of ['shmmax', 'shmall', 'semmni', 'semmns', 'msgmni', '/dev/shm']) assert.ok(names.includes(n), n);
  });
});

describe('a POSIX semaphore file too small to be one', () => {
  it('is refused before glibc maps it (which would raise SIGBUS)', async () => {
    const name = `/shmscope-test-tiny-${process.pid}`;
    writeFileSync(`/dev/shm/sem.${name.slice(1)}`, '');
    made.track({ kind: 'posix-sem', name });
    assert.throws(() => ipc.psemValue(name), (e: unknown) => isIpcError('EINVAL')(e) && /too small/.test((e as ipc.IpcError).detail));
    const rec = (await ipc.list(['posix-sem'])).posixSem.find((r) => r.name === name);
    assert.equal(rec?.value, null);
    assert.equal(rec?.unreadable, 'EINVAL');
  });
});
