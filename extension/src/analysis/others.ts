// Every other blocked thread, said plainly: the threads that wait outside the IPC objects
// ./waits explains — on a pipe or FIFO (and who holds its other end), a Unix socket (its peer
// process, from the kernel's socket diagnostics), an epoll/poll/select set (the files it watches,
// summarised), an eventfd or signalfd, a sleep, a child or a signal. Facts from the native thread
// scan (`scanThreads(…, all)`) and `peersOf`; no vscode import.
import { binding, type RawPeers, type RawThread, type RawWaitFd } from '../ipc/native';

/** What an other wait is on, by kind. */
export type OtherKind = 'pipe' | 'fifo' | 'socket' | 'epoll' | 'poll' | 'select' | 'eventfd' | 'signalfd' | 'timerfd' | 'file' | 'sleep' | 'futex' | 'child' | 'signal' | 'other';

/** A process holding the other end of a pipe, FIFO or Unix socket. */
export interface Peer {
  pid: number;
  fd: number;
  command: string | null;
  /** For a pipe or FIFO: the end that descriptor is (from its access mode). */
  end?: 'read' | 'write' | 'both';
}

/** One blocked thread outside the IPC waits (the `waits --json --all` `others` entry). */
export interface OtherWait {
  pid: number;
  tid: number;
  command: string;
  thread: string;
  /** The system call it is blocked in (`read`, `epoll_wait`, …; `syscall N` when unnamed). */
  syscall: string;
  /** The kernel function it sleeps in (/proc/PID/task/TID/wchan); '' for a sleep, a signal or a child wait (the call says it; not read). */
  wchan: string;
  /** S (interruptible sleep) or D (uninterruptible). */
  state: string;
  kind: OtherKind;
  /** What it waits on, said plainly: `pipe 1234 (read end)`, `epoll set of 3: 2 sockets, 1 eventfd`. */
  on: string;
  /** Who holds the other end (pipes, FIFOs, Unix sockets); empty when none or not told. */
  peers: Peer[];
  /** Off CPU for this long (the scheduler's own time of its last run); null when not told. */
  blockedMs: number | null;
}

/** A duration said for people: 850 ms, 12 s, 3 min 4 s, 2 h 5 min. */
export function durationText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${Math.floor(s / 60) % 60 ? ` ${Math.floor(s / 60) % 60} min` : ''}`;
  return `${Math.floor(s / 86400)} d ${Math.floor(s / 3600) % 24} h`;
}

// x86-64 system call names of the waits a thread is commonly blocked in.
export const SYSCALL_NAMES: Record<number, string> = {
  0: 'read', 1: 'write', 7: 'poll', 16: 'ioctl', 17: 'pread64', 18: 'pwrite64', 19: 'readv', 20: 'writev', 23: 'select', 34: 'pause',
  35: 'nanosleep', 40: 'sendfile', 42: 'connect', 43: 'accept', 44: 'sendto', 45: 'recvfrom', 46: 'sendmsg', 47: 'recvmsg', 61: 'wait4',
  65: 'semop', 69: 'msgsnd', 70: 'msgrcv', 72: 'fcntl', 73: 'flock', 74: 'fsync', 128: 'rt_sigtimedwait', 130: 'rt_sigsuspend',
  202: 'futex', 220: 'semtimedop', 230: 'clock_nanosleep', 232: 'epoll_wait', 242: 'mq_timedsend', 243: 'mq_timedreceive',
  247: 'waitid', 257: 'openat', 2: 'open', 270: 'pselect6', 271: 'ppoll', 275: 'splice', 276: 'tee', 281: 'epoll_pwait',
  288: 'accept4', 299: 'recvmmsg', 307: 'sendmmsg', 426: 'io_uring_enter', 441: 'epoll_pwait2', 449: 'futex_waitv',
};

const WRITES = new Set(['write', 'pwrite64', 'writev', 'sendto', 'sendmsg', 'sendmmsg', 'sendfile']);

/** The kind of a descriptor link ("pipe:[12]", "socket:[34]", "anon_inode:[eventfd]", a path). */
export function linkKind(f: RawWaitFd): OtherKind {
  const l = f.link ?? '';
  if (l.startsWith('pipe:[')) return 'pipe';
  if (l.startsWith('socket:[')) return 'socket';
  if (f.fifoInode !== undefined) return 'fifo';
  const anon = /^anon_inode:\[?([a-z_]+)\]?$/.exec(l)?.[1];
  if (anon === 'eventfd' || anon === 'signalfd' || anon === 'timerfd') return anon;
  if (anon === 'eventpoll') return 'epoll';
  return 'file';
}

const inodeOf = (link: string) => /\[(\d+)\]$/.exec(link)?.[1];

/** A watched set summarised: "3 files: 2 sockets, 1 eventfd" (kinds by count, most first). */
function setSummary(fds: RawWaitFd[], total: number): string {
  const counts = new Map<string, number>();
  for (const f of fds) {
    const k = f.error ? 'closed' : linkKind(f);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const plural = (k: string, n: number) => (n === 1 ? k : k === 'closed' ? k : `${k}s`);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${n} ${plural(k, n)}`);
  const more = total > fds.length ? `, ${total - fds.length} more` : '';
  return `${total} file${total === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}${more}`;
}

/** A sleep's request, said: "sleep 120 s", "sleep until 12345.6 s of CLOCK_MONOTONIC". */
function sleepText(s: NonNullable<RawThread['sleep']>): string {
  const secs = s.sec + s.nsec / 1e9;
  const clock = ['CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID', 'CLOCK_THREAD_CPUTIME_ID', 'CLOCK_MONOTONIC_RAW', 'CLOCK_REALTIME_COARSE', 'CLOCK_MONOTONIC_COARSE', 'CLOCK_BOOTTIME'][s.clock] ?? `clock ${s.clock}`;
  if (!s.absolute) return `sleep of ${Number(secs.toFixed(3))} s`;
  if (s.clock === 0) return `sleep until ${new Date(secs * 1000).toISOString()}`;
  return `sleep until ${Number(secs.toFixed(3))} s of ${clock}`;
}

/** Whether a blocked thread is an other wait: asleep in a system call (the IPC ones that ./waits explained aside). */
export function isBlocked(t: RawThread): boolean {
  return t.nr >= 0 && (t.state === 'S' || t.state === 'D');
}

/** A thread's wait before peers are known: kind, what it is on, and the link whose other end is wanted. */
function classify(t: RawThread, syscall: string): { kind: OtherKind; on: string; link?: string; fd?: number } {
  const fds = t.fds ?? [];
  const main = fds.filter((f) => !f.watched);
  const watched = fds.filter((f) => f.watched);
  if (t.sleep) return { kind: 'sleep', on: sleepText(t.sleep) };
  if (syscall === 'futex' || syscall === 'futex_waitv') return { kind: 'futex', on: 'a futex in memory of its own process (a private lock, condition or join)' };
  if (syscall === 'wait4' || syscall === 'waitid') return { kind: 'child', on: 'a child process to end' };
  if (syscall === 'pause' || syscall === 'rt_sigsuspend' || syscall === 'rt_sigtimedwait') return { kind: 'signal', on: 'a signal' };
  if (syscall === 'poll' || syscall === 'ppoll' || syscall === 'select' || syscall === 'pselect6') {
    const kind = syscall.includes('poll') ? 'poll' : 'select';
    return { kind, on: `${kind} set of ${setSummary(watched, t.watchedTotal ?? watched.length)}` };
  }
  const first = main[0];
  if (syscall.startsWith('epoll_')) {
    return { kind: 'epoll', on: `epoll set${first ? ` (fd ${first.fd})` : ''} of ${setSummary(watched, t.watchedTotal ?? watched.length)}` };
  }
  if (!first) return { kind: 'other', on: t.wchan ? `the kernel (${t.wchan})` : 'unknown' };
  if (first.error) return { kind: 'file', on: `fd ${first.fd} (${first.error})` };
  const kind = linkKind(first);
  const dir = WRITES.has(syscall) ? 'write' : syscall === 'accept' || syscall === 'accept4' ? 'accept' : syscall === 'connect' ? 'connect' : 'read';
  const link = first.link!;
  switch (kind) {
    case 'pipe':
      return { kind, on: `pipe ${inodeOf(link)} (fd ${first.fd}, ${dir})`, link, fd: first.fd };
    case 'fifo':
      return { kind, on: `FIFO ${link} (fd ${first.fd}, ${dir})`, link, fd: first.fd };
    case 'socket':
      return { kind, on: `socket ${inodeOf(link)} (fd ${first.fd}, ${dir})`, link, fd: first.fd };
    default:
      return { kind, on: `${kind === 'file' ? link : kind} (fd ${first.fd}, ${dir})` };
  }
}

/** Command lines of `pids` by pid (none for a process gone or not answering by the budget). */
const commandsOf = (pids: number[], budgetMs: number): Promise<Record<string, string>> =>
  pids.length ? binding().commandsOf(pids, budgetMs).catch((): Record<string, string> => ({})) : Promise.resolve({});

/** The end an access mode is: O_RDONLY 0, O_WRONLY 1, O_RDWR 2 (-1: not told). */
const endOf = (flags: number): Peer['end'] => (flags < 0 ? undefined : (flags & 3) === 0 ? 'read' : (flags & 3) === 1 ? 'write' : 'both');

/** The other waits of a scan classified, and the search for their other ends under way (startOtherWaits). */
export interface PendingOthers {
  list: (OtherWait & { link?: string; fd?: number })[];
  peers: Promise<RawPeers>;
  /** The waiters' command lines, read beside the peer search. */
  commands: Promise<Record<string, string>>;
}

/**
 * Every blocked thread of a scan but `self`'s (the scanning process) classified, and the search
 * for the other ends of its pipes, FIFOs and Unix sockets across every process's descriptors
 * started at once (peersOf, on the addon's reader threads), so that it runs beside the rest of
 * the analysis rather than after it. The threads of IPC waits carry no descriptor (the scan
 * resolves only other waits' ones), so no link of theirs is searched for.
 */
export function startOtherWaits(threads: readonly RawThread[], self: number, budgetMs: number): PendingOthers {
  const list: PendingOthers['list'] = [];
  for (const t of threads) {
    if (!isBlocked(t) || t.pid === self) continue;
    const syscall = SYSCALL_NAMES[t.nr] ?? `syscall ${t.nr}`;
    const c = classify(t, syscall);
    list.push({ pid: t.pid, tid: t.tid, command: '', thread: t.comm, syscall, wchan: t.wchan ?? '', state: t.state, kind: c.kind, on: c.on, peers: [], blockedMs: t.blockedMs ?? null, ...(c.link ? { link: c.link, fd: c.fd } : {}) });
  }
  // peersOf takes at most 4096 links: the first ones (by pid) get their other ends named.
  const links = [...new Set(list.flatMap((o) => (o.link ? [o.link] : [])))].slice(0, 4096);
  const none: RawPeers = { peers: {}, holders: {}, complete: true };
  const peers = links.length ? binding().peersOf(links, budgetMs).catch(() => none) : Promise.resolve(none);
  return { list, peers, commands: commandsOf([...new Set(list.map((o) => o.pid))], budgetMs) };
}

/**
 * The other waits of a scan: every blocked thread not in `explained` (tids with an IPC wait) and
 * not of `self` (the scanning process), with the other ends of pipes, FIFOs and Unix sockets
 * found across every process's descriptors. `commands` names the processes.
 */
export async function otherWaits(threads: readonly RawThread[], explained: ReadonlySet<number>, self: number, budgetMs: number): Promise<OtherWait[]> {
  return finishOtherWaits(startOtherWaits(threads, self, budgetMs), explained, budgetMs);
}

/** The other waits of startOtherWaits but the threads in `explained`, their peers and processes named. */
export async function finishOtherWaits(pending: PendingOthers, explained: ReadonlySet<number>, budgetMs: number): Promise<OtherWait[]> {
  const out = pending.list.filter((o) => !explained.has(o.tid));
  const peers = await pending.peers;
  for (const o of out) {
    const { link, fd } = o;
    delete o.link;
    delete o.fd;
    if (!link) continue;
    const writer = WRITES.has(o.syscall);
    if (o.kind === 'socket') {
      const peer = peers.peers[inodeOf(link) ?? ''];
      if (peer === undefined) {
        o.on += ', peer not known (not a connected Unix socket of this network namespace)';
        continue;
      }
      o.peers = (peers.holders[`socket:[${peer}]`] ?? []).map((h) => ({ pid: h.pid, fd: h.fd, command: null }));
      o.on += `, peer socket ${peer}`;
    } else {
      // The other end: a reader's writers, a writer's readers; the waiter's own descriptor is not one.
      const want = writer ? 'read' : 'write';
      o.peers = (peers.holders[link] ?? [])
        .map((h) => ({ pid: h.pid, fd: h.fd, command: null, end: endOf(h.flags) }))
        .filter((h) => !(h.pid === o.pid && h.fd === fd) && (h.end === undefined || h.end === want || h.end === 'both'));
    }
  }
  // The waiters' command lines were read beside the peer search; a peer that waits on nothing is read now.
  const commands = await pending.commands;
  const asked = new Set(pending.list.map((o) => o.pid));
  const rest = [...new Set(out.flatMap((o) => o.peers.map((p) => p.pid)))].filter((pid) => !asked.has(pid));
  if (rest.length) Object.assign(commands, await commandsOf(rest, budgetMs));
  for (const o of out) {
    o.command = commands[o.pid] ?? '?';
    for (const p of o.peers) p.command = commands[p.pid] ?? null;
  }
  return out.sort((a, b) => a.pid - b.pid || a.tid - b.tid);
}
