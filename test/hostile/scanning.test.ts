// The scanners and readers of the addon under attack from any local user: a process that maps one
// object tens of thousands of times, a huge-page segment whose pages the kernel cannot supply,
// names the kernel escapes, a live file named like a deleted one. Each case runs in the private
// IPC and mount namespace of ./namespace, bounds the CLI in time and (through a small V8 heap) in
// memory, and asserts one true line of its answer.
import './namespace';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, ensureBuilt } from '../helpers/ipc';
import { startRegions, stopAllRegions } from '../helpers/regions';

/**
 * A hang guard, not a speed figure (the bench has those): generous enough that a loaded machine
 * (load average 25 on 2 cores lists the 100 000 entries in about 20 s) never trips it, small
 * enough that a scanner that loops forever fails the test instead of the run's limit.
 */
const BOUND_MS = 120_000;
/** The CLI's V8 heap for these runs: a listing that grows per mapping fails instead of passing. */
const HEAP_MB = 192;
const DIR = '/dev/shm/hostile-scan';
mkdirSync(DIR, { recursive: true });

before(() => ensureBuilt());
after(async () => {
  await stopAllRegions();
  rmSync(DIR, { recursive: true, force: true });
});

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, CLI, ...args], {
    encoding: 'utf8',
    timeout: BOUND_MS,
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Ended by itself within the bound, never by a signal. */
function ended(r: SpawnSyncReturns<string>): void {
  assert.equal(r.signal, null, `ended by ${r.signal} (stderr: ${r.stderr.slice(0, 500)})`);
  assert.equal(r.error, undefined, `did not end within ${BOUND_MS} ms`);
}

interface Listed {
  posixShm: { name: string; attachedBy: { pid: number }[] }[];
  file: { path: string; deleted: boolean; attachedBy: { pid: number }[] }[];
  memfd: { name: string; attachedBy: { pid: number }[] }[];
  notes: string[];
}

function listJson(): Listed {
  const r = run(['list', '--json']);
  ended(r);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed;
}

describe('listing stays linear and fair', () => {
  it('one process mapping one /dev/shm object 30 000 times: listed within the bound, the mapper named', async () => {
    const f = await startRegions(['repeat', '30000', '/dev/shm/hostile-repeat']).ready();
    try {
      const l = listJson();
      const o = l.posixShm.find((x) => x.name === '/hostile-repeat');
      assert.ok(o, 'the object is listed');
      assert.deepEqual(o.attachedBy.map((a) => a.pid), [f.pid]);
    } finally {
      await stopAllRegions();
      rmSync('/dev/shm/hostile-repeat', { force: true });
    }
  });

  it('one process with 200 000 mappings does not hide the attachments of later processes', async () => {
    const sysctl = '/proc/sys/vm/max_map_count';
    const before = readFileSync(sysctl, 'utf8').trim();
    writeFileSync(sysctl, '210000');
    try {
      await startRegions(['repeat', '200000', path.join(DIR, 'huge-maps')]).ready();
      const later = await startRegions(['file', path.join(DIR, 'later.bin'), '4096']).ready();
      const l = listJson();
      const r = l.file.find((x) => x.path === path.join(DIR, 'later.bin'));
      assert.ok(r, `the later process's file is listed (notes: ${l.notes.join('; ')})`);
      assert.ok(r.attachedBy.some((a) => a.pid === later.pid), 'mapped by the later process');
    } finally {
      await stopAllRegions();
      writeFileSync(sysctl, before);
    }
  });
});

describe('a /dev/shm of 100 000 entries', () => {
  it('is listed within the bound and the small heap, every object counted, the FIFOs among them in a bounded note', () => {
    const N = 100_000;
    for (let i = 0; i < N; i++) closeSync(openSync(`/dev/shm/many-${i}`, 'w', 0o600));
    for (let i = 0; i < 200; i++) spawnSync('mkfifo', [`/dev/shm/many-fifo-${i}`]);
    try {
      const r = run(['list', '--kind', 'posix-shm', '--json']);
      ended(r);
      assert.equal(r.status, 0, r.stderr);
      const l = JSON.parse(r.stdout) as Listed;
      assert.equal(l.posixShm.filter((o) => o.name.startsWith('/many-')).length, N);
      assert.ok(l.notes.length <= 60, `${l.notes.length} notes`);
      assert.ok(l.notes.some((n) => /^\d+ more entries of \/dev\/shm are not shared memory objects/.test(n)), l.notes.join('\n'));
    } finally {
      for (const f of readdirSync('/dev/shm')) if (f.startsWith('many-')) rmSync(`/dev/shm/${f}`, { force: true });
    }
  });
});

describe('mapped memory the kernel refuses', () => {
  it('a SHM_HUGETLB|SHM_NORESERVE segment with an empty pool: dump says so in one line, never SIGBUS', async (t) => {
    if (readFileSync('/proc/sys/vm/nr_hugepages', 'utf8').trim() !== '0') return t.skip('the huge-page pool is not empty here');
    const f = startRegions(['huge', String(2 << 20)]);
    const seg = await f.ready();
    try {
      const r = run(['dump', `shm:${seg.id}`, '--length', '64']);
      ended(r);
      assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^shmscope: .*segment \d+ has a page the kernel cannot supply/);
    } finally {
      await f.stop();
    }
  });

  it('the same segment in another IPC namespace: dump --namespace says so in one line, never SIGBUS', async (t) => {
    if (readFileSync('/proc/sys/vm/nr_hugepages', 'utf8').trim() !== '0') return t.skip('the huge-page pool is not empty here');
    const f = startRegions(['huge', String(2 << 20)], ['unshare', '--ipc']);
    const seg = await f.ready();
    try {
      const r = run(['dump', `shm:${seg.id}`, '--namespace', String(seg.pid), '--length', '64']);
      ended(r);
      assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^shmscope: segment \d+ of the IPC namespace of process \d+ has a page the kernel cannot supply/);
    } finally {
      await f.stop();
    }
  });
});

describe('names are read by device and inode, as they are', () => {
  it('a live file named "x (deleted)" beside an unrelated "x": listed live by its name, and dump reads the mapped one', async () => {
    const live = path.join(DIR, 'x (deleted)');
    writeFileSync(path.join(DIR, 'x'), 'UNRELATED-FILE\n');
    await startRegions(['file', live, '4096']).ready();
    try {
      const l = listJson();
      const rows = l.file.filter((f) => f.path.startsWith(`${DIR}/x`)).map((f) => [f.path, f.deleted]);
      assert.deepEqual(rows, [[live, false]]);
      const r = run(['dump', `file:${live}`, '--length', '8', '--format', 'raw']);
      ended(r);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'SHMSCOPE');
    } finally {
      await stopAllRegions();
    }
  });

  it('a newline in a mapped file name and in a memfd name: the JSON has the newline, not the kernel\'s \\012', async () => {
    const file = path.join(DIR, 'line\nbreak');
    await startRegions(['file', file, '4096']).ready();
    await startRegions(['memfd', 'mem\nfd', '4096', path.join(DIR, 'memfd.sock')]).ready();
    try {
      const l = listJson();
      assert.ok(l.file.some((f) => f.path === file), JSON.stringify(l.file.map((f) => f.path)));
      assert.ok(l.memfd.some((m) => m.name === 'mem\nfd'), JSON.stringify(l.memfd.map((m) => m.name)));
      assert.ok(!JSON.stringify(l).includes('\\\\012'), 'no escaped newline left');
    } finally {
      await stopAllRegions();
    }
  });

  it('a file: target reached through a symbolic link in the middle of its path: refused in one line', async () => {
    mkdirSync(path.join(DIR, 'real'), { recursive: true });
    const f = path.join(DIR, 'real', 'f.bin');
    await startRegions(['file', f, '4096']).ready();
    rmSync(path.join(DIR, 'via'), { force: true });
    spawnSync('ln', ['-s', path.join(DIR, 'real'), path.join(DIR, 'via')]);
    try {
      const r = run(['dump', `file:${path.join(DIR, 'via', 'f.bin')}`, '--length', '8']);
      ended(r);
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^shmscope: file .*via\/f\.bin is a symbolic link or is reached through one/);
    } finally {
      await stopAllRegions();
    }
  });
});
