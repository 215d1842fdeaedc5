// Commands on the objects of another IPC namespace (a container): open a copy of a segment, and
// remove an object from inside its namespace. Their ids repeat ours, so they are never looked up
// by target: each takes the tree node (its record names the namespace).
import * as vscode from 'vscode';
import type { ExplorerProvider } from '../explorer';
import { openBytes } from '../inspector';
import * as ipc from '../ipc';
import { log } from '../platform/log';
import { escapeControl } from '../shared/escape';
import { namespacedRecord, type CommandDeps, type NamespacedRecord } from './common';
import { registerCommand as register } from '../platform/register';

/** A copy holds at most this many bytes. */
const MAX_COPY = 256 << 20;

/** Remove… on an object of another namespace: named with its namespace, removed from inside it. */
export async function removeNamespaced(provider: ExplorerProvider, r: NamespacedRecord): Promise<boolean> {
  const where = `in namespace ${escapeControl(r.namespace.label)} (ipc ${r.namespace.ipc})`;
  const t = ipc.targetOf(r);
  const name = `${t ? ipc.describeTarget(t) : r.kind} ${where}`;
  const attached = r.kind === 'shm' ? r.nattch : 0;
  const detail = attached ? `${attached} process${attached === 1 ? ' of that namespace is' : 'es of that namespace are'} attached.` : 'No process is attached.';
  const ok = await vscode.window.showWarningMessage(`Remove ${name}?`, { modal: true, detail }, 'Remove');
  if (ok !== 'Remove') return false;
  if (r.kind === 'shm' || r.kind === 'sem' || r.kind === 'msg') await ipc.nsRemove(r.namespace.pid, r.kind, r.id);
  else if (r.kind === 'posix-shm') {
    // Inside that namespace's root, through its /dev/shm dirfd, checked to be the inode listed,
    // and with the rights of that namespace's owner (never root's over a host file).
    await ipc.nsPosixShmRemove(r.namespace.pid, r.name, r.id);
  } else throw new ipc.IpcError('EINVAL', 0, 'remove', `${name} cannot be removed`);
  log.info(`removed ${name}`);
  await provider.refresh();
  return true;
}

export function activate(context: vscode.ExtensionContext, _deps: CommandDeps): void {
  /** Another namespace's segment, copied whole by a thread that entered it, in a read-only tab (not live). */
  register(context, 'shmscope.namespace.openCopy', 'Open a Copy in the Inspector', async (arg: unknown) => {
    const r = namespacedRecord(arg);
    if (r?.kind !== 'shm') throw new ipc.IpcError('EINVAL', 0, 'open', 'select a segment of another namespace in the Shared Memory explorer first');
    if (r.size > MAX_COPY) throw new ipc.IpcError('EFBIG', 0, 'open', `segment ${r.id} of namespace ${escapeControl(r.namespace.label)} is ${r.size} bytes: a copy holds at most ${MAX_COPY}`);
    const bytes = await ipc.nsShmRead(r.namespace.pid, r.id, 0, r.size);
    const title = `segment ${r.id} in ${escapeControl(r.namespace.label).slice(0, 40)} (copy)`;
    openBytes(`ns:${r.namespace.ipc}:shm:${r.id}`, title, bytes);
    log.info(`opened a copy of segment ${r.id} of IPC namespace ${r.namespace.ipc} (${bytes.length} bytes)`);
    return { bytes: bytes.length };
  });
}
