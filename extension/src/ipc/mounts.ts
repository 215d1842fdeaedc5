// How full each /dev/shm is: ours and each container's own (another mount namespace, reached
// through /proc/PID/root). The mount is found in /proc/PID/mountinfo (text the kernel writes: it
// never waits on the filesystem) and statted only when it is a memory filesystem, so a FUSE or
// NFS mount on /dev/shm is named, never asked (a stalled server would hang statfs). Each statfs
// answers by a deadline. No vscode import.
import { readFile, statfs } from 'node:fs/promises';
import type { NamespaceRef } from './types';

/** One /dev/shm mount and its use; sizes in bytes, null when not asked or not answered (`why`). */
export interface MountUse {
  path: '/dev/shm';
  /** The container (another IPC namespace) whose /dev/shm it is; null for ours. */
  namespace: NamespaceRef | null;
  fstype: string;
  /** The filesystem's device ("0:22"): two namespaces that see one tmpfs list it once. */
  device: string;
  size: number | null;
  used: number | null;
  available: number | null;
  /** Why sizes are missing ("fuse: not asked, a stalled server would hang the listing"). */
  why?: string;
}

/** Filesystems that keep their data in memory and answer statfs without asking anyone. */
const MEMORY_FS = new Set(['tmpfs', 'ramfs', 'hugetlbfs', 'devtmpfs']);

/** How long one statfs may take before its mount is reported without sizes. */
export const MOUNT_STAT_BUDGET_MS = 2000;

/** The mount covering `mountpoint` in a mountinfo text (the last listed one covers the others). */
export function findMount(mountinfo: string, mountpoint: string): { fstype: string; device: string } | undefined {
  let found: { fstype: string; device: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 2) continue;
    // Octal escapes (\040 for a space) as the kernel writes them.
    const point = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point === mountpoint) found = { fstype: f[sep + 1]!, device: f[2]! };
  }
  return found;
}

/** The percent of a mount in use (0–100, rounded down to one decimal), or null when unknown. */
export function usedPercent(m: Pick<MountUse, 'size' | 'used'>): number | null {
  if (m.size === null || m.used === null || m.size <= 0) return null;
  return Math.floor((m.used / m.size) * 1000) / 10;
}

async function statMount(dir: string, budgetMs: number): Promise<{ size: number; used: number; available: number } | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => { timer = setTimeout(() => resolve(`statfs did not answer within ${budgetMs} ms`), budgetMs); });
  try {
    return await Promise.race([
      statfs(dir).then((s) => ({ size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize }),
        (e: NodeJS.ErrnoException) => `statfs failed: ${e.code ?? e.message}`),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ours, then each namespace's own /dev/shm (one that is ours, bind-mounted, is listed once). */
export async function devShmMounts(namespaces: readonly NamespaceRef[] = [], budgetMs = MOUNT_STAT_BUDGET_MS): Promise<MountUse[]> {
  const places: { ns: NamespaceRef | null; proc: string; dir: string }[] = [
    { ns: null, proc: '/proc/self', dir: '/dev/shm' },
    ...namespaces.map((ns) => ({ ns, proc: `/proc/${ns.pid}`, dir: `/proc/${ns.pid}/root/dev/shm` })),
  ];
  const seen = new Set<string>();
  const out: MountUse[] = [];
  for (const p of places) {
    let mount: { fstype: string; device: string } | undefined;
    try {
      mount = findMount(await readFile(`${p.proc}/mountinfo`, 'utf8'), '/dev/shm');
    } catch {
      continue; // the process ended, or its mounts are not ours to read
    }
    if (!mount || seen.has(mount.device)) continue;
    seen.add(mount.device);
    const row: MountUse = { path: '/dev/shm', namespace: p.ns, fstype: mount.fstype, device: mount.device, size: null, used: null, available: null };
    if (!MEMORY_FS.has(mount.fstype)) row.why = `${mount.fstype}: not asked (only memory filesystems are statted; another may hang)`;
    else {
      const s = await statMount(p.dir, budgetMs);
      if (typeof s === 'string') row.why = s;
      else Object.assign(row, s);
    }
    out.push(row);
  }
  return out;
}

/**
 * The IPC namespaces (by inode) whose /dev/shm is a filesystem of their own. A namespace made with
 * `unshare --ipc` alone sees our /dev/shm: its POSIX objects are ours, listed twice, and judged as
 * theirs they would look unused. `mounts` as devShmMounts gives them (one row per filesystem).
 */
export function ownDevShm(mounts: readonly MountUse[]): Set<number> {
  return new Set(mounts.flatMap((m) => (m.namespace ? [m.namespace.ipc] : [])));
}
