// One webview tab per inspected object. Wires an InspectorSession (session.ts) to a WebviewPanel:
// strict CSP, resources only from dist/webview, messages validated by the session, a status poll
// for removal and size changes, snapshot and compare through the editor's dialogs.
import * as vscode from 'vscode';
import { readConfig, SECTION } from '../config';
import { diffRanges } from '../shared/inspector/snapshot';
import type { ToWebview } from '../shared/protocol';
import { SnapshotFileSource, writeSnapshotFile } from './files';
import { inspectorHtml } from './html';
import { InspectorSession, type InspectorSource } from './session';

export const VIEW_TYPE = 'shmscope.inspector';
const STATUS_POLL_MS = 1000;

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

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    readonly panel: vscode.WebviewPanel,
    root: vscode.Uri,
    readonly options: PanelOptions,
  ) {
    this.session = this.makeSession(options.source);
    panel.webview.html = inspectorHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.css')).toString(),
      title: options.title,
      init: this.session.init(),
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
    InspectorPanel.panels.set(options.key, this);
    InspectorPanel.lastActive = this;
    log.info(`inspector: opened ${options.title} (${options.target}) ${options.source.readOnly ? 'read-only' : 'read-write'}`);
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
        else await this.clearDiff();
      },
      log: (line) => this.log.info(line),
    });
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
