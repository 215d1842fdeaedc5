// The stack of a thread on demand (a lock's holder, a pipe's other end): its kernel stack from
// /proc/PID/task/TID/stack when readable (root), and its user stack with function names through a
// well-kept unwinder run as a child process — elfutils' eu-stack (libdwfl: DWARF CFI, .eh_frame,
// debuginfo and symbol tables, a short ptrace stop of the process), else gdb in batch mode when
// present. Bounded in time, off the JS thread (a child), cancellable (an AbortSignal kills it);
// a clear line when neither tool is there. No vscode import.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ThreadStack {
  pid: number;
  tid: number;
  /** Kernel frames (`futex_wait_queue+0x5d/0x90`), or null with `kernelNote` saying why not. */
  kernel: string[] | null;
  kernelNote?: string;
  /** User frames (`#1 0x… hold_mutex_forever`), or null with `userNote` saying why not. */
  user: string[] | null;
  userNote?: string;
  /** The unwinder that read the user stack. */
  tool: 'eu-stack' | 'gdb' | null;
}

export interface StackOptions {
  /** How long the unwinder may take before it is killed (default 10 s). */
  timeoutMs?: number;
  /** Cancels the unwinder (it is killed). */
  signal?: AbortSignal;
  /** Where the tools are looked for (tests). */
  paths?: { euStack: string; gdb: string };
}

const TOOLS = { euStack: '/usr/bin/eu-stack', gdb: '/usr/bin/gdb' };
const MAX_FRAMES = 64;

function run(file: string, args: string[], opts: StackOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL', maxBuffer: 4 << 20, encoding: 'utf8', ...(opts.signal ? { signal: opts.signal } : {}) }, (err, stdout, stderr) => {
      // eu-stack exits 1 when one thread of many could not be unwound: its output is still good.
      if (err && !stdout.includes('#0')) reject(new Error(err.killed ? `timed out after ${opts.timeoutMs ?? 10_000} ms` : (stderr.trim().split('\n').pop() || err.message)));
      else resolve(stdout);
    });
  });
}

/** The "#N …" frame lines after the header line that `isHeader` finds, spaces collapsed; undefined without that header. */
function framesAfter(text: string, isHeader: (line: string) => boolean): string[] | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex(isHeader);
  if (at < 0) return undefined;
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!/^#\d+/.test(l)) break;
    out.push(l.replace(/\s+/g, ' ').trim());
  }
  return out;
}

/** The frames of one thread in eu-stack's output ("TID 1234:" then "#0  0x… name" lines). */
export function euStackFrames(text: string, tid: number): string[] | undefined {
  return framesAfter(text, (l) => l.trim() === `TID ${tid}:`);
}

/** The frames of one thread in gdb's `thread apply all bt` ("Thread N (… (LWP 1234) …):" then "#0 …"). */
export function gdbFrames(text: string, tid: number): string[] | undefined {
  return framesAfter(text, (l) => l.startsWith('Thread ') && l.includes(`(LWP ${tid})`));
}

/** One thread's kernel and user stacks. Never throws: what could not be read is said in the notes. */
export async function threadStack(pid: number, tid: number, opts: StackOptions = {}): Promise<ThreadStack> {
  const out: ThreadStack = { pid, tid, kernel: null, user: null, tool: null };
  const tools = opts.paths ?? TOOLS;
  // The kernel stack first: the unwinder's ptrace stop would show in it.
  await readFile(`/proc/${pid}/task/${tid}/stack`, 'utf8').then(
    (t) => {
      out.kernel = t.split('\n').filter(Boolean).map((l) => l.replace(/^\[<[0-9a-f]+>\]\s*/, ''));
    },
    (e: NodeJS.ErrnoException) => {
      out.kernelNote = e.code === 'EACCES' || e.code === 'EPERM' ? 'not readable (root only)' : e.code === 'ENOENT' ? 'the thread has ended' : `not readable (${e.code ?? e.message})`;
    },
  );
  await (async () => {
    try {
      if (existsSync(tools.euStack)) {
        out.tool = 'eu-stack';
        out.user = euStackFrames(await run(tools.euStack, ['-p', String(pid), '-n', String(MAX_FRAMES)], opts), tid) ?? null;
      } else if (existsSync(tools.gdb)) {
        out.tool = 'gdb';
        out.user = gdbFrames(await run(tools.gdb, ['-batch', '-nx', '-p', String(pid), '-ex', `thread apply all bt ${MAX_FRAMES}`], opts), tid) ?? null;
      } else {
        out.userNote = 'no unwinder: install elfutils (eu-stack) or gdb to see user stacks';
        return;
      }
      if (!out.user) out.userNote = `${out.tool} did not show thread ${tid} (it ended, or the process could not be attached)`;
    } catch (e) {
      out.user = null;
      out.userNote = `${out.tool} failed: ${(e as Error).name === 'AbortError' ? 'cancelled' : (e as Error).message}`;
    }
  })();
  return out;
}

/** A stack as text lines (the CLI's and the editor's document). */
export function stackText(s: ThreadStack): string[] {
  return [
    `stack of thread ${s.tid} (pid ${s.pid})`,
    `  kernel:${s.kernel ? '' : ` ${s.kernelNote ?? 'none'}`}`,
    ...(s.kernel ?? []).map((f) => `    ${f}`),
    `  user${s.tool ? ` (${s.tool})` : ''}:${s.user ? '' : ` ${s.userNote ?? 'none'}`}`,
    ...(s.user ?? []).map((f) => `    ${f}`),
  ];
}
