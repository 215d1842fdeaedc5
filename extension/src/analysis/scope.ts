// Where an answer holds: the IPC, mount and PID namespace of each process and object. Ids repeat
// across IPC namespaces (a container's set 0 is not ours), /dev/shm names across mount namespaces,
// and a TID stored in shared memory (a mutex's owner) is the one its writer saw in its own PID
// namespace. Every view (list, waits, holders, pointer notes, Go to Offset by address, the
// explorer's badges) asks this one model rather than comparing ids. No vscode import.
import { namespacesOf, nsPidsOf, type ProcessNamespaces } from '../ipc/namespaces';
import type { ThreadInfo, ThreadLookup } from '../shared/schema';

/** How the scope learns about processes: the /proc readers of the façade, or a test's tables. */
export interface ScopeReader {
  namespaces(pid: number): ProcessNamespaces | undefined;
  /** NSpid of a thread: its ids from our PID namespace down to its own. */
  nsPids(pid: number, tid: number): number[] | undefined;
}

export const procReader: ScopeReader = { namespaces: namespacesOf, nsPids: nsPidsOf };

/** A thread as the host knows it: its process and thread ids in our PID namespace. */
export interface HostThread {
  pid: number;
  tid: number;
  comm: string;
  alive: boolean;
}

/** The namespaces of the processes one answer looks at, read once each. */
export class Scope {
  readonly self: ProcessNamespaces;
  private readonly known = new Map<number, ProcessNamespaces | null>();
  /** PID namespace inode → (TID there → host thread). */
  private readonly tables = new Map<number, Map<number, HostThread>>();

  constructor(
    private readonly reader: ScopeReader = procReader,
    selfPid: number = process.pid,
  ) {
    this.self = reader.namespaces(selfPid) ?? { ipc: 0, mnt: 0, pid: 0, uts: 0 };
  }

  /** The namespaces of `pid`; undefined when they are not readable (then it counts as ours: what we cannot tell apart, we never split). */
  of(pid: number): ProcessNamespaces | undefined {
    let ns = this.known.get(pid);
    if (ns === undefined) {
      ns = this.reader.namespaces(pid) ?? null;
      this.known.set(pid, ns);
    }
    return ns ?? undefined;
  }

  private differs(pid: number, which: 'ipc' | 'mnt' | 'pid', from?: number): boolean {
    const mine = from === undefined ? this.self[which] : this.of(from)?.[which] ?? 0;
    const theirs = this.of(pid)?.[which] ?? 0;
    return mine !== 0 && theirs !== 0 && mine !== theirs;
  }

  /** Does `pid` see our System V objects (the same IPC namespace), or those of process `as`? */
  sameIpc(pid: number, as?: number): boolean {
    return !this.differs(pid, 'ipc', as);
  }

  /** Does `pid` see our /dev/shm (the same mount namespace), or that of process `as`? */
  sameMnt(pid: number, as?: number): boolean {
    return !this.differs(pid, 'mnt', as);
  }

  /** Does `pid` count processes as we do (the same PID namespace)? */
  samePid(pid: number): boolean {
    return !this.differs(pid, 'pid');
  }

  /** The IPC namespace inode of `pid` when it is not ours, else undefined. */
  foreignIpc(pid: number): number | undefined {
    return this.differs(pid, 'ipc') ? this.of(pid)!.ipc : undefined;
  }

  /**
   * TID → host thread as process `viewer` counts TIDs (its PID namespace): what a TID written in
   * shared memory that `viewer` maps means. In our own PID namespace that is `host` itself; in
   * another, each thread of that namespace is translated through its NSpid, so a container's
   * TID 22 is its own thread (host TID 4242), never our TID 22 (a kernel thread, say).
   */
  lookupFor(viewer: number, threads: readonly HostThread[], host: ThreadLookup): ThreadLookup {
    if (this.samePid(viewer)) return host;
    const pidNs = this.of(viewer)!.pid;
    // Built on the first TID asked (most waits are on private memory and ask none), once per namespace.
    return (tid): ThreadInfo | undefined => {
      let table = this.tables.get(pidNs);
      if (!table) {
        table = new Map();
        for (const t of threads) {
          if (this.of(t.pid)?.pid !== pidNs) continue;
          const ids = this.reader.nsPids(t.pid, t.tid);
          if (ids && ids[0] === t.tid) table.set(ids[ids.length - 1]!, t);
        }
        this.tables.set(pidNs, table);
      }
      const t = table.get(tid);
      return t ? { pid: t.pid, tid: t.tid, name: t.comm, alive: t.alive } : undefined;
    };
  }
}
