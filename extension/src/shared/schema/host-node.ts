// The preprocessor's file access on Node (CLI, language server, extension host, tests): files are
// read once and re-checked after a while, only regular files of sane size are read (a FIFO or
// /dev/zero named in an #include must not hang; /proc/self/pagemap, 0 bytes in stat and endless in
// read, stops at the limit counted as read), and the system include folders come from the
// compiler itself (`cc -E -v`) when there is one, else the usual Linux folders.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describeEntry, entryType, type EntryType } from '../../ipc/devshm';
import { readRegular } from '../../ipc/regular';
import type { IncludeHost } from './preprocess';

/** Largest file an #include reads. */
export const MAX_INCLUDE_BYTES = 16 << 20;
const RECHECK_MS = 2000;
const DEFAULT_DIRS = ['/usr/local/include', '/usr/include/x86_64-linux-gnu', '/usr/include'];

let dirs: string[] | undefined;

/** The system include folders, as the C compiler searches them (computed once per process). */
export function systemIncludeDirs(): string[] {
  if (dirs) return dirs;
  try {
    const r = spawnSync('cc', ['-E', '-v', '-x', 'c', '/dev/null'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'ignore', 'pipe'] });
    const text = r.stderr ?? '';
    const a = text.indexOf('#include <...> search starts here:');
    const b = text.indexOf('End of search list.', a);
    if (r.status === 0 && a >= 0 && b > a) {
      const found = text.slice(a, b).split('\n').slice(1).map((l) => l.trim()).filter((l) => l.startsWith('/'));
      if (found.length) return (dirs = found);
    }
  } catch {
    // No compiler: the defaults below.
  }
  return (dirs = DEFAULT_DIRS);
}

const cache = new Map<string, { text: string | undefined; checked: number; mtime: number; size: number; why?: string }>();

function stamp(path: string): { mtime: number; size: number; ok: boolean; type?: EntryType } {
  try {
    // A missing file is the common answer (an #include looked up along the search path): no exception for it.
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return { mtime: 0, size: -1, ok: false };
    const type = entryType(st);
    return { mtime: st.mtimeMs, size: st.size, ok: !type, ...(type ? { type } : {}) };
  } catch {
    return { mtime: 0, size: -1, ok: false };
  }
}

/** Reads files for #include through a small cache. */
export const nodeIncludeHost: IncludeHost = {
  read(path: string): string | undefined {
    const now = Date.now();
    const c = cache.get(path);
    if (c && now - c.checked < RECHECK_MS) return c.text;
    const st = stamp(path);
    if (c && st.mtime === c.mtime && st.size === c.size) {
      c.checked = now;
      return c.text;
    }
    let text: string | undefined;
    let why: string | undefined;
    if (st.ok) {
      try {
        text = readRegular(path, MAX_INCLUDE_BYTES).toString('utf8');
      } catch (e) {
        why = (e as Error).message;
      }
    } else if (st.type) why = `it is ${describeEntry(st.type)}, not a regular file`;
    if (cache.size > 20_000) cache.clear();
    cache.set(path, { text, checked: now, mtime: st.mtime, size: st.size, ...(why ? { why } : {}) });
    return text;
  },
  refused: (path: string) => cache.get(path)?.why,
  systemDirs: systemIncludeDirs,
};
