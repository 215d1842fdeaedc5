// The inspector feature: one tab per object (reused when opened again), read-write after
// confirmation, snapshots, peeked messages; its commands are in commands.ts, the editors VS Code
// manages (.shmsnap files, tabs restored after a reload) in editors.ts.
import * as vscode from 'vscode';
import * as ipc from '../ipc';
import { log } from '../platform/log';
import { compileSchema } from '../shared/schema';
import { schemaIncludePath } from '../lsp/client';
import { schemaFiles, schemaText } from './binding';
import { bindFromDebugInfo, checkDebugInfo, debugInfoDescription, type DebugInfo } from './debuginfo';
import { SnapshotFileSource } from './files';
import { objectLabel } from '../explorer/model';
import { wrapCommand } from '../platform/register';
import * as commands from './commands';
import * as editors from './editors';
import { InspectorPanel, type PanelOptions } from './panel';
import { activateRecording } from './recording';
import { activateReplay, type Registrar } from './replay';
import type { InspectorSource } from './session';
import { activateWatch } from './watch';

let ctx: vscode.ExtensionContext | undefined;

/** A quick pick of every shm segment and POSIX shm object, searchable by key, id and name. */
export async function pickTarget(): Promise<ipc.Target | undefined> {
  const listing = await ipc.list();
  type Item = vscode.QuickPickItem & { target: ipc.Target };
  const items: Item[] = [
    ...listing.shm.map((r): Item => ({
      label: `$(database) key ${ipc.hexKey(r.key)}  id ${r.id}`,
      description: `${r.size} bytes · nattch ${r.nattch} · ${r.user}`,
      detail: r.orphan ? 'orphan: nothing attached and its creator is gone' : undefined,
      target: { kind: 'shm', id: r.id },
    })),
    ...listing.posixShm.map((r): Item => ({
      label: `$(file-binary) ${objectLabel(r)}`,
      description: `${r.size} bytes · ${r.user}`,
      target: ipc.targetOf(r)!, // an unlinked one by its inode
    })),
    ...[...listing.memfd, ...listing.anon, ...listing.file].map((r): Item => ({
      label: `$(${r.kind === 'memfd' ? 'file-symlink-file' : r.kind === 'anon' ? 'circuit-board' : 'file'}) ${objectLabel(r)}`,
      description: `${r.kind} · ${r.size} bytes · ${r.attachedBy.length} mapping(s) · ${r.user}`,
      target: r.kind === 'file' ? { kind: 'file', path: r.path } : { kind: r.kind, id: r.id },
    })),
    ...[...listing.posixSem.filter((r) => r.unlinked), ...listing.ring].map((r): Item => ({
      label: `$(${r.kind === 'ring' ? 'sync' : 'symbol-constant'}) ${objectLabel(r)}`,
      description: r.kind === 'ring' ? `ring · ${r.size} bytes · read-only` : 'unlinked POSIX semaphore',
      target: ipc.targetOf(r)!,
    })),
  ];
  if (items.length === 0) {
    void vscode.window.showInformationMessage('There are no shared memory segments or POSIX shared memory objects to inspect.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(items, { title: 'Open Inspector', placeHolder: 'Segment key, id or POSIX name', matchOnDescription: true });
  return pick?.target;
}

function need(): { context: vscode.ExtensionContext } {
  if (!ctx) throw new Error('the inspector is not activated');
  return { context: ctx };
}

/** Opens (or reveals) the inspector tab of a live object. */
export async function openInspector(target: ipc.Target, readWrite: boolean, openedAt?: number): Promise<InspectorPanel> {
  const { context } = need();
  const key = ipc.formatTarget(target);
  const existing = InspectorPanel.get(key);
  if (existing && (!readWrite || !existing.session.readOnly)) {
    existing.reveal();
    return existing;
  }
  const source = await ipc.openObject(target, { readWrite });
  if (existing) {
    // Read-write asked for an object open read-only: the same tab takes the read-write handle.
    existing.upgrade(source);
    existing.reveal();
    return existing;
  }
  return InspectorPanel.create(context, { ...liveOptions(target, source), ...(openedAt !== undefined ? { openedAt } : {}) });
}

/** How a tab shows a live object: keyed by its target, named as users name it, bound by its identity. */
export function liveOptions(target: ipc.Target, source: ipc.ShmHandle): PanelOptions {
  const key = ipc.formatTarget(target);
  let identity: ReturnType<typeof ipc.schemaIdentity>;
  try {
    identity = ipc.schemaIdentity(target, source);
  } catch (e) {
    log.warn(`inspector ${key}: no key to bind a schema by: ${(e as Error).message}`);
  }
  return { key, target: key, title: ipc.describeTarget(target), source, live: true, ...(identity ? { identity } : {}) };
}

/**
 * What a snapshot tab names itself (and saves for a reload): not `file:PATH`, which is a live file
 * region, so that a restored region tab is never opened as a snapshot file (nor the reverse).
 */
export const SNAPSHOT_PREFIX = 'snapshot:';

/** How a tab shows a snapshot file (read-only, not live). */
export function snapshotOptions(path: string, key = `${SNAPSHOT_PREFIX}${path}`): PanelOptions {
  const source = new SnapshotFileSource(path);
  return { key, target: `${SNAPSHOT_PREFIX}${path}`, title: `${path.split('/').pop()} (${source.header.target}, ${source.header.time})`, source, live: false };
}

/**
 * A one-choice quick pick whose entries may change while it is open (`later`: the items once a
 * look-up ends); resolves to the chosen entry, undefined when dismissed.
 */
function pickWhileLooking<T extends vscode.QuickPickItem>(items: T[], o: { title: string; placeholder: string }, later?: Promise<T[]>): Promise<T | undefined> {
  const qp = vscode.window.createQuickPick<T>();
  qp.title = o.title;
  qp.placeholder = o.placeholder;
  // ignoreFocusOut: or the webview taking the focus back would close it at once.
  qp.ignoreFocusOut = true;
  qp.items = items;
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: T | undefined) => {
      if (done) return;
      done = true;
      resolve(v);
      qp.dispose();
    };
    qp.onDidAccept(() => finish(qp.selectedItems[0] ?? qp.activeItems[0]));
    qp.onDidHide(() => finish(undefined));
    later?.then((next) => {
      if (!done) qp.items = next;
    }, () => undefined);
    qp.show();
  });
}

/**
 * Asks which schema (a workspace .shms file, one browsed to, or one written from the debug
 * information of a process that maps the object) and which type decodes the tab.
 */
export async function pickBinding(p: InspectorPanel): Promise<{ file: vscode.Uri; type?: string } | 'unbind' | undefined> {
  type Item = vscode.QuickPickItem & { file?: vscode.Uri; browse?: boolean; unbind?: boolean; debug?: boolean };
  const files = await schemaFiles();
  const items: Item[] = files.map((f) => ({ label: `$(symbol-structure) ${vscode.workspace.asRelativePath(f)}`, file: f }));
  items.push({ label: '$(folder-opened) Browse…', browse: true, description: 'a .shms file outside the workspace' });
  // A live object's mapping processes are asked for their types while the pick is open.
  const check = p.options.live ? checkDebugInfo(p.options.target) : undefined;
  const debugItem = (info?: DebugInfo): Item => ({ label: "$(debug) From the attached process's debug information…", description: debugInfoDescription(info), debug: true });
  if (check) items.push(debugItem());
  if (p.bound) items.push({ label: '$(close) Unbind', unbind: true, description: `stop decoding with ${p.session.schema?.label ?? 'the schema'}` });
  const later = check?.result.then((info) => items.map((i) => (i.debug ? debugItem(info) : i)), (e: unknown) => items.map((i) => (i.debug ? { ...i, description: `unavailable: ${(e as Error).message}` } : i)));
  const pick = await pickWhileLooking(items, { title: `Bind Schema to ${p.options.title}`, placeholder: files.length ? 'A schema file of the workspace' : 'No .shms files in the workspace: browse for one' }, later);
  if (!pick?.debug) check?.cancel();
  if (!pick) return undefined;
  if (pick.unbind) return 'unbind';
  if (pick.debug && check) return bindFromDebugInfo(p.options.title, check);
  let file = pick.file;
  if (pick.browse) {
    const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'shmscope schema': ['shms'] }, title: 'Bind Schema' });
    file = chosen?.[0];
  }
  if (!file) return undefined;
  const schema = compileSchema(await schemaText(file), file.toString(), { includePath: schemaIncludePath() });
  const types: (vscode.QuickPickItem & { type: string })[] = [
    ...schema.segments.map((t) => ({ label: `$(symbol-namespace) ${t.name}`, description: t.segment?.binding ? `segment for ${t.segment.binding.kind} ${typeof t.segment.binding.value === 'number' && t.segment.binding.kind === 'key' ? ipc.hexKey(t.segment.binding.value) : t.segment.binding.value}` : 'segment', detail: `${t.size} bytes`, type: t.name })),
    ...schema.structs.filter((t) => !t.segment && !t.name.startsWith('(')).map((t) => ({ label: `$(symbol-struct) ${t.name}`, description: t.union ? 'union' : 'struct', detail: `${t.size} bytes at offset 0`, type: t.name })),
  ];
  if (types.length === 0) throw new Error(`${vscode.workspace.asRelativePath(file)} declares no segment or struct to decode with`);
  if (types.length === 1) return { file, type: types[0]!.type };
  // A second step: ignoreFocusOut, or the webview taking the focus back would close it at once.
  const t = await vscode.window.showQuickPick(types, { title: `Bind ${vscode.workspace.asRelativePath(file)}: which type lies at offset 0?`, matchOnDescription: true, ignoreFocusOut: true });
  return t ? { file, type: t.type } : undefined;
}

/** Opens bytes that are not a live object (a peeked message), read-only, in an inspector tab. */
export function openBytes(key: string, title: string, bytes: Uint8Array): InspectorPanel {
  const { context } = need();
  InspectorPanel.get(key)?.dispose();
  const copy = bytes.slice();
  const source: InspectorSource = {
    readOnly: true,
    size: copy.length,
    read: (offset, length) => copy.subarray(Math.min(offset, copy.length), Math.min(copy.length, offset + length)),
    write: () => {
      throw Object.assign(new Error(`${title} is read-only`), { code: 'EROFS' });
    },
    close: () => undefined,
  };
  return InspectorPanel.create(context, { key, target: key, title, source, live: false });
}

/** Opens a snapshot file read-only. */
export function openSnapshot(path: string): InspectorPanel {
  const { context } = need();
  const existing = InspectorPanel.get(`${SNAPSHOT_PREFIX}${path}`);
  if (existing) {
    existing.reveal();
    return existing;
  }
  return InspectorPanel.create(context, snapshotOptions(path));
}

export function activePanel(): InspectorPanel {
  const p = InspectorPanel.active();
  if (!p) throw new Error('Open an inspector first (Shared Memory: Open Inspector).');
  return p;
}

export async function pickSnapshot(title: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'shmscope snapshot': ['shmsnap'] }, title });
  return picked?.[0]?.fsPath;
}

/** Registers the inspector's commands and editors. Called once from extension.ts. */
export function activate(context: vscode.ExtensionContext): void {
  ctx = context;
  commands.activate(context);
  editors.activate(context);
  const command: Registrar = (id, what, body) => wrapCommand(id, what, body);
  activateReplay(context, log, command);
  activateRecording(context, log, command);
  activateWatch(context, log, command);
}
