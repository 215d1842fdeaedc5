// The Wait-for Graph page's model and messages: processes/threads and objects as nodes, "waits
// on" and "held by" as edges, deadlock cycles and dead owners marked. Pure: built in the host from
// a waits report, validated on both sides, drawn by webview-ui/src/graph.ts (laid out by dagre).

/** A waits report as the graph needs it (analysis/waits.ts's Wait, structurally). */
export interface GraphWait {
  pid: number;
  tid: number;
  command: string;
  thread: string;
  object: { target: string | null; kind: string; id: number | null; name: string | null; namespace?: { ipc: number; label: string } };
  offset: number | null;
  path: string | null;
  op: string;
  heldBy: { pid: number | null; tid: number | null; command: string | null; alive: boolean; state?: string }[];
  /** A PostgreSQL backend: labelled by what its title says it does ("UPDATE waiting"), not by a cut-off command line. */
  postgres?: { state: string | null };
  /** A semaphore's last changers: drawn as a hint, never in a cycle, never an alarm. */
  lastChangedBy?: { pid: number | null; tid: number | null; command: string | null; alive: boolean }[];
  stuck: boolean;
  ownerDied: boolean;
}

/** An other wait with the processes holding its other end (a pipe, FIFO or Unix socket): a peer edge. */
export interface GraphOther {
  pid: number;
  tid: number;
  command: string;
  thread: string;
  kind: string;
  on: string;
  peers: { pid: number; command: string | null }[];
}

/** The most peer edges drawn (a machine has many pipes; the waits are what matters). */
export const MAX_PEER_EDGES = 200;

export interface GraphNode {
  id: string;
  kind: 'thread' | 'object';
  /** Thread nodes: the thread, for Show Holder's Stack. */
  pid?: number;
  tid?: number;
  label: string;
  /** Second line: the command, or the object's kind and name. */
  detail: string;
  /** In a deadlock cycle, or a dead owner. */
  state: 'ok' | 'deadlock' | 'dead' | 'stuck';
  /** For object nodes: the target the inspector opens, and the offset of the wait. */
  target?: string;
  offset?: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** waits: thread → object; holds: object → holder thread; changed: semaphore → its last changer (a hint); peer: a pipe's or socket's reader → the process holding its other end. */
  kind: 'waits' | 'holds' | 'changed' | 'peer';
  label: string;
  inCycle: boolean;
}

export interface WaitGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** One line for the page's header: counts, deadlocks. */
  summary: string;
}

const threadId = (pid: number | null, tid: number | null) => `t:${pid ?? '?'}/${tid ?? '?'}`;

/** The graph of a report: one node per thread and per (object, offset) waited on. */
export function buildWaitGraph(waits: GraphWait[], deadlocks: { pid: number; tid: number }[][], others: readonly GraphOther[] = []): WaitGraph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const inCycle = new Set<number>();
  for (const c of deadlocks) for (const t of c) inCycle.add(t.tid);
  const cycleEdge = new Set<string>();
  for (const c of deadlocks) for (let i = 0; i < c.length; i++) cycleEdge.add(`${c[i]!.tid}>${c[(i + 1) % c.length]!.tid}`);
  const thread = (pid: number | null, tid: number | null, command: string | null, alive: boolean, name?: string) => {
    const id = threadId(pid, tid);
    const state: GraphNode['state'] = !alive ? 'dead' : tid !== null && inCycle.has(tid) ? 'deadlock' : 'ok';
    const prev = nodes.get(id);
    if (!prev) nodes.set(id, { id, kind: 'thread', ...(pid !== null && tid !== null ? { pid, tid } : {}), label: `pid ${pid ?? '?'} · tid ${tid ?? '?'}${name ? ` (${name})` : ''}`, detail: command ?? (alive ? '' : 'exited'), state });
    else if (state !== 'ok') prev.state = state;
    return id;
  };
  for (const w of waits) {
    const t = thread(w.pid, w.tid, w.postgres?.state ? `postgres: ${w.postgres.state}` : w.command, true, w.thread);
    if (w.stuck && nodes.get(t)!.state === 'ok') nodes.get(t)!.state = 'stuck';
    // A container's object is its own node (its ids repeat ours), and not one the inspector opens.
    const ns = w.object.namespace;
    const objKey = `o:${ns ? `ipc${ns.ipc}:` : ''}${w.object.target ?? w.object.name}@${w.offset ?? ''}`;
    if (!nodes.has(objKey)) {
      const where = w.path ?? (w.offset !== null ? `0x${w.offset.toString(16)}` : '');
      nodes.set(objKey, {
        id: objKey, kind: 'object', label: `${w.object.target ?? w.object.kind}${where ? ` ${where}` : ''}${ns ? ` [${ns.label}]` : ''}`,
        detail: w.object.name ?? w.object.kind, state: w.ownerDied ? 'dead' : 'ok',
        ...(w.object.target && !ns ? { target: w.object.target } : {}), ...(w.offset !== null ? { offset: w.offset } : {}),
      });
    }
    const holderCycle = w.heldBy.some((h) => h.tid !== null && cycleEdge.has(`${w.tid}>${h.tid}`));
    edges.push({ from: t, to: objKey, kind: 'waits', label: w.op, inCycle: holderCycle });
    for (const h of w.heldBy) {
      const hid = thread(h.pid, h.tid, h.state !== undefined ? `postgres: ${h.state}` : h.command, h.alive);
      edges.push({ from: objKey, to: hid, kind: 'holds', label: h.alive ? 'held by' : 'held by (dead)', inCycle: h.tid !== null && cycleEdge.has(`${w.tid}>${h.tid}`) });
    }
    for (const h of w.lastChangedBy ?? []) {
      // A process, not a thread: the kernel keeps the pid of the last operation only. Its death is no alarm.
      const hid = thread(h.pid, h.pid, h.command ?? (h.alive ? null : 'exited'), true);
      if (hid === t) continue; // the waiter changed it last: no arrow back to itself
      edges.push({ from: objKey, to: hid, kind: 'changed', label: 'last changed by (a hint)', inCycle: false });
    }
  }
  let peers = 0;
  for (const o of others) {
    for (const p of o.peers) {
      if (p.pid === o.pid || peers >= MAX_PEER_EDGES) continue;
      peers++;
      const t = thread(o.pid, o.tid, o.command, true, o.thread);
      // The other end is a process (a descriptor is shared by all its threads): its main thread's node.
      const hid = thread(p.pid, p.pid, p.command, true);
      edges.push({ from: t, to: hid, kind: 'peer', label: o.on.replace(/, peer socket \d+$/, ''), inCycle: false });
    }
  }
  const dead = waits.filter((w) => w.ownerDied).length;
  const parts = [`${waits.length} wait${waits.length === 1 ? '' : 's'}`];
  if (peers) parts.push(`${peers} pipe or socket peer${peers === 1 ? '' : 's'}`);
  if (deadlocks.length) parts.push(`${deadlocks.length} deadlock${deadlocks.length === 1 ? '' : 's'}`);
  if (dead) parts.push(`${dead} on a dead owner`);
  return { nodes: [...nodes.values()], edges, summary: parts.join(' · ') };
}

/** Host → page: the graph to draw. */
export interface GraphMessage {
  type: 'graph';
  graph: WaitGraph;
}
/** Page → host: ready for a graph; open the inspector at an object node's offset; or show a thread's stack. */
export type GraphPageMessage = { type: 'ready' } | { type: 'open'; target: string; offset: number } | { type: 'stack'; pid: number; tid: number };

/** Validates a message from the page; undefined when malformed (it is dropped). */
export function validateGraphPageMessage(m: unknown): GraphPageMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return { type: 'ready' };
  if (o.type === 'open' && typeof o.target === 'string' && o.target.length <= 300 && typeof o.offset === 'number' && Number.isSafeInteger(o.offset) && o.offset >= 0) {
    return { type: 'open', target: o.target, offset: o.offset };
  }
  const id = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= 0x7fffffff;
  if (o.type === 'stack' && id(o.pid) && id(o.tid)) return { type: 'stack', pid: o.pid as number, tid: o.tid as number };
  return undefined;
}

/** Validates the graph the page receives (the page trusts nothing either). */
export function validateGraphMessage(m: unknown): GraphMessage | undefined {
  if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== 'graph') return undefined;
  const g = (m as { graph?: unknown }).graph as Partial<WaitGraph> | undefined;
  if (!g || !Array.isArray(g.nodes) || !Array.isArray(g.edges) || typeof g.summary !== 'string' || g.nodes.length > 5000 || g.edges.length > 20000) return undefined;
  const str = (v: unknown) => typeof v === 'string' && v.length <= 1000;
  const ids = new Set<string>();
  for (const n of g.nodes) {
    if (!n || !str(n.id) || (n.kind !== 'thread' && n.kind !== 'object') || !str(n.label) || !str(n.detail) || !['ok', 'deadlock', 'dead', 'stuck'].includes(n.state)) return undefined;
    if (n.target !== undefined && !str(n.target)) return undefined;
    if (n.offset !== undefined && !(Number.isSafeInteger(n.offset) && n.offset >= 0)) return undefined;
    if ((n.pid !== undefined && !Number.isSafeInteger(n.pid)) || (n.tid !== undefined && !Number.isSafeInteger(n.tid))) return undefined;
    ids.add(n.id);
  }
  for (const e of g.edges) {
    if (!e || !ids.has(e.from) || !ids.has(e.to) || !['waits', 'holds', 'changed', 'peer'].includes(e.kind) || !str(e.label) || typeof e.inCycle !== 'boolean') return undefined;
  }
  return m as GraphMessage;
}
