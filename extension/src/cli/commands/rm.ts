// shmscope rm TARGET --yes: remove an object. Refuses without --yes; says who still uses it.
import type { Command } from 'commander';
import { describeTarget, list, namespacePid, nsRemove, parseTarget, remove } from '../../ipc';
import { holdersOf } from '../../analysis/verdict';
import { UserError } from '../errors';
import { escapeControl } from '../../shared/escape';

export function register(program: Command): void {
  program
    .command('rm')
    .description('remove an IPC object (IPC_RMID or unlink)')
    .argument('<target>', 'shm:ID, sem:ID, msg:ID, key:0xKEY (with --kind), posix:/NAME, psem:/NAME or mq:/NAME')
    .option('--kind <kind>', 'with key:0xKEY when the key names several kinds: shm, sem or msg')
    .option('--yes', 'really remove it')
    .option('--namespace <pid>', 'an object (shm:ID, sem:ID, msg:ID) of the IPC namespace of process PID (a container)')
    .action(async (targetText: string, opts: { kind?: string; yes?: boolean; namespace?: string }) => {
      const hint = opts.kind as 'shm' | 'sem' | 'msg' | undefined;
      if (hint !== undefined && !['shm', 'sem', 'msg'].includes(hint)) throw new UserError('--kind must be shm, sem or msg');
      if (opts.namespace !== undefined) {
        const pid = namespacePid(opts.namespace);
        const m = /^(shm|sem|msg):(\d+|0x[0-9a-f]+)$/i.exec(targetText.trim());
        if (!m) throw new UserError('--namespace removes System V objects by id: shm:ID, sem:ID or msg:ID');
        const what = `${m[1]!.toLowerCase()}:${m[2]} of the IPC namespace of process ${pid}`;
        if (!opts.yes) throw new UserError(`refusing to remove ${what} without --yes`);
        await nsRemove(pid, m[1]!.toLowerCase() as 'shm' | 'sem' | 'msg', Number(m[2]));
        return;
      }
      const t = parseTarget(targetText, hint);
      const what = describeTarget(t);
      let users = '';
      if (t.kind === 'shm') {
        const rec = (await list(['shm'])).shm.find((r) => r.id === t.id);
        if (rec && rec.nattch > 0) users = `${rec.nattch} attachment(s)${rec.attachedBy.length ? ` by pid ${rec.attachedBy.map((a) => a.pid).join(', ')}` : ''}`;
      } else if (t.kind === 'posix-shm' || t.kind === 'posix-sem') {
        const l = await list([t.kind]);
        const rec = (t.kind === 'posix-shm' ? l.posixShm : l.posixSem).find((r) => r.name === t.name);
        const holders = rec ? holdersOf(rec) : [];
        if (holders.length) users = `holders: ${holders.map((h) => `pid ${h.pid}${h.how === 'fd' ? ' (an open descriptor)' : ' (mapped)'}`).join(', ')}`;
      }
      if (!opts.yes) {
        throw new UserError(`refusing to remove ${what}${users ? ` (it has ${users})` : ''} without --yes`);
      }
      remove(t);
      const after = t.kind === 'shm' ? 'it disappears when the last one detaches' : 'its name is gone; they keep its memory until they close it';
      if (users) process.stderr.write(`shmscope: ${escapeControl(what)} had ${users}; ${after}\n`);
    });
}
