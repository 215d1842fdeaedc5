// The verdict function (extension/src/analysis/verdict.ts) on records made by hand: each kind's
// in use / leftover / unknown, its reasons in words, fd-only holders, unreadable processes named,
// waits and program knowledge. No kernel objects: liveness is supplied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holdersOf, holdersOfTarget, listingFacts, verdictLine, verdictOf, waitsByTarget, type VerdictFacts } from '../../extension/src/analysis/verdict';
import type { Listing, MsgRecord, PosixMqRecord, PosixShmRecord, SemRecord, ShmRecord } from '../../extension/src/ipc/types';

const LIVE = new Set([100, 200, 300]);
const facts = (over: Partial<VerdictFacts> = {}): VerdictFacts => ({
  alive: (pid) => LIVE.has(pid),
  command: (pid) => (pid === 100 ? 'python3' : undefined),
  unread: { count: 0, pids: [] },
  fdTablesRead: true,
  ...over,
});

const common = { key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600 };
const shm = (over: Partial<ShmRecord>): ShmRecord => ({
  kind: 'shm', id: 5, ...common, cuid: 0, cgid: 0, ctime: null, size: 4096, nattch: 0, cpid: 4242, lpid: 0, atime: null, dtime: null,
  removed: false, attachedBy: [], hiddenAttachers: 0, orphan: false, ...over,
});
const posix = (over: Partial<PosixShmRecord>): PosixShmRecord => ({ kind: 'posix-shm', id: 77, ...common, name: '/ring', mtime: null, size: 65536, attachedBy: [], fdHolders: [], ...over });
const sem = (over: Partial<SemRecord>): SemRecord => ({
  kind: 'sem', id: 3, ...common, cuid: 0, cgid: 0, ctime: null, nsems: 2, values: [1, 0], ncnt: [0, 0], zcnt: [0, 0], pids: [0, 0], otime: null, unreadable: null, ...over,
});
const msg = (over: Partial<MsgRecord>): MsgRecord => ({
  kind: 'msg', id: 9, ...common, cuid: 0, cgid: 0, ctime: null, messages: 0, bytes: 0, qbytes: 16384, lspid: 0, lrpid: 0, stime: null, rtime: null, ...over,
});

test('a System V segment: attached or with a live creator is in use; with neither it is a leftover, said why', () => {
  const attached = verdictOf(shm({ nattch: 2, attachedBy: [{ pid: 100, command: 'python3' }], hiddenAttachers: 1 }), facts());
  assert.equal(attached.verdict, 'in use');
  assert.deepEqual(attached.reasons, ['attached by pid 100 (python3)', '1 attachment(s) the kernel counts by processes we cannot see']);
  const creator = verdictOf(shm({ cpid: 100 }), facts());
  assert.equal(creator.verdict, 'in use');
  assert.match(creator.reasons[0]!, /creator pid 100 \(python3\) still runs and may attach again/);
  const lastAttacher = verdictOf(shm({ cpid: 4242, lpid: 200 }), facts());
  assert.equal(lastAttacher.verdict, 'in use');
  const left = verdictOf(shm({ cpid: 4242, lpid: 4243 }), facts());
  assert.equal(left.verdict, 'leftover');
  assert.equal(verdictLine(left), 'leftover: created by pid 4242, exited; nothing is attached (the kernel counts 0 attachments)');
  // nattch is the kernel's own count: unreadable processes do not make it unknown.
  assert.equal(verdictOf(shm({}), facts({ unread: { count: 3, pids: [7, 8, 9] } })).verdict, 'leftover');
  assert.equal(verdictOf(shm({ cpid: 0 }), facts()).verdict, 'unknown');
});

test('a POSIX object held only by an open descriptor is in use, and names its holder as such', () => {
  const held = posix({ fdHolders: [{ pid: 200, command: 'holder', fd: 7 }] });
  const v = verdictOf(held, facts());
  assert.equal(v.verdict, 'in use');
  assert.deepEqual(v.reasons, ['held open (a descriptor, not mapped) by pid 200 (holder)']);
  assert.deepEqual(holdersOf(held), [{ pid: 200, command: 'holder', how: 'fd' }]);
  // Mapped and held by the same process: one holder, by its mapping.
  const both = posix({ attachedBy: [{ pid: 200, command: 'holder' }], fdHolders: [{ pid: 200, command: 'holder', fd: 7 }, { pid: 300, command: 'other', fd: 3 }] });
  assert.deepEqual(holdersOf(both).map((h) => `${h.pid} ${h.how}`), ['200 map', '300 fd']);
  assert.deepEqual(verdictOf(both, facts()).reasons, ['mapped by pid 200 (holder)', 'held open (a descriptor, not mapped) by pid 300 (other)']);
});

test('a POSIX object nobody holds is a leftover only when every process was read; else unknown, naming which were not', () => {
  assert.equal(verdictOf(posix({}), facts()).verdict, 'leftover');
  const unknown = verdictOf(posix({}), facts({ unread: { count: 2, pids: [31, 32] } }));
  assert.equal(unknown.verdict, 'unknown');
  assert.match(unknown.reasons.join('; '), /2 process\(es\) could not be read \(pid 31, 32\)/);
  const noFds = verdictOf(posix({ fdHolders: undefined }), facts({ fdTablesRead: false }));
  assert.equal(noFds.verdict, 'unknown');
  assert.match(noFds.reasons.join(' '), /descriptors were not looked for/);
});

test('System V semaphores and queues: waiters and live last users mean in use; never used is unknown; dead users leftover', () => {
  assert.equal(verdictOf(sem({ ncnt: [1, 0] }), facts()).verdict, 'in use');
  assert.equal(verdictOf(sem({ pids: [4242, 100] }), facts()).verdict, 'in use');
  assert.equal(verdictOf(sem({}), facts()).verdict, 'unknown');
  assert.equal(verdictOf(sem({ unreadable: 'EACCES' }), facts()).verdict, 'unknown');
  const left = verdictOf(sem({ pids: [4242, 4242] }), facts());
  assert.equal(left.verdict, 'leftover');
  assert.deepEqual(left.reasons, ['last changed by pid 4242, exited', 'nobody waits on it']);
  assert.equal(verdictOf(msg({ lspid: 200 }), facts()).verdict, 'in use');
  assert.equal(verdictOf(msg({}), facts()).verdict, 'unknown');
  const q = verdictOf(msg({ lspid: 4242, lrpid: 4243, messages: 3 }), facts());
  assert.equal(q.verdict, 'leftover');
  assert.deepEqual(q.reasons, ['last used by pid 4242, pid 4243, exited', '3 message(s) nobody received']);
  const mq: PosixMqRecord = { kind: 'posix-mq', id: 1, ...common, name: '/q', mtime: null, maxMessages: 10, messageSize: 8, messages: 0, notifyPid: 300, unreadable: null };
  assert.equal(verdictOf(mq, facts()).verdict, 'in use');
  assert.equal(verdictOf({ ...mq, notifyPid: null }, facts()).verdict, 'unknown', 'descriptors not looked for');
  assert.equal(verdictOf({ ...mq, notifyPid: null, fdHolders: [] }, facts()).verdict, 'leftover');
  assert.deepEqual(verdictOf({ ...mq, notifyPid: null, fdHolders: [{ pid: 200, command: 'worker', fd: 4 }] }, facts()).reasons, ['held open (a descriptor, not mapped) by pid 200 (worker)']);
});

test('a waiter or lock holder from the waits analysis makes an object in use; program knowledge refines last', () => {
  const waits = waitsByTarget({
    waits: [{ pid: 200, command: 'worker', op: 'sem wait', object: { target: 'posix:/ring' }, heldBy: [{ pid: 300, command: 'owner', alive: true }] }],
  });
  const v = verdictOf(posix({}), facts({ waits }));
  assert.equal(v.verdict, 'in use');
  assert.deepEqual(v.reasons, ['pid 200 (worker) waits on it (sem wait)', 'pid 300 (owner) holds a lock in it']);
  const refined = verdictOf(posix({ attachedBy: [{ pid: 100, command: 'python3' }] }), facts({
    refine: (rec, verdict) => ({ ...verdict, owner: `Python shared_memory ${(rec as PosixShmRecord).name}` }),
  }));
  assert.equal(verdictLine(refined), 'Python shared_memory /ring: in use: mapped by pid 100 (python3)');
});

test('listingFacts: the listing\'s unreadable and slow processes are named, commands come from its holders, liveness is memoised', () => {
  let asked = 0;
  const l: Listing = {
    shm: [], sem: [], msg: [], posixShm: [posix({ attachedBy: [{ pid: 555, command: 'srv' }] })], posixSem: [], posixMq: [], memfd: [], anon: [], file: [], ring: [],
    unreadableProcesses: 1, unreadablePids: [40], slow: [41], fdTablesRead: true, notes: [],
  };
  const f = listingFacts(l, { alive: () => (asked++, true) });
  assert.deepEqual(f.unread, { count: 2, pids: [40, 41] });
  assert.equal(f.command?.(555), 'srv');
  f.alive(9);
  f.alive(9);
  assert.equal(asked, 1);
  assert.equal(verdictOf(posix({}), f).verdict, 'unknown');
});

test('reasons name a program by its base name, not its whole command line', () => {
  const v = verdictOf(posix({ attachedBy: [{ pid: 100, command: '/usr/bin/python3 -c import time; time.sleep(9)' }] }), facts());
  assert.deepEqual(v.reasons, ['mapped by pid 100 (python3)']);
});

test('holdersOfTarget: the holders of the object a target names, never those of another namespace\'s object of the same id', () => {
  const ns = { ipc: 4026532999, pid: 900, label: 'box' };
  const l: Listing = {
    shm: [shm({ id: 5, attachedBy: [{ pid: 100, command: 'ours' }] })], sem: [], msg: [],
    posixShm: [posix({ attachedBy: [{ pid: 200, command: 'writer' }], fdHolders: [{ pid: 300, command: 'reader', fd: 4 }] })],
    posixSem: [], posixMq: [], memfd: [], anon: [], file: [], ring: [],
    unreadableProcesses: 0, unreadablePids: [], slow: [], fdTablesRead: true, notes: [],
    namespaces: [{ namespace: ns, shm: [{ ...shm({ id: 6, attachedBy: [{ pid: 901, command: 'theirs' }] }), namespace: ns }], sem: [], msg: [], posixShm: [], unlisted: null }],
  };
  assert.deepEqual(holdersOfTarget(l, 'posix:/ring').map((h) => `${h.pid} ${h.how}`), ['200 map', '300 fd']);
  assert.deepEqual(holdersOfTarget(l, 'shm:5').map((h) => h.command), ['ours']);
  // shm:6 exists only in another IPC namespace: its process maps that namespace's segment, not one of ours.
  assert.deepEqual(holdersOfTarget(l, 'shm:6'), []);
  assert.deepEqual(holdersOfTarget(l, 'posix:/other'), []);
});
