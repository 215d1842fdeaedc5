// The inspector feature: commands that open one tab per object (reused when opened again),
// read-write sessions after confirmation, snapshots and comparison, and the settings.
import * as vscode from 'vscode';
import * as ipc from '../ipc';
import { BOOKMARK_COLORS, type Bookmark } from '../shared/protocol';
import { compileSchema } from '../shared/schema';
import { schemaIncludePath } from '../lsp/client';
import { schemaFiles, schemaText } from './binding';
import { SnapshotFileSource } from './files';
import { objectLabel } from '../explorer/model';
import { InspectorPanel } from './panel';
import { activateRecording } from './recording';
import { activateReplay } from './replay';
import { activateWatch } from './watch';
import type { InspectorSource } from './session';

let ctx: vscode.ExtensionContext | undefined;
let log: vscode.LogOutputChannel | undefined;

/** Turns a command argument into a target: a string, a Target, a record, or a tree item holding one. */
export function targetOf(arg: unknown, depth = 0): ipc.Target | undefined {
  if (typeof arg === 'string') return ipc.parseTarget(arg, 'shm');
  if (typeof arg !== 'object' || arg === null || depth > 3) return undefined;
  const o = arg as Record<string, unknown>;
  // Another namespace's object shares ids with ours: it is never opened as ours (see namespace.openCopy).
  if ('namespace' in o) return undefined;
  if (o.kind === 'shm' && typeof o.id === 'number') return { kind: 'shm', id: o.id };
  if (o.kind === 'posix-shm' && typeof o.name === 'string') return { kind: 'posix-shm', name: o.name };
  if ((o.kind === 'memfd' || o.kind === 'anon') && typeof o.id === 'number') return { kind: o.kind, id: o.id };
  if (o.kind === 'file' && typeof o.path === 'string') return { kind: 'file', path: o.path };
  for (const k of ['target', 'record', 'item', 'data']) {
    if (k in o) {
      const t = targetOf(o[k], depth + 1);
      if (t) return t;
    }
  }
  return undefined;
}

/** A quick pick of every shm segment and POSIX shm object, searchable by key, id and name. */
async function pickTarget(): Promise<ipc.Target | undefined> {
  const listing = await ipc.list();
  type Item = vscode.QuickPickItem & { target: ipc.Target };
  const items: Item[] = [
    ...listing.shm.map((r): Item => ({
      label: `$(database) key 0x${(r.key >>> 0).toString(16).padStart(8, '0')}  id ${r.id}`,
      description: `${r.size} bytes · nattch ${r.nattch} · ${r.user}`,
      detail: r.orphan ? 'orphan: nothing attached and its creator is gone' : undefined,
      target: { kind: 'shm', id: r.id },
    })),
    ...listing.posixShm.map((r): Item => ({
      label: `$(file-binary) ${r.name}`,
      description: `${r.size} bytes · ${r.user}`,
      target: { kind: 'posix-shm', name: r.name },
    })),
    ...[...listing.memfd, ...listing.anon, ...listing.file].map((r): Item => ({
      label: `$(${r.kind === 'memfd' ? 'file-symlink-file' : r.kind === 'anon' ? 'circuit-board' : 'file'}) ${objectLabel(r)}`,
      description: `${r.kind} · ${r.size} bytes · ${r.attachedBy.length} mapping(s) · ${r.user}`,
      target: r.kind === 'file' ? { kind: 'file', path: r.path } : { kind: r.kind, id: r.id },
    })),
  ];
  if (items.length === 0) {
    void vscode.window.showInformationMessage('There are no shared memory segments or POSIX shared memory objects to inspect.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(items, { title: 'Open Inspector', placeHolder: 'Segment key, id or POSIX name', matchOnDescription: true });
  return pick?.target;
}

function need(): { context: vscode.ExtensionContext; log: vscode.LogOutputChannel } {
  if (!ctx || !log) throw new Error('the inspector is not activated');
  return { context: ctx, log };
}

/** Opens (or reveals) the inspector tab of a live object. */
export async function openInspector(target: ipc.Target, readWrite: boolean): Promise<InspectorPanel> {
  const { context, log: out } = need();
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
  let identity: ReturnType<typeof ipc.schemaIdentity>;
  try {
    identity = ipc.schemaIdentity(target, source);
  } catch (e) {
    out.warn(`inspector ${key}: no key to bind a schema by: ${(e as Error).message}`);
  }
  return InspectorPanel.create(context, out, { key, target: key, title: ipc.describeTarget(target), source, live: true, ...(identity ? { identity } : {}) });
}

/** Asks which schema (a workspace .shms file, or one browsed to) and which type decodes the tab. */
async function pickBinding(p: InspectorPanel): Promise<{ file: vscode.Uri; type?: string } | 'unbind' | undefined> {
  type Item = vscode.QuickPickItem & { file?: vscode.Uri; browse?: boolean; unbind?: boolean };
  const files = await schemaFiles();
  const items: Item[] = files.map((f) => ({ label: `$(symbol-structure) ${vscode.workspace.asRelativePath(f)}`, file: f }));
  items.push({ label: '$(folder-opened) Browse…', browse: true, description: 'a .shms file outside the workspace' });
  if (p.bound) items.push({ label: '$(close) Unbind', unbind: true, description: `stop decoding with ${p.session.schema?.label ?? 'the schema'}` });
  const pick = await vscode.window.showQuickPick(items, { title: `Bind Schema to ${p.options.title}`, placeHolder: files.length ? 'A schema file of the workspace' : 'No .shms files in the workspace: browse for one', ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.unbind) return 'unbind';
  let file = pick.file;
  if (pick.browse) {
    const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'shmscope schema': ['shms'] }, title: 'Bind Schema' });
    file = chosen?.[0];
  }
  if (!file) return undefined;
  const schema = compileSchema(await schemaText(file), file.toString(), { includePath: schemaIncludePath() });
  const types: (vscode.QuickPickItem & { type: string })[] = [
    ...schema.segments.map((t) => ({ label: `$(symbol-namespace) ${t.name}`, description: t.segment?.binding ? `segment for ${t.segment.binding.kind} ${typeof t.segment.binding.value === 'number' && t.segment.binding.kind === 'key' ? `0x${(t.segment.binding.value >>> 0).toString(16)}` : t.segment.binding.value}` : 'segment', detail: `${t.size} bytes`, type: t.name })),
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
  const { context, log: out } = need();
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
  return InspectorPanel.create(context, out, { key, target: key, title, source, live: false });
}

/** Opens a snapshot file read-only. */
export function openSnapshot(path: string): InspectorPanel {
  const { context, log: out } = need();
  const key = `file:${path}`;
  const existing = InspectorPanel.get(key);
  if (existing) {
    existing.reveal();
    return existing;
  }
  const source = new SnapshotFileSource(path);
  return InspectorPanel.create(context, out, { key, target: key, title: `${path.split('/').pop()} (${source.header.target}, ${source.header.time})`, source, live: false });
}

function activePanel(): InspectorPanel {
  const p = InspectorPanel.active();
  if (!p) throw new Error('Open an inspector first (Shared Memory: Open Inspector).');
  return p;
}

/** Runs a command body; a failure is shown to the user and logged, never thrown into the host. */
function command<A extends unknown[], R>(name: string, body: (...args: A) => Promise<R> | R): vscode.Disposable {
  return vscode.commands.registerCommand(name, async (...args: A) => {
    try {
      return await body(...args);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      log?.error(`${name}: ${msg}${e instanceof ipc.IpcError ? ` (${e.code}, ${e.syscall})` : ''}`);
      void vscode.window.showErrorMessage(msg);
      return undefined;
    }
  });
}

async function pickSnapshot(title: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'shmscope snapshot': ['shmsnap'] }, title });
  return picked?.[0]?.fsPath;
}

/** Registers the inspector's commands. Called once from extension.ts. */
export function activate(context: vscode.ExtensionContext, output?: vscode.LogOutputChannel): void {
  ctx = context;
  log = output ?? vscode.window.createOutputChannel('shmscope Inspector', { log: true });
  if (!output) context.subscriptions.push(log);
  activateReplay(context, log, command);
  activateRecording(context, log, command);
  activateWatch(context, log, command);
  context.subscriptions.push(
    command('shmscope.openInspector', async (arg?: unknown) => {
      const t = arg === undefined ? await pickTarget() : targetOf(arg);
      if (!t) {
        if (arg !== undefined) throw new Error('Open Inspector works on a shared memory segment or POSIX shared memory object.');
        return undefined;
      }
      const p = await openInspector(t, false);
      return { target: p.options.target };
    }),
    command('shmscope.openInspectorReadWrite', async (arg?: unknown, opts?: { confirmed?: boolean }) => {
      const t = arg === undefined ? await pickTarget() : targetOf(arg);
      if (!t) {
        if (arg !== undefined) throw new Error('Open Read-Write works on a shared memory segment or POSIX shared memory object.');
        return undefined;
      }
      if (opts?.confirmed !== true) {
        const ok = await vscode.window.showWarningMessage(
          `Open ${ipc.describeTarget(t)} read-write?`,
          { modal: true, detail: 'Bytes you type are written into the live object at once, where running programs read them. Undo restores the previous bytes.' },
          'Open Read-Write',
        );
        if (ok !== 'Open Read-Write') return undefined;
      }
      const p = await openInspector(t, true);
      return { target: p.options.target };
    }),
    command('shmscope.inspector.goToOffset', (offset?: number | string) => {
      const p = activePanel();
      if (offset === undefined) {
        p.reveal();
        p.post({ type: 'show', what: 'goto' });
        return;
      }
      const n = typeof offset === 'number' ? offset : ipc.parseNumber(offset);
      if (n === undefined && typeof offset === 'string' && p.session.schema) {
        const f = p.session.resolveField(offset);
        p.post({ type: 'reveal', offset: f.offset, length: f.length });
        return { offset: f.offset, length: f.length, path: f.path };
      }
      if (n === undefined || !Number.isSafeInteger(n) || n < 0 || n >= Math.max(1, p.session.size)) throw new Error(`${offset} is not an offset inside ${p.options.title}`);
      p.post({ type: 'reveal', offset: n, length: 1 });
      return { offset: n, length: 1 };
    }),
    command('shmscope.inspector.bindSchema', async (file?: string | vscode.Uri, type?: string) => {
      const p = activePanel();
      if (file === '') {
        await p.bindByHand(undefined);
        return { bound: p.session.schema?.label };
      }
      const picked = file !== undefined ? { file: typeof file === 'string' ? vscode.Uri.file(file) : file, ...(type ? { type } : {}) } : await pickBinding(p);
      if (!picked) return undefined;
      await p.bindByHand(picked === 'unbind' ? undefined : picked);
      return { bound: p.session.schema?.label };
    }),
    command('shmscope.inspector.addBookmark', async (b?: Partial<Bookmark>) => {
      const p = activePanel();
      if (b && typeof b.name === 'string' && typeof b.offset === 'number') {
        const color = BOOKMARK_COLORS.includes(b.color as never) ? b.color! : 'blue';
        await p.addBookmark({ name: b.name, offset: b.offset, length: b.length ?? 1, color });
      } else {
        await p.addBookmarkInteractive();
      }
      return p.bookmarks();
    }),
    command('shmscope.inspector.goToBookmark', async () => {
      const p = activePanel();
      const list = p.bookmarks();
      if (list.length === 0) {
        void vscode.window.showInformationMessage(`${p.options.title} has no bookmarks: select bytes and use "Add Bookmark…".`);
        return;
      }
      const pick = await vscode.window.showQuickPick(list.map((b, i) => ({ label: `$(bookmark) ${b.name}`, description: `0x${b.offset.toString(16)} · ${b.length} byte${b.length === 1 ? '' : 's'} · ${b.color}`, i })), { title: `Bookmarks of ${p.options.title}` });
      if (!pick) return;
      const b = list[pick.i]!;
      p.reveal();
      p.post({ type: 'reveal', offset: b.offset, length: b.length });
    }),
    command('shmscope.inspector.removeBookmark', async () => {
      const p = activePanel();
      const list = p.bookmarks();
      const pick = await vscode.window.showQuickPick(list.map((b, i) => ({ label: `$(bookmark) ${b.name}`, description: `0x${b.offset.toString(16)} · ${b.length} bytes`, i })), { title: `Remove a bookmark of ${p.options.title}` });
      if (pick) await p.removeBookmark(pick.i, list[pick.i]!.name);
    }),
    command('shmscope.inspector.find', () => {
      const p = activePanel();
      p.reveal();
      p.post({ type: 'show', what: 'find' });
    }),
    command('shmscope.inspector.undo', () => {
      if (!activePanel().session.undo()) void vscode.window.showInformationMessage('Nothing to undo in this inspector.');
    }),
    command('shmscope.inspector.redo', () => {
      if (!activePanel().session.redo()) void vscode.window.showInformationMessage('Nothing to redo in this inspector.');
    }),
    command('shmscope.inspector.snapshot', (path?: string) => activePanel().snapshot(typeof path === 'string' ? path : undefined)),
    command('shmscope.inspector.compareSnapshot', (path?: string) => activePanel().compare(typeof path === 'string' ? path : undefined)),
    command('shmscope.openSnapshot', async (arg?: string | vscode.Uri) => {
      const path = arg instanceof vscode.Uri ? arg.fsPath : arg ?? (await pickSnapshot('Open Snapshot'));
      if (path) openSnapshot(path);
    }),
    command('shmscope.compareSnapshots', async (a?: string, b?: string) => {
      const first = a ?? (await pickSnapshot('Compare Snapshots: the first snapshot'));
      if (!first) return undefined;
      const second = b ?? (await pickSnapshot('Compare Snapshots: the snapshot to compare it with'));
      if (!second) return undefined;
      return openSnapshot(first).compare(second);
    }),
    // For tests and the bench: what an inspector tab shows (never in the palette).
    command('shmscope.inspector.state', (key?: string) => {
      const p = key ? InspectorPanel.get(key) : InspectorPanel.active();
      if (!p) return undefined;
      const s = p.session;
      return {
        target: p.options.target, size: s.size, readOnly: s.readOnly, removed: s.removed, ready: s.ready, view: s.state, stats: { ...s.stats }, canUndo: s.canUndo, canRedo: s.canRedo,
        schema: s.schema ? { label: s.schema.label, how: s.schema.how, rows: s.tree.total(), summary: s.tree.summary() } : undefined,
        bookmarks: p.bookmarks(),
      };
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('shmscope.inspector')) for (const p of InspectorPanel.all()) p.reconfigure();
      if (e.affectsConfiguration('shmscope.schemas')) for (const p of InspectorPanel.all()) if (p.bound?.how !== 'bound by hand') void p.autoBind();
    }),
    // A schema saved with a `segment … for` this object binds a tab that had none.
    vscode.workspace.onDidSaveTextDocument((d) => {
      if (d.uri.path.endsWith('.shms')) for (const p of InspectorPanel.all()) if (!p.bound) void p.autoBind();
    }),
    { dispose: () => { for (const p of InspectorPanel.all()) p.dispose(); } },
  );
}
