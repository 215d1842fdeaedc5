// What the explorer shows, as pure functions of the façade's records: groups, labels,
// descriptions, tooltips (Markdown text), icons, filtering. No vscode import, so it is unit-tested.
import type { IpcRecord, Kind, Limit, Listing, NamespaceListing, RegionRecord, RingRecord } from '../ipc/types';
import type { Leftover } from '../analysis/leftovers';
import { describeCounts, type ProgramGroup } from '../analysis/programs';
import { usedPercent, type MountUse } from '../ipc/mounts';
import { formatTarget, hexKey, targetOf } from '../ipc/target';
import { escapeControl } from '../shared/escape';

/** The explorer's top-level groups, in display order. */
export type GroupId = 'leftovers' | 'shm' | 'posix-shm' | 'memfd' | 'anon' | 'file' | 'ring' | 'sem' | 'posix-sem' | 'msg' | 'limits';

export interface GroupSpec {
  id: GroupId;
  label: string;
  /** Codicon id. */
  icon: string;
  kinds: readonly Kind[];
  /** Shown collapsed at first: a desktop's browsers alone hold hundreds of memfds and mapped files. */
  collapsed?: true;
}

export const GROUPS: readonly GroupSpec[] = [
  /** Objects whose verdict is `leftover` (analysis/verdict.ts), also listed in their kind's group. */
  { id: 'leftovers', label: 'Leftovers', icon: 'trash', kinds: [], collapsed: true },
  { id: 'shm', label: 'System V Segments', icon: 'database', kinds: ['shm'] },
  { id: 'posix-shm', label: 'POSIX Shared Memory', icon: 'file-binary', kinds: ['posix-shm'] },
  { id: 'memfd', label: 'memfd Objects', icon: 'file-symlink-file', kinds: ['memfd'], collapsed: true },
  { id: 'anon', label: 'Shared Anonymous Memory', icon: 'circuit-board', kinds: ['anon'], collapsed: true },
  { id: 'file', label: 'Shared File Mappings', icon: 'file', kinds: ['file'], collapsed: true },
  { id: 'ring', label: 'Kernel-Shared Rings', icon: 'sync', kinds: ['ring'], collapsed: true },
  { id: 'sem', label: 'System V Semaphore Sets', icon: 'symbol-numeric', kinds: ['sem'] },
  { id: 'posix-sem', label: 'POSIX Semaphores', icon: 'symbol-constant', kinds: ['posix-sem'] },
  { id: 'msg', label: 'Message Queues', icon: 'mail', kinds: ['msg', 'posix-mq'] },
  { id: 'limits', label: 'Limits', icon: 'dashboard', kinds: [] },
];

/** The groups whose objects are listed under their owning programs (a desktop has hundreds). */
export const BY_PROGRAM: ReadonlySet<GroupId> = new Set(['memfd', 'anon', 'file', 'ring']);

/** Every record of a listing, in group order. */
export function records(l: Listing, kind: Kind): IpcRecord[] {
  switch (kind) {
    case 'shm': return l.shm;
    case 'sem': return l.sem;
    case 'msg': return l.msg;
    case 'posix-shm': return l.posixShm;
    case 'posix-sem': return l.posixSem;
    case 'posix-mq': return l.posixMq;
    case 'memfd': return l.memfd;
    case 'anon': return l.anon;
    case 'file': return l.file;
    case 'ring': return l.ring;
  }
}

/** The records of another namespace, in group order (its kinds are System V and POSIX shm only). */
export function namespaceRecords(ns: NamespaceListing): IpcRecord[] {
  return [...ns.shm, ...ns.posixShm, ...ns.sem, ...ns.msg];
}

/** "container web-1 · ipc 4026532301": the label of a namespace's group. */
export function namespaceLabel(ns: NamespaceListing): string {
  return `Namespace ${escapeControl(ns.namespace.label)}`;
}

export function namespaceDescription(ns: NamespaceListing): string {
  if (ns.unlisted) return `ipc ${ns.namespace.ipc} · not listed (${ns.unlisted})`;
  const container = ns.namespace.container && ns.namespace.container !== ns.namespace.label ? `${escapeControl(ns.namespace.container)} · ` : '';
  return `${container}ipc ${ns.namespace.ipc} · pid ${ns.namespace.pid} · ${namespaceRecords(ns).length}`;
}

/**
 * Nothing to show but the welcome view. Regions that only `editorPids` map or hold (the editor's
 * own cache files and buffers) are no objects of the user's: they do not count.
 */
export function isEmpty(l: Listing, editorPids: ReadonlySet<number> = new Set()): boolean {
  const theirs = (r: RegionRecord) => regionPids(r).some((pid) => !editorPids.has(pid));
  return l.shm.length + l.sem.length + l.msg.length + l.posixShm.length + l.posixSem.length + l.posixMq.length +
    [...l.memfd, ...l.anon, ...l.file].filter(theirs).length + l.ring.filter((r) => !editorPids.has(r.pid)).length + (l.namespaces?.length ?? 0) === 0;
}

/** "4 KiB" (binary units) or "4,096 B". */
export function formatSize(bytes: number, units: 'binary' | 'bytes' = 'binary'): string {
  if (units === 'bytes' || bytes < 1024) return `${bytes.toLocaleString('en-US')} B`;
  const names = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = -1;
  while (v >= 1024 && i < names.length - 1) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 1 : 0);
  return `${text} ${names[i]}`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A region's name as its programs gave it (unescaped): memfd name, the program of an anonymous region, a file's path. */
function regionTitle(r: RegionRecord): string {
  if (r.kind === 'memfd') return `${r.name || '(unnamed)'} · ino ${r.id}`;
  // Users know a shared anonymous region by the program that made it.
  if (r.kind === 'anon') return `${r.attachedBy[0]?.command.split(' ')[0] ?? r.name} · ino ${r.id}`;
  return r.path;
}

/** The processes of a region: those that map it, then (memfd) those that only hold an fd. */
function regionPids(r: RegionRecord): number[] {
  const pids = new Set(r.attachedBy.map((a) => a.pid));
  if (r.kind === 'memfd') for (const h of r.fdHolders) pids.add(h.pid);
  return [...pids];
}

/**
 * The label users name an object by: "key 0x52494e47 · id 32770", "private · id 5", "/ring".
 * Names come from anyone who may write /dev/shm: control characters are shown escaped.
 */
export function objectLabel(r: IpcRecord): string {
  switch (r.kind) {
    case 'shm':
    case 'sem':
    case 'msg':
      return `${r.key === 0 ? 'private' : `key ${hexKey(r.key)}`} · id ${r.id}`;
    case 'memfd':
    case 'anon':
    case 'file':
      return escapeControl(regionTitle(r));
    case 'ring':
      return ringTitle(r);
    default:
      return escapeControl(r.name) + (r.kind !== 'posix-mq' && r.unlinked ? ' (unlinked)' : '');
  }
}

/** "io_uring SQ/CQ rings · pid 4242 fd 3". */
function ringTitle(r: RingRecord): string {
  return `${r.subkind} ${r.part} · pid ${r.pid}${r.fd === null ? '' : ` fd ${r.fd}`}`;
}

/**
 * The short facts after the label: size, attachments, values, owner. `scanned` false: the listing
 * read no process yet (the explorer's first rows), so a POSIX object's mappings are not counted.
 */
export function objectDescription(r: IpcRecord, units: 'binary' | 'bytes' = 'binary', scanned = true): string {
  const parts: string[] = [];
  switch (r.kind) {
    case 'shm':
      parts.push(formatSize(r.size, units), `${r.nattch} attached`);
      if (r.removed) parts.push('removed');
      if (r.orphan) parts.push('orphan');
      break;
    case 'posix-shm':
      parts.push(formatSize(r.size, units));
      if (scanned) parts.push(`${r.attachedBy.length} mapping`);
      if (r.unlinked) parts.push(`unlinked · posix:@${r.id}`);
      break;
    case 'sem':
      parts.push(plural(r.nsems, 'sem'));
      if (r.values.length > 0) {
        const shown = r.values.slice(0, 8).join(', ');
        parts.push(`[${shown}${r.values.length > 8 ? ', …' : ''}]`);
        const waiting = r.ncnt.reduce((a, b) => a + b, 0) + r.zcnt.reduce((a, b) => a + b, 0);
        if (waiting > 0) parts.push(`${waiting} waiting`);
      } else if (r.unreadable) parts.push(`values: ${r.unreadable}`);
      break;
    case 'posix-sem':
      parts.push(r.value === null ? `value: ${r.unreadable ?? '?'}` : `value ${r.value}`);
      if (r.unlinked) parts.push(`unlinked · psem:@${r.id}`);
      break;
    case 'ring':
      parts.push(formatSize(r.size, units), escapeControl(r.command.split(' ')[0] ?? r.command), 'read-only');
      break;
    case 'msg':
      parts.push(plural(r.messages, 'msg'), formatSize(r.bytes, units));
      break;
    case 'posix-mq':
      parts.push('POSIX', r.messages === null ? `messages: ${r.unreadable ?? '?'}` : `${r.messages}/${r.maxMessages ?? '?'} msgs`);
      break;
    case 'memfd':
    case 'anon':
    case 'file': {
      parts.push(formatSize(r.size, units), plural(regionPids(r).length, 'process', 'processes'));
      if (r.kind === 'memfd' && r.fdHolders.length) parts.push(plural(r.fdHolders.length, 'fd'));
      if (r.kind === 'file' && r.deleted) parts.push('deleted');
      break;
    }
  }
  parts.push(escapeControl(r.user));
  return parts.join(' · ');
}

/**
 * The tree id of an object: its full identity, so no two rows share one (VS Code merges rows of one
 * id, and a command on one of them may receive the other). Kind and namespace first; then the
 * device and inode of regions (every anonymous region is named "dev/zero", memfds share names),
 * the inode and name of POSIX objects, the id of System V objects.
 */
export function objectId(r: IpcRecord): string {
  const ns = 'namespace' in r ? (r as { namespace: { ipc: number } }).namespace.ipc : 'own';
  const head = `${r.kind}:ns${ns}`;
  switch (r.kind) {
    case 'shm':
    case 'sem':
    case 'msg':
      return `${head}:id${r.id}`;
    case 'memfd':
    case 'anon':
    case 'file':
      return `${head}:dev${r.dev}:ino${r.id}`;
    case 'ring':
      return `${head}:pid${r.pid}:${r.address}`;
    default:
      // An unlinked one: by its device too (another container's /dev/shm numbers its own inodes).
      return r.kind !== 'posix-mq' && r.unlinked ? `${head}:unlinked:dev${r.dev ?? 0}:ino${r.id}:${r.name}` : `${head}:ino${r.id}:${r.name}`;
  }
}

/**
 * The CLI's name for an object (`shm:3`, `posix:/ring`, `memfd:9633`, `file:/var/lib/x`); another
 * namespace's object adds the `--namespace PID` that reaches it (its ids repeat ours).
 */
export function cliTarget(r: IpcRecord): string {
  const t = formatTarget(targetOf(r)!);
  const ns = 'namespace' in r ? (r as { namespace: { pid: number } }).namespace : undefined;
  return ns ? `--namespace ${ns.pid} ${t}` : t;
}

/** Codicon id for an object; orphans get a warning. */
export function objectIcon(r: IpcRecord): string {
  if (r.kind === 'shm' && r.orphan) return 'warning';
  if (r.kind === 'shm' && r.removed) return 'trash';
  return GROUPS.find((g) => g.kinds.includes(r.kind))?.icon ?? 'circle-outline';
}

/** The tree item's context value, matched by package.json menus (`viewItem == shm`, …). */
export function contextValue(r: IpcRecord): string {
  if ((r.kind === 'posix-shm' || r.kind === 'posix-sem') && r.unlinked) return `${r.kind}.unlinked`;
  return r.kind === 'shm' && r.orphan ? 'shm.orphan' : r.kind;
}

const perm = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
const md = (s: string): string => escapeControl(s).replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
const two = (n: number): string => String(n).padStart(2, '0');

/**
 * An ISO-8601 time as the user's clock reads it: "2026-12-04 19:09:02 (UTC+01:00)". `offsetMinutes`
 * east of UTC, the local zone's at that time unless given (tests).
 */
export function localTime(iso: string, offsetMinutes?: number): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const off = offsetMinutes ?? -new Date(ms).getTimezoneOffset();
  const d = new Date(ms + off * 60_000);
  const zone = `UTC${off < 0 ? '-' : '+'}${two(Math.floor(Math.abs(off) / 60))}:${two(Math.abs(off) % 60)}`;
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} (${zone})`;
}

const when = (t: string | null): string => (t ? md(localTime(t)) : '—');

/** A Markdown table of every fact the listing has about the object. */
export function objectTooltip(r: IpcRecord): string {
  const rows: [string, string][] = [['owner', md(`${r.user} (uid ${r.uid})`)], ['mode', perm(r.mode)]];
  switch (r.kind) {
    case 'shm':
      rows.push(['key', hexKey(r.key)], ['id', String(r.id)], ['size', `${r.size.toLocaleString('en-US')} bytes`],
        ['attached', String(r.nattch)], ['creator pid', String(r.cpid)], ['last pid', String(r.lpid)],
        ['attached', when(r.atime)], ['detached', when(r.dtime)], ['changed', when(r.ctime)]);
      if (r.attachedBy.length) rows.push(['processes', r.attachedBy.map((a) => md(`${a.pid} ${a.command}`)).join('<br>')]);
      if (r.hiddenAttachers) rows.push(['not visible', `${r.hiddenAttachers} attachment(s) in processes we may not read`]);
      break;
    case 'posix-shm':
      rows.push(['name', md(r.name)], ['size', `${r.size.toLocaleString('en-US')} bytes`], ['modified', when(r.mtime)]);
      if (r.unlinked) rows.push(['unlinked', md(`its name is gone; its holders keep it (inode ${r.id}, target posix:@${r.id})`)]);
      if (r.attachedBy.length) rows.push(['processes', r.attachedBy.map((a) => md(`${a.pid} ${a.command}`)).join('<br>')]);
      break;
    case 'sem':
      rows.push(['key', hexKey(r.key)], ['id', String(r.id)], ['semaphores', String(r.nsems)], ['last op', when(r.otime)], ['changed', when(r.ctime)]);
      r.values.slice(0, 16).forEach((v, i) =>
        rows.push([`#${i}`, `value ${v}, ncnt ${r.ncnt[i] ?? '?'}, zcnt ${r.zcnt[i] ?? '?'}, last pid ${r.pids[i] ?? '?'}`]));
      if (r.unreadable) rows.push(['values', md(`not readable (${r.unreadable})`)]);
      break;
    case 'posix-sem':
      rows.push(['name', md(r.name)], ['value', r.value === null ? md(`not readable (${r.unreadable ?? '?'})`) : String(r.value)]);
      if (r.unlinked) rows.push(['unlinked', md(`its name is gone; its holders keep it (inode ${r.id}, target psem:@${r.id})`)]);
      if (r.attachedBy.length) rows.push(['processes', r.attachedBy.map((a) => md(`${a.pid} ${a.command}`)).join('<br>')]);
      break;
    case 'msg':
      rows.push(['key', hexKey(r.key)], ['id', String(r.id)], ['messages', String(r.messages)], ['bytes', String(r.bytes)],
        ['capacity', r.qbytes === null ? '—' : `${r.qbytes} bytes`], ['last sender', String(r.lspid)], ['last receiver', String(r.lrpid)],
        ['last send', when(r.stime)], ['last receive', when(r.rtime)]);
      break;
    case 'memfd':
    case 'anon':
    case 'file':
      rows.push([r.kind === 'file' ? 'path' : 'name', md(r.kind === 'file' ? r.path : r.name)], ['inode', String(r.id)], ['device', String(r.dev)],
        ['size', `${r.size.toLocaleString('en-US')} bytes${r.statKnown ? '' : ' (from its mappings)'}`]);
      if (r.attachedBy.length) {
        rows.push(['mapped by', r.attachedBy.slice(0, 20).map((a) => md(`${a.pid} ${a.command} at ${a.address} (${a.length} bytes, ${a.writable ? 'rw' : 'ro'})`)).join('<br>')]);
      }
      if (r.kind === 'memfd' && r.fdHolders.length) {
        rows.push(['fd held by', r.fdHolders.slice(0, 20).map((h) => md(`${h.pid} ${h.command} (fd ${h.fd})`)).join('<br>')]);
      }
      break;
    case 'ring':
      rows.push(['kind', md(`${r.subkind} (${r.part})`)], ['process', md(`${r.pid} ${r.command}`)], ['fd', r.fd === null ? '—' : String(r.fd)],
        ['address', md(r.address)], ['size', `${r.size.toLocaleString('en-US')} bytes`], ['inode', String(r.id)], ['access', 'read-only, through /proc/PID/mem']);
      break;
    case 'posix-mq':
      rows.push(['name', md(r.name)], ['messages', String(r.messages ?? '—')], ['max messages', String(r.maxMessages ?? '—')],
        ['message size', String(r.messageSize ?? '—')], ['notify pid', String(r.notifyPid ?? '—')]);
      if (r.unreadable) rows.push(['attributes', md(`not readable (${r.unreadable})`)]);
      break;
  }
  const title = `**${md(r.kind === 'shm' || r.kind === 'sem' || r.kind === 'msg' ? objectLabel(r) : r.kind === 'memfd' || r.kind === 'anon' || r.kind === 'file' ? regionTitle(r) : r.kind === 'ring' ? ringTitle(r) : r.name)}**${r.kind === 'shm' && r.orphan ? ' — orphan: nothing attached and its creator is gone' : ''}`;
  return `${title}\n\n| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`;
}

export function limitLabel(l: Limit): string {
  return l.name;
}

export function limitDescription(l: Limit): string {
  const value = typeof l.value === 'number' ? l.value.toLocaleString('en-US') : l.value;
  if (l.used === null) return value;
  return typeof l.value === 'number' ? `${l.used.toLocaleString('en-US')} of ${value}` : `${l.used.toLocaleString('en-US')} used, ${value}`;
}

/** Filter: text matches label, name, key, id or owner (case-insensitive); onlyMine keeps uid. */
export function matches(r: IpcRecord, text: string, onlyUid: number | undefined): boolean {
  if (onlyUid !== undefined && r.uid !== onlyUid) return false;
  const t = text.trim().toLowerCase();
  if (!t) return true;
  const hay = [objectLabel(r), String(r.id), hexKey(r.key), r.user, 'name' in r ? r.name : '', 'path' in r ? r.path : ''].join('\n').toLowerCase();
  return hay.includes(t);
}

/** "chromium", "chromium · container web-1" when the program runs in another namespace, "node · this editor". */
export function programLabel(g: ProgramGroup): string {
  return escapeControl(g.container ? `${g.program} · container ${g.container}` : g.editor ? `${g.program} · this editor` : g.program);
}

/** "148 memfd, 310 MiB": what the program holds. */
export function programDescription(g: ProgramGroup, units: 'binary' | 'bytes' = 'binary'): string {
  return describeCounts(g, (b) => formatSize(b, units));
}

/** The tree id of a program group: its group, container and name (ids never repeat). */
export function programId(group: GroupId, g: ProgramGroup): string {
  return `program:${group}:ns${g.containerIpc ?? 'own'}:${g.editor ? 'editor:' : ''}${g.program}`;
}

export function programTooltip(g: ProgramGroup): string {
  const pids = g.pids.slice(0, 20).join(', ') + (g.pids.length > 20 ? `, … (${g.pids.length} in all)` : '');
  const rows: [string, string][] = [['program', md(g.program)]];
  if (g.container) rows.push(['container', md(g.container)]);
  if (g.editor) rows.push(['whose', 'this editor\'s own processes (the window you are reading this in): its caches, buffers and rings']);
  rows.push(['objects', md(describeCounts(g, (b) => `${b.toLocaleString('en-US')} bytes`))]);
  if (pids) rows.push(['processes', md(pids)]);
  return `**${md(g.program)}**: the shared memory its processes hold (the oldest of an object's processes is taken as its owner)\n\n| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`;
}

/** "/dev/shm 12 MiB of 64 MiB (18.7 %)": a mount's use after its group's count (POSIX Shared Memory, a namespace's group). */
export function mountBrief(m: MountUse, units: 'binary' | 'bytes' = 'binary'): string {
  if (m.size === null || m.used === null) return `/dev/shm ${m.fstype}, size unknown`;
  return `/dev/shm ${formatSize(m.used, units)} of ${formatSize(m.size, units)} (${usedPercent(m) ?? '?'} %)`;
}

/** "/dev/shm", or "/dev/shm · container web-1". */
export function mountLabel(m: MountUse): string {
  return m.namespace ? `/dev/shm · container ${escapeControl(m.namespace.label)}` : '/dev/shm';
}

/** "12 MiB of 64 MiB (18.7 %) · 52 MiB free", or why the sizes are missing. */
export function mountDescription(m: MountUse, units: 'binary' | 'bytes' = 'binary'): string {
  if (m.size === null || m.used === null) return `${m.fstype} · ${m.why ?? 'size unknown'}`;
  const pct = usedPercent(m);
  return `${formatSize(m.used, units)} of ${formatSize(m.size, units)} (${pct ?? '?'} %) · ${formatSize(m.available ?? 0, units)} free`;
}

/** Above the threshold (`shmscope.devShmWarnPercent`): the mount shows in the warning colour. */
export function mountWarns(m: MountUse, warnPercent: number): boolean {
  const pct = usedPercent(m);
  return pct !== null && pct > warnPercent;
}

export function mountTooltip(m: MountUse, warnPercent: number): string {
  const bytes = (n: number | null) => (n === null ? '—' : `${n.toLocaleString('en-US')} bytes`);
  const rows: [string, string][] = [
    ['whose', m.namespace ? md(`container ${m.namespace.label} (ipc ${m.namespace.ipc}, seen through pid ${m.namespace.pid})`) : 'this machine\'s (our mount namespace)'],
    ['filesystem', md(`${m.fstype} (device ${m.device})`)],
    ['size', bytes(m.size)], ['used', bytes(m.used)], ['available', bytes(m.available)],
  ];
  if (m.why) rows.push(['sizes', md(m.why)]);
  const pct = usedPercent(m);
  const head = mountWarns(m, warnPercent) ? ` — ${pct} % used, above the warning threshold of ${warnPercent} % (shmscope.devShmWarnPercent)` : '';
  return `**${md(mountLabel(m))}**${md(head)}\n\n| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`;
}

/** The tree id of an object's row in the Leftovers group: its full identity under the group's. */
export function leftoverId(r: IpcRecord): string {
  return `leftovers/${objectId(r)}`;
}

/** "posix-shm /ring" or "segment 5 in namespace web-1": how the Clean Up modal and log name an object. */
export function leftoverName(r: IpcRecord): string {
  const t = formatTarget(targetOf(r)!);
  const ns = 'namespace' in r ? (r as { namespace: { label: string } }).namespace : undefined;
  return escapeControl(ns ? `${t} in container ${ns.label}` : t);
}

/** An object's tooltip in the Leftovers group: why it is one, then every fact. */
export function leftoverTooltip(c: Leftover): string {
  const why = c.verdict.reasons.map((x) => `- ${md(x)}`).join('\n');
  return `**Leftover**${c.verdict.owner ? ` (${md(c.verdict.owner)})` : ''}: Clean Up Leftovers… removes it\n\n${why}\n\n---\n\n${objectTooltip(c.record)}`;
}
