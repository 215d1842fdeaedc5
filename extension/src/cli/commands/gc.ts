// shmscope gc [--json] [--yes] [--kind K]… [--namespace PID|all]: the leftovers (analysis/verdict.ts)
// with their reasons and the bytes they would free; --yes removes exactly those. An object in use
// or unknown is never a candidate.
import type { Command } from 'commander';
import { GC_KINDS, gcCandidates, removeLeftover, usageListing, type GcCandidate } from '../../analysis/usage';
import { factsWithRules } from '../../analysis/rules';
import { namespacePid } from '../../ipc/namespaces';
import type { Kind } from '../../ipc/types';
import { escapeControl as esc } from '../../shared/escape';
import { UserError } from '../errors';
import { size, table } from '../format';
import * as stdout from '../output';

const where = (c: GcCandidate) => (c.namespace ? `container ${c.namespace.label} (pid ${c.namespace.pid})` : '-');

function kindsOption(list: string[] | undefined): readonly Kind[] {
  if (!list?.length) return GC_KINDS;
  const kinds = list.flatMap((k) => k.split(',')).map((k) => k.trim()) as Kind[];
  for (const k of kinds) if (!GC_KINDS.includes(k)) throw new UserError(`--kind must be one of ${GC_KINDS.join(', ')}, not "${k}"`);
  return kinds;
}

export function register(program: Command): void {
  program
    .command('gc')
    .description('list the leftovers (nothing maps or holds them, their creator is gone) and the bytes they would free; --yes removes exactly those')
    .option('--json', 'print JSON (see the README for its shape)')
    .option('--yes', 'really remove them')
    .option('--kind <kind...>', `only these kinds: ${GC_KINDS.join('|')}`)
    .option('--namespace <pid|all>', "also the leftovers of every other namespace (all), or only of the namespace of process PID")
    .action(async (opts: { json?: boolean; yes?: boolean; kind?: string[]; namespace?: string }) => {
      const kinds = kindsOption(opts.kind);
      const ns = opts.namespace === undefined ? undefined : opts.namespace === 'all' ? 'all' : namespacePid(opts.namespace);
      const listing = await usageListing(ns);
      const found = gcCandidates(listing, factsWithRules(listing, process.cwd()), kinds);
      let freed: number | undefined;
      if (opts.yes) {
        freed = 0;
        for (const f of found) {
          f.candidate.error = await removeLeftover(f.record);
          if (f.candidate.error === null) freed += f.candidate.size;
        }
      }
      const candidates = found.map((f) => f.candidate);
      const failed = candidates.filter((c) => c.error);
      if (opts.json) {
        await stdout.json({ candidates, ...(freed !== undefined ? { freed } : {}), notes: listing.notes });
      } else {
        const total = candidates.reduce((a, c) => a + c.size, 0);
        const head = opts.yes
          ? `removed ${candidates.length - failed.length} leftover(s), ${size(freed ?? 0)} freed`
          : `${candidates.length} leftover(s), ${size(total)} would be freed (run again with --yes to remove them)`;
        await stdout.line(
          `${head}\n${table(
            ['TARGET', 'SIZE', 'CONTAINER', 'WHY'],
            candidates.map((c) => [esc(c.target), size(c.size), esc(where(c)), `${c.owner ? `${esc(c.owner)}: ` : ''}${esc(c.reasons.join('; '))}${c.error ? `  (not removed: ${esc(c.error)})` : ''}`]),
          )}${listing.notes.map((n) => `\nnote: ${esc(n)}`).join('')}`,
        );
      }
      if (failed.length) throw new UserError(`${failed.length} leftover(s) could not be removed: ${failed.map((c) => `${c.target}: ${c.error}`).join('; ')}`);
    });
}
