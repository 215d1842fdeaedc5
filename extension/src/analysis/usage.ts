// "Why is /dev/shm full?" and "what may I delete?": every /dev/shm we can see (ours and each
// container's own, in its mount namespace), /dev/mqueue and the System V totals, each object with
// its memory, its holders and its verdict (`shmscope df`); and the leftovers among them, removed
// through the façade's own removal paths (`shmscope gc`). No vscode import.
import { list } from '../ipc/list';
import { limitValue } from '../ipc/limits';
import { nsPosixShmRemove, nsRemove } from '../ipc/namespaces';
import { remove } from '../ipc/objects';
import { readSysctl } from '../ipc/procfs';
import type { IpcRecord, Kind, Listing, NamespaceRef } from '../ipc/types';
import { memoryOf } from './memory';
import { allRecords, holdersOf, listingFacts, targetText, verdictOf, type ObjectHolder, type VerdictFacts, type VerdictState } from './verdict';

/** One object as df shows it. */
export interface UsageObject {
  target: string;
  kind: Kind;
  name: string;
  size: number;
  resident: number | null;
  swapped: number | null;
  pss: number | null;
  holders: ObjectHolder[];
  verdict: VerdictState;
  reasons: string[];
  owner?: string;
}

/** One mount: ours (namespace null) or a container's; size, used and available in bytes (null when unknown). */
export interface UsageMount {
  path: string;
  namespace: NamespaceRef | null;
  size: number | null;
  used: number | null;
  available: number | null;
  /** used / size, in percent with one decimal; null when unknown. */
  percent: number | null;
  objects: UsageObject[];
}

/** System V shared memory against its limits. */
export interface SysvUsage {
  segments: number;
  shmmni: number | string | null;
  /** Bytes of every segment together, and the pages they take against shmall. */
  bytes: number;
  pages: number;
  shmall: number | string | null;
  /** pages / shmall in percent (null when shmall is "no limit"). */
  percent: number | null;
  objects: UsageObject[];
}

export interface UsageReport {
  mounts: UsageMount[];
  sysv: SysvUsage;
  notes: string[];
}

const PAGE = 4096;
const pct = (used: number, size: number) => (size > 0 ? Math.round((used / size) * 1000) / 10 : null);

function nameOf(r: IpcRecord): string {
  if ('name' in r) return r.name;
  if (r.kind === 'file') return r.path;
  return String(r.id);
}

function sizeOf(r: IpcRecord): number {
  if ('size' in r) return r.size;
  if (r.kind === 'posix-sem') return r.allocated ?? 0;
  if (r.kind === 'posix-mq') return (r.messages ?? 0) * (r.messageSize ?? 0); // at most: its queued messages
  if (r.kind === 'msg') return r.bytes;
  return 0;
}

function usageObject(r: IpcRecord, facts: VerdictFacts, mem: Map<IpcRecord, { resident: number | null; swapped: number | null; pss: number | null }>): UsageObject {
  const v = verdictOf(r, facts);
  const m = mem.get(r);
  return {
    target: targetText(r) ?? '',
    kind: r.kind,
    name: nameOf(r),
    size: sizeOf(r),
    resident: m?.resident ?? null,
    swapped: m?.swapped ?? null,
    pss: m?.pss ?? null,
    holders: holdersOf(r),
    verdict: v.verdict,
    reasons: v.reasons,
    ...(v.owner ? { owner: v.owner } : {}),
  };
}

const biggestFirst = (a: UsageObject, b: UsageObject) => (b.resident ?? b.size) - (a.resident ?? a.size) || b.size - a.size || (a.name < b.name ? -1 : 1);

/** The listing df and gc read: segments, POSIX objects and queues, ours and (as asked) other namespaces'. */
export async function usageListing(namespaces: 'all' | number | undefined): Promise<Listing> {
  return list(['shm', 'sem', 'msg', 'posix-shm', 'posix-sem', 'posix-mq'], namespaces === undefined ? {} : { namespaces });
}

/** The df report of a listing; `facts` default to the listing's own. */
export async function usageReport(l: Listing, facts: VerdictFacts = listingFacts(l)): Promise<UsageReport> {
  const notes = [...l.notes];
  const { use, slow } = await memoryOf(allRecords(l));
  if (slow.length) notes.push(`the memory use (smaps) of ${slow.length} process(es) did not answer in time (pid ${slow.slice(0, 10).join(', ')}): their objects' resident bytes may be low`);
  const obj = (r: IpcRecord) => usageObject(r, facts, use);
  const mount = (path: string, namespace: NamespaceRef | null, space: { size: number; free: number; available: number } | undefined, records: IpcRecord[]): UsageMount => {
    const used = space ? space.size - space.free : null;
    return {
      path,
      namespace,
      size: space?.size ?? null,
      used,
      available: space?.available ?? null,
      percent: space && used !== null ? pct(used, space.size) : null,
      objects: records.map(obj).sort(biggestFirst),
    };
  };
  const mounts: UsageMount[] = [mount('/dev/shm', null, l.devShm, [...l.posixShm, ...l.posixSem])];
  mounts.push(mount('/dev/mqueue', null, undefined, l.posixMq));
  for (const ns of l.namespaces ?? []) {
    if (ns.unlisted && !ns.posixShm.length) continue;
    if (!ns.devShm && !ns.posixShm.length) continue; // shares our /dev/shm (or its own was not listed: a note says why)
    mounts.push(mount('/dev/shm', ns.namespace, ns.devShm, ns.posixShm));
  }
  const shmall = readSysctl('/proc/sys/kernel/shmall')?.[0];
  const shmmni = readSysctl('/proc/sys/kernel/shmmni')?.[0];
  const pages = l.shm.reduce((a, r) => a + Math.ceil(r.size / PAGE), 0);
  const limit = shmall === undefined ? null : limitValue(shmall);
  const sysv: SysvUsage = {
    segments: l.shm.length,
    shmmni: shmmni === undefined ? null : limitValue(shmmni),
    bytes: l.shm.reduce((a, r) => a + r.size, 0),
    pages,
    shmall: limit,
    percent: typeof limit === 'number' ? pct(pages, limit) : null,
    objects: l.shm.map(obj).sort(biggestFirst),
  };
  return { mounts, sysv, notes };
}

/** How users name a mount: "/dev/shm", "/dev/shm of container web (pid 4242)". */
export function mountLabel(m: UsageMount): string {
  return m.namespace ? `${m.path} of container ${m.namespace.label} (pid ${m.namespace.pid})` : m.path;
}

// ---------------------------------------------------------------------------------------------
// gc: the leftovers, and their removal.

/** A leftover gc would remove (or did), with where it lives. */
export interface GcCandidate {
  target: string;
  kind: Kind;
  name: string;
  size: number;
  verdict: VerdictState;
  reasons: string[];
  owner?: string;
  /** The container whose object it is, or null for ours. */
  namespace: NamespaceRef | null;
  /** Filled by removal: null when removed, else why not. */
  error?: string | null;
}

/** The kinds gc may remove: regions go by themselves when their last holder does. */
export const GC_KINDS: readonly Kind[] = ['shm', 'sem', 'msg', 'posix-shm', 'posix-sem', 'posix-mq'];

type WithNs = IpcRecord & { namespace?: NamespaceRef };

/** Every leftover of the listing (of `kinds`), biggest first; never an object in use or unknown. */
export function gcCandidates(l: Listing, facts: VerdictFacts = listingFacts(l), kinds: readonly Kind[] = GC_KINDS): { candidate: GcCandidate; record: WithNs }[] {
  const out: { candidate: GcCandidate; record: WithNs }[] = [];
  for (const r of allRecords(l) as WithNs[]) {
    if (!kinds.includes(r.kind) || !GC_KINDS.includes(r.kind)) continue;
    const v = verdictOf(r, facts);
    if (v.verdict !== 'leftover') continue;
    out.push({
      record: r,
      candidate: {
        target: targetText(r) ?? '',
        kind: r.kind,
        name: nameOf(r),
        size: sizeOf(r),
        verdict: v.verdict,
        reasons: v.reasons,
        ...(v.owner ? { owner: v.owner } : {}),
        namespace: r.namespace ?? null,
      },
    });
  }
  return out.sort((a, b) => b.candidate.size - a.candidate.size || (a.candidate.target < b.candidate.target ? -1 : 1));
}

/**
 * Removes one leftover through the façade's own paths: a POSIX object by its /dev/shm dirfd, checked
 * to be the inode listed (ours through our own root, a container's inside its root); a System V
 * object by id (in its namespace when it is a container's). Resolves to null when removed, else the reason.
 */
export async function removeLeftover(r: WithNs): Promise<string | null> {
  try {
    const ns = r.namespace;
    if (r.kind === 'posix-shm' || r.kind === 'posix-sem') {
      const file = r.kind === 'posix-sem' ? `sem.${r.name.slice(1)}` : r.name.slice(1);
      await nsPosixShmRemove(ns ? ns.pid : process.pid, file, r.id);
    } else if (r.kind === 'shm' || r.kind === 'sem' || r.kind === 'msg') {
      if (ns) await nsRemove(ns.pid, r.kind, r.id);
      else remove({ kind: r.kind, id: r.id });
    } else if (r.kind === 'posix-mq') {
      remove({ kind: 'posix-mq', name: r.name });
    } else {
      return 'not removable';
    }
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
