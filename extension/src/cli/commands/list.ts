// shmscope list [--kind K] [--json]: every IPC object on the machine.
import type { Command } from 'commander';
import { KINDS, list, namespacePid, type Kind, type Listing, type RegionRecord } from '../../ipc';
import { UserError } from '../errors';
import { hexKey, mode, size, table } from '../format';
import * as stdout from '../output';
import { escapeControl as esc } from '../../shared/escape';

const JSON_KEY: Record<Kind, keyof Listing> = {
  shm: 'shm',
  sem: 'sem',
  msg: 'msg',
  'posix-shm': 'posixShm',
  'posix-sem': 'posixSem',
  'posix-mq': 'posixMq',
  memfd: 'memfd',
  anon: 'anon',
  file: 'file',
};

/** The kinds another IPC namespace lists (its own System V objects and /dev/shm). */
const NAMESPACE_KINDS: readonly Kind[] = ['shm', 'sem', 'msg', 'posix-shm'];

/** The `list --json` document: the six arrays (only the asked kind with --kind), then notes. */
export function listingJson(l: Listing, kind?: Kind): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KINDS) if (!kind || k === kind) out[JSON_KEY[k]] = l[JSON_KEY[k]];
  out.unreadableProcesses = l.unreadableProcesses;
  out.notes = l.notes;
  if (l.namespaces) {
    out.namespaces = l.namespaces.map((ns) => {
      const o: Record<string, unknown> = { namespace: ns.namespace, unlisted: ns.unlisted };
      for (const k of NAMESPACE_KINDS) if (!kind || k === kind) o[JSON_KEY[k]] = ns[JSON_KEY[k] as 'shm' | 'sem' | 'msg' | 'posixShm'];
      return o;
    });
  }
  return out;
}

/** "4242@0x7f3a…" per mapping; the fd holders of a memfd as "4243 fd 5". */
const mappedBy = (r: RegionRecord) => r.attachedBy.map((a) => `${a.pid}@${a.address}`).join(',') || '-';
const holders = (r: RegionRecord) => (r.kind === 'memfd' ? r.fdHolders.map((h) => `${h.pid} fd ${h.fd}`).join(',') || '-' : '');

const pids = (list: { pid: number }[]) => list.map((a) => a.pid).join(',') || '-';

export function listingText(l: Listing, kind?: Kind, only: readonly Kind[] = KINDS): string {
  const parts: string[] = [];
  const show = (k: Kind) => (!kind || kind === k) && only.includes(k);
  if (show('shm')) {
    parts.push(
      `System V shared memory segments (${l.shm.length})`,
      table(
        ['KEY', 'ID', 'OWNER', 'MODE', 'SIZE', 'NATTCH', 'CPID', 'LPID', 'ATTACHED'],
        l.shm.map((r) => [hexKey(r.key), r.id, esc(r.user), mode(r.mode), size(r.size), r.nattch, r.cpid, r.lpid,
          pids(r.attachedBy) + (r.removed ? '  (removed: goes when the last process detaches)' : '') + (r.orphan ? '  (orphan)' : '')]),
      ),
    );
  }
  if (show('sem')) {
    parts.push(
      `System V semaphore sets (${l.sem.length})`,
      table(
        ['KEY', 'ID', 'OWNER', 'MODE', 'NSEMS', 'VALUES', 'WAITING (ncnt/zcnt)'],
        l.sem.map((r) => [
          hexKey(r.key),
          r.id,
          esc(r.user),
          mode(r.mode),
          r.nsems,
          r.unreadable ? `(${r.unreadable})` : r.values.join(' '),
          r.unreadable ? '' : r.ncnt.map((n, i) => `${n}/${r.zcnt[i]}`).join(' '),
        ]),
      ),
    );
  }
  if (show('msg')) {
    parts.push(
      `System V message queues (${l.msg.length})`,
      table(
        ['KEY', 'ID', 'OWNER', 'MODE', 'MESSAGES', 'BYTES', 'QBYTES', 'LSPID', 'LRPID'],
        l.msg.map((r) => [hexKey(r.key), r.id, esc(r.user), mode(r.mode), r.messages, r.bytes, r.qbytes ?? '-', r.lspid, r.lrpid]),
      ),
    );
  }
  if (show('posix-shm')) {
    parts.push(
      `POSIX shared memory (${l.posixShm.length})`,
      table(
        ['NAME', 'OWNER', 'MODE', 'SIZE', 'MAPPED BY'],
        l.posixShm.map((r) => [esc(r.name), esc(r.user), mode(r.mode), size(r.size), pids(r.attachedBy)]),
      ),
    );
  }
  if (show('posix-sem')) {
    parts.push(
      `POSIX named semaphores (${l.posixSem.length})`,
      table(
        ['NAME', 'OWNER', 'MODE', 'VALUE', 'OPEN BY'],
        l.posixSem.map((r) => [esc(r.name), esc(r.user), mode(r.mode), r.value ?? `(${r.unreadable})`, pids(r.attachedBy)]),
      ),
    );
  }
  if (show('posix-mq')) {
    parts.push(
      `POSIX message queues (${l.posixMq.length})`,
      table(
        ['NAME', 'OWNER', 'MODE', 'MESSAGES', 'MAX', 'MSGSIZE'],
        l.posixMq.map((r) => [esc(r.name), esc(r.user), mode(r.mode), r.messages ?? `(${r.unreadable})`, r.maxMessages ?? '-', r.messageSize ?? '-']),
      ),
    );
  }
  if (show('memfd')) {
    parts.push(
      `memfd objects (${l.memfd.length})`,
      table(
        ['NAME', 'INODE', 'OWNER', 'MODE', 'SIZE', 'MAPPED BY', 'FD HELD BY'],
        l.memfd.map((r) => [esc(r.name), r.id, esc(r.user), mode(r.mode), size(r.size), mappedBy(r), holders(r)]),
      ),
    );
  }
  if (show('anon')) {
    parts.push(
      `Shared anonymous memory (${l.anon.length})`,
      table(
        ['INODE', 'KIND', 'SIZE', 'COMMAND', 'MAPPED BY'],
        l.anon.map((r) => [r.id, esc(r.name), size(r.size), esc(r.attachedBy[0]?.command ?? '?'), mappedBy(r)]),
      ),
    );
  }
  if (show('file')) {
    parts.push(
      `Shared file mappings (${l.file.length})`,
      table(
        ['PATH', 'OWNER', 'MODE', 'SIZE', 'MAPPED BY'],
        l.file.map((r) => [esc(r.path) + (r.deleted ? ' (deleted)' : ''), esc(r.user), mode(r.mode), size(r.size), mappedBy(r)]),
      ),
    );
  }
  for (const ns of l.namespaces ?? []) {
    const container = ns.namespace.container && ns.namespace.container !== ns.namespace.label ? `, ${esc(ns.namespace.container)}` : '';
    const head = `Namespace ${esc(ns.namespace.label)} (ipc ${ns.namespace.ipc}, pid ${ns.namespace.pid}${container})`;
    if (ns.unlisted) {
      parts.push(`${head}: not listed (${ns.unlisted})`);
      continue;
    }
    const inner: Listing = { ...ns, posixSem: [], posixMq: [], memfd: [], anon: [], file: [], unreadableProcesses: 0, notes: [] };
    parts.push(`${head}\n\n${listingText(inner, kind, NAMESPACE_KINDS).replace(/^/gm, '  ')}`);
  }
    for (const note of l.notes) parts.push(`note: ${esc(note)}`);
  if (l.unreadableProcesses > 0) {
    parts.push(`note: the memory maps of ${l.unreadableProcesses} process(es) are not readable to us: objects they map do not show them`);
  }
  return parts.join('\n\n');
}

export function register(program: Command): void {
  program
    .command('list')
    .description('list shared memory and IPC objects: System V, POSIX, memfd, shared anonymous and shared file mappings, and other namespaces\' objects')
    .option('--kind <kind>', `only one kind: ${KINDS.join('|')}`)
    .option('--json', 'print JSON (see the README for its shape)')
    .option('--namespace <pid|all>', "also list every other IPC namespace's objects (all), or only those of the namespace of process PID")
    .action(async (opts: { kind?: string; json?: boolean; namespace?: string }) => {
      const kind = opts.kind as Kind | undefined;
      if (kind !== undefined && !KINDS.includes(kind)) {
        throw new UserError(`--kind must be one of ${KINDS.join(', ')}, not "${opts.kind}"`);
      }
      const ns = opts.namespace === undefined ? undefined : opts.namespace === 'all' ? 'all' : namespacePid(opts.namespace);
      const listing = await list(kind ? [kind] : undefined, ns === undefined ? {} : { namespaces: ns });
      if (opts.json) await stdout.json(listingJson(listing, kind));
      else await stdout.line(listingText(listing, kind));
    });
}
