// Files the CLI reads whole (a schema, a snapshot): only regular files, and only up to a stated
// size. `--schema /dev/zero` would otherwise read forever, and a FIFO would block in open.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { describeEntry, entryType } from '../ipc/devshm';
import { UserError } from './errors';

/** The largest schema file we read (a generated header with every struct is far below it). */
export const SCHEMA_LIMIT = 16 << 20;
/** The largest snapshot `decode --file` reads; decode the live object for more. */
export const SNAPSHOT_LIMIT = 2 ** 31 - 1;

const mib = (n: number) => `${Math.floor(n / 2 ** 20)} MiB`;

/** Reads a regular file of at most `limit` bytes; anything else is one UserError line. */
export function readRegularFile(file: string, what: string, limit: number): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; a regular file ignores it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read the ${what} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    const type = entryType(st);
    if (type) throw new UserError(`cannot read the ${what} ${file}: it is ${describeEntry(type)}, not a regular file`);
    if (st.size > limit) throw new UserError(`cannot read the ${what} ${file}: it has ${st.size} bytes, more than the ${mib(limit + 1)} a ${what} may have`);
    const buf = Buffer.alloc(st.size);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, done);
      if (n === 0) break; // shrank meanwhile
      done += n;
    }
    return done === buf.length ? buf : buf.subarray(0, done);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
