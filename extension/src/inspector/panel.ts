// One webview tab per inspected object. Wires an InspectorSession (session.ts) to a WebviewPanel
// that we create or that VS Code hands us (a restored tab, a .shmsnap custom editor): strict CSP,
// resources only from dist/webview, the channel's envelopes both ways, a status poll for removal
// and size changes, snapshot and compare through the editor's dialogs. The binder (binder.ts) and
// the bookmark store (bookmarks.ts) are its parts; the registry of open tabs is its static side.
import { MAGIC_BYTES } from '../shared/schema';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { readConfig, SECTION } from '../platform/config';
import { describeFailure, log } from '../platform/log';
import { hasMemory, memoryOf, memoryText } from '../analysis/memory';
import { formatSize } from '../explorer/model';
import * as ipc from '../ipc';
import type { NotificationType } from '../shared/channel';
import { diffRanges } from '../shared/inspector/snapshot';
import { HostNotes, MAX_READ, type Bookmark, type TimelineOpParams } from '../shared/protocol';
import { identityText, type BindingRef, type Identity } from './binding';
import { SchemaBinder } from './binder';
import { askBookmark, BookmarkStore } from './bookmarks';
import { SnapshotFileSource, writeSnapshotFile } from './files';
import { inspectorHtml, type PageAssets } from './html';
import { InspectorSession, type InspectorSource } from './session';

export const VIEW_TYPE = 'shmscope.inspector';
const STATUS_POLL_MS = 1000;
/** How often the status line's memory (resident, swapped, PSS) is read again: it costs a listing and its mappers' smaps. */
const MEMORY_POLL_MS = 15_000;
/** Rows of bytes that travel with the page, so it paints them before any round trip (taller than any screen). */
const FIRST_ROWS = 256;

/** The inspector's settings (shmscope.inspector.*; keys, defaults and ranges live in platform/config.ts). */
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
  /** When the command that opened it started (wall clock), for the page's first-paint figure. */
  openedAt?: number;
  /** A replay's timeline: what its bar in the page asks. */
  timeline?: (m: TimelineOpParams) => void;
}

/** What the tab's webview may load and run. */
export function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')] };
}

export class InspectorPanel {
  private static readonly panels = new Map<string, InspectorPanel>();
  private static lastActive: InspectorPanel | undefined;

  session: InspectorSession;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly poll: ReturnType<typeof setInterval> | undefined;
  private readonly memoryPoll: ReturnType<typeof setInterval> | undefined;
  private memoryInflight = false;
  private readonly binder: SchemaBinder;
  private readonly store: BookmarkStore;
  private disposed = false;

  static get(key: string): InspectorPanel | undefined {
    return InspectorPanel.panels.get(key);
  }

  static all(): InspectorPanel[] {
    return [...InspectorPanel.panels.values()];
  }

  /** The focused inspector, or the one focused last. */
  static active(): InspectorPanel | undefined {
    // The panel opened or focused last comes first: another panel's `active` flag stays true until
    // the workbench's view-state event reaches us, so right after a new tab opens it is stale.
    const last = InspectorPanel.lastActive && !InspectorPanel.lastActive.disposed ? InspectorPanel.lastActive : undefined;
    if (last?.panel.active || last?.panel.visible) return last;
    for (const p of InspectorPanel.panels.values()) if (p.panel.active) return p;
    return last;
  }

  /** Opens a new tab. */
  static create(context: vscode.ExtensionContext, o: PanelOptions): InspectorPanel {
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, tabTitle(o), vscode.ViewColumn.Active, {
      ...webviewOptions(context),
      enableFindWidget: false,
      retainContextWhenHidden: true,
    });
    return new InspectorPanel(context, panel, o);
  }

  /** Shows an object in a tab VS Code made (a tab restored after a reload, a custom editor). */
  static attach(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, o: PanelOptions): InspectorPanel {
    panel.webview.options = webviewOptions(context);
    panel.title = tabTitle(o);
    return new InspectorPanel(context, panel, o);
  }

  private constructor(
    context: vscode.ExtensionContext,
    readonly panel: vscode.WebviewPanel,
    readonly options: PanelOptions,
  ) {
    const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
    this.session = this.makeSession(options.source);
    // The page first: nothing else stands between the command and the workbench getting its HTML.
    const init = this.session.init();
    const first = this.firstRows(init.bytesPerRow);
    const inline = pageAssets(panel.webview, root);
    panel.webview.html = inspectorHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.css')).toString(),
      restUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'rest.js')).toString(),
      title: options.title,
      init: { ...init, handedAt: Date.now() },
      ...(inline ? { inline } : {}),
      ...(first ? { first } : {}),
    });
    this.binder = new SchemaBinder({
      target: options.target,
      identity: options.identity,
      workspaceState: context.workspaceState,
      head: () => {
        try {
          return this.options.source.read(0, Math.min(this.session.size, MAGIC_BYTES));
        } catch {
          return undefined;
        }
      },
      apply: (b) => this.session.bind(b),
      problem: (label, how, problem) => this.notify(HostNotes.schema, { label, how, problem }),
      log,
    });
    this.store = new BookmarkStore(context.globalState, options.identity ? identityText(options.identity) : options.target, (items) => this.notify(HostNotes.bookmarks, { items }));
    this.disposables.push(
      this.binder,
      panel.webview.onDidReceiveMessage((m: unknown) => void this.session.handle(m)),
      panel.onDidChangeViewState(() => {
        if (panel.active) InspectorPanel.lastActive = this;
        void vscode.commands.executeCommand('setContext', 'shmscope.inspectorReadWrite', panel.active && !options.source.readOnly);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    if (options.live) this.poll = setInterval(() => this.session.pollStatus(), STATUS_POLL_MS);
    if (options.live && this.memoryTarget()) {
      void this.readMemory();
      this.memoryPoll = setInterval(() => void this.readMemory(), MEMORY_POLL_MS);
    }
    void this.binder.autoBind();
    InspectorPanel.panels.set(options.key, this);
    InspectorPanel.lastActive = this;
    log.info(`inspector: opened ${options.title} (${options.target}) ${options.source.readOnly ? 'read-only' : 'read-write'}`);
  }

  /** The object whose memory the status line shows: one of ours with memory of its own (not a file snapshot, not another namespace's). */
  private memoryTarget(): (ipc.Target & { kind: 'shm' | 'posix-shm' | 'memfd' | 'anon' | 'file' }) | undefined {
    try {
      const t = ipc.parseTarget(this.options.target);
      return t.kind === 'shm' || t.kind === 'posix-shm' || t.kind === 'memfd' || t.kind === 'anon' || t.kind === 'file' ? t : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Resident, swapped and PSS bytes of the object for the status line: on open and on a slow
   * timer, off the reads (a listing of its kind for its mappers, then their smaps, on the addon's
   * threads), one at a time.
   */
  private async readMemory(): Promise<void> {
    const target = this.memoryTarget();
    if (!target || this.memoryInflight || this.disposed) return;
    this.memoryInflight = true;
    try {
      const listing = await ipc.list([target.kind]);
      const text = ipc.formatTarget(target);
      const rec = [...listing.shm, ...listing.posixShm, ...listing.memfd, ...listing.anon, ...listing.file].find((r) => {
        const t = ipc.targetOf(r);
        return t !== undefined && ipc.formatTarget(t) === text;
      });
      if (!rec || !hasMemory(rec) || this.disposed) return;
      const m = (await memoryOf([rec])).use.get(rec);
      if (m && !this.disposed) this.notify(HostNotes.memory, { text: `Memory: ${memoryText(m, (n) => formatSize(n, readConfig(vscode.workspace.getConfiguration(SECTION)).sizeUnits))}` });
    } catch (e) {
      log.warn(describeFailure(`inspector ${this.options.target}: reading its memory`, e));
    } finally {
      this.memoryInflight = false;
    }
  }

  /** The first rows, base64, for the page's first paint; nothing if they cannot be read now. */
  private firstRows(bytesPerRow: number): { offset: number; base64: string } | undefined {
    try {
      const length = Math.min(this.session.size, FIRST_ROWS * bytesPerRow, MAX_READ);
      if (length <= 0) return undefined;
      const bytes = this.options.source.read(0, length);
      return { offset: 0, base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') };
    } catch (e) {
      log.info(`inspector ${this.options.target}: first rows not embedded: ${(e as Error).message}`);
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
      ...(options.openedAt !== undefined ? { openedAt: options.openedAt } : {}),
    }, {
      post: (m) => {
        if (this.disposed) return;
        // The tab may close before its panel hears of it (the webview is gone first): not an error.
        let webview: vscode.Webview;
        try {
          webview = this.panel.webview;
        } catch {
          return;
        }
        webview.postMessage(m).then(undefined, (e: unknown) => log.warn(`inspector ${this.options.target}: could not post ${'method' in m ? m.method : m.t}: ${String(e)}`));
      },
      writeClipboard: (text) => Promise.resolve(vscode.env.clipboard.writeText(text)),
      ...(options.timeline ? { timeline: options.timeline } : {}),
      action: async (a) => {
        if (a === 'snapshot') await this.snapshot();
        else if (a === 'compare') await this.compare();
        else if (a === 'bindSchema') {
          InspectorPanel.lastActive = this;
          await vscode.commands.executeCommand('shmscope.inspector.bindSchema');
        } else if (a === 'addBookmark') await this.addBookmarkInteractive();
        else this.clearDiff();
      },
      log: (line) => log.info(line),
      removeBookmark: (index, name) => this.removeBookmark(index, name),
      bookmarks: () => this.bookmarks(),
    });
  }

  /** Tells the page something. */
  notify<P>(type: NotificationType<P>, params: P): void {
    if (!this.disposed) this.session.notify(type, params);
  }

  // ------------------------------------------------------------------------------- schemas

  /** The binding in force (a file and a type), if any. */
  get bound(): BindingRef | undefined {
    return this.binder.bound;
  }

  autoBind(): Promise<void> {
    return this.binder.autoBind();
  }

  bindByHand(ref: { file: vscode.Uri; type?: string } | undefined): Promise<void> {
    return this.binder.bindByHand(ref);
  }

  // ------------------------------------------------------------------------------- bookmarks

  bookmarks(): Bookmark[] {
    return this.store.list();
  }

  async addBookmark(b: Bookmark): Promise<void> {
    const added = await this.store.add(b, this.session.size);
    log.info(`inspector ${this.options.target}: bookmark "${added.name}" at 0x${added.offset.toString(16)} (${added.length} bytes)`);
  }

  removeBookmark(index: number, name: string): Promise<void> {
    return this.store.remove(index, name);
  }

  /** Asks for a name and a colour, and bookmarks the page's selection. */
  async addBookmarkInteractive(): Promise<void> {
    const sel = this.session.state?.selection ?? { offset: 0, length: 1 };
    const field = this.session.schema ? this.session.tree.locate(sel.offset)?.node : undefined;
    const suggested = field && field.offset === sel.offset && sel.length <= Math.max(1, field.size) ? field.path : `0x${sel.offset.toString(16)}`;
    const b = await askBookmark(sel, suggested);
    if (b) await this.addBookmark(b);
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
    this.panel.title = tabTitle(this.options);
    if (this.panel.active) void vscode.commands.executeCommand('setContext', 'shmscope.inspectorReadWrite', !source.readOnly);
    this.notify(HostNotes.init, this.session.init());
    log.info(`inspector: ${this.options.title} is now ${source.readOnly ? 'read-only' : 'read-write'}`);
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
    log.info(`inspector: snapshot of ${this.options.target} written to ${target}`);
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
      this.notify(HostNotes.diff, { label, ranges });
      if (ranges[0]) this.notify(HostNotes.reveal, { offset: ranges[0].offset, length: ranges[0].length });
      return { ranges: ranges.length, truncated };
    } finally {
      snap.close();
    }
  }

  clearDiff(): void {
    this.notify(HostNotes.diff, { ranges: [] });
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.poll) clearInterval(this.poll);
    if (this.memoryPoll) clearInterval(this.memoryPoll);
    if (InspectorPanel.panels.get(this.options.key) === this) InspectorPanel.panels.delete(this.options.key);
    if (InspectorPanel.lastActive === this) InspectorPanel.lastActive = undefined;
    try {
      this.session.dispose();
    } catch (e) {
      log.warn(`inspector ${this.options.target}: closing: ${String(e)}`);
    }
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/** A tab's title: the object, and "(read-write)" when it is open for writing. */
const tabTitle = (o: PanelOptions) => `${o.title}${o.source.readOnly ? '' : ' (read-write)'}`;

/** The bundle's files as read once (they do not change while the extension host runs). */
const assetTexts = new Map<string, string>();

/**
 * The page's script and stylesheet, read to be inlined (no fetch through the webview's service
 * worker before the first paint); their source maps stay reachable through the webview. Nothing
 * if the bundle is missing: the page then links them.
 */
function pageAssets(webview: vscode.Webview, root: vscode.Uri): PageAssets | undefined {
  const read = (name: string) => {
    const file = vscode.Uri.joinPath(root, name).fsPath;
    const text = assetTexts.get(file) ?? readFileSync(file, 'utf8');
    assetTexts.set(file, text);
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
