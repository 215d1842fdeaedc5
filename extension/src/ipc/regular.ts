// Files shmscope reads that someone else may have named: a schema, an #include, a snapshot, a
// recording. Only regular files are read, opened with O_NONBLOCK (a FIFO named x.shmsnap must not
// park the thread in open), and a size limit counts the bytes actually read: `stat` says 0 for
// /proc/self/pagemap, whose read never ends, so it is never trusted for a bound.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { describeEntry, entryType } from './devshm';

/** Why a file was not read: a sentence without the path, and the errno-like code. */
export class FileRefused extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/** Opens `path` for reading if it is a regular file (symbolic links followed); the caller closes the fd. */
export function openRegularFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new FileRefused(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENXIO' ? 'it is a FIFO or socket with no other end, not a regular file' : (e as Error).message, code);
  }
  try {
    const type = entryType(fstatSync(fd));
    if (type) throw new FileRefused(`it is ${describeEntry(type)}, not a regular file`, 'EINVAL');
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

const mib = (n: number) => (n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n} bytes`);

/**
 * Reads at most `limit` bytes of an open fd from offset 0; more than that is refused, whatever
 * `stat` said. `stat`'s size is only a hint for the first buffer (one allocation for an honest
 * file); a file that grows past it doubles the buffer, never past the limit.
 */
export function readBounded(fd: number, limit: number): Buffer {
  const CHUNK = 1 << 20;
  const hint = Math.min(fstatSync(fd).size, limit);
  // A file with a size (a header, a schema): that and a page, read in one call, so that a
  // thousand small includes do not cost a MiB each. One that says 0 (/proc): whole MiB reads
  // (some /proc files take only aligned sizes).
  const step = hint > 0 ? 4096 : CHUNK;
  let buf = Buffer.allocUnsafe(hint + step);
  let total = 0;
  for (;;) {
    if (buf.length - total < step) {
      const bigger = Buffer.allocUnsafe(Math.min(Math.max(buf.length * 2, total + CHUNK), limit + CHUNK));
      buf.copy(bigger, 0, 0, total);
      buf = bigger;
    }
    let n: number;
    try {
      n = readSync(fd, buf, total, step === CHUNK ? CHUNK : buf.length - total, total);
    } catch (e) {
      throw new FileRefused(`reading it failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, (e as NodeJS.ErrnoException).code ?? 'EIO');
    }
    if (n === 0) break;
    total += n;
    if (total > limit) throw new FileRefused(`it has more than the ${mib(limit)} allowed`, 'EFBIG');
  }
  return buf.subarray(0, total);
}

/** The whole of a regular file of at most `limit` bytes (counted as read). */
export function readRegular(path: string, limit: number): Buffer {
  const fd = openRegularFile(path);
  try {
    return readBounded(fd, limit);
  } finally {
    closeSync(fd);
  }
}
