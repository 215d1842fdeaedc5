// How much memory each object takes: resident, swapped and proportional (PSS) bytes, as `pmap -X`
// shows them for the processes that map it. From /proc/PID/smaps of its mappers, read by the addon
// on a thread of its own by a deadline (smaps waits on each process's memory lock); System V
// segments from /proc/sysvipc/shm's own rss and swap columns; an object nobody maps from the pages
// its file holds (tmpfs blocks, resident or swapped). No vscode import.
import { binding } from '../ipc/native';
import { readSysv } from '../ipc/procfs';
import type { IpcRecord } from '../ipc/types';

/** Bytes of an object in memory: null where nothing tells. */
export interface MemoryUse {
  /** Resident in RAM: the most any one mapper has resident, else the kernel's or the file's count. */
  resident: number | null;
  /** In swap. */
  swapped: number | null;
  /** Proportional set size summed over its mappers (each shared page split among them); null when nobody maps it. */
  pss: number | null;
}

/** How long reading every mapper's smaps may take before the rest is left unknown. */
export const SMAPS_BUDGET_MS = 2000;

/** Whether a smaps path is this record's mapping (its inode matched already). */
function pathMatches(rec: IpcRecord, path: string): boolean {
  const p = path.replace(/ \(deleted\)$/, '');
  switch (rec.kind) {
    case 'shm':
      return p.startsWith('/SYSV');
    case 'posix-shm':
    case 'posix-sem':
      return p === `/dev/shm/${rec.kind === 'posix-sem' ? `sem.${rec.name.slice(1)}` : rec.name.slice(1)}`;
    case 'memfd':
      return p.startsWith('/memfd:');
    case 'file':
      return p === rec.path;
    case 'anon':
      return true;
    default:
      return false;
  }
}

/**
 * The memory of each record that can have any (segments, POSIX objects, regions), keyed by record.
 * Reads the smaps of their mappers only, once each.
 */
export async function memoryOf(records: readonly IpcRecord[], budgetMs = SMAPS_BUDGET_MS): Promise<{ use: Map<IpcRecord, MemoryUse>; slow: number[] }> {
  const use = new Map<IpcRecord, MemoryUse>();
  const pids = new Set<number>();
  for (const r of records) if ('attachedBy' in r) for (const a of r.attachedBy) pids.add(a.pid);
  pids.delete(process.pid);
  // pid → inode → rows
  const rows = new Map<number, Map<number, { path: string; rss: number; pss: number; swap: number }[]>>();
  let slow: number[] = [];
  if (pids.size) {
    const raw = await binding().smapsOf([...pids].sort((a, b) => a - b), budgetMs);
    slow = raw.slow;
    const R = raw.rows;
    for (let i = 0; i + 5 < R.length; i += 6) {
      const pid = R[i] as number;
      const ino = R[i + 1] as number;
      let byIno = rows.get(pid);
      if (!byIno) rows.set(pid, (byIno = new Map<number, { path: string; rss: number; pss: number; swap: number }[]>()));
      const list = byIno.get(ino);
      const row = { path: R[i + 2] as string, rss: R[i + 3] as number, pss: R[i + 4] as number, swap: R[i + 5] as number };
      if (list) list.push(row);
      else byIno.set(ino, [row]);
    }
  }
  const sysv = new Map<number, { rss: number; swap: number }>();
  for (const row of readSysv('shm')) if (row.rss !== undefined) sysv.set(row.shmid!, { rss: row.rss, swap: row.swap ?? 0 });
  for (const r of records) {
    if (r.kind === 'sem' || r.kind === 'msg' || r.kind === 'posix-mq') continue;
    let resident: number | null = null;
    let swapped: number | null = null;
    let pss: number | null = null;
    for (const pid of new Set(r.attachedBy.map((a) => a.pid))) {
      const mine = rows.get(pid)?.get(r.id)?.filter((m) => pathMatches(r, m.path));
      if (!mine?.length) continue;
      let rss = 0;
      let swap = 0;
      for (const m of mine) {
        rss += m.rss;
        swap += m.swap;
        pss = (pss ?? 0) + m.pss;
      }
      resident = Math.max(resident ?? 0, rss);
      swapped = Math.max(swapped ?? 0, swap);
    }
    const k = r.kind === 'shm' && !(r as { namespace?: unknown }).namespace ? sysv.get(r.id) : undefined;
    if (k) {
      // The kernel's own count for the whole segment, mapped or not.
      resident = k.rss;
      swapped = k.swap;
    } else if (resident === null && (r.kind === 'posix-shm' || r.kind === 'posix-sem') && r.allocated !== undefined) {
      resident = r.allocated; // its tmpfs pages, in RAM or swap: nobody maps it to tell which
    }
    use.set(r, { resident, swapped, pss });
  }
  return { use, slow };
}

/** Whether a record can take memory of its own (not a semaphore set, a queue or a kernel ring). */
export function hasMemory(r: IpcRecord): boolean {
  return r.kind !== 'sem' && r.kind !== 'msg' && r.kind !== 'posix-mq' && r.kind !== 'ring';
}

/**
 * One line for a tooltip or a status bar: "resident 8 KiB · swapped 0 B · PSS 4 KiB", each part
 * "?" when nothing told it; `size` formats bytes as the view does.
 */
export function memoryText(use: MemoryUse, size: (bytes: number) => string): string {
  const part = (n: number | null) => (n === null ? '?' : size(n));
  return `resident ${part(use.resident)} · swapped ${part(use.swapped)} · PSS ${part(use.pss)}`;
}
