// The Waits view (beside the explorer in the Shared Memory container): each process with blocked
// threads → what each thread waits on (object, offset, field) → who holds it. Re-scans on an
// interval while it (or the graph) is visible, marks deadlocks and dead owners, puts a badge on
// the view and on the explorer's objects that have waiters, and opens the inspector at a wait's
// offset. The scan is analysis/waits.ts; the schemas that name fields are the workspace's `.shms`
// files with `segment … for` declarations and those of the `shmscope.schemas` setting.
import * as vscode from 'vscode';
import { readConfig, SECTION, type Config } from '../platform/config';
import type { ExplorerProvider } from '../explorer';
import { openInspector } from '../inspector';
import { schemaFiles, schemaText } from '../inspector/binding';
import * as ipc from '../ipc';
import { scanWaits, WaitHistory, type Wait, type WaitsReport } from '../analysis/waits';
import { describeFailure, log, reportError } from '../platform/log';
import { wrapCommand } from '../platform/register';
import { compileSchema, PRIMITIVE_SIZE, type Schema } from '../shared/schema';
import { HostNotes } from '../shared/protocol';
import { schemaIncludePath } from '../lsp/client';
import { WaitGraphPanel } from './graph';
import type { GraphPageMessage } from '../shared/waitgraph';
import { describe, processNodes, waitChildren, waitersByTarget, waitNodes, type WaitNode } from './model';
import { stackText, threadStack, type ThreadStack } from '../analysis/stacks';

export const WAITS_VIEW_ID = 'shmscope.waits';

/** The kinds of wait object the inspector opens at the waited offset. */
const INSPECTABLE_WAITS = new Set(['shm', 'posix-shm', 'memfd', 'anon', 'file']);

export class WaitsProvider implements vscode.TreeDataProvider<WaitNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<WaitNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly scanned = new vscode.EventEmitter<WaitsReport>();
  /** Fires after every completed scan. */
  readonly onDidScan = this.scanned.event;
  private readonly failed = new vscode.EventEmitter<string>();
  /** Fires when a scan fails, with the sentence (the view shows it as its message). */
  readonly onDidFail = this.failed.event;
  report: WaitsReport | undefined;
  /** Whether the Other waits group is expanded (then each scan reads what they wait on). */
  othersOpen = false;
  private error: string | undefined;
  private readonly history = new WaitHistory();
  private inflight: Promise<void> | undefined;
  private schemaCache = new Map<string, { text: string; schema: Schema }>();
  /** The schemas of the last look; undefined when a .shms file, an open schema or the settings changed since. */
  private schemaList: Schema[] | undefined;
  private readonly watchers: vscode.Disposable[];
  /** Watchers of the files the `shmscope.schemas` setting names (outside the workspace too), one per file. */
  private settingWatchers: vscode.Disposable[] = [];
  private readonly stale = () => { this.schemaList = undefined; };

  constructor(private config: Config) {
    // Watch the schema files rather than search the workspace on every scan (every 2 s while visible).
    const files = vscode.workspace.createFileSystemWatcher('**/*.shms');
    this.watchers = [
      files, files.onDidCreate(this.stale), files.onDidChange(this.stale), files.onDidDelete(this.stale),
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.document.uri.path.endsWith('.shms')) this.stale(); }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => { this.stale(); this.watchSettingFiles(); }),
    ];
    this.watchSettingFiles();
  }

  setConfig(config: Config): void {
    this.config = config;
    this.schemaList = undefined;
    this.watchSettingFiles();
  }

  /** The files the `shmscope.schemas` setting names: absolute, or relative to the workspace folder. */
  private settingFiles(): vscode.Uri[] {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uris = new Map<string, vscode.Uri>();
    for (const ref of Object.values(this.config.schemas)) {
      const file = ref.replace(/#.*$/, '');
      const u = file.startsWith('/') || !folder ? vscode.Uri.file(file) : vscode.Uri.joinPath(folder, file);
      uris.set(u.toString(), u);
    }
    return [...uris.values()];
  }

  /**
   * A watcher on each file the setting names: the workspace's watcher sees only the workspace, and
   * a schema kept beside the program (/opt/app/ring.shms) changes too. Each watches its one file
   * (its folder, not recursively); no polling.
   */
  private watchSettingFiles(): void {
    for (const w of this.settingWatchers) w.dispose();
    this.settingWatchers = this.settingFiles().map((u) => {
      const base = vscode.Uri.joinPath(u, '..');
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, u.path.slice(u.path.lastIndexOf('/') + 1)));
      const subs = [w.onDidCreate(this.stale), w.onDidChange(this.stale), w.onDidDelete(this.stale)];
      return { dispose: () => { for (const d of subs) d.dispose(); w.dispose(); } };
    });
  }

  /** The schemas the last scan named fields with (those that bind objects); undefined until a scan, or once one of their files changed. */
  get schemasInUse(): readonly Schema[] | undefined {
    return this.schemaList;
  }

  /** Scans now; concurrent calls share one scan. */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        this.schemaList ??= await this.schemas();
        // Every other blocked thread is read only while its group is open: on a busy machine that
        // is thousands of threads and every process's descriptors, every refresh; else only counted.
        this.report = await scanWaits({ schemas: this.schemaList, history: this.history, stuckAfterMs: this.config.stuckAfterMs, all: this.othersOpen });
        this.error = undefined;
      } catch (e) {
        this.error = e instanceof Error ? e.message : String(e);
        log.error(describeFailure('Scan blocked threads', e));
        this.failed.fire(this.error);
      }
    })().finally(() => {
      this.inflight = undefined;
      this.changed.fire(undefined);
      if (this.report) this.scanned.fire(this.report);
    });
    return this.inflight;
  }

  /** The workspace's schemas that bind objects (`segment … for`), and those the setting names. */
  private async schemas(): Promise<Schema[]> {
    const uris = new Map<string, vscode.Uri>();
    try {
      for (const u of await schemaFiles()) uris.set(u.toString(), u);
    } catch (e) {
      log.warn(`Waits: listing the workspace's schemas failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const u of this.settingFiles()) uris.set(u.toString(), u);
    const out: Schema[] = [];
    for (const [key, uri] of uris) {
      try {
        const text = await schemaText(uri);
        let hit = this.schemaCache.get(key);
        // With the include path the inspector and the language server use: a schema that
        // includes a header binds here as it does there.
        if (!hit || hit.text !== text) this.schemaCache.set(key, (hit = { text, schema: compileSchema(text, uri.toString(), { includePath: schemaIncludePath() }) }));
        if (hit.schema.segments.length) out.push(hit.schema);
      } catch {
        // unreadable or gone: no fields from it
      }
    }
    return out;
  }

  getChildren(node?: WaitNode): WaitNode[] {
    const r = this.report;
    if (!node) return r ? processNodes(r) : [];
    if (node.type === 'process') return r ? waitNodes(r, node.waits) : [];
    if (node.type === 'wait') return waitChildren(node.wait, node.inDeadlock);
    if (node.type === 'others') return node.others.map((other): WaitNode => ({ type: 'other', other }));
    return [];
  }

  getTreeItem(node: WaitNode): vscode.TreeItem {
    const d = describe(node);
    const leaf = node.type === 'holder' || node.type === 'changer' || node.type === 'other' || node.type === 'slow' || (node.type === 'wait' && waitChildren(node.wait, false).length === 0) || (node.type === 'others' && !node.count);
    // The other waits are many on any machine (idle event loops): their group starts collapsed.
    const state = leaf ? vscode.TreeItemCollapsibleState.None : node.type === 'others' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded;
    const item = new vscode.TreeItem(d.label, state);
    item.description = d.description;
    item.tooltip = d.tooltip;
    const colour = d.alarm === 'error' ? new vscode.ThemeColor('errorForeground') : d.alarm === 'warning' ? new vscode.ThemeColor('list.warningForeground') : undefined;
    item.iconPath = new vscode.ThemeIcon(d.icon, colour);
    item.accessibilityInformation = { label: `${d.label}, ${d.description}` };
    if (node.type === 'process') item.id = `pid:${node.pid}`;
    if (node.type === 'wait') {
      const w = node.wait;
      item.id = `wait:${w.tid}:${w.object.target ?? w.object.name}:${w.offset}`;
      const openable = w.object.target !== null && !w.object.namespace && INSPECTABLE_WAITS.has(w.object.kind) && w.offset !== null;
      item.contextValue = openable ? 'wait.open' : 'wait';
      if (openable) item.command = { command: 'shmscope.waits.goToField', title: 'Go to Field in Inspector', arguments: [node] };
    }
    if (node.type === 'holder') item.contextValue = node.holder.alive && node.holder.pid !== null ? 'holder.live' : 'holder';
    if (node.type === 'others') item.id = 'others';
    if (node.type === 'slow') item.id = 'slow';
    if (node.type === 'other') {
      item.id = `other:${node.other.tid}`;
      item.contextValue = node.other.peers.length ? 'other.peer' : 'other';
    }
    if (node.type === 'changer') item.contextValue = 'changer';
    return item;
  }

  dispose(): void {
    for (const w of [...this.watchers, ...this.settingWatchers]) w.dispose();
    this.changed.dispose();
    this.scanned.dispose();
    this.failed.dispose();
  }
}

/** Opens the inspector of a wait's object with the waited word (or its whole primitive) selected. */
export async function goToWait(target: string, offset: number, length = 4): Promise<void> {
  const t = ipc.parseTarget(target, 'shm');
  const p = await openInspector(t, false);
  p.notify(HostNotes.reveal, { offset, length: Math.max(1, length) });
}

/** The thread whose stack Show Holder's Stack reads: a live holder, or an other wait's first peer. */
function stackSubject(arg: unknown): { pid: number; tid: number; what: string } | undefined {
  const n = arg as WaitNode | undefined;
  if (n?.type === 'holder' && n.holder.alive && n.holder.pid !== null) return { pid: n.holder.pid, tid: n.holder.tid ?? n.holder.pid, what: `holder of ${n.wait.object.target ?? n.wait.object.name ?? n.wait.object.kind}` };
  const p = n?.type === 'other' ? n.other.peers[0] : undefined;
  if (n?.type === 'other' && p) return { pid: p.pid, tid: p.pid, what: `other end of ${n.other.on}` };
  return undefined;
}

/** Opens a thread's kernel and user stacks in a read-only document (cancellable while the unwinder runs). */
export async function showHolderStack(pid: number, tid: number, what: string): Promise<string> {
  const abort = new AbortController();
  const stack: ThreadStack = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Reading the stack of thread ${tid}…`, cancellable: true },
    async (_p, token) => {
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        return await threadStack(pid, tid, { signal: abort.signal });
      } finally {
        sub.dispose();
      }
    },
  );
  const text = [`${what}`, ...stackText(stack)].join('\n');
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: `${text}\n`, language: 'plaintext' }), { preview: true });
  return text;
}

function waitOf(arg: unknown): Wait | undefined {
  const n = arg as WaitNode | undefined;
  return n && (n.type === 'wait' || n.type === 'holder' || n.type === 'changer') ? n.wait : undefined;
}

export function activate(context: vscode.ExtensionContext, deps: { explorer: ExplorerProvider }): { provider: WaitsProvider } {
  const provider = new WaitsProvider(readConfig(vscode.workspace.getConfiguration(SECTION)));
  const view = vscode.window.createTreeView(WAITS_VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  let timer: NodeJS.Timeout | undefined;
  const active = () => view.visible || WaitGraphPanel.open?.visible === true;
  const schedule = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    const ms = readConfig(vscode.workspace.getConfiguration(SECTION)).waitsRefreshMs;
    if (ms > 0) timer = setInterval(() => { if (active()) void provider.refresh(); }, ms);
  };
  const openFromGraph = (m: Exclude<GraphPageMessage, { type: 'ready' }>) => {
    if (m.type === 'stack') {
      showHolderStack(m.pid, m.tid, `thread ${m.tid} of pid ${m.pid}, from the Wait-for Graph`).catch((e) => reportError(`Show the stack of thread ${m.tid}`, e));
      return;
    }
    const w = provider.report?.waits.find((x) => x.object.target === m.target && !x.object.namespace && x.offset === m.offset);
    if (!w) return;
    const size = w?.lock ? PRIMITIVE_SIZE[w.lock.primitive] : 4;
    goToWait(m.target, m.offset, Math.min(size, 4)).catch((e) => reportError(`Open ${m.target} at 0x${m.offset.toString(16)}`, e));
  };
  schedule();
  context.subscriptions.push(
    provider,
    view,
    { dispose: () => timer && clearInterval(timer) },
    view.onDidChangeVisibility((e) => { if (e.visible) void provider.refresh(); }),
    view.onDidExpandElement((e) => {
      if (e.element.type !== 'others') return;
      provider.othersOpen = true;
      void provider.refresh();
    }),
    view.onDidCollapseElement((e) => {
      if (e.element.type === 'others') provider.othersOpen = false;
    }),
    provider.onDidScan((r) => {
      const n = r.waits.length;
      view.badge = n ? { value: n, tooltip: `${n} blocked thread${n === 1 ? '' : 's'}${r.deadlocks.length ? `, ${r.deadlocks.length} deadlock${r.deadlocks.length === 1 ? '' : 's'}` : ''}` } : undefined;
      view.message = r.deadlocks.length ? `Deadlock: ${r.deadlocks.map((c) => c.map((t) => `${t.pid}/${t.tid}`).join(' → ')).join('; ')}` : undefined;
      deps.explorer.setWaiters(waitersByTarget(r));
      WaitGraphPanel.open?.update(r);
    }),
    provider.onDidFail((why) => {
      view.message = `The scan failed: ${why}`;
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      provider.setConfig(readConfig(vscode.workspace.getConfiguration(SECTION)));
      schedule();
    }),
    wrapCommand('shmscope.waits.refresh', 'Refresh Waits', () => provider.refresh()),
    wrapCommand('shmscope.showHolderStack', "Show Holder's Stack", async (arg?: unknown) => {
      const s = stackSubject(arg);
      if (!s) return undefined;
      return showHolderStack(s.pid, s.tid, s.what);
    }),
    wrapCommand('shmscope.waits.goToField', 'Go to Field in Inspector', async (arg?: unknown) => {
      const w = waitOf(arg);
      // Another namespace's object is not ours to open by its id.
      if (!w || !w.object.target || w.object.namespace || w.offset === null) return undefined;
      await goToWait(w.object.target, w.offset, w.lock ? Math.min(PRIMITIVE_SIZE[w.lock.primitive], 4) : 4);
      return { target: w.object.target, offset: w.offset };
    }),
    wrapCommand('shmscope.waits.showGraph', 'Show Wait-for Graph', async () => {
      const panel = WaitGraphPanel.show(context, openFromGraph);
      // The Waits view's last scan draws at once (the page says it is being scanned until then);
      // the fresh scan then replaces it, rather than a blank page for as long as a scan takes.
      if (provider.report) panel.update(provider.report);
      await provider.refresh();
      if (provider.report) panel.update(provider.report);
      return { waits: provider.report?.waits.length ?? 0, deadlocks: provider.report?.deadlocks.length ?? 0 };
    }),
  );
  return { provider };
}
