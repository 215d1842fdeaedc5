// `waits` on a machine with a container. The file runs in an IPC and mount namespace of its own
// (../hostile/namespace) that plays the host, where it makes segment 0 and semaphore set 0 and
// changes the set from a live process (this one). Inside it, a "container" with IPC, PID and mount
// namespaces of its own makes its own segment 0 and set 0: an AB–BA deadlock of two processes on
// mutexes in its segment, and a semop wait on its set. `waits` must report the container's waits on
// the container's objects (marked with its namespace), with host pids, live holders found through
// NSpid and the cycle, nothing on ours, and `--fail-on deadlock` must exit 3 for that deadlock only.
// A container process also stores a pointer into its own mapping of its segment 0, and we store the
// same value in ours: `decode` flags it in the container's segment (`--namespace`), never in ours,
// and Go to Offset by address finds no mapping of ours in the container's process.
// Everything dies with the namespaces; the processes are killed in `after`.
import '../hostile/namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import type { Wait } from '../../extension/src/analysis';
import { processViews } from '../../extension/src/analysis';
import { addressToOffset } from '../../extension/src/shared/address';
import { cli, ensureBuilt, ROOT, until } from '../helpers/ipc';

const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-waits-ns-'));
const exe = path.join(tmp, 'waiters');
let container: ChildProcess | undefined;
let ourShm = -1;
let ourSem = -1;

after(async () => {
  if (container && container.exitCode === null && container.signalCode === null) {
    const gone = once(container, 'exit');
    container.kill('SIGKILL'); // --kill-child: the container's init dies with it, and its PID namespace with it
    await gone;
  }
  if (ourShm >= 0) ipc.remove({ kind: 'shm', id: ourShm });
  if (ourSem >= 0) ipc.remove({ kind: 'sem', id: ourSem });
  rmSync(tmp, { recursive: true, force: true });
});

/** Host pid of the process whose innermost pid is `nsPid` in the PID namespace `pidNs` (through NSpid in /proc/PID/status). */
function hostPid(pidNs: string, nsPid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== pidNs) continue;
      const ids = /^NSpid:\s*([\d\s]+)$/m.exec(readFileSync(`/proc/${entry}/status`, 'latin1'))?.[1]?.trim().split(/\s+/).map(Number) ?? [];
      if (ids[ids.length - 1] === nsPid) return Number(entry);
    } catch {
      // ended meanwhile
    }
  }
  throw new Error(`no process ${nsPid} in ${pidNs}`);
}

type Ready = { pid: number; tid: number };
const inContainer: Record<string, Ready> = {};
let pointerBase = 0n;
let containerIpc = 0;

before(async () => {
  ensureBuilt();
  const cc = spawnSync('cc', ['-std=gnu11', '-O0', '-pthread', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'waits', 'waiters.c'), '-lrt'], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  // Ours: segment 0 and set 0 (this namespace is new: its first ids are 0), the set changed by us.
  ourShm = ipc.createShm({ key: 0, size: 4096, mode: 0o600 });
  ourSem = ipc.createSemSet({ key: 0, nsems: 1, mode: 0o600 });
  assert.deepEqual([ourShm, ourSem], [0, 0]);
  ipc.semPost(ourSem, 0);
  // The container: its own segment 0 and set 0; each process says "NAME ready PID TID" in its PID namespace.
  const script = [
    'set -e',
    `W=${exe}`,
    'shm=$(ipcmk -M 4096 | sed "s/[^0-9]//g"); sem=$(ipcmk -S 1 | sed "s/[^0-9]//g")',
    'echo "ids $shm $sem"',
    '$W init $shm',
    '$W ab $shm | sed -u "s/^/ab /" &',
    '$W ba $shm | sed -u "s/^/ba /" &',
    '$W semop $sem 0 self | sed -u "s/^/semop /" &',
    '$W pointer $shm | sed -u "s/^/pointer /" &',
    'wait',
  ].join('\n');
  container = spawn('unshare', ['--ipc', '--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: container.stdout! });
  let ids = '';
  for await (const line of lines) {
    if (line.startsWith('ids ')) ids = line.slice(4);
    const base = /^pointer base (0x[0-9a-f]+)$/.exec(line);
    if (base) pointerBase = BigInt(base[1]!);
    const m = /^(ab|ba|semop|pointer) ready (\d+) (\d+)$/.exec(line);
    if (m) inContainer[m[1]!] = { pid: Number(m[2]), tid: Number(m[3]) };
    if (Object.keys(inContainer).length === 4) break;
  }
  assert.equal(ids, '0 0', 'the container\'s objects have our ids');
  // Host pids: the container's init is unshare's child; its PID namespace is the container's.
  const init = Number(readFileSync(`/proc/${container.pid}/task/${container.pid}/children`, 'latin1').trim().split(/\s+/)[0]);
  const pidNs = readlinkSync(`/proc/${init}/ns/pid`);
  containerIpc = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${init}/ns/ipc`))![1]);
  for (const [name, r] of Object.entries(inContainer)) {
    const pid = hostPid(pidNs, r.pid);
    // The waiting thread is the main thread of each fixture: its TID is its pid.
    inContainer[name] = { pid, tid: r.tid === r.pid ? pid : hostPid(pidNs, r.tid) };
  }
});

function waitsJson(args: string[] = []): { waits: Wait[]; deadlocks: { pid: number; tid: number }[][] } {
  const r = cli(['waits', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('waits with a container that has objects with our ids', () => {
  it('reports the container\'s waits on the container\'s objects, with host pids, live holders and the cycle; nothing on ours', async () => {
    const { ab, ba, semop } = inContainer as Record<'ab' | 'ba' | 'semop', Ready>;
    const doc = await until('the three container threads are blocked', () => {
      const d = waitsJson();
      return [ab, ba, semop].every((t) => d.waits.some((w) => w.tid === t.tid && (w.syscall !== 'futex' || w.heldBy.length > 0))) ? d : undefined;
    }, 60_000);
    const of = (t: Ready) => doc.waits.find((w) => w.tid === t.tid)!;
    // The machine may run other tests' namespaces: only the container's waits and ours are looked at.
    const mine = doc.waits.filter((w) => w.object.namespace?.ipc === containerIpc);
    assert.deepEqual(mine.map((w) => w.tid).sort((x, y) => x - y), [ab.tid, ba.tid, semop.tid].sort((x, y) => x - y));
    const ours = doc.waits.filter((w) => !w.object.namespace && ['shm', 'sem', 'msg', 'posix-mq'].includes(w.object.kind));
    assert.deepEqual(ours, [], 'no wait is on an object of our IPC namespace');
    const [wAb, wBa, wSem] = [of(ab), of(ba), of(semop)];
    assert.deepEqual([wAb.pid, wAb.object.target, wAb.object.kind, wAb.offset, wAb.op], [ab.pid, 'shm:0', 'shm', 40, 'mutex lock']);
    assert.deepEqual([wBa.pid, wBa.object.target, wBa.offset], [ba.pid, 'shm:0', 0]);
    // The owners' TIDs in the container's memory are its own: translated to host pids, alive.
    assert.deepEqual(wAb.heldBy.map((h) => ({ pid: h.pid, tid: h.tid, alive: h.alive })), [{ pid: ba.pid, tid: ba.tid, alive: true }]);
    assert.deepEqual(wBa.heldBy.map((h) => ({ pid: h.pid, tid: h.tid, alive: h.alive })), [{ pid: ab.pid, tid: ab.tid, alive: true }]);
    assert.ok(wAb.heldBy[0]!.nsTid !== undefined && wAb.heldBy[0]!.nsTid !== ba.tid, 'the TID as the container counts it is kept beside');
    assert.deepEqual([wAb.ownerDied, wBa.ownerDied], [false, false]);
    const tids = new Set([ab.tid, ba.tid, semop.tid]);
    assert.deepEqual(doc.deadlocks.filter((c) => c.some((t) => tids.has(t.tid))), [[ab, ba].sort((x, y) => x.tid - y.tid)]);
    // The semop waits on the container's set 0, last changed by the waiter itself: never by us (we changed our set 0).
    assert.deepEqual([wSem.object.target, wSem.path], ['sem:0', 'sem[0]']);
    assert.match(wSem.op, /^sem(timed)?op 0:-1$/, 'glibc\'s semop is semtimedop');
    // Named as `list` names the namespace: by a process in it (the first, its init).
    assert.equal(wSem.object.namespace?.pid, wAb.object.namespace?.pid);
    assert.deepEqual(wSem.lastChangedBy.map((h) => ({ pid: h.pid, alive: h.alive })), [{ pid: semop.pid, alive: true }]);
    assert.deepEqual(wSem.heldBy, []);
    assert.ok(!doc.waits.some((w) => w.pid === process.pid || w.lastChangedBy.some((h) => h.pid === process.pid)), 'nothing of ours');
    // The text marks the container's objects, names the deadlock, and --fail-on deadlock exits 3 for it.
    const text = cli(['waits']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${semop.pid}\\s+${semop.tid}\\s+.*sem:0 \\[namespace .* \\(ipc ${containerIpc}, pid \\d+\\)\\]`));
    assert.doesNotMatch(text.stdout, new RegExp(`owner died: (${ab.pid}|${ba.pid}|${semop.pid})/`));
    assert.doesNotMatch(text.stdout, /run as their owner or root/);
    const fail = cli(['waits', '--fail-on', 'deadlock']);
    assert.equal(fail.status, 3, fail.stderr);
    assert.match(fail.stdout, new RegExp(`deadlock: ${[ab, ba].sort((x, y) => x.tid - y.tid).map((t) => `${t.pid}/${t.tid}`).join(' → ')}`));
    // Our objects have no waiters: the container's semop is not on our set.
    assert.deepEqual(ipc.semGet(ourSem).ncnt, [0]);
  });

  it('flags a pointer only in the segment it points into: the container\'s (decode --namespace), never ours with the same id', async () => {
    const { pointer } = inContainer as Record<'pointer', Ready>;
    const value = pointerBase + 0x40n;
    // Our segment 0 holds the same value at the same place (struct Locks' self_ptr, 0x118).
    const ours = ipc.openShm({ kind: 'shm', id: ourShm }, { readWrite: true });
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(value);
    ours.write(0x118, bytes);
    ours.close();
    const schema = path.join(tmp, 'ptr.shms');
    writeFileSync(schema, 'segment P for id 0 { uint64_t self_ptr @ 0x118; };\n');
    const note = `pointer into this segment as mapped by pid ${pointer.pid}; offset 0x40`;
    const theirs = cli(['decode', 'shm:0', '--schema', schema, '--namespace', String(pointer.pid)]);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.match(theirs.stdout, new RegExp(`self_ptr: uint64_t = ${value} \\(${note.replace(/[()]/g, '\\$&')}\\)`));
    const mine = cli(['decode', `shm:${ourShm}`, '--schema', schema]);
    assert.equal(mine.status, 0, mine.stderr);
    assert.match(mine.stdout, new RegExp(`self_ptr: uint64_t = ${value}$`, 'm'));
    assert.doesNotMatch(mine.stdout + mine.stderr, /pointer into/);
    // Go to Offset by the container process's address: it does not map our segment.
    const views = await processViews(`shm:${ourShm}`);
    assert.ok(!views.some((v) => v.pid === pointer.pid), JSON.stringify(views.map((v) => v.pid)));
    assert.deepEqual(addressToOffset(value, pointer.pid, views, 4096), { ok: false, message: `pid ${pointer.pid} does not map this object` });
  });
});
