// Program knowledge against the real programs, in namespaces of the test's own (IPC, mount and pid,
// with its own /proc and /dev/shm): a PostgreSQL 15 cluster running as the postgres user on a
// socket folder of the test, then killed with -9, which leaves its DSM control segment and its
// System V segment behind; Python multiprocessing's shared_memory block and semaphore of a live
// interpreter and of one killed with its resource tracker. Everything dies with the namespaces.
import { reexecInNamespaces } from '../helpers/private-ns';

reexecInNamespaces(
  'SHMSCOPE_PROGRAMS_NAMESPACE',
  { name: 'shmscope-programs', shmSize: '256m', pid: true },
  'the program tests need their own IPC, mount and pid namespace',
);

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { cli, ensureBuilt, ROOT, until } from '../helpers/ipc';
import { Cluster } from '../helpers/postgres';

const PORT = 54329;
const PYTHON = path.join(ROOT, 'test', 'fixtures', 'usage', 'python-mp.py');

interface Rec { name?: string; id?: number; key?: number; verdict: string; reasons: string[]; owner?: string }
type Listing = { posixShm: Rec[]; posixSem: Rec[]; shm: Rec[] };

function json<T>(args: string[]): T {
  const r = cli(args);
  assert.equal(r.status, 0, `shmscope ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
const list = () => json<Listing>(['list', '--json', '--kind', 'posix-shm']);
const all = () => {
  const shm = json<Listing>(['list', '--json', '--kind', 'shm']).shm;
  const posixShm = json<Listing>(['list', '--json', '--kind', 'posix-shm']).posixShm;
  const posixSem = json<Listing>(['list', '--json', '--kind', 'posix-sem']).posixSem;
  return { shm, posixShm, posixSem };
};

const children: ChildProcess[] = [];
const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

async function python(): Promise<{ child: ChildProcess; pid: number; shm: string; sem: string }> {
  // Its own process group: killing it kills the resource tracker too (else the tracker cleans up).
  const child = spawn('python3', [PYTHON], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`python exited (${code}) before it was ready`)));
  });
  return { child, ...(JSON.parse(line) as { pid: number; shm: string; sem: string }) };
}

let cluster: Cluster;

before(async () => {
  ensureBuilt();
  cluster = await Cluster.start(PORT);
});

after(async () => {
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      /* ended */
    }
  }
  await Promise.all(children.map(exited));
  await cluster?.stop();
});

describe('program knowledge on real programs', () => {
  it('a running PostgreSQL cluster: its DSM segments and System V segment are in use and named; a PostgreSQL.N its control table does not list is a leftover', () => {
    writeFileSync('/dev/shm/PostgreSQL.12345', Buffer.alloc(8192));
    const l = all();
    const ctl = l.posixShm.find((r) => r.owner?.startsWith('PostgreSQL DSM control segment'))!;
    assert.ok(ctl, 'the control segment is recognised by its magic');
    assert.equal(ctl.verdict, 'in use');
    assert.equal(ctl.owner, `PostgreSQL DSM control segment ${ctl.name!.slice(12)}`);
    // PostgreSQL 15 keeps a second segment mapped from the start (its statistics).
    const others = l.posixShm.filter((r) => r.name!.startsWith('/PostgreSQL.') && r !== ctl && r.name !== '/PostgreSQL.12345');
    for (const r of others) assert.deepEqual([r.verdict, r.owner], ['in use', `PostgreSQL DSM segment ${r.name!.slice(12)}`]);
    const seg = l.shm.find((r) => r.owner?.startsWith('PostgreSQL main shared memory'))!;
    assert.ok(seg, 'the System V segment is recognised by its magic');
    assert.equal(seg.verdict, 'in use');
    assert.match(seg.owner!, /^PostgreSQL main shared memory of postmaster pid \d+$/);
    const planted = l.posixShm.find((r) => r.name === '/PostgreSQL.12345')!;
    assert.equal(planted.verdict, 'leftover');
    assert.equal(planted.owner, 'PostgreSQL DSM segment 12345');
    assert.match(planted.reasons.join('; '), new RegExp(`PostgreSQL does not list it among its live objects \\(${ctl.name!.replace('.', '\\.')}\\)`));
  });

  it('Python multiprocessing: a live interpreter\'s shared_memory block and semaphore are in use; a killed one\'s are leftovers, named', async () => {
    const live = await python();
    const dead = await python();
    process.kill(-dead.child.pid!, 'SIGKILL');
    await exited(dead.child);
    const l = all();
    const find = (list: Rec[], name: string) => list.find((r) => r.name === name)!;
    const liveShm = find(l.posixShm, live.shm);
    assert.equal(liveShm.verdict, 'in use');
    assert.equal(liveShm.owner, `Python multiprocessing.shared_memory block ${live.shm.slice(1)}`);
    assert.match(liveShm.reasons[0]!, new RegExp(`mapped by pid ${live.pid} \\(python3\\)`));
    assert.equal(find(l.posixSem, live.sem).verdict, 'in use');
    const deadShm = find(l.posixShm, dead.shm);
    assert.equal(deadShm.verdict, 'leftover');
    assert.equal(deadShm.owner, `Python multiprocessing.shared_memory block ${dead.shm.slice(1)}`);
    const deadSem = find(l.posixSem, dead.sem);
    assert.equal(deadSem.verdict, 'leftover');
    assert.equal(deadSem.owner, `Python multiprocessing semaphore ${dead.sem.slice(1)}`);
  });

  it('PostgreSQL killed with -9 leaves its DSM control segment and System V segment: leftovers, and gc --yes removes exactly the leftovers', async () => {
    process.kill(-cluster.postmaster.pid!, 'SIGKILL');
    await exited(cluster.postmaster);
    // Its backends were killed with it; the last to go detaches the System V segment.
    await until('every PostgreSQL process is gone', () => list().posixShm.every((r) => !r.name!.startsWith('/PostgreSQL.') || r.verdict !== 'in use'), 30_000);
    const l = all();
    const pg = l.posixShm.filter((r) => r.name!.startsWith('/PostgreSQL.'));
    assert.equal(pg.length, 3, 'the control segment, the statistics segment and the planted one');
    for (const r of pg) assert.equal(r.verdict, 'leftover', `${r.name}: ${r.reasons.join('; ')}`);
    const seg = l.shm.find((r) => r.owner?.startsWith('PostgreSQL main shared memory'))!;
    assert.equal(seg.verdict, 'leftover', seg.reasons.join('; '));
    const inUse = [...l.posixShm, ...l.posixSem].filter((r) => r.verdict === 'in use').map((r) => r.name).sort();
    assert.equal(inUse.length, 2, `the live interpreter's block and semaphore: ${inUse.join(', ')}`);
    const done = json<{ candidates: { target: string; error: string | null }[] }>(['gc', '--json', '--yes']);
    assert.ok(done.candidates.every((c) => c.error === null));
    const after = all();
    assert.deepEqual([...after.posixShm, ...after.posixSem].map((r) => r.name).sort(), inUse, 'only the objects in use are left');
    assert.deepEqual(after.shm, [], 'the System V segment is removed');
  });
});
