// Readers of what the kernel publishes as text: /proc/sysvipc/*, /proc/PID/maps and cmdline,
// /etc/passwd for user names. Listing from these files costs a few reads, where asking per object
// through system calls would cost several calls per object.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { binding } from './native';

/** One row of /proc/sysvipc/{shm,sem,msg}, keyed by the file's own column names. */
export type SysvRow = Record<string, number>;

/** Parses a /proc/sysvipc file; a missing file (no System V IPC in the kernel) gives no rows. */
export function parseSysvTable(text: string): SysvRow[] {
  const lines = text.split('\n');
  const header = (lines[0] ?? '').trim().split(/\s+/);
  const rows: SysvRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(/\s+/);
    const row: SysvRow = {};
    for (let c = 0; c < header.length; c++) {
      const v = cells[c] ?? '0';
      // perms is octal; every other column is decimal.
      row[header[c]!] = header[c] === 'perms' ? parseInt(v, 8) : Number(v);
    }
    rows.push(row);
  }
  return rows;
}

export type SysvKind = 'shm' | 'sem' | 'msg';

export function readSysv(kind: SysvKind): SysvRow[] {
  try {
    return parseSysvTable(readFileSync(`/proc/sysvipc/${kind}`, 'latin1'));
  } catch {
    return [];
  }
}

let passwd: { mtimeMs: number; names: Map<number, string> } | undefined;

/** A uid → name lookup that checks /etc/passwd once, for a listing of many records. */
export function userNames(): (uid: number) => string {
  userName(0);
  const names = passwd!.names;
  return (uid) => names.get(uid) ?? String(uid);
}

/** uid → user name from /etc/passwd (re-read when it changes); the number when unknown. */
export function userName(uid: number): string {
  try {
    const mtimeMs = statSync('/etc/passwd').mtimeMs;
    if (!passwd || passwd.mtimeMs !== mtimeMs) {
      const names = new Map<number, string>();
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length >= 3 && f[0]) names.set(Number(f[2]), f[0]);
      }
      passwd = { mtimeMs, names };
    }
  } catch {
    passwd ??= { mtimeMs: 0, names: new Map() };
  }
  return passwd.names.get(uid) ?? String(uid);
}

/** Who maps what, from every /proc/PID/maps we may read. */
export interface MapsScan {
  /** System V shmid → pids that map it (the maps line's inode column is the shmid). */
  sysv: Map<number, number[]>;
  /** System V shmid → number of mappings seen (nattch counts attachments, not processes). */
  sysvMappings: Map<number, number>;
  /** /dev/shm file name (without the directory) → pids. */
  devShm: Map<string, number[]>;
  /** /dev/shm file name → the descriptors processes hold of it (whichever namespace's file: the inode tells). */
  devShmFds: Map<string, { pid: number; fd: number; ino: number }[]>;
  /** /dev/shm inode → pids that map it (whatever name the mapping shows). */
  devShmByInode: Map<number, number[]>;
  /** POSIX message queue name ("/jobs") → the descriptors processes hold of it. */
  mqFds: Map<string, { pid: number; fd: number; ino: number }[]>;
  /** Whether fd tables were read (devShmFds and mqFds are complete). */
  fdTablesRead: boolean;
  /** The pids counted in `unreadable`, when the scan named them. */
  unreadablePids: number[];
  /** Processes whose maps we could not read. */
  unreadable: number;
  /** pid → command line, for every pid above. */
  commands: Map<number, string>;
  /** Processes whose maps did not answer within the scan's budget (they hold their memory lock). */
  slow: number[];
}

export const emptyScan = (): MapsScan => ({ sysv: new Map(), sysvMappings: new Map(), devShm: new Map(), devShmByInode: new Map(), devShmFds: new Map(), mqFds: new Map(), fdTablesRead: false, unreadablePids: [], unreadable: 0, commands: new Map(), slow: [] });

/** How long one listing waits for /proc/PID/maps before it answers with what it has. */
export const MAPS_BUDGET_MS = 2000;

function addPid<K>(map: Map<K, number[]>, key: K, pid: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [pid]);
  else if (!list.includes(pid)) list.push(pid);
}

/**
 * Scans /proc/PID/maps of every process natively, on a thread of its own and within
 * MAPS_BUDGET_MS (reading another process's maps or command line waits on its memory lock), and
 * reads the command lines of the hits there too.
 */
export async function scanMaps(budgetMs = MAPS_BUDGET_MS): Promise<MapsScan> {
  const scan = emptyScan();
  const raw = await binding().scanMaps(budgetMs);
  scan.unreadable = raw.unreadable;
  scan.slow = raw.slow;
  for (const m of raw.mappings) {
    if ('shmid' in m) {
      addPid(scan.sysv, m.shmid, m.pid);
      scan.sysvMappings.set(m.shmid, (scan.sysvMappings.get(m.shmid) ?? 0) + 1);
    } else {
      addPid(scan.devShm, m.file, m.pid);
    }
  }
  for (const [pid, command] of Object.entries(raw.commands)) scan.commands.set(Number(pid), command);
  for (const list of scan.sysv.values()) list.sort((a, b) => a - b);
  for (const list of scan.devShm.values()) list.sort((a, b) => a - b);
  return scan;
}

/** True when a process with this pid exists now. */
export function processExists(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** True when a process has ended: gone from /proc, or a zombie (its memory is gone, its entry stays until it is reaped). */
export function processEnded(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** The parent pid from the text of /proc/PID/stat (after the command's closing parenthesis). */
export function parentOfStat(stat: string): number | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ');
  const ppid = Number(rest[1]);
  return Number.isSafeInteger(ppid) && ppid >= 0 ? ppid : undefined;
}

/** `pid` and its ancestors, up to (not including) init: the processes of the program running us. */
export function ancestry(pid: number): Set<number> {
  const out = new Set<number>();
  for (let p: number | undefined = pid; p !== undefined && p > 1 && !out.has(p) && out.size < 64;) {
    out.add(p);
    try {
      p = parentOfStat(readFileSync(`/proc/${p}/stat`, 'latin1'));
    } catch {
      break;
    }
  }
  return out;
}

/** What editorProcesses needs of a process: its parent and the executable it runs (undefined when unreadable). */
export interface ProcessLink {
  ppid: number | undefined;
  exe: string | undefined;
}

/** A process's parent (from /proc/PID/stat) and executable (the /proc/PID/exe link). */
export function processLink(pid: number): ProcessLink {
  let ppid: number | undefined;
  let exe: string | undefined;
  try { ppid = parentOfStat(readFileSync(`/proc/${pid}/stat`, 'latin1')); } catch { /* ended or hidden */ }
  try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { /* a kernel thread, ended, or not ours to read */ }
  return { ppid, exe };
}

/** Every pid /proc lists now. */
export function processIds(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/**
 * The editor that runs `pid`: the outermost of the unbroken chain of its ancestors that run the
 * same executable (VS Code's main process, code-server's server), and every process below it
 * that runs that executable too. An editor's renderers, GPU process, pty host and file watcher
 * are siblings of its extension host, not ancestors; the shells of its terminals, and what a
 * user starts in them, run other executables and stay the user's. Falls back to `ancestry` when
 * our own executable cannot be read. `link` and `pids` read /proc unless given (tests).
 */
export function editorProcesses(pid: number, link: (pid: number) => ProcessLink = processLink, pids: () => number[] = processIds): Set<number> {
  const exe = link(pid).exe;
  if (exe === undefined) return ancestry(pid);
  let root = pid;
  const seen = new Set([pid]);
  for (let p = link(pid).ppid; p !== undefined && p > 0 && !seen.has(p);) {
    seen.add(p);
    const l = link(p);
    if (l.exe !== exe) break;
    root = p;
    p = l.ppid;
  }
  const children = new Map<number, number[]>();
  const links = new Map<number, ProcessLink>();
  for (const p of pids()) {
    const l = link(p);
    links.set(p, l);
    if (l.ppid === undefined) continue;
    const list = children.get(l.ppid);
    if (list) list.push(p);
    else children.set(l.ppid, [p]);
  }
  const out = new Set([root]);
  for (const queue = [root]; queue.length > 0;) {
    for (const c of children.get(queue.pop()!) ?? []) {
      if (out.has(c) || links.get(c)?.exe !== exe) continue;
      out.add(c);
      queue.push(c);
    }
  }
  return out.add(pid);
}

/** Seconds since the epoch → ISO-8601, or null for 0 ("never"). */
export function isoTime(seconds: number): string | null {
  return seconds > 0 ? new Date(seconds * 1000).toISOString() : null;
}

/** Reads a number (or several) from a /proc/sys file; undefined when absent. */
export function readSysctl(file: string): number[] | undefined {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
}
