// What an entry of /dev/shm is when it is not a shared memory object. Anyone may create a FIFO, a
// socket, a directory or a symbolic link there (to /etc/shadow, say); the listing leaves such
// entries out with a note, and opening one is refused, both with the sentence made here.
import type { Stats } from 'node:fs';

/** The kinds of entry that are not regular files, as the addon names them (`fileType`). */
export type EntryType = 'symlink' | 'fifo' | 'socket' | 'directory' | 'char-device' | 'block-device' | 'other';

/** The entry's type from lstat, or undefined for a regular file. */
export function entryType(st: Stats): EntryType | undefined {
  if (st.isFile()) return undefined;
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isDirectory()) return 'directory';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'other';
}

/** The same from st_mode (the addon's listing hands over modes, not Stats). */
export function entryTypeOfMode(mode: number): EntryType | undefined {
  switch (mode & 0o170000) {
    case 0o100000: return undefined;
    case 0o120000: return 'symlink';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    case 0o040000: return 'directory';
    case 0o020000: return 'char-device';
    case 0o060000: return 'block-device';
    default: return 'other';
  }
}

const NAMES: Record<EntryType, string> = {
  symlink: 'a symbolic link',
  fifo: 'a FIFO (named pipe)',
  socket: 'a socket',
  directory: 'a directory',
  'char-device': 'a character device',
  'block-device': 'a block device',
  other: 'not a regular file',
};

/** "a symbolic link to /etc/shadow", "a FIFO (named pipe)". */
export function describeEntry(type: EntryType, linkTarget?: string): string {
  return type === 'symlink' && linkTarget !== undefined ? `${NAMES.symlink} to ${linkTarget}` : NAMES[type];
}

/** The listing's note for an entry it leaves out. `what` is "shared memory object" or "semaphore". */
export function notAnObjectNote(file: string, type: EntryType, linkTarget?: string): string {
  const what = file.startsWith('sem.') ? 'semaphore' : 'shared memory object';
  return `/dev/shm/${file} is not a ${what} (${describeEntry(type, linkTarget)}): left out`;
}
