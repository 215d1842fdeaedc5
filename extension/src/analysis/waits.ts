// Who waits for whom: every blocked thread we may read, the IPC object and
// offset it waits on (and the field, with a bound schema), who holds that object, whether the
// holder is alive, and the cycles of the wait-for graph (deadlocks).
//
// The facts come from the native thread scan (syscall, maps, bytes around each futex word read
// with pread from /proc/PID/mem); this module only interprets them, in the scope of each waiting
// process (./scope): a semop on set 0 in a container waits on the container's set 0, marked with
// its namespace, and a mutex owner's TID is translated from the waiter's PID namespace before it is
// judged alive or dead. No vscode import: the CLI, the editor's Waits view and the tests share it.
import { readFile } from 'node:fs/promises';
import {
  futexWordsOf, lockState, plausibleMutexKind, FUTEX_TID_MASK,
  type DecodedNode, type LockState, type PrimitiveKind, type Schema, type ThreadLookup,
} from '../shared/schema';
import { toIpcError } from '../ipc/errors';
import { namespaceRef, nsRaw } from '../ipc/namespaces';
import { binding, type RawFutexRef, type RawNsList, type RawThread } from '../ipc/native';
import { semGet } from '../ipc/objects';
import type { NamespaceRef } from '../ipc/types';
import { Scope, type HostThread } from './scope';
import { BoundDecoders } from './binding';
import { finishOtherWaits, isBlocked, startOtherWaits, SYSCALL_NAMES, type OtherWait } from './others';
import { postgresClusters, stateOf, tagText, type PgLockTag } from './postgres';
import { SHIPPED_RULES, waitMeaning, type RuleFile, type WaitMeaning } from './rules';

/** The object a wait is on. `target` is what the other commands accept (null when none does yet). */
export interface WaitObject {
  target: string | null;
  kind: 'shm' | 'posix-shm' | 'posix-sem' | 'sem' | 'msg' | 'posix-mq' | 'memfd' | 'anon' | 'file';
  /** shmid / semid / msqid, or the inode for files and POSIX objects. */
  id: number | null;
  /** The key in hex for System V objects, the POSIX name, or the mapped path. */
  name: string | null;
  /** Another IPC namespace's object (a container's): its ids and names are that namespace's, never ours. */
  namespace?: NamespaceRef;
}

export interface Holder {
  /** Process and thread ids in our PID namespace (translated from a container's). */
  pid: number | null;
  tid: number | null;
  /** The TID as stored in the object, when the waiter counts TIDs in another PID namespace. */
  nsTid?: number;
  command: string | null;
  alive: boolean;
  /** A PostgreSQL backend's state from its process title ("idle in transaction"). */
  state?: string;
}

/**
 * A PostgreSQL backend's own wait, read from the server's main shared memory (./postgres): its
 * wait event as pg_stat_activity names it, and for a heavyweight lock the object and mode as
 * pg_locks shows them and the backends that block it as pg_blocking_pids() counts them.
 */
export interface PostgresWait {
  /** The postmaster of its server (as we count pids; 0 when not seen). */
  postmaster: number;
  /**
   * A server in another PID namespace (a container) counts pids its own way: this backend's pid
   * there (pg_backend_pid() inside), and pg_blocking_pids() as it says them there.
   */
  nsPid?: number;
  nsBlockedBy?: number[];
  /** pg_stat_activity's wait_event_type and wait_event ("Lock", "transactionid"). */
  waitEventType: string;
  waitEvent: string;
  /** What its process title says it does ("UPDATE waiting"); null before the title is read. */
  state: string | null;
  /** The lock asked for: pg_locks' columns of the object and the mode. */
  lock?: PgLockTag & { mode: string };
  /** pg_blocking_pids() as we count pids: the heldBy edges' pids (a blocker not found among the threads is left out, said in nsBlockedBy). */
  blockedBy: number[];
}

/** One blocked thread (the `shmscope waits --json` entry). */
export interface Wait {
  pid: number;
  tid: number;
  /** The process's command line. */
  command: string;
  /** The thread's own name (comm). */
  thread: string;
  syscall: string;
  object: WaitObject;
  /** Byte offset in the object (futex waits); null when the wait is on the object as a whole. */
  offset: number | null;
  /** The field of the bound schema (`locks.a`), or the semaphore numbers (`sem[1]`); else null. */
  path: string | null;
  /** What the thread does: "mutex lock", "sem wait", "semop 1:-1", "msgrcv type 0", … */
  op: string;
  /** When first seen waiting (ISO-8601); null on a single scan. */
  since: string | null;
  /** The owners of what it waits for (a mutex's owner thread, a file lock's holders): edges of the wait-for graph. */
  heldBy: Holder[];
  /**
   * A System V semaphore has no owner: the processes that last changed the semaphores it waits on
   * (semctl's GETPID), a hint at who posts them — sometimes the waiter itself. Never a holder, never
   * an edge of a deadlock cycle, never an owner that died.
   */
  lastChangedBy: Holder[];
  /** The word decoded as the primitive it belongs to, when known. */
  lock?: LockState;
  /** Off CPU for this long (the scheduler's time of its last run, one scan tells it); null when not told. */
  blockedMs?: number | null;
  /** Waiting longer than the stuck threshold: off CPU that long, or no change on its object that long. */
  stuck: boolean;
  /** A holder is a dead thread (a lock whose owner died). */
  ownerDied: boolean;
  /** A PostgreSQL backend: its wait in PostgreSQL's terms. */
  postgres?: PostgresWait;
  /** What it waits for in its program's terms, when a rule recognises the object (LMDB's writer lock, a JACK client's semaphore). */
  meaning?: WaitMeaning;
}

export interface WaitsReport {
  waits: Wait[];
  /** Cycles of the wait-for graph, each as the threads in it (smallest TID first). */
  deadlocks: { pid: number; tid: number }[][];
  /** Threads whose system call we may not read. */
  unreadable: number;
  /** Processes not read within the scan's budget (one that holds its own /proc files, say). */
  slow: number[];
  /** Every other blocked thread, said plainly (with `all`; else empty). */
  others?: OtherWait[];
  /** How many threads are blocked outside the IPC waits (this process's own aside), counted with or without `all`. */
  otherBlocked?: number;
  /** Whether this kernel tells how long a thread has been blocked (so one scan can say "stuck"). */
  blockedTimes?: boolean;
  /** One line each about what could not be explained (a PostgreSQL version without layouts, a region that could not be decoded). */
  notes?: string[];
}

export interface WaitsOptions {
  /** Schemas whose `segment … for` declarations name the fields at the waited offsets. */
  schemas?: Schema[];
  /** Keeps `since` across calls (the `--watch` loop and the editor's view pass the same one). */
  history?: WaitHistory;
  /** A wait counts as stuck after this many ms without a change on its object (default 10 s). */
  stuckAfterMs?: number;
  /** The clock (tests). */
  now?: () => number;
  /** How long the scan may take before it answers with what it has (default 2 s). */
  budgetMs?: number;
  /** Every blocked thread, not only the IPC waits: `others` (pipes, sockets, event loops, sleeps). */
  all?: boolean;
  /** Program knowledge that names waits in the program's terms (default: the shipped rules). */
  rules?: readonly RuleFile[];
}

/** First-seen times and last values of waits across scans. */
export class WaitHistory {
  readonly entries = new Map<string, { first: number; value: string; changed: number }>();
}

// x86-64 system call numbers the native scanner explains.
const SYSCALLS: Record<number, string> = {
  202: 'futex', 449: 'futex_waitv', 65: 'semop', 220: 'semtimedop', 69: 'msgsnd', 70: 'msgrcv',
  242: 'mq_timedsend', 243: 'mq_timedreceive', 73: 'flock', 72: 'fcntl',
};
const FUTEX_CMD: Record<number, string> = { 0: 'wait', 9: 'wait', 6: 'lock (PI)', 13: 'lock (PI)', 11: 'wait (requeue PI)' };
const F_SETLKW = 7;
const F_OFD_SETLKW = 38;

/** The System V key in maps' "/SYSV0000abcd" form. */
const SYSV = /^\/SYSV([0-9a-f]{8})(?: \(deleted\))?$/;
const DELETED = / \(deleted\)$/;

/** Names the object behind a mapping of one process: what the waits and the graph show. */
export function objectOfMapping(path: string, inode: number, perms: string): WaitObject | undefined {
  const sysv = SYSV.exec(path);
  if (sysv) return { target: `shm:${inode}`, kind: 'shm', id: inode, name: `0x${sysv[1]}` };
  const clean = path.replace(DELETED, '');
  const unlinked = clean !== path;
  if (clean.startsWith('/dev/shm/')) {
    const rest = clean.slice('/dev/shm/'.length);
    if (!rest.includes('/')) {
      if (rest.startsWith('sem.')) {
        const name = `/${rest.slice(4)}`;
        return { target: unlinked ? null : `psem:${name}`, kind: 'posix-sem', id: inode, name: unlinked ? `${name} (unlinked)` : name };
      }
      return { target: unlinked ? null : `posix:/${rest}`, kind: 'posix-shm', id: inode, name: unlinked ? `/${rest} (unlinked)` : `/${rest}` };
    }
  }
  if (!perms.includes('s')) return undefined; // private memory: not shared with anyone
  // memfd and anonymous regions by inode, files by path (the targets `dump`, `decode` and the inspector take).
  if (clean.startsWith('/memfd:')) return { target: `memfd:${inode}`, kind: 'memfd', id: inode, name: `${clean.slice(1)} (inode ${inode})` };
  if (clean === '/dev/zero' || clean === '' || clean === '[anon_shmem]' || clean.startsWith('/SYSV')) {
    return { target: `anon:${inode}`, kind: 'anon', id: inode, name: `anonymous shared memory (inode ${inode})` };
  }
  return { target: unlinked ? null : `file:${clean}`, kind: 'file', id: inode, name: `${clean} (inode ${inode})` };
}

/** The primitive covering `offset` in a decoded tree, descending only along the way. */
function primitiveAt(root: DecodedNode, offset: number): { node: DecodedNode; path: string } | undefined {
  let node = root;
  let leaf: DecodedNode | undefined;
  for (let depth = 0; depth < 64; depth++) {
    if (node.lock && node.lock.primitive !== 'futex') return { node, path: node.path };
    if (node.childCount === 0 || node.kind === 'offset' || node.kind === 'text') break;
    let next: DecodedNode | undefined;
    if (node.kind === 'array') {
      const first = node.children(0, 1)[0];
      const stride = first?.size ?? 0;
      if (first && stride > 0) {
        const i = Math.floor((offset - node.offset) / stride);
        next = i >= 0 && i < node.childCount ? node.children(i, 1)[0] : undefined;
      }
    } else {
      for (let i = 0; i < node.childCount && !next; i += 1000) next = node.children(i, 1000).find((c) => offset >= c.offset && offset < c.offset + Math.max(1, c.size));
    }
    if (!next) break;
    node = next;
    leaf = node;
  }
  if (leaf?.lock) return { node: leaf, path: leaf.path };
  return leaf ? { node: leaf, path: leaf.path } : undefined;
}

/** How a futex word reads without a schema: a mutex, a semaphore or a condvar, by what the bytes allow. */
function guessPrimitive(window: Uint8Array, at: number, threads: ThreadLookup): { kind: PrimitiveKind; start: number } | undefined {
  const dv = new DataView(window.buffer, window.byteOffset, window.byteLength);
  const u = (o: number) => (o >= 0 && o + 4 <= window.length ? dv.getUint32(o, true) : undefined);
  const word = u(at);
  if (word === undefined) return undefined;
  // A mutex: its lock word is the first member; the kind at +16 has only glibc's bits; an owner TID.
  const kind = u(at + 16);
  const owner = u(at + 8);
  if (word !== 0 && kind !== undefined && plausibleMutexKind(kind | 0) && owner !== undefined) {
    const robustOrPi = (kind & (16 | 32)) !== 0;
    const tid = robustOrPi ? word & FUTEX_TID_MASK : owner;
    if ((tid > 0 && (threads(tid) || robustOrPi || word === 2)) || (robustOrPi && word & 0x4000_0000)) return { kind: 'mutex', start: at };
  }
  // A semaphore: value 0, waiters counted beside it, the futex flag word 0 or 128 after that.
  const nwaiters = u(at + 4);
  const priv = u(at + 8);
  if (word === 0 && nwaiters !== undefined && nwaiters > 0 && nwaiters < 1 << 22 && (priv === 0 || priv === 128)) return { kind: 'sem', start: at };
  // A condvar waits on __g_signals[0 or 1] (40 or 44 from its start); __wrefs (start + 36) counts waiters × 8.
  for (const back of [40, 44]) {
    const wrefs = u(at - back + 36);
    if (wrefs !== undefined && wrefs >= 8 && wrefs >>> 3 < 1 << 20) return { kind: 'cond', start: at - back };
  }
  return undefined;
}

const opOf = (kind: PrimitiveKind, rel: number): string => {
  const w = futexWordsOf(kind).find((x) => x.offset === rel);
  const name = { mutex: 'mutex', cond: 'condvar', rwlock: 'rwlock', barrier: 'barrier', spinlock: 'spinlock', sem: 'sem_t', futex: 'futex' }[kind];
  return w ? `${name} ${w.role}` : `${name} futex at +${rel}`;
};

/** TID → thread (process, name, alive) from one scan, for decoding the owners of locks. */
export async function threadLookup(budgetMs = SCAN_BUDGET_MS): Promise<ThreadLookup> {
  return lookupOf((await scanThreads(budgetMs)).threads);
}

/** How long a scan may take before it answers with what it has read (a process can hold its /proc files). */
export const SCAN_BUDGET_MS = 2000;

/** The native scan, its failure as an IpcError ("scanning the threads of /proc failed: …"). */
export async function scanThreads(budgetMs: number, all = false): Promise<Awaited<ReturnType<ReturnType<typeof binding>['scanThreads']>>> {
  try {
    return await binding().scanThreads(budgetMs, all);
  } catch (e) {
    throw toIpcError(e, { action: 'scanning the threads of', object: '/proc' });
  }
}

/** The threads of a scan as the host counts them. */
export function hostThreadsOf(list: readonly RawThread[]): HostThread[] {
  return list.map((t) => ({ pid: t.pid, tid: t.tid, comm: t.comm, alive: t.state !== 'Z' && t.state !== 'X' }));
}

export function lookupOf(list: readonly RawThread[]): ThreadLookup {
  const byTid = new Map<number, RawThread>();
  for (const t of list) byTid.set(t.tid, t);
  return (tid) => {
    const t = byTid.get(tid);
    return t ? { pid: t.pid, name: t.comm, alive: t.state !== 'Z' && t.state !== 'X' } : undefined;
  };
}

/** One scan of every thread. */
export async function scanWaits(opts: WaitsOptions = {}): Promise<WaitsReport> {
  const now = opts.now ?? Date.now;
  const raw = await scanThreads(opts.budgetMs ?? SCAN_BUDGET_MS, opts.all);
  // With `all`, the other ends of pipes and sockets are searched for beside the analysis below.
  const pending = opts.all ? startOtherWaits(raw.threads, process.pid, opts.budgetMs ?? SCAN_BUDGET_MS) : undefined;
  const threads = lookupOf(raw.threads);
  const hostThreads = hostThreadsOf(raw.threads);
  const scope = new Scope();
  const locks = await procLocks();
  const waiting = raw.threads.filter((t) => SYSCALLS[t.nr] !== undefined && t.args);
  const namespaces = await foreignNamespaces(waiting.filter(onIpcObject).map((t) => t.pid), raw.threads, scope, opts.budgetMs ?? SCAN_BUDGET_MS);
  const waits: (Wait & { value?: string; changedMs?: number; futexCmd?: string })[] = [];
  for (const t of waiting) {
    const syscall = SYSCALLS[t.nr]!;
    // The waiter's namespaces are read (four links) only when its wait asks: most futex waits of a
    // machine are on private memory and never do, and a readlink each per process adds up.
    let lookup: ThreadLookup | undefined;
    const ctx: Context = {
      scope, host: threads, locks,
      get threads() {
        return (lookup ??= scope.lookupFor(t.pid, hostThreads, threads));
      },
      get ns() {
        return namespaces.size ? namespaces.get(scope.foreignIpc(t.pid) ?? 0) : undefined;
      },
    };
    for (const w of explain(t, syscall, ctx)) {
      waits.push({ pid: t.pid, tid: t.tid, command: '', thread: t.comm, syscall, since: null, blockedMs: t.blockedMs ?? null, stuck: false, ownerDied: false, lastChangedBy: [], ...w });
    }
  }
  await nameFields(waits, opts.schemas ?? [], scope, hostThreads, threads);
  const notes = await postgresWaits(raw.threads, waits, scope, (viewer) => scope.lookupFor(viewer, hostThreads, threads), opts.budgetMs ?? SCAN_BUDGET_MS);
  // Command lines of the waiting and holding processes, read natively by a deadline.
  const pids = new Set<number>();
  for (const w of waits) {
    pids.add(w.pid);
    for (const h of [...w.heldBy, ...w.lastChangedBy]) if (h.pid !== null && h.alive) pids.add(h.pid);
  }
  const commands = pids.size ? await binding().commandsOf([...pids], opts.budgetMs ?? SCAN_BUDGET_MS).catch((): Record<string, string> => ({})) : {};
  for (const w of waits) {
    w.command = commands[w.pid] ?? '?';
    for (const h of [...w.heldBy, ...w.lastChangedBy]) if (h.pid !== null && h.alive) h.command = commands[h.pid] ?? null;
    if (w.postgres) {
      w.postgres.state = stateOf(w.command);
      for (const h of w.heldBy) if (h.command) h.state = stateOf(h.command);
    }
    w.ownerDied = w.heldBy.some((h) => !h.alive) || w.lock?.ownerDied === true;
    const meaning = waitMeaning(w, opts.rules ?? SHIPPED_RULES);
    if (meaning) w.meaning = meaning;
  }
  markTimes(waits, opts.history, opts.stuckAfterMs ?? 10_000, now());
  waits.sort((a, b) => a.pid - b.pid || a.tid - b.tid);
  // Every other blocked thread: counted always (so "none" is never said while something hangs), said with `all`.
  const explained = new Set(waits.map((w) => w.tid));
  const otherBlocked = raw.threads.filter((t) => isBlocked(t) && !explained.has(t.tid) && t.pid !== process.pid).length;
  const others = pending ? await finishOtherWaits(pending, explained, opts.budgetMs ?? SCAN_BUDGET_MS) : [];
  return { waits, deadlocks: cycles(waits), unreadable: raw.unreadable, slow: raw.slow, others, otherBlocked, blockedTimes: raw.blockedTimes, ...(notes.length ? { notes } : {}) };
}

/** The processes a partial scan did not read whole, named: nothing is ruled out among them (the CLI's line, the Waits view's row). */
export function slowText(slow: readonly number[]): string {
  const pids = `${slow.slice(0, 20).join(', ')}${slow.length > 20 ? `, … (${slow.length - 20} more)` : ''}`;
  return `${slow.length} process${slow.length === 1 ? ' was' : 'es were'} not read whole within the scan's budget (pid ${pids}): their waits are not shown, and no deadlock among them is ruled out`;
}

/** The classes of PostgreSQL waits that are lock waits: shown among the waits (the others are idle or I/O). */
const PG_LOCK_CLASSES = new Set(['Lock', 'LWLock', 'BufferPin']);

/**
 * PostgreSQL's own waits, from each server's main shared memory (./postgres): a backend waiting for
 * a heavyweight lock sleeps on its latch in epoll_wait, so the kernel shows no lock at all; it
 * becomes a wait on the lock's place in the region, held by the backends that block it. A backend's
 * LWLock wait is a futex wait on its semaphore in the region: named by its tranche. Returns the
 * notes (an unknown version, a region that could not be decoded).
 */
async function postgresWaits(list: readonly RawThread[], waits: Wait[], scope: Scope, lookupFor: (viewer: number) => ThreadLookup, budgetMs: number): Promise<string[]> {
  const pids = [...new Set(list.filter((t) => t.comm === 'postgres' && t.tid === t.pid).map((t) => t.pid))];
  if (!pids.length) return [];
  // The pids stored in a server's memory are counted in its PID namespace: through the scope, never taken as ours.
  /** A process id stored by `viewer`'s server → ours: only a process's main thread (a stale number is no one's). */
  const translate = (viewer: number) => {
    const lookup = lookupFor(viewer);
    return (pid: number) => {
      const i = lookup(pid);
      return i && (i.tid ?? pid) === i.pid ? i.pid : undefined;
    };
  };
  const clusters = await postgresClusters(pids, budgetMs, translate).catch((e: unknown) => [{ notes: [`reading PostgreSQL's shared memory failed: ${e instanceof Error ? e.message : String(e)}`], backends: [] }]);
  const byTid = new Map(list.map((t) => [t.tid, t]));
  const notes: string[] = [];
  for (const c of clusters) {
    notes.push(...c.notes);
    if (!('postmaster' in c)) continue;
    const hostPid = translate(c.viewer);
    const foreign = !scope.samePid(c.viewer);
    for (const b of c.backends) {
      if (!b.waitEventType || !b.waitEvent || !PG_LOCK_CLASSES.has(b.waitEventType)) continue;
      const host = hostPid(b.pid);
      const t = host === undefined ? undefined : byTid.get(host);
      if (!t) continue; // ended meanwhile
      const event = `${b.waitEventType}/${b.waitEvent}`;
      const blockers = (b.lock?.blockedBy ?? []).map((pid) => ({ ns: pid, host: hostPid(pid) }));
      const pg: PostgresWait = {
        postmaster: c.postmaster, waitEventType: b.waitEventType, waitEvent: b.waitEvent, state: null,
        ...(b.lock ? { lock: { ...b.lock.tag, mode: b.lock.mode } } : {}),
        blockedBy: blockers.flatMap((x) => (x.host === undefined ? [] : [x.host])),
        ...(foreign ? { nsPid: b.pid, nsBlockedBy: blockers.map((x) => x.ns) } : {}),
      };
      // Its LWLock wait, already seen as a futex wait on its semaphore: named by the tranche.
      const onSem = waits.find((w) => w.tid === t.tid && w.object.id === c.inode && w.offset === b.semOffset);
      if (onSem) {
        onSem.path = event;
        onSem.op = `PostgreSQL ${b.waitEventType} ${b.waitEvent}`;
        onSem.postgres = pg;
        continue;
      }
      if (waits.some((w) => w.tid === t.tid)) continue;
      waits.push({
        pid: t.pid, tid: t.tid, command: '', thread: t.comm, syscall: SYSCALL_NAMES[t.nr] ?? `syscall ${t.nr}`,
        object: { target: c.target, kind: 'anon', id: c.inode, name: `PostgreSQL main shared memory of postmaster pid ${c.postmaster || c.nsPostmaster}` },
        offset: b.lock?.offset ?? null, path: event,
        op: b.lock ? `PostgreSQL ${b.lock.mode} on ${tagText(b.lock.tag)}` : `PostgreSQL ${b.waitEventType} ${b.waitEvent}`,
        since: null, blockedMs: t.blockedMs ?? null, stuck: false, ownerDied: false, lastChangedBy: [],
        // A blocker not among the threads seen (ended meanwhile) is a holder that is gone, never a host process of the same number.
        heldBy: blockers.map((x) => ({ pid: x.host ?? null, tid: x.host ?? null, ...(foreign ? { nsTid: x.ns } : {}), command: null, alive: x.host !== undefined })),
        postgres: pg,
      });
    }
  }
  return notes;
}

/** Could this thread wait on an object of its IPC or mount namespace (not on private memory, not on a region)? */
function onIpcObject(t: RawThread): boolean {
  const syscall = SYSCALLS[t.nr];
  if (syscall === 'futex' || syscall === 'futex_waitv') return (t.futexes ?? []).some((f) => f.map !== undefined && /^\/(SYSV|dev\/shm\/)/.test(f.map.path));
  if (syscall === 'flock' || syscall === 'fcntl') return t.fdPath?.startsWith('/dev/shm/') === true;
  return syscall !== undefined;
}

/** Another IPC namespace a waiter is in: how it is named, and its System V objects as seen from inside. */
interface ForeignNamespace {
  ref: NamespaceRef;
  /** Its listing (semaphore sets with their last pids); undefined when it could not be entered. */
  raw?: RawNsList;
}

/**
 * The other IPC namespaces of the waiting processes, each entered once (its semaphore sets and
 * hostname) and named by the first process the scan saw in it, as `list` names it.
 */
async function foreignNamespaces(waiters: number[], all: RawThread[], scope: Scope, budgetMs: number): Promise<Map<number, ForeignNamespace>> {
  const wanted = new Set<number>();
  for (const pid of waiters) {
    const ipc = scope.foreignIpc(pid);
    if (ipc !== undefined) wanted.add(ipc);
  }
  const out = new Map<number, ForeignNamespace>();
  if (!wanted.size) return out;
  const first = new Map<number, number>();
  for (const t of all) {
    const ipc = scope.foreignIpc(t.pid);
    if (ipc !== undefined && wanted.has(ipc) && !(first.get(ipc)! <= t.pid)) first.set(ipc, t.pid);
  }
  await Promise.all([...first].map(async ([ipc, pid]) => {
    // Entered by the scan's budget: a namespace that does not answer gives no last pids, never a hang.
    const raw = await nsRaw(pid, budgetMs).catch(() => undefined);
    out.set(ipc, { ref: await namespaceRef(ipc, pid, raw?.hostname ?? ''), ...(raw ? { raw } : {}) });
  }));
  return out;
}

/** What explaining one thread needs: TIDs as it counts them, the host's, /proc/locks, its namespace when not ours. */
interface Context {
  scope: Scope;
  /** TID → host thread, for TIDs the waiter (and whoever shares its memory) wrote. */
  threads: ThreadLookup;
  /** Host pid → thread, for pids the kernel tells (a semaphore's last pid, /proc/locks). */
  host: ThreadLookup;
  locks: ProcLock[];
  ns?: ForeignNamespace;
}

/** What one wait is; `value` (the waited word) and `changedMs` (the kernel's last change) feed "stuck". */
type Explained = Pick<Wait, 'object' | 'offset' | 'path' | 'op' | 'heldBy'> & Partial<Pick<Wait, 'lastChangedBy'>> & { lock?: LockState; value?: string; changedMs?: number; futexCmd?: string };

/** The object in the waiter's namespace: marked with it when that is not ours. */
function scoped(object: WaitObject, ns: ForeignNamespace | undefined): WaitObject {
  return ns ? { ...object, namespace: ns.ref } : object;
}

function explain(t: RawThread, syscall: string, ctx: Context): Explained[] {
  const args = t.args!;
  const out: Explained[] = [];
  switch (syscall) {
    case 'futex':
    case 'futex_waitv': {
      const cmd = Number(args[1]! & 0x7fn);
      if (syscall === 'futex' && !(cmd in FUTEX_CMD)) break;
      for (const f of t.futexes ?? []) {
        const w = explainFutex(t.pid, f, ctx, syscall === 'futex' ? FUTEX_CMD[cmd]! : 'wait');
        if (w) out.push(w);
      }
      break;
    }
    case 'semop':
    case 'semtimedop': {
      const id = Number(args[0]!);
      const ops = t.sembufs ?? [];
      // The operations that block: a decrement below zero, or a wait for zero.
      const blocking = ops.filter((o) => o.op <= 0);
      let pids: number[] = [];
      let changedMs: number | undefined;
      // The set the id names in the waiter's IPC namespace: a container's set 0 is not ours.
      if (ctx.ns) {
        const rec = ctx.ns.raw?.sem.find((s) => s.id === id);
        if (rec) {
          pids = rec.pids;
          if (rec.otime || rec.ctime) changedMs = (rec.otime || rec.ctime) * 1000;
        }
      } else {
        try {
          const rec = semGet(id);
          pids = rec.pids;
          const t = Date.parse(rec.otime ?? rec.ctime ?? '');
          if (Number.isFinite(t)) changedMs = t;
        } catch {
          // removed meanwhile, or not readable: no holders to name
        }
      }
      // The kernel keeps only the pid of the last operation (a hint, not an owner: it has none),
      // counted in the PID namespace of whoever asks: ours, here.
      const lastChangedBy: Holder[] = [];
      for (const o of blocking) {
        const pid = pids[o.num];
        if (pid && !lastChangedBy.some((h) => h.pid === pid)) lastChangedBy.push({ pid, tid: null, command: null, alive: ctx.host(pid) !== undefined });
      }
      out.push({
        object: scoped({ target: `sem:${id}`, kind: 'sem', id, name: null }, ctx.ns),
        offset: null,
        path: ops.length ? blocking.map((o) => `sem[${o.num}]`).join(',') || null : null,
        op: ops.length ? `${syscall} ${ops.map((o) => `${o.num}:${o.op > 0 ? '+' : ''}${o.op}`).join(' ')}` : `${syscall} (operations unreadable: ${t.sembufError ?? 'unknown'})`,
        heldBy: [],
        lastChangedBy,
        value: `${id}`,
        changedMs,
      });
      break;
    }
    case 'msgrcv':
    case 'msgsnd': {
      const id = Number(args[0]!);
      const op = syscall === 'msgrcv' ? `msgrcv type ${BigInt.asIntN(64, args[3]!)}` : 'msgsnd (queue full)';
      out.push({ object: scoped({ target: `msg:${id}`, kind: 'msg', id, name: null }, ctx.ns), offset: null, path: null, op, heldBy: [] });
      break;
    }
    case 'mq_timedreceive':
    case 'mq_timedsend': {
      const name = t.fdPath && t.fdPath.startsWith('/') && !t.fdPath.slice(1).includes('/') ? t.fdPath : null;
      out.push({
        // POSIX message queues live in the IPC namespace too (its mqueue filesystem).
        object: scoped({ target: name ? `mq:${name}` : null, kind: 'posix-mq', id: t.fdInode ?? null, name: name ?? t.fdPath ?? null }, ctx.ns),
        offset: null, path: null, op: syscall === 'mq_timedreceive' ? 'mq receive (queue empty)' : 'mq send (queue full)', heldBy: [],
      });
      break;
    }
    case 'flock':
    case 'fcntl': {
      const cmd = Number(args[1]!);
      if (syscall === 'fcntl' && cmd !== F_SETLKW && cmd !== F_OFD_SETLKW) break;
      if (!t.fdPath) break;
      const obj = objectOfMapping(t.fdPath, t.fdInode ?? 0, 's');
      if (!obj) break;
      // /proc/locks counts pids in our PID namespace.
      const holders = ctx.locks.filter((l) => !l.blocked && l.inode === t.fdInode && l.pid !== t.pid);
      out.push({
        object: inScope(obj, t.pid, ctx), offset: null, path: null, op: syscall === 'flock' ? 'flock' : 'fcntl lock',
        heldBy: holders.map((h) => ({ pid: h.pid, tid: null, command: null, alive: ctx.host(h.pid) !== undefined })),
      });
      break;
    }
  }
  return out;
}

/**
 * A mapped object in the waiter's scope: a System V segment belongs to its IPC namespace, a
 * /dev/shm object or a mapped path to its mount namespace. Another namespace's is marked with it
 * (and a region path of another mount namespace is no target of ours).
 */
function inScope(object: WaitObject, pid: number, ctx: Context): WaitObject {
  if (object.kind === 'shm') return scoped(object, ctx.ns);
  if (ctx.scope.sameMnt(pid)) return object;
  if (object.kind === 'posix-shm' || object.kind === 'posix-sem') return scoped(object, ctx.ns ?? { ref: { ipc: ctx.scope.of(pid)?.ipc ?? 0, pid, label: `mount namespace ${ctx.scope.of(pid)?.mnt ?? '?'}` } });
  if (object.kind === 'file') return { ...object, target: null };
  return object;
}

function explainFutex(pid: number, f: RawFutexRef, ctx: Context, cmd: string): Explained | undefined {
  const m = f.map;
  if (!m) return undefined;
  const mapped = objectOfMapping(m.path, m.inode, m.perms);
  if (!mapped) return undefined;
  const object = inScope(mapped, pid, ctx);
  const offset = Number(f.addr - m.start + m.offset);
  const window = f.window ? new Uint8Array(f.window.buffer, f.window.byteOffset, f.window.byteLength) : undefined;
  const at = window && f.windowStart !== undefined ? Number(f.addr - f.windowStart) : -1;
  const word = window && at >= 0 && at + 4 <= window.length ? new DataView(window.buffer, window.byteOffset).getUint32(at, true) : undefined;
  let lock: LockState | undefined;
  let op = `futex ${cmd}`;
  if (object.kind === 'posix-sem') {
    if (window && at >= 0) lock = lockState('sem', window.subarray(at));
    op = 'sem_t sem wait';
  } else if (window && at >= 0) {
    const g = guessPrimitive(window, at, ctx.threads);
    if (g && g.start >= 0) {
      lock = lockState(g.kind, window.subarray(g.start), ctx.threads);
      if (lock.invalid) lock = undefined;
      else op = opOf(g.kind, at - g.start);
    }
  }
  return { object, offset, path: null, op, heldBy: holdersOf(lock, ctx.threads, !ctx.scope.samePid(pid)), lock, value: word === undefined ? undefined : String(word), futexCmd: cmd };
}

/**
 * The owner of a mutex or rwlock, its TID translated to ours through `threads` (`foreign` when
 * the waiter counts TIDs in another PID namespace: then an owner not found there has no TID of ours).
 */
function holdersOf(lock: LockState | undefined, threads: ThreadLookup, foreign: boolean): Holder[] {
  if (lock?.owner === undefined || (lock.primitive !== 'mutex' && lock.primitive !== 'rwlock')) return [];
  const th = threads(lock.owner);
  return [{
    pid: th?.pid ?? null,
    tid: th?.tid ?? (foreign ? null : lock.owner),
    ...(foreign ? { nsTid: lock.owner } : {}),
    command: null,
    alive: th !== undefined && th.alive && !lock.ownerDied,
  }];
}

/**
 * Names the fields of futex waits with the bound schemas: the field at the waited offset, and the
 * primitive it is (a bound schema knows better than a guess). Objects of another namespace are
 * not opened: their ids and names are not ours.
 */
async function nameFields(waits: (Wait & { value?: string; futexCmd?: string })[], schemas: readonly Schema[], scope: Scope, hostThreads: HostThread[], host: ThreadLookup): Promise<void> {
  const decoders = new BoundDecoders(schemas);
  try {
    for (const w of waits) {
      const cmd = w.futexCmd;
      delete w.futexCmd;
      if (decoders.empty || w.offset === null || !w.object.target || w.object.namespace || cmd === undefined) continue;
      const threads = scope.lookupFor(w.pid, hostThreads, host);
      const root = await decoders.root(w.object.target, threads, String(scope.of(w.pid)?.pid ?? 0));
      const bound = root ? primitiveAt(root, w.offset) : undefined;
      if (!bound) continue;
      w.path = bound.path || null;
      if (bound.node.lock) {
        const lock = bound.node.lock;
        w.lock = lock;
        w.op = lock.primitive === 'futex' ? `futex ${cmd}` : opOf(lock.primitive, w.offset - bound.node.offset);
        w.heldBy = holdersOf(lock, threads, !scope.samePid(w.pid));
      }
    }
  } finally {
    decoders.close();
  }
}

/** One line of /proc/locks: who holds (or waits for, `blocked`) a lock on which inode. */
export interface ProcLock {
  pid: number;
  inode: number;
  blocked: boolean;
  type: string;
}

/** Parses /proc/locks ("1: POSIX  ADVISORY  WRITE 4242 00:1a:1234 0 EOF"; waiters carry "->"). */
export function parseProcLocks(text: string): ProcLock[] {
  const out: ProcLock[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\s+(->\s+)?(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/i.exec(line);
    if (!m) continue;
    const pid = Number(m[5]);
    const inode = Number(m[8]);
    if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(inode)) continue;
    out.push({ pid, inode, blocked: !!m[1], type: m[2]! });
  }
  return out;
}

async function procLocks(): Promise<ProcLock[]> {
  try {
    return parseProcLocks(await readFile('/proc/locks', 'latin1'));
  } catch {
    return [];
  }
}

/**
 * `since` from the history, and "stuck": no change on the object for `stuckAfterMs`. A change is a
 * new value of the waited word (or of the decoded lock), or the kernel's own time of the last
 * operation where it keeps one (a System V semaphore set's otime), so one scan can tell it too.
 */
function markTimes(waits: (Wait & { changedMs?: number; value?: string })[], history: WaitHistory | undefined, stuckAfterMs: number, now: number): void {
  const seen = new Set<string>();
  for (const w of waits) {
    const key = `${w.tid}|${w.syscall}|${w.object.target ?? w.object.name}|${w.offset}|${w.op}`;
    const value = `${w.value ?? ''}|${JSON.stringify(w.lock ?? null)}`;
    let changed = w.changedMs;
    if (history) {
      seen.add(key);
      let h = history.entries.get(key);
      if (!h) history.entries.set(key, (h = { first: now, value, changed: now }));
      else if (h.value !== value) Object.assign(h, { value, changed: now });
      w.since = new Date(h.first).toISOString();
      changed = Math.max(changed ?? 0, h.changed);
    }
    // Off CPU that long is stuck by the kernel's own clock: one scan tells it.
    w.stuck = (changed !== undefined && now - changed >= stuckAfterMs) || (w.blockedMs != null && w.blockedMs >= stuckAfterMs);
    delete w.changedMs;
    delete w.value;
  }
  if (history) for (const k of [...history.entries.keys()]) if (!seen.has(k)) history.entries.delete(k);
}

/**
 * Cycles of the graph thread → holder thread (a holder named by TID, alive), each reported once.
 * Only owners are edges (`heldBy`; a semaphore's last changer is not one, so a consumer that last
 * changed the set it waits on is no cycle). A thread blocked on a mutex that it owns itself (a
 * normal mutex locked twice) is a real deadlock: a cycle of one.
 */
export function cycles(waits: Pick<Wait, 'pid' | 'tid' | 'heldBy'>[]): { pid: number; tid: number }[][] {
  const edges = new Map<number, Set<number>>();
  const pidOf = new Map<number, number>();
  for (const w of waits) {
    pidOf.set(w.tid, w.pid);
    for (const h of w.heldBy) {
      if (h.tid === null || !h.alive) continue;
      if (!edges.has(w.tid)) edges.set(w.tid, new Set());
      edges.get(w.tid)!.add(h.tid);
      if (h.pid !== null) pidOf.set(h.tid, h.pid);
    }
  }
  const found = new Map<string, number[]>();
  // Each thread waits on few objects: a bounded DFS from every node finds the simple cycles through it.
  const start = [...edges.keys()].sort((a, b) => a - b);
  for (const s of start) {
    const stack: number[] = [s];
    const walk = (n: number, depth: number) => {
      if (depth > 64) return;
      for (const next of edges.get(n) ?? []) {
        if (next === s) {
          const min = Math.min(...stack);
          const i = stack.indexOf(min);
          const cyc = [...stack.slice(i), ...stack.slice(0, i)];
          found.set(cyc.join(','), cyc);
        } else if (next > s && !stack.includes(next)) {
          stack.push(next);
          walk(next, depth + 1);
          stack.pop();
        }
      }
    };
    walk(s, 0);
  }
  return [...found.values()].map((c) => c.map((tid) => ({ pid: pidOf.get(tid) ?? tid, tid })));
}


/**
 * What to do about a wait on a dead owner, said for the CLI and the Waits view's tooltip: a robust
 * mutex hands the next locker EOWNERDEAD; a non-robust one stays locked forever (the processes
 * that wait on it must restart); a System V semaphore last changed by a dead process was released
 * by the kernel at its exit only if its operation had SEM_UNDO — which the kernel does not show.
 */
export function adviceOf(w: Wait, r: Pick<WaitsReport, 'waits'>): string | undefined {
  const lock = w.lock;
  if (lock?.primitive === 'mutex' && lock.inconsistent) {
    return 'taken after its owner died (EOWNERDEAD) and not yet made consistent: its holder must repair the data and call pthread_mutex_consistent before unlocking, or the mutex becomes unusable (ENOTRECOVERABLE)';
  }
  if (lock?.primitive === 'mutex' && lock.notRecoverable) {
    return 'unlocked after its owner died without pthread_mutex_consistent: every lock now fails with ENOTRECOVERABLE; the mutex must be re-initialised by all its users together (restart them)';
  }
  if (w.ownerDied) {
    if (lock?.robust) {
      return 'the owner died holding this robust mutex: the next locker gets EOWNERDEAD from pthread_mutex_lock and must repair the data and call pthread_mutex_consistent (a thread blocked in the kernel is woken with it)';
    }
    const pids = [...new Set(r.waits.filter((x) => sameObject(x, w) && x.ownerDied).map((x) => x.pid))].sort((a, b) => a - b);
    return `not a robust mutex: it stays locked forever now that its owner died; the processes that use it must restart (waiting on it now: pid ${pids.join(', ')}) after it is re-initialised or the object recreated`;
  }
  const dead = w.lastChangedBy.filter((h) => !h.alive && h.pid !== null);
  if (w.object.kind === 'sem' && dead.length) {
    return `last changed by pid ${dead.map((h) => h.pid).join(', ')}, which no longer exists: had that operation been made with SEM_UNDO, the kernel undid it when the process exited; whether it was is unknown (the kernel keeps the adjustment per process and shows it nowhere, not in /proc). If it held the semaphore, post it (shmscope sem ${w.object.target ?? `sem:${w.object.id}`} post${w.path ? ` ${/\d+/.exec(w.path)?.[0] ?? ''}` : ''})`;
  }
  // The program's own word on it (its rule's advice), when the kernel's facts call for none.
  return w.meaning?.advice;
}

const sameObject = (a: Wait, b: Wait) => a.object.target === b.object.target && a.object.id === b.object.id && a.offset === b.offset && a.object.namespace?.ipc === b.object.namespace?.ipc;
