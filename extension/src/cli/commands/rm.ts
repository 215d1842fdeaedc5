// shmscope rm TARGET --yes: remove an object. Refuses without --yes; says who still uses it.
import type { Command } from 'commander';
import { describeTarget, list, parseTarget, remove } from '../../ipc';
import { UserError } from '../errors';
import { escapeControl } from '../../shared/escape';

export function register(program: Command): void {
  program
    .command('rm')
    .description('remove an IPC object (IPC_RMID or unlink)')
    .argument('<target>', 'shm:ID, sem:ID, msg:ID, key:0xKEY (with --kind), posix:/NAME, psem:/NAME or mq:/NAME')
    .option('--kind <kind>', 'with key:0xKEY when the key names several kinds: shm, sem or msg')
    .option('--yes', 'really remove it')
    .action(async (targetText: string, opts: { kind?: string; yes?: boolean }) => {
      const hint = opts.kind as 'shm' | 'sem' | 'msg' | undefined;
      if (hint !== undefined && !['shm', 'sem', 'msg'].includes(hint)) throw new UserError('--kind must be shm, sem or msg');
      const t = parseTarget(targetText, hint);
      const what = describeTarget(t);
      let users = '';
      if (t.kind === 'shm') {
        const rec = (await list(['shm'])).shm.find((r) => r.id === t.id);
        if (rec && rec.nattch > 0) users = `${rec.nattch} attachment(s)${rec.attachedBy.length ? ` by pid ${rec.attachedBy.map((a) => a.pid).join(', ')}` : ''}`;
      }
      if (!opts.yes) {
        throw new UserError(`refusing to remove ${what}${users ? ` (it has ${users})` : ''} without --yes`);
      }
      remove(t);
      if (users) process.stderr.write(`shmscope: ${escapeControl(what)} had ${users}; it disappears when the last one detaches\n`);
    });
}
