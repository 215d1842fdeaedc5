// The Waits view's pure side: how a waits report becomes a tree (process → what each of its
// threads waits on → who holds it) and how each row reads. No vscode import: tested directly.
import type { Holder, Wait, WaitsReport } from '../analysis/waits';

export type WaitNode =
  | { type: 'process'; pid: number; command: string; waits: Wait[]; alarm: boolean }
  | { type: 'wait'; wait: Wait; inDeadlock: boolean }
  | { type: 'holder'; wait: Wait; holder: Holder; inDeadlock: boolean }
  /** A semaphore's last changer: a hint at who posts it, never a holder nor an alarm. */
  | { type: 'changer'; wait: Wait; holder: Holder };

/** Processes with blocked threads, in pid order; `alarm` when one is in a deadlock or waits on a dead owner. */
export function processNodes(r: WaitsReport): WaitNode[] {
  const cyc = deadlockTids(r);
  const byPid = new Map<number, Wait[]>();
  for (const w of r.waits) {
    const list = byPid.get(w.pid) ?? [];
    list.push(w);
    byPid.set(w.pid, list);
  }
  return [...byPid].sort((a, b) => a[0] - b[0]).map(([pid, waits]) => ({
    type: 'process', pid, command: waits[0]!.command, waits, alarm: waits.some((w) => w.ownerDied || cyc.has(w.tid)),
  }));
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
  return `pid ${h.pid ?? '?'}${h.tid !== null && h.tid !== h.pid ? ` · tid ${h.tid}` : ''}${h.command ? ` ${h.command}` : ''}${h.alive ? '' : ' (dead)'}`;
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
      if (w.lock) lines.push(w.lock.text);
      if (w.since) lines.push(`waiting since ${w.since}`);
      if (state) lines.push(state);
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
  }
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
