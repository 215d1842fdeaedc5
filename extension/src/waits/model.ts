// The Waits view's pure side: how a waits report becomes a tree (process → what each of its
// threads waits on → who holds it) and how each row reads. No vscode import: tested directly.
import { adviceOf, slowText, type Holder, type Wait, type WaitsReport } from '../analysis/waits';
import { durationText, type OtherWait } from '../analysis/others';

export type WaitNode =
  | { type: 'process'; pid: number; command: string; waits: Wait[]; alarm: boolean }
  | { type: 'wait'; wait: Wait; inDeadlock: boolean; advice?: string }
  | { type: 'holder'; wait: Wait; holder: Holder; inDeadlock: boolean }
  /** A semaphore's last changer: a hint at who posts it, never a holder nor an alarm. */
  | { type: 'changer'; wait: Wait; holder: Holder }
  /** Every other blocked thread (pipes, sockets, event loops, sleeps), one collapsed group. */
  | { type: 'others'; others: OtherWait[]; count: number }
  | { type: 'other'; other: OtherWait }
  /** The scan ran out of time on some processes: what is shown is not all, said first. */
  | { type: 'slow'; pids: number[] };

/**
 * Processes with blocked threads, in pid order; `alarm` when one is in a deadlock or waits on a
 * dead owner. A scan that ran out of time on some processes says so in a first row: their waits are
 * missing, so an empty or calm view is not the whole answer.
 */
export function processNodes(r: WaitsReport): WaitNode[] {
  const cyc = deadlockTids(r);
  const byPid = new Map<number, Wait[]>();
  for (const w of r.waits) {
    const list = byPid.get(w.pid) ?? [];
    list.push(w);
    byPid.set(w.pid, list);
  }
  const nodes: WaitNode[] = [...byPid].sort((a, b) => a[0] - b[0]).map(([pid, waits]) => ({
    type: 'process', pid, command: waits[0]!.postgres?.state ? `postgres: ${waits[0]!.postgres.state}` : waits[0]!.command, waits, alarm: waits.some((w) => w.ownerDied || cyc.has(w.tid)),
  }));
  const count = r.others?.length || r.otherBlocked || 0;
  if (count) nodes.push({ type: 'others', others: r.others ?? [], count });
  if (r.slow.length) nodes.unshift({ type: 'slow', pids: r.slow });
  return nodes;
}

/** The other end of an other wait: `pid 42 ./writer (write end)`. */
export function peerText(o: OtherWait): string {
  return o.peers.map((p) => `pid ${p.pid}${p.pid === o.pid ? ' (itself)' : ''}${p.command ? ` ${p.command}` : ''}${p.end ? ` (${p.end} end)` : ''}`).join(', ');
}

export function deadlockTids(r: WaitsReport): Set<number> {
  return new Set(r.deadlocks.flat().map((t) => t.tid));
}

/** Where a wait is: `shm:5 locks.b` / `sem:3 sem[1]` / `msg:2` / `posix:/ring +0x40` / `sem:0 [web-1]`. */
export function whereText(w: Wait): string {
  const obj = `${w.object.target ?? w.object.name ?? w.object.kind}${w.object.namespace ? ` [${w.object.namespace.label}]` : ''}`;
  if (w.path) return `${obj} ${w.path}`;
  return w.offset !== null ? `${obj} +0x${w.offset.toString(16)}` : obj;
}

export function holderText(h: Holder): string {
  return `pid ${h.pid ?? '?'}${h.tid !== null && h.tid !== h.pid ? ` · tid ${h.tid}` : ''}${h.state !== undefined ? ` postgres: ${h.state}` : h.command ? ` ${h.command}` : ''}${h.alive ? '' : ' (dead)'}`;
}

/** The rows under a wait: its holders, then (semaphores) who changed it last. */
export function waitChildren(w: Wait, inDeadlock: boolean): WaitNode[] {
  return [
    ...w.heldBy.map((holder): WaitNode => ({ type: 'holder', wait: w, holder, inDeadlock })),
    ...w.lastChangedBy.map((holder): WaitNode => ({ type: 'changer', wait: w, holder })),
  ];
}

/** Label, description and tooltip of a node. */
export function describe(node: WaitNode): { label: string; description: string; tooltip: string; icon: string; alarm: 'error' | 'warning' | undefined } {
  switch (node.type) {
    case 'process':
      return {
        label: `pid ${node.pid}`, description: `${node.command} · ${node.waits.length} waiting`,
        tooltip: `${node.command}\n${node.waits.length} thread${node.waits.length === 1 ? '' : 's'} blocked`, icon: 'server-process', alarm: node.alarm ? 'error' : undefined,
      };
    case 'wait': {
      const w = node.wait;
      const state = node.inDeadlock ? 'deadlock' : w.ownerDied ? 'the holder is dead' : w.stuck ? 'stuck' : '';
      const lines = [`thread ${w.tid} (${w.thread}) in ${w.syscall}: ${w.op}`, `on ${w.object.kind} ${w.object.target ?? ''} ${w.object.name ?? ''}`.trim()];
      if (w.object.namespace) lines.push(`of namespace ${w.object.namespace.label} (ipc ${w.object.namespace.ipc}, pid ${w.object.namespace.pid})`);
      if (w.offset !== null) lines.push(`offset 0x${w.offset.toString(16)}${w.path ? ` (${w.path})` : ''}`);
      if (w.meaning) lines.push(`${w.meaning.owner}: ${w.meaning.says}`);
      if (w.lock) lines.push(w.lock.text);
      if (w.since) lines.push(`waiting since ${w.since}`);
      if (w.blockedMs != null) lines.push(`blocked for ${durationText(w.blockedMs)}`);
      if (state) lines.push(state);
      const advice = node.advice;
      if (advice) lines.push(`What to do: ${advice}`);
      return {
        label: whereText(w), description: `tid ${w.tid} · ${w.op}${state ? ` · ${state}` : ''}`, tooltip: lines.join('\n'),
        icon: node.inDeadlock || w.ownerDied ? 'error' : w.stuck ? 'warning' : 'debug-pause', alarm: node.inDeadlock || w.ownerDied ? 'error' : w.stuck ? 'warning' : undefined,
      };
    }
    case 'holder':
      return {
        label: `held by ${holderText(node.holder)}`, description: node.inDeadlock ? 'deadlock' : node.holder.alive ? '' : 'owner died',
        tooltip: node.holder.alive ? `held by ${holderText(node.holder)}` : `held by thread ${node.holder.tid ?? node.holder.pid}, which no longer exists: the lock will never be released`,
        icon: node.holder.alive ? 'lock' : 'error', alarm: node.inDeadlock || !node.holder.alive ? 'error' : undefined,
      };
    case 'changer': {
      const self = node.holder.pid === node.wait.pid;
      return {
        label: `last changed by ${holderText(node.holder)}`, description: self ? 'this process · a hint' : 'a hint',
        tooltip: `A semaphore has no owner. pid ${node.holder.pid ?? '?'} made the last change to it${self ? ' (the waiting process itself)' : ''}: a hint at who posts it, not a holder.`,
        icon: 'history', alarm: undefined,
      };
    }
    case 'others':
      return {
        label: 'Other waits', description: `${node.count} thread${node.count === 1 ? '' : 's'} blocked outside IPC objects`,
        tooltip: 'Threads blocked on pipes, sockets, event loops (epoll, poll, select), eventfds, sleeps, children or signals: not on a shared-memory lock, so never an alarm here.',
        icon: 'watch', alarm: undefined,
      };
    case 'slow': {
      const n = node.pids.length;
      return {
        label: 'Scan incomplete', description: `${n} process${n === 1 ? '' : 'es'} not read in time`,
        tooltip: `${slowText(node.pids)}.\nA process that holds its own /proc files, or a very large one, can do this; the next refresh tries again.`,
        icon: 'warning', alarm: 'warning',
      };
    }
    case 'other': {
      const o = node.other;
      const peers = peerText(o);
      const lines = [`thread ${o.tid} (${o.thread}) of ${o.command}`, `in ${o.syscall}${o.wchan ? `, kernel wait channel ${o.wchan}` : ''}`, `waits on ${o.on}`];
      if (peers) lines.push(`other end: ${peers}`);
      if (o.blockedMs !== null) lines.push(`blocked for ${durationText(o.blockedMs)}`);
      return {
        label: `pid ${o.pid}${o.tid !== o.pid ? ` · tid ${o.tid}` : ''} ${o.syscall}`, description: `${o.on}${peers ? ` ← ${peers}` : ''} · ${durationText(o.blockedMs)}`,
        tooltip: lines.join('\n'), icon: o.kind === 'sleep' ? 'clock' : o.kind === 'pipe' || o.kind === 'fifo' || o.kind === 'socket' ? 'plug' : 'debug-pause', alarm: undefined,
      };
    }
  }
}

/** The wait rows of a process, each with what to do about it when its owner died. */
export function waitNodes(r: WaitsReport, waits: Wait[]): WaitNode[] {
  const cyc = deadlockTids(r);
  return waits.map((wait) => {
    const advice = adviceOf(wait, r);
    return { type: 'wait', wait, inDeadlock: cyc.has(wait.tid), ...(advice ? { advice } : {}) };
  });
}

/** The key of an object's waiters: its target, prefixed by its IPC namespace when not ours (`ipc 4026532301 sem:0`). */
export function waiterKey(target: string, namespace?: { ipc: number }): string {
  return namespace ? `ipc ${namespace.ipc} ${target}` : target;
}

/**
 * Per object (waiterKey): how many threads wait on it and whether one of them is in a deadlock or
 * on a dead owner. A container's `sem:0` is keyed apart from ours: its waiters are never ours.
 */
export function waitersByTarget(r: WaitsReport): Map<string, { count: number; alarm: boolean }> {
  const cyc = deadlockTids(r);
  const out = new Map<string, { count: number; alarm: boolean }>();
  for (const w of r.waits) {
    if (!w.object.target) continue;
    const key = waiterKey(w.object.target, w.object.namespace);
    const e = out.get(key) ?? { count: 0, alarm: false };
    e.count++;
    e.alarm ||= w.ownerDied || cyc.has(w.tid);
    out.set(key, e);
  }
  return out;
}
