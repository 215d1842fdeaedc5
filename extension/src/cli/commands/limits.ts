// shmscope limits [--json]: the kernel's IPC limits and their use, as `lsipc` shows them.
import type { Command } from 'commander';
import { limits } from '../../ipc/limits';
import { escapeControl as esc } from '../../shared/escape';
import { table } from '../format';
import * as stdout from '../output';

export function register(program: Command): void {
  program
    .command('limits')
    .description('the kernel\'s IPC limits and how much of each is used (as lsipc shows them)')
    .option('--json', 'print JSON: {"limits": [{"name","value","used","description"}]}')
    .action(async (opts: { json?: boolean }) => {
      const list = await limits();
      if (opts.json) {
        await stdout.json({ limits: list });
        return;
      }
      const pct = (used: number | null, value: number | string) => (used !== null && typeof value === 'number' && value > 0 ? `${Math.round((used / value) * 1000) / 10} %` : '-');
      await stdout.line(table(['RESOURCE', 'DESCRIPTION', 'LIMIT', 'USED', 'USE'], list.map((l) => [esc(l.name), l.description, String(l.value), l.used === null ? '-' : String(l.used), pct(l.used, l.value)])));
    });
}
