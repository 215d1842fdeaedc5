// The PostgreSQL decoder on a region built here with the shipped layouts: a backend waiting for a
// transaction lock another holds, then the same region corrupted (wrong magic, a PGPROC count past
// the region, a hash chain and a lock list that loop, random bytes): every one a diagnostic or a
// partial answer, never a throw or a hang.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildWaitGraph } from '../../extension/src/shared/waitgraph';
import { decodePostgres, eventOf, knownMajors, layoutFor, stateOf, tagText, unknownVersionNote, type PgMemory } from '../../extension/src/analysis/postgres';

const L = layoutFor(15)!;
const BASE = 0x7f00_0000_0000n;
const SIZE = 0x10000;
const [INDEX, SEG, ELEM, PROCHDR, PROCS, LOCK, PROCLOCK] = [0x100, 0x800, 0x900, 0x1000, 0x2000, 0x5000, 0x6000];
const addr = (off: number) => BASE + BigInt(off);
const XID = Number(Object.entries(L.names.locktags).find(([, n]) => n === 'transactionid')![0]);

/** Three PGPROCs: pid 100 idle (Client/ClientRead), pid 101 waiting for ShareLock on transaction 745, held Exclusive by pid 102. */
function region(): Uint8Array {
  const b = new Uint8Array(SIZE);
  const v = new DataView(b.buffer);
  const ptr = (off: number, to: number) => v.setBigUint64(off, addr(to), true);
  v.setInt32(0, L.magic, true);
  ptr(L.header.index, INDEX);
  const H = L.hash;
  v.setBigInt64(INDEX + H.dsize, 1n, true);
  v.setBigInt64(INDEX + H.nsegs, 1n, true);
  v.setUint32(INDEX + H.maxBucket, 0, true);
  v.setBigInt64(INDEX + H.keysize, BigInt(L.entry.keysize), true);
  v.setBigInt64(INDEX + H.entrysize, BigInt(L.entry.size), true);
  v.setBigInt64(INDEX + H.ssize, 1n, true);
  v.setInt32(INDEX + H.sshift, 0, true);
  ptr(INDEX + H.size, SEG); // the directory follows the header
  ptr(SEG, ELEM);
  const entry = ELEM + ((L.element.size + 7) & ~7);
  b.set(Buffer.from('Proc Header'), entry + L.entry.key);
  ptr(entry + L.entry.location, PROCHDR);
  ptr(PROCHDR + L.procHeader.allProcs, PROCS);
  v.setUint32(PROCHDR + L.procHeader.allProcCount, 3, true);
  const P = L.proc;
  const proc = (i: number) => PROCS + i * P.size;
  for (const [i, pid] of [[0, 100], [1, 101], [2, 102]] as const) v.setInt32(proc(i) + P.pid, pid, true);
  v.setUint32(proc(0) + P.waitEventInfo, 0x0600_0000, true);
  v.setUint32(proc(1) + P.waitEventInfo, 0x0300_0000 | XID, true);
  ptr(proc(1) + P.waitLock, LOCK);
  v.setInt32(proc(1) + P.waitLockMode, 5, true);
  // The lock: transaction 745; one holder (pid 102, ExclusiveLock); one waiter (pid 101).
  v.setUint32(LOCK + L.lock.tag + L.tag.field1, 745, true);
  v.setUint8(LOCK + L.lock.tag + L.tag.type, XID);
  const holders = LOCK + L.lock.procLocks;
  const link = PROCLOCK + L.procLock.lockLink;
  ptr(holders + L.queue.next, link);
  ptr(link + L.queue.next, holders);
  ptr(PROCLOCK + L.procLock.myProc, proc(2));
  v.setUint32(PROCLOCK + L.procLock.holdMask, 1 << 7, true);
  const waiters = LOCK + L.lock.waitProcs;
  ptr(waiters + L.queue.next, proc(1) + P.links);
  ptr(proc(1) + P.links + L.queue.next, waiters);
  return b;
}

function memory(b: Uint8Array): PgMemory {
  return {
    size: b.length,
    read: (o, l) => b.subarray(o, o + l),
    offsetOf: (a) => (a >= BASE && a < BASE + BigInt(b.length) ? Number(a - BASE) : undefined),
  };
}

describe('PostgreSQL decoder', () => {
  it('reads the backends, the lock asked for and who blocks it', () => {
    const d = decodePostgres(L, memory(region()));
    assert.deepEqual(d.diagnostics, []);
    assert.deepEqual(d.backends.map((x) => [x.pid, x.waitEventType, x.waitEvent]), [[100, 'Client', 'ClientRead'], [101, 'Lock', 'transactionid'], [102, null, null]]);
    assert.deepEqual(d.backends[1]!.lock, { offset: LOCK, tag: { locktype: 'transactionid', transactionid: 745 }, mode: 'ShareLock', blockedBy: [102] });
    assert.equal(tagText(d.backends[1]!.lock.tag), 'transactionid 745');
  });

  it('names events, tranches and states as PostgreSQL does', () => {
    assert.deepEqual(eventOf(L.names, 0x0100_0000 | 48), { waitEventType: 'LWLock', waitEvent: 'XactBuffer' });
    assert.deepEqual(eventOf(L.names, 0x0100_0000 | 8), { waitEventType: 'LWLock', waitEvent: 'WALWrite' });
    const tranche = Object.entries(L.names.tranches).find(([, n]) => n === 'BufferMapping');
    assert.ok(tranche, 'BufferMapping is a tranche');
    assert.equal(eventOf(L.names, 0x0a00_0000 | Number(Object.entries(L.names.events).find(([, n]) => n === 'WALWrite')![0]) & 0xffff).waitEvent, 'WALWrite');
    assert.equal(stateOf('postgres: alice shop [local] UPDATE waiting'), 'UPDATE waiting');
    assert.equal(stateOf('postgres: alice shop 10.0.0.7(51234) idle in transaction'), 'idle in transaction');
    assert.equal(stateOf('postgres: checkpointer '), 'checkpointer');
  });

  it('a corrupt region is a diagnostic, never a throw or a hang', () => {
    const cases: [string, (v: DataView) => void, RegExp][] = [
      ['wrong magic', (v) => v.setInt32(0, 1, true), /magic/],
      ['index outside', (v) => v.setBigUint64(L.header.index, 1n, true), /outside the region/],
      ['too many PGPROCs', (v) => v.setUint32(PROCHDR + L.procHeader.allProcCount, 1 << 30, true), /more than the region holds/],
      ['a hash chain that loops', (v) => {
        v.setBigUint64(ELEM + L.element.link, addr(ELEM), true);
        v.setUint8(ELEM + ((L.element.size + 7) & ~7), 0x58);
      }, /chains do not end/],
      ['a lock list that loops', (v) => v.setBigUint64(PROCLOCK + L.procLock.lockLink + L.queue.next, addr(PROCLOCK + L.procLock.lockLink), true), /pid 101's lock: LOCK->procLocks does not lead back/],
    ];
    for (const [what, spoil, says] of cases) {
      const b = region();
      spoil(new DataView(b.buffer));
      const d = decodePostgres(L, memory(b));
      assert.match(d.diagnostics.join('\n'), says, what);
    }
    // Random damage anywhere in the structures the decoder reads: an answer every time.
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
    for (let n = 0; n < 300; n++) {
      const b = region();
      for (let k = 0; k < 8; k++) b[Math.floor(rand() * 0x6100)] = Math.floor(rand() * 256);
      const d = decodePostgres(L, memory(b));
      assert.ok(Array.isArray(d.backends) && Array.isArray(d.diagnostics));
    }
  });

  it('the graph labels a backend and its blocker by their titles\' state, with the blocker as an edge', () => {
    const g = buildWaitGraph([{
      pid: 53, tid: 53, command: 'postgres: postgres postgres [local] UPDATE waiting', thread: 'postgres',
      object: { target: 'anon:9', kind: 'anon', id: 9, name: 'PostgreSQL main shared memory of postmaster pid 39' }, offset: 4096, path: 'Lock/transactionid',
      op: 'PostgreSQL ShareLock on transactionid 725', heldBy: [{ pid: 49, tid: 49, command: 'postgres: postgres postgres [local] idle in transaction', alive: true, state: 'idle in transaction' }],
      postgres: { state: 'UPDATE waiting' }, stuck: false, ownerDied: false,
    }], []);
    assert.deepEqual(g.nodes.filter((n) => n.kind === 'thread').map((n) => [n.pid, n.detail]), [[53, 'postgres: UPDATE waiting'], [49, 'postgres: idle in transaction']]);
    assert.deepEqual(g.edges.map((e) => [e.kind, e.label]), [['waits', 'PostgreSQL ShareLock on transactionid 725'], ['holds', 'held by']]);
    assert.equal(g.nodes.find((n) => n.kind === 'object')!.label, 'anon:9 Lock/transactionid');
  });

  it('a version without layouts is said in one line, and falls back to what the kernel shows', () => {
    assert.deepEqual(knownMajors(), [15]);
    assert.equal(layoutFor(99), undefined);
    assert.equal(unknownVersionNote(99, 4000), 'PostgreSQL 99 (postmaster pid 4000): shmscope has no layouts for this version (it knows 15); its waits are shown as the kernel sees them');
    assert.match(unknownVersionNote(null, 4000), /^PostgreSQL \(version unknown\) \(postmaster pid 4000\)/);
  });
});
