// Files the CLI reads whole (a schema, a snapshot): only regular files, and only up to a stated
// size counted as read. `--schema /dev/zero` would otherwise read forever, a FIFO would block in
// open, and /proc/self/pagemap says 0 bytes in stat but never ends.
import { readRegular } from '../ipc/regular';
import { UserError } from './errors';

/** The largest schema file we read (a generated header with every struct is far below it). */
export const SCHEMA_LIMIT = 16 << 20;
/** The largest snapshot `decode --file` reads; decode the live object for more. */
export const SNAPSHOT_LIMIT = 2 ** 31 - 1;

/** Reads a regular file of at most `limit` bytes; anything else is one UserError line. */
export function readRegularFile(file: string, what: string, limit: number): Buffer {
  try {
    return readRegular(file, limit);
  } catch (e) {
    throw new UserError(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}
