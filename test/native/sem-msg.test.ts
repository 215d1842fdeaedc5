// Semaphores (System V and POSIX) and message queues through the façade, on real objects.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { binding } from '../../extension/src/ipc/native';
import { Created, freshName, until } from '../helpers/ipc';

const made = new Created();
after(() => made.removeAll());

const code = (e: unknown) => (e as ipc.IpcError).code;

async function rejectsWith(p: Promise<unknown>, c: string): Promise<ipc.IpcError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ipc.IpcError, String(e));
    assert.equal(e.code, c, e.message);
    return e;
  }
  assert.fail(`expected ${c}`);
}

describe('System V semaphores', () => {
  it('creates a set with values and reads values, waiters and last pid', () => {
    const t = made.sem(3, [5, 0, 2]);
    const r = ipc.semGet(t.id);
    assert.deepEqual(r.values, [5, 0, 2]);
    assert.deepEqual(r.ncnt, [0, 0, 0]);
    assert.equal(r.nsems, 3);
    ipc.semPost(t.id, 1, 2);
    assert.deepEqual(ipc.semGet(t.id).values, [5, 2, 2]);
    assert.equal(ipc.semGet(t.id).pids[1], process.pid);
    ipc.semSetValue(t.id, 2, 9);
    assert.equal(ipc.semGet(t.id).values[2], 9);
  });

  it('a wait on a positive semaphore takes it at once', async () => {
    const t = made.sem(1, [1]);
    await ipc.semWait(t.id, 0, { timeoutMs: 1000 });
    assert.equal(ipc.semGet(t.id).values[0], 0);
  });

  it('a wait on zero blocks on its own thread (ncnt 1) and ends when another process posts', async () => {
    const t = made.sem(1, [0]);
    const waiting = ipc.semWait(t.id, 0, { timeoutMs: 20_000 });
    await until('the waiter is counted by the kernel', () => ipc.semGet(t.id).ncnt[0] === 1);
    // The JS thread is free meanwhile: this runs while the wait blocks.
    execFileSync('ipcs', ['-s', '-i', String(t.id)]);
    ipc.semPost(t.id, 0);
    await waiting;
    assert.equal(ipc.semGet(t.id).values[0], 0);
    await until('the wait thread ended', () => binding().waitsInFlight() === 0);
  });

  it('a waiter stays in its semtimedop, not in short attempts a scan of the waits could fall between', async (t) => {
    const set = made.sem(1, [0]);
    const abort = new AbortController();
    const waiting = ipc.semWait(set.id, 0, { timeoutMs: 60_000, signal: abort.signal });
    await until('the waiter is counted by the kernel', () => ipc.semGet(set.id).ncnt[0] === 1);
    const first = await binding().scanThreads(5000);
    if (!first.blockedTimes) t.skip('this kernel does not tell how long a thread has been blocked');
    else {
      // In 50 ms attempts (as it was) the thread ran every 50 ms, and a scan read it outside the
      // call one time in six on a loaded machine; in one long attempt the kernel sees it blocked
      // for good (until a post, a cancel, or a slice of several seconds ends).
      const mine = (threads: typeof first.threads) => threads.find((x) => x.pid === process.pid && x.nr === 220 && x.args?.[0] === BigInt(set.id));
      await until('the wait thread has been blocked in semtimedop for a second', async () => (mine((await binding().scanThreads(5000)).threads)?.blockedMs ?? 0) >= 1000);
    }
    abort.abort();
    await rejectsWith(waiting, 'ECANCELED');
    await until('the wait thread ended', () => binding().waitsInFlight() === 0);
  });

  it('times out with ETIMEDOUT and a sentence naming the semaphore', async () => {
    const t = made.sem(2, [0, 0]);
    const start = Date.now();
    const e = await rejectsWith(ipc.semWait(t.id, 1, { timeoutMs: 200 }), 'ETIMEDOUT');
    assert.ok(Date.now() - start >= 195, `waited ${Date.now() - start} ms`);
    assert.equal(e.message, `timed out after 200 ms waiting on semaphore 1 of semaphore set ${t.id}`);
    assert.equal(ipc.semGet(t.id).ncnt[1], 0, 'no waiter is left in the kernel');
  });

  it('is cancelled by an AbortSignal', async () => {
    const t = made.sem(1, [0]);
    const abort = new AbortController();
    const waiting = ipc.semWait(t.id, 0, { timeoutMs: 60_000, signal: abort.signal });
    await until('the waiter is counted by the kernel', () => ipc.semGet(t.id).ncnt[0] === 1);
    abort.abort();
    await rejectsWith(waiting, 'ECANCELED');
    await until('the wait thread ended', () => binding().waitsInFlight() === 0);
    assert.equal(ipc.semGet(t.id).ncnt[0], 0);
    await rejectsWith(ipc.semWait(t.id, 0, { timeoutMs: 1000, signal: abort.signal }), 'ECANCELED');
  });

  it('ends with EIDRM when the set is removed under a waiter', async () => {
    const t = made.sem(1, [0]);
    const waiting = ipc.semWait(t.id, 0, { timeoutMs: 20_000 });
    await until('the waiter is counted by the kernel', () => ipc.semGet(t.id).ncnt[0] === 1);
    ipc.remove(t);
    const e = await rejectsWith(waiting, 'EIDRM');
    assert.match(e.message, /was removed/);
  });

  it('many waits at once do not starve the libuv pool', async () => {
    const t = made.sem(1, [0]);
    const waits = Array.from({ length: 8 }, () => ipc.semWait(t.id, 0, { timeoutMs: 20_000 }));
    await until('eight waiters are counted', () => ipc.semGet(t.id).ncnt[0] === 8);
    // fs calls run on the 4-thread pool; they would hang if the waits sat there.
    const { readFile } = await import('node:fs/promises');
    await Promise.all(Array.from({ length: 8 }, () => readFile('/proc/sysvipc/sem')));
    ipc.semPost(t.id, 0, 8);
    await Promise.all(waits);
  });

  it('refuses bad arguments with typed errors', async () => {
    const t = made.sem(1, [0]);
    assert.throws(() => ipc.semSetValue(t.id, 0, 40000), (e: unknown) => code(e) === 'EINVAL');
    ipc.semSetValue(t.id, 0, 32767);
    assert.throws(
      () => ipc.semPost(t.id, 0),
      (e: unknown) => code(e) === 'ERANGE' && (e as Error).message === `posting to semaphore 0 of semaphore set ${t.id} would go out of range (a semaphore holds 0 to 32767)`,
    );
    assert.throws(() => ipc.semPost(t.id, 5), (e: unknown) => ['EFBIG', 'EINVAL'].includes(code(e)));
    assert.throws(() => ipc.semGet(0x7ffffff0), (e: unknown) => code(e) === 'EINVAL');
    await assert.rejects(ipc.semWait(t.id, 0, { timeoutMs: -1 }), (e: unknown) => code(e) === 'EINVAL');
  });

  it('lists sets with values and waiters', async () => {
    const t = made.sem(2, [3, 4]);
    const rec = (await ipc.list(['sem'])).sem.find((r) => r.id === t.id);
    assert.deepEqual(rec?.values, [3, 4]);
    assert.deepEqual(rec?.zcnt, [0, 0]);
    assert.equal(rec?.unreadable, null);
  });
});

describe('POSIX named semaphores', () => {
  it('posts, reads, takes, times out and is cancelled', async () => {
    const t = made.posixSem(1);
    assert.equal(ipc.psemValue(t.name), 1);
    ipc.psemPost(t.name);
    assert.equal(ipc.psemValue(t.name), 2);
    await ipc.psemWait(t.name, { timeoutMs: 100 });
    await ipc.psemWait(t.name, { timeoutMs: 100 });
    assert.equal(ipc.psemValue(t.name), 0);
    await rejectsWith(ipc.psemWait(t.name, { timeoutMs: 150 }), 'ETIMEDOUT');
    const abort = new AbortController();
    const waiting = ipc.psemWait(t.name, { timeoutMs: 60_000, signal: abort.signal });
    setImmediate(() => abort.abort());
    await rejectsWith(waiting, 'ECANCELED');
    await until('the wait thread ended', () => binding().waitsInFlight() === 0);
    const rec = (await ipc.list(['posix-sem'])).posixSem.find((r) => r.name === t.name);
    assert.equal(rec?.value, 0);
  });

  it('a wait is released by a post', async () => {
    const t = made.posixSem(0);
    const waiting = ipc.psemWait(t.name, { timeoutMs: 20_000 });
    ipc.psemPost(t.name);
    await waiting;
    assert.equal(ipc.psemValue(t.name), 0);
  });

  it('a missing semaphore is ENOENT', () => {
    assert.throws(() => ipc.psemValue(freshName('missing')), (e: unknown) => code(e) === 'ENOENT');
  });
});

describe('System V message queues', () => {
  it('peeks every message without consuming any', async () => {
    const t = made.msg();
    ipc.msgSend(t.id, 1, Buffer.from('first'));
    ipc.msgSend(t.id, 42, new Uint8Array(0));
    ipc.msgSend(t.id, 7, new Uint8Array(5000).fill(0xab));
    const before = (await ipc.list(['msg'])).msg.find((r) => r.id === t.id)!;
    assert.equal(before.messages, 3);
    assert.equal(before.bytes, 5005);
    const m0 = ipc.msgPeek(t.id, 0);
    assert.equal(m0.type, 1);
    assert.equal(Buffer.from(m0.data).toString(), 'first');
    assert.equal(ipc.msgPeek(t.id, 1).data.length, 0);
    assert.equal(ipc.msgPeek(t.id, 2).type, 7);
    assert.equal(ipc.msgPeek(t.id, 2).data[4999], 0xab);
    assert.throws(() => ipc.msgPeek(t.id, 3), (e: unknown) => code(e) === 'ENOMSG');
    const after = (await ipc.list(['msg'])).msg.find((r) => r.id === t.id)!;
    assert.equal(after.messages, 3);
    assert.equal(after.bytes, 5005);
    assert.equal(after.lrpid, 0, 'nobody received');
  });
});

describe('POSIX message queues', () => {
  let mounted = false;
  let madeDir = false;
  const isMounted = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === '/dev/mqueue');
  before(async () => {
    if (!isMounted()) {
      // Unmounted, the listing says so once, with how to mount it, and lists the rest.
      const listing = await ipc.list();
      assert.deepEqual(listing.notes, [ipc.MQUEUE_NOTE]);
      assert.deepEqual(listing.posixMq, []);
      // Listing needs the mqueue filesystem; the test mounts it (as root) and unmounts it after.
      madeDir = !existsSync('/dev/mqueue');
      mkdirSync('/dev/mqueue', { recursive: true });
      execFileSync('mount', ['-t', 'mqueue', 'none', '/dev/mqueue']);
      mounted = true;
    }
  });
  after(() => {
    made.removeAll();
    if (mounted) execFileSync('umount', ['/dev/mqueue']);
    if (madeDir) rmdirSync('/dev/mqueue');
  });

  it('lists a queue with its attributes, and its messages stay', async () => {
    const name = freshName('mq');
    ipc.createPosixMq({ name, maxMessages: 4, messageSize: 128 });
    made.track({ kind: 'posix-mq', name });
    binding().mqSend(name, Buffer.from('hello'), 1);
    const rec = (await ipc.list(['posix-mq'])).posixMq.find((r) => r.name === name);
    assert.ok(rec);
    assert.equal(rec.maxMessages, 4);
    assert.equal(rec.messageSize, 128);
    assert.equal(rec.messages, 1);
    assert.equal((await ipc.list(['posix-mq'])).posixMq.find((r) => r.name === name)?.messages, 1);
  });
});
