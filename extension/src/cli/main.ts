// The `shmscope` command line (DESIGN.md §5): the same façade and schema engine as the extension.
// Exit status: 0 on success, 1 on an expected failure (one line on stderr), 2 on a bug, 4 when a
// limit cut the output short (one line on stderr naming the option that lifts it).
import { Command, CommanderError } from 'commander';
import { IpcError } from '../ipc';
import { escapeControl } from '../shared/escape';
import { CutShort, EXIT_CUT_SHORT, UserError } from './errors';
import { guardStdout, writeFailure } from './output';
import * as check from './commands/check';
import * as decode from './commands/decode';
import * as dump from './commands/dump';
import * as importCmd from './commands/import';
import * as list from './commands/list';
import * as lsp from './commands/lsp';
import * as peek from './commands/peek';
import * as record from './commands/record';
import * as replay from './commands/replay';
import * as rm from './commands/rm';
import * as sem from './commands/sem';
import * as waits from './commands/waits';

/** Each command module registers itself on the program. */
const commands: { register(program: Command): void }[] = [list, dump, sem, peek, rm, decode, record, replay, check, importCmd, waits, lsp];

export function buildProgram(): Command {
  const program = new Command('shmscope')
    .description('Inspect Linux shared memory, semaphores and message queues.')
    .version(process.env.SHMSCOPE_VERSION ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const c of commands) c.register(program);
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

/** One line on stderr, control characters escaped (a message may quote a hostile name). */
function fail(message: string, status = 1): never {
  process.stderr.write(`shmscope: ${escapeControl(message)}\n`);
  process.exit(status);
}

export async function main(argv: string[]): Promise<void> {
  // `shmscope dump … | head` closes our stdout early: that is success, not a crash. Any other
  // write error (a full disk, /dev/full) is one line and status 1.
  guardStdout((e) => fail(writeFailure(e)), () => process.exit(0));
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its own message; help and version are successes.
      process.exit(e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 1);
    }
    if (e instanceof UserError || e instanceof IpcError) fail(e.message);
    if (e instanceof CutShort) fail(e.message, EXIT_CUT_SHORT);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') process.exit(0);
    if (code && (e as NodeJS.ErrnoException).syscall === 'write') fail(writeFailure(e as NodeJS.ErrnoException));
    if ((e as { code?: string }).code === 'ENOADDON') fail((e as Error).message);
    const err = e as Error;
    if (process.env.SHMSCOPE_DEBUG) process.stderr.write(`${err.stack}\n`);
    fail(`internal error: ${err.message} (set SHMSCOPE_DEBUG=1 for details)`, 2);
  }
}

if (require.main === module) void main(process.argv);
