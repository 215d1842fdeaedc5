// The CLI's one writer of standard output. Every command writes through it, so that:
// - a full pipe is waited for (a large dump or decode never piles up in memory);
// - a closed pipe (`shmscope dump … | head`) ends the command quietly with status 0;
// - any other write error (`> /dev/full`: ENOSPC, EIO, …) is one line on stderr and status 1;
// - big JSON documents stream in chunks instead of becoming one string (V8 caps a string near
//   512 MB: `decode --json` of a 600 MB object would fail with "Invalid string length").
import { once } from 'node:events';

const CHUNK = 1 << 16;

/** The sentence for a failed write of standard output. */
export function writeFailure(e: NodeJS.ErrnoException): string {
  const what: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EIO: 'an input/output error',
    EFBIG: 'the file is too large',
    EDQUOT: 'the disk quota is exceeded',
    EBADF: 'standard output is closed',
    EACCES: 'permission denied',
  };
  return `cannot write the output: ${what[e.code ?? ''] ?? e.message} (${e.code ?? 'EIO'})`;
}

let failed: ((e: NodeJS.ErrnoException) => void) | undefined;

/**
 * Routes write errors of stdout to `onError` (EPIPE is success: the reader has what it wanted).
 * main() calls it once, before any command runs.
 */
export function guardStdout(onError: (e: NodeJS.ErrnoException) => never, onEpipe: () => never): void {
  failed = (e) => (e.code === 'EPIPE' ? onEpipe() : onError(e));
  process.stdout.on('error', (e: NodeJS.ErrnoException) => failed!(e));
  // Standard error is written with process.stderr.write (one line per failure or note): when it
  // fails too (a closed pipe, a closed descriptor) nothing can be reported, and the command must
  // end rather than carry on unheard or die of an unhandled 'error' event.
  process.stderr.on('error', () => process.exit(1));
}

/** Writes to stdout, waiting while the pipe is full. */
export async function write(data: string | Uint8Array): Promise<void> {
  try {
    if (!process.stdout.write(data)) await once(process.stdout, 'drain');
  } catch (e) {
    // A synchronous stdout (a file, /dev/full) may throw here rather than emit 'error'.
    if (failed && (e as NodeJS.ErrnoException).code) failed(e as NodeJS.ErrnoException);
    throw e;
  }
}

/** Writes one line (the newline is added). */
export function line(text: string): Promise<void> {
  return write(`${text}\n`);
}

/** Writes `value` as JSON.stringify(value, null, indent) would, in chunks, followed by a newline. */
export async function json(value: unknown, indent = 2): Promise<void> {
  let buf = '';
  for (const piece of jsonPieces(value, indent, '')) {
    buf += piece;
    if (buf.length >= CHUNK) {
      await write(buf);
      buf = '';
    }
  }
  await write(`${buf}\n`);
}

/** The pieces of a JSON text, identical to JSON.stringify(value, null, indent) once joined. */
export function* jsonPieces(value: unknown, indent: number, pad: string): Generator<string> {
  const v = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function'
    ? (value as { toJSON(): unknown }).toJSON()
    : value;
  if (v === null || typeof v !== 'object') {
    yield JSON.stringify(v) ?? 'null';
    return;
  }
  const inner = pad + ' '.repeat(indent);
  const sep = indent > 0 ? `,\n${inner}` : ',';
  const open = indent > 0 ? `\n${inner}` : '';
  const close = indent > 0 ? `\n${pad}` : '';
  if (Array.isArray(v)) {
    if (v.length === 0) {
      yield '[]';
      return;
    }
    yield `[${open}`;
    for (let i = 0; i < v.length; i++) {
      if (i > 0) yield sep;
      const item: unknown = v[i];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null';
      else yield* jsonPieces(item, indent, inner);
    }
    yield `${close}]`;
    return;
  }
  const keys = Object.keys(v).filter((k) => {
    const x = (v as Record<string, unknown>)[k];
    return x !== undefined && typeof x !== 'function' && typeof x !== 'symbol';
  });
  if (keys.length === 0) {
    yield '{}';
    return;
  }
  yield `{${open}`;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) yield sep;
    yield `${JSON.stringify(keys[i])}:${indent > 0 ? ' ' : ''}`;
    yield* jsonPieces((v as Record<string, unknown>)[keys[i]!], indent, inner);
  }
  yield `${close}}`;
}
