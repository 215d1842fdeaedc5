// The Wait-for Graph: one webview page (its own bundle dist/webview/graph.js and stylesheet, a CSP
// with a per-load nonce, no inline markup from data) that draws the Waits view's latest report.
import * as vscode from 'vscode';
import { inspectorHtml } from '../inspector/html';
import { log } from '../platform/log';
import { buildWaitGraph, validateGraphPageMessage, type GraphMessage, type GraphPageMessage } from '../shared/waitgraph';
import type { WaitsReport } from '../analysis/waits';

export const GRAPH_VIEW_TYPE = 'shmscope.waitGraph';

export class WaitGraphPanel {
  private static current: WaitGraphPanel | undefined;
  private ready = false;
  private last: WaitsReport | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  /** Opens the graph (or reveals the open one). */
  static show(context: vscode.ExtensionContext, onOpen: (m: Exclude<GraphPageMessage, { type: 'ready' }>) => void): WaitGraphPanel {
    if (WaitGraphPanel.current) {
      WaitGraphPanel.current.panel.reveal();
      return WaitGraphPanel.current;
    }
    const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(GRAPH_VIEW_TYPE, 'Wait-for Graph', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [root],
    });
    panel.webview.html = inspectorHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'graph.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'graph.css')).toString(),
      title: 'Wait-for Graph',
    });
    WaitGraphPanel.current = new WaitGraphPanel(panel, onOpen);
    return WaitGraphPanel.current;
  }

  static get open(): WaitGraphPanel | undefined {
    return WaitGraphPanel.current;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    onOpen: (m: Exclude<GraphPageMessage, { type: 'ready' }>) => void,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = validateGraphPageMessage(raw);
        if (!m) {
          log.warn(`wait-for graph: dropped a malformed message from the page: ${JSON.stringify(raw)?.slice(0, 200)}`);
          return;
        }
        if (m.type === 'ready') {
          this.ready = true;
          if (this.last) this.update(this.last);
        } else onOpen(m);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Draws a report (kept until the page is ready). */
  update(r: WaitsReport): void {
    this.last = r;
    if (!this.ready) return;
    // Pipe and socket peers of the other waits are drawn as edges too (each reader → the other end's process).
    const message: GraphMessage = { type: 'graph', graph: buildWaitGraph(r.waits, r.deadlocks, (r.others ?? []).filter((o) => o.peers.length)) };
    void this.panel.webview.postMessage(message);
  }

  get visible(): boolean {
    return this.panel.visible;
  }

  dispose(): void {
    if (WaitGraphPanel.current === this) WaitGraphPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
