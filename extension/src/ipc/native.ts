// The raw binding of native/ (shmscope.node) as C++ exports it, and the loader that finds it.
// Only the façade modules of this folder call it; they normalise arguments so C++ sees canonical
// input (it validates again) and turn its errors into IpcError.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The ipc_perm part of every System V stat: mode is the permission bits. */
export interface RawIpcPerm {
  id: number;
  key: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
}

export interface RawShmStat extends RawIpcPerm {
  removed: boolean;
  locked: boolean;
  size: number;
  nattch: number;
  cpid: number;
  lpid: number;
  atime: number;
  dtime: number;
  ctime: number;
}

export interface RawShmSegment {
  readonly id: number;
  readonly size: number;
  readonly readOnly: boolean;
  readonly attached: boolean;
  read(offset: number, length: number): Buffer;
  readInto(target: Uint8Array, offset: number): number;
  write(offset: number, bytes: Uint8Array): void;
  stat(): RawShmStat;
  detach(): void;
}

export interface RawPosixStat {
  size: number;
  uid: number;
  gid: number;
  mode: number;
  inode: number;
  links: number;
  mtime: number;
}

export interface RawPosixShm {
  readonly name: string;
  readonly readOnly: boolean;
  size(): number;
  stat(): RawPosixStat;
  read(offset: number, length: number): Buffer;
  readInto(target: Uint8Array, offset: number): number;
  write(offset: number, bytes: Uint8Array): void;
  truncate(size: number): void;
  close(): void;
}

export interface RawSemInfo extends RawIpcPerm {
  nsems: number;
  otime: number;
  ctime: number;
  values: number[];
  ncnt: number[];
  zcnt: number[];
  pids: number[];
}

export interface RawSemOp {
  num: number;
  op: number;
  undo?: boolean;
}

/** A wait running on its own native thread. */
export interface RawWait {
  promise: Promise<void>;
  cancel(): void;
}

export interface RawPosixSem {
  readonly name: string;
  value(): number;
  post(): void;
  tryWait(): boolean;
  wait(timeoutMs: number): RawWait;
  close(): void;
}

export interface RawMsgStat extends RawIpcPerm {
  messages: number;
  bytes: number;
  qbytes: number;
  lspid: number;
  lrpid: number;
  stime: number;
  rtime: number;
  ctime: number;
}

/** A /dev/shm listed by the addon: names, 6 stat fields per name, allocated bytes per name, the filesystem's totals. */
export interface RawDevShmList {
  names: string[];
  stats: Float64Array;
  blocks?: Float64Array;
  fs?: { size: number; free: number; available: number; type: string; device: string };
  truncated: boolean;
}

/** scanShared(): regions by (dev, inode), their mappings and memfd fds, and every readable process. */
export interface RawSharedScan {
  regions: { kind: 'memfd' | 'anon' | 'file' | 'posix' | 'ring'; dev: number; ino: number; name: string; deleted: boolean; statKnown: boolean; served?: boolean; size: number; uid: number; gid: number; mode: number }[];
  /** Flat, 7 numbers per mapping: region, pid, start >> 32, start & 0xffffffff, length, offset, writable (0/1). */
  maps: Float64Array;
  /** Flat, 3 numbers per fd of a memfd, an unlinked /dev/shm object or a mapped ring: region, pid, fd. */
  fds: Float64Array;
  /** Flat pairs (pid, shmid), one per System V mapping. */
  sysv: Float64Array;
  /** pid, name, pid, name, …: one per mapping of a /dev/shm object (name without the folder). */
  devShm: (number | string)[];
  /** The inode of each devShm row's mapping (a named semaphore is mapped under its temporary, deleted name). */
  devShmInodes?: Float64Array;
  /** pid, name, fd, inode, …: one per descriptor of a /dev/shm file (name without the folder). */
  devShmFds?: (number | string)[];
  /** pid, name ("/jobs"), fd, inode, …: one per descriptor of a POSIX message queue of our /dev/mqueue. */
  mqFds?: (number | string)[];
  /** Flat, 3 numbers per readable process: pid, IPC namespace inode, mount namespace inode. */
  processes: Float64Array;
  /** pid, command, pid, command, …: the processes that map or hold a region. */
  commands: (number | string)[];
  unreadable: number;
  /** The pids of the processes counted in `unreadable`. */
  unreadablePids?: number[];
  /** Processes not read by the budget (their memory lock held, or still stuck from a scan before). */
  slow: number[];
  self: { ipc: number; mnt: number };
}

/** A region opened by path (length < 0: a regular file) or through /proc/PID/mem at `base`. */
export interface RawRegionFile {
  readonly readOnly: boolean;
  size(): number;
  stat(): { size: number; links: number };
  read(offset: number, length: number): Buffer;
  readInto(target: Uint8Array, offset: number): number;
  write(offset: number, bytes: Uint8Array): void;
  close(): void;
}

/** nsList(): another IPC namespace's System V objects, stat'ed from a thread that entered it. */
export interface RawNsList {
  /** Rows as shmStatAll's. */
  shm: Float64Array;
  sem: (RawIpcPerm & { nsems: number; otime: number; ctime: number; readable: boolean; values: number[]; ncnt: number[]; zcnt: number[]; pids: number[] })[];
  msg: (RawIpcPerm & { messages: number; bytes: number; qbytes: number; lspid: number; lrpid: number; stime: number; rtime: number; ctime: number })[];
  hostname: string;
}

/** A mapping of /proc/PID/maps (addresses as bigint: they pass 2^53 on some machines). */
export interface RawMapping {
  start: bigint;
  end: bigint;
  /** File offset of `start` (pgoff). */
  offset: bigint;
  inode: number;
  dev: string;
  perms: string;
  path: string;
}

/** One futex word a thread waits on, with its mapping and the bytes around it (pread of /proc/PID/mem). */
export interface RawFutexRef {
  addr: bigint;
  flags: number;
  map?: RawMapping;
  windowStart?: bigint;
  window?: Buffer;
  /** Why the bytes are missing (errno name). */
  memError?: string;
}

/**
 * One thread of scanThreads(). `nr` is the system call it is in, -1 when in none, -2 running,
 * -3 when we may not read it. The other fields exist only for the IPC waits the scanner explains.
 */
export interface RawThread {
  pid: number;
  tid: number;
  comm: string;
  state: string;
  nr: number;
  args?: bigint[];
  wchan?: string;
  futexes?: RawFutexRef[];
  sembufs?: { num: number; op: number; flg: number }[];
  sembufError?: string;
  fdPath?: string;
  fdDev?: number;
  fdInode?: number;
  fdError?: string;
  /** How long a blocked thread has been off CPU (the scheduler's se.exec_start), when told. */
  blockedMs?: number;
  /** Other waits (scanThreads with `all`): the descriptors the call names, then the set it watches. */
  fds?: RawWaitFd[];
  /** Descriptors in the watched set (poll, select, epoll), named or not (at most 64 are named). */
  watchedTotal?: number;
  /** A sleep's request (nanosleep, clock_nanosleep). */
  sleep?: { sec: number; nsec: number; clock: number; absolute: boolean };
}

/** A descriptor an other wait names: its /proc/PID/fd link, or why it could not be read. */
export interface RawWaitFd {
  fd: number;
  watched?: boolean;
  link?: string;
  error?: string;
  fifoInode?: number;
}

/** peersOf(): the Unix sockets' peers and every descriptor that is one of the links (or a peer). */
export interface RawPeers {
  peers: Record<string, number>;
  /** `flags`: the descriptor's access mode, O_RDONLY 0, O_WRONLY 1 or O_RDWR 2; -1 when neither or not told. */
  holders: Record<string, { pid: number; fd: number; flags: number }[]>;
  complete: boolean;
  diagError?: string;
}

export interface RawBinding {
  abiVersion: number;
  shmGet(key: number, size: number, mode: number, create: boolean, exclusive: boolean): number;
  shmStat(id: number): RawShmStat;
  shmRemove(id: number): void;
  ShmSegment: new (id: number, readWrite: boolean) => RawShmSegment;
  PosixShm: new (name: string, readWrite: boolean, create: boolean, exclusive: boolean, mode: number) => RawPosixShm;
  posixShmUnlink(name: string): void;
  semGet(key: number, nsems: number, mode: number, create: boolean, exclusive: boolean): number;
  semInfo(id: number): RawSemInfo;
  semSetVal(id: number, num: number, value: number): void;
  semSetAll(id: number, values: number[]): void;
  /** Non-blocking: true when done, false when it would block. */
  semOp(id: number, ops: RawSemOp[]): boolean;
  semOpAsync(id: number, ops: RawSemOp[], timeoutMs: number): RawWait;
  semRemove(id: number): void;
  PosixSem: new (name: string, create: boolean, exclusive: boolean, mode: number, value: number) => RawPosixSem;
  posixSemUnlink(name: string): void;
  msgGet(key: number, mode: number, create: boolean, exclusive: boolean): number;
  msgStat(id: number): RawMsgStat;
  msgSend(id: number, type: number, bytes: Uint8Array): void;
  msgPeek(id: number, index: number): { type: number; data: Buffer };
  msgRemove(id: number): void;
  mqGetattr(name: string): { maxMessages: number; messageSize: number; messages: number };
  mqCreate(name: string, mode: number, maxMessages: number, messageSize: number, exclusive: boolean): void;
  mqSend(name: string, bytes: Uint8Array, priority: number): void;
  mqUnlink(name: string): void;
  /**
   * Every segment via shmctl(SHM_STAT_ANY), flat: `shmStatFields` numbers per segment in the order
   * id, key, uid, gid, cuid, cgid, mode, size, nattch, cpid, lpid, atime, dtime, ctime; `used` is
   * the kernel's count (more than the rows found: fall back to /proc/sysvipc/shm).
   */
  shmStatAll(): { rows: Float64Array; used: number };
  shmStatFields: number;
  /**
   * Who maps what, from every /proc/PID/maps, parsed on a thread of its own and answered within
   * budgetMs: `commands` has the command line of each pid in `mappings`; `slow` the pids whose maps
   * did not answer in time (a process holding its memory lock); `complete` false when cut short.
   */
  scanMaps(budgetMs: number): Promise<{
    mappings: ({ pid: number; shmid: number } | { pid: number; file: string })[];
    commands: Record<string, string>;
    unreadable: number;
    slow: number[];
    complete: boolean;
  }>;
  /** Every shared region of /proc/PID/maps and memfd of /proc/PID/fd (of `pids` only, when given), off the JS thread. */
  scanShared(pids?: number[], budgetMs?: number): Promise<RawSharedScan>;
  RegionFile: new (path: string, readWrite: boolean, dev: number, ino: number, base: string, length: number) => RawRegionFile;
  /**
   * The entries of the /dev/shm of the mount namespace of `pid`, opened inside its root
   * (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS on /proc/PID/root) and only when it is a tmpfs;
   * on a thread of its own, answered by budgetMs (ETIMEDOUT). `stats` has 6 numbers per name:
   * inode, uid, gid, mode (with the type bits), size, mtime in ms.
   */
  nsDevShmList(pid: number, budgetMs: number): Promise<RawDevShmList>;
  /** Our own /dev/shm, listed the same way (not followed if it is a link). */
  devShmList(budgetMs: number): Promise<RawDevShmList>;
  /** Removes entry `name` (inode `ino`) of that /dev/shm through the same dirfd, with the filesystem rights of the owner of the process's user namespace when it is not ours. */
  nsDevShmUnlink(pid: number, name: string, ino: number, budgetMs: number): Promise<void>;
  /**
   * On a thread of its own that enters the IPC namespace of `pid` (CAP_SYS_ADMIN), waited for at
   * most `budgetMs` (5000 by default): then ETIMEDOUT, and that thread is left behind.
   */
  nsList(pid: number, budgetMs?: number): Promise<RawNsList>;
  nsShmRead(pid: number, id: number, offset: number, length: number): Promise<Buffer>;
  nsRemove(pid: number, kind: 'shm' | 'sem' | 'msg', id: number): Promise<void>;
  nsSem(pid: number, id: number, num: number, set: boolean, value: number): Promise<void>;
  nsMsgPeek(pid: number, id: number, index: number): Promise<{ type: number; data: Buffer }>;
  /**
   * Every thread's system call and, for IPC waits, what it waits on; read on a thread of its own
   * and answered by `budgetMs` with what it has: `slow` lists the processes not read in time.
   */
  scanThreads(budgetMs: number, all?: boolean): Promise<{ threads: RawThread[]; unreadable: number; truncated: boolean; slow: number[]; complete: boolean; blockedTimes: boolean }>;
  peersOf(links: string[], budgetMs: number): Promise<RawPeers>;
  /** One process's /proc/PID/maps, parsed on a thread of its own; rejects with the errno of the open, or ETIMEDOUT. */
  mapsOf(pid: number, budgetMs: number): Promise<RawMapping[]>;
  /** Command lines of some processes (pid → text), read on a thread of its own by the deadline; missing ones are left out. */
  commandsOf(pids: number[], budgetMs: number): Promise<Record<string, string>>;
  /**
   * Rss, Pss and Swap (bytes) of every shared mapping of an object (inode != 0) by these processes,
   * from /proc/PID/smaps, on a thread of its own by the deadline: flat, 6 per mapping: pid, inode,
   * path, rss, pss, swap; `slow` the processes not read in time.
   */
  smapsOf(pids: number[], budgetMs: number): Promise<{ rows: (number | string)[]; slow: number[] }>;
  /** Native wait threads still running (tests check that cancel and timeout end them). */
  waitsInFlight(): number;
  /** Test mode only (SHMSCOPE_TEST=1 when the addon loads): scans over every process started so far. */
  _testProcScans?: () => number;
  /** Test mode only: holds every /proc scan and off-thread job at its start (true) until released (false), as a process that does not answer would. */
  _testHoldScans?: (hold: boolean) => void;
  /** Test mode only: the addon's pool of threads (scan.h): alive, waiting for a task, started since it loaded. */
  _testPool?: () => { threads: number; idle: number; started: number };
  /** Test mode only: false makes scans read every process's maps text instead of asking PROCMAP_QUERY first (the route of kernels before 6.11). */
  _testMapsQuery?: (on: boolean) => void;
}

const FILE = 'shmscope.node';
let cached: RawBinding | undefined;

/** The places the loader looks, in order: an override, next to the bundle, then native/build. */
export function candidates(): string[] {
  const list: string[] = [];
  if (process.env.SHMSCOPE_NATIVE) list.push(path.resolve(process.env.SHMSCOPE_NATIVE));
  list.push(path.join(__dirname, FILE));
  // From dist/ (bundled) or extension/src/ipc/ (tests), walk up to the checkout root.
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    list.push(path.join(dir, 'native', 'build', 'Release', FILE));
  }
  return [...new Set(list)];
}

/** Loads the addon once; throws an Error naming every place it looked when none holds it. */
export function binding(): RawBinding {
  if (cached) return cached;
  const tried: string[] = [];
  for (const file of candidates()) {
    if (!existsSync(file)) {
      tried.push(`${file} (absent)`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon loads only through require, by its path
      cached = require(file) as RawBinding;
      return cached;
    } catch (e) {
      tried.push(`${file} (${(e as Error).message})`);
    }
  }
  const err = new Error(
    `The shmscope native module could not be loaded; run \`npm run build\`. Looked in:\n  ${tried.join('\n  ')}`,
  );
  (err as Error & { code: string }).code = 'ENOADDON';
  throw err;
}
