// The records the façade lists: one per IPC kind of DESIGN.md §2. Their field names and JSON
// shape are the CLI's `list --json` contract (DESIGN.md §5). No vscode import in this layer.

/** The kinds of object, as `shmscope list --kind` names them. */
export type Kind = 'shm' | 'sem' | 'msg' | 'posix-shm' | 'posix-sem' | 'posix-mq' | RegionKind | 'ring';
export const KINDS: readonly Kind[] = ['shm', 'sem', 'msg', 'posix-shm', 'posix-sem', 'posix-mq', 'memfd', 'anon', 'file', 'ring'];

/** Shared memory found only in /proc/PID/maps and fd tables: memfd objects, shared anonymous regions, files mapped shared. */
export type RegionKind = 'memfd' | 'anon' | 'file';
export const REGION_KINDS: readonly RegionKind[] = ['memfd', 'anon', 'file'];

/** A process that has an object mapped, from /proc/PID/maps. */
export interface Attacher {
  pid: number;
  command: string;
}

/** Fields every listed object has. `key` is the System V key (0 for private and POSIX objects). */
interface Common {
  id: number;
  key: number;
  uid: number;
  user: string;
  gid: number;
  /** Permission bits only (0o777), as a number. */
  mode: number;
}

/** System V fields shared by the three kinds. */
interface SysvCommon extends Common {
  cuid: number;
  cgid: number;
  ctime: string | null;
}

export interface ShmRecord extends SysvCommon {
  kind: 'shm';
  size: number;
  nattch: number;
  cpid: number;
  lpid: number;
  atime: string | null;
  dtime: string | null;
  /** Marked for removal (IPC_RMID) while still attached: it goes when the last process detaches. */
  removed: boolean;
  /** Locked in memory (shmctl SHM_LOCK): never swapped out. */
  locked?: boolean;
  /** Processes that map it, as far as /proc lets us see. */
  attachedBy: Attacher[];
  /** Attachments the kernel counts (nattch) that no readable /proc/PID/maps shows. */
  hiddenAttachers: number;
  /** nattch is 0 and the creating process is gone: a probable leftover. */
  orphan: boolean;
}

export interface SemRecord extends SysvCommon {
  kind: 'sem';
  nsems: number;
  /** Per semaphore; empty when the set cannot be read (see `unreadable`). */
  values: number[];
  ncnt: number[];
  zcnt: number[];
  pids: number[];
  otime: string | null;
  /** Why values are missing (e.g. "EACCES"), or null. */
  unreadable: string | null;
}

export interface MsgRecord extends SysvCommon {
  kind: 'msg';
  messages: number;
  bytes: number;
  /** Capacity in bytes; null when the queue cannot be read (IPC_STAT needs read permission). */
  qbytes: number | null;
  lspid: number;
  lrpid: number;
  stime: string | null;
  rtime: string | null;
}

/** POSIX objects are files under /dev/shm or /dev/mqueue; `id` is the inode, `key` 0. */
interface PosixCommon extends Common {
  /** With its leading slash, as shm_open takes it: "/ring". */
  name: string;
  mtime: string | null;
}

/**
 * A /dev/shm object unlinked while still mapped or held by an fd (`shm_unlink`, `sem_unlink`):
 * the kernel keeps it for its holders, who are the only way to its bytes. `id` is its inode
 * (targets `posix:@INODE`, `psem:@INODE`), its name the one it had.
 */
interface UnlinkedFields {
  /** Present (true) only once its name is gone from /dev/shm while processes still map or hold it. */
  unlinked?: true;
  /** Only when unlinked: its device, every mapping of it and every fd holding it. */
  dev?: number;
  mappings?: RegionMapping[];
  fdHolders?: FdHolder[];
}

export interface PosixShmRecord extends PosixCommon, UnlinkedFields {
  kind: 'posix-shm';
  size: number;
  /** Processes that map it (or, unlinked, hold it), as far as /proc lets us see (see Listing.unreadableProcesses). */
  attachedBy: Attacher[];
  /** Processes holding it open (fd table), mapped or not; absent when the fd tables were not read. */
  fdHolders?: FdHolder[];
  /** Bytes its pages take (tmpfs blocks, in RAM or swap), when the listing read them. */
  allocated?: number;
}

export interface PosixSemRecord extends PosixCommon, UnlinkedFields {
  kind: 'posix-sem';
  /** Processes that have it open (a named semaphore is a small mapped file). */
  attachedBy: Attacher[];
  /** Processes holding its file open (fd table), mapped or not; absent when the fd tables were not read. */
  fdHolders?: FdHolder[];
  /** Bytes its pages take (tmpfs blocks), when the listing read them. */
  allocated?: number;
  /** Null when the semaphore cannot be opened (see `unreadable`). */
  value: number | null;
  unreadable: string | null;
}

export interface PosixMqRecord extends PosixCommon {
  kind: 'posix-mq';
  maxMessages: number | null;
  messageSize: number | null;
  messages: number | null;
  notifyPid: number | null;
  unreadable: string | null;
  /** Processes holding it open (fd table); absent when the fd tables were not read. */
  fdHolders?: FdHolder[];
}

/** One process's mapping of a region: where, how long, and whether it may write. */
export interface RegionMapping extends Attacher {
  /** Start address in that process, as hex ("0x7f3a…"): addresses may exceed 2^53. */
  address: string;
  length: number;
  /** Offset in the object of the mapping's first byte. */
  offset: number;
  writable: boolean;
}

/** A process holding a memfd open (fd table), mapped or not. */
export interface FdHolder extends Attacher {
  fd: number;
}

/**
 * A region found in /proc: grouped by (dev, inode) over every readable process. `id` is the inode,
 * `key` 0. `size` is the object's when we could stat it, else the largest mapping end seen.
 */
interface RegionCommon extends Common {
  dev: number;
  size: number;
  /** False when size, owner and mode could not be read from the object itself (size is the mappings'). */
  statKnown: boolean;
  attachedBy: RegionMapping[];
}

export interface MemfdRecord extends RegionCommon {
  kind: 'memfd';
  /** The name given to memfd_create (without the kernel's "memfd:" prefix). */
  name: string;
  fdHolders: FdHolder[];
}

export interface AnonRecord extends RegionCommon {
  kind: 'anon';
  /** "dev/zero" (MAP_SHARED|MAP_ANONYMOUS), "anon_hugepage", or a name set with PR_SET_VMA_ANON_NAME. */
  name: string;
}

export interface FileRecord extends RegionCommon {
  kind: 'file';
  path: string;
  /** The file's last name was removed while it stays mapped. */
  deleted: boolean;
}

export type RegionRecord = MemfdRecord | AnonRecord | FileRecord;

/** Which kernel object shares a ring: told by its fd (io_uring, perf) or, for a socket, /proc/PID/net/packet. */
export type RingSubkind = 'io_uring' | 'packet' | 'xdp' | 'perf' | 'socket';

/**
 * Memory the kernel shares with one process through an fd that is no file: an io_uring's SQ/CQ
 * rings and SQE array, a PACKET_MMAP or AF_XDP ring, a perf event's pages. One record per mapping
 * (`attachedBy` is that one mapping); `id` is the fd's inode (shared by every perf event), size
 * the mapping's length. Read only through /proc/PID/mem, never written (target `ring:PID@ADDRESS`).
 */
export interface RingRecord extends RegionCommon {
  kind: 'ring';
  subkind: RingSubkind;
  /** Which part of it this mapping is, by its offset: "SQ/CQ rings", "SQEs", "RX ring", "fill ring", "metadata and data pages", … */
  part: string;
  pid: number;
  command: string;
  /** The process's fd of that ring; null when none is open any more (or several could be it). */
  fd: number | null;
  /** Start address of the mapping in that process, as hex. */
  address: string;
}

export type IpcRecord = ShmRecord | SemRecord | MsgRecord | PosixShmRecord | PosixSemRecord | PosixMqRecord | RegionRecord | RingRecord;

/** What `list` returns; the JSON keys are DESIGN.md §5's. */
export interface Listing {
  shm: ShmRecord[];
  sem: SemRecord[];
  msg: MsgRecord[];
  posixShm: PosixShmRecord[];
  posixSem: PosixSemRecord[];
  posixMq: PosixMqRecord[];
  memfd: MemfdRecord[];
  anon: AnonRecord[];
  file: FileRecord[];
  ring: RingRecord[];
  /** Processes whose /proc/PID/maps we may not read: they may map objects we cannot see. */
  unreadableProcesses: number;
  /** Their pids, when the scan named them. */
  unreadablePids?: number[];
  /** Processes whose maps did not answer within the scan's budget. */
  slow?: number[];
  /** Whether the scan read the fd tables (POSIX objects' `fdHolders` are then complete). */
  fdTablesRead?: boolean;
  /** The size, free and available bytes of our /dev/shm, when it was listed. */
  devShm?: DevShmSpace;
  /** Things the listing could not do, said once each (e.g. /dev/mqueue not mounted). */
  notes: string[];
  /** With `namespaces: 'all'`: the other IPC namespaces, each with its own objects. */
  namespaces?: NamespaceListing[];
}

/** An IPC namespace (a container) other than ours: `ipc` its inode, `pid` a process in it. */
export interface NamespaceRef {
  ipc: number;
  pid: number;
  /** How users know it: its hostname when it has its own, else its container's name, else the command of its first process. */
  label: string;
  /** Its UTS namespace's hostname, when not the host's. */
  hostname?: string;
  /** Its container as its cgroup path names it: "docker 3f2a1b4c5d6e", "pod UID container ID", "machine web", "unit x.service". */
  container?: string;
}

/** The objects of one other namespace; `unlisted` says why not when it could not be entered. */
export interface NamespaceListing {
  namespace: NamespaceRef;
  shm: (ShmRecord & { namespace: NamespaceRef })[];
  sem: (SemRecord & { namespace: NamespaceRef })[];
  msg: (MsgRecord & { namespace: NamespaceRef })[];
  posixShm: (PosixShmRecord & { namespace: NamespaceRef })[];
  /** The errno name when it could not be entered (EPERM without CAP_SYS_ADMIN), else null. */
  unlisted: string | null;
  /** Its own /dev/shm's size, free and available bytes (another mount namespace's), when listed. */
  devShm?: DevShmSpace;
  /** Why its own /dev/shm could not be listed, when it could not. */
  devShmUnread?: string;
}

/** A /dev/shm filesystem's space, from fstatfs on the directory the listing read (the one measure of it). */
export interface DevShmSpace {
  size: number;
  free: number;
  available: number;
  /** Its filesystem type ("tmpfs"; another as its magic number, "0x…"). */
  type: string;
  /** Its device, "major:minor" as mountinfo writes it: two namespaces that see one tmpfs show one. */
  device: string;
}

/** One kernel limit with its current use where the kernel tells it. */
export interface Limit {
  name: string;
  value: number | string;
  used: number | null;
  description: string;
}

export type { ByteSource } from '../shared/source';
