// What the commands of every object kind share: the deps they are given, the record of a target.
import type { ExplorerProvider } from '../explorer';
import * as ipc from '../ipc';
import type { Target } from '../ipc/target';
import type { IpcRecord, NamespaceRef } from '../ipc/types';

export interface CommandDeps {
  provider: ExplorerProvider;
}

/** The object a command argument names (a tree node from a menu, a Target, "sem:5"), or a sentence why not. */
export function targetFromArg(arg: unknown): Target {
  const t = ipc.targetOf(arg);
  if (t) return t;
  throw new ipc.IpcError('EINVAL', 0, 'command', 'select an object in the Shared Memory explorer first');
}

/**
 * The freshest record for a target: the last listing, else (or with `fresh`) a new listing of the
 * target's kind only. A System V queue's or set's record then costs one read of /proc/sysvipc, not
 * the machine-wide scan of every process's maps that a full listing does (0.5–0.9 s against
 * 0.2 ms at load average 20 here, and it grows with the machine's processes).
 */
export async function recordOf(provider: ExplorerProvider, t: Target, fresh = false): Promise<IpcRecord | undefined> {
  const find = (l: ipc.Listing | undefined) => {
    if (!l) return undefined;
    const all: IpcRecord[] = [...l.shm, ...l.sem, ...l.msg, ...l.posixShm, ...l.posixSem, ...l.posixMq, ...l.memfd, ...l.anon, ...l.file, ...l.ring];
    // The record whose target is this one (its one identity: an id, a name, a path, an inode, a mapping).
    const want = ipc.formatTarget(t);
    return all.find((r) => {
      const rt = ipc.targetOf(r);
      return rt !== undefined && ipc.formatTarget(rt) === want;
    });
  };
  const listOne = async () => find(await ipc.list([ipc.kindOfTarget(t)]));
  if (fresh) return listOne();
  return find(provider.listing) ?? listOne();
}

/** A record of another IPC namespace, with the namespace it lives in. */
export type NamespacedRecord = IpcRecord & { namespace: NamespaceRef };

/**
 * The record of another namespace's tree item, else undefined. Its ids repeat ours, so it is never
 * looked up by target: commands that act on it go through the namespace (namespaces.ts).
 */
export function namespacedRecord(arg: unknown): NamespacedRecord | undefined {
  if (typeof arg !== 'object' || arg === null || !('type' in arg) || arg.type !== 'object' || !('record' in arg)) return undefined;
  const r = arg.record;
  return typeof r === 'object' && r !== null && 'namespace' in r ? (r as NamespacedRecord) : undefined;
}
