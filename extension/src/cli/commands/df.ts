// shmscope df [--json] [--namespace all|PID] [--fail-over PERCENT]: every /dev/shm we can see
// (ours and each container's own), /dev/mqueue and the System V totals, each object biggest first
// with its memory, holders and verdict. Exit 3 with --fail-over when a mount is fuller.
import type { Command } from 'commander';
import { mountLabel, usageListing, usageReport, type UsageMount, type UsageObject, type UsageReport } from '../../analysis/usage';
import { factsWithRules } from '../../analysis/rules';
import { namespacePid } from '../../ipc/namespaces';
import { escapeControl as esc } from '../../shared/escape';
import { UserError } from '../errors';
import { size, table } from '../format';
import * as stdout from '../output';

/** Exit status when a check asked with --fail-over finds a mount past its threshold (as `waits --fail-on`). */
export const EXIT_OVER = 3;
/** Exit status when nothing is over but some mount could not be measured (README: an incomplete answer). */
const EXIT_INCOMPLETE = 4;
/** Objects named in the one line of --fail-over. */
const NAMED = 3;

const bytes = (n: number | null) => (n === null ? '-' : size(n));
const holderText = (o: UsageObject) => o.holders.map((h) => `${h.pid}${h.how === 'fd' ? ' fd' : ''}`).join(',') || '-';

function objectsTable(objects: UsageObject[]): string {
  return table(
    ['NAME', 'SIZE', 'RESIDENT', 'SWAPPED', 'HELD BY', 'VERDICT'],
    objects.map((o) => [esc(o.name), size(o.size), bytes(o.resident), bytes(o.swapped), holderText(o), `${o.owner ? `${esc(o.owner)}: ` : ''}${o.verdict}: ${esc(o.reasons.join('; '))}`]),
  );
}

function mountHead(m: UsageMount): string {
  const label = esc(mountLabel(m));
  if (m.size === null) return `${label}: ${m.objects.length} object(s)`;
  return `${label}: ${bytes(m.size)}, ${bytes(m.used)} used (${m.percent ?? '-'} %), ${bytes(m.available)} available, ${m.objects.length} object(s)`;
}

export function usageText(r: UsageReport): string {
  const parts: string[] = [];
  for (const m of r.mounts) parts.push(`${mountHead(m)}\n${objectsTable(m.objects).replace(/^/gm, '  ')}`);
  const s = r.sysv;
  const limit = (v: number | string | null) => (v === null ? '?' : String(v));
  parts.push(
    `System V shared memory: ${s.segments} segment(s) of ${limit(s.shmmni)} (shmmni), ${bytes(s.bytes)} in ${s.pages} page(s) of ${limit(s.shmall)} (shmall${s.percent !== null ? `, ${s.percent} %` : ''})\n` +
      table(
        ['ID', 'SIZE', 'RESIDENT', 'SWAPPED', 'ATTACHED', 'VERDICT'],
        s.objects.map((o) => [o.name, size(o.size), bytes(o.resident), bytes(o.swapped), holderText(o), `${o.owner ? `${esc(o.owner)}: ` : ''}${o.verdict}: ${esc(o.reasons.join('; '))}`]),
      ).replace(/^/gm, '  '),
  );
  for (const n of r.notes) parts.push(`note: ${esc(n)}`);
  return parts.join('\n\n');
}

/** The JSON document (README: `df --json`). */
export function usageJson(r: UsageReport): Record<string, unknown> {
  return {
    mounts: r.mounts.map((m) => ({ ...m, objects: m.objects.map((o) => ({ ...o, holders: o.holders.map((h) => ({ pid: h.pid, command: h.command, how: h.how })) })) })),
    sysv: r.sysv,
    notes: r.notes,
  };
}

function percentOption(text: string): number {
  const n = Number(text.replace(/%$/, ''));
  if (!/^\s*\d+(\.\d+)?%?\s*$/.test(text) || !(n >= 0 && n <= 100)) throw new UserError(`--fail-over takes a percentage from 0 to 100, not "${text}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('df')
    .description('how full each /dev/shm is (ours and each container\'s), /dev/mqueue and System V totals; what fills them, with verdicts')
    .option('--json', 'print JSON (see the README for its shape)')
    .option('--namespace <pid|all>', "also every other namespace's /dev/shm (all), or only that of the namespace of process PID")
    .option('--fail-over <percent>', `exit ${EXIT_OVER} when a mount is fuller than this (for health checks)`)
    .action(async (opts: { json?: boolean; namespace?: string; failOver?: string }) => {
      const over = opts.failOver === undefined ? undefined : percentOption(opts.failOver);
      const ns = opts.namespace === undefined ? undefined : opts.namespace === 'all' ? 'all' : namespacePid(opts.namespace);
      const listing = await usageListing(ns);
      const report = await usageReport(listing, factsWithRules(listing, process.cwd()));
      if (opts.json) await stdout.json(usageJson(report));
      else await stdout.line(usageText(report));
      if (over === undefined) return;
      const full = report.mounts.filter((m) => m.percent !== null && m.percent > over);
      if (!full.length) {
        // Nothing over, but a container's /dev/shm could not be measured: the answer is incomplete.
        const unmeasured = (listing.namespaces ?? []).filter((n) => n.devShmUnread !== undefined);
        if (unmeasured.length) {
          process.stderr.write(`shmscope: ${esc(`no mount is over ${over} %, but the /dev/shm of ${unmeasured.length} container(s) could not be measured (${unmeasured.map((n) => `${n.namespace.label}: ${n.devShmUnread}`).join('; ')})`)}\n`);
          process.exitCode = EXIT_INCOMPLETE;
        }
        return;
      }
      const lines = full.map((m) => {
        const top = m.objects.slice(0, NAMED).map((o) => `${o.name} ${size(o.resident ?? o.size)} (${o.verdict})`).join(', ');
        return `${mountLabel(m)} is ${m.percent} % full, over ${over} %${top ? `: ${top}` : ''}`;
      });
      process.stderr.write(`shmscope: ${esc(lines.join('; '))}\n`);
      process.exitCode = EXIT_OVER;
    });
}
