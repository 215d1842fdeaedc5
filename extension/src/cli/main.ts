// The `shmscope` command line (DESIGN.md §5): the same façade and schema engine as the extension.
// Exit status: 0 on success, 1 on an expected failure (one line on stderr), 2 on a bug, 3 when a
// check asked for (waits --fail-on, df --fail-over) found what it looks for, 4 when a
// limit cut the output short (one line on stderr naming the option that lifts it).
// Start-up is most of a short call's time, so this module loads only what every command needs;
// each command's module (and what it imports: the kernel façade, the schema engine, the language
// server) is loaded when that command runs, from a bundle of its own. dist/cli.js (bin.ts) loads
// this bundle.
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { IpcError } from '../ipc/errors';
import { escapeControl } from '../shared/escape';
import { armDeadline, DEADLINE_COMMANDS, deadlineMs, withDeadline } from './deadline';
import { CutShort, EXIT_CUT_SHORT, UserError } from './errors';
import { guardStdout, writeFailure } from './output';

type CommandModule = { register(program: Command): void };

/** Every command, in the order --help lists them. */
const COMMAND_NAMES = ['list', 'df', 'gc', 'limits', 'dump', 'sem', 'peek', 'rm', 'decode', 'record', 'replay', 'check', 'import', 'waits', 'metrics', 'lsp'] as const;

/** Set by the build (scripts/build.mjs): each command is a bundle of its own beside this one. */
declare const SHMSCOPE_BUNDLED: boolean | undefined;

/**
 * A command's module, loaded on first use: the bundle dist/cli-NAME.js beside this one (only what
 * that command imports), or its source under tsx.
 */
function loadCommand(name: string): CommandModule {
  const file = typeof SHMSCOPE_BUNDLED !== 'undefined' && SHMSCOPE_BUNDLED ? path.join(__dirname, `cli-${name}.js`) : path.join(__dirname, 'commands', name);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a command's bundle loads by its path, when it runs
  return require(file) as CommandModule;
}

/** One line on stderr, control characters escaped (a message may quote a hostile name). */
function fail(message: string, status = 1): never {
  process.stderr.write(`shmscope: ${escapeControl(message)}\n`);
  process.exit(status);
}

/**
 * The program with the commands `argv` needs: only the one it names (`shmscope list …`), none for
 * `--version`, every one otherwise (help, a typo: commander lists or suggests them all).
 */
export function buildProgram(argv: string[] = []): Command {
  const program = new Command('shmscope')
    .description('Inspect Linux shared memory, semaphores and message queues.')
    .version(process.env.SHMSCOPE_VERSION ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const first = argv[2];
  const named = COMMAND_NAMES.filter((name) => name === first);
  const wanted = named.length > 0 ? named : first === '--version' || first === '-V' ? [] : COMMAND_NAMES;
  for (const name of wanted) loadCommand(name).register(program);
  for (const sub of program.commands) {
    if (DEADLINE_COMMANDS.has(sub.name())) withDeadline(sub);
    sub.exitOverride();
  }
  program.hook('preAction', (_program, action) => {
    if (!DEADLINE_COMMANDS.has(action.name())) return;
    const option = action.opts<{ deadline?: string }>().deadline;
    const text = option ?? process.env.SHMSCOPE_DEADLINE ?? '';
    const ms = deadlineMs(option);
    armDeadline(action.name(), ms, text.trim() === '' ? `${ms / 1000} s` : text, (m) => fail(m));
  });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `shmscope dump … | head` closes our stdout early: that is success, not a crash. Any other
  // write error (a full disk, /dev/full, a closed descriptor) is one line and status 1.
  guardStdout((e) => fail(writeFailure(e)), () => process.exit(0));
  try {
    await buildProgram(argv).parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its own message; help and version are successes.
      process.exit(e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 1);
    }
    // By name: each command's bundle has its own copy of these classes.
    if (e instanceof UserError || e instanceof IpcError || (e instanceof Error && (e.name === 'UserError' || e.name === 'IpcError'))) fail(e.message);
    if (e instanceof CutShort || (e instanceof Error && e.name === 'CutShort')) fail(e.message, EXIT_CUT_SHORT);
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
