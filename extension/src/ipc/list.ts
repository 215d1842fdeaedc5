// The listing of every IPC object on the machine (DESIGN.md §2), as the explorer and
// `shmscope list` show it. System V tables come from /proc/sysvipc; semaphore values and POSIX
// objects' state from the native module; attached processes from /proc/PID/maps.
import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { entryTypeOfMode, notAnObjectNote } from './devshm';
import { binding, type RawDevShmList } from './native';
import { emptyScan, isoTime, MAPS_BUDGET_MS, processExists, readSysv, userNames, type MapsScan, type SysvRow } from './procfs';
import { openFound, scanRegions } from './regions';
import { listNamespaces, withinOwnNamespaces } from './namespaces';
import type {
  Attacher,
  DevShmSpace,
  FdHolder,
  Kind,
  Listing,
  MsgRecord,
  PosixMqRecord,
  PosixSemRecord,
  PosixShmRecord,
  SemRecord,
  ShmRecord,
} from './types';

const MQUEUE = '/dev/mqueue';

/** The message users see when POSIX queues cannot be listed. */
export const MQUEUE_NOTE =
  'POSIX message queues are not listed: the mqueue filesystem is not mounted at /dev/mqueue ' +
  '(mount it with: sudo mkdir -p /dev/mqueue && sudo mount -t mqueue none /dev/mqueue)';

function attachers(pids: number[] | undefined, scan: MapsScan): Attacher[] {
  return (pids ?? []).map((pid) => ({ pid, command: scan.commands.get(pid) ?? '?' }));
}

/**
 * The processes mapping /dev/shm/FILE: by its name, and by its inode under another name (glibc's
 * sem_open maps a temporary file, then links it to the semaphore's name and removes the temporary).
 */
function mappers(scan: MapsScan, file: string, ino: number): number[] | undefined {
  const byName = scan.devShm.get(file);
  const byIno = scan.devShmByInode.get(ino);
  if (!byIno) return byName;
  return [...new Set([...(byName ?? []), ...byIno])].sort((a, b) => a - b);
}

/** The processes holding /dev/shm/FILE (inode `ino`) open, by pid then fd. */
function fdHolders(scan: MapsScan, file: string, ino: number): FdHolder[] {
  return (scan.devShmFds.get(file) ?? [])
    .filter((f) => f.ino === ino)
    .map((f) => ({ pid: f.pid, command: scan.commands.get(f.pid) ?? '?', fd: f.fd }))
    .sort((a, b) => a.pid - b.pid || a.fd - b.fd);
}

/** The same rows from /proc/sysvipc/shm: slower, but complete on kernels without SHM_STAT_ANY. */
function shmRowsFromProc(n: number): Float64Array {
  const table = readSysv('shm');
  const f = new Float64Array(table.length * n);
  const cols = ['shmid', 'key', 'uid', 'gid', 'cuid', 'cgid', 'perms', 'size', 'nattch', 'cpid', 'lpid', 'atime', 'dtime', 'ctime'];
  table.forEach((r, i) => cols.forEach((c, j) => (f[i * n + j] = c === 'key' ? r[c]! >>> 0 : r[c]!)));
  return f;
}

/** `scanned` false: no process was read (a listing without the scan), so none is known to be hidden. */
function shmRecords(scan: MapsScan, userName: (uid: number) => string, scanned: boolean): ShmRecord[] {
  const raw = binding();
  const { rows, used } = raw.shmStatAll();
  const n = raw.shmStatFields;
  const f = rows.length / n >= used ? rows : shmRowsFromProc(n);
  const alive = new Map<number, boolean>();
  const isAlive = (pid: number) => {
    let a = alive.get(pid);
    if (a === undefined) alive.set(pid, (a = processExists(pid)));
    return a;
  };
  const out: ShmRecord[] = [];
  for (let i = 0; i + n <= f.length; i += n) {
    const id = f[i]!;
    const nattch = f[i + 8]!;
    const cpid = f[i + 9]!;
    out.push({
      kind: 'shm',
      id,
      key: f[i + 1]!,
      uid: f[i + 2]!,
      user: userName(f[i + 2]!),
      gid: f[i + 3]!,
      mode: f[i + 6]! & 0o777,
      cuid: f[i + 4]!,
      cgid: f[i + 5]!,
      size: f[i + 7]!,
      nattch,
      cpid,
      lpid: f[i + 10]!,
      atime: isoTime(f[i + 11]!),
      dtime: isoTime(f[i + 12]!),
      ctime: isoTime(f[i + 13]!),
      removed: (f[i + 6]! & 0o1000) !== 0,
      locked: (f[i + 6]! & 0o2000) !== 0,
      attachedBy: attachers(scan.sysv.get(id), scan),
      hiddenAttachers: scanned ? Math.max(0, nattch - (scan.sysvMappings.get(id) ?? 0)) : 0,
      orphan: nattch === 0 && !isAlive(cpid),
    });
  }
  return out.sort((a, b) => a.id - b.id);
}

/** The fields every System V record has, from a /proc/sysvipc row. */
function sysvCommon(r: SysvRow, idColumn: string, userName: (uid: number) => string) {
  return {
    id: r[idColumn]!,
    key: r.key! >>> 0,
    uid: r.uid!,
    user: userName(r.uid!),
    gid: r.gid!,
    mode: r.perms! & 0o777,
    cuid: r.cuid!,
    cgid: r.cgid!,
  };
}

function semRecords(userName: (uid: number) => string): SemRecord[] {
  const raw = binding();
  return readSysv('sem').map((r) => {
    const rec: SemRecord = {
      kind: 'sem',
      ...sysvCommon(r, 'semid', userName),
      nsems: r.nsems!,
      values: [],
      ncnt: [],
      zcnt: [],
      pids: [],
      otime: isoTime(r.otime!),
      ctime: isoTime(r.ctime!),
      unreadable: null,
    };
    try {
      const info = raw.semInfo(rec.id);
      rec.values = info.values;
      rec.ncnt = info.ncnt;
      rec.zcnt = info.zcnt;
      rec.pids = info.pids;
    } catch (e) {
      rec.unreadable = (e as { code?: string }).code ?? 'EIO';
    }
    return rec;
  });
}

function msgRecords(userName: (uid: number) => string): MsgRecord[] {
  const raw = binding();
  return readSysv('msg').map((r) => {
    const rec: MsgRecord = {
      kind: 'msg',
      ...sysvCommon(r, 'msqid', userName),
      messages: r.qnum!,
      bytes: r.cbytes!,
      qbytes: null,
      lspid: r.lspid!,
      lrpid: r.lrpid!,
      stime: isoTime(r.stime!),
      rtime: isoTime(r.rtime!),
      ctime: isoTime(r.ctime!),
    };
    try {
      // /proc/sysvipc/msg has no qbytes column; IPC_STAT has (it needs read permission).
      rec.qbytes = raw.msgStat(rec.id).qbytes;
    } catch {
      /* not readable: unknown */
    }
    return rec;
  });
}

/** How long the listing waits for /dev/shm before it goes on without its objects (with a note). */
export const DEVSHM_BUDGET_MS = 5000;
/** Entries of /dev/shm that are not objects, each named in a note, at most. */
const DEVSHM_NOTES = 50;
/** Symbolic links in /dev/shm whose target a note names (the others are named without it). */
const LINK_TARGETS = 20;
/** One collator for every sort of names (localeCompare per call costs a collator each). */
const byName = new Intl.Collator().compare;

/**
 * POSIX objects and named semaphores: the regular files of /dev/shm, read by the addon on a
 * thread of its own (readdir and fstatat without following a link: a symlink's target's owner
 * and size are not the object's), answered by a deadline, linear in the entries. Other entries
 * are left out, each with a note saying what it is. A semaphore's value is read with pread by
 * the addon.
 */
async function posixRecords(scan: MapsScan, userName: (uid: number) => string, note: (file: string, text: string) => void, notes: string[]): Promise<{ shm: PosixShmRecord[]; sem: PosixSemRecord[]; fs?: DevShmSpace }> {
  const shm: PosixShmRecord[] = [];
  const sem: PosixSemRecord[] = [];
  const raw = binding();
  let dir: RawDevShmList;
  try {
    dir = await raw.devShmList(DEVSHM_BUDGET_MS);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ETIMEDOUT') notes.push(`/dev/shm did not answer within ${DEVSHM_BUDGET_MS} ms: its objects are not listed`);
    if (code === 'EREMOTE') notes.push('/dev/shm is on a FUSE or network filesystem, which can stop answering: its objects are not listed');
    return { shm, sem };
  }
  if (dir.truncated) notes.push(`/dev/shm holds more than ${dir.names.length} entries: only the first ${dir.names.length} are listed`);
  const S = dir.stats;
  let links = 0;
  const pending: Promise<void>[] = [];
  dir.names.forEach((file, i) => {
    const o = i * 6;
    const mode = S[o + 3]!;
    if (mode === -1) {
      // The addon did not stat it: a FUSE or network filesystem is mounted there.
      note(file, `/dev/shm/${file} is the mount point of a FUSE or network filesystem, which can stop answering: left out, not asked anything`);
      return;
    }
    const type = entryTypeOfMode(mode);
    if (type) {
      if (type === 'symlink' && links++ < LINK_TARGETS) {
        pending.push(readlink(`/dev/shm/${file}`).catch(() => undefined).then((target) => note(file, notAnObjectNote(file, type, target))));
      } else note(file, notAnObjectNote(file, type));
      return;
    }
    const common = {
      id: S[o]!,
      key: 0,
      uid: S[o + 1]!,
      user: userName(S[o + 1]!),
      gid: S[o + 2]!,
      mode: mode & 0o777,
      mtime: new Date(S[o + 5]!).toISOString(),
      attachedBy: attachers(mappers(scan, file, S[o]!), scan),
      ...(scan.fdTablesRead ? { fdHolders: fdHolders(scan, file, S[o]!) } : {}),
      ...(dir.blocks ? { allocated: dir.blocks[i]! } : {}),
    };
    if (file.startsWith('sem.')) {
      const name = `/${file.slice(4)}`;
      let value: number | null = null;
      let unreadable: string | null = null;
      try {
        const s = new raw.PosixSem(name, false, false, 0, 0);
        try {
          value = s.value();
        } finally {
          s.close();
        }
      } catch (e) {
        unreadable = (e as { code?: string }).code ?? 'EIO';
      }
      sem.push({ kind: 'posix-sem', name, ...common, value, unreadable });
    } else {
      shm.push({ kind: 'posix-shm', name: `/${file}`, ...common, size: S[o + 4]! });
    }
  });
  await Promise.all(pending);
  shm.sort((a, b) => byName(a.name, b.name));
  sem.sort((a, b) => byName(a.name, b.name));
  return { shm, sem, ...(dir.fs ? { fs: dir.fs } : {}) };
}

/** glibc's sem_t value: the low 32 bits of its first 64-bit word (see native/src/psem.cc). */
const SEM_VALUE_MAX = 0x7fffffff;

/** An unlinked semaphore's value, read through one of its holders (it has no name to open). */
function unlinkedSemValue(r: PosixSemRecord): PosixSemRecord {
  try {
    const h = openFound({ kind: 'unlinked', of: 'posix-sem', id: r.id }, r, false);
    try {
      const b = h.read(0, 8);
      const v = b.length === 8 ? new DataView(b.buffer, b.byteOffset, 8).getUint32(0, true) : -1;
      return v >= 0 && v <= SEM_VALUE_MAX ? { ...r, value: v } : { ...r, unreadable: 'EINVAL' };
    } finally {
      h.close();
    }
  } catch (e) {
    return { ...r, unreadable: (e as { code?: string }).code ?? 'EIO' };
  }
}

/** Whether the mqueue filesystem is mounted at /dev/mqueue (a bare directory there lists nothing). */
function mqueueMounted(): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((line) => {
        const [, dir, type] = line.split(' ');
        return dir === MQUEUE && type === 'mqueue';
      });
  } catch {
    return false;
  }
}

async function mqRecords(notes: string[], userName: (uid: number) => string, scan: MapsScan): Promise<PosixMqRecord[]> {
  if (!mqueueMounted()) {
    notes.push(MQUEUE_NOTE);
    return [];
  }
  const raw = binding();
  const out: PosixMqRecord[] = [];
  let names: string[];
  try {
    names = await readdir(MQUEUE);
  } catch {
    notes.push(MQUEUE_NOTE);
    return [];
  }
  await Promise.all(
    names.map(async (file) => {
      let st;
      try {
        st = await stat(`${MQUEUE}/${file}`);
      } catch {
        return;
      }
      const rec: PosixMqRecord = {
        kind: 'posix-mq',
        id: st.ino,
        key: 0,
        name: `/${file}`,
        uid: st.uid,
        user: userName(st.uid),
        gid: st.gid,
        mode: st.mode & 0o777,
        mtime: st.mtime.toISOString(),
        maxMessages: null,
        messageSize: null,
        messages: null,
        notifyPid: null,
        unreadable: null,
        ...(scan.fdTablesRead
          ? { fdHolders: (scan.mqFds.get(`/${file}`) ?? []).filter((f) => f.ino === st.ino).map((f) => ({ pid: f.pid, command: scan.commands.get(f.pid) ?? '?', fd: f.fd })).sort((a, b) => a.pid - b.pid || a.fd - b.fd) }
          : {}),
      };
      try {
        const a = raw.mqGetattr(rec.name);
        rec.maxMessages = a.maxMessages;
        rec.messageSize = a.messageSize;
        rec.messages = a.messages;
      } catch (e) {
        rec.unreadable = (e as { code?: string }).code ?? 'EIO';
      }
      try {
        // "QSIZE:0 NOTIFY:0 SIGNO:0 NOTIFY_PID:0": readable by anyone who may stat the queue.
        const text = await readFile(`${MQUEUE}/${file}`, 'utf8');
        const pid = Number(/NOTIFY_PID:(\d+)/.exec(text)?.[1] ?? 0);
        rec.notifyPid = pid > 0 ? pid : null;
      } catch {
        /* not readable: leave it unknown */
      }
      out.push(rec);
    }),
  );
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The kinds the kernel's tables and /dev/shm list without reading any process: what `scan: false` answers. */
export const UNSCANNED_KINDS: readonly Kind[] = ['shm', 'sem', 'msg', 'posix-shm', 'posix-sem', 'posix-mq'];

/**
 * Lists the objects of the given kinds (all by default); `namespaces: 'all'` adds every other IPC
 * namespace's. `scan: false` reads no process (no /proc/PID/maps, no fd table): only the kinds of
 * UNSCANNED_KINDS, without their attachments and holders, and no namespaces. It answers in
 * milliseconds where the scan takes seconds on a busy machine: the explorer's first rows.
 */
export async function list(kinds?: readonly Kind[], opts: { namespaces?: 'all' | number; scan?: false } = {}): Promise<Listing> {
  const scanning = opts.scan !== false;
  const want = (k: Kind) => (!kinds || kinds.includes(k)) && (scanning || UNSCANNED_KINDS.includes(k));
  const notes: string[] = [];
  const devShmNotes: string[] = [];
  const needMaps = want('shm') || want('posix-shm') || want('posix-sem');
  const users = userNames();
  // One native pass over every /proc/PID/maps and fd table, on threads of its own and answered by
  // MAPS_BUDGET_MS: the regions, the System V and /dev/shm attachments, and which processes are in
  // our namespaces. Only when the question needs it: a semaphore's values or a queue's messages
  // are answered without reading every process (which costs most of a listing on a busy machine).
  const needRegions = scanning && (needMaps || want('memfd') || want('anon') || want('file') || want('ring') || opts.namespaces !== undefined);
  const regions = needRegions ? await scanRegions(undefined, MAPS_BUDGET_MS) : undefined;
  const scan = needMaps && regions ? withinOwnNamespaces(regions.maps, regions) : emptyScan();
  const posix = want('posix-shm') || want('posix-sem') ? await posixRecords(scan, users, (file, text) => {
    if (want(file.startsWith('sem.') ? 'posix-sem' : 'posix-shm')) devShmNotes.push(text);
  }, notes) : { shm: [], sem: [] };
  // One note per entry that is not an object, up to a few dozen: the rest are counted.
  devShmNotes.sort();
  notes.push(...devShmNotes.slice(0, DEVSHM_NOTES));
  if (devShmNotes.length > DEVSHM_NOTES) notes.push(`${devShmNotes.length - DEVSHM_NOTES} more entries of /dev/shm are not shared memory objects or semaphores: left out`);
  if (regions?.served && want('file')) {
    notes.push(`${regions.served} mapped file(s) are on a FUSE or network filesystem, which can stop answering: never asked anything (owner unknown, size from the mappings)`);
  }
  if (regions && regions.slow.length > 0) {
    const pids = regions.slow.slice(0, 10).join(', ') + (regions.slow.length > 10 ? ', …' : '');
    notes.push(`the memory maps of ${regions.slow.length} process(es) did not answer within ${MAPS_BUDGET_MS} ms (pid ${pids}): objects they map may not show them`);
  }
  // Unlinked while mapped or held: listed in their kind, after the named ones.
  if (regions) {
    posix.shm.push(...regions.posixShm);
    if (want('posix-sem')) for (const r of regions.posixSem) posix.sem.push(unlinkedSemValue(r));
  }
  return {
    shm: want('shm') ? shmRecords(scan, users, regions !== undefined) : [],
    sem: want('sem') ? semRecords(users) : [],
    msg: want('msg') ? msgRecords(users) : [],
    posixShm: want('posix-shm') ? posix.shm : [],
    posixSem: want('posix-sem') ? posix.sem : [],
    posixMq: want('posix-mq') ? await mqRecords(notes, users, scan) : [],
    memfd: regions && want('memfd') ? regions.memfd : [],
    anon: regions && want('anon') ? regions.anon : [],
    file: regions && want('file') ? regions.file : [],
    ring: regions && want('ring') ? regions.ring : [],
    unreadableProcesses: Math.max(scan.unreadable, regions?.unreadable ?? 0),
    unreadablePids: regions?.maps.unreadablePids ?? [],
    slow: regions?.slow ?? [],
    fdTablesRead: scan.fdTablesRead,
    ...(posix.fs ? { devShm: posix.fs } : {}),
    notes,
    ...(regions && opts.namespaces !== undefined ? { namespaces: await listNamespaces(regions, users, notes, opts.namespaces) } : {}),
  };
}
