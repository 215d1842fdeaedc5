// The pure side of the other waits and of what to do about a dead owner: the advice for a robust
// mutex, a non-robust one and a System V semaphore whose last changer died; the Waits view's
// collapsed "Other waits" group and its rows; durations said for people.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adviceOf, durationText, type OtherWait, type Wait, type WaitsReport } from '../../extension/src/analysis';
import { describe as describeNode, processNodes, waitNodes } from '../../extension/src/waits/model';

const wait = (o: Partial<Wait> & { pid: number; tid: number }): Wait => ({
  command: `./p${o.pid}`, thread: 'p', syscall: 'futex', object: { target: 'shm:7', kind: 'shm', id: 7, name: '0x00001234' }, offset: 0, path: null,
  op: 'mutex lock', since: null, heldBy: [], lastChangedBy: [], stuck: false, ownerDied: false, ...o,
});
const dead = { pid: 99, tid: 99, command: null, alive: false };
const report = (waits: Wait[], others: OtherWait[] = [], otherBlocked = others.length): WaitsReport => ({ waits, deadlocks: [], unreadable: 0, slow: [], others, otherBlocked, blockedTimes: true });

describe('what to do about a dead owner', () => {
  test('a robust mutex: the next locker gets EOWNERDEAD and must call pthread_mutex_consistent', () => {
    const w = wait({ pid: 1, tid: 1, heldBy: [dead], ownerDied: true, lock: { primitive: 'mutex', locked: true, robust: true, ownerDied: true, text: '' } });
    assert.match(adviceOf(w, report([w]))!, /next locker gets EOWNERDEAD .* pthread_mutex_consistent/);
  });

  test('a non-robust mutex: locked forever, the processes waiting on it named to restart', () => {
    const a = wait({ pid: 3, tid: 3, heldBy: [dead], ownerDied: true, lock: { primitive: 'mutex', locked: true, robust: false, text: '' } });
    const b = wait({ pid: 2, tid: 5, heldBy: [dead], ownerDied: true });
    const other = wait({ pid: 4, tid: 4, offset: 40, heldBy: [dead], ownerDied: true });
    assert.match(adviceOf(a, report([a, b, other]))!, /stays locked forever.*must restart \(waiting on it now: pid 2, 3\)/);
  });

  test('taken after its owner died and not made consistent; not recoverable', () => {
    const w = wait({ pid: 1, tid: 1, lock: { primitive: 'mutex', locked: true, robust: true, inconsistent: true, text: '' } });
    assert.match(adviceOf(w, report([w]))!, /must .* call pthread_mutex_consistent before unlocking/);
    const n = wait({ pid: 1, tid: 1, lock: { primitive: 'mutex', locked: false, robust: true, notRecoverable: true, text: '' } });
    assert.match(adviceOf(n, report([n]))!, /ENOTRECOVERABLE/);
  });

  test('a System V semaphore last changed by a dead process: SEM_UNDO unknown, how to post it', () => {
    const w = wait({ pid: 1, tid: 1, syscall: 'semop', object: { target: 'sem:3', kind: 'sem', id: 3, name: null }, offset: null, path: 'sem[1]', op: 'semop 1:-1', lastChangedBy: [dead] });
    const a = adviceOf(w, report([w]))!;
    assert.match(a, /pid 99, which no longer exists/);
    assert.match(a, /SEM_UNDO.*unknown/);
    assert.match(a, /shmscope sem sem:3 post 1\)$/);
    assert.equal(adviceOf({ ...w, lastChangedBy: [{ ...dead, alive: true }] }, report([w])), undefined);
  });

  test('the Waits view tooltip says it; a live holder has no advice', () => {
    const w = wait({ pid: 1, tid: 1, heldBy: [dead], ownerDied: true, blockedMs: 65_000, lock: { primitive: 'mutex', locked: true, robust: true, text: 'locked' } });
    const [node] = waitNodes(report([w]), [w]);
    const d = describeNode(node!);
    assert.match(d.tooltip, /\nblocked for 1 min 5 s\n/);
    assert.match(d.tooltip, /\nWhat to do: the owner died holding this robust mutex/);
    // A program's rule names the wait in its terms, and its advice is said when the kernel's facts call for none.
    const lmdb = wait({ pid: 1, tid: 1, heldBy: [{ ...dead, pid: 7, alive: true }], meaning: { program: 'LMDB', owner: 'LMDB lock table of /db', says: 'LMDB\'s writer lock of /db: held by pid 7 (app)', advice: 'one write transaction at a time' } });
    const t = describeNode(waitNodes(report([lmdb]), [lmdb])[0]!).tooltip;
    assert.match(t, /\nLMDB lock table of \/db: LMDB's writer lock of \/db: held by pid 7 \(app\)\n/);
    assert.match(t, /\nWhat to do: one write transaction at a time$/);
    const live = wait({ pid: 1, tid: 1, heldBy: [{ ...dead, alive: true }] });
    assert.equal(waitNodes(report([live]), [live])[0]!.type === 'wait' && 'advice' in waitNodes(report([live]), [live])[0]!, false);
  });
});

describe('other waits in the Waits view', () => {
  const pipe: OtherWait = {
    pid: 10, tid: 10, command: './reader', thread: 'reader', syscall: 'read', wchan: 'anon_pipe_read', state: 'S', kind: 'pipe',
    on: 'pipe 77 (fd 3, read)', peers: [{ pid: 11, fd: 4, command: './writer', end: 'write' }], blockedMs: 41_000,
  };

  test('one collapsed group after the processes, counting them; each row says the call, what, the other end and how long', () => {
    const nodes = processNodes(report([wait({ pid: 1, tid: 1 })], [pipe]));
    assert.deepEqual(nodes.map((n) => n.type), ['process', 'others']);
    const group = describeNode(nodes[1]!);
    assert.deepEqual([group.label, group.description, group.alarm], ['Other waits', '1 thread blocked outside IPC objects', undefined]);
    const row = describeNode({ type: 'other', other: pipe });
    assert.equal(row.label, 'pid 10 read');
    assert.equal(row.description, 'pipe 77 (fd 3, read) ← pid 11 ./writer (write end) · 41 s');
    assert.match(row.tooltip, /kernel wait channel anon_pipe_read\nwaits on pipe 77 \(fd 3, read\)\nother end: pid 11/);
  });

  test('without --all the group still counts them; none at all, no group', () => {
    const counted = processNodes(report([], [], 5));
    assert.deepEqual(counted.map((n) => n.type === 'others' && n.count), [5]);
    assert.deepEqual(processNodes(report([], [], 0)), []);
  });

  test('a scan that ran out of time says so first, as a warning row naming the processes; a whole scan has no such row', () => {
    const slow = { ...report([wait({ pid: 1, tid: 1 })], [], 3), slow: [4242, 4343] };
    const nodes = processNodes(slow);
    assert.deepEqual(nodes.map((n) => n.type), ['slow', 'process', 'others']);
    const row = describeNode(nodes[0]!);
    assert.deepEqual([row.label, row.description, row.alarm, row.icon], ['Scan incomplete', '2 processes not read in time', 'warning', 'warning']);
    assert.match(row.tooltip, /^2 processes were not read whole within the scan's budget \(pid 4242, 4343\): their waits are not shown, and no deadlock among them is ruled out\./);
    assert.deepEqual(processNodes({ ...report([], [], 0), slow: [7] }).map((n) => n.type === 'slow' && describeNode(n).description), ['1 process not read in time']);
    assert.ok(!processNodes(report([wait({ pid: 1, tid: 1 })])).some((n) => n.type === 'slow'));
  });

  test('durations', () => {
    assert.deepEqual([durationText(null), durationText(850.4), durationText(12_000), durationText(184_000), durationText(7_500_000), durationText(90_000_000)], ['?', '850 ms', '12 s', '3 min 4 s', '2 h 5 min', '1 d 1 h']);
  });
});

describe('the Wait-for Graph draws pipe and socket peers', () => {
  test('a reader → the process holding the other end, labelled; the peer node is its main thread; the waiter itself is no peer', async () => {
    const { buildWaitGraph, validateGraphMessage } = await import('../../extension/src/shared/waitgraph');
    const g = buildWaitGraph([], [], [
      { pid: 10, tid: 10, command: './reader', thread: 'reader', kind: 'pipe', on: 'pipe 77 (fd 3, read)', peers: [{ pid: 11, command: './writer' }, { pid: 10, command: './reader' }] },
      { pid: 20, tid: 21, command: './client', thread: 'io', kind: 'socket', on: 'socket 5 (fd 3, read), peer socket 6', peers: [{ pid: 22, command: './server' }] },
    ]);
    assert.deepEqual(g.edges.map((e) => [e.from, e.to, e.kind, e.label]), [
      ['t:10/10', 't:11/11', 'peer', 'pipe 77 (fd 3, read)'],
      ['t:20/21', 't:22/22', 'peer', 'socket 5 (fd 3, read)'],
    ]);
    assert.deepEqual(g.nodes.find((n) => n.id === 't:22/22'), { id: 't:22/22', kind: 'thread', pid: 22, tid: 22, label: 'pid 22 · tid 22', detail: './server', state: 'ok' });
    assert.equal(g.summary, '0 waits · 2 pipe or socket peers');
    assert.ok(validateGraphMessage({ type: 'graph', graph: g }));
  });

  test('the page may ask for a thread\'s stack, with ids in range only', async () => {
    const { validateGraphPageMessage } = await import('../../extension/src/shared/waitgraph');
    assert.deepEqual(validateGraphPageMessage({ type: 'stack', pid: 4, tid: 5 }), { type: 'stack', pid: 4, tid: 5 });
    for (const bad of [{ type: 'stack', pid: 0, tid: 5 }, { type: 'stack', pid: 4 }, { type: 'stack', pid: 4, tid: 2 ** 31 }, { type: 'stack', pid: '4', tid: 5 }]) {
      assert.equal(validateGraphPageMessage(bad), undefined, JSON.stringify(bad));
    }
  });
});
