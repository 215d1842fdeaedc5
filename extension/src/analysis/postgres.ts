// PostgreSQL's own waits, read from its main shared memory alone (no connection, so it works when
// the server accepts none): each backend's wait event by class and name, and for a heavyweight lock
// the locked object and the backends that block it, as pg_locks and pg_blocking_pids() say them.
//
// Since 9.3 the postmaster maps its main region as anonymous shared memory and its backends inherit
// it at the same address, so a pointer stored in it is an address in that mapping: views.ts turns
// it into an offset. Layouts come from the server's headers (schemas/postgresql-N.shms, imported by
// `shmscope import` from Debian's postgresql-server-dev-N; scripts/postgres-schema.ts), names from
// schemas/postgresql-N.names.json. Every read is bounded: counts are capped by the region's own sizes,
// every pointer must land inside the mapping, lists are walked a bounded number of steps, and a
// region that is corrupt or changes while read gives a diagnostic, never a hang or a throw.
// decodePostgres is pure; postgresClusters finds and opens the regions. No vscode import.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { compileSchema, findField, type Schema, type StructType } from '../shared/schema';
import { addressToOffset } from '../shared/address';
import { openFound, scanRegions } from '../ipc/regions';
import type { AnonRecord } from '../ipc/types';
import { regionViews } from './views';

/** The bytes of one main region, and its addresses as the server's processes map it. */
export interface PgMemory {
  size: number;
  read(offset: number, length: number): Uint8Array;
  /** The offset of a pointer stored in the region; undefined when it is not inside the mapping. */
  offsetOf(address: bigint): number | undefined;
}

/** The names of a major version (schemas/postgresql-N.names.json, see scripts/postgres-schema.ts). */
export interface PgNames {
  major: number;
  /** wait_event_info's class byte (the top 8 bits) → class. */
  classes: Record<string, string>;
  /** wait_event_info → event name, for the classes whose events are an enum. */
  events: Record<string, string>;
  /** LWLock tranche id → name (the individual locks first, then the built-in tranches). */
  tranches: Record<string, string>;
  /** LOCKTAG.locktag_type → pg_locks' locktype. */
  locktags: Record<string, string>;
  /** Lock mode number → name (AccessShareLock …). */
  modes: Record<string, string>;
}

/** Where the decoder reads: sizes and member offsets of one major version, from its schema. */
export interface PgLayout {
  major: number;
  names: PgNames;
  magic: number;
  header: { size: number; creatorPID: number; totalsize: number; index: number };
  hash: { size: number; dsize: number; nsegs: number; maxBucket: number; keysize: number; entrysize: number; ssize: number; sshift: number };
  element: { size: number; link: number };
  entry: { size: number; key: number; keysize: number; location: number };
  procHeader: { size: number; allProcs: number; allProcCount: number };
  proc: { size: number; links: number; sem: number; pid: number; waitLock: number; waitLockMode: number; waitEventInfo: number; lockGroupLeader: number };
  lock: { size: number; tag: number; procLocks: number; waitProcs: number };
  procLock: { size: number; myProc: number; holdMask: number; lockLink: number };
  queue: { next: number };
  tag: { field1: number; field2: number; field3: number; field4: number; type: number };
}

/** pg_locks' columns of a lock tag, those its type has. */
export interface PgLockTag {
  locktype: string;
  database?: number;
  relation?: number;
  page?: number;
  tuple?: number;
  virtualxid?: string;
  transactionid?: number;
  classid?: number;
  objid?: number;
  objsubid?: number;
}

export interface PgBackend {
  pid: number;
  /** Its index in ProcGlobal's PGPROC array. */
  procno: number;
  /** pg_stat_activity's wait_event_type and wait_event; null when it waits on nothing PostgreSQL counts. */
  waitEventType: string | null;
  waitEvent: string | null;
  /** Where its semaphore (an unnamed POSIX semaphore: its LWLock waits are futex waits there) is in the region. */
  semOffset: number | null;
  /** A heavyweight lock it waits for: the object, the mode asked, and who blocks it (pg_blocking_pids). */
  lock?: { offset: number; tag: PgLockTag; mode: string; blockedBy: number[] };
}

export interface PgDecode {
  backends: PgBackend[];
  /** Why part of the region could not be read ("the shmem index's header is not a hash table's: …"). */
  diagnostics: string[];
}

// The lock modes each mode conflicts with, as bit masks over mode numbers (PostgreSQL's documented
// table of conflicting lock modes, unchanged since 8.2): 1 AccessShare … 8 AccessExclusive.
const bits = (...modes: number[]) => modes.reduce((m, x) => m | (1 << x), 0);
const CONFLICTS: readonly number[] = [
  0,
  bits(8),
  bits(7, 8),
  bits(5, 6, 7, 8),
  bits(4, 5, 6, 7, 8),
  bits(3, 4, 6, 7, 8),
  bits(3, 4, 5, 6, 7, 8),
  bits(2, 3, 4, 5, 6, 7, 8),
  bits(1, 2, 3, 4, 5, 6, 7, 8),
];

/** How far a decode goes at most: entries of the index, PGPROCs. A lock's lists hold each PGPROC at most once. */
const MAX_INDEX_ENTRIES = 65_536;
const MAX_PROCS = 1 << 18;

class Corrupt extends Error {}

/** Bounded little-endian reads of the region: out of range is a Corrupt with the sentence. */
class Reader {
  constructor(private readonly mem: PgMemory) {}
  bytes(offset: number, length: number, what: string): DataView {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.mem.size) throw new Corrupt(`${what} at offset ${offset} is outside the region (${this.mem.size} bytes)`);
    const b = this.mem.read(offset, length);
    if (b.length < length) throw new Corrupt(`${what} at offset ${offset}: the region ends early`);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  /** The offset of a pointer, checked to leave room for `length` bytes. */
  at(address: bigint, length: number, what: string): number {
    const off = this.mem.offsetOf(address);
    if (off === undefined || off + length > this.mem.size) throw new Corrupt(`${what} points outside the region (0x${address.toString(16)})`);
    return off;
  }
}

/** Decodes one main region: every backend's wait, and for a lock wait its object and blockers. */
export function decodePostgres(layout: PgLayout, mem: PgMemory): PgDecode {
  const diagnostics: string[] = [];
  try {
    return { backends: backendsOf(layout, new Reader(mem), mem, diagnostics), diagnostics };
  } catch (e) {
    if (!(e instanceof Corrupt)) throw e;
    diagnostics.push(e.message);
    return { backends: [], diagnostics };
  }
}

function backendsOf(L: PgLayout, r: Reader, mem: PgMemory, diagnostics: string[]): PgBackend[] {
  const h = r.bytes(0, L.header.size, 'the segment header');
  if (h.getInt32(0, true) !== L.magic) throw new Corrupt('the region does not start with PostgreSQL\'s segment header (magic)');
  const procHeader = findIndexEntry(L, r, h.getBigUint64(L.header.index, true), 'Proc Header');
  if (procHeader === undefined) throw new Corrupt('the shared memory index has no "Proc Header" (ProcGlobal)');
  const ph = r.bytes(r.at(procHeader, L.procHeader.size, 'the "Proc Header" entry'), L.procHeader.size, 'ProcGlobal');
  const allProcs = ph.getBigUint64(L.procHeader.allProcs, true);
  const count = ph.getUint32(L.procHeader.allProcCount, true);
  const cap = Math.min(MAX_PROCS, Math.floor(mem.size / L.proc.size));
  if (count > cap) throw new Corrupt(`ProcGlobal counts ${count} PGPROCs, more than the region holds (${cap})`);
  const procsOff = r.at(allProcs, count * L.proc.size, 'ProcGlobal->allProcs');
  const procs = r.bytes(procsOff, count * L.proc.size, 'the PGPROC array');
  const P = L.proc;
  /** The index of a PGPROC from its address; undefined when it is none of the array's. */
  const procno = (addr: bigint): number | undefined => {
    if (addr < allProcs) return undefined;
    const d = addr - allProcs;
    const i = Number(d / BigInt(P.size));
    return d % BigInt(P.size) === 0n && i < count ? i : undefined;
  };
  const pidOf = (i: number) => procs.getInt32(i * P.size + P.pid, true);
  const leaderOf = (i: number) => {
    const l = procs.getBigUint64(i * P.size + P.lockGroupLeader, true);
    return l === 0n ? i : procno(l) ?? i;
  };
  const index: ProcIndex = {
    allProcs, procno, pidOf, leaderOf, count,
    modeOf: (j) => procs.getInt32(j * P.size + P.waitLockMode, true),
    nextOf: (j) => procs.getBigUint64(j * P.size + P.links + L.queue.next, true),
  };
  /** Each LOCK once, however many wait for it (a corrupt one is a Corrupt for each of its waiters). */
  const locks = new Map<bigint, LockInfo | Corrupt>();
  const out: PgBackend[] = [];
  for (let i = 0; i < count; i++) {
    const pid = pidOf(i);
    if (pid <= 0) continue;
    const base = i * P.size;
    const info = procs.getUint32(base + P.waitEventInfo, true);
    const sem = mem.offsetOf(procs.getBigUint64(base + P.sem, true));
    const b: PgBackend = { pid, procno: i, ...eventOf(L.names, info), semOffset: sem ?? null };
    const waitLock = procs.getBigUint64(base + P.waitLock, true);
    if (b.waitEventType === 'Lock' && waitLock !== 0n) {
      try {
        let info = locks.get(waitLock);
        if (!info) {
          // A lock's lists change while a busy server runs: a walk that met a half-made change is read once more.
          for (let attempt = 0; attempt < 2 && !(info && !(info instanceof Corrupt)); attempt++) {
            try {
              info = lockInfo(L, r, waitLock, index);
            } catch (e) {
              if (!(e instanceof Corrupt)) throw e;
              info = e;
            }
          }
          info ??= new Corrupt('unreadable');
          locks.set(waitLock, info);
        }
        if (info instanceof Corrupt) throw info;
        b.lock = lockWait(L, info, i, procs.getInt32(base + P.waitLockMode, true), index);
      } catch (e) {
        if (!(e instanceof Corrupt)) throw e;
        diagnostics.push(`pid ${pid}'s lock: ${e.message}`);
      }
    }
    out.push(b);
  }
  return out;
}

/** pg_stat_activity's wait_event_type and wait_event of a wait_event_info. */
export function eventOf(names: PgNames, info: number): { waitEventType: string | null; waitEvent: string | null } {
  if (info === 0) return { waitEventType: null, waitEvent: null };
  const cls = info >>> 24;
  const id = info & 0xffff;
  const type = names.classes[String(cls)] ?? `class ${cls}`;
  switch (type) {
    case 'LWLock':
      return { waitEventType: type, waitEvent: names.tranches[String(id)] ?? 'extension' };
    case 'Lock':
      return { waitEventType: type, waitEvent: names.locktags[String(id)] ?? `locktag ${id}` };
    case 'BufferPin':
    case 'Extension':
      return { waitEventType: type, waitEvent: type };
    default:
      return { waitEventType: type, waitEvent: names.events[String(info >>> 0)] ?? `event ${id}` };
  }
}

/** The location of a named entry of the shmem index (a dynahash table in the region): every bucket's chain, bounded. */
function findIndexEntry(L: PgLayout, r: Reader, index: bigint, name: string): bigint | undefined {
  const H = L.hash;
  const hdrOff = r.at(index, H.size, 'the shmem index');
  const hh = r.bytes(hdrOff, H.size, 'the shmem index\'s header');
  const long = (o: number) => Number(hh.getBigInt64(o, true));
  const [dsize, nsegs, ssize, sshift] = [long(H.dsize), long(H.nsegs), long(H.ssize), hh.getInt32(H.sshift, true)];
  const maxBucket = hh.getUint32(H.maxBucket, true);
  const [keysize, entrysize] = [long(H.keysize), long(H.entrysize)];
  if (keysize !== L.entry.keysize || entrysize !== L.entry.size) throw new Corrupt(`the shmem index's header is not this version's (key ${keysize} bytes, entry ${entrysize}; expected ${L.entry.keysize} and ${L.entry.size})`);
  if (!(sshift >= 0 && sshift < 24 && ssize === 1 << sshift && nsegs >= 1 && nsegs <= dsize && dsize <= 1 << 16 && maxBucket < nsegs * ssize && maxBucket < MAX_INDEX_ENTRIES)) {
    throw new Corrupt(`the shmem index's header does not hold together (dsize ${dsize}, nsegs ${nsegs}, ssize ${ssize}, max_bucket ${maxBucket})`);
  }
  // A shared table's directory follows its header.
  const dir = r.bytes(hdrOff + H.size, nsegs * 8, 'the shmem index\'s directory');
  const entryAt = (L.element.size + 7) & ~7;
  let visited = 0;
  for (let s = 0; s * ssize <= maxBucket; s++) {
    const buckets = Math.min(ssize, maxBucket + 1 - s * ssize);
    const seg = r.bytes(r.at(dir.getBigUint64(s * 8, true), buckets * 8, `segment ${s} of the shmem index`), buckets * 8, 'a shmem index segment');
    for (let b = 0; b < buckets; b++) {
      let el = seg.getBigUint64(b * 8, true);
      while (el !== 0n) {
        if (++visited > MAX_INDEX_ENTRIES) throw new Corrupt('the shmem index\'s chains do not end');
        const e = r.bytes(r.at(el, entryAt + L.entry.size, 'a shmem index element'), entryAt + L.entry.size, 'a shmem index element');
        const key = new Uint8Array(e.buffer, e.byteOffset + entryAt + L.entry.key, L.entry.keysize);
        const end = key.indexOf(0);
        if (Buffer.from(key.subarray(0, end < 0 ? key.length : end)).toString('latin1') === name) return e.getBigUint64(entryAt + L.entry.location, true);
        el = e.getBigUint64(L.element.link, true);
      }
    }
  }
  return undefined;
}

interface ProcIndex {
  allProcs: bigint;
  procno(addr: bigint): number | undefined;
  pidOf(i: number): number;
  leaderOf(i: number): number;
  /** The lock mode a PGPROC waits for (from the array read once). */
  modeOf(i: number): number;
  /** The next link of a PGPROC's `links` (its place in a lock's wait queue). */
  nextOf(i: number): bigint;
  /** How many PGPROCs there are: no list of a lock is longer (one PROCLOCK per backend and lock). */
  count: number;
}

/** One LOCK as read once per decode: its tag, its holders (PROCLOCKs) and its wait queue, by PGPROC index. */
interface LockInfo {
  off: number;
  tag: PgLockTag;
  holders: { who: number; holdMask: number }[];
  queue: number[];
}

/**
 * A LOCK's tag, holders and queue. Each PROCLOCK is one read (its list link is inside it); the
 * queue links are inside the PGPROCs, read with the array already: every waiter of a lock shares it.
 */
function lockInfo(L: PgLayout, r: Reader, lockAddr: bigint, procs: ProcIndex): LockInfo {
  const off = r.at(lockAddr, L.lock.size, 'PGPROC->waitLock');
  const lock = r.bytes(off, L.lock.size, 'the LOCK');
  const holders: LockInfo['holders'] = [];
  const head = lockAddr + BigInt(L.lock.procLocks);
  const linkAt = L.procLock.lockLink;
  walk(head, lock.getBigUint64(L.lock.procLocks + L.queue.next, true), procs.count, 'LOCK->procLocks', (link) => {
    const pl = r.bytes(r.at(link - BigInt(linkAt), L.procLock.size, 'a PROCLOCK'), L.procLock.size, 'a PROCLOCK');
    const who = procs.procno(pl.getBigUint64(L.procLock.myProc, true));
    if (who !== undefined) holders.push({ who, holdMask: pl.getUint32(L.procLock.holdMask, true) });
    return pl.getBigUint64(linkAt + L.queue.next, true);
  });
  const queue: number[] = [];
  walk(lockAddr + BigInt(L.lock.waitProcs), lock.getBigUint64(L.lock.waitProcs + L.queue.next, true), procs.count, 'LOCK->waitProcs', (link) => {
    const who = procs.procno(link - BigInt(L.proc.links));
    if (who === undefined) throw new Corrupt('a waiter of the lock is not a PGPROC of ProcGlobal');
    queue.push(who);
    return procs.nextOf(who);
  });
  return { off, tag: tagOf(L, lock), holders, queue };
}

/** The lock a backend waits for: its tag, the mode it asks, and the pids that block it as pg_blocking_pids counts them. */
function lockWait(L: PgLayout, info: LockInfo, me: number, mode: number, procs: ProcIndex): NonNullable<PgBackend['lock']> {
  const conflicts = CONFLICTS[mode] ?? 0;
  const blockedBy = new Set<number>();
  const myGroup = procs.leaderOf(me);
  const other = (who: number) => who !== me && procs.leaderOf(who) !== myGroup;
  // Hard blocks: every other holder (of another lock group) holding a mode that conflicts.
  for (const h of info.holders) if (other(h.who) && h.holdMask & conflicts) blockedBy.add(procs.pidOf(h.who));
  // Soft blocks: the waiters ahead of it in the queue that ask for a conflicting mode.
  for (const who of info.queue) {
    if (who === me) break;
    const theirs = procs.modeOf(who);
    if (other(who) && theirs > 0 && theirs < 31 && conflicts & (1 << theirs)) blockedBy.add(procs.pidOf(who));
  }
  blockedBy.delete(0);
  return { offset: info.off, tag: info.tag, mode: L.names.modes[String(mode)] ?? `mode ${mode}`, blockedBy: [...blockedBy].sort((a, b) => a - b) };
}

/** Walks a circular SHM_QUEUE from its head's first link, at most `max` members; `visit` returns the next link. */
function walk(head: bigint, first: bigint, max: number, what: string, visit: (link: bigint) => bigint): void {
  let link = first;
  for (let n = 0; link !== head; n++) {
    if (n > max || link === 0n) throw new Corrupt(`${what} does not lead back to its head`);
    link = visit(link);
  }
}

/** A LOCKTAG as pg_locks shows it. */
function tagOf(L: PgLayout, lock: DataView): PgLockTag {
  const T = L.tag;
  const at = L.lock.tag;
  const [f1, f2, f3, f4] = [lock.getUint32(at + T.field1, true), lock.getUint32(at + T.field2, true), lock.getUint32(at + T.field3, true), lock.getUint16(at + T.field4, true)];
  const type = lock.getUint8(at + T.type);
  const locktype = L.names.locktags[String(type)] ?? `locktag ${type}`;
  switch (locktype) {
    case 'relation':
    case 'extend':
      return { locktype, database: f1, relation: f2 };
    case 'frozenid':
      return { locktype, database: f1 };
    case 'page':
      return { locktype, database: f1, relation: f2, page: f3 };
    case 'tuple':
      return { locktype, database: f1, relation: f2, page: f3, tuple: f4 };
    case 'transactionid':
      return { locktype, transactionid: f1 };
    case 'virtualxid':
      return { locktype, virtualxid: `${f1}/${f2}` };
    case 'spectoken':
      return { locktype, transactionid: f1, objid: f2 };
    default: // object, userlock, advisory
      return { locktype, database: f1, classid: f2, objid: f3, objsubid: f4 };
  }
}

/** "transactionid 745", "relation 16384 of database 5", "advisory 0:42 of database 5": the object said in one phrase. */
export function tagText(t: PgLockTag): string {
  switch (t.locktype) {
    case 'relation':
    case 'extend':
      return `${t.locktype} ${t.relation} of database ${t.database}`;
    case 'frozenid':
      return `frozenid of database ${t.database}`;
    case 'page':
      return `page ${t.page} of relation ${t.relation} of database ${t.database}`;
    case 'tuple':
      return `tuple (${t.page},${t.tuple}) of relation ${t.relation} of database ${t.database}`;
    case 'transactionid':
      return `transactionid ${t.transactionid}`;
    case 'virtualxid':
      return `virtualxid ${t.virtualxid}`;
    case 'spectoken':
      return `spectoken ${t.objid} of transaction ${t.transactionid}`;
    case 'advisory':
      return `advisory ${t.classid}:${t.objid}${t.objsubid === 2 ? '' : ' (bigint key)'} of database ${t.database}`;
    default:
      return `${t.locktype} ${t.classid}:${t.objid}:${t.objsubid} of database ${t.database}`;
  }
}

// ---- Layouts of the shipped schemas -------------------------------------------------------------

const layouts = new Map<number, PgLayout | null>();

/** The schemas folder: beside the bundle (dist/…/../schemas) or the sources (extension/src/analysis/../../../schemas). */
function schemasDir(): string | undefined {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const d = path.join(dir, 'schemas');
    if (existsSync(path.join(d, 'io_uring.shms'))) return d;
  }
  return undefined;
}

/** The layout of a major version from its shipped schema; undefined when shmscope has none for it. */
export function layoutFor(major: number): PgLayout | undefined {
  if (!layouts.has(major)) {
    const dir = schemasDir();
    const shms = dir && path.join(dir, `postgresql-${major}.shms`);
    const names = dir && path.join(dir, `postgresql-${major}.names.json`);
    layouts.set(major, shms && names && existsSync(shms) && existsSync(names) ? layoutOf(major, compileSchema(readFileSync(shms, 'utf8'), shms), JSON.parse(readFileSync(names, 'utf8')) as PgNames) : null);
  }
  return layouts.get(major) ?? undefined;
}

/** The major versions shmscope has layouts for. */
export function knownMajors(): number[] {
  const dir = schemasDir();
  if (!dir) return [];
  return readdirSync(dir).map((f) => /^postgresql-(\d+)\.shms$/.exec(f)?.[1]).filter((m) => m !== undefined).map(Number).sort((a, b) => a - b);
}

/** Sizes and offsets from a compiled schema of scripts/postgres/shmem.h. */
export function layoutOf(major: number, s: Schema, names: PgNames): PgLayout {
  const struct = (name: string): StructType => {
    const t = s.types.get(name);
    if (t?.k !== 'struct' || t.size <= 0) throw new Error(`postgresql-${major}.shms has no struct ${name}`);
    return t;
  };
  const off = (t: StructType, field: string): number => {
    const f = findField(t, field);
    if (!f || f.offset < 0) throw new Error(`postgresql-${major}.shms: ${t.name} has no member ${field}`);
    return f.offset;
  };
  const numbers = s.types.get('ShmscopePostgresNumbers');
  const magic = numbers?.k === 'enum' ? numbers.values.get('SHMSCOPE_PGShmemMagic') : undefined;
  if (magic === undefined) throw new Error(`postgresql-${major}.shms has no SHMSCOPE_PGShmemMagic`);
  const [hdr, hash, el, ent, ph, proc, lock, pl, tag, q] = ['PGShmemHeader', 'HASHHDR', 'HASHELEMENT', 'ShmemIndexEnt', 'PROC_HDR', 'PGPROC', 'LOCK', 'PROCLOCK', 'LOCKTAG', 'SHM_QUEUE'].map(struct) as [StructType, StructType, StructType, StructType, StructType, StructType, StructType, StructType, StructType, StructType];
  const plTag = findField(pl, 'tag');
  if (plTag?.field.type.k !== 'struct') throw new Error(`postgresql-${major}.shms: PROCLOCK has no tag`);
  const keyField = findField(ent, 'key')!;
  return {
    major, names, magic: Number(magic),
    header: { size: hdr.size, creatorPID: off(hdr, 'creatorPID'), totalsize: off(hdr, 'totalsize'), index: off(hdr, 'index') },
    hash: { size: hash.size, dsize: off(hash, 'dsize'), nsegs: off(hash, 'nsegs'), maxBucket: off(hash, 'max_bucket'), keysize: off(hash, 'keysize'), entrysize: off(hash, 'entrysize'), ssize: off(hash, 'ssize'), sshift: off(hash, 'sshift') },
    element: { size: el.size, link: off(el, 'link') },
    entry: { size: ent.size, key: keyField.offset, keysize: keyField.field.size, location: off(ent, 'location') },
    procHeader: { size: ph.size, allProcs: off(ph, 'allProcs'), allProcCount: off(ph, 'allProcCount') },
    proc: { size: proc.size, links: off(proc, 'links'), sem: off(proc, 'sem'), pid: off(proc, 'pid'), waitLock: off(proc, 'waitLock'), waitLockMode: off(proc, 'waitLockMode'), waitEventInfo: off(proc, 'wait_event_info'), lockGroupLeader: off(proc, 'lockGroupLeader') },
    lock: { size: lock.size, tag: off(lock, 'tag'), procLocks: off(lock, 'procLocks'), waitProcs: off(lock, 'waitProcs') },
    procLock: { size: pl.size, myProc: plTag.offset + off(plTag.field.type, 'myProc'), holdMask: off(pl, 'holdMask'), lockLink: off(pl, 'lockLink') },
    queue: { next: off(q, 'next') },
    tag: { field1: off(tag, 'locktag_field1'), field2: off(tag, 'locktag_field2'), field3: off(tag, 'locktag_field3'), field4: off(tag, 'locktag_field4'), type: off(tag, 'locktag_type') },
  };
}

// ---- Finding the clusters ------------------------------------------------------------------------

/** One running server's main region, decoded (or why not). */
export interface PgCluster {
  /** The postmaster (the region's creator, from its header) as we count pids; 0 when it is not among the threads seen. */
  postmaster: number;
  /** The postmaster's pid as the server counts it (its header's), when the server is in another PID namespace. */
  nsPostmaster?: number;
  /** A process that maps the region: the backends' pids stored in it are counted in its PID namespace. */
  viewer: number;
  /** The major version, from the data directory's PG_VERSION or the postmaster's binary path; null when neither tells. */
  major: number | null;
  /** The region as other commands name it (`anon:INODE`). */
  target: string;
  inode: number;
  size: number;
  backends: PgBackend[];
  /** One line each: an unknown version, a region that could not be read or decoded. */
  notes: string[];
}

const MAGIC_OFFSET = 0;

/** The major version of a server from its postmaster: PG_VERSION in its data directory (its cwd), else its binary's path. */
export function majorOf(postmaster: number): number | null {
  try {
    const v = /^(\d+)/.exec(readFileSync(`/proc/${postmaster}/cwd/PG_VERSION`, 'latin1').trim());
    if (v) return Number(v[1]);
  } catch {
    // not readable (another mount namespace's data directory, or gone): try the binary
  }
  try {
    const m = /\/postgresql\/(\d+)\/bin\//.exec(readlinkSync(`/proc/${postmaster}/exe`));
    if (m) return Number(m[1]);
  } catch {
    // gone
  }
  return null;
}

/**
 * A pid as process `viewer` counts it → the pid as we count it (the scope's NSpid translation,
 * ./scope); undefined when no thread of the scan is that one. Without it, pids are taken as ours.
 */
export type PidTranslator = (viewer: number) => (pid: number) => number | undefined;

const sameCount: PidTranslator = () => (pid) => pid;

/**
 * Every PostgreSQL main region that the processes `pids` (those whose thread name is "postgres")
 * map: the anonymous shared regions that start with PostgreSQL's segment header, decoded. A server
 * in another PID namespace (a container) stores its own pids: `translate` turns its postmaster's
 * into ours (for its version); the backends' pids are left as stored, with `viewer` to translate them.
 */
export async function postgresClusters(pids: readonly number[], budgetMs: number, translate: PidTranslator = sameCount): Promise<PgCluster[]> {
  if (pids.length === 0) return [];
  // Only the postmasters' maps (a postgres process whose parent is none): the backends inherit the same mapping.
  const all = new Set(pids);
  const stats = new Map(pids.map((p) => [p, statOf(p)]));
  const postmasters = pids.filter((p) => !all.has(stats.get(p)?.parent ?? 0));
  const mappers = postmasters.length ? postmasters : [...pids];
  // A region found by an earlier scan is opened again without searching, when it is still that object.
  // Each object once (by device and inode), however many of the processes map it.
  const recs = new Map<string, AnonRecord>();
  const add = (rec: AnonRecord) => recs.has(`${rec.dev}:${rec.id}`) || recs.set(`${rec.dev}:${rec.id}`, rec);
  const search: number[] = [];
  const keys = new Map<number, string>();
  for (const pid of mappers) {
    const start = stats.get(pid)?.start;
    if (start === undefined) continue; // ended meanwhile
    const key = `${pid}@${start}`;
    keys.set(pid, key);
    const rec = foundRegions.get(key);
    if (rec && stillMapped(pid, rec)) add(rec);
    else {
      foundRegions.delete(key);
      search.push(pid);
    }
  }
  if (search.length) {
    const scan = await scanRegions(search, budgetMs);
    for (const rec of scan.anon) if (rec.size >= 64 && rec.attachedBy.some((a) => a.writable)) add(rec);
  }
  const out: PgCluster[] = [];
  for (const rec of recs.values()) {
    const c = clusterOf(rec, translate);
    if (!c) continue;
    out.push(c);
    // Kept for each process whose maps showed it (a PostgreSQL region with a PGPROC array only).
    if (c.backends.length) for (const a of rec.attachedBy) if (keys.has(a.pid)) foundRegions.set(keys.get(a.pid)!, rec);
  }
  // Only the servers of this scan are kept: a stopped one is forgotten.
  const live = new Set(keys.values());
  for (const k of foundRegions.keys()) if (!live.has(k)) foundRegions.delete(k);
  return out;
}

/**
 * Each server's main region as a scan found it, by the process whose maps told it (its pid and
 * start time, so a new process of the same pid is another key). Used again only while that process
 * maps the same object at the same place (stillMapped): a server that made its shared memory anew
 * (after a backend crashed) or a pid taken by another process is searched again, never served stale.
 */
const foundRegions = new Map<string, AnonRecord>();

/** Does `pid` still map `rec` where the scan saw it: the same device and inode behind its map_files entry? */
function stillMapped(pid: number, rec: AnonRecord): boolean {
  const m = rec.attachedBy.find((a) => a.pid === pid && a.offset === 0);
  if (!m) return false;
  const start = BigInt(m.address);
  try {
    const st = statSync(`/proc/${pid}/map_files/${start.toString(16)}-${(start + BigInt(m.length)).toString(16)}`);
    return st.dev === rec.dev && st.ino === rec.id;
  } catch {
    return false; // unmapped, ended, or map_files not ours to read (then every scan searches)
  }
}

function clusterOf(rec: AnonRecord, translate: PidTranslator): PgCluster | undefined {
  const target = `anon:${rec.id}`;
  const viewer = rec.attachedBy[0]?.pid ?? 0;
  let handle;
  try {
    handle = openFound({ kind: 'anon', id: rec.id }, rec, false);
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
  try {
    const head = handle.read(MAGIC_OFFSET, 8);
    if (head.length < 8 || new DataView(head.buffer, head.byteOffset, 8).getInt32(0, true) !== PG_MAGIC) return undefined;
    const stored = new DataView(head.buffer, head.byteOffset, 8).getInt32(4, true);
    const postmaster = translate(viewer)(stored) ?? 0;
    // A backend's working directory is the data directory too, and its binary the same.
    const major = majorOf(postmaster || viewer);
    const who = postmaster ? String(postmaster) : `${stored} (as its PID namespace counts)`;
    const cluster: PgCluster = { postmaster, ...(postmaster !== stored ? { nsPostmaster: stored } : {}), viewer, major, target, inode: rec.id, size: handle.size, backends: [], notes: [] };
    const layout = major === null ? undefined : layoutFor(major);
    if (!layout) {
      cluster.notes.push(unknownVersionNote(major, who));
      return cluster;
    }
    const d = decodePostgres(layout, regionMemory(rec, handle));
    cluster.backends = d.backends;
    for (const n of d.diagnostics) cluster.notes.push(`PostgreSQL ${major} (postmaster pid ${who}): ${n}`);
    return cluster;
  } catch (e) {
    return { postmaster: 0, viewer, major: null, target, inode: rec.id, size: rec.size, backends: [], notes: [`${target}: reading PostgreSQL's main region failed: ${e instanceof Error ? e.message : String(e)}`] };
  } finally {
    handle.close();
  }
}

/** The one line said of a server whose version shmscope has no layouts for. */
export function unknownVersionNote(major: number | null, postmaster: number | string): string {
  return `PostgreSQL ${major ?? '(version unknown)'} (postmaster pid ${postmaster}): shmscope has no layouts for this version (it knows ${knownMajors().join(', ') || 'none'}); its waits are shown as the kernel sees them`;
}

/** A process's parent and start time (clock ticks after boot) from /proc/PID/stat; undefined when it cannot be read. */
function statOf(pid: number): { parent: number; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // After the command: state (field 3), parent (4), …, start time (22).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { parent: Number(f[1] ?? 0), start: f[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** The bytes of an open main region, its pointers turned into offsets as its first mapper maps it (./views). */
export function regionMemory(rec: AnonRecord, handle: { size: number; read(offset: number, length: number): Uint8Array }): PgMemory {
  const views = regionViews(rec);
  const viewPid = views[0]?.pid ?? 0;
  const size = handle.size;
  return {
    size,
    read: (o, l) => handle.read(o, l),
    offsetOf: (a) => {
      const r = addressToOffset(a, viewPid, views, size);
      return r.ok ? r.offset : undefined;
    },
  };
}

/** PGShmemMagic (the same in every version since 8.0): the first four bytes of the main region. */
const PG_MAGIC = 679834894;

/**
 * What a backend's process title says it does: "UPDATE waiting" of
 * "postgres: alice shop [local] UPDATE waiting", "checkpointer" of "postgres: checkpointer".
 */
export function stateOf(title: string): string {
  const rest = title.replace(/^postgres:\s*/, '').trim();
  const words = rest.split(' ');
  // A client backend: user, database, client ("[local]" or "host(port)"), then what it does.
  return words.length >= 4 && (words[2] === '[local]' || /\(\d+\)$/.test(words[2]!)) ? words.slice(3).join(' ') : rest;
}
