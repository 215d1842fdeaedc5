// Whose a region is: memfd objects, shared anonymous regions and mapped files grouped by the
// program that holds them (and the container it runs in), so a desktop's 300 memfds read as
// "chromium — 148 memfd, 310 MiB" rather than one flat list; kernel-shared rings likewise (every
// Node or Electron process with libuv's io_uring has some). Also which file mappings are only
// read-only maps of ordinary files (gconv-modules.cache, fonts): no shared memory anyone writes.
// Pure TypeScript over the façade's records, but for the namespace of a pid (readlink of
// /proc/PID/ns/ipc), which the caller may supply.
import { readlinkSync } from 'node:fs';
import type { Listing, RegionKind, RegionRecord, RingRecord } from '../ipc/types';

/** What is grouped by program: regions and kernel-shared rings. */
export type ProgramRecord = RegionRecord | RingRecord;

/** The records of one program (in one container), biggest first. */
export interface ProgramGroup {
  /** The program's name: the last component of its command's first word ("chromium"). */
  program: string;
  /** The label of the container (another IPC namespace) the program runs in; undefined for ours. */
  container?: string;
  /** That namespace's inode, part of the group's identity. */
  containerIpc?: number;
  records: ProgramRecord[];
  /** Records per kind. */
  counts: Record<RegionKind | 'ring', number>;
  /** The program is the editor running us (VS Code, code-server): its own caches, buffers and rings. */
  editor?: true;
  /** The sum of the records' sizes: each object once, however many processes map it. */
  bytes: number;
  /** The processes of the group's records that are this program, sorted. */
  pids: number[];
}

/** "/usr/lib/chromium/chromium --type=renderer" → "chromium"; "" or "?" → "?". */
export function programName(command: string): string {
  const first = command.trim().split(/\s+/)[0] ?? '';
  const base = first.slice(first.lastIndexOf('/') + 1);
  return base || '?';
}

/** Every process of a region, with its command: those that map it, then those that only hold an fd. */
function processesOf(r: ProgramRecord): { pid: number; command: string }[] {
  if (r.kind === 'ring') return [{ pid: r.pid, command: r.command }];
  const seen = new Set<number>();
  const out: { pid: number; command: string }[] = [];
  const add = (pid: number, command: string) => {
    if (seen.has(pid)) return;
    seen.add(pid);
    out.push({ pid, command });
  };
  for (const a of r.attachedBy) add(a.pid, a.command);
  if (r.kind === 'memfd') for (const h of r.fdHolders) add(h.pid, h.command);
  return out;
}

/**
 * The process that owns a region: the oldest (lowest pid) of those that map or hold it whose
 * command is known. A parent makes a memfd or a shared anonymous region before it forks the
 * workers that share it, so the lowest pid is the best guess of its creator that /proc allows.
 */
export function ownerOf(r: ProgramRecord): { pid: number; program: string } | undefined {
  const procs = processesOf(r).sort((a, b) => a.pid - b.pid);
  const known = procs.find((p) => p.command && p.command !== '?') ?? procs[0];
  return known ? { pid: known.pid, program: programName(known.command) } : undefined;
}

/**
 * Groups regions (or rings) by owning program and container, biggest first (then by name), the
 * editor's own last. `containerOf` names a pid's container (undefined: ours); a region no process
 * holds goes to the program "?". `editorPids`: the editor's processes, whose records form groups
 * of their own (the editor's node is not the user's node).
 */
export function groupByProgram(regions: readonly ProgramRecord[], containerOf: (pid: number) => { label: string; ipc: number } | undefined = () => undefined,
  editorPids: ReadonlySet<number> = new Set()): ProgramGroup[] {
  const groups = new Map<string, ProgramGroup>();
  const pidSets = new Map<ProgramGroup, Set<number>>();
  for (const r of regions) {
    const owner = ownerOf(r);
    const program = owner?.program ?? '?';
    const container = owner ? containerOf(owner.pid) : undefined;
    const editor = owner !== undefined && editorPids.has(owner.pid);
    const key = `${container?.ipc ?? 'own'}\0${program}\0${editor ? 'editor' : ''}`;
    let g = groups.get(key);
    if (!g) {
      g = { program, records: [], counts: { memfd: 0, anon: 0, file: 0, ring: 0 }, bytes: 0, pids: [] };
      if (editor) g.editor = true;
      if (container) {
        g.container = container.label;
        g.containerIpc = container.ipc;
      }
      groups.set(key, g);
      pidSets.set(g, new Set());
    }
    g.records.push(r);
    g.counts[r.kind]++;
    g.bytes += r.size;
    const pids = pidSets.get(g)!;
    for (const p of processesOf(r)) if (programName(p.command) === program && editorPids.has(p.pid) === editor) pids.add(p.pid);
  }
  const list = [...groups.values()];
  for (const g of list) {
    g.records.sort((a, b) => b.size - a.size || a.id - b.id);
    g.pids = [...pidSets.get(g)!].sort((a, b) => a - b);
  }
  return list.sort((a, b) => Number(a.editor ?? false) - Number(b.editor ?? false) || b.bytes - a.bytes || a.program.localeCompare(b.program) || (a.containerIpc ?? 0) - (b.containerIpc ?? 0));
}

/** "148 memfd, 2 anonymous, 310 MiB": what a program group holds, the kinds it has only. */
export function describeCounts(g: ProgramGroup, size: (bytes: number) => string): string {
  const parts: string[] = [];
  if (g.counts.memfd) parts.push(`${g.counts.memfd} memfd`);
  if (g.counts.anon) parts.push(`${g.counts.anon} anonymous`);
  if (g.counts.file) parts.push(`${g.counts.file} ${g.counts.file === 1 ? 'file' : 'files'}`);
  if (g.counts.ring) parts.push(`${g.counts.ring} ring ${g.counts.ring === 1 ? 'mapping' : 'mappings'}`);
  parts.push(size(g.bytes));
  return parts.join(', ');
}

/**
 * A read-only mapping of an ordinary file: every process maps it without write access and its
 * name still exists outside /dev/shm (glibc's gconv-modules.cache, font caches, locale archives).
 * No process writes through it, so it is no shared memory a user looks for; the explorer keeps
 * such mappings out of the way unless asked.
 */
export function isReadOnlyFileMapping(r: RegionRecord): boolean {
  return r.kind === 'file' && !r.deleted && !r.path.startsWith('/dev/shm/') && r.attachedBy.length > 0 && r.attachedBy.every((a) => !a.writable);
}

/**
 * The container of a pid, from the listing's other IPC namespaces: the pid's /proc/PID/ns/ipc
 * inode against theirs (memoised; a pid we cannot read is taken as ours).
 */
export function containerLookup(l: Listing, readNs: (pid: number) => number | undefined = ipcNamespaceOf): (pid: number) => { label: string; ipc: number } | undefined {
  const byIpc = new Map((l.namespaces ?? []).map((ns) => [ns.namespace.ipc, ns.namespace.label]));
  const memo = new Map<number, { label: string; ipc: number } | undefined>();
  return (pid) => {
    if (byIpc.size === 0) return undefined;
    if (memo.has(pid)) return memo.get(pid);
    const ipc = readNs(pid);
    const label = ipc === undefined ? undefined : byIpc.get(ipc);
    const found = label === undefined || ipc === undefined ? undefined : { label, ipc };
    memo.set(pid, found);
    return found;
  };
}

/** The inode of a process's IPC namespace ("ipc:[4026531839]"), or undefined when it cannot be read. */
export function ipcNamespaceOf(pid: number): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/ipc`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
