// The scanners and readers of the addon under attack from any local user: a process that maps one
// object tens of thousands of times, a huge-page segment whose pages the kernel cannot supply,
// names the kernel escapes, a live file named like a deleted one. Each case runs in the private
// IPC and mount namespace of ./namespace, bounds the CLI in time and (through a small V8 heap) in
// memory, and asserts one true line of its answer.
import './namespace';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, ensureBuilt } from '../helpers/ipc';
import { startRegions, stopAllRegions } from '../helpers/regions';

const BOUND_MS = 20_000;
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
});
