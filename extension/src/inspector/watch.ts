// Watch: fields of the structure view plotted over time in a panel beside the inspector. Over a
// recording the whole recording is sampled (every frame up to 20 000 points, evenly spread beyond)
// and the plot's cursor follows the timeline (a click on the plot moves the timeline); in a live
// inspector the values are read at the refresh rate and the plot keeps the last N seconds. The
// page draws with uPlot (webview-ui/src/plot.ts) in the theme's chart colours.
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Log } from '../platform/log';
import * as ipc from '../ipc';
import { readConfig, SECTION } from '../platform/config';
import { semaphoresOf } from '../record';
import { lazyField, parseWatchList, plotField, sampleSeries } from '../shared/record';
import { parseFromPlot, type ToPlot } from '../shared/protocol';
import { decode } from '../shared/schema';
import { inspectorHtml } from './html';
import { InspectorPanel } from './panel';
import { Replay, type Registrar } from './replay';

const WATCH_VIEW_TYPE = 'shmscope.watch';
const MAX_POINTS = 20_000;

class WatchPanel {
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private ready = false;
  private queue: ToPlot[] = [];

  constructor(
    context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly paths: string[],
    private readonly source: { replay: Replay } | { live: InspectorPanel },
  ) {
    const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
    const of = 'replay' in source ? source.replay.panel.options.title : source.live.options.title;
    const panel = vscode.window.createWebviewPanel(WATCH_VIEW_TYPE, `Watch: ${paths.join(', ')}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [root],
    });
    this.panel = panel;
    const read = (name: string) => readFileSync(vscode.Uri.joinPath(root, name).fsPath, 'utf8');
    panel.webview.html = inspectorHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'plot.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'plot.css')).toString(),
      title: `Watch ${of}`,
      inline: { script: read('plot.js'), style: read('plot.css') },
    });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = parseFromPlot(raw);
        if (!m) {
          log.warn(`watch: dropped a malformed message from the plot page`);
          return;
        }
        if (m.type === 'plotReady') {
          this.ready = true;
          for (const q of this.queue.splice(0)) void panel.webview.postMessage(q);
        } else if ('replay' in source) {
          source.replay.pause();
          source.replay.seek(source.replay.recording.frameAt(m.t * 1000));
        }
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    if ('replay' in source) {
      this.startReplay(source.replay, of).catch((e: unknown) => {
        if ((e as { code?: string }).code === 'ECANCELED') return;
        log.error(`watch: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`Watch: ${(e as Error).message}`);
      });
    }
    else this.startLive(source.live, of);
    WatchPanel.open.add(this);
  }

  static readonly open = new Set<WatchPanel>();
  readonly panel: vscode.WebviewPanel;
  /** What the plot shows, for tests. */
  points = 0;
  cursor: number | undefined;

  private disposed = false;

  private post(m: ToPlot) {
    if (this.disposed) return;
    if (m.type === 'plotCursor') this.cursor = m.t;
    if (m.type === 'plotData') this.points = m.append ? this.points + m.t.length : m.t.length;
    if (this.ready) void this.panel.webview.postMessage(m);
    else this.queue.push(m);
  }

  private async startReplay(replay: Replay, of: string) {
    const abort = new AbortController();
    this.disposables.push({ dispose: () => abort.abort() });
    const series = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Watch: sampling ${this.paths.join(', ')}` }, (progress) =>
      sampleSeries(replay.decoder, this.paths, MAX_POINTS, { signal: abort.signal, onProgress: (done, total) => progress.report({ message: `${Math.floor((100 * done) / total)} %` }) }));
    this.post({ type: 'plotInit', title: `${this.paths.join(', ')} in ${of}`, columns: series.columns.map((c) => ({ path: c.path, ...(c.labels ? { labels: c.labels } : {}) })), live: false });
    this.post({ type: 'plotData', t: series.t, values: series.columns.map((c) => c.values), append: false });
    this.post({ type: 'plotCursor', t: replay.recording.times[replay.index]! / 1000 });
    this.disposables.push(replay.onDidMove((e) => this.post({ type: 'plotCursor', t: e.timeMs / 1000 })));
    replay.panel.panel.onDidDispose(() => { this.panel.dispose(); });
    this.log.info(`watch: ${this.paths.join(', ')} over ${series.t.length} frames of ${of}`);
  }

  private startLive(p: InspectorPanel, of: string) {
    const cfg = readConfig(vscode.workspace.getConfiguration(SECTION));
    const labels = this.paths.map(() => ({}));
    this.post({ type: 'plotInit', title: `${this.paths.join(', ')} in ${of} (live)`, columns: this.paths.map((path) => ({ path })), live: true, windowSeconds: cfg.watchWindowSeconds });
    let semTarget: ipc.Target | undefined;
    try {
      semTarget = this.paths.some((x) => x.startsWith('sem[')) ? semaphoresOf(ipc.parseTarget(p.options.target, 'shm')) : undefined;
    } catch {
      semTarget = undefined;
    }
    const t0 = performance.now();
    const sample = () => {
      const b = p.session.schema;
      let sems: number[] = [];
      try {
        if (semTarget?.kind === 'sem') sems = ipc.semGet(semTarget.id).values;
      } catch {
        sems = [];
      }
      // Only the watched fields are decoded (lazily, by path), however large the segment.
      const root = b ? decode(b.schema, b.type, p.session.source, { maxChecksumBytes: 0 }).root : undefined;
      const before = labels.map((l) => Object.keys(l).length);
      const values = this.paths.map((path, i) => {
        const sem = /^\s*sem\s*\[\s*(\d+)\s*\]\s*$/.exec(path);
        return [sem ? (sems[Number(sem[1])] ?? null) : plotField(lazyField(root, path), labels[i]!)];
      });
      const grown = labels.map((l, i) => (Object.keys(l).length !== before[i] ? { ...l } : undefined));
      this.post({ type: 'plotData', t: [(performance.now() - t0) / 1000], values, append: true, ...(grown.some(Boolean) ? { labels: grown } : {}) });
    };
    sample();
    // At the inspector's refresh rate (the plot draws on its own canvas: the grid keeps its frames).
    this.timer = setInterval(sample, Math.max(100, cfg.inspectorRefreshMs || 500));
    p.panel.onDidDispose(() => { this.panel.dispose(); });
  }

  dispose() {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    WatchPanel.open.delete(this);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Registers Watch Fields…. */
export function activateWatch(context: vscode.ExtensionContext, log: Log, command: Registrar): void {
  context.subscriptions.push(
    // The structure view's context menu on a row: { webviewSection: 'field', path }.
    command('shmscope.watchField', 'Watch', (ctx?: { path?: unknown }) => {
      if (typeof ctx?.path !== 'string') throw new Error('Watch works on a field of the structure view.');
      return vscode.commands.executeCommand('shmscope.watch', ctx.path);
    }),
    command('shmscope.watch', 'Watch Fields', async (list?: string | string[]) => {
      const replay = Replay.active();
      const live = InspectorPanel.active();
      const source: { replay: Replay } | { live: InspectorPanel } | undefined = replay && (replay.panel.panel.active || !live?.panel.active) ? { replay } : live ? { live } : undefined;
      if (!source) throw new Error('Open an inspector or a recording first.');
      const bound = 'replay' in source ? source.replay.panel.session.schema : source.live.session.schema;
      let text = Array.isArray(list) ? list.join(' ') : list;
      if (text === undefined) {
        const sel = 'replay' in source ? source.replay.panel.session : source.live.session;
        const at = sel.state?.selection.offset;
        const suggested = bound && at !== undefined ? sel.tree.locate(at)?.node.path : undefined;
        text = await vscode.window.showInputBox({
          title: 'Watch Fields', prompt: 'Fields to plot over time, e.g. hdr.head hdr.tail sem[0]', value: suggested ?? '', ignoreFocusOut: true,
          validateInput: (v) => {
            const r = parseWatchList(v);
            return 'problem' in r ? r.problem : undefined;
          },
        });
        if (text === undefined) return undefined;
      }
      const r = parseWatchList(text);
      if ('problem' in r) throw new Error(r.problem);
      if (!bound && r.paths.some((p) => !p.startsWith('sem['))) throw new Error('Bind a schema first: Watch plots fields of the structure view.');
      new WatchPanel(context, log, r.paths, source);
      return { paths: r.paths, live: 'live' in source };
    }),
    // For tests: what the plots show (never in the palette).
    command('shmscope.watch.state', 'Watch: State', () => [...WatchPanel.open].map((w) => ({ title: w.panel.title, points: w.points, cursor: w.cursor }))),
  );
}
