// One webview tab per inspected object. Wires an InspectorSession (session.ts) to a WebviewPanel:
// strict CSP, resources only from dist/webview, messages validated by the session, a status poll
// for removal and size changes, snapshot and compare through the editor's dialogs.
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { readConfig, SECTION } from '../config';
import { diffRanges } from '../shared/inspector/snapshot';
import { BOOKMARK_COLORS, MAX_READ, type Bookmark, type BookmarkColor, type TimelineRequest, type ToWebview } from '../shared/protocol';
import { findBinding, identityText, loadBinding, rememberBinding, type BindingRef, type Identity } from './binding';
import { SnapshotFileSource, writeSnapshotFile } from './files';
import { inspectorHtml, type PageAssets } from './html';
import { InspectorSession, type InspectorSource } from './session';

const BOOKMARKS_KEY = 'shmscope.bookmarks';
/** Edits of a bound schema re-bind after the typing pauses this long. */
const REBIND_DEBOUNCE_MS = 300;

export const VIEW_TYPE = 'shmscope.inspector';
const STATUS_POLL_MS = 1000;
/** Rows of bytes that travel with the page, so it paints them before any round trip (taller than any screen). */
const FIRST_ROWS = 256;

/** The inspector's settings (shmscope.inspector.*; keys, defaults and ranges live in config.ts). */
export interface InspectorSettings {
  refreshMs: number;
  bytesPerRow: number;
}

export function readSettings(): InspectorSettings {
  const c = readConfig(vscode.workspace.getConfiguration(SECTION));
  return { refreshMs: c.inspectorRefreshMs, bytesPerRow: c.bytesPerRow };
}

export interface PanelOptions {
  /** Identity of the tab: opening the same key again reveals it. */
  key: string;
  /** Target text for the page and snapshots ("shm:32770", or a file path). */
  target: string;
  /** How the user names the object. */
  title: string;
  source: InspectorSource;
  /** Live objects refresh; snapshots and peeked messages do not. */
  live: boolean;
  /** How `segment … for` names the object (live objects); schemas bind through it. */
  identity?: Identity;
  /** A replay's timeline: what its bar in the page asks. */
  timeline?: (m: TimelineRequest) => void;
}

export class InspectorPanel {
  private static readonly panels = new Map<string, InspectorPanel>();
  private static lastActive: InspectorPanel | undefined;

  session: InspectorSession;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly poll: ReturnType<typeof setInterval> | undefined;
  private disposed = false;

  static get(key: string): InspectorPanel | undefined {
    return InspectorPanel.panels.get(key);
  }

  static all(): InspectorPanel[] {
    return [...InspectorPanel.panels.values()];
  }

  /** The focused inspector, or the one focused last. */
  static active(): InspectorPanel | undefined {
    for (const p of InspectorPanel.panels.values()) if (p.panel.active) return p;
    return InspectorPanel.lastActive && !InspectorPanel.lastActive.disposed ? InspectorPanel.lastActive : undefined;
  }

  static create(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, o: PanelOptions): InspectorPanel {
    const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
    const label = `${o.title}${o.source.readOnly ? '' : ' (read-write)'}`;
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, label, vscode.ViewColumn.Active, {
      enableScripts: true,
      enableFindWidget: false,
      retainContextWhenHidden: true,
      localResourceRoots: [root],
    });
    return new InspectorPanel(context, log, panel, root, o);
  }

  /** An inspector in a panel the editor made (a custom editor's), with the same options as create. */
  static adopt(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, panel: vscode.WebviewPanel, o: PanelOptions): InspectorPanel {
    const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    return new InspectorPanel(context, log, panel, root, o);
  }

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    readonly panel: vscode.WebviewPanel,
    root: vscode.Uri,
    readonly options: PanelOptions,
  ) {
    this.session = this.makeSession(options.source);
    const init = this.session.init();
    const first = this.firstRows(init.bytesPerRow);
    const inline = pageAssets(panel.webview, root, log);
    panel.webview.html = inspectorHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.css')).toString(),
      title: options.title,
      init,
      ...(inline ? { inline } : {}),
      ...(first ? { first } : {}),
    });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.session.handle(m)),
      panel.onDidChangeViewState(() => {
        if (panel.active) InspectorPanel.lastActive = this;
        void vscode.commands.executeCommand('setContext', 'shmscope.inspectorReadWrite', panel.active && !options.source.readOnly);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    if (options.live) this.poll = setInterval(() => this.session.pollStatus(), STATUS_POLL_MS);
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.bound && e.document.uri.toString() === this.bound.file.toString()) this.scheduleRebind();
      }),
    );
    void this.autoBind();
    InspectorPanel.panels.set(options.key, this);
    InspectorPanel.lastActive = this;
    log.info(`inspector: opened ${options.title} (${options.target}) ${options.source.readOnly ? 'read-only' : 'read-write'}`);
  }

  /** The first rows, base64, for the page's first paint; nothing if they cannot be read now. */
  private firstRows(bytesPerRow: number): { offset: number; base64: string } | undefined {
    try {
      const length = Math.min(this.session.size, FIRST_ROWS * bytesPerRow, MAX_READ);
      if (length <= 0) return undefined;
      const bytes = this.options.source.read(0, length);
      return { offset: 0, base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') };
    } catch (e) {
      this.log.info(`inspector ${this.options.target}: first rows not embedded: ${(e as Error).message}`);
      return undefined;
    }
  }

  private makeSession(source: InspectorSource): InspectorSession {
    const settings = readSettings();
    const options = this.options;
    return new InspectorSession(source, {
      target: options.target,
      title: options.title,
      bytesPerRow: settings.bytesPerRow,
      refreshMs: options.live ? settings.refreshMs : 0,
    }, {
      post: (m) => this.post(m),
      writeClipboard: (text) => Promise.resolve(vscode.env.clipboard.writeText(text)),
      action: async (a) => {
        if (a === 'snapshot') await this.snapshot();
        else if (a === 'compare') await this.compare();
        else if (a === 'bindSchema') {
          InspectorPanel.lastActive = this;
          await vscode.commands.executeCommand('shmscope.inspector.bindSchema');
        } else if (a === 'addBookmark') await this.addBookmarkInteractive();
        else await this.clearDiff();
      },
      log: (line) => this.log.info(line),
      removeBookmark: (index, name) => this.removeBookmark(index, name),
      ...(options.timeline ? { timeline: options.timeline } : {}),
      bookmarks: () => this.bookmarks(),
    });
  }

  // ------------------------------------------------------------------------------- schemas

  /** The binding in force (a file and a type), if any. */
  bound: BindingRef | undefined;
  private fileWatcher: vscode.FileSystemWatcher | undefined;
  private rebindTimer: ReturnType<typeof setTimeout> | undefined;

  /** Binds the schema this object should have (by hand, setting, or `segment … for`), if any. */
  async autoBind(): Promise<void> {
    try {
      const ref = await findBinding(this.context.workspaceState, this.options.identity, this.options.target, (l) => this.log.warn(l));
      if (ref) await this.bindTo(ref);
      else if (this.bound && this.bound.how !== 'bound by hand') await this.bindTo(undefined);
    } catch (e) {
      this.log.warn(`inspector ${this.options.target}: finding a schema: ${(e as Error).message}`);
    }
  }

  /** Binds a schema file (and type), watching it for edits; undefined unbinds. */
  async bindTo(ref: BindingRef | undefined): Promise<void> {
    this.fileWatcher?.dispose();
    this.fileWatcher = undefined;
    this.bound = ref;
    if (!ref) {
      this.session.bind(undefined);
      this.log.info(`inspector ${this.options.target}: schema unbound`);
      return;
    }
    if (ref.file.scheme === 'file') {
      const dir = vscode.Uri.joinPath(ref.file, '..');
      const name = ref.file.path.split('/').pop() ?? '';
      this.fileWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, name));
      this.fileWatcher.onDidChange(() => this.scheduleRebind());
      this.fileWatcher.onDidCreate(() => this.scheduleRebind());
      this.fileWatcher.onDidDelete(() => this.scheduleRebind());
    }
    await this.rebind();
  }

  private scheduleRebind(): void {
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    this.rebindTimer = setTimeout(() => {
      this.rebindTimer = undefined;
      void this.rebind();
    }, REBIND_DEBOUNCE_MS);
  }

  /** Re-reads and re-compiles the bound schema; the tree keeps what the user expanded. */
  private async rebind(): Promise<void> {
    const ref = this.bound;
    if (!ref || this.disposed) return;
    try {
      const b = await loadBinding(ref);
      if (this.bound !== ref || this.disposed) return;
      this.session.bind(b);
      this.log.info(`inspector ${this.options.target}: schema ${b.label} bound (${b.how})`);
    } catch (e) {
      if (this.bound !== ref || this.disposed) return;
      const msg = (e as Error).message;
      this.log.warn(`inspector ${this.options.target}: ${msg}`);
      this.post({ type: 'schema', label: ref.file.path.split('/').pop(), how: ref.how, problem: msg });
    }
  }

  /** Binds by hand and remembers it for this object in the workspace. */
  async bindByHand(ref: { file: vscode.Uri; type?: string } | undefined): Promise<void> {
    if (this.options.identity) await rememberBinding(this.context.workspaceState, this.options.identity, ref);
    if (ref) return this.bindTo({ ...ref, how: 'bound by hand' });
    // Unbinding by hand falls back to what the setting or a `segment … for` says, if anything.
    await this.bindTo(undefined);
    await this.autoBind();
  }

  // ------------------------------------------------------------------------------- bookmarks

  /** Bookmarks are kept per object: by key/id/name for live objects, by target otherwise. */
  private get bookmarkKey(): string {
    return this.options.identity ? identityText(this.options.identity) : this.options.target;
  }

  bookmarks(): Bookmark[] {
    const all = this.context.globalState.get<Record<string, Bookmark[]>>(BOOKMARKS_KEY) ?? {};
    const list = all[this.bookmarkKey];
    return Array.isArray(list) ? list.filter((b) => typeof b?.name === 'string' && Number.isSafeInteger(b.offset) && Number.isSafeInteger(b.length) && BOOKMARK_COLORS.includes(b.color)) : [];
  }

  private async saveBookmarks(list: Bookmark[]): Promise<void> {
    const all = { ...(this.context.globalState.get<Record<string, Bookmark[]>>(BOOKMARKS_KEY) ?? {}) };
    if (list.length) all[this.bookmarkKey] = list;
    else delete all[this.bookmarkKey];
    await this.context.globalState.update(BOOKMARKS_KEY, all);
    this.post({ type: 'bookmarks', items: list });
  }

  async addBookmark(b: Bookmark): Promise<void> {
    const size = Math.max(1, this.session.size);
    const offset = Math.min(Math.max(0, Math.floor(b.offset)), size - 1);
    const length = Math.max(1, Math.min(Math.floor(b.length), size - offset));
    await this.saveBookmarks([...this.bookmarks(), { name: b.name.slice(0, 200), offset, length, color: b.color }]);
    this.log.info(`inspector ${this.options.target}: bookmark "${b.name}" at 0x${offset.toString(16)} (${length} bytes)`);
  }

  async removeBookmark(index: number, name: string): Promise<void> {
    const list = this.bookmarks();
    if (list[index]?.name !== name) throw Object.assign(new Error(`no bookmark "${name}" to remove`), { code: 'ENOENT' });
    list.splice(index, 1);
    await this.saveBookmarks(list);
  }

  /** Asks for a name and a colour, and bookmarks the page's selection. */
  async addBookmarkInteractive(): Promise<void> {
    const sel = this.session.state?.selection ?? { offset: 0, length: 1 };
    const field = this.session.schema ? this.session.tree.locate(sel.offset)?.node : undefined;
    const suggested = field && field.offset === sel.offset && sel.length <= Math.max(1, field.size) ? field.path : `0x${sel.offset.toString(16)}`;
    const name = await vscode.window.showInputBox({
      title: `Bookmark ${sel.length} byte${sel.length === 1 ? '' : 's'} at 0x${sel.offset.toString(16)}`,
      prompt: 'A name for the bookmark',
      value: suggested,
      validateInput: (v) => (v.trim() === '' ? 'Give the bookmark a name' : v.length > 200 ? 'At most 200 characters' : undefined),
      ignoreFocusOut: true, // asked from the page's toolbar: the webview may take the focus back
    });
    if (name === undefined) return;
    const pick = await vscode.window.showQuickPick(
      BOOKMARK_COLORS.map((c) => ({ label: `$(circle-large-filled) ${c}`, color: c })),
      // The second step of a two-step prompt: when the first closes, the webview takes the focus
      // back, which would close a pick that gives way to focus loss before the user saw it.
      { title: `Colour of "${name.trim()}"`, placeHolder: 'The colour marks its bytes on the grid', ignoreFocusOut: true },
    );
    if (!pick) return;
    await this.addBookmark({ name: name.trim(), offset: sel.offset, length: Math.max(1, sel.length), color: pick.color as BookmarkColor });
  }

  /**
   * Swaps the object's handle (read-only to read-write) in the same tab: the page gets a new init
   * and re-reads. Keeps one tab per object and the user's place in it.
   */
  upgrade(source: InspectorSource): void {
    const old = this.session;
    this.options.source = source;
    this.session = this.makeSession(source);
    this.session.ready = old.ready;
    this.session.state = old.state;
    for (const id of old.tree.expanded) this.session.tree.expanded.add(id);
    if (old.schema) this.session.bind(old.schema);
    old.dispose();
    this.panel.title = `${this.options.title}${source.readOnly ? '' : ' (read-write)'}`;
    if (this.panel.active) void vscode.commands.executeCommand('setContext', 'shmscope.inspectorReadWrite', !source.readOnly);
    this.post(this.session.init());
    this.log.info(`inspector: ${this.options.title} is now ${source.readOnly ? 'read-only' : 'read-write'}`);
  }

  post(m: ToWebview): void {
    if (this.disposed) return;
    this.panel.webview.postMessage(m).then(undefined, (e: unknown) => this.log.warn(`inspector ${this.options.target}: could not post ${m.type}: ${String(e)}`));
  }

  /** Applies changed settings. */
  reconfigure(): void {
    const s = readSettings();
    this.session.reconfigure({ bytesPerRow: s.bytesPerRow, refreshMs: this.options.live ? s.refreshMs : 0 });
  }

  /** Saves the object's bytes to a .shmsnap file (asks where unless `path` is given). */
  async snapshot(path?: string): Promise<string | undefined> {
    let file = path;
    if (!file) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = `${this.options.target.replace(/[^A-Za-z0-9._-]+/g, '_')}-${stamp}.shmsnap`;
      const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.env.HOME ?? '/tmp');
      const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(base, name), filters: { 'shmscope snapshot': ['shmsnap'] }, title: `Snapshot of ${this.options.title}` });
      if (!uri) return undefined;
      file = uri.fsPath;
    }
    const target = file;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Snapshot of ${this.options.title}`, cancellable: true }, async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      let last = 0;
      await writeSnapshotFile(target, this.session.source, { target: this.options.target, title: this.options.title }, (done, total) => {
        const pct = (100 * done) / Math.max(1, total);
        progress.report({ increment: pct - last, message: `${Math.floor(pct)} %` });
        last = pct;
      }, ac.signal);
    });
    this.log.info(`inspector: snapshot of ${this.options.target} written to ${target}`);
    return target;
  }

  /** Compares the object with a snapshot file and marks the differing ranges on the grid. */
  async compare(path?: string): Promise<{ ranges: number; truncated: boolean } | undefined> {
    let file = path;
    if (!file) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'shmscope snapshot': ['shmsnap'] }, title: `Compare ${this.options.title} with a snapshot` });
      if (!picked?.[0]) return undefined;
      file = picked[0].fsPath;
    }
    const snap = new SnapshotFileSource(file);
    try {
      const { ranges, truncated } = await diffRanges(this.session.source, snap, { mergeGap: 0 });
      const label = `vs ${file.split('/').pop()} (${snap.header.time})${truncated ? ', first 10000' : ''}`;
      this.post({ type: 'diff', label, ranges });
      if (ranges[0]) this.post({ type: 'reveal', offset: ranges[0].offset, length: ranges[0].length });
      return { ranges: ranges.length, truncated };
    } finally {
      snap.close();
    }
  }

  async clearDiff(): Promise<void> {
    this.post({ type: 'diff', ranges: [] });
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.poll) clearInterval(this.poll);
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    this.fileWatcher?.dispose();
    if (InspectorPanel.panels.get(this.options.key) === this) InspectorPanel.panels.delete(this.options.key);
    if (InspectorPanel.lastActive === this) InspectorPanel.lastActive = undefined;
    try {
      this.session.dispose();
    } catch (e) {
      this.log.warn(`inspector ${this.options.target}: closing: ${String(e)}`);
    }
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/**
 * The page's script and stylesheet, read to be inlined (no fetch through the webview's service
 * worker before the first paint); their source maps stay reachable through the webview. Nothing
 * if the bundle is missing: the page then links them.
 */
function pageAssets(webview: vscode.Webview, root: vscode.Uri, log: vscode.LogOutputChannel): PageAssets | undefined {
  const read = (name: string) => {
    const text = readFileSync(vscode.Uri.joinPath(root, name).fsPath, 'utf8');
    const map = webview.asWebviewUri(vscode.Uri.joinPath(root, `${name}.map`)).toString();
    return text.replace(/([#@] sourceMappingURL=)\S+?(\s*(?:\*\/)?\s*)$/, (_m, head: string, tail: string) => `${head}${map}${tail}`);
  };
  try {
    return { script: read('main.js'), style: read('main.css') };
  } catch (e) {
    log.warn(`inspector: page assets not inlined: ${(e as Error).message}`);
    return undefined;
  }
}
