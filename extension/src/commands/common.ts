// What the commands of every object kind share: the deps they are given, the record of a target.
import type { ExplorerProvider } from '../explorer';
import * as ipc from '../ipc';
import type { Target } from '../ipc/target';
import type { IpcRecord } from '../ipc/types';

export interface CommandDeps {
  provider: ExplorerProvider;
}

/** The object a command argument names (a tree node from a menu, a Target, "sem:5"), or a sentence why not. */
export function targetFromArg(arg: unknown): Target {
  const t = ipc.targetOf(arg);
  if (t) return t;
  throw new ipc.IpcError('EINVAL', 0, 'command', 'select an object in the Shared Memory explorer first');
}

/** The freshest record for a target: the last listing, else a new one. */
export async function recordOf(provider: ExplorerProvider, t: Target, fresh = false): Promise<IpcRecord | undefined> {
  const find = (l: ipc.Listing | undefined) => {
    if (!l) return undefined;
    const all: IpcRecord[] = [...l.shm, ...l.sem, ...l.msg, ...l.posixShm, ...l.posixSem, ...l.posixMq];
    return all.find((r) => r.kind === t.kind && ('name' in t ? 'name' in r && r.name === t.name : r.id === t.id));
  };
  if (fresh) return find(await ipc.list());
  return find(provider.listing) ?? find(await ipc.list());
}
