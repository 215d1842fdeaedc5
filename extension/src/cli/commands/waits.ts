// shmscope waits [--json] [--watch] [--schema FILE]… [--fail-on deadlock|stuck] [--stuck-after D] [--interval D]
// Who waits on what, held by whom; deadlock cycles and dead owners. Exit 3 with --fail-on when found.
import type { Command } from 'commander';
import { scanWaits, WaitHistory, type Wait, type WaitsReport } from '../../analysis';
import type { Schema } from '../../shared/schema';
import { UserError } from '../errors';
import { table } from '../format';
import { DURATION_OPTIONS } from '../times';
import * as stdout from '../output';
import { escapeControl as esc } from '../../shared/escape';
import { loadSchema } from './decode';
import { schemaOptions, withSchemaOptions } from '../schema-options';

/** The `waits --json` document (the issue's shape; `thread`, `lastChangedBy`, `lock`, `stuck`, `ownerDied` added). */
export function waitsJson(r: WaitsReport): Record<string, unknown> {
  return {
    waits: r.waits.map((w) => ({
      pid: w.pid, tid: w.tid, command: w.command, thread: w.thread, syscall: w.syscall, object: w.object, offset: w.offset, path: w.path,
      op: w.op, since: w.since, heldBy: w.heldBy, lastChangedBy: w.lastChangedBy, ...(w.lock ? { lock: w.lock } : {}), stuck: w.stuck, ownerDied: w.ownerDied,
    })),
    deadlocks: r.deadlocks,
    unreadable: r.unreadable,
    slow: r.slow,
  };
}

/** The object, with the namespace it belongs to when not ours (its ids repeat ours). */
const objectText = (w: Wait) => {
  const o = w.object;
  const name = o.name && o.name !== o.target ? ` ${o.kind === 'shm' ? `key ${o.name}` : o.name}` : '';
  // A label may be a whole command line: cut as the COMMAND column is.
  const label = o.namespace && o.namespace.label.length > 32 ? `${o.namespace.label.slice(0, 31)}…` : o.namespace?.label;
  const ns = o.namespace ? ` [namespace ${label} (ipc ${o.namespace.ipc}, pid ${o.namespace.pid})]` : '';
  return `${o.target ?? o.kind}${name}${ns}`;
};
const who = (h: Wait['heldBy'][number]) => `${h.pid ?? '?'}/${h.tid ?? '?'}${h.command ? ` ${h.command}` : ''}${h.alive ? '' : ' (dead)'}`;
/** The owners; a semaphore has none, so its last changers show as the hint they are. */
const holderText = (w: Wait) =>
  w.heldBy.map(who).join(', ') || (w.lastChangedBy.length ? `(last changed by ${w.lastChangedBy.map((h) => `${h.pid ?? '?'}${h.command ? ` ${h.command}` : ''}`).join(', ')})` : '-');

/** The table and notes; command lines, names and paths come from other processes: escaped. */
export function waitsText(r: WaitsReport): string {
  const lines: string[] = [];
  lines.push(`Blocked threads (${r.waits.length})`);
  lines.push(
    table(
      ['PID', 'TID', 'COMMAND', 'WAITS ON', 'OFFSET', 'FIELD', 'OP', 'HELD BY'],
      r.waits.map((w) => {
        const command = esc(w.command);
        return [
          w.pid, w.tid, command.length > 32 ? `${command.slice(0, 31)}…` : command, esc(objectText(w)),
          w.offset === null ? '-' : `0x${w.offset.toString(16)}`, esc(w.path ?? '-'), `${w.op}${w.stuck ? ' (stuck)' : ''}`, esc(holderText(w)),
        ];
      }),
    ),
  );
  for (const c of r.deadlocks) lines.push(`deadlock: ${[...c, c[0]!].map((t) => `${t.pid}/${t.tid}`).join(' → ')}`);
  for (const w of r.waits) if (w.ownerDied) lines.push(esc(`owner died: ${w.pid}/${w.tid} waits on ${objectText(w)}${w.path ? ` ${w.path}` : ''}, held by a dead thread`));
  if (r.slow.length) lines.push(skippedText(r.slow));
  if (r.unreadable) lines.push(`${r.unreadable} thread${r.unreadable === 1 ? '' : 's'} could not be read${unreadableWhy()}`);
  return lines.join('\n');
}

/** Why threads are unreadable: not ours to read, unless we are root (then they ended meanwhile, or the kernel hides them). */
function unreadableWhy(): string {
  return process.getuid?.() === 0 ? ' (they ended during the scan, or the kernel refused their /proc files)' : ' (run as their owner or root to see them)';
}

/** The processes a partial scan did not read whole, named: nothing is ruled out among them. */
function skippedText(slow: number[]): string {
  const pids = `${slow.slice(0, 20).join(', ')}${slow.length > 20 ? `, … (${slow.length - 20} more)` : ''}`;
  return `${slow.length} process${slow.length === 1 ? ' was' : 'es were'} not read whole within the scan's budget (pid ${pids}): their waits are not shown, and no deadlock among them is ruled out`;
}

/**
 * Exit status 3 when --fail-on finds what it names; 4 when it found nothing but the scan was
 * partial (a process with 10 000 threads, one holding its own /proc files): an absence that the
 * scan could not see is never reported as success.
 */
function failing(r: WaitsReport, failOn: string | undefined): 0 | 3 | 4 {
  const found = failOn === 'deadlock' ? r.deadlocks.length > 0 || r.waits.some((w) => w.ownerDied) : failOn === 'stuck' ? r.waits.some((w) => w.stuck) : false;
  if (found) return 3;
  return failOn !== undefined && r.slow.length > 0 ? 4 : 0;
}

export function register(program: Command): void {
  withSchemaOptions(program
    .command('waits'))
    .description('show which threads wait on which IPC object, offset and field, who holds it, and deadlocks')
    .option('--json', 'JSON output')
    .option('--watch', 're-scan every --interval, keeping when each wait was first seen (Ctrl+C stops)')
    .option('--interval <d>', 'how often --watch re-scans (500ms, 2s; a bare number is milliseconds)', '1s')
    .option('--schema <file>', 'a .shms schema whose segment declarations name the fields waited on (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--fail-on <what>', 'exit 3 when a deadlock (or a dead owner) or a stuck wait is found: deadlock|stuck')
    .option('--stuck-after <d>', 'a wait with no change on its object for this long is stuck (30s, 1m; a bare number is milliseconds)', '10s')
    .action(async (opts: { json?: boolean; watch?: boolean; interval: string; schema: string[]; failOn?: string; stuckAfter: string; include?: string[]; define?: string[] }) => {
      if (opts.failOn !== undefined && opts.failOn !== 'deadlock' && opts.failOn !== 'stuck') throw new UserError(`--fail-on is deadlock or stuck, not "${opts.failOn}"`);
      // With -I/-D as decode takes them: a schema binds in waits exactly as it does in decode.
      const compile = schemaOptions(opts);
      const schemas: Schema[] = opts.schema.map((file) => loadSchema(file, compile));
      const stuckAfterMs = DURATION_OPTIONS['--stuck-after'](opts.stuckAfter);
      const interval = DURATION_OPTIONS['--interval'](opts.interval);
      const print = (r: WaitsReport) => (opts.json ? stdout.json(waitsJson(r), opts.watch ? 0 : 2) : stdout.line(waitsText(r)));
      if (!opts.watch) {
        const r = await scanWaits({ schemas, stuckAfterMs });
        await print(r);
        const status = failing(r, opts.failOn);
        if (status === 4) process.stderr.write(`shmscope: ${skippedText(r.slow)}\n`);
        if (status) process.exitCode = status;
        return;
      }
      const history = new WaitHistory();
      let stop = false;
      let wake: (() => void) | undefined;
      const onSignal = () => {
        stop = true;
        wake?.();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        while (!stop) {
          const r = await scanWaits({ schemas, stuckAfterMs, history });
          if (!opts.json) await stdout.line(`--- ${new Date().toISOString()}`);
          await print(r);
          if (failing(r, opts.failOn) === 3) {
            process.exitCode = 3;
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, interval);
          });
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
