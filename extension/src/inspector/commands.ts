// The inspector's commands (Open Inspector, Go to Offset, Bind Schema, bookmarks, undo, snapshots),
// registered through the one command wrapper (platform/register.ts), and the settings it follows.
import * as vscode from 'vscode';
import { namespacedRecord } from '../commands/common';
import { registerCommand } from '../platform/register';
import * as ipc from '../ipc';
import { BOOKMARK_COLORS, HostNotes, type Bookmark } from '../shared/protocol';
import { activePanel, openInspector, openSnapshot, pickBinding, pickSnapshot, pickTarget } from './index';
import { InspectorPanel } from './panel';

/**
 * The object with bytes an argument names (what an inspector can open): a segment, a POSIX object,
 * a memfd, a shared anonymous region or a mapped file. Another namespace's item shares ids with
 * ours, so it is never opened as ours (its own command opens a copy).
 */
function inspectable(arg: unknown): ipc.Target | undefined {
  if (namespacedRecord(arg)) return undefined;
  const t = ipc.targetOf(arg, 'shm');
  return t && (t.kind === 'shm' || t.kind === 'posix-shm' || t.kind === 'memfd' || t.kind === 'anon' || t.kind === 'file') ? t : undefined;
}

/** Registers the inspector's commands. Called once from extension.ts. */
export function activate(context: vscode.ExtensionContext): void {
  const command = <A extends unknown[], R>(id: string, what: string, body: (...args: A) => Promise<R> | R) => registerCommand(context, id, what, body);
  command('shmscope.openInspector', 'Open Inspector', async (arg?: unknown) => {
    const t = arg === undefined ? await pickTarget() : inspectable(arg);
    // Where the first-paint figure starts: the handler's entry, or the moment the pick answered.
    const openedAt = Date.now();
    if (!t) {
      if (arg !== undefined) throw new Error('Open Inspector works on a shared memory segment, POSIX shared memory object, memfd, shared anonymous region or shared file mapping.');
      return undefined;
    }
    const p = await openInspector(t, false, openedAt);
    return { target: p.options.target };
  });
  command('shmscope.openInspectorReadWrite', 'Open Read-Write', async (arg?: unknown, opts?: { confirmed?: boolean }) => {
    const t = arg === undefined ? await pickTarget() : inspectable(arg);
    if (!t) {
      if (arg !== undefined) throw new Error('Open Read-Write works on a shared memory segment, POSIX shared memory object, memfd, shared anonymous region or shared file mapping.');
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
  });
  command('shmscope.inspector.goToOffset', 'Go to Offset', (offset?: number | string) => {
    const p = activePanel();
    if (offset === undefined) {
      p.reveal();
      p.notify(HostNotes.show, { what: 'goto' });
      return;
    }
    const n = typeof offset === 'number' ? offset : ipc.parseNumber(offset);
    if (n === undefined && typeof offset === 'string' && p.session.schema) {
      const f = p.session.resolveField(offset);
      p.notify(HostNotes.reveal, { offset: f.offset, length: f.length });
      return { offset: f.offset, length: f.length, path: f.path };
    }
    if (n === undefined || !Number.isSafeInteger(n) || n < 0 || n >= Math.max(1, p.session.size)) throw new Error(`${offset} is not an offset inside ${p.options.title}`);
    p.notify(HostNotes.reveal, { offset: n, length: 1 });
    return { offset: n, length: 1 };
  });
  command('shmscope.inspector.bindSchema', 'Bind Schema', async (file?: string | vscode.Uri, type?: string) => {
    const p = activePanel();
    if (file === '') {
      await p.bindByHand(undefined);
      return { bound: p.session.schema?.label };
    }
    const picked = file !== undefined ? { file: typeof file === 'string' ? vscode.Uri.file(file) : file, ...(type ? { type } : {}) } : await pickBinding(p);
    if (!picked) return undefined;
    await p.bindByHand(picked === 'unbind' ? undefined : picked);
    return { bound: p.session.schema?.label };
  });
  command('shmscope.inspector.addBookmark', 'Add Bookmark', async (b?: Partial<Bookmark>) => {
    const p = activePanel();
    if (b && typeof b.name === 'string' && typeof b.offset === 'number') {
      const color = BOOKMARK_COLORS.includes(b.color as never) ? b.color! : 'blue';
      await p.addBookmark({ name: b.name, offset: b.offset, length: b.length ?? 1, color });
    } else {
      await p.addBookmarkInteractive();
    }
    return p.bookmarks();
  });
  command('shmscope.inspector.goToBookmark', 'Go to Bookmark', async () => {
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
    p.notify(HostNotes.reveal, { offset: b.offset, length: b.length });
  });
  command('shmscope.inspector.removeBookmark', 'Remove Bookmark', async () => {
    const p = activePanel();
    const list = p.bookmarks();
    const pick = await vscode.window.showQuickPick(list.map((b, i) => ({ label: `$(bookmark) ${b.name}`, description: `0x${b.offset.toString(16)} · ${b.length} bytes`, i })), { title: `Remove a bookmark of ${p.options.title}` });
    if (pick) await p.removeBookmark(pick.i, list[pick.i]!.name);
  });
  command('shmscope.inspector.find', 'Find', () => {
    const p = activePanel();
    p.reveal();
    p.notify(HostNotes.show, { what: 'find' });
  });
  command('shmscope.inspector.undo', 'Undo Write', () => {
    if (!activePanel().session.undo()) void vscode.window.showInformationMessage('Nothing to undo in this inspector.');
  });
  command('shmscope.inspector.redo', 'Redo Write', () => {
    if (!activePanel().session.redo()) void vscode.window.showInformationMessage('Nothing to redo in this inspector.');
  });
  command('shmscope.inspector.snapshot', 'Snapshot', (path?: string) => activePanel().snapshot(typeof path === 'string' ? path : undefined));
  command('shmscope.inspector.compareSnapshot', 'Compare with Snapshot', (path?: string) => activePanel().compare(typeof path === 'string' ? path : undefined));
  command('shmscope.openSnapshot', 'Open Snapshot', async (arg?: string | vscode.Uri) => {
    const path = arg instanceof vscode.Uri ? arg.fsPath : arg ?? (await pickSnapshot('Open Snapshot'));
    if (path) openSnapshot(path);
  });
  command('shmscope.compareSnapshots', 'Compare Two Snapshots', async (a?: string, b?: string) => {
    const first = a ?? (await pickSnapshot('Compare Snapshots: the first snapshot'));
    if (!first) return undefined;
    const second = b ?? (await pickSnapshot('Compare Snapshots: the snapshot to compare it with'));
    if (!second) return undefined;
    return openSnapshot(first).compare(second);
  });
  // For tests and the bench: what an inspector tab shows (never in the palette).
  command('shmscope.inspector.state', 'Inspector State', (key?: string) => {
    const p = key ? InspectorPanel.get(key) : InspectorPanel.active();
    if (!p) return undefined;
    const s = p.session;
    return {
      target: p.options.target, size: s.size, readOnly: s.readOnly, removed: s.removed, ready: s.ready, view: s.state, stats: { ...s.stats }, canUndo: s.canUndo, canRedo: s.canRedo,
      schema: s.schema ? { label: s.schema.label, how: s.schema.how, rows: s.tree.total(), summary: s.tree.summary() } : undefined,
      bookmarks: p.bookmarks(),
    };
  });
  context.subscriptions.push(
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
