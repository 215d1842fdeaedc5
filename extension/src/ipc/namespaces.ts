// Other IPC namespaces (containers): their System V objects, seen from a native thread that enters
// each one (setns on a thread of its own: never the JS thread nor a libuv pool thread), and their
// POSIX shared memory under /proc/PID/root/dev/shm. Entering needs CAP_SYS_ADMIN; without it the
// namespaces are counted, not listed. No vscode import.
import { existsSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { IpcError, toIpcError, userError } from './errors';
import { escapeControl } from '../shared/escape';
import { binding, type RawDevShmList, type RawNsList } from './native';
import { isoTime, type MapsScan } from './procfs';
import { readRegular } from './regular';
import type { RegionScan } from './regions';
import type { Attacher, DevShmSpace, FdHolder, MsgRecord, NamespaceListing, NamespaceRef, PosixShmRecord, SemRecord, ShmRecord } from './types';

/** Appends to the list under `key` (never copying it: a listing stays linear in its mappings). */
function push<K>(map: Map<K, number[]>, key: K, pid: number): void {
  const list = map.get(key);
  if (list) list.push(pid);
  else map.set(key, [pid]);
}

/**
 * Whether namespaces `p` (a process's, from a region scan) are another `ns` namespace than ours:
 * the one comparison of "same IPC / mount namespace" over a scan. A process unknown to the scan,
 * or whose link we may not read (0), is not counted as another namespace's.
 */
export function foreignTo(regions: Pick<RegionScan, 'self'>, p: { ipc: number; mnt: number } | undefined, ns: 'ipc' | 'mnt'): boolean {
  return p !== undefined && p[ns] !== 0 && p[ns] !== regions.self[ns];
}

/**
 * Keeps, in a maps scan, only the attachments made in our own namespaces: a System V segment
 * belongs to one IPC namespace, a /dev/shm file to one mount namespace, and a process of another
 * one that shows the same id or name maps *its* object, not ours. Counts are recomputed from the
 * processes that stay (`sysvMappings` drives hiddenAttachers).
 */
export function withinOwnNamespaces(scan: MapsScan, regions: RegionScan): MapsScan {
  if (!regions.self.ipc && !regions.self.mnt) return scan;
  const foreign = (pid: number, ns: 'ipc' | 'mnt') => foreignTo(regions, regions.processes.get(pid), ns);
  // Mappings per (pid, segment), counted once: a process may map one segment thousands of times.
  let perPid: Map<number, Map<number, number>> | undefined;
  const mappingsOf = (pid: number, id: number) => {
    if (!perPid) {
      perPid = new Map();
      for (const [p, ids] of regions.sysv) {
        const counts = new Map<number, number>();
        for (const s of ids) counts.set(s, (counts.get(s) ?? 0) + 1);
        perPid.set(p, counts);
      }
    }
    return perPid.get(pid)?.get(id) ?? 0;
  };
  for (const [id, pids] of scan.sysv) {
    const kept = pids.filter((pid) => !foreign(pid, 'ipc'));
    if (kept.length === pids.length) continue;
    if (kept.length) scan.sysv.set(id, kept);
    else scan.sysv.delete(id);
    let mappings = 0;
    for (const pid of kept) mappings += mappingsOf(pid, id);
    scan.sysvMappings.set(id, mappings);
  }
  for (const [name, pids] of scan.devShm) {
    const kept = pids.filter((pid) => !foreign(pid, 'mnt'));
    if (kept.length) scan.devShm.set(name, kept);
    else scan.devShm.delete(name);
  }
  for (const [ino, pids] of scan.devShmByInode) {
    const kept = pids.filter((pid) => !foreign(pid, 'mnt'));
    if (kept.length) scan.devShmByInode.set(ino, kept);
    else scan.devShmByInode.delete(ino);
  }
  for (const [name, fds] of scan.devShmFds) {
    const kept = fds.filter((f) => !foreign(f.pid, 'mnt'));
    if (kept.length) scan.devShmFds.set(name, kept);
    else scan.devShmFds.delete(name);
  }
  return scan;
}

/** The namespaces other than ours, each with its processes (sorted), from a region scan. */
export function otherNamespaces(regions: RegionScan): { ipc: number; mnt: number; pids: number[] }[] {
  const byIpc = new Map<number, { ipc: number; mnt: number; pids: number[] }>();
  for (const [pid, p] of regions.processes) {
    if (!foreignTo(regions, p, 'ipc')) continue;
    const ns = byIpc.get(p.ipc);
    if (ns) ns.pids.push(pid);
    else byIpc.set(p.ipc, { ipc: p.ipc, mnt: p.mnt, pids: [pid] });
  }
  const list = [...byIpc.values()];
  for (const ns of list) {
    ns.pids.sort((a, b) => a - b);
    // The mount namespace of its first process is where its /dev/shm lives.
    ns.mnt = regions.processes.get(ns.pids[0]!)!.mnt;
  }
  return list.sort((a, b) => a.pids[0]! - b.pids[0]!);
}

/** The namespaces of one process, by inode (0 for one whose link we may not read). */
export interface ProcessNamespaces {
  ipc: number;
  mnt: number;
  pid: number;
  uts: number;
}

const NS_LINK = /^[a-z_]+:\[(\d+)\]$/;

/**
 * The namespaces of process `pid`, from its /proc/PID/ns links (a readlink: it never waits on the
 * process's memory lock); undefined when it is gone or none of its links is readable to us.
 */
export function namespacesOf(pid: number): ProcessNamespaces | undefined {
  const read = (name: string): number => {
    try {
      return Number(NS_LINK.exec(readlinkSync(`/proc/${pid}/ns/${name}`))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const ns = { ipc: read('ipc'), mnt: read('mnt'), pid: read('pid'), uts: read('uts') };
  return ns.ipc || ns.mnt || ns.pid || ns.uts ? ns : undefined;
}

/** The NSpid line of a /proc/PID/status text: the ids of the thread from our PID namespace down to its own. */
export function parseNsPid(status: string): number[] | undefined {
  const m = /^NSpid:\s*([\d\s]+)$/m.exec(status);
  const ids = m?.[1]!.trim().split(/\s+/).map(Number);
  return ids?.length && ids.every((n) => Number.isSafeInteger(n) && n > 0) ? ids : undefined;
}

/** The ids of thread `tid` of process `pid` in every PID namespace from ours to its own (NSpid), read bounded. */
export function nsPidsOf(pid: number, tid: number = pid): number[] | undefined {
  try {
    return parseNsPid(readRegular(`/proc/${pid}/task/${tid}/status`, 1 << 16).toString('latin1'));
  } catch {
    return undefined;
  }
}

const HEX64 = /[0-9a-f]{64}/;

/**
 * How the users of a container name it, from one line's path of /proc/PID/cgroup (the host's view):
 * a Kubernetes pod and container, a Docker, containerd, CRI-O or Podman container by its id
 * shortened to 12 hex digits, a systemd-nspawn machine, else the systemd unit. Undefined for the
 * root cgroup or a path that names none of these. Pure: the text is another process's.
 */
export function containerOfCgroup(text: string): string | undefined {
  // The unified (v2) line "0::/path" first, else the systemd hierarchy of v1, else any line.
  const lines = text.split('\n').map((l) => /^\d+:([^:]*):(.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const line = lines.find((m) => m[1] === '') ?? lines.find((m) => m[1] === 'name=systemd') ?? lines[0];
  const path = line?.[2]?.trim() ?? '';
  if (path === '' || path === '/') return undefined;
  const parts = path.split('/').filter(Boolean);
  const short = (part: string) => HEX64.exec(part)?.[0].slice(0, 12);
  const engine = (part: string): string | undefined => {
    const id = short(part);
    if (!id) return undefined;
    if (/^(cri-containerd-|containerd)/.test(part) || parts.some((p) => p.startsWith('containerd'))) return `containerd ${id}`;
    if (/^crio-/.test(part)) return `cri-o ${id}`;
    if (/^libpod-/.test(part) || parts.includes('libpod_parent')) return `podman ${id}`;
    return `docker ${id}`;
  };
  const last = parts[parts.length - 1]!;
  // Kubernetes: kubepods[-class]-pod<UID>.slice (systemd driver) or kubepods/<class>/pod<UID> (cgroupfs).
  if (parts.some((p) => p.startsWith('kubepods'))) {
    const pod = parts.map((p) => /(?:^|-)pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/.exec(p)).find(Boolean)?.[1];
    if (pod) {
      const container = short(last);
      return `pod ${pod.replace(/_/g, '-')}${container ? ` container ${container}` : ''}`;
    }
  }
  for (const p of [...parts].reverse()) {
    const e = engine(p);
    if (e) return e;
  }
  const machine = parts.map((p) => /^(?:systemd-nspawn@(.+)\.service|machine-(.+)\.scope)$/.exec(p)).find(Boolean);
  if (machine) return `machine ${(machine[1] ?? machine[2])!.replace(/\\x2d/g, '-')}`;
  // A unit of its own; a login session, a user's manager or init is where anything runs, not a name.
  const unit = [...parts].reverse().find((p) => /\.(service|scope)$/.test(p) && !/^(session-.*\.scope|user@.*\.service|init\.scope)$/.test(p));
  return unit ? `unit ${unit}` : undefined;
}

/** The cgroup text of a process (bounded: it is another process's), or undefined. */
function cgroupOf(pid: number | 'self'): string | undefined {
  try {
    return readRegular(`/proc/${pid}/cgroup`, 1 << 16).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The container name of process `pid` from its /proc/PID/cgroup, if the path names one and it is
 * not our own cgroup (a namespace made by `unshare` in our unit is not a container of that unit).
 */
export function containerOf(pid: number): string | undefined {
  const text = cgroupOf(pid);
  return text === undefined || text === cgroupOf('self') ? undefined : containerOfCgroup(text);
}

/**
 * How users know a namespace: its hostname when it has its own, else its container's name from
 * its cgroup path, else the command of its first process: its command line when the scan read
 * it, else its comm (which, unlike cmdline, never waits on the process's memory lock).
 */
async function label(pid: number, nsHostname: string, commands: Map<number, string>, container?: string): Promise<string> {
  if (nsHostname && nsHostname !== hostname()) return nsHostname;
  if (container) return container;
  const known = commands.get(pid);
  if (known) return known;
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() || '?';
  } catch {
    return '?';
  }
}

function shmRows(raw: RawNsList, ns: NamespaceRef, attach: (id: number) => Attacher[], userName: (uid: number) => string): (ShmRecord & { namespace: NamespaceRef })[] {
  const n = 14;
  const f = raw.shm;
  const out: (ShmRecord & { namespace: NamespaceRef })[] = [];
  for (let i = 0; i + n <= f.length; i += n) {
    const id = f[i]!;
    const attachedBy = attach(id);
    out.push({
      kind: 'shm', id, key: f[i + 1]!, uid: f[i + 2]!, user: userName(f[i + 2]!), gid: f[i + 3]!, mode: f[i + 6]! & 0o777,
      cuid: f[i + 4]!, cgid: f[i + 5]!, size: f[i + 7]!, nattch: f[i + 8]!, cpid: f[i + 9]!, lpid: f[i + 10]!,
      atime: isoTime(f[i + 11]!), dtime: isoTime(f[i + 12]!), ctime: isoTime(f[i + 13]!), removed: (f[i + 6]! & 0o1000) !== 0, locked: (f[i + 6]! & 0o2000) !== 0,
      attachedBy, hiddenAttachers: Math.max(0, f[i + 8]! - attachedBy.length), orphan: false, namespace: ns,
    });
  }
  return out.sort((a, b) => a.id - b.id);
}

/** How long the /dev/shm of another namespace may take to list before the listing goes on without it. */
export const NS_DEVSHM_BUDGET_MS = 2000;
/** How long listing the System V objects of one other namespace may take before its thread is left behind. */
export const NS_LIST_BUDGET_MS = 5000;

/**
 * The POSIX objects in the /dev/shm of the namespace's first process: its regular files, read
 * inside that namespace's root by the addon (never through a symbolic link, only on a tmpfs) and
 * answered by a deadline. A /dev/shm that is refused or does not answer is a note, not a hang.
 */
async function posixShm(ns: NamespaceRef, attach: (file: string) => Attacher[], holders: (file: string, ino: number) => FdHolder[], userName: (uid: number) => string, notes: string[], space: (fs: DevShmSpace) => void, failed: (reason: string) => void): Promise<(PosixShmRecord & { namespace: NamespaceRef })[]> {
  let raw: RawDevShmList;
  try {
    raw = await binding().nsDevShmList(ns.pid, NS_DEVSHM_BUDGET_MS);
  } catch (e) {
    const err = toIpcError(e, { action: 'listing', object: `the /dev/shm of process ${ns.pid}`, timeoutMs: NS_DEVSHM_BUDGET_MS });
    if (err.code !== 'ENOENT' && err.code !== 'ESRCH') {
      notes.push(`namespace ${escapeControl(ns.label)} (ipc ${ns.ipc}): its POSIX objects are not listed: ${nsDevShmReason(err)}`);
      failed(nsDevShmReason(err));
    }
    return [];
  }
  if (raw.fs) space(raw.fs);
  if (raw.truncated) notes.push(`namespace ${escapeControl(ns.label)} (ipc ${ns.ipc}): only the first ${raw.names.length} entries of its /dev/shm are listed`);
  const out: (PosixShmRecord & { namespace: NamespaceRef })[] = [];
  const S = raw.stats;
  raw.names.forEach((file, i) => {
    const o = i * 6;
    if (file.startsWith('sem.') || (S[o + 3]! & 0o170000) !== 0o100000) return; // regular files only
    out.push({
      kind: 'posix-shm', name: `/${file}`, id: S[o]!, key: 0, uid: S[o + 1]!, user: userName(S[o + 1]!), gid: S[o + 2]!, mode: S[o + 3]! & 0o777,
      mtime: new Date(S[o + 5]!).toISOString(), size: S[o + 4]!, attachedBy: attach(file), fdHolders: holders(file, S[o]!),
      ...(raw.blocks ? { allocated: raw.blocks[i]! } : {}), namespace: ns,
    });
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Why another namespace's /dev/shm is not listed, in the words of its refusal. */
function nsDevShmReason(err: IpcError): string {
  if (err.code === 'ELOOP') return 'its /dev/shm is a symbolic link (it would resolve outside that namespace)';
  if (err.code === 'EXDEV') return 'its /dev/shm is not a tmpfs';
  if (err.code === 'EREMOTE') return `its /dev/shm is on a ${/ is on a (\S+) filesystem/.exec(err.detail)?.[1] ?? 'network'} filesystem, which can stop answering`;
  if (err.code === 'ETIMEDOUT') return `its /dev/shm did not answer within ${NS_DEVSHM_BUDGET_MS} ms`;
  return err.message;
}

/** Removes a POSIX object of another namespace through its /dev/shm dirfd (never by a path walked again), checked to be inode `ino`. */
export async function nsPosixShmRemove(pid: number, name: string, ino: number): Promise<void> {
  try {
    await binding().nsDevShmUnlink(pid, name.replace(/^\//, ''), ino, NS_DEVSHM_BUDGET_MS);
  } catch (e) {
    throw toIpcError(e, { action: 'removing', object: `POSIX object ${escapeControl(name)} of the namespace of process ${pid}`, timeoutMs: NS_DEVSHM_BUDGET_MS });
  }
}

/** The reference to another namespace that listings and waits carry: its inode, a process in it, its names. */
export async function namespaceRef(ipc: number, pid: number, nsHostname: string, commands: Map<number, string> = new Map()): Promise<NamespaceRef> {
  const container = containerOf(pid);
  const ref: NamespaceRef = { ipc, pid, label: await label(pid, nsHostname, commands, container) };
  if (nsHostname && nsHostname !== hostname()) ref.hostname = nsHostname;
  if (container) ref.container = container;
  return ref;
}

/** The objects of every other IPC namespace we may enter; the others are listed empty with the errno. */
export async function listNamespaces(
  regions: RegionScan,
  userName: (uid: number) => string,
  notes: string[],
  /** 'all', or the namespace of this process only. */
  which: 'all' | number = 'all',
): Promise<NamespaceListing[]> {
  const out: NamespaceListing[] = [];
  let refused = 0;
  let namespaces = otherNamespaces(regions);
  if (which !== 'all') {
    const ipc = regions.processes.get(which)?.ipc;
    if (ipc === undefined) throw userError('ESRCH', 'namespace', `process ${which} does not exist or its namespaces are not readable to us`);
    namespaces = namespaces.filter((ns) => ns.ipc === ipc);
    if (ipc === regions.self.ipc) notes.push(`process ${which} is in our own IPC namespace: its objects are the ones listed above`);
  }
  for (const ns of namespaces) {
    const pid = ns.pids[0]!;
    const members = new Set(ns.pids);
    let raw: RawNsList | undefined;
    let unlisted: string | null = null;
    try {
      raw = await binding().nsList(pid, NS_LIST_BUDGET_MS);
    } catch (e) {
      unlisted = toIpcError(e, { action: 'entering', object: `the IPC namespace of process ${pid}` }).code;
      if (unlisted === 'EPERM' || unlisted === 'EACCES') refused++;
      if (unlisted === 'ENOENT' || unlisted === 'ESRCH') continue; // it ended meanwhile
    }
    const ref = await namespaceRef(ns.ipc, pid, raw?.hostname ?? '', regions.maps.commands);
    const listing: NamespaceListing = { namespace: ref, shm: [], sem: [], msg: [], posixShm: [], unlisted };
    if (unlisted === 'ETIMEDOUT') {
      notes.push(`namespace ${escapeControl(ref.label)} (ipc ${ns.ipc}): its System V objects are not listed: the thread that entered it did not finish within ${NS_LIST_BUDGET_MS} ms and is left behind`);
    }
    if (raw) {
      // Attachments of this namespace's segments: its own processes' /SYSV mappings only.
      const byId = new Map<number, number[]>();
      for (const p of members) for (const id of new Set(regions.sysv.get(p) ?? [])) push(byId, id, p);
      // Their command lines were read by the scan (within its budget), with their mappings.
      const commands = regions.maps.commands;
      const attach = (id: number) => (byId.get(id) ?? []).map((p) => ({ pid: p, command: commands.get(p) ?? '?' }));
      listing.shm = shmRows(raw, ref, attach, userName);
      listing.sem = raw.sem.map((s): SemRecord & { namespace: NamespaceRef } => ({
        kind: 'sem', id: s.id, key: s.key >>> 0, uid: s.uid, user: userName(s.uid), gid: s.gid, mode: s.mode, cuid: s.cuid, cgid: s.cgid,
        nsems: s.nsems, values: s.values, ncnt: s.ncnt, zcnt: s.zcnt, pids: s.pids, otime: isoTime(s.otime), ctime: isoTime(s.ctime),
        unreadable: s.readable ? null : 'EACCES', namespace: ref,
      }));
      listing.msg = raw.msg.map((m): MsgRecord & { namespace: NamespaceRef } => ({
        kind: 'msg', id: m.id, key: m.key >>> 0, uid: m.uid, user: userName(m.uid), gid: m.gid, mode: m.mode, cuid: m.cuid, cgid: m.cgid,
        messages: m.messages, bytes: m.bytes, qbytes: m.qbytes, lspid: m.lspid, lrpid: m.lrpid, stime: isoTime(m.stime), rtime: isoTime(m.rtime),
        ctime: isoTime(m.ctime), namespace: ref,
      }));
    }
    if (foreignTo(regions, ns, 'mnt')) {
      // Mapped by the processes that share that namespace's mount namespace (its /dev/shm).
      const mappers = [...regions.processes].filter(([, p]) => p.mnt === ns.mnt).map(([p]) => p);
      const byName = new Map<string, number[]>();
      for (const p of mappers) for (const name of new Set(regions.devShm.get(p) ?? [])) push(byName, name, p);
      const commands = regions.maps.commands;
      const attach = (file: string) => (byName.get(file) ?? []).sort((a, b) => a - b).map((p) => ({ pid: p, command: commands.get(p) ?? '?' }));
      const inNs = new Set(mappers);
      const fdsByName = new Map<string, { pid: number; fd: number; ino: number }[]>();
      for (const f of regions.devShmFds) {
        if (!inNs.has(f.pid)) continue;
        const list = fdsByName.get(f.name);
        if (list) list.push(f);
        else fdsByName.set(f.name, [f]);
      }
      const holders = (file: string, ino: number): FdHolder[] => (fdsByName.get(file) ?? [])
        .filter((f) => f.ino === ino)
        .map((f) => ({ pid: f.pid, command: commands.get(f.pid) ?? '?', fd: f.fd }))
        .sort((a, b) => a.pid - b.pid || a.fd - b.fd);
      listing.posixShm = await posixShm(ref, attach, holders, userName, notes, (fs) => (listing.devShm = fs), (reason) => (listing.devShmUnread = reason));
    }
    out.push(listing);
  }
  if (refused > 0) {
    notes.push(`${refused} other IPC namespace(s) are counted, not listed: entering one needs CAP_SYS_ADMIN`);
  }
  return out;
}

/** The process whose namespace `--namespace PID` names, checked to exist. */
export function namespacePid(text: string): number {
  const pid = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(pid) || pid < 1) {
    throw userError('EINVAL', 'namespace', `--namespace takes a process id (or "all" for list), not "${text}"`);
  }
  // pid_max is at most 2^22 on Linux; past it, or without a /proc entry, the process does not exist.
  if (pid > 1 << 22 || !existsSync(`/proc/${pid}`)) {
    throw userError('ESRCH', 'namespace', `--namespace ${pid}: no process has that id`);
  }
  return pid;
}

/** Reads bytes of a segment of the namespace of `pid` (attached read-only on a thread that entered it). */
export async function nsShmRead(pid: number, id: number, offset: number, length: number): Promise<Uint8Array> {
  try {
    return await binding().nsShmRead(pid, id, offset, length);
  } catch (e) {
    const err = toIpcError(e, { action: 'reading', object: `segment ${id} of the IPC namespace of process ${pid}` });
    if (err.code === 'EFAULT') throw userError('EFAULT', 'read', `segment ${id} of the IPC namespace of process ${pid} has a page the kernel cannot supply (a huge-page segment whose pool is empty?)`);
    throw err;
  }
}

/** Removes a System V object of the namespace of `pid`. */
export async function nsRemove(pid: number, kind: 'shm' | 'sem' | 'msg', id: number): Promise<void> {
  const what = kind === 'shm' ? 'segment' : kind === 'sem' ? 'semaphore set' : 'message queue';
  try {
    await binding().nsRemove(pid, kind, id);
  } catch (e) {
    throw toIpcError(e, { action: 'removing', object: `${what} ${id} of the IPC namespace of process ${pid}` });
  }
}

/** The stat of a segment of another namespace (from its listing), for dump's bounds. */
export async function nsShmStat(pid: number, id: number): Promise<{ size: number } | undefined> {
  const raw = await binding().nsList(pid).catch((e: unknown) => {
    throw toIpcError(e, { action: 'entering', object: `the IPC namespace of process ${pid}` });
  });
  for (let i = 0; i + 14 <= raw.shm.length; i += 14) if (raw.shm[i] === id) return { size: raw.shm[i + 7]! };
  return undefined;
}

/** Posts to (or, with `set`, sets) semaphore `num` of set `id` of the namespace of `pid`; never blocks. */
export async function nsSem(pid: number, id: number, num: number, set?: { value: number }): Promise<void> {
  try {
    await binding().nsSem(pid, id, num, set !== undefined, set?.value ?? 0);
  } catch (e) {
    throw toIpcError(e, { action: set ? `setting semaphore ${num} of` : `posting to semaphore ${num} of`, object: `semaphore set ${id} of the IPC namespace of process ${pid}` });
  }
}

/** Copies message `index` of queue `id` of the namespace of `pid` (msgrcv MSG_COPY: nothing consumed). */
export async function nsMsgPeek(pid: number, id: number, index: number): Promise<{ type: number; data: Uint8Array }> {
  try {
    return await binding().nsMsgPeek(pid, id, index);
  } catch (e) {
    throw toIpcError(e, { action: `peeking at message ${index} of`, object: `message queue ${id} of the IPC namespace of process ${pid}` });
  }
}

/** The namespace's listing of the process `pid` (for `sem get` and `peek` there, and waits' semaphore sets), by `budgetMs` when given. */
export async function nsRaw(pid: number, budgetMs?: number): Promise<RawNsList> {
  try {
    return await (budgetMs === undefined ? binding().nsList(pid) : binding().nsList(pid, budgetMs));
  } catch (e) {
    throw toIpcError(e, { action: 'entering', object: `the IPC namespace of process ${pid}` });
  }
}
