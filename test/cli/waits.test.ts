// shmscope waits on real blocked processes (test/fixtures/waits/waiters.c, built here with cc):
// an AB–BA deadlock on two process-shared mutexes in a System V segment, a mutex whose owner was
// killed, a consumer on semaphore 1 of a set of 2, a sem_t in a POSIX shm object, a condvar
// waiter and a msgrcv on an empty queue. Every pid, tid, object, offset, field and holder is
// checked exactly; the children are killed and the objects removed even when a test fails.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { processViews, scanWaits, WaitHistory, type Wait } from '../../extension/src/analysis';
import { addressToOffset, parseProcessAddress } from '../../extension/src/shared/address';
import { InspectorSession, type SessionHost } from '../../extension/src/inspector/session';
import type { Envelope } from '../../extension/src/shared/channel';
import type { TreeResult } from '../../extension/src/shared/protocol';
import { compileSchema } from '../../extension/src/shared/schema';
import { cli, cliAsync, Created, ensureBuilt, freshKey, ROOT, until } from '../helpers/ipc';

const made = new Created();
const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-waits-'));
const exe = path.join(tmp, 'waiters');
const children: ChildProcess[] = [];

// struct Locks of waiters.c, as a schema: a, b, both, plain, robust, cv, cvm, self_ptr.
const LOCKS = `struct Locks { pthread_mutex_t a; pthread_mutex_t b; pthread_barrier_t both; pthread_mutex_t plain;
  pthread_mutex_t robust; pthread_cond_t cv; pthread_mutex_t cvm; uint64_t self_ptr; };`;
const OFF = { a: 0, b: 40, plain: 112, robust: 152, cv: 192, cvm: 240 };

let key = 0;
let shmId = 0;
let schemaFile = '';

before(() => {
  ensureBuilt();
  const cc = spawnSync('cc', ['-std=gnu11', '-O0', '-pthread', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'waits', 'waiters.c'), '-lrt'], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  key = freshKey();
  shmId = made.shm(4096, { key }).id;
  const init = spawnSync(exe, ['init', String(shmId)], { encoding: 'utf8' });
  assert.equal(init.status, 0, init.stderr);
  schemaFile = path.join(tmp, 'locks.shms');
  writeFileSync(schemaFile, `${LOCKS}\nsegment W for key 0x${key.toString(16)} { Locks locks @ 0; };\n`);
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : Promise.resolve())));
  made.removeAll();
  rmSync(tmp, { recursive: true, force: true });
});

/** Starts a fixture mode and resolves when it printed "ready PID TID". */
async function start(...args: string[]): Promise<{ child: ChildProcess; pid: number; tid: number; said: string[] }> {
  const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  const said: string[] = [];
  for await (const line of lines) {
    const m = /^ready (\d+) (\d+)$/.exec(line);
    if (m) return { child, pid: Number(m[1]), tid: Number(m[2]), said };
    said.push(line);
  }
  throw new Error(`${args.join(' ')} exited before it was ready`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGKILL');
  await gone;
}

/** Waits until the kernel shows `tid` blocked in a wait the scanner explains. */
const blocked = (tid: number, extra?: (w: Wait) => boolean) =>
  until(`thread ${tid} is blocked`, async () => (await scanWaits()).waits.find((w) => w.tid === tid && (!extra || extra(w))));

function waitsJson(args: string[] = []): { waits: Wait[]; deadlocks: { pid: number; tid: number }[][]; unreadable: number } {
  const r = cli(['waits', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const of = (doc: { waits: Wait[] }, tid: number) => {
  const w = doc.waits.find((x) => x.tid === tid);
  assert.ok(w, `a wait of thread ${tid} in ${JSON.stringify(doc.waits.map((x) => x.tid))}`);
  return w;
};
const holders = (w: Wait) => w.heldBy.map((h) => ({ pid: h.pid, tid: h.tid, alive: h.alive }));

describe('shmscope waits', () => {
  it('names both sides of an AB–BA deadlock on two mutexes in a System V segment, and the cycle', async () => {
    const [ab, ba] = await Promise.all([start('ab', String(shmId)), start('ba', String(shmId))]);
    try {
      await blocked(ab.tid);
      await blocked(ba.tid);
      const object = { target: `shm:${shmId}`, kind: 'shm', id: shmId, name: `0x${key.toString(16).padStart(8, '0')}` };
      for (const args of [['--schema', schemaFile], []]) {
        const doc = waitsJson(args);
        const wAb = of(doc, ab.tid);
        const wBa = of(doc, ba.tid);
        assert.deepEqual([wAb.pid, wAb.syscall, wAb.object, wAb.offset, wAb.op, wAb.since], [ab.pid, 'futex', object, OFF.b, 'mutex lock', null]);
        assert.deepEqual([wBa.pid, wBa.syscall, wBa.object, wBa.offset, wBa.op], [ba.pid, 'futex', object, OFF.a, 'mutex lock']);
        assert.deepEqual(holders(wAb), [{ pid: ba.pid, tid: ba.tid, alive: true }]);
        assert.deepEqual(holders(wBa), [{ pid: ab.pid, tid: ab.tid, alive: true }]);
        assert.match(wAb.heldBy[0]!.command!, /waiters ba/);
        // With the schema the offsets are fields; without it, only offsets.
        assert.deepEqual([wAb.path, wBa.path], args.length ? ['locks.b', 'locks.a'] : [null, null]);
        const mine = doc.deadlocks.filter((c) => c.some((t) => t.tid === ab.tid));
        const sorted = [ab, ba].sort((x, y) => x.tid - y.tid).map((x) => ({ pid: x.pid, tid: x.tid }));
        assert.deepEqual(mine, [sorted]);
      }
      // An hour's threshold: on a loaded machine the deadlock may be older than the default 10 s, which marks the op "(stuck)".
      const text = cli(['waits', '--schema', schemaFile, '--stuck-after', '3600000']);
      assert.match(text.stdout, new RegExp(`deadlock: (${ab.pid}/${ab.tid} → ${ba.pid}/${ba.tid} → ${ab.pid}/${ab.tid}|${ba.pid}/${ba.tid} → ${ab.pid}/${ab.tid} → ${ba.pid}/${ba.tid})`));
      assert.match(text.stdout, new RegExp(`${ab.pid}\\s+${ab.tid}\\s+.*shm:${shmId} key 0x${key.toString(16).padStart(8, '0')}\\s+0x28\\s+locks\\.b\\s+mutex lock\\s+${ba.pid}/${ba.tid}`));
      assert.equal(cli(['waits', '--fail-on', 'deadlock']).status, 3);
    } finally {
      await Promise.all([kill(ab.child), kill(ba.child)]);
    }
  });

  it('says a lock is held by a dead thread, and decodes a robust mutex whose owner was SIGKILLed', async () => {
    const holder = await start('hold', String(shmId));
    await kill(holder.child);
    const waiter = await start('wait-plain', String(shmId));
    try {
      await blocked(waiter.tid);
      const w = of(waitsJson(['--schema', schemaFile]), waiter.tid);
      assert.deepEqual([w.object.target, w.offset, w.path, w.op, w.ownerDied], [`shm:${shmId}`, OFF.plain, 'locks.plain', 'mutex lock', true]);
      assert.deepEqual(holders(w), [{ pid: null, tid: holder.tid, alive: false }]);
      assert.equal(cli(['waits', '--fail-on', 'deadlock']).status, 3);
      const text = cli(['waits']).stdout;
      assert.match(text, new RegExp(`owner died: ${waiter.pid}/${waiter.tid} waits on shm:${shmId}`));

      const decoded = cli(['decode', `key:0x${key.toString(16)}`, '--schema', schemaFile, '--json']);
      assert.equal(decoded.status, 0, decoded.stderr);
      const robust = JSON.parse(decoded.stdout).locks.robust;
      assert.deepEqual([robust.primitive, robust.ownerDied, robust.owner, robust.ownerAlive, robust.robust, robust.shared], ['mutex', true, holder.tid, false, true, true]);
      const tree = cli(['decode', `key:0x${key.toString(16)}`, '--schema', schemaFile]).stdout;
      assert.match(tree, new RegExp(`0x0098\\s+robust: pthread_mutex_t = owner died \\(TID ${holder.tid}\\)`));
      assert.match(tree, new RegExp(`0x0070\\s+plain: pthread_mutex_t = locked by TID ${holder.tid} \\(dead\\), with waiters · normal, process-shared`));
    } finally {
      await kill(waiter.child);
    }
  });

  it('names the semaphore a consumer waits on (number 1 of a set of 2) and its last changer', async () => {
    const sem = made.sem(2, [3, 0]); // SETALL by this process: it is every semaphore's last pid
    // glibc's semop() is the semtimedop system call with no timeout.
    const consumer = await start('semop', String(sem.id), '1');
    try {
      await blocked(consumer.tid);
      const w = of(waitsJson(), consumer.tid);
      assert.deepEqual([w.pid, w.syscall, w.object, w.offset, w.path, w.op], [consumer.pid, 'semtimedop', { target: `sem:${sem.id}`, kind: 'sem', id: sem.id, name: null }, null, 'sem[1]', 'semtimedop 1:-1']);
      // A semaphore has no owner: this process set it last, a hint, not a holder.
      assert.deepEqual(holders(w), []);
      assert.deepEqual(w.lastChangedBy.map((h) => ({ pid: h.pid, tid: h.tid, alive: h.alive })), [{ pid: process.pid, tid: null, alive: true }]);
      // One scan can already call it stuck: the set's own change time is older than the threshold.
      await until('the wait outlives 1 s without a change on the set', () => Date.now() - Date.parse(ipc.semGet(sem.id).ctime ?? '') > 1000);
      assert.equal(of(waitsJson(['--stuck-after', '1000']), consumer.tid).stuck, true);
      assert.equal(of(waitsJson(['--stuck-after', '3600000']), consumer.tid).stuck, false);
    } finally {
      await kill(consumer.child);
    }
  });

  it('a consumer that changed its semaphore last waits on it without a deadlock (the demo\'s case)', async () => {
    const sem = made.sem(2, [3, 0]);
    const consumer = await start('semop', String(sem.id), '1', 'self');
    try {
      await blocked(consumer.tid);
      const doc = waitsJson();
      const w = of(doc, consumer.tid);
      assert.deepEqual([w.heldBy, w.lastChangedBy.map((h) => h.pid), w.ownerDied], [[], [consumer.pid], false]);
      assert.deepEqual(doc.deadlocks.filter((c) => c.some((t) => t.pid === consumer.pid)), []);
      const text = cli(['waits']);
      assert.match(text.stdout, new RegExp(`\\(last changed by ${consumer.pid}\\b`));
      assert.doesNotMatch(text.stdout, new RegExp(`deadlock: [^\\n]*\\b${consumer.pid}/`));
      // Other tests' waits may be running, so the exit status is read on this consumer's own: none.
      const r = cli(['waits', '--json', '--fail-on', 'deadlock']);
      const mine = (JSON.parse(r.stdout) as { deadlocks: { pid: number }[][] }).deadlocks.some((c) => c.some((t) => t.pid === consumer.pid));
      assert.equal(mine, false);
    } finally {
      await kill(consumer.child);
    }
  });

  it('finds a thread blocked on a sem_t in a POSIX shm object, by offset and by field', async () => {
    const obj = made.posixShm(4096, 'waits');
    const schema = path.join(tmp, 'psem.shms');
    writeFileSync(schema, `segment P for posix "${obj.name}" { uint8_t head[64] @ 0; sem_t ready @ 64; };\n`);
    const waiter = await start('psem', obj.name, '64');
    try {
      assert.notEqual(waiter.tid, waiter.pid, 'the waiter is a second thread');
      await blocked(waiter.tid);
      for (const [args, pathName] of [[['--schema', schema], 'ready'], [[], null]] as const) {
        const w = of(waitsJson([...args]), waiter.tid);
        assert.deepEqual([w.pid, w.tid, w.object.target, w.object.kind, w.object.name, w.offset, w.path, w.op], [waiter.pid, waiter.tid, `posix:${obj.name}`, 'posix-shm', obj.name, 64, pathName, 'sem_t sem wait']);
        assert.deepEqual([w.lock?.value, w.lock?.waiters], [0, 1]);
      }
    } finally {
      await kill(waiter.child);
    }
  });

  it('finds a wait on a POSIX named semaphore, also one already unlinked', async () => {
    for (const unlink of [false, true]) {
      const psem = made.posixSem(0, unlink ? 'unlinked' : 'named');
      const waiter = await start('named-sem', psem.name, ...(unlink ? ['unlink'] : []));
      try {
        await blocked(waiter.tid);
        const w = of(waitsJson(), waiter.tid);
        const object = unlink ? { target: null, kind: 'posix-sem', name: `${psem.name} (unlinked)` } : { target: `psem:${psem.name}`, kind: 'posix-sem', name: psem.name };
        assert.deepEqual([{ target: w.object.target, kind: w.object.kind, name: w.object.name }, w.offset, w.op, w.lock?.value, w.lock?.waiters], [object, 0, 'sem_t sem wait', 0, 1]);
      } finally {
        await kill(waiter.child);
      }
    }
  });

  it('finds a condition-variable waiter', async () => {
    const waiter = await start('cond', String(shmId));
    try {
      await blocked(waiter.tid);
      const w = of(waitsJson(['--schema', schemaFile]), waiter.tid);
      assert.deepEqual([w.object.target, w.offset, w.path, w.op], [`shm:${shmId}`, OFF.cv + 40, 'locks.cv', 'condvar wait']);
      assert.equal(w.lock?.waiters, 1);
      const guessed = of(waitsJson(), waiter.tid);
      assert.deepEqual([guessed.offset, guessed.path, guessed.op], [OFF.cv + 40, null, 'condvar wait']);
    } finally {
      await kill(waiter.child);
    }
  });

  it('finds a msgrcv on an empty System V queue, and escapes a hostile command line in the table', async () => {
    const q = made.msg();
    const reader = await start('msgrcv', String(q.id), '\x1b[31mevil\nforged row');
    try {
      await blocked(reader.tid);
      const w = of(waitsJson(), reader.tid);
      assert.deepEqual([w.syscall, w.object, w.offset, w.op, w.heldBy], ['msgrcv', { target: `msg:${q.id}`, kind: 'msg', id: q.id, name: null }, null, 'msgrcv type 0', []]);
      assert.match(w.command, /\x1b\[31mevil\nforged row$/, 'JSON keeps the command as it is');
      const text = cli(['waits']).stdout;
      assert.match(text, new RegExp(`^${reader.pid}\\s+${reader.tid}\\s`, 'm'), text);
      assert.doesNotMatch(text, /\x1b/);
      assert.doesNotMatch(text, /^forged row/m);
    } finally {
      await kill(reader.child);
    }
  });

  it('finds both words of a futex_waitv in the segment', async () => {
    const waiter = await start('waitv', String(shmId));
    try {
      await blocked(waiter.tid);
      const doc = waitsJson(['--schema', schemaFile]);
      const mine = doc.waits.filter((w) => w.tid === waiter.tid).map((w) => [w.syscall, w.object.target, w.offset, w.path, w.op]);
      assert.deepEqual(mine, [['futex_waitv', `shm:${shmId}`, 0x200, null, 'futex wait'], ['futex_waitv', `shm:${shmId}`, 0x204, null, 'futex wait']]);
    } finally {
      await kill(waiter.child);
    }
  });

  it('finds a receive on an empty POSIX message queue', async () => {
    const name = `/shmscope-test-waits-${process.pid}`;
    ipc.createPosixMq({ name, maxMessages: 4, messageSize: 64, mode: 0o600 });
    made.track({ kind: 'posix-mq', name });
    const reader = await start('mqrecv', name);
    try {
      await blocked(reader.tid);
      const w = of(waitsJson(), reader.tid);
      assert.deepEqual([w.syscall, w.object.target, w.object.kind, w.object.name, w.offset, w.op, w.heldBy], ['mq_timedreceive', `mq:${name}`, 'posix-mq', name, null, 'mq receive (queue empty)', []]);
    } finally {
      await kill(reader.child);
    }
  });

  it('finds a flock wait on a POSIX shm file and names the process holding the lock', async () => {
    const obj = made.posixShm(4096, 'flock');
    const holder = await start('flock-hold', `/dev/shm${obj.name}`);
    const waiter = await start('flock', `/dev/shm${obj.name}`);
    try {
      await blocked(waiter.tid);
      const w = of(waitsJson(), waiter.tid);
      assert.deepEqual([w.syscall, w.object.target, w.object.kind, w.offset, w.op], ['flock', `posix:${obj.name}`, 'posix-shm', null, 'flock']);
      assert.deepEqual(holders(w), [{ pid: holder.pid, tid: null, alive: true }]);
    } finally {
      await Promise.all([kill(waiter.child), kill(holder.child)]);
    }
  });

  it('finds an fcntl record-lock wait on a POSIX shm file and names the holder', async () => {
    const obj = made.posixShm(4096, 'lockf');
    const holder = await start('lockf-hold', `/dev/shm${obj.name}`);
    const waiter = await start('lockf', `/dev/shm${obj.name}`);
    try {
      await blocked(waiter.tid);
      const w = of(waitsJson(), waiter.tid);
      assert.deepEqual([w.syscall, w.object.target, w.offset, w.op], ['fcntl', `posix:${obj.name}`, null, 'fcntl lock']);
      assert.deepEqual(holders(w), [{ pid: holder.pid, tid: null, alive: true }]);
    } finally {
      await Promise.all([kill(waiter.child), kill(holder.child)]);
    }
  });

  it('names the field of a wait in a mapped file (`for file`, the schema through -I) and in shared anonymous memory (`anon of "program"`)', async () => {
    const dir = path.join(tmp, 'mapwait');
    mkdirSync(path.join(dir, 'include'), { recursive: true });
    const file = path.join(dir, 'lock.mdb');
    writeFileSync(file, Buffer.alloc(4096));
    writeFileSync(path.join(dir, 'include', 'lockhdr.h'), 'struct LockHdr { uint64_t magic; uint32_t word; uint32_t pad; };\n');
    const schema = path.join(dir, 'maps.shms');
    writeFileSync(schema, `#include "lockhdr.h"\nsegment Lock for file "${file}" { LockHdr hdr @ 0; };\nsegment Sems for anon of "waiters" { uint64_t pad @ 0; uint32_t sems[4] @ 8; };\n`);
    const [inFile, inAnon] = await Promise.all([start('mapwait', 'file', file), start('mapwait', 'anon')]);
    try {
      await blocked(inFile.tid);
      await blocked(inAnon.tid);
      const doc = waitsJson(['--schema', schema, '-I', path.join(dir, 'include')]);
      const wf = of(doc, inFile.tid);
      const wa = of(doc, inAnon.tid);
      assert.deepEqual([wf.object.kind, wf.object.target, wf.offset, wf.path], ['file', `file:${file}`, 8, 'hdr.word']);
      assert.deepEqual([wa.object.kind, wa.object.target, wa.offset, wa.path], ['anon', `anon:${wa.object.id}`, 8, 'sems[0]']);
      // Without the schema: the same objects, by offset only.
      const plain = waitsJson();
      assert.deepEqual([of(plain, inFile.tid).path, of(plain, inAnon.tid).path], [null, null]);
    } finally {
      await Promise.all([kill(inFile.child), kill(inAnon.child)]);
    }
  });

  it('keeps since across scans and calls a wait stuck once it outlives the threshold unchanged', async () => {
    const q = made.msg();
    const reader = await start('msgrcv', String(q.id));
    try {
      await blocked(reader.tid);
      const history = new WaitHistory();
      let clock = Date.parse('2026-01-01T00:00:00Z');
      // An hour: longer than the reader has really been blocked (that alone makes a wait stuck too).
      const first = (await scanWaits({ history, stuckAfterMs: 3_600_000, now: () => clock })).waits.find((w) => w.tid === reader.tid)!;
      clock += 3_600_001;
      const second = (await scanWaits({ history, stuckAfterMs: 3_600_000, now: () => clock })).waits.find((w) => w.tid === reader.tid)!;
      assert.deepEqual([first.since, first.stuck, second.since, second.stuck], ['2026-01-01T00:00:00.000Z', false, '2026-01-01T00:00:00.000Z', true]);

      // The CLI's --watch prints one JSON document per scan with the same since, until Ctrl+C.
      const watch = cliAsync(['waits', '--watch', '--json', '--interval', '100']);
      const docs: { waits: Wait[] }[] = [];
      for await (const line of createInterface({ input: watch.stdout })) {
        docs.push(JSON.parse(line));
        if (docs.length === 2) watch.kill('SIGINT');
      }
      const [code] = await once(watch, 'exit').catch(() => [watch.exitCode]);
      assert.equal(watch.exitCode ?? code, 0);
      const sinces = docs.map((d) => of(d, reader.tid).since);
      assert.ok(typeof sinces[0] === 'string' && sinces[1] === sinces[0], JSON.stringify(sinces));
    } finally {
      await kill(reader.child);
    }
  });

  it('flags an absolute pointer a process stored into its own mapping, and turns its address into the offset', async () => {
    const writer = await start('pointer', String(shmId));
    try {
      const base = BigInt(/^base (0x[0-9a-f]+)$/.exec(writer.said[0] ?? '')![1]!);
      const note = `pointer into this segment as mapped by pid ${writer.pid}; offset 0x40`;
      const doc = JSON.parse(cli(['decode', `shm:${shmId}`, '--schema', schemaFile, '--json']).stdout);
      assert.equal(doc.locks.self_ptr, Number(base + 0x40n));
      assert.ok(doc.diagnostics.some((d: { message: string; severity: string }) => d.severity === 'warning' && d.message === `locks.self_ptr: ${note}: store an offset instead`), JSON.stringify(doc.diagnostics));
      const tree = cli(['decode', `shm:${shmId}`, '--schema', schemaFile]).stdout;
      assert.match(tree, new RegExp(`0x0118\\s+self_ptr: uint64_t = ${base + 0x40n} \\(${note.replace(/[()]/g, '\\$&')}\\)`));
      // Go to Offset's "pid N: 0xADDRESS", through the same views the inspector asks for.
      const views = await processViews(`shm:${shmId}`);
      assert.deepEqual(addressToOffset(base + 0x118n, writer.pid, views, 4096), { ok: true, offset: 0x118 });
      const outside = addressToOffset(base + 0x2000n, writer.pid, views, 4096);
      assert.equal(outside.ok, false);
      assert.deepEqual(parseProcessAddress(`pid ${writer.pid}: 0x${(base + 0x118n).toString(16)}`), { pid: writer.pid, address: base + 0x118n });

      // The inspector's structure view flags the field too, and its Go to Offset takes the address.
      const posted: Envelope[] = [];
      const host: SessionHost = { post: (m) => posted.push(m), writeClipboard: () => Promise.resolve(), action: () => Promise.resolve(), log: () => {} };
      const handle = ipc.openShm({ kind: 'shm', id: shmId });
      const session = new InspectorSession(handle, { target: `shm:${shmId}`, title: 'locks', bytesPerRow: 16, refreshMs: 100 }, host);
      try {
        session.bind({ schema: compileSchema(readFileSync(schemaFile, 'utf8'), 'locks.shms'), label: 'locks.shms · W', how: 'test' });
        await session.handle({ t: 'note', method: 'ready', params: {} });
        let id = 10;
        const ask = async (method: string, params: Record<string, unknown>) => {
          const requestId = id++;
          await session.handle({ t: 'req', id: requestId, method, params });
          return posted.find((x) => (x.t === 'res' || x.t === 'err') && x.id === requestId)!;
        };
        await ask('tree', { first: 0, count: 50, toggle: { id: '0', expand: true } });
        await until('the structure view flags self_ptr', async () => {
          const t = await ask('tree', { first: 0, count: 50 });
          return t.t === 'res' && (t.result as TreeResult).rows.some((r) => r.path === 'locks.self_ptr' && r.value.endsWith(`(${note})`));
        });
        const r = await ask('resolve', { text: `pid ${writer.pid}: 0x${(base + 0x118n).toString(16)}` });
        assert.deepEqual(r.t === 'res' && [(r.result as { offset: number }).offset, (r.result as { path: string }).path], [0x118, 'locks.self_ptr']);
        const bad = await ask('resolve', { text: `pid ${writer.pid}: 0x${(base + 0x2000n).toString(16)}` });
        assert.match(bad.t === 'err' ? bad.message : '', /outside pid \d+'s mapping of this object/);
      } finally {
        session.dispose();
        handle.close();
      }
    } finally {
      await kill(writer.child);
    }
  });

  it('refuses an unknown --fail-on with one line', () => {
    const r = cli(['waits', '--fail-on', 'sometimes']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^shmscope: --fail-on is deadlock or stuck, not "sometimes"\n$/);
  });
});
