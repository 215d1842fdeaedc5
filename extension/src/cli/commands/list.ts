// shmscope list [--kind K] [--json]: every IPC object on the machine.
import type { Command } from 'commander';
import { KINDS, list, type Kind, type Listing } from '../../ipc';
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
};

/** The `list --json` document: the six arrays (only the asked kind with --kind), then notes. */
export function listingJson(l: Listing, kind?: Kind): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KINDS) if (!kind || k === kind) out[JSON_KEY[k]] = l[JSON_KEY[k]];
  out.unreadableProcesses = l.unreadableProcesses;
  out.notes = l.notes;
  return out;
}

const pids = (list: { pid: number }[]) => list.map((a) => a.pid).join(',') || '-';

export function listingText(l: Listing, kind?: Kind): string {
  const parts: string[] = [];
  const show = (k: Kind) => !kind || kind === k;
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
  for (const note of l.notes) parts.push(`note: ${esc(note)}`);
  if (l.unreadableProcesses > 0) {
    parts.push(`note: the memory maps of ${l.unreadableProcesses} process(es) are not readable to us: objects they map do not show them`);
  }
  return parts.join('\n\n');
}

export function register(program: Command): void {
  program
    .command('list')
    .description('list IPC objects: segments, semaphores, message queues (System V and POSIX)')
    .option('--kind <kind>', `only one kind: ${KINDS.join('|')}`)
    .option('--json', 'print JSON (see the README for its shape)')
    .action(async (opts: { kind?: string; json?: boolean }) => {
      const kind = opts.kind as Kind | undefined;
      if (kind !== undefined && !KINDS.includes(kind)) {
        throw new UserError(`--kind must be one of ${KINDS.join(', ')}, not "${opts.kind}"`);
      }
      const listing = await list(kind ? [kind] : undefined);
      if (opts.json) await stdout.json(listingJson(listing, kind));
      else await stdout.line(listingText(listing, kind));
    });
}
