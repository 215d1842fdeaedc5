// Where processes map an object, address by address: the views that turn a process address into
// an offset and flag absolute pointers stored in a segment (shared/address.ts), and whose TIDs a
// lock's owner is counted in. Only the processes that map *this* object count: a segment of the
// same id in another IPC namespace, or a /dev/shm name in another mount namespace, is another
// object. From /proc/PID/maps, read natively off the JS thread. No vscode import.
import type { ProcessView } from '../shared/address';
import type { ThreadLookup } from '../shared/schema';
import { binding } from '../ipc/native';
import { scanMaps } from '../ipc/procfs';
import { parseTarget, type Target } from '../ipc/target';
import { Scope } from './scope';
import { hostThreadsOf, lookupOf, scanThreads, SCAN_BUDGET_MS } from './waits';

const SYSV = /^\/SYSV[0-9a-f]{8}(?: \(deleted\))?$/;

/**
 * The processes among `pids` that map this object: of our IPC namespace for a segment, of our
 * mount namespace's /dev/shm for a POSIX object (or those of process `as`, for another namespace's object).
 */
export function mappersInScope(kind: 'shm' | 'posix-shm', pids: readonly number[], scope: Scope, as?: number): number[] {
  return pids.filter((pid) => (kind === 'shm' ? scope.sameIpc(pid, as) : scope.sameMnt(pid, as)));
}

/**
 * Every mapping of a System V segment or POSIX shm object by the processes we may read: our
 * namespace's object, or with `as` the object of the namespace of that process.
 */
export async function processViews(target: Target | string, scope: Scope = new Scope(), as?: number): Promise<ProcessView[]> {
  const t = typeof target === 'string' ? parseTarget(target, 'shm') : target;
  if (t.kind !== 'shm' && t.kind !== 'posix-shm') return [];
  const scan = await scanMaps();
  const pids = mappersInScope(t.kind, t.kind === 'shm' ? scan.sysv.get(t.id) ?? [] : scan.devShm.get(t.name.slice(1)) ?? [], scope, as);
  const views: ProcessView[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      let maps;
      try {
        maps = await binding().mapsOf(pid, 1000);
      } catch {
        return; // ended meanwhile, or not ours to read
      }
      for (const m of maps) {
        const hit = t.kind === 'shm' ? SYSV.test(m.path) && m.inode === t.id : m.path === `/dev/shm${t.name}`; // an unlinked object once of that name is another object
        if (hit) views.push({ pid, start: m.start, end: m.end, offset: m.offset });
      }
    }),
  );
  return views.sort((a, b) => a.pid - b.pid || (a.start < b.start ? -1 : 1));
}

/**
 * TID → thread for the owners stored in an object: counted in the PID namespace of the processes
 * that map it (ours when one of them is in ours, else the first mapper's, translated through NSpid).
 */
export async function ownerLookup(views: readonly ProcessView[], scope: Scope = new Scope(), budgetMs = SCAN_BUDGET_MS): Promise<ThreadLookup> {
  const raw = await scanThreads(budgetMs);
  const host = lookupOf(raw.threads);
  const pids = [...new Set(views.map((v) => v.pid))];
  if (pids.length === 0 || pids.some((p) => scope.samePid(p))) return host;
  return scope.lookupFor(pids[0]!, hostThreadsOf(raw.threads), host);
}

/** Where each process maps a memfd, anonymous region or file, as the scan found it: the views addressToOffset takes. */
export function regionViews(r: { attachedBy: readonly { pid: number; address: string; length: number; offset: number }[] }): ProcessView[] {
  return r.attachedBy
    .map((m) => ({ pid: m.pid, start: BigInt(m.address), end: BigInt(m.address) + BigInt(m.length), offset: BigInt(m.offset) }))
    .sort((a, b) => a.pid - b.pid || (a.start < b.start ? -1 : 1));
}
