// The addon's one /proc scanner (native/src/scan.h): its scans never hold a thread of libuv's pool,
// a listing that needs no mappings starts none, and its one maps parser reads lines as the kernel
// writes them. Uses the addon's test mode (SHMSCOPE_TEST=1): a counter of scans over every process
// and a hold that keeps every scan from finishing, as a process that does not answer would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { binding } from '../../extension/src/ipc/native';
import { ensureBuilt, ROOT } from '../helpers/ipc';
import { startRegions, stopAllRegions } from '../helpers/regions';

const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-scanner-'));
before(() => ensureBuilt());
after(async () => {
  await stopAllRegions();
  rmSync(tmp, { recursive: true, force: true });
});

function testMode() {
  const b = binding();
  assert.ok(b._testProcScans && b._testHoldScans, 'the addon is in test mode (SHMSCOPE_TEST=1)');
  return { scans: b._testProcScans, hold: b._testHoldScans };
}

// Run in a process of its own with one libuv pool thread: every scan is held, then a readFile is
// started. The hold is released when the readFile completes, so the scans can only finish after it;
// if a scan sat on the pool's only thread the readFile could not complete until the hold ended,
// which then happens by a fallback timer, and the order printed is reversed.
const ORDERING = `
const { readFile } = require('node:fs');
const { binding } = require(${JSON.stringify(path.join(ROOT, 'extension', 'src', 'ipc', 'native.ts'))});
const b = binding();
const order = [];
b._testHoldScans(true);
const scans = [
  b.scanShared(undefined, 60000).then(() => order.push('scanShared')),
  b.scanThreads(60000).then(() => order.push('scanThreads')),
  b.scanMaps(60000).then(() => order.push('scanMaps')),
  b.devShmList(60000).then(() => order.push('devShmList'), () => order.push('devShmList')),
  b.commandsOf([process.pid], 60000).then(() => order.push('commandsOf')),
];
const fallback = setTimeout(() => b._testHoldScans(false), 30000);
readFile('/proc/self/status', () => {
  order.push('readFile');
  b._testHoldScans(false);
  clearTimeout(fallback);
});
Promise.all(scans).then(() => process.stdout.write(JSON.stringify(order)));
`;

// Run in a process of its own, whose main thread never loads the addon: a worker loads it, reads
// one process's command line (a job and one reader) again and again, lists another IPC
// namespace's objects (a job that enters it), then ends; the main thread then looks for the
// pool's threads (named shmscope-pool) among its own.
const POOL = `
const { Worker } = require('node:worker_threads');
const { readdirSync, readFileSync, readlinkSync } = require('node:fs');
const { spawn } = require('node:child_process');
const poolThreads = () => readdirSync('/proc/self/task').filter((t) => {
  try { return readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'shmscope-pool'; } catch { return false; }
});
const sleeper = spawn('unshare', ['--ipc', 'sleep', '1000'], { stdio: 'ignore' });
const worker = new Worker(\`
  const { parentPort, workerData } = require('node:worker_threads');
  const { readdirSync, readFileSync, readlinkSync } = require('node:fs');
  require('tsx/cjs');
  const { binding } = require(\${JSON.stringify(${JSON.stringify(path.join(ROOT, 'extension', 'src', 'ipc', 'native.ts'))})});
  const b = binding();
  // Until every thread of the pool waits for a task (a job's thread goes back to it just after answering).
  const settled = async () => {
    for (;;) {
      const c = b._testPool();
      if (c.idle === c.threads) return c;
      await new Promise((r) => setImmediate(r));
    }
  };
  (async () => {
    await b.commandsOf([process.pid], 60000);
    const first = await settled();
    for (let i = 0; i < 10; i++) {
      await b.commandsOf([process.pid], 60000);
      await settled();
    }
    const tenMore = await settled();
    // The sleeper is in an IPC namespace of its own once unshare has execed sleep.
    while (readlinkSync('/proc/' + workerData + '/ns/ipc') === readlinkSync('/proc/self/ns/ipc') || !readFileSync('/proc/' + workerData + '/comm', 'utf8').startsWith('sleep')) await new Promise((r) => setImmediate(r));
    const listed = await b.nsList(workerData, 60000).then(() => true, (e) => e.message);
    const afterNs = await settled();
    const own = readlinkSync('/proc/self/ns/ipc');
    const elsewhere = readdirSync('/proc/self/task').filter((t) => readlinkSync('/proc/self/task/' + t + '/ns/ipc') !== own).length;
    // Ends once the main thread has counted the pool's threads.
    parentPort.once('message', () => parentPort.close());
    parentPort.postMessage({ first, tenMore, listed, afterNs, elsewhere });
  })();
\`, { eval: true, workerData: sleeper.pid });
let seen;
worker.on('message', (m) => {
  seen = m;
  seen.alive = poolThreads().length;
  worker.postMessage('counted');
});
worker.on('error', (e) => { sleeper.kill(); throw e; });
worker.on('exit', () => {
  sleeper.kill();
  process.stdout.write(JSON.stringify({ ...seen, afterExit: poolThreads().length }));
});
`;

describe('the /proc scanner', () => {
  it('reuses the threads of one pool for every job, brings a thread that entered a namespace back, and ends them with the addon', () => {
    const r = spawnSync(process.execPath, ['-e', POOL], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SHMSCOPE_TEST: '1' },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<string, unknown> & Record<'first' | 'tenMore' | 'afterNs', { threads: number; idle: number; started: number }>;
    assert.ok(got.first.started >= 2, `a job and its reader ran on the pool: ${JSON.stringify(got.first)}`);
    assert.equal(got.tenMore.started, got.first.started, 'ten more jobs started no thread');
    assert.equal(got.tenMore.threads, got.first.threads, 'and ended none');
    assert.equal(got.listed, true, 'another IPC namespace was listed');
    assert.equal(got.elsewhere, 0, 'no thread of the process is left in the other IPC namespace');
    assert.equal(got.afterNs.threads, got.afterNs.started, 'the thread that entered it went back and stayed in the pool');
    assert.equal(got.alive, got.afterNs.threads, 'the pool\'s threads are named shmscope-pool');
    assert.equal(got.afterExit, 0, 'the worker\'s end (the addon\'s last environment) ended and joined every thread of the pool');
  });


  it('no scan holds a thread of libuv\'s pool: a readFile completes while every scan is still in flight', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', ORDERING], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SHMSCOPE_TEST: '1', UV_THREADPOOL_SIZE: '1' },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const order = JSON.parse(r.stdout) as string[];
    assert.equal(order[0], 'readFile', `completion order: ${order.join(', ')}`);
    assert.deepEqual([...order].sort(), ['commandsOf', 'devShmList', 'readFile', 'scanMaps', 'scanShared', 'scanThreads']);
  });

  it('listing semaphores, queues or POSIX message queues reads no process; a kind that needs mappings does', async () => {
    const { scans } = testMode();
    const before = scans();
    for (const kinds of [['sem'], ['msg'], ['posix-mq'], ['sem', 'msg', 'posix-mq']] as const) await ipc.list(kinds);
    assert.equal(scans(), before, 'no scan over every process for sem, msg and posix-mq');
    await ipc.list(['memfd']);
    assert.equal(scans(), before + 1, 'one scan for memfd');
    await ipc.list(['shm']);
    assert.equal(scans(), before + 2, 'one scan for System V segments (who attaches them)');
  });

  it('a listing without the scan (the explorer\'s first rows) reads no process and lists System V and POSIX objects', async () => {
    const { scans } = testMode();
    const name = `/shmscope-unscanned-${process.pid}`;
    const id = ipc.createShm({ key: 0, size: 4096, mode: 0o600 });
    let h: ipc.ShmHandle | undefined;
    try {
      ipc.createPosixShm({ name, size: 4096 });
      h = ipc.openShm({ kind: 'shm', id }); // attached by this process: nattch 1, its mapping unread
      const before = scans();
      const l = await ipc.list(undefined, { scan: false, namespaces: 'all' });
      assert.equal(scans(), before, 'no scan over every process');
      const seg = l.shm.find((r) => r.id === id);
      assert.ok(seg, 'the segment is listed');
      assert.equal(seg.nattch, 1);
      assert.deepEqual(seg.attachedBy, [], 'who attaches it needs the scan');
      assert.equal(seg.hiddenAttachers, 0, 'no attachment is said hidden when no process was read');
      assert.ok(l.posixShm.some((r) => r.name === name), 'the POSIX object is listed');
      assert.deepEqual([l.memfd.length, l.anon.length, l.file.length, l.ring.length], [0, 0, 0, 0], 'no region without the scan');
      assert.equal(l.namespaces, undefined, 'other namespaces need the scan');
      const full = await ipc.list(['shm']);
      assert.deepEqual(full.shm.find((r) => r.id === id)?.attachedBy.map((a) => a.pid), [process.pid], 'the scan finds this process');
    } finally {
      h?.close();
      ipc.remove({ kind: 'shm', id });
      try { ipc.remove({ kind: 'posix-shm', name }); } catch { /* not made */ }
    }
  });

  it('parses maps lines as the kernel writes them: every line in order, a path with spaces whole, anonymous lines', async () => {
    const file = path.join(tmp, 'a name with  spaces.bin');
    const f = await startRegions(['file', file, '8192']).ready();
    const maps = await binding().mapsOf(f.pid, 60_000);
    // The kernel's own text, split the simple way: every line is parsed, in order, field by field.
    const lines = readFileSync(`/proc/${f.pid}/maps`, 'latin1').trimEnd().split('\n');
    assert.equal(maps.length, lines.length);
    lines.forEach((line, i) => {
      const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+) *(.*)$/.exec(line);
      assert.ok(m, line);
      const got = maps[i]!;
      assert.deepEqual(
        [got.start, got.end, got.perms, got.offset, got.dev, got.inode, got.path],
        [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`), m[3], BigInt(`0x${m[4]}`), m[5], Number(m[6]), m[7]],
      );
    });
    assert.ok(maps.some((m) => m.path === file && m.perms.endsWith('s')), 'the shared file mapping, its path whole');
  });
});
