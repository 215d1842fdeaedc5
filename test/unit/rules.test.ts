// Program knowledge (extension/src/analysis/rules.ts) on records and bytes made by hand: the shipped
// rules are valid, recognise their programs' objects and name their owners; a registry (PostgreSQL's
// DSM control segment) decides leftovers among unmapped segments; users' rules come first and a bad
// one is left out with a note. The real programs are in test/cli/programs.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadRules, recognise, ruleProblem, ruleRefiner, SHIPPED_RULES, waitMeaning } from '../../extension/src/analysis/rules';
import { verdictOf, type VerdictFacts } from '../../extension/src/analysis/verdict';
import type { FileRecord, IpcRecord, Listing, MemfdRecord, PosixSemRecord, PosixShmRecord, ShmRecord } from '../../extension/src/ipc/types';

const common = { key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600 };
const posix = (name: string, over: Partial<PosixShmRecord> = {}): PosixShmRecord => ({ kind: 'posix-shm', id: 7, ...common, name, mtime: null, size: 4096, attachedBy: [], fdHolders: [], ...over });
const listing = (posixShm: PosixShmRecord[], more: Partial<Listing> = {}): Listing => ({
  shm: [], sem: [], msg: [], posixShm, posixSem: [], posixMq: [], memfd: [], anon: [], file: [], ring: [], unreadableProcesses: 0, fdTablesRead: true, notes: [], ...more,
});
const facts = (refine?: VerdictFacts['refine']): VerdictFacts => ({ alive: (pid) => pid === 500, unread: { count: 0, pids: [] }, fdTablesRead: true, ...(refine ? { refine } : {}) });
const noBytes = () => undefined;

test('every shipped rule is valid, one file per program', () => {
  const programs = SHIPPED_RULES.map((r) => r.program);
  assert.deepEqual(programs, ['PostgreSQL', 'Python', 'JACK', 'PulseAudio/PipeWire', 'Chromium', 'LMDB', 'Fast-DDS', 'Boost.Interprocess']);
  for (const r of SHIPPED_RULES) assert.equal(ruleProblem(r), undefined, r.program);
  assert.match(ruleProblem({ program: 'x', objects: [{ owner: 'y', name: '(' }] })!, /objects\[0\]\.name/);
  assert.match(ruleProblem({ program: 'x', objects: [] })!, /non-empty/);
});

test('the shipped rules name owners in the user\'s terms', () => {
  const owner = (r: IpcRecord) => recognise(r, SHIPPED_RULES, noBytes)?.owner;
  assert.equal(owner(posix('/psm_1a2b3c4d')), 'Python multiprocessing.shared_memory block psm_1a2b3c4d');
  const sem: PosixSemRecord = { kind: 'posix-sem', id: 3, ...common, name: '/jack_sem.1000_default_system', mtime: null, attachedBy: [], value: 0, unreadable: null };
  assert.equal(owner(sem), 'JACK server "default" semaphore of client system');
  assert.equal(owner({ ...sem, name: '/mp-x1y2z3' }), 'Python multiprocessing semaphore mp-x1y2z3');
  assert.equal(owner(posix('/fastrtps_port7412')), 'Fast-DDS port 7412 segment');
  const memfd: MemfdRecord = { kind: 'memfd', id: 9, ...common, dev: 1, size: 8192, statKnown: true, name: 'shared-memory-region', fdHolders: [],
    attachedBy: [{ pid: 77, command: '/usr/lib/chromium/chromium --type=renderer', address: '0x1000', length: 8192, offset: 0, writable: true }] };
  assert.equal(owner(memfd), 'Chromium shared memory region of pid 77 (chromium)');
  assert.equal(owner({ ...memfd, attachedBy: [{ ...memfd.attachedBy[0]!, command: 'myapp' }] }), undefined, 'the same name from another program is not Chromium\'s');
  assert.equal(owner({ kind: 'file', id: 5, ...common, dev: 1, size: 8192, statKnown: true, path: '/var/lib/app/lock.mdb', deleted: false, attachedBy: [] }), 'LMDB lock table of /var/lib/app');
  const seg: ShmRecord = { kind: 'shm', id: 1, ...common, key: 5432001, cuid: 0, cgid: 0, ctime: null, size: 56, nattch: 0, cpid: 1, lpid: 1, atime: null, dtime: null, removed: false, attachedBy: [], hiddenAttachers: 0, orphan: true };
  const pgMagic = (r: IpcRecord) => (r.kind === 'shm' ? Uint8Array.from([0x0e, 0x75, 0x85, 0x28]) : undefined);
  assert.equal(recognise(seg, SHIPPED_RULES, pgMagic)?.owner, 'PostgreSQL main shared memory of postmaster pid 1');
  assert.equal(recognise({ ...seg, cpid: 4242 }, [{ program: 'X', objects: [{ kind: ['shm'], owner: 'app on port {key/1000}' }] }], noBytes)?.owner, 'app on port 5432');
  assert.equal(recognise(seg, SHIPPED_RULES, noBytes), undefined, 'without its magic a segment is nobody\'s');
});

/** A PostgreSQL DSM control segment listing `live` handles (refcnt 2) and one free slot. */
function control(live: number[]): Uint8Array {
  const b = Buffer.alloc(16 + (live.length + 1) * 40);
  b.writeUInt32LE(0x9a503d32, 0);
  b.writeUInt32LE(live.length + 1, 4);
  b.writeUInt32LE(64, 8);
  live.forEach((h, i) => {
    b.writeUInt32LE(h, 16 + i * 40);
    b.writeUInt32LE(2, 16 + i * 40 + 4);
  });
  b.writeUInt32LE(999, 16 + live.length * 40); // a free slot (refcnt 0): not live
  return b;
}

test('a registry decides: a PostgreSQL DSM segment the running cluster\'s control segment lists is in use, one it does not list is a leftover', () => {
  const ctl = posix('/PostgreSQL.100', { id: 1, attachedBy: [{ pid: 500, command: 'postgres' }] });
  const listed = posix('/PostgreSQL.111', { id: 2 });
  const stale = posix('/PostgreSQL.999', { id: 3 });
  const mapped = posix('/PostgreSQL.222', { id: 4, attachedBy: [{ pid: 500, command: 'postgres' }] });
  const l = listing([ctl, listed, stale, mapped]);
  const bytes = (r: IpcRecord) => (r === ctl ? control([111]) : undefined);
  const f = facts();
  f.refine = ruleRefiner(l, SHIPPED_RULES, f, bytes);
  assert.equal(verdictOf(ctl, f).owner, 'PostgreSQL DSM control segment 100');
  const a = verdictOf(listed, f);
  assert.equal(a.verdict, 'in use');
  assert.match(a.reasons.join('; '), /PostgreSQL lists it as live \(\/PostgreSQL\.100\)/);
  const b = verdictOf(stale, f);
  assert.equal(b.verdict, 'leftover');
  assert.equal(b.owner, 'PostgreSQL DSM segment 999');
  assert.match(b.reasons.join('; '), /does not list it among its live objects/);
  assert.equal(verdictOf(mapped, f).verdict, 'in use', 'a mapped segment stays in use whatever a table says');
  // A control segment nobody maps (its cluster was killed) lists what was live then: not believed.
  const dead = listing([posix('/PostgreSQL.100', { id: 1 }), listed]);
  const g = facts();
  g.refine = ruleRefiner(dead, SHIPPED_RULES, g, (r: IpcRecord) => (r.kind === 'posix-shm' && r.name === '/PostgreSQL.100' ? control([111]) : undefined));
  assert.equal(verdictOf(dead.posixShm[1]!, g).verdict, 'leftover');
  assert.doesNotMatch(verdictOf(dead.posixShm[1]!, g).reasons.join('; '), /lists it/);
});

test('slots, waits, inUseWith and a list of magics: an LMDB dead reader, an LMDB writer lock wait, a Fast-DDS port mutex, a Boost segment by its header', () => {
  assert.match(ruleProblem({ program: 'x', objects: [{ owner: 'y', slots: { count: 0, first: 0, stride: 0, pid: 0, says: '' } }] })!, /slots needs/);
  assert.match(ruleProblem({ program: 'x', objects: [{ owner: 'y', waits: [{ op: '(' , says: '' }] }] })!, /waits\[0\]\.op/);
  assert.match(ruleProblem({ program: 'x', objects: [{ owner: 'y', magic: [{ offset: 0, hex: 'zz' }] }] })!, /magic needs/);
  // lock.mdb: magic, 3 readers (the second's pid 4242 dead, the third's slot free).
  const lock = Buffer.alloc(128 + 3 * 64);
  lock.writeUInt32LE(0xbeefc0de, 0);
  lock.writeUInt32LE(3, 56);
  lock.writeInt32LE(500, 128 + 8);
  lock.writeInt32LE(4242, 192 + 8);
  const file: FileRecord = { kind: 'file', id: 5, ...common, dev: 1, size: lock.length, statKnown: true, path: '/var/lib/app/lock.mdb', deleted: false, attachedBy: [{ pid: 500, command: 'app', address: '0x1000', length: 4096, offset: 0, writable: true }] };
  const l = listing([], { file: [file] });
  const f = facts();
  f.refine = ruleRefiner(l, SHIPPED_RULES, f, (r, n) => (r === file ? lock.subarray(0, n) : undefined));
  const v = verdictOf(file, f);
  assert.equal(v.verdict, 'in use');
  assert.deepEqual(v.reasons.filter((r) => r.startsWith('LMDB')), ['LMDB reader slot 1 belongs to pid 4242, which is dead: it keeps its old snapshot\'s pages from reuse (the database grows) until mdb_reader_check (or `mdb_stat -rr /var/lib/app`) clears it']);
  const bad = Buffer.from(lock);
  bad.writeUInt32LE(0, 0);
  f.refine = ruleRefiner(l, SHIPPED_RULES, f, (r, n) => (r === file ? bad.subarray(0, n) : undefined));
  assert.deepEqual(verdictOf(file, f).reasons.filter((r) => r.startsWith('LMDB')), [], 'no table without its magic');

  const wait = { object: { kind: 'file', id: 5, name: '/var/lib/app/lock.mdb (inode 5)' }, offset: 64, op: 'mutex lock', pid: 600, command: 'app', heldBy: [{ pid: 500, command: 'app --serve', alive: true }] };
  const m = waitMeaning(wait, SHIPPED_RULES, noBytes)!;
  assert.equal(m.program, 'LMDB');
  assert.equal(m.owner, 'LMDB lock table of /var/lib/app');
  assert.match(m.says, /^LMDB's writer lock of \/var\/lib\/app .*: held by pid 500 \(app\)$/);
  assert.match(m.advice!, /when pid 500 \(app\) commits or aborts/);
  assert.equal(waitMeaning({ ...wait, offset: 200 }, SHIPPED_RULES, noBytes), undefined, 'a reader slot is no lock of LMDB\'s');
  assert.equal(waitMeaning({ ...wait, object: { kind: 'file', id: 5, name: '/var/lib/app/other (inode 5)' } }, SHIPPED_RULES, noBytes), undefined);

  const port = posix('/fastrtps_port7411', { id: 1, attachedBy: [{ pid: 500, command: 'talker' }] });
  const sem: PosixSemRecord = { kind: 'posix-sem', id: 2, ...common, name: '/fastrtps_port7411_mutex', mtime: null, attachedBy: [], value: 1, unreadable: null };
  const other: PosixSemRecord = { ...sem, id: 3, name: '/fastrtps_port7413_mutex' };
  const l2 = listing([port], { posixSem: [sem, other] });
  const g = facts();
  g.refine = ruleRefiner(l2, SHIPPED_RULES, g, noBytes);
  assert.equal(verdictOf(sem, g).verdict, 'in use');
  assert.match(verdictOf(sem, g).reasons.join('; '), /Fast-DDS uses it with \/fastrtps_port7411, which is mapped by pid 500 \(talker\)/);
  assert.equal(verdictOf(other, g).verdict, 'leftover', 'a port nobody maps');

  const header = Buffer.alloc(64);
  header.writeUInt32LE(2, 0);
  header.writeUInt32LE(0x80, 32);
  assert.equal(recognise(posix('/app'), SHIPPED_RULES, () => header)?.owner, 'Boost.Interprocess managed segment /app');
  assert.equal(recognise(posix('/fastrtps_port7411'), SHIPPED_RULES, () => header)?.owner, 'Fast-DDS port 7411 segment', 'Fast-DDS before Boost');
  header.writeUInt32LE(0, 32);
  assert.equal(recognise(posix('/app'), SHIPPED_RULES, () => header), undefined, 'every magic must match');
});

const home = mkdtempSync(path.join(tmpdir(), 'shmscope-rules-'));
after(() => rmSync(home, { recursive: true, force: true }));

test('users\' rules from ~/.config/shmscope/rules and the workspace come before the shipped ones; a bad one is a note', () => {
  const saved = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = path.join(home, 'config');
  try {
    mkdirSync(path.join(home, 'config', 'shmscope', 'rules'), { recursive: true });
    mkdirSync(path.join(home, 'ws', '.shmscope', 'rules'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'shmscope', 'rules', 'mine.json'), JSON.stringify({
      program: 'Telemetry', objects: [{ kind: ['posix-shm'], name: '^/psm_', owner: 'telemetry ring {name}', schema: 'ring.shms', inUseWhileRunning: '^node$' }],
    }));
    writeFileSync(path.join(home, 'ws', '.shmscope', 'rules', 'bad.json'), '{"program": "x"}');
    const notes: string[] = [];
    const rules = loadRules(path.join(home, 'ws'), notes);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /bad\.json is left out: "objects" must be a non-empty array/);
    const k = recognise(posix('/psm_0001'), rules, noBytes)!;
    assert.equal(k.owner, 'telemetry ring /psm_0001');
    assert.equal(k.schema, path.join(home, 'config', 'shmscope', 'rules', 'ring.shms'));
    // inUseWhileRunning: this test's own node process runs, so a leftover by the facts is in use.
    const l = listing([posix('/psm_0001')]);
    const f = facts();
    f.refine = ruleRefiner(l, rules, f, noBytes);
    const v = verdictOf(l.posixShm[0]!, f);
    assert.equal(v.verdict, 'in use');
    assert.match(v.reasons.join('; '), /Telemetry runs \(pid \d+, node\) and uses it without mapping it/);
  } finally {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved;
  }
});
