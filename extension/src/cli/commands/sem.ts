// shmscope sem TARGET get | set NUM VALUE | post [NUM] | wait [NUM] [--timeout D]
// TARGET is a System V set (sem:ID, key:0xKEY) or a POSIX named semaphore (psem:/NAME; an
// unlinked one, psem:@INODE, is only read).
import type { Command } from 'commander';
import { escapeControl as esc } from '../../shared/escape';
import { list, namespacePid, nsRaw, nsSem, parseTarget, psemPost, psemValue, psemWait, semCount, semGet, semPost, semSetValue, semWait, type Target } from '../../ipc';
import { UserError } from '../errors';
import { num, table } from '../format';
import { DURATION_OPTIONS } from '../times';
import * as stdout from '../output';

const DEFAULT_TIMEOUT = '30s';

function semTarget(text: string): Target & { kind: 'sem' | 'posix-sem' } {
  const t = parseTarget(text, 'sem');
  if (t.kind !== 'sem' && t.kind !== 'posix-sem') {
    throw new UserError(`${text} is not a semaphore: use sem:ID, key:0xKEY or psem:/NAME`);
  }
  return t;
}

function semNum(t: Target, text: string | undefined): number {
  const n = text === undefined ? 0 : num('NUM', text, 32000);
  if (t.kind === 'posix-sem' && n !== 0) throw new UserError('a POSIX semaphore has only semaphore 0');
  if (t.kind === 'sem') {
    // From the table anyone may read: altering needs write permission only, not read.
    const nsems = semCount(t.id);
    if (n >= nsems) throw new UserError(`semaphore set ${t.id} has ${nsems} semaphore(s): NUM must be below ${nsems}`);
  }
  return n;
}

/**
 * `sem psem:@INODE get`: an unlinked semaphore's value, read through a holder as `list` reads it.
 * It has no name to open, so it is never posted or waited on from here (its holders do that).
 */
async function unlinkedSem(id: number, op: string, args: string[], json: boolean): Promise<void> {
  if (op !== 'get') throw new UserError(`psem:@${id} is unlinked: it has no name to open, so only get reads it (its holders post and wait)`);
  if (args.length > 0) throw new UserError('get takes no numbers');
  const r = (await list(['posix-sem'])).posixSem.find((x) => x.unlinked && x.id === id);
  if (!r) throw new UserError(`no unlinked POSIX semaphore has inode ${id}: no process we may read holds it`);
  if (r.value === null) throw new UserError(`the value of unlinked semaphore ${esc(r.name)} (inode ${id}) is not readable (${r.unreadable ?? 'EIO'})`);
  await stdout.line(json ? JSON.stringify({ name: r.name, id, unlinked: true, value: r.value }) : String(r.value));
}

/** `sem … --namespace PID`: a System V set of another IPC namespace, by id (get, set, post; no wait). */
async function inNamespace(pidText: string, targetText: string, op: string, args: string[], json: boolean): Promise<void> {
  const pid = namespacePid(pidText);
  const m = /^sem:(\d+|0x[0-9a-f]+)$/i.exec(targetText.trim());
  if (!m) throw new UserError('--namespace works on System V sets by id: sem:ID');
  const id = Number(m[1]);
  const set = (await nsRaw(pid)).sem.find((s) => s.id === id);
  if (!set) throw new UserError(`no semaphore set ${id} in the IPC namespace of process ${pid}`);
  const semNumIn = (text: string | undefined) => {
    const n = text === undefined ? 0 : num('NUM', text, 32000);
    if (n >= set.nsems) throw new UserError(`semaphore set ${id} has ${set.nsems} semaphore(s): NUM must be below ${set.nsems}`);
    return n;
  };
  switch (op) {
    case 'get':
      if (!set.readable) throw new UserError(`permission denied reading semaphore set ${id} of the IPC namespace of process ${pid}`);
      if (json) await stdout.json({ id, key: set.key >>> 0, values: set.values, ncnt: set.ncnt, zcnt: set.zcnt, pids: set.pids });
      else await stdout.line(table(['NUM', 'VALUE', 'NCNT', 'ZCNT', 'LAST PID'], set.values.map((v, i) => [i, v, set.ncnt[i]!, set.zcnt[i]!, set.pids[i]!])));
      return;
    case 'set':
      if (args.length !== 2) throw new UserError('usage: shmscope sem TARGET set NUM VALUE --namespace PID');
      return nsSem(pid, id, semNumIn(args[0]), { value: num('VALUE', args[1]!, 32767) });
    case 'post':
      if (args.length > 1) throw new UserError('usage: shmscope sem TARGET post [NUM] --namespace PID');
      return nsSem(pid, id, semNumIn(args[0]));
    case 'wait':
      throw new UserError('wait is not available with --namespace (a blocking wait would hold a thread inside the container): use get to watch the value');
    default:
      throw new UserError(`unknown operation "${op}": use get, set, post or wait`);
  }
}

export function register(program: Command): void {
  program
    .command('sem')
    .description('read and operate semaphores (System V sets and POSIX named semaphores)')
    .argument('<target>', 'sem:ID, key:0xKEY or psem:/NAME')
    .argument('<operation>', 'get | set NUM VALUE | post [NUM] | wait [NUM]')
    .argument('[args...]', 'the operation\'s numbers')
    .option('--timeout <d>', 'how long wait may block (500ms, 30s, 5m; a bare number is milliseconds)', DEFAULT_TIMEOUT)
    .option('--json', 'get: print JSON')
    .option('--namespace <pid>', 'a set (sem:ID) of the IPC namespace of process PID (a container): get, set and post')
    .action(async (targetText: string, op: string, args: string[], opts: { timeout: string; json?: boolean; namespace?: string }) => {
      if (opts.namespace !== undefined) return inNamespace(opts.namespace, targetText, op, args, opts.json === true);
      const unlinked = parseTarget(targetText, 'sem');
      if (unlinked.kind === 'unlinked' && unlinked.of === 'posix-sem') return unlinkedSem(unlinked.id, op, args, opts.json === true);
      const t = semTarget(targetText);
      switch (op) {
        case 'get': {
          if (args.length > 0) throw new UserError('get takes no numbers');
          if (t.kind === 'posix-sem') {
            const value = psemValue(t.name);
            await stdout.line(opts.json ? JSON.stringify({ name: t.name, value }) : String(value));
            return;
          }
          const r = semGet(t.id);
          if (opts.json) {
            await stdout.json({ id: r.id, key: r.key, values: r.values, ncnt: r.ncnt, zcnt: r.zcnt, pids: r.pids });
            return;
          }
          const rows = r.values.map((v, i) => [i, v, r.ncnt[i]!, r.zcnt[i]!, r.pids[i]!]);
          await stdout.line(table(['NUM', 'VALUE', 'NCNT', 'ZCNT', 'LAST PID'], rows));
          return;
        }
        case 'set': {
          if (args.length !== 2) throw new UserError('usage: shmscope sem TARGET set NUM VALUE');
          const n = semNum(t, args[0]);
          const value = num('VALUE', args[1]!, 32767);
          if (t.kind === 'posix-sem') throw new UserError('a POSIX semaphore cannot be set: post or wait instead');
          semSetValue(t.id, n, value);
          return;
        }
        case 'post': {
          if (args.length > 1) throw new UserError('usage: shmscope sem TARGET post [NUM]');
          const n = semNum(t, args[0]);
          if (t.kind === 'posix-sem') psemPost(t.name);
          else semPost(t.id, n);
          return;
        }
        case 'wait': {
          if (args.length > 1) throw new UserError('usage: shmscope sem TARGET wait [NUM] [--timeout D]');
          const n = semNum(t, args[0]);
          const timeoutMs = DURATION_OPTIONS['--timeout'](opts.timeout);
          // Ctrl+C cancels the wait on its native thread instead of killing the process mid-call.
          const abort = new AbortController();
          const onSigint = () => abort.abort();
          process.once('SIGINT', onSigint);
          try {
            if (t.kind === 'posix-sem') await psemWait(t.name, { timeoutMs, signal: abort.signal });
            else await semWait(t.id, n, { timeoutMs, signal: abort.signal });
          } catch (e) {
            if (abort.signal.aborted) {
              process.stderr.write('shmscope: wait cancelled\n');
              process.exit(130);
            }
            throw e;
          } finally {
            process.removeListener('SIGINT', onSigint);
          }
          return;
        }
        default:
          throw new UserError(`unknown operation "${op}": use get, set, post or wait`);
      }
    });
}
