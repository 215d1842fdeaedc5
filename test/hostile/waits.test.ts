// `waits` against a process with 10 000 threads started before a real AB–BA deadlock: the scan's
// budget is shared (every process's first threads before any process's others), so the deadlock
// is found and `--fail-on deadlock` exits 3; and if the machine is too slow for that, the
// processes not read are named and the exit is 4, never 0. Runs in the private namespace of
// ./namespace (the deadlock's segment is its own).
import './namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { CLI, Created, ensureBuilt, ROOT } from '../helpers/ipc';
import { startRegions, stopAllRegions } from '../helpers/regions';

const BOUND_MS = 30_000;
const made = new Created();
const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-hostile-waits-'));
const exe = path.join(tmp, 'waiters');
const children: ChildProcess[] = [];

before(() => {
  ensureBuilt();
  const cc = spawnSync('cc', ['-std=gnu11', '-O0', '-pthread', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'waits', 'waiters.c'), '-lrt'], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : Promise.resolve())));
  await stopAllRegions();
  made.removeAll();
  rmSync(tmp, { recursive: true, force: true });
});

async function start(...args: string[]): Promise<{ pid: number; tid: number }> {
  const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^ready (\d+) (\d+)$/.exec(line);
    if (m) return { pid: Number(m[1]), tid: Number(m[2]) };
  }
  throw new Error(`${args.join(' ')} exited before it was ready`);
}

describe('a scan budget shared fairly', () => {
  it('10 000 threads in an earlier process: the deadlock is named (exit 3), or the unread pids are (exit 4), never exit 0', async () => {
    await startRegions(['threads', '10000']).ready();
    const id = made.shm(4096).id;
    const init = spawnSync(exe, ['init', String(id)], { encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    const [ab, ba] = await Promise.all([start('ab', String(id)), start('ba', String(id))]);
    const r = spawnSync(process.execPath, [CLI, 'waits', '--fail-on', 'deadlock'], { encoding: 'utf8', timeout: BOUND_MS });
    assert.equal(r.error, undefined, `did not end within ${BOUND_MS} ms`);
    assert.equal(r.signal, null);
    if (r.status === 3) {
      const cycle = new RegExp(`deadlock: (${ab.pid}/${ab.tid} → ${ba.pid}/${ba.tid}|${ba.pid}/${ba.tid} → ${ab.pid}/${ab.tid})`);
      assert.match(r.stdout, cycle);
    } else {
      assert.equal(r.status, 4, `exit ${r.status}: ${r.stderr}`);
      assert.match(r.stderr, /^shmscope: \d+ process(es were| was) not read whole within the scan's budget \(pid [\d, …()a-z]+\): their waits are not shown, and no deadlock among them is ruled out\n$/);
    }
  });
});
