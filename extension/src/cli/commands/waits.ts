// shmscope waits [--json] [--all] [--stacks] [--watch] [--schema FILE]… [--fail-on deadlock|stuck] [--stuck-after D] [--interval D]
// Who waits on what, held by whom; deadlock cycles and dead owners, what to do about them; with
// --all every other blocked thread (pipes, sockets, event loops, sleeps). Exit 3 with --fail-on
// when found.
import type { Command } from 'commander';
import { adviceOf, durationText, scanWaits, slowText, stackText, threadStack, WaitHistory, type OtherWait, type ThreadStack, type Wait, type WaitsReport } from '../../analysis';
import { loadRules } from '../../analysis/rules';
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
      op: w.op, since: w.since, blockedMs: w.blockedMs ?? null, heldBy: w.heldBy, lastChangedBy: w.lastChangedBy, ...(w.lock ? { lock: w.lock } : {}), stuck: w.stuck, ownerDied: w.ownerDied,
      ...(w.postgres ? { postgres: w.postgres } : {}),
      ...(w.meaning ? { meaning: w.meaning } : {}),
      ...(adviceOf(w, r) ? { advice: adviceOf(w, r) } : {}),
    })),
    deadlocks: r.deadlocks,
    unreadable: r.unreadable,
    slow: r.slow,
    others: r.others ?? [],
    otherBlocked: r.otherBlocked ?? 0,
    blockedTimes: r.blockedTimes ?? false,
    notes: r.notes ?? [],
  };
}

const cut = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);
const peerText = (o: OtherWait) =>
  o.peers.map((p) => `${p.pid}${p.pid === o.pid ? ' (itself)' : ''}${p.command ? ` ${cut(p.command, 32)}` : ''} fd ${p.fd}${p.end ? ` ${p.end} end` : ''}`).join(', ') || '-';

/** Every other blocked thread, one row each: its call, the kernel's wait channel, what it waits on, for how long, the other end. */
export function othersText(others: readonly OtherWait[]): string {
  return [
    `Other blocked threads (${others.length})`,
    table(
      ['PID', 'TID', 'COMMAND', 'SYSCALL', 'WCHAN', 'BLOCKED', 'WAITS ON', 'OTHER END'],
      others.map((o) => [o.pid, o.tid, cut(esc(o.command), 32), o.syscall, esc(o.wchan || '-'), durationText(o.blockedMs), esc(o.on), esc(peerText(o))]),
    ),
  ].join('\n');
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
const who = (h: Wait['heldBy'][number]) => `${h.pid ?? '?'}/${h.tid ?? '?'}${h.state !== undefined ? ` postgres: ${h.state}` : h.command ? ` ${h.command}` : ''}${h.alive ? '' : ' (dead)'}`;
/** A PostgreSQL backend by what its title says it does ("postgres: UPDATE waiting"), else the command line. */
const commandText = (w: Wait) => (w.postgres?.state ? `postgres: ${w.postgres.state}` : w.command);
/** The owners; a semaphore has none, so its last changers show as the hint they are. */
const holderText = (w: Wait) =>
  w.heldBy.map(who).join(', ') || (w.lastChangedBy.length ? `(last changed by ${w.lastChangedBy.map((h) => `${h.pid ?? '?'}${h.command ? ` ${h.command}` : ''}`).join(', ')})` : '-');

/** The table and notes; command lines, names and paths come from other processes: escaped. */
export function waitsText(r: WaitsReport): string {
  const lines: string[] = [];
  lines.push(`Blocked threads (${r.waits.length})`);
  lines.push(
    table(
      ['PID', 'TID', 'COMMAND', 'WAITS ON', 'OFFSET', 'FIELD', 'OP', 'HELD BY', 'BLOCKED'],
      r.waits.map((w) => {
        const command = esc(commandText(w));
        return [
          w.pid, w.tid, command.length > 32 ? `${command.slice(0, 31)}…` : command, esc(objectText(w)),
          w.offset === null ? '-' : `0x${w.offset.toString(16)}`, esc(w.path ?? '-'), `${w.op}${w.stuck ? ' (stuck)' : ''}`, esc(holderText(w)), durationText(w.blockedMs),
        ];
      }),
    ),
  );
  for (const c of r.deadlocks) lines.push(`deadlock: ${[...c, c[0]!].map((t) => `${t.pid}/${t.tid}`).join(' → ')}`);
  for (const w of r.waits) if (w.meaning) lines.push(esc(`${w.pid}/${w.tid} waits on ${w.meaning.owner}: ${w.meaning.says}`));
  for (const w of r.waits) if (w.ownerDied) lines.push(esc(`owner died: ${w.pid}/${w.tid} waits on ${objectText(w)}${w.path ? ` ${w.path}` : ''}, held by a dead thread`));
  const advised = new Set<string>();
  for (const w of r.waits) {
    const a = adviceOf(w, r);
    if (a && !advised.has(a)) {
      advised.add(a);
      lines.push(esc(`what to do (${objectText(w)}${w.path ? ` ${w.path}` : ''}): ${a}`));
    }
  }
  if (r.others?.length) lines.push('', othersText(r.others));
  else if (r.otherBlocked) lines.push(`${r.otherBlocked} other thread${r.otherBlocked === 1 ? ' is' : 's are'} blocked outside IPC objects (pipes, sockets, event loops, sleeps, …): waits --all shows them`);
  if (r.slow.length) lines.push(slowText(r.slow));
  for (const n of r.notes ?? []) lines.push(esc(n));
  if (r.unreadable) lines.push(`${r.unreadable} thread${r.unreadable === 1 ? '' : 's'} could not be read${unreadableWhy()}`);
  return lines.join('\n');
}

/** Why threads are unreadable: not ours to read, unless we are root (then they ended meanwhile, or the kernel hides them). */
function unreadableWhy(): string {
  return process.getuid?.() === 0 ? ' (they ended during the scan, or the kernel refused their /proc files)' : ' (run as their owner or root to see them)';
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

/** The most stacks --stacks reads in one run (each stops its process for a moment). */
const MAX_STACKS = 16;

/**
 * The threads whose stacks --stacks shows: each live holder of a lock someone waits on (an
 * unwinder stops its process for a moment: never every pipe's other end on the machine).
 */
export function stackSubjects(r: WaitsReport): { pid: number; tid: number }[] {
  const out = new Map<string, { pid: number; tid: number }>();
  for (const w of r.waits) for (const h of w.heldBy) if (h.alive && h.pid !== null) out.set(`${h.pid}/${h.tid ?? h.pid}`, { pid: h.pid, tid: h.tid ?? h.pid });
  return [...out.values()].slice(0, MAX_STACKS);
}

async function stacksOf(r: WaitsReport): Promise<ThreadStack[]> {
  const out: ThreadStack[] = [];
  for (const s of stackSubjects(r)) out.push(await threadStack(s.pid, s.tid));
  return out;
}

/**
 * The waits one scan cannot judge stuck: without --watch, a wait whose blocked time the kernel did
 * not tell (no /proc/…/sched, another clock) and whose object keeps no time of its last change.
 */
export function untoldStuck(r: WaitsReport): Wait[] {
  return r.waits.filter((w) => !w.stuck && (w.blockedMs === null || w.blockedMs === undefined) && w.object.kind !== 'sem');
}

export function register(program: Command): void {
  withSchemaOptions(program
    .command('waits'))
    .description('show which threads wait on which IPC object, offset and field, who holds it, and deadlocks')
    .option('--json', 'JSON output')
    .option('--all', 'also every other blocked thread: its system call, wait channel, and the pipe, socket, event loop or sleep it waits on')
    .option('--stacks', "the kernel and user stacks of each lock's holder (and each pipe's or socket's other end), through eu-stack or gdb")
    .option('--watch', 're-scan every --interval, keeping when each wait was first seen (Ctrl+C stops)')
    .option('--interval <d>', 'how often --watch re-scans (500ms, 2s; a bare number is milliseconds)', '1s')
    .option('--schema <file>', 'a .shms schema whose segment declarations name the fields waited on (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--fail-on <what>', 'exit 3 when a deadlock (or a dead owner) or a stuck wait is found: deadlock|stuck')
    .option('--stuck-after <d>', 'a wait with no change on its object for this long is stuck (30s, 1m; a bare number is milliseconds)', '10s')
    .action(async (opts: { json?: boolean; all?: boolean; stacks?: boolean; watch?: boolean; interval: string; schema: string[]; failOn?: string; stuckAfter: string; include?: string[]; define?: string[] }) => {
      if (opts.failOn !== undefined && opts.failOn !== 'deadlock' && opts.failOn !== 'stuck') throw new UserError(`--fail-on is deadlock or stuck, not "${opts.failOn}"`);
      // With -I/-D as decode takes them: a schema binds in waits exactly as it does in decode.
      const compile = schemaOptions(opts);
      const schemas: Schema[] = opts.schema.map((file) => loadSchema(file, compile));
      // Program knowledge names waits in the programs' terms: ours and the user's rules.
      const rules = loadRules(process.cwd());
      const stuckAfterMs = DURATION_OPTIONS['--stuck-after'](opts.stuckAfter);
      const interval = DURATION_OPTIONS['--interval'](opts.interval);
      const print = async (r: WaitsReport) => {
        const stacks = opts.stacks ? await stacksOf(r) : undefined;
        if (opts.json) return stdout.json({ ...waitsJson(r), ...(stacks ? { stacks } : {}) }, opts.watch ? 0 : 2);
        const text = waitsText(r);
        if (!stacks) return stdout.line(text);
        const said = stacks.length ? stacks.flatMap((s) => stackText(s).map(esc)) : ['no holder to show a stack of'];
        return stdout.line([text, '', "Holders' stacks", ...said].join('\n'));
      };
      if (!opts.watch) {
        const r = await scanWaits({ schemas, stuckAfterMs, all: opts.all, rules });
        await print(r);
        let status: number = failing(r, opts.failOn);
        if (status === 0 && opts.failOn === 'stuck' && untoldStuck(r).length) {
          // Never a silent pass: one scan could not tell how long these have waited.
          const n = untoldStuck(r).length;
          process.stderr.write(`shmscope: --fail-on stuck cannot tell in one scan how long ${n} wait${n === 1 ? ' has' : 's have'} lasted (this kernel does not show when a thread last ran); use --watch\n`);
          status = 1;
        }
        if (status === 4) process.stderr.write(`shmscope: ${slowText(r.slow)}\n`);
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
          const r = await scanWaits({ schemas, stuckAfterMs, history, all: opts.all, rules });
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
