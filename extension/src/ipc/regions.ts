// Shared memory that only /proc shows: memfd objects, shared anonymous regions and regular files
// mapped MAP_SHARED (DESIGN.md §2, "Beyond these"). The native scanner reads every /proc/PID/maps
// and memfd fd off the JS thread; this module groups its rows into records, matches System V and
// /dev/shm attachments within our own namespaces, and opens a region through the least privilege
// that works: the file itself, a holder's fd, the mapping's map_files entry, then /proc/PID/mem.
import { existsSync, readFileSync } from 'node:fs';
import { escapeControl } from '../shared/escape';
import { IpcError, native, toIpcError, userError } from './errors';
import { binding, type RawRegionFile, type RawSharedScan } from './native';
import { emptyScan, MAPS_BUDGET_MS, processEnded, userNames, type MapsScan } from './procfs';
import type { RegionTarget } from './target';
import type { AnonRecord, Attacher, FdHolder, FileRecord, MemfdRecord, PosixSemRecord, PosixShmRecord, RegionMapping, RegionRecord, RingRecord, RingSubkind } from './types';

/** What one scan found: the three kinds of region, and the namespaces of every readable process. */
export interface RegionScan {
  memfd: MemfdRecord[];
  anon: AnonRecord[];
  file: FileRecord[];
  /** /dev/shm objects and named semaphores unlinked while mapped or held (`unlinked: true`). */
  posixShm: PosixShmRecord[];
  posixSem: PosixSemRecord[];
  /** Kernel-shared rings, one per mapping. */
  ring: RingRecord[];
  /** pid → its IPC and mount namespace inodes (0 when unreadable). */
  processes: Map<number, { ipc: number; mnt: number }>;
  /** Our own namespaces. */
  self: { ipc: number; mnt: number };
  /** pid → System V segment ids it maps, one entry per mapping. */
  sysv: Map<number, number[]>;
  /** pid → /dev/shm names it maps (whichever mount namespace's /dev/shm that is). */
  devShm: Map<number, string[]>;
  /** Every descriptor of a /dev/shm file, in any mount namespace (the inode tells which file). */
  devShmFds: { pid: number; name: string; fd: number; ino: number }[];
  /** The same scan as procfs.scanMaps gives (System V and /dev/shm attachments), from this one pass over /proc. */
  maps: MapsScan;
  unreadable: number;
  /** Processes not read within the scan's budget: what they map is not shown. */
  slow: number[];
  /** Mapped files on FUSE or network mounts: never asked anything (owner unknown, size from the mappings). */
  served?: number;
}

/** Groups the native rows into records, each sorted by pid then address. */
export function buildRegions(raw: RawSharedScan, userName: (uid: number) => string): RegionScan {
  const commands = new Map<number, string>();
  const processes = new Map<number, { ipc: number; mnt: number }>();
  const P = raw.processes;
  for (let i = 0; i + 2 < P.length; i += 3) processes.set(P[i]!, { ipc: P[i + 1]!, mnt: P[i + 2]! });
  for (let i = 0; i + 1 < raw.commands.length; i += 2) commands.set(raw.commands[i] as number, raw.commands[i + 1] as string);
  const command = (pid: number) => commands.get(pid) ?? '?';
  // Row indices per region, sorted by pid then address before any object is made.
  const M = raw.maps;
  const rows: number[][] = raw.regions.map(() => []);
  for (let i = 0; i + 6 < M.length; i += 7) rows[M[i]!]?.push(i);
  const byRow = (a: number, b: number) => M[a + 1]! - M[b + 1]! || M[a + 2]! - M[b + 2]! || M[a + 3]! - M[b + 3]!;
  // The scanner gives the processes in pid order and each one's mappings in address order, so a
  // region's rows are sorted already: checked in one pass, sorted only when they are not.
  const inOrder = <T>(list: T[], cmp: (a: T, b: T) => number): T[] => {
    for (let k = 1; k < list.length; k++) if (cmp(list[k - 1]!, list[k]!) > 0) return list.sort(cmp);
    return list;
  };
  // Forked processes map a region at the same address: one string per address, not per mapping.
  const addresses = new Map<number, Map<number, string>>();
  const addressOf = (hi: number, lo: number): string => {
    let byLo = addresses.get(hi);
    if (!byLo) addresses.set(hi, (byLo = new Map<number, string>()));
    let a = byLo.get(lo);
    if (a === undefined) byLo.set(lo, (a = `0x${hi ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16)}`));
    return a;
  };
  const mapping = (i: number): RegionMapping => {
    const pid = M[i + 1]!;
    return { pid, command: command(pid), address: addressOf(M[i + 2]!, M[i + 3]!), length: M[i + 4]!, offset: M[i + 5]!, writable: M[i + 6] === 1 };
  };
  const fds: FdHolder[][] = raw.regions.map(() => []);
  // The fds our own open handles hold are not the user's: a region that only we hold is gone for
  // them (the inspector shows it removed), so it is not listed.
  const F = raw.fds;
  for (let i = 0; i + 2 < F.length; i += 3) if (F[i + 1] !== process.pid) fds[F[i]!]?.push({ pid: F[i + 1]!, command: command(F[i + 1]!), fd: F[i + 2]! });
  const out: RegionScan = { memfd: [], anon: [], file: [], posixShm: [], posixSem: [], ring: [], processes, self: raw.self, sysv: new Map(), devShm: new Map(), devShmFds: [], unreadable: raw.unreadable, slow: raw.slow, maps: emptyScan() };
  const packets = new Map<number, Set<number>>();
  raw.regions.forEach((r, i) => {
    if (rows[i]!.length === 0 && fds[i]!.length === 0) return;
    const common = {
      id: r.ino,
      key: 0,
      dev: r.dev,
      uid: r.uid,
      user: r.statKnown ? userName(r.uid) : '?',
      gid: r.gid,
      mode: r.mode & 0o777,
      size: r.size,
      statKnown: r.statKnown,
      attachedBy: inOrder(rows[i]!, byRow).map(mapping),
    };
    const holders = () => inOrder(fds[i]!, (a, b) => a.pid - b.pid || a.fd - b.fd);
    if (r.kind === 'memfd') out.memfd.push({ kind: 'memfd', name: r.name, ...common, fdHolders: holders() });
    else if (r.kind === 'anon') out.anon.push({ kind: 'anon', name: r.name, ...common });
    else if (r.kind === 'posix') unlinkedRecord(r.name, common, holders(), out);
    else if (r.kind === 'ring') out.ring.push(...ringRecords(r.name, common, fds[i]!, packets));
    else out.file.push({ kind: 'file', path: r.name, deleted: r.deleted, ...common });
    if (r.served) out.served = (out.served ?? 0) + 1;
  });
  out.memfd.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  out.anon.sort((a, b) => a.id - b.id);
  out.file.sort((a, b) => a.path.localeCompare(b.path));
  out.posixShm.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  out.posixSem.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  out.ring.sort((a, b) => a.pid - b.pid || a.address.localeCompare(b.address));
  const ms = out.maps;
  ms.unreadable = raw.unreadable;
  ms.unreadablePids = raw.unreadablePids ?? [];
  ms.slow = raw.slow;
  const Q = raw.mqFds ?? [];
  for (let i = 0; i + 3 < Q.length; i += 4) {
    const pid = Q[i] as number;
    if (pid === process.pid) continue;
    const name = Q[i + 1] as string;
    const row = { pid, fd: Q[i + 2] as number, ino: Q[i + 3] as number };
    const list = ms.mqFds.get(name);
    if (list) list.push(row);
    else ms.mqFds.set(name, [row]);
    ms.commands.set(pid, command(pid));
  }
  if (raw.devShmFds) {
    ms.fdTablesRead = true;
    const D = raw.devShmFds;
    for (let i = 0; i + 3 < D.length; i += 4) {
      const pid = D[i] as number;
      if (pid === process.pid) continue; // our own handles are not the user's
      const name = D[i + 1] as string;
      const row = { pid, fd: D[i + 2] as number, ino: D[i + 3] as number };
      out.devShmFds.push({ name, ...row });
      const list = ms.devShmFds.get(name);
      if (list) list.push(row);
      else ms.devShmFds.set(name, [row]);
      ms.commands.set(pid, command(pid));
    }
  }
  // Linear in the rows: one process may map one object tens of thousands of times, so nothing
  // here copies a list or searches one per row (a seen-set per key instead).
  const seen = new Map<unknown, Set<number>>();
  const addPid = <K>(map: Map<K, number[]>, key: K, pid: number) => {
    let pids = seen.get(key);
    if (!pids) seen.set(key, (pids = new Set()));
    if (pids.has(pid)) return;
    pids.add(pid);
    const list = map.get(key);
    if (!list) map.set(key, [pid]);
    else list.push(pid);
  };
  seen.clear();
  for (let i = 0; i + 1 < raw.sysv.length; i += 2) {
    const pid = raw.sysv[i]!;
    const id = raw.sysv[i + 1]!;
    const list = out.sysv.get(pid);
    if (list) list.push(id);
    else out.sysv.set(pid, [id]);
    addPid(ms.sysv, id, pid);
    ms.sysvMappings.set(id, (ms.sysvMappings.get(id) ?? 0) + 1);
    ms.commands.set(pid, command(pid));
  }
  seen.clear();
  for (let i = 0; i + 1 < raw.devShm.length; i += 2) {
    const pid = raw.devShm[i] as number;
    const name = raw.devShm[i + 1] as string;
    addPid(ms.devShm, name, pid);
    const ino = raw.devShmInodes?.[i / 2];
    if (ino) addPid(ms.devShmByInode, ino, pid);
    const names = out.devShm.get(pid);
    if (names) names.push(name);
    else out.devShm.set(pid, [name]);
    ms.commands.set(pid, command(pid));
  }
  for (const list of ms.sysv.values()) list.sort((a, b) => a - b);
  for (const list of ms.devShm.values()) list.sort((a, b) => a - b);
  return out;
}

type RegionFields = Omit<RegionRecord, 'kind' | 'name' | 'path' | 'deleted' | 'fdHolders'>;

/**
 * An unlinked /dev/shm entry ("sem.NAME" is a named semaphore, as glibc names them): a POSIX
 * record of its kind, reached through its holders. Its semaphore value is left to the caller.
 */
function unlinkedRecord(file: string, r: RegionFields, fdHolders: FdHolder[], out: RegionScan): void {
  const pids = new Map<number, Attacher>();
  for (const h of [...r.attachedBy, ...fdHolders]) if (!pids.has(h.pid)) pids.set(h.pid, { pid: h.pid, command: h.command });
  const attachedBy = [...pids.values()].sort((a, b) => a.pid - b.pid);
  const common = { id: r.id, key: 0, uid: r.uid, user: r.user, gid: r.gid, mode: r.mode, mtime: null, attachedBy, unlinked: true as const, dev: r.dev, mappings: r.attachedBy, fdHolders };
  if (file.startsWith('sem.')) out.posixSem.push({ kind: 'posix-sem', name: `/${file.slice(4)}`, ...common, value: null, unreadable: null });
  else out.posixShm.push({ kind: 'posix-shm', name: `/${file}`, ...common, size: r.size });
}

/** What part of a ring a mapping is, by the offset its owner mapped (the kernel's IORING_OFF_*, XDP_PGOFF_*). */
function ringPart(subkind: RingSubkind, offset: number): string {
  if (subkind === 'io_uring') return offset === 0 ? 'SQ/CQ rings' : offset === 0x8000000 ? 'CQ ring' : offset === 0x10000000 ? 'SQEs' : `offset 0x${offset.toString(16)}`;
  if (subkind === 'xdp') {
    const parts: Record<number, string> = { 0: 'RX ring', 0x80000000: 'TX ring', 0x100000000: 'fill ring', 0x180000000: 'completion ring' };
    return parts[offset] ?? `offset 0x${offset.toString(16)}`;
  }
  if (subkind === 'packet') return 'RX/TX ring';
  if (subkind === 'perf') return offset === 0 ? 'metadata and data pages' : 'aux pages';
  return `offset 0x${offset.toString(16)}`;
}

/** Inodes of the packet sockets of a process's network namespace, read once per scan per pid. */
function packetInodes(pid: number, cache: Map<number, Set<number>>): Set<number> {
  let inodes = cache.get(pid);
  if (inodes) return inodes;
  inodes = new Set();
  try {
    // "sk RefCnt Type Proto Iface R Rmem User Inode": the inode is the last column.
    for (const line of readFileSync(`/proc/${pid}/net/packet`, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 9) inodes.add(Number(cols[cols.length - 1]));
    }
  } catch {
    /* gone, or no packet sockets: none */
  }
  cache.set(pid, inodes);
  return inodes;
}

/**
 * One record per mapping of a ring. A socket is a packet socket when its network namespace's
 * /proc/net/packet lists its inode; else an AF_XDP socket when mapped writable (its rings are),
 * else some other socket (TCP's zero-copy receive maps read-only).
 */
function ringRecords(link: string, r: RegionFields, fds: FdHolder[], packets: Map<number, Set<number>>): RingRecord[] {
  // Its fds by pid, once (a perf event's inode is shared by every mapping of every process).
  const byPid = new Map<number, FdHolder[]>();
  for (const f of fds) {
    const list = byPid.get(f.pid);
    if (list) list.push(f);
    else byPid.set(f.pid, [f]);
  }
  return r.attachedBy.map((m) => {
    let subkind: RingSubkind = link === 'anon_inode:[io_uring]' ? 'io_uring' : link === 'anon_inode:[perf_event]' ? 'perf' : 'socket';
    if (subkind === 'socket') subkind = packetInodes(m.pid, packets).has(r.id) ? 'packet' : m.writable ? 'xdp' : 'socket';
    const mine = byPid.get(m.pid) ?? [];
    return {
      kind: 'ring',
      subkind,
      part: ringPart(subkind, m.offset),
      ...r,
      size: m.length,
      statKnown: false,
      user: '?',
      attachedBy: [m],
      pid: m.pid,
      command: m.command,
      fd: mine.length === 1 ? mine[0]!.fd : null,
      address: m.address,
    };
  });
}

/**
 * Test mode only (SHMSCOPE_TEST=1): while the file SHMSCOPE_TEST_HOLD_SCAN names exists, a scan of
 * every process waits before it starts, as on a machine where the scan takes long; the test that
 * made the file removes it to let the scan go on. What shows before the scan ends is then tested
 * without a sleep or a timing.
 */
async function testHold(): Promise<void> {
  const file = process.env.SHMSCOPE_TEST === '1' ? process.env.SHMSCOPE_TEST_HOLD_SCAN : undefined;
  while (file && existsSync(file)) await new Promise((r) => setTimeout(r, 50));
}

/** Scans every process (or only `pids`) for shared regions, off the JS thread. */
export async function scanRegions(pids?: number[], budgetMs = MAPS_BUDGET_MS): Promise<RegionScan> {
  const c = { action: 'scanning', object: 'the memory maps of every process' };
  let raw: RawSharedScan;
  if (!pids) await testHold();
  try {
    raw = await native(c, () => binding().scanShared(pids, budgetMs));
  } catch (e) {
    throw toIpcError(e, c);
  }
  return buildRegions(raw, userNames());
}

// ---------------------------------------------------------------------------------------------
// Opening a region.

/** How users name a region in a sentence. */
export function describeRegion(t: RegionTarget): string {
  switch (t.kind) {
    case 'file':
      return `file ${escapeControl(t.path)}`;
    case 'memfd':
      return `memfd ${t.id}`;
    case 'anon':
      return `anonymous region ${t.id}`;
    case 'unlinked':
      return `unlinked ${t.of === 'posix-shm' ? 'POSIX shared memory' : 'POSIX semaphore'} (inode ${t.id})`;
    case 'ring':
      return `ring of process ${t.pid} at ${t.address}`;
  }
}

/** What a region target finds in a scan: a region, an unlinked POSIX object or a ring. */
export type FoundRegion = RegionRecord | PosixShmRecord | PosixSemRecord | RingRecord;

/** Its mappings and fds, whatever its kind (the routes to its bytes and the processes to ask again). */
function reach(r: FoundRegion): { dev: number; id: number; mappings: RegionMapping[]; fds: FdHolder[] } {
  if (r.kind === 'posix-shm' || r.kind === 'posix-sem') return { dev: r.dev ?? 0, id: r.id, mappings: r.mappings ?? [], fds: r.fdHolders ?? [] };
  return { dev: r.dev, id: r.id, mappings: r.attachedBy, fds: r.kind === 'memfd' ? r.fdHolders : [] };
}

/** One way to reach the bytes: a path to open, and for /proc/PID/mem the mapping's address and length. */
interface Route {
  path: string;
  dev: number;
  ino: number;
  base?: string;
  length?: number;
  /** What it needs, for the sentence when every route is refused. */
  needs: string;
  pid?: number;
}

function routes(found: FoundRegion): Route[] {
  const out: Route[] = [];
  const r = reach(found);
  if (found.kind === 'ring') {
    // Only its owner's memory: a ring is no file (map_files and fd routes cannot open it).
    const m = found.attachedBy[0]!;
    return [{ path: `/proc/${m.pid}/mem`, dev: 0, ino: 0, base: m.address, length: m.length, needs: `ptrace access to process ${m.pid} (for /proc/${m.pid}/mem)`, pid: m.pid }];
  }
  for (const h of r.fds) out.push({ path: `/proc/${h.pid}/fd/${h.fd}`, dev: r.dev, ino: r.id, needs: `access to the fds of process ${h.pid}`, pid: h.pid });
  const hex = (a: string) => BigInt(a).toString(16);
  for (const m of r.mappings) {
    if (m.offset !== 0) continue; // map_files opens the whole object; mem reads the mapping: keep offsets equal
    const end = `0x${(BigInt(m.address) + BigInt(m.length)).toString(16)}`;
    out.push({ path: `/proc/${m.pid}/map_files/${hex(m.address)}-${hex(end)}`, dev: r.dev, ino: r.id, needs: 'CAP_SYS_ADMIN (for /proc/PID/map_files)', pid: m.pid });
  }
  // /proc/PID/mem last: the widest mapping first, so that the most bytes are visible.
  const widest = [...r.mappings].filter((m) => m.offset === 0).sort((a, b) => b.length - a.length);
  for (const m of widest) {
    out.push({ path: `/proc/${m.pid}/mem`, dev: r.dev, ino: r.id, base: m.address, length: m.length, needs: `ptrace access to process ${m.pid} (for /proc/${m.pid}/mem)`, pid: m.pid });
  }
  return out;
}

/** The byte handle over a region, with the removal banner's status (shared with objects.ts's handles). */
export class RegionHandle {
  private holders: number[];
  private removed = false;
  private checking = false;
  private lastCheck = 0;
  /** The process whose /proc/PID/mem this reads (a ring, an anonymous region), else 0. */
  private readonly memPid: number;

  constructor(
    readonly target: RegionTarget,
    private readonly raw: RawRegionFile,
    /** Processes that mapped or held it when opened: the status check asks them again. */
    holders: number[],
    /** How it was reached: "/proc/123/fd/4", for the log. */
    readonly via: string,
    /** How a schema's `segment … for memfd "NAME" | file "/path" | anon of "COMMAND" | posix "/NAME"` names it (a ring: by nothing). */
    readonly identity: { kind: 'memfd' | 'file' | 'anon' | 'posix'; value: string } | undefined,
  ) {
    this.holders = [...new Set(holders)];
    this.memPid = Number(/^\/proc\/(\d+)\/mem$/.exec(via)?.[1] ?? 0);
  }

  /**
   * A read through a process's memory comes back short (nothing, once its memory is gone) when
   * that process ends: said as such, ESRCH in one line, rather than as bytes missing or an object
   * that shrank.
   */
  private checkEnded(got: number, wanted: number): void {
    if (this.memPid > 0 && got < wanted && processEnded(this.memPid)) {
      throw userError('ESRCH', 'pread', `process ${this.memPid} ended while ${describeRegion(this.target)} was being read: its memory is gone`);
    }
  }

  private ctx(action: string) {
    return { action, object: describeRegion(this.target) };
  }
  get readOnly(): boolean {
    return this.raw.readOnly;
  }
  get size(): number {
    return native(this.ctx('reading'), () => this.raw.size());
  }
  read(offset: number, length: number): Uint8Array {
    const bytes = native(() => this.ctx('reading'), () => this.raw.read(offset, length));
    this.checkEnded(bytes.length, length);
    return bytes;
  }
  readInto(buf: Uint8Array, offset: number): number {
    const got = native(() => this.ctx('reading'), () => this.raw.readInto(buf, offset));
    if (this.memPid > 0) this.checkEnded(got, Math.min(buf.length, Math.max(0, this.raw.size() - offset)));
    return got;
  }
  write(offset: number, bytes: Uint8Array): void {
    native(() => this.ctx('writing'), () => this.raw.write(offset, bytes));
  }

  /**
   * A file is removed when its last name is; a memfd or anonymous region when no process maps or
   * holds it any more (our own fd keeps its bytes readable). That second check scans /proc, so it
   * runs in the background, at most once a second, and this answers with what it last found.
   */
  status(): { size: number; removed: boolean } {
    const st = native(this.ctx('reading'), () => this.raw.stat());
    if (this.target.kind === 'file') return { size: st.size, removed: st.links === 0 };
    if (!this.removed && !this.checking && Date.now() - this.lastCheck > 1000) {
      this.checking = true;
      void this.recheck().finally(() => {
        this.checking = false;
        this.lastCheck = Date.now();
      });
    }
    return { size: st.size, removed: this.removed };
  }

  /** Whether any process still maps or holds it: those seen last, else (to be sure) all of them. */
  async recheck(): Promise<boolean> {
    const find = (s: RegionScan) => findRegion(s, this.target);
    try {
      let found = find(await scanRegions(this.holders));
      if (!found) found = find(await scanRegions());
      const ours = process.pid;
      const r = found && reach(found);
      const pids = r ? [...r.mappings.map((m) => m.pid), ...r.fds.map((h) => h.pid)].filter((p) => p !== ours) : [];
      if (pids.length) this.holders = [...new Set(pids)];
      else this.removed = true;
    } catch {
      /* a failed scan says nothing: ask again later */
    }
    return !this.removed;
  }

  close(): void {
    this.raw.close();
  }
}

/**
 * Reads a ring's first byte: some are mapped by the kernel as raw page frames (perf's pages, by
 * remap_pfn_range), which /proc/PID/mem cannot read (EIO). Said at open, in one sentence, rather
 * than as a failed read later.
 */
function probeRing(raw: RawRegionFile, r: RingRecord): void {
  try {
    raw.read(0, 1);
  } catch (e) {
    raw.close();
    if ((e as { code?: string }).code !== 'EIO') throw e;
    throw userError('EIO', 'read', `the ${r.subkind} ${r.part} of process ${r.pid} at ${r.address} is mapped by the kernel as raw page frames, which /proc/${r.pid}/mem cannot read: it is listed, not readable`);
  }
}

function openRoute(route: Route, readWrite: boolean): RawRegionFile {
  return new (binding().RegionFile)(route.path, readWrite, route.dev, route.ino, route.base ?? '0x0', route.length ?? -1);
}

/** Finds a region of the listing by its target (for a file, the live one of that name before a deleted one). */
export function findRegion(scan: RegionScan, t: RegionTarget): FoundRegion | undefined {
  if (t.kind === 'file') return scan.file.find((r) => r.path === t.path && !r.deleted) ?? scan.file.find((r) => r.path === t.path);
  if (t.kind === 'ring') return scan.ring.find((r) => r.pid === t.pid && BigInt(r.address) === BigInt(t.address));
  if (t.kind === 'unlinked') return (t.of === 'posix-shm' ? scan.posixShm : scan.posixSem).find((r: { id: number }) => r.id === t.id);
  return (t.kind === 'memfd' ? scan.memfd : scan.anon).find((r: { id: number }) => r.id === t.id);
}

/** A file on a FUSE or network mount (by its path, or a deleted one through a holder): refused, one sentence. */
function refuseServed(err: IpcError, object: string): void {
  if (err.code !== 'EXDEV' || !/ is on a \S+ filesystem/.test(err.detail)) return;
  const kind = / is on a (\S+) filesystem/.exec(err.detail)?.[1] ?? 'served';
  throw userError('EXDEV', 'open', `${object} is on a ${kind} filesystem, which its server or the network can stop answering: shmscope does not read files there (dump a copy)`);
}

/**
 * Opens a file by its path with no symbolic link followed at any component (regular files only,
 * read with pread), and when the scan saw it mapped, only if it is still that inode.
 */
function openFileByPath(t: RegionTarget & { kind: 'file' }, readWrite: boolean, mapped: FileRecord | undefined): RegionHandle {
  const c = { action: readWrite ? 'opening read-write' : 'opening', object: describeRegion(t) };
  let raw: RawRegionFile;
  try {
    raw = new (binding().RegionFile)(t.path, readWrite, mapped?.dev ?? 0, mapped?.id ?? 0, '0x0', -1);
  } catch (e) {
    const err = toIpcError(e, c);
    if (err.code === 'ELOOP') throw userError('ELOOP', 'open', `${c.object} is a symbolic link or is reached through one: name the file itself`);
    if (err.code === 'EINVAL' && err.detail.includes('not a regular file')) throw userError('EINVAL', 'open', `${c.object} is not a regular file (a FIFO, a device or a folder holds no mapped bytes)`);
    refuseServed(err, c.object);
    if (err.code === 'ESTALE') throw userError('ESTALE', 'open', `${c.object} is another file now than the one mapped (inode ${mapped?.id}): list again`);
    throw err;
  }
  const holders = mapped ? mapped.attachedBy.map((m) => m.pid) : [];
  return new RegionHandle(t, raw, holders, t.path, { kind: 'file', value: t.path });
}

/**
 * Opens a region read-only (or read-write when asked). A file by its path, checked against the
 * inode the scan saw mapped under that name (a file not mapped by anyone is opened by its path
 * alone); a deleted file, a memfd, an anonymous region or an unlinked POSIX object through each
 * route in turn (a holder's fd, the mapping's map_files entry, /proc/PID/mem: never a path guessed
 * from the maps line), a ring through its process's /proc/PID/mem only and always read-only; and
 * when every one is refused, an EACCES that says which privilege is missing.
 */
export async function openRegion(t: RegionTarget, readWrite: boolean): Promise<RegionHandle> {
  const scan = await scanRegions();
  const found = findRegion(scan, t);
  if (t.kind === 'file' && (!found || !(found as FileRecord).deleted)) {
    return openFileByPath(t, readWrite, found as FileRecord | undefined);
  }
  if (!found) {
    const hint = scan.unreadable > 0 ? ` (or it is in one of the ${scan.unreadable} processes whose maps we may not read)` : '';
    throw userError('ENOENT', 'open', `${describeRegion(t)} does not exist: no process maps or holds it${hint}`);
  }
  return openFound(t, found, readWrite);
}

/** Opens what a scan found (see openRegion) through each of its holders in turn. */
export function openFound(t: RegionTarget, r: FoundRegion, readWrite: boolean): RegionHandle {
  const c = { action: readWrite ? 'opening read-write' : 'opening', object: describeRegion(t) };
  const refused: Route[] = [];
  let last: IpcError | undefined;
  // A ring is the kernel's: read, never written, whatever the session asked.
  const rw = readWrite && r.kind !== 'ring';
  for (const route of routes(r)) {
    if (route.pid === process.pid) continue; // our own earlier handle: not a holder to borrow from
    try {
      const raw = openRoute(route, rw);
      if (r.kind === 'ring') probeRing(raw, r);
      const { mappings, fds } = reach(r);
      const holders = [...mappings.map((m) => m.pid), ...fds.map((h) => h.pid)];
      const identity =
        r.kind === 'memfd' ? { kind: 'memfd' as const, value: r.name }
        : r.kind === 'file' ? { kind: 'file' as const, value: r.path }
        : r.kind === 'posix-shm' ? { kind: 'posix' as const, value: r.name }
        : r.kind === 'anon' ? { kind: 'anon' as const, value: r.attachedBy[0]?.command ?? '?' }
        : undefined;
      return new RegionHandle(t, raw, holders, route.path, identity);
    } catch (e) {
      const err = toIpcError(e, c);
      refuseServed(err, c.object);
      last = err;
      if (err.code === 'EACCES' || err.code === 'EPERM') refused.push(route);
      // ENOENT/ESRCH: that process ended meanwhile; ESTALE: its fd is something else now. Next route.
    }
  }
  if (refused.length) {
    const needs = [...new Set(refused.map((x) => x.needs))];
    throw userError('EACCES', 'open', `permission denied ${c.action} ${c.object}: it needs ${needs.join(', or ')}`);
  }
  throw last ?? userError('ENOENT', 'open', `${c.object} is no longer mapped by any process we can read`);
}
