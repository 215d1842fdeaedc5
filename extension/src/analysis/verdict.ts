// Whether an object is in use, a leftover, or unknown, with its reasons in words: the one answer
// `df`, `gc`, `list --json`, the explorer and metrics give (DESIGN.md: "what may I delete?").
// Pure TypeScript over the façade's listing (no vscode, no I/O but the liveness of a pid, which
// the caller may supply): `in use` when something maps it, holds it open, is attached, waits on it
// or holds a lock in it, or when a creator that may attach again still runs; `leftover` when
// nothing maps or holds it and its creator is gone; `unknown` when we could not read every
// process (which ones is said) or the kernel keeps nothing that tells.
import { readFileSync } from 'node:fs';
import type { IpcRecord, Listing, NamespaceRef } from '../ipc/types';
import { formatTarget, targetOf } from '../ipc/target';

/** The three answers. */
export type VerdictState = 'in use' | 'leftover' | 'unknown';

/** An answer with its reasons, each a short clause (`created by pid 4242, exited`). */
export interface Verdict {
  verdict: VerdictState;
  reasons: string[];
  /** Who owns it in the user's terms, when program knowledge (a rule) recognised it. */
  owner?: string;
}

/** A process that maps an object or only keeps a descriptor of it open. */
export interface ObjectHolder {
  pid: number;
  command: string;
  how: 'map' | 'fd';
}

/** What the verdict knows beyond the record itself. */
export interface VerdictFacts {
  /** Whether a process with this pid runs now (in our pid namespace: the kernel reports pids so). */
  alive(pid: number): boolean;
  /** A running process's command, when known. */
  command?(pid: number): string | undefined;
  /** Processes whose memory maps or descriptors we could not read: their pids, and how many in all. */
  unread: { count: number; pids: number[] };
  /** Whether the descriptor tables were read (fd holders of POSIX objects are known). */
  fdTablesRead: boolean;
  /** From the waits analysis: target text (`sem:5`) → clauses (`pid 12 (worker) waits on it`). */
  waits?: ReadonlyMap<string, string[]>;
  /** Program knowledge (rules): may name the owner and change the answer, adding its reasons. */
  refine?(rec: IpcRecord, verdict: Verdict): Verdict;
}

/** True when a process with this pid runs now: /proc/PID exists and it is not a zombie (it has exited). */
export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The facts a listing gives: its unreadable processes, and liveness from /proc (memoised). */
export function listingFacts(l: Listing, extra: Partial<VerdictFacts> = {}): VerdictFacts {
  const seen = new Map<number, boolean>();
  const alive = extra.alive ?? pidAlive;
  const commands = new Map<number, string>();
  const note = (list: { pid: number; command: string }[]) => {
    for (const h of list) if (h.command && h.command !== '?') commands.set(h.pid, h.command);
  };
  for (const r of allRecords(l)) {
    if ('attachedBy' in r) note(r.attachedBy);
    const fd = (r as { fdHolders?: { pid: number; command: string }[] }).fdHolders;
    if (fd) note(fd);
  }
  const pids = [...(l.unreadablePids ?? []), ...(l.slow ?? [])];
  return {
    alive: (pid) => {
      let a = seen.get(pid);
      if (a === undefined) seen.set(pid, (a = alive(pid)));
      return a;
    },
    command: (pid) => commands.get(pid),
    unread: { count: l.unreadableProcesses + (l.slow?.length ?? 0), pids: [...new Set(pids)].sort((a, b) => a - b) },
    fdTablesRead: l.fdTablesRead ?? false,
    ...(extra.waits ? { waits: extra.waits } : {}),
    ...(extra.refine ? { refine: extra.refine } : {}),
  };
}

/** Every record of a listing, ours then each other namespace's. */
export function allRecords(l: Listing): (IpcRecord & { namespace?: NamespaceRef })[] {
  const out: (IpcRecord & { namespace?: NamespaceRef })[] = [...l.shm, ...l.sem, ...l.msg, ...l.posixShm, ...l.posixSem, ...l.posixMq, ...l.memfd, ...l.anon, ...l.file];
  for (const ns of l.namespaces ?? []) out.push(...ns.shm, ...ns.sem, ...ns.msg, ...ns.posixShm);
  return out;
}

/** The processes that map the object or hold a descriptor of it, each once per way (map first). */
export function holdersOf(rec: IpcRecord): ObjectHolder[] {
  // Seen pids by number (a region mapped by 500 processes is 500 look-ups per verdict, every scrape).
  const out: ObjectHolder[] = [];
  const mappers = new Set<number>();
  if ('attachedBy' in rec) {
    for (const a of rec.attachedBy) {
      if (mappers.has(a.pid)) continue;
      mappers.add(a.pid);
      out.push({ pid: a.pid, command: a.command, how: 'map' });
    }
  }
  const fd = (rec as { fdHolders?: { pid: number; command: string }[] }).fdHolders;
  const holders = new Set<number>();
  for (const h of fd ?? []) {
    if (mappers.has(h.pid) || holders.has(h.pid)) continue;
    holders.add(h.pid);
    out.push({ pid: h.pid, command: h.command, how: 'fd' });
  }
  return out;
}

/**
 * The holders of the object a target names (`posix:/ring`, `shm:5`, `memfd:123`), among our own
 * namespaces' records only: a segment of the same id in another IPC namespace is another object,
 * and its processes are not this one's. Empty when the listing has no such object.
 */
export function holdersOfTarget(l: Listing, target: string): ObjectHolder[] {
  const own: IpcRecord[] = [...l.shm, ...l.posixShm, ...l.memfd, ...l.anon, ...l.file];
  const rec = own.find((r) => targetText(r) === target);
  return rec ? holdersOf(rec) : [];
}

/** The target text the waits analysis and the CLI use for a record (`sem:5`, `posix:/ring`). */
export function targetText(rec: IpcRecord): string | undefined {
  const t = targetOf(rec);
  return t ? formatTarget(t) : undefined;
}

const MAX_NAMED = 5;

/** A command line as a reason names it: its program's base name (`/usr/bin/python3 -c …` → `python3`). */
export function programName(command: string): string {
  const first = command.trim().split(/\s+/)[0] ?? '';
  const base = first.slice(first.lastIndexOf('/') + 1).replace(/:$/, '');
  return base.length > 40 ? `${base.slice(0, 39)}…` : base;
}

/** `pid 12 (worker), pid 13 (worker) and 3 more` */
function pidList(list: { pid: number; command?: string }[]): string {
  const named = list.slice(0, MAX_NAMED).map((p) => (p.command && p.command !== '?' ? `pid ${p.pid} (${programName(p.command)})` : `pid ${p.pid}`));
  const more = list.length - named.length;
  return named.join(', ') + (more > 0 ? ` and ${more} more` : '');
}

function pidWords(facts: VerdictFacts, pid: number): string {
  const c = facts.command?.(pid);
  return c ? `pid ${pid} (${programName(c)})` : `pid ${pid}`;
}

function unreadClause(facts: VerdictFacts): string {
  const { count, pids } = facts.unread;
  const shown = pids.slice(0, 10).join(', ') + (pids.length > 10 ? ', …' : '');
  return pids.length ? `the memory maps or descriptors of ${count} process(es) could not be read (pid ${shown})` : `the memory maps or descriptors of ${count} process(es) could not be read`;
}

function holderClauses(holders: ObjectHolder[]): string[] {
  const maps = holders.filter((h) => h.how === 'map');
  const fds = holders.filter((h) => h.how === 'fd');
  const out: string[] = [];
  if (maps.length) out.push(`mapped by ${pidList(maps)}`);
  if (fds.length) out.push(`held open (a descriptor, not mapped) by ${pidList(fds)}`);
  return out;
}

/** The verdict on one record, before program knowledge. */
function baseVerdict(rec: IpcRecord, facts: VerdictFacts): Verdict {
  const target = targetText(rec);
  const waits = (target && facts.waits?.get(target)) || [];
  const inUse = (reasons: string[]): Verdict => ({ verdict: 'in use', reasons: [...reasons, ...waits] });
  if (waits.length && rec.kind !== 'shm') return inUse([]);
  switch (rec.kind) {
    case 'shm': {
      if (rec.nattch > 0) {
        const reasons: string[] = [];
        if (rec.attachedBy.length) reasons.push(`attached by ${pidList(rec.attachedBy)}`);
        if (rec.hiddenAttachers > 0) reasons.push(`${rec.hiddenAttachers} attachment(s) the kernel counts by processes we cannot see`);
        if (rec.removed) reasons.push('marked for removal: it goes when the last process detaches');
        return inUse(reasons);
      }
      if (waits.length) return inUse([]);
      if (rec.cpid > 0 && facts.alive(rec.cpid)) return inUse([`nothing is attached, but its creator ${pidWords(facts, rec.cpid)} still runs and may attach again`]);
      if (rec.lpid > 0 && rec.lpid !== rec.cpid && facts.alive(rec.lpid)) return inUse([`nothing is attached, but ${pidWords(facts, rec.lpid)}, the last to attach or detach, still runs and may attach again`]);
      if (rec.cpid <= 0) return { verdict: 'unknown', reasons: ['nothing is attached, but its creator is not visible from our pid namespace'] };
      return { verdict: 'leftover', reasons: [`created by pid ${rec.cpid}, exited`, 'nothing is attached (the kernel counts 0 attachments)'] };
    }
    case 'sem': {
      if (rec.unreadable) return { verdict: 'unknown', reasons: [`its semaphores cannot be read (${rec.unreadable}): who last changed them is not known`] };
      const waiting = rec.ncnt.reduce((a, b) => a + b, 0) + rec.zcnt.reduce((a, b) => a + b, 0);
      if (waiting > 0) return inUse([`${waiting} process(es) wait on it`]);
      const pids = [...new Set(rec.pids.filter((p) => p > 0))];
      const live = pids.filter((p) => facts.alive(p));
      if (live.length) return inUse([`last changed by ${pidList(live.map((pid) => ({ pid, command: facts.command?.(pid) })))}, still running`]);
      if (!pids.length) return { verdict: 'unknown', reasons: ['never operated on, and a System V semaphore set records no creator: nothing tells whether a program still uses it'] };
      return { verdict: 'leftover', reasons: [`last changed by ${pidList(pids.map((pid) => ({ pid })))}, exited`, 'nobody waits on it'] };
    }
    case 'msg': {
      const pids = [...new Set([rec.lspid, rec.lrpid].filter((p) => p > 0))];
      const live = pids.filter((p) => facts.alive(p));
      if (live.length) return inUse([`last used by ${pidList(live.map((pid) => ({ pid, command: facts.command?.(pid) })))}, still running`]);
      if (!pids.length) return { verdict: 'unknown', reasons: ['never sent to nor received from, and a System V queue records no creator: nothing tells whether a program still uses it'] };
      const reasons = [`last used by ${pidList(pids.map((pid) => ({ pid })))}, exited`];
      if (rec.messages > 0) reasons.push(`${rec.messages} message(s) nobody received`);
      return { verdict: 'leftover', reasons };
    }
    case 'posix-shm':
    case 'posix-sem': {
      const holders = holdersOf(rec);
      if (holders.length) return inUse(holderClauses(holders));
      if (facts.unread.count > 0) return { verdict: 'unknown', reasons: ['no process we could read maps it or holds it open', unreadClause(facts)] };
      if (!facts.fdTablesRead) return { verdict: 'unknown', reasons: ['no process maps it, but open descriptors were not looked for'] };
      return { verdict: 'leftover', reasons: ['no process maps it or holds it open', 'a POSIX object records no creator: its name and owner say whose it was'] };
    }
    case 'posix-mq': {
      const reasons = holderClauses(holdersOf(rec));
      if (rec.notifyPid !== null && facts.alive(rec.notifyPid)) reasons.push(`${pidWords(facts, rec.notifyPid)} waits to be notified of its messages`);
      if (reasons.length) return inUse(reasons);
      if (!rec.fdHolders) return { verdict: 'unknown', reasons: ['open message queue descriptors were not looked for, and a queue records no creator'] };
      if (facts.unread.count > 0) return { verdict: 'unknown', reasons: ['no process we could read holds it open', unreadClause(facts)] };
      return { verdict: 'leftover', reasons: ['no process holds it open', `${rec.messages ? `${rec.messages} message(s) nobody received; ` : ''}a queue records no creator: its name and owner say whose it was`] };
    }
    case 'memfd':
    case 'anon':
    case 'file': {
      const holders = holdersOf(rec);
      if (holders.length) return inUse(holderClauses(holders));
      // A region exists only while something maps or holds it: one we list without holders was
      // only ours, or ended meanwhile.
      return { verdict: 'unknown', reasons: ['no holder was seen: it ended while we looked'] };
    }
    case 'ring':
      // The kernel frees a ring with the last mapping or descriptor of it: one listed is held.
      return inUse([`a kernel ${rec.subkind} ring (${rec.part}) mapped by pid ${rec.pid} (${rec.command})${rec.fd !== null ? ` through its fd ${rec.fd}` : ''}; the kernel frees it when that process lets go`]);
  }
}

/** The verdict on one record: the kernel's and /proc's facts, then program knowledge. */
export function verdictOf(rec: IpcRecord, facts: VerdictFacts): Verdict {
  const v = baseVerdict(rec, facts);
  return facts.refine ? facts.refine(rec, v) : v;
}

/** Clauses per target from a waits report: who waits on each object, who holds a lock in it. */
export function waitsByTarget(report: { waits: { pid: number; command: string; op: string; object: { target: string | null }; heldBy: { pid: number | null; command: string | null; alive: boolean }[] }[] }): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (t: string, clause: string) => {
    const list = out.get(t);
    if (!list) out.set(t, [clause]);
    else if (!list.includes(clause)) list.push(clause);
  };
  for (const w of report.waits) {
    const t = w.object.target;
    if (!t) continue;
    add(t, `pid ${w.pid} (${programName(w.command)}) waits on it (${w.op})`);
    for (const h of w.heldBy) if (h.pid !== null && h.alive) add(t, `pid ${h.pid}${h.command ? ` (${programName(h.command)})` : ''} holds a lock in it`);
  }
  return out;
}

/** One line for a verdict: `leftover: created by pid 4242, exited; nothing is attached`. */
export function verdictLine(v: Verdict): string {
  return `${v.owner ? `${v.owner}: ` : ''}${v.verdict}${v.reasons.length ? `: ${v.reasons.join('; ')}` : ''}`;
}
