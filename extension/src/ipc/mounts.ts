// How full each /dev/shm is: ours and each container's own (another mount namespace), as the
// listing measured them (the addon's fstatfs on the very directory it read, by the listing's
// deadline: the figures `shmscope df` shows). A FUSE or network mount on /dev/shm is never listed
// nor asked; the listing's note says so. No vscode import.
import type { DevShmSpace, Listing, NamespaceRef } from './types';

/** One /dev/shm mount and its use; sizes in bytes. */
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
  /** Why sizes are missing. */
  why?: string;
}

/** The percent of a mount in use (0–100, rounded down to one decimal), or null when unknown. */
export function usedPercent(m: Pick<MountUse, 'size' | 'used'>): number | null {
  if (m.size === null || m.used === null || m.size <= 0) return null;
  return Math.floor((m.used / m.size) * 1000) / 10;
}

/**
 * Ours, then each namespace's own /dev/shm, from the listing's figures (`listing.devShm` and each
 * namespace's `devShm`); one that is ours (bind-mounted, the same device) is listed once.
 */
export function devShmMounts(listing: Pick<Listing, 'devShm' | 'namespaces'>): MountUse[] {
  const places: { ns: NamespaceRef | null; space: DevShmSpace | undefined }[] = [
    { ns: null, space: listing.devShm },
    ...(listing.namespaces ?? []).map((n) => ({ ns: n.namespace, space: n.devShm })),
  ];
  const seen = new Set<string>();
  const out: MountUse[] = [];
  for (const { ns, space } of places) {
    if (!space || seen.has(space.device)) continue;
    seen.add(space.device);
    out.push({ path: '/dev/shm', namespace: ns, fstype: space.type, device: space.device, size: space.size, used: space.size - space.free, available: space.available });
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
