// The overall deadline of a command that has no reason to run long (list, dump, decode, check):
// a stuck /proc, a huge input or a stdout pipe that nobody reads any more must not keep a process
// (and a core, and its memory) busy after its caller gave up. `--deadline D` or SHMSCOPE_DEADLINE;
// `0` turns it off (a dump piped into a pager that a user reads for longer, say).
import type { Command } from 'commander';
import { DURATION_OPTIONS } from './times';

/** The commands that get a deadline. */
export const DEADLINE_COMMANDS: ReadonlySet<string> = new Set(['list', 'dump', 'decode', 'check']);

/** Without --deadline or SHMSCOPE_DEADLINE. */
export const DEFAULT_DEADLINE = '2m';

/** Adds --deadline to a command. */
export function withDeadline(cmd: Command): Command {
  return cmd.option('--deadline <d>', `give up after this long (30s, 5m, 1h30m; 0: never; default: $SHMSCOPE_DEADLINE or ${DEFAULT_DEADLINE})`);
}

/** The deadline in milliseconds (0: none) from the option, else the environment, else the default. */
export function deadlineMs(option: string | undefined, env: string | undefined = process.env.SHMSCOPE_DEADLINE): number {
  if (option !== undefined) return DURATION_OPTIONS['--deadline'](option);
  if (env !== undefined && env.trim() !== '') return DURATION_OPTIONS.SHMSCOPE_DEADLINE(env);
  return DURATION_OPTIONS['--deadline'](DEFAULT_DEADLINE);
}

/**
 * Ends the process with one line on stderr and status 1 when `ms` passes (the timer does not keep
 * the process alive once the command is done). The event loop stays free while a command waits
 * for the kernel (scans run on threads of their own) or for a full pipe, so the timer fires.
 */
export function armDeadline(command: string, ms: number, text: string, fail: (message: string) => never): void {
  if (ms <= 0) return;
  setTimeout(() => fail(`${command} did not finish within ${text}; gave up (--deadline or SHMSCOPE_DEADLINE sets how long, 0 for never)`), ms).unref();
}
