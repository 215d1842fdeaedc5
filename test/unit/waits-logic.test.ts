// The pure side of waits: naming mappings, /proc/locks, deadlock cycles, the Waits view's rows,
// the Wait-for Graph's model and its validators, and process addresses (offsets, not pointers).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cycles, objectOfMapping, parseProcLocks, type Wait } from '../../extension/src/analysis/waits';
import { addressToOffset, parseProcessAddress, pointerNote } from '../../extension/src/shared/address';
import { buildWaitGraph, validateGraphMessage, validateGraphPageMessage } from '../../extension/src/shared/waitgraph';
import { describe as describeNode, processNodes, waitChildren, waitersByTarget } from '../../extension/src/waits/model';

const wait = (o: Partial<Wait> & { pid: number; tid: number }): Wait => ({
  command: `./p${o.pid}`, thread: 'p', syscall: 'futex', object: { target: 'shm:7', kind: 'shm', id: 7, name: '0x00001234' }, offset: 0, path: null,
  op: 'mutex lock', since: null, heldBy: [], lastChangedBy: [], stuck: false, ownerDied: false, ...o,
});

const held = (pid: number, tid: number, alive = true) => ({ pid, tid, command: null, alive });

describe('naming what a mapping is', () => {
  test('System V, POSIX shm, named semaphores (also unlinked), memfd, anonymous, files, private', () => {
    assert.deepEqual(objectOfMapping('/SYSV00001234 (deleted)', 7, 'rw-s'), { target: 'shm:7', kind: 'shm', id: 7, name: '0x00001234' });
    assert.deepEqual(objectOfMapping('/dev/shm/ring', 99, 'rw-s'), { target: 'posix:/ring', kind: 'posix-shm', id: 99, name: '/ring' });
    assert.deepEqual(objectOfMapping('/dev/shm/sem.ready', 5, 'rw-s'), { target: 'psem:/ready', kind: 'posix-sem', id: 5, name: '/ready' });
    assert.deepEqual(objectOfMapping('/dev/shm/sem.ready (deleted)', 5, 'rw-s'), { target: null, kind: 'posix-sem', id: 5, name: '/ready (unlinked)' });
    assert.deepEqual(objectOfMapping('/memfd:pool (deleted)', 12, 'rw-s'), { target: 'memfd:12', kind: 'memfd', id: 12, name: 'memfd:pool (inode 12)' });
    assert.deepEqual(objectOfMapping('/dev/zero (deleted)', 3, 'rw-s'), { target: 'anon:3', kind: 'anon', id: 3, name: 'anonymous shared memory (inode 3)' });
    assert.deepEqual(objectOfMapping('/var/lib/db/lock.tbl', 44, 'rw-s'), { target: 'file:/var/lib/db/lock.tbl', kind: 'file', id: 44, name: '/var/lib/db/lock.tbl (inode 44)' });
    assert.equal(objectOfMapping('/usr/lib/libc.so.6', 44, 'r-xp'), undefined);
    assert.equal(objectOfMapping('[heap]', 0, 'rw-p'), undefined);
  });
});

test('/proc/locks: holders and blocked waiters by inode; garbage lines are skipped', () => {
  const text = ['1: POSIX  ADVISORY  WRITE 4242 00:1a:77 0 EOF', '1: -> POSIX  ADVISORY  WRITE 4243 00:1a:77 0 EOF', '2: FLOCK  ADVISORY  WRITE 11 fd:01:1234 0 EOF', 'garbage', '3: x'].join('\n');
  assert.deepEqual(parseProcLocks(text), [
    { pid: 4242, inode: 77, blocked: false, type: 'POSIX' },
    { pid: 4243, inode: 77, blocked: true, type: 'POSIX' },
    { pid: 11, inode: 1234, blocked: false, type: 'FLOCK' },
  ]);
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => Array.isArray(parseProcLocks(s))));
});

describe('deadlock cycles', () => {
  test('an AB–BA pair is one cycle, smallest TID first; a chain is none', () => {
    const ws = [wait({ pid: 20, tid: 21, heldBy: [held(10, 11)] }), wait({ pid: 10, tid: 11, heldBy: [held(20, 21)] }), wait({ pid: 30, tid: 31, heldBy: [held(10, 11)] })];
    assert.deepEqual(cycles(ws), [[{ pid: 10, tid: 11 }, { pid: 20, tid: 21 }]]);
  });
  test('a three-way cycle, and no cycle through a dead holder', () => {
    const ws = [wait({ pid: 1, tid: 1, heldBy: [held(2, 2)] }), wait({ pid: 2, tid: 2, heldBy: [held(3, 3)] }), wait({ pid: 3, tid: 3, heldBy: [held(1, 1)] })];
    assert.deepEqual(cycles(ws), [[{ pid: 1, tid: 1 }, { pid: 2, tid: 2 }, { pid: 3, tid: 3 }]]);
    assert.deepEqual(cycles([wait({ pid: 1, tid: 1, heldBy: [held(2, 2, false)] }), wait({ pid: 2, tid: 2, heldBy: [held(1, 1)] })]), []);
  });
});

describe('a semaphore has no owner', () => {
  const self = { pid: 30, tid: null, command: './consumer', alive: true };
  const consumer = wait({ pid: 30, tid: 30, object: { target: 'sem:3', kind: 'sem', id: 3, name: null }, offset: null, path: 'sem[1]', op: 'semtimedop 1:-1', syscall: 'semtimedop', lastChangedBy: [self] });
  const producer = wait({ pid: 40, tid: 40, object: { target: 'sem:3', kind: 'sem', id: 3, name: null }, offset: null, path: 'sem[0]', op: 'semtimedop 0:-1', syscall: 'semtimedop', lastChangedBy: [{ ...self, pid: 30 }] });
  const report = { waits: [consumer, producer], deadlocks: cycles([consumer, producer]), unreadable: 0, slow: [] };
  test('its last changer is never an edge of a cycle, even when it is the waiter itself', () => {
    assert.deepEqual(report.deadlocks, []);
  });
  test('a thread blocked on a mutex it owns itself (a normal mutex locked twice) is a cycle of one', () => {
    assert.deepEqual(cycles([wait({ pid: 5, tid: 5, heldBy: [held(5, 5)] })]), [[{ pid: 5, tid: 5 }]]);
  });
  test('the view shows the last changer as a hint, with no alarm; the graph draws no arrow back to the waiter', () => {
    assert.deepEqual(processNodes(report).map((p) => p.type === 'process' && p.alarm), [false, false]);
    const rows = waitChildren(consumer, false);
    assert.deepEqual(rows.map((r) => r.type), ['changer']);
    const d = describeNode(rows[0]!);
    assert.deepEqual([d.label, d.description, d.icon, d.alarm], ['last changed by pid 30 ./consumer', 'this process · a hint', 'history', undefined]);
    assert.equal(describeNode(waitChildren(producer, false)[0]!).description, 'a hint');
    const g = buildWaitGraph(report.waits, report.deadlocks);
    assert.deepEqual(g.nodes.filter((n) => n.state !== 'ok'), []);
    assert.deepEqual(g.edges.map((e) => [e.from, e.to, e.kind, e.inCycle]), [
      ['t:30/30', 'o:sem:3@', 'waits', false],
      ['t:40/40', 'o:sem:3@', 'waits', false],
      ['o:sem:3@', 't:30/30', 'changed', false],
    ]);
    assert.ok(validateGraphMessage({ type: 'graph', graph: g }));
    assert.equal(waitersByTarget(report).get('sem:3')?.alarm, false);
  });
});

describe('the Waits view and the graph', () => {
  const ws = [
    wait({ pid: 10, tid: 11, offset: 40, path: 'locks.b', heldBy: [{ pid: 20, tid: 21, command: './b', alive: true }] }),
    wait({ pid: 20, tid: 21, offset: 0, path: 'locks.a', heldBy: [{ pid: 10, tid: 11, command: './a', alive: true }] }),
    wait({ pid: 30, tid: 30, object: { target: 'sem:3', kind: 'sem', id: 3, name: null }, offset: null, path: 'sem[1]', op: 'semtimedop 1:-1', syscall: 'semtimedop', stuck: true }),
  ];
  const report = { waits: ws, deadlocks: [[{ pid: 10, tid: 11 }, { pid: 20, tid: 21 }]], unreadable: 0, slow: [] };
  test('rows: process → wait → holder, with the deadlock and stuck states', () => {
    const procs = processNodes(report);
    assert.deepEqual(procs.map((p) => [p.type === 'process' && p.pid, p.type === 'process' && p.alarm]), [[10, true], [20, true], [30, false]]);
    const d = describeNode({ type: 'wait', wait: ws[0]!, inDeadlock: true });
    assert.deepEqual([d.label, d.description, d.icon, d.alarm], ['shm:7 locks.b', 'tid 11 · mutex lock · deadlock', 'error', 'error']);
    const s = describeNode({ type: 'wait', wait: ws[2]!, inDeadlock: false });
    assert.deepEqual([s.label, s.description, s.alarm], ['sem:3 sem[1]', 'tid 30 · semtimedop 1:-1 · stuck', 'warning']);
    const h = describeNode({ type: 'holder', wait: ws[0]!, holder: ws[0]!.heldBy[0]!, inDeadlock: true });
    assert.equal(h.label, 'held by pid 20 · tid 21 ./b');
    assert.deepEqual([...waitersByTarget(report)], [['shm:7', { count: 2, alarm: true }], ['sem:3', { count: 1, alarm: false }]]);
  });
  test('graph: threads and objects, wait and hold edges, the cycle marked; it validates', () => {
    const g = buildWaitGraph(ws, report.deadlocks);
    assert.equal(g.summary, '3 waits · 1 deadlock');
    assert.deepEqual(g.nodes.filter((n) => n.kind === 'object').map((n) => n.label).sort(), ['sem:3 sem[1]', 'shm:7 locks.a', 'shm:7 locks.b']);
    assert.deepEqual(g.nodes.filter((n) => n.state === 'deadlock').map((n) => n.id).sort(), ['t:10/11', 't:20/21']);
    assert.equal(g.edges.filter((e) => e.inCycle).length, 4);
    assert.ok(validateGraphMessage({ type: 'graph', graph: g }));
    assert.equal(validateGraphMessage({ type: 'graph', graph: { ...g, edges: [{ from: 'nope', to: 't:10/11', kind: 'waits', label: '', inCycle: false }] } }), undefined);
    assert.equal(validateGraphMessage({ type: 'graph', graph: { ...g, nodes: [{ ...g.nodes[0], state: '<b>' }] } }), undefined);
    assert.deepEqual(validateGraphPageMessage({ type: 'open', target: 'shm:7', offset: 40 }), { type: 'open', target: 'shm:7', offset: 40 });
    for (const bad of [null, 1, { type: 'open', target: 'shm:7', offset: -1 }, { type: 'open', target: 7, offset: 1 }, { type: 'run' }]) assert.equal(validateGraphPageMessage(bad), undefined);
    fc.assert(fc.property(fc.anything(), (m) => { validateGraphMessage(m); validateGraphPageMessage(m); return true; }));
  });
});

test('the CLI table escapes command lines, thread names and object names from other processes', async () => {
  const { waitsText } = await import('../../extension/src/cli/commands/waits');
  const w = wait({ pid: 5, tid: 6, command: '\x1b[2J\nforged', thread: 'x', object: { target: null, kind: 'file', id: 9, name: '/tmp/a\rb (inode 9)' }, offset: 0 });
  const text = waitsText({ waits: [w], deadlocks: [], unreadable: 0, slow: [] });
  assert.ok(text.includes('\\x1b[2J\\nforged') && text.includes('/tmp/a\\rb (inode 9)'), text);
  assert.doesNotMatch(text, /[\x1b\r]/);
  assert.equal(text.split('\n').length, 3, 'a title, a header and one row');
});

describe('offsets, not pointers', () => {
  const views = [{ pid: 4242, start: 0x7f00_0000_0000n, end: 0x7f00_0000_1000n, offset: 0n }, { pid: 4243, start: 0x5500_0000_0000n, end: 0x5500_0000_2000n, offset: 0x1000n }];
  test('"pid N: 0xADDRESS" and its variants', () => {
    assert.deepEqual(parseProcessAddress('pid 4242: 0x7f0000000040'), { pid: 4242, address: 0x7f00_0000_0040n });
    assert.deepEqual(parseProcessAddress('4242:0x7f00_0000_0040'), { pid: 4242, address: 0x7f00_0000_0040n });
    for (const bad of ['0x40', 'pid : 0x1', 'pid 0: 0x10', 'hdr.head', 'pid 1: 0x1ffffffffffffffff']) assert.equal(parseProcessAddress(bad), undefined, bad);
  });
  test('an address becomes the offset as that process maps the object, or a sentence', () => {
    assert.deepEqual(addressToOffset(0x7f00_0000_0040n, 4242, views, 0x3000), { ok: true, offset: 0x40 });
    assert.deepEqual(addressToOffset(0x5500_0000_0010n, 4243, views, 0x3000), { ok: true, offset: 0x1010 });
    assert.match((addressToOffset(0x40n, 4242, views, 0x3000) as { message: string }).message, /outside pid 4242's mapping/);
    assert.match((addressToOffset(0x40n, 1, views, 0x3000) as { message: string }).message, /pid 1 does not map this object/);
  });
  test('a stored value equal to a mapped address is flagged; counts are not', () => {
    assert.equal(pointerNote(0x7f00_0000_0040n, views, 0x3000), 'pointer into this segment as mapped by pid 4242; offset 0x40');
    assert.equal(pointerNote(64n, views, 0x3000), undefined);
    assert.equal(pointerNote(0x7f00_0000_2000n, views, 0x3000), undefined);
  });
});
