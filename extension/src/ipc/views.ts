// Where processes map an object, address by address: the views that turn a process address into
// an offset and flag absolute pointers stored in a segment (shared/address.ts). From
// /proc/PID/maps, read natively off the JS thread.
import type { ProcessView } from '../shared/address';
import { binding } from './native';
import { scanMaps } from './procfs';
import { parseTarget, type Target } from './target';

const SYSV = /^\/SYSV[0-9a-f]{8}(?: \(deleted\))?$/;

/** Every mapping of a System V segment or POSIX shm object by the processes we may read. */
export async function processViews(target: Target | string): Promise<ProcessView[]> {
  const t = typeof target === 'string' ? parseTarget(target, 'shm') : target;
  if (t.kind !== 'shm' && t.kind !== 'posix-shm') return [];
  const scan = await scanMaps();
  const pids = t.kind === 'shm' ? scan.sysv.get(t.id) ?? [] : scan.devShm.get(t.name.slice(1)) ?? [];
  const views: ProcessView[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      let maps;
      try {
        maps = await binding().mapsOf(pid, 1000);
      } catch {
        return; // ended meanwhile, or not ours to read
      }
      for (const m of maps) {
        const hit = t.kind === 'shm' ? SYSV.test(m.path) && m.inode === t.id : m.path.replace(/ \(deleted\)$/, '') === `/dev/shm${t.name}`;
        if (hit) views.push({ pid, start: m.start, end: m.end, offset: m.offset });
      }
    }),
  );
  return views.sort((a, b) => a.pid - b.pid || (a.start < b.start ? -1 : 1));
}
