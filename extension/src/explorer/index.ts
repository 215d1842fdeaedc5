// The Shared Memory explorer: one tree of groups per kind plus Limits, refreshed on demand, on an
// interval (shmscope.refreshIntervalMs) and when /dev/shm changes; filtered by text and owner.
import { watch, type FSWatcher } from 'node:fs';
import * as vscode from 'vscode';
import { anyText, ask } from '../platform/prompt';
import { registerCommand } from '../platform/register';
import { activate as activateCleanUp } from './cleanup';
import { readConfig, SECTION, type Config } from '../platform/config';
import { findLeftovers, type Leftover } from '../analysis/leftovers';
import { listingFacts } from '../analysis/verdict';
import { hasMemory, memoryOf, memoryText } from '../analysis/memory';
import { containerLookup, groupByProgram, isReadOnlyFileMapping, type ProgramGroup, type ProgramRecord } from '../analysis/programs';
import * as ipc from '../ipc';
import { devShmMounts, ownDevShm, type MountUse } from '../ipc/mounts';
import type { IpcRecord, Limit, Listing, NamespaceListing } from '../ipc/types';
import { describeFailure, log } from '../platform/log';
import { escapeControl } from '../shared/escape';
import { waiterKey } from '../waits/model';
import {
  BY_PROGRAM, contextValue, GROUPS, isEmpty, leftoverId, leftoverTooltip, limitDescription, limitLabel, matches, mountBrief, mountDescription, mountTooltip, mountWarns,
  namespaceDescription, namespaceLabel, namespaceRecords, objectDescription, objectIcon, objectId, objectLabel, objectTooltip,
  formatSize, programDescription, programId, programLabel, programTooltip, records, type GroupSpec,
} from './model';

export const VIEW_ID = 'shmscope.explorer';

/** What a region group says while the processes are being scanned (its count, its one child). */
export const SCANNING = 'Scanning processes…';

/** The kinds the inspector opens (package.json's Open Inspector menu names the same). */
const INSPECTABLE: ReadonlySet<IpcRecord['kind']> = new Set(['shm', 'posix-shm', 'memfd', 'anon', 'file']);

/** A node of the tree. Commands receive these as their first argument from menus. */
export type Node =
  | { type: 'group'; group: GroupSpec; count: number }
  /** Another IPC namespace (a container): its own objects, never mixed with ours. */
  | { type: 'namespace'; ns: NamespaceListing }
  /** The memfd, anonymous or file regions of one program (in one container). */
  | { type: 'program'; group: GroupSpec; program: ProgramGroup }
  /** `leftover`: the row is in the Leftovers group, with its verdict. */
  | { type: 'object'; record: IpcRecord; leftover?: Leftover }
  | { type: 'limit'; limit: Limit }
  /** A line of text; `command` runs on a click (the hidden read-only mappings' "show them"). */
  | { type: 'note'; text: string; icon: string; command?: string; tooltip?: string };

export class ExplorerProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Fires after every completed refresh, with the listing it produced. */
  private readonly refreshed = new vscode.EventEmitter<Listing>();
  readonly onDidRefresh = this.refreshed.event;

  listing: Listing | undefined;
  private limitList: Limit[] = [];
  /** Each /dev/shm we can see (ours and containers') with its use. */
  private mountList: MountUse[] = [];
  /** The listing's leftovers (every namespace's, unfiltered), biggest first. */
  private leftoverList: Leftover[] = [];
  private error: string | undefined;
  private filterText = '';
  private onlyMine: boolean;
  private inflight: Promise<void> | undefined;
  /**
   * The listing shown is the one without the scan of every process (the first rows, before the
   * first complete listing): region groups say they are being scanned, and nothing is judged.
   */
  private scanning = false;
  /** What the last listing took (ms): a change seen by the watcher waits in proportion. */
  lastListingMs = 0;
  private again = false;
  private readonly notesLogged = new Set<string>();
  /** Target → threads blocked on it (from the Waits view's last scan), for a badge on the item. */
  private waiters = new Map<string, { count: number; alarm: boolean }>();
  /**
   * The editor's own processes (its main process, renderers, this extension host…), read again
   * with each listing: their regions and rings are not the user's objects.
   */
  private editorPids: ReadonlySet<number> = new Set([process.pid]);

  constructor(private config: Config) {
    this.onlyMine = config.onlyMine;
  }

  setConfig(config: Config): void {
    const mineChanged = config.onlyMine !== this.config.onlyMine;
    this.config = config;
    if (mineChanged) this.onlyMine = config.onlyMine;
    this.changed.fire(undefined);
  }

  /** The Waits view's last scan: objects with waiters show how many, in the error colour on a deadlock or dead owner. */
  setWaiters(waiters: Map<string, { count: number; alarm: boolean }>): void {
    const same = waiters.size === this.waiters.size && [...waiters].every(([k, v]) => this.waiters.get(k)?.count === v.count && this.waiters.get(k)?.alarm === v.alarm);
    this.waiters = waiters;
    if (!same) this.changed.fire(undefined);
  }

  get filter(): { text: string; onlyMine: boolean } {
    return { text: this.filterText, onlyMine: this.onlyMine };
  }

  setFilter(text: string, onlyMine: boolean = this.onlyMine): void {
    this.filterText = text;
    this.onlyMine = onlyMine;
    this.changed.fire(undefined);
  }

  /**
   * The leftovers of a listing: the one verdict, told what the Waits view last saw waiting. Another
   * namespace's POSIX objects count only when its /dev/shm is not ours (else they are ours, seen twice).
   */
  private judge(listing: Listing, mounts: readonly MountUse[]): Leftover[] {
    const waits = new Map([...this.waiters].map(([t, w]) => [t, [`${w.count} thread(s) wait on it (the Waits view's last scan)`]]));
    const own = ownDevShm(mounts);
    try {
      return findLeftovers(listing, listingFacts(listing, { waits }), (r) => r.kind !== 'posix-shm' || !r.namespace || own.has(r.namespace.ipc));
    } catch (e) {
      log.error(describeFailure('Judge leftovers', e));
      return [];
    }
  }

  /** Every leftover of the last listing, in every namespace, whatever the filter. */
  get allLeftovers(): readonly Leftover[] {
    return this.leftoverList;
  }

  /** The leftovers the filter shows: what Clean Up Leftovers… offers to remove. */
  visibleLeftovers(): Leftover[] {
    const uid = this.onlyMine ? process.getuid?.() : undefined;
    return this.leftoverList.filter((c) => matches(c.record, this.filterText, uid));
  }

  /**
   * Re-lists every object; concurrent calls share one listing and a call during one queues another.
   * Until the first complete listing, the objects the kernel's tables and /dev/shm list (System V,
   * POSIX) show as soon as they are read, in milliseconds, while the scan of every process (regions,
   * rings, attachments, holders, namespaces, verdicts) goes on with a progress bar in the view; its
   * listing then replaces theirs under the same ids, so selection and expansion stay. Later
   * refreshes keep the last complete listing on screen until the next one is in.
   */
  refresh(): Promise<void> {
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    this.inflight = (async () => {
      do {
        this.again = false;
        const started = Date.now();
        try {
          const limits = ipc.limits();
          let done = false;
          const full = Promise.all([ipc.list(undefined, { namespaces: 'all' }), limits]).finally(() => { done = true; });
          full.catch(() => undefined); // awaited below: the failure is reported there
          if (!this.listing || this.scanning) await this.showUnscanned(limits, full, () => done, started);
          const [listing, lim] = await full;
          this.lastListingMs = Date.now() - started;
          if (this.scanning) log.info(`explorer: processes scanned in ${this.lastListingMs} ms: every object listed`);
          this.listing = listing;
          this.scanning = false;
          this.limitList = lim;
          this.editorPids = ipc.editorProcesses(process.pid);
          this.mountList = devShmMounts(listing);
          this.leftoverList = this.judge(listing, this.mountList);
          // What the listing could not do (no /dev/mqueue, unreadable /proc entries), said once each.
          for (const note of listing.notes) {
            if (!this.notesLogged.has(note)) {
              this.notesLogged.add(note);
              log.info(`listing: ${note}`);
            }
          }
          this.error = undefined;
        } catch (e) {
          this.scanning = false;
          this.error = e instanceof Error ? e.message : String(e);
          log.error(describeFailure('List IPC objects', e));
        }
      } while (this.again);
    })().finally(() => {
      this.inflight = undefined;
      void vscode.commands.executeCommand('setContext', 'shmscope.empty', this.listing !== undefined && isEmpty(this.listing, this.editorPids) && !this.error);
      this.changed.fire(undefined);
      if (this.listing) this.refreshed.fire(this.listing);
    });
    return this.inflight;
  }

  /**
   * The listing without the scan of every process, shown while `full` (the scan's) is not in yet,
   * with the view's progress bar until it is. A failure here is left to the full listing to say.
   */
  private async showUnscanned(limits: Promise<Limit[]>, full: Promise<unknown>, done: () => boolean, started: number): Promise<void> {
    try {
      const [quick, lim] = await Promise.all([ipc.list(undefined, { scan: false }), limits]);
      if (done()) return;
      log.info(`explorer: System V and POSIX objects listed in ${Date.now() - started} ms; scanning processes for the rest`);
      this.listing = quick;
      this.scanning = true;
      this.limitList = lim;
      this.mountList = devShmMounts(quick);
      this.leftoverList = [];
      this.error = undefined;
      this.changed.fire(undefined);
      void vscode.window.withProgress({ location: { viewId: VIEW_ID } }, () => full.catch(() => undefined));
    } catch (e) {
      log.warn(describeFailure('List System V and POSIX objects before the scan', e));
    }
  }

  private visible(kinds: GroupSpec['kinds']): IpcRecord[] {
    if (!this.listing) return [];
    const uid = this.onlyMine ? process.getuid?.() : undefined;
    const shown = (r: IpcRecord) => this.config.showReadOnlyFiles || r.kind !== 'file' || !isReadOnlyFileMapping(r);
    return kinds.flatMap((k) => records(this.listing!, k)).filter((r) => shown(r) && matches(r, this.filterText, uid));
  }

  /** Read-only mappings of ordinary files the filter would show but the setting hides. */
  private hiddenFiles(): number {
    if (!this.listing || this.config.showReadOnlyFiles) return 0;
    const uid = this.onlyMine ? process.getuid?.() : undefined;
    return this.listing.file.filter((r) => isReadOnlyFileMapping(r) && matches(r, this.filterText, uid)).length;
  }

  /** A group's regions under their owning programs, biggest first. */
  private programs(group: GroupSpec): ProgramGroup[] {
    if (!this.listing) return [];
    return groupByProgram(this.visible(group.kinds) as ProgramRecord[], containerLookup(this.listing), this.editorPids);
  }

  private get filtering(): boolean {
    return this.filterText.trim() !== '' || this.onlyMine;
  }

  private namespaceMatches(ns: NamespaceListing): IpcRecord[] {
    const uid = this.onlyMine ? process.getuid?.() : undefined;
    return namespaceRecords(ns).filter((r) => matches(r, this.filterText, uid));
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      if (this.error) return [{ type: 'note', text: `Listing failed: ${this.error}`, icon: 'error' }];
      // The view's welcome content shows (an empty listing is only known once every process is read).
      if (!this.listing || (!this.scanning && isEmpty(this.listing, this.editorPids))) return [];
      const groups: Node[] = GROUPS.map((group): Node => ({
        type: 'group',
        group,
        count: group.id === 'limits' ? this.limitList.length : group.id === 'leftovers' ? this.visibleLeftovers().length : this.visible(group.kinds).length,
      }))
        // Leftovers show when there are some: an answer, not a kind of object.
        .filter((g) => g.type !== 'group' || g.group.id !== 'leftovers' || g.count > 0);
      // One group per other namespace, before Limits.
      const namespaces: Node[] = (this.listing.namespaces ?? []).map((ns) => ({ type: 'namespace', ns }));
      groups.splice(groups.length - 1, 0, ...namespaces);
      if (!this.filtering) return groups;
      // Filtered, as VS Code's own trees: only the groups with a match (Limits are no objects).
      const shown = groups.filter((g) => (g.type === 'group' ? g.group.id !== 'limits' && g.count > 0 : g.type === 'namespace' && this.namespaceMatches(g.ns).length > 0));
      return shown.length ? shown : [{ type: 'note', text: 'Nothing matches the filter', icon: 'filter' }];
    }
    if (node.type === 'namespace') return this.namespaceMatches(node.ns).map((record) => ({ type: 'object', record }));
    if (node.type === 'program') return node.program.records.map((record) => ({ type: 'object', record }));
    if (node.type !== 'group') return [];
    if (node.group.id === 'limits') return this.limitList.map((limit) => ({ type: 'limit', limit }));
    if (node.group.id === 'leftovers') return this.visibleLeftovers().map((leftover) => ({ type: 'object', record: leftover.record, leftover }));
    if (!BY_PROGRAM.has(node.group.id)) return this.visible(node.group.kinds).map((record) => ({ type: 'object', record }));
    if (this.scanning) return [{ type: 'note', text: SCANNING, icon: 'loading~spin' }];
    const out: Node[] = this.programs(node.group).map((program) => ({ type: 'program', group: node.group, program }));
    const hidden = node.group.id === 'file' ? this.hiddenFiles() : 0;
    if (hidden > 0) {
      out.push({
        type: 'note', icon: 'eye-closed', command: 'shmscope.toggleReadOnlyFiles',
        text: `${hidden} read-only ${hidden === 1 ? 'mapping' : 'mappings'} of ordinary files hidden`,
        tooltip: 'Shared mappings no process may write through (gconv-modules.cache, font caches): click to show them (shmscope.explorer.showReadOnlyFiles)',
      });
    }
    return out;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.type) {
      case 'group': {
        const item = new vscode.TreeItem(node.group.label, node.group.id === 'limits' || node.group.collapsed
          ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group.id}`;
        // Before the scan of every process ends, its groups have no count yet.
        item.description = this.scanning && BY_PROGRAM.has(node.group.id) ? SCANNING : String(node.count);
        if (node.group.id === 'leftovers') {
          item.tooltip = 'Objects nothing maps, holds open or waits on, whose creators are gone: each one\'s reasons are in its tooltip. Clean Up Leftovers… removes them after you confirm.';
        }
        item.iconPath = new vscode.ThemeIcon(node.group.icon);
        // Where POSIX objects live: our /dev/shm's use, in the warning colour above the threshold.
        const mount = node.group.id === 'posix-shm' ? this.mountList.find((m) => m.namespace === null) : undefined;
        if (mount) this.describeMount(item, mount);
        item.contextValue = `group.${node.group.id}`;
        return item;
      }
      case 'namespace': {
        const item = new vscode.TreeItem(namespaceLabel(node.ns), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `namespace:${node.ns.namespace.ipc}`;
        item.description = namespaceDescription(node.ns);
        item.tooltip = node.ns.unlisted
          ? `IPC namespace ${node.ns.namespace.ipc} (process ${node.ns.namespace.pid}): not listed, entering it failed with ${node.ns.unlisted} (it needs CAP_SYS_ADMIN)`
          : `IPC namespace ${node.ns.namespace.ipc}, entered through process ${node.ns.namespace.pid}: its System V objects and its /dev/shm`;
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = 'namespace';
        const mount = this.mountList.find((m) => m.namespace?.ipc === node.ns.namespace.ipc);
        if (mount) this.describeMount(item, mount);
        return item;
      }
      case 'object': {
        const r = node.record;
        const ns = 'namespace' in r ? (r as { namespace: { ipc: number; label: string } }).namespace : undefined;
        const item = new vscode.TreeItem(objectLabel(r), vscode.TreeItemCollapsibleState.None);
        item.id = node.leftover ? leftoverId(r) : objectId(r);
        item.description = objectDescription(r, this.config.sizeUnits, !this.scanning);
        const tip = new vscode.MarkdownString(node.leftover ? leftoverTooltip(node.leftover) : objectTooltip(r));
        tip.supportHtml = true;
        item.tooltip = tip;
        const orphan = r.kind === 'shm' && r.orphan;
        item.iconPath = new vscode.ThemeIcon(objectIcon(r), orphan || node.leftover ? new vscode.ThemeColor('list.warningForeground') : undefined);
        if (node.leftover) item.description = `${item.description} · ${ns ? `container ${escapeControl(ns.label)} · ` : ''}leftover`;
        // Waits are matched within a namespace: another namespace's objects share our ids.
        const target = ipc.targetOf(r);
        const waiting = target ? this.waiters.get(waiterKey(ipc.formatTarget(target), ns)) : undefined;
        if (waiting) {
          item.description = `${item.description} · ${waiting.count} waiting`;
          if (waiting.alarm) item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('errorForeground'));
        }
        item.contextValue = ns ? `ns.${r.kind}` : contextValue(r);
        // The default action (click, Enter), as files open from the Explorer: what has bytes opens in the inspector.
        if (!ns && INSPECTABLE.has(r.kind)) item.command = { command: 'shmscope.openInspector', title: 'Open Inspector', arguments: [node] };
        item.accessibilityInformation = { label: `${objectLabel(r)}, ${item.description}` };
        return item;
      }
      case 'program': {
        const g = node.program;
        const item = new vscode.TreeItem(programLabel(g), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = programId(node.group.id, g);
        item.description = programDescription(g, this.config.sizeUnits);
        item.tooltip = new vscode.MarkdownString(programTooltip(g));
        item.iconPath = new vscode.ThemeIcon(g.container ? 'package' : 'symbol-method');
        item.contextValue = 'program';
        item.accessibilityInformation = { label: `${programLabel(g)}, ${item.description}` };
        return item;
      }
      case 'limit': {
        const item = new vscode.TreeItem(limitLabel(node.limit), vscode.TreeItemCollapsibleState.None);
        item.id = `limit:${node.limit.name}`;
        item.description = limitDescription(node.limit);
        item.tooltip = node.limit.description;
        item.iconPath = new vscode.ThemeIcon('symbol-property');
        item.contextValue = 'limit';
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(escapeControl(node.text), vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        if (node.command) item.command = { command: node.command, title: node.text };
        if (node.tooltip) item.tooltip = node.tooltip;
        item.contextValue = 'note';
        return item;
      }
    }
  }

  /**
   * The memory an object takes (resident, swapped, PSS), added to its tooltip when it is hovered:
   * reading its mappers' smaps costs too much for every row of every refresh, so only the hovered
   * one pays, off the refresh. Another namespace's objects (ids not ours) and kinds without memory
   * keep their tooltip.
   */
  async resolveTreeItem(item: vscode.TreeItem, node: Node, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.type !== 'object' || 'namespace' in node.record || !hasMemory(node.record)) return item;
    try {
      const { use } = await memoryOf([node.record]);
      const m = use.get(node.record);
      if (!m || token.isCancellationRequested) return item;
      const before = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : typeof item.tooltip === 'string' ? item.tooltip : '';
      const tip = new vscode.MarkdownString(`${before}\n\n**Memory** ${memoryText(m, (n) => formatSize(n, this.config.sizeUnits))}`);
      tip.supportHtml = true;
      item.tooltip = tip;
    } catch (e) {
      log.warn(describeFailure(`Read the memory of ${objectLabel(node.record)}`, e));
    }
    return item;
  }

  /** A /dev/shm's use after the group's count, its details in the tooltip, a warning above the threshold. */
  private describeMount(item: vscode.TreeItem, m: MountUse): void {
    const warn = mountWarns(m, this.config.devShmWarnPercent);
    item.description = `${String(item.description ?? '')} · ${mountBrief(m, this.config.sizeUnits)}`;
    const tip = new vscode.MarkdownString(`${typeof item.tooltip === 'string' ? `${item.tooltip.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`)}\n\n` : ''}${mountTooltip(m, this.config.devShmWarnPercent)}\n\n${mountDescription(m, this.config.sizeUnits)}`);
    item.tooltip = tip;
    if (warn) {
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    }
  }

  dispose(): void {
    this.changed.dispose();
    this.refreshed.dispose();
  }
}

/** How long a change seen in /dev/shm waits before the listing it causes: 150 ms, or twice the last listing's cost. */
export function watchDelay(lastListingMs: number): number {
  return Math.min(30_000, Math.max(150, 2 * lastListingMs));
}

/** Registers the view, its refresh triggers and its filter commands. */
export function activate(context: vscode.ExtensionContext): { provider: ExplorerProvider; view: vscode.TreeView<Node> } {
  const config = () => readConfig(vscode.workspace.getConfiguration(SECTION));
  const provider = new ExplorerProvider(config());
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  context.subscriptions.push(provider, view);

  const describeFilter = () => {
    const { text, onlyMine } = provider.filter;
    const parts = [text ? `“${text}”` : '', onlyMine ? 'only mine' : ''].filter(Boolean);
    view.description = parts.length ? `filter: ${parts.join(', ')}` : undefined;
    void vscode.commands.executeCommand('setContext', 'shmscope.filtered', parts.length > 0);
    void vscode.commands.executeCommand('setContext', 'shmscope.onlyMine', onlyMine);
  };

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  const arm = () => {
    const c = config();
    provider.setConfig(c);
    describeFilter();
    if (timer) clearInterval(timer);
    // Only while someone looks: a hidden view is refreshed when it shows again.
    timer = c.refreshIntervalMs > 0 ? setInterval(() => { if (view.visible) void provider.refresh(); }, c.refreshIntervalMs) : undefined;
    watcher?.close();
    watcher = undefined;
    if (c.watchDevShm) {
      try {
        // Bursts of changes (a producer creating several objects, or one churning /dev/shm for
        // ever) become one listing per window: the first change arms it and later ones join it.
        // The window is at least twice what the last listing cost, so a /dev/shm that is slow to
        // list (100 000 entries) is re-listed at most a third of the time, never back to back.
        watcher = watch('/dev/shm', () => {
          if (debounce) return;
          debounce = setTimeout(() => {
            debounce = undefined;
            if (view.visible) void provider.refresh();
          }, watchDelay(provider.lastListingMs));
        });
        watcher.on('error', (e) => log.warn(`watching /dev/shm stopped: ${e.message}`));
      } catch (e) {
        log.warn(`cannot watch /dev/shm: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
  arm();
  context.subscriptions.push(
    { dispose: () => { if (timer) clearInterval(timer); if (debounce) clearTimeout(debounce); watcher?.close(); } },
    vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration(SECTION)) arm(); }),
    view.onDidChangeVisibility((e) => { if (e.visible) void provider.refresh(); }),
  );
  registerCommand(context, 'shmscope.refresh', 'Refresh', () => provider.refresh());
  registerCommand(context, 'shmscope.filter', 'Filter', async (text?: string) => {
    const value = typeof text === 'string' ? text : await ask({
      title: 'Filter Shared Memory',
      prompt: 'Show objects whose key, id, name or owner contains this text (empty shows all)',
      value: provider.filter.text,
      parse: anyText,
      invalid: '',
    });
    if (value === undefined) return;
    provider.setFilter(value);
    describeFilter();
  });
  registerCommand(context, 'shmscope.clearFilter', 'Clear Filter', () => {
    provider.setFilter('', false);
    describeFilter();
  });
  registerCommand(context, 'shmscope.toggleReadOnlyFiles', 'Show Read-Only File Mappings', async () => {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    await cfg.update('explorer.showReadOnlyFiles', !config().showReadOnlyFiles, vscode.ConfigurationTarget.Global);
  });
  registerCommand(context, 'shmscope.toggleOnlyMine', 'Only My Objects', () => {
    provider.setFilter(provider.filter.text, !provider.filter.onlyMine);
    describeFilter();
  });
  activateCleanUp(context, provider, () => config().sizeUnits);
  void provider.refresh();
  return { provider, view };
}
