// One typed error for everything that goes wrong talking to the kernel. `code` is the errno name
// (EACCES, EIDRM, ETIMEDOUT, …), `syscall` what was asked, and `message` a sentence a user
// understands: what we were doing, to which object, and what to do about it when we know.
import { constants } from 'node:os';
import { describeEntry, type EntryType } from './devshm';

/** A failed operation on an IPC object. */
export class IpcError extends Error {
  override readonly name = 'IpcError';
  constructor(
    /** errno name, e.g. "EACCES"; also ENOADDON when the native module is missing. */
    readonly code: string,
    /** errno number (0 when not from a system call). */
    readonly errno: number,
    /** The call that failed, e.g. "shmat" or "semtimedop". */
    readonly syscall: string,
    message: string,
    /** The native message ("shmat: Permission denied"), for the log. */
    readonly detail: string = '',
  ) {
    super(message);
  }
}

/** What the caller was doing, for the sentence: "attaching", "reading", "waiting on", … */
export interface ErrorContext {
  action: string;
  /** How users name the object: "segment 32770", "semaphore set 5", "/ring". */
  object: string;
  /** Extra facts for permission errors: "mode 0600, owner alice". Called only when needed. */
  owner?: () => string | undefined;
  /** For waits: how long we waited. */
  timeoutMs?: number;
}

interface NativeError {
  code: string;
  errno?: number;
  syscall?: string;
  message: string;
  /** Set by the addon when a /dev/shm name is not a regular file. */
  fileType?: EntryType;
  linkTarget?: string;
}

function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

const errnoNumber = (code: string): number => (constants.errno as Record<string, number>)[code] ?? 0;

/**
 * The detail of an addon message "<syscall>: <strerror> (<detail>)"; the syscall may hold
 * parentheses ("semctl(IPC_STAT)"), strerror texts hold none.
 */
function nativeDetail(message: string): string | undefined {
  const colon = message.indexOf(': ');
  const open = colon < 0 ? -1 : message.indexOf(' (', colon);
  return open >= 0 && message.endsWith(')') ? message.slice(open + 2, -1) : undefined;
}

/** The user's sentence for an errno in a context. */
export function sentence(code: string, ctx: ErrorContext, nativeMessage = ''): string {
  const { action, object } = ctx;
  const detail = nativeDetail(nativeMessage);
  // The addon's own sentence about the object ("/g is 0 bytes, too small for a semaphore …").
  const name = object.slice(object.lastIndexOf(' ') + 1);
  const own = detail?.startsWith(`${name} `) ? `${object}${detail.slice(name.length)}` : undefined;
  switch (code) {
    case 'EACCES':
    case 'EPERM': {
      const who = ctx.owner?.();
      return `permission denied ${action} ${object}${who ? ` (${who})` : ''}`;
    }
    case 'ENOENT':
      return `${object} does not exist`;
    case 'EINVAL':
      return own ?? `${object} does not exist or cannot be used this way (${action})`;
    case 'EFAULT':
    case 'EOVERFLOW':
      return own ?? `${action} ${object} failed (${code})`;
    case 'EIDRM':
      return `${object} was removed while ${action} it`;
    case 'EEXIST':
      return `${object} already exists`;
    case 'ERANGE':
      // The addon's bounds errors carry the whole story ("offset 4090 length 10 is outside …").
      return detail?.includes(' is outside ') ? detail : `${action} ${object} would go out of range (a semaphore holds 0 to 32767)`;
    case 'EROFS':
      return `${object} is open read-only: open it read-write to change it`;
    case 'ETIMEDOUT':
      return `timed out after ${ctx.timeoutMs ?? '?'} ms ${action} ${object}`;
    case 'ECANCELED':
      return `cancelled ${action} ${object}`;
    case 'ENOSPC':
      return `the system limit is reached ${action} ${object} (see the kernel limits: shmmni, semmni, msgmni, …)`;
    case 'ENOMEM':
      return `not enough memory ${action} ${object}`;
    case 'ENOMSG':
      return `${object} has no such message`;
    case 'ENOSYS':
      return `this kernel cannot do it ${action} ${object} (built without the needed option)`;
    case 'EAGAIN':
      return `${object} is full or busy (${action})`;
    case 'EBADF':
      return `${object} is closed`;
    case 'ENAMETOOLONG':
      return `the name of ${object} is too long`;
    default:
      return `${action} ${object} failed: ${nativeMessage || code}`;
  }
}

/** Converts whatever a native call threw into an IpcError for this context. */
export function toIpcError(e: unknown, ctx: ErrorContext): IpcError {
  if (e instanceof IpcError) return e;
  if (isNativeError(e)) {
    const syscall = e.syscall ?? ctx.action;
    // open(2) refusing a name for what it is: sem_open of /dev/shm/sem.X that is a directory
    // (EISDIR) or a socket (ENXIO) says so as the FIFO case does, not as a raw errno.
    const fileType = e.fileType ?? (/open$/.test(syscall) ? (e.code === 'EISDIR' ? 'directory' : e.code === 'ENXIO' ? 'socket' : undefined) : undefined);
    if (fileType) {
      const what = `${ctx.object} is not ${ctx.object.startsWith('POSIX semaphore') ? 'a semaphore' : 'a shared memory object'}`;
      return new IpcError(e.code, e.errno ?? errnoNumber(e.code), syscall, `${what}: it is ${describeEntry(fileType, e.linkTarget)}`, e.message);
    }
    return new IpcError(e.code, e.errno ?? errnoNumber(e.code), syscall, sentence(e.code, ctx, e.message), e.message);
  }
  if (e instanceof TypeError) {
    return new IpcError('EINVAL', errnoNumber('EINVAL'), ctx.action, `${action(ctx)}: ${e.message}`, e.message);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new IpcError('EIO', errnoNumber('EIO'), ctx.action, `${action(ctx)} failed: ${message}`, message);
}

const action = (ctx: ErrorContext) => `${ctx.action} ${ctx.object}`;

/**
 * Runs a native call, rethrowing its failure as an IpcError in this context. The context may be a
 * function, so that hot paths (a semaphore post) build it only when something failed.
 */
export function native<T>(ctx: ErrorContext | (() => ErrorContext), call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw toIpcError(e, typeof ctx === 'function' ? ctx() : ctx);
  }
}

/** An IpcError made by TypeScript (not from a system call), e.g. a bad target string. */
export function userError(code: string, syscall: string, message: string): IpcError {
  return new IpcError(code, errnoNumber(code), syscall, message);
}
