// The structure panel of the inspector page: the bound schema's decoded fields as a virtualized
// tree (the host flattens and decodes only the rows asked for), a line with every check's state,
// typed editing of a field's value in read-write tabs, and the object's bookmarks. The hex grid
// owns bytes and selection; this panel asks it to select a field's bytes and is told which field
// the grid's cursor is on. The object's bookmarks are listed below it (bookmarks.ts).
import type { Endpoint } from '../../extension/src/shared/channel';
import * as vp from '../../extension/src/shared/inspector/viewport';
import { MAX_TREE_ROWS, PageRequests, type CheckSummary, type SchemaParams, type TreeResult, type TreeRow } from '../../extension/src/shared/protocol';
import { el } from './dom';
import { FieldEditor } from './fieldedit';
import { mark } from './marks';
import { why } from './toolbar';

export interface StructureDeps {
  /** The channel to the host. */
  ch: Endpoint;
  /** Selects bytes in the grid and scrolls them into view. */
  selectBytes(offset: number, length: number): void;
  message(text: string, error?: boolean): void;
  readOnly(): boolean;
  /** The grid re-reads (after an edit). */
  refreshBytes(): void;
  /** Ctrl+Z / Ctrl+Y (Ctrl+Shift+Z) in the tree: the tab's undo and redo, which field edits join. */
  undo(redo: boolean): void;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const CHECK_ICON = (ok: boolean | null) => (ok === true ? '✓' : ok === false ? '✗' : '?');
const CHECK_CLASS = (ok: boolean | null) => (ok === true ? 'ok' : ok === false ? 'failed' : 'unknown');

interface RowEls {
  row: HTMLDivElement;
  twisty: HTMLSpanElement;
  swatch: HTMLSpanElement;
  name: HTMLSpanElement;
  offset: HTMLSpanElement;
  type: HTMLSpanElement;
  value: HTMLSpanElement;
  checks: HTMLSpanElement;
}

export class StructurePanel {
  readonly element: HTMLElement;
  private readonly title = el('span', { class: 'title', id: 'structure-title' });
  private readonly summaryLine = el('div', { class: 'summary', id: 'structure-summary', 'aria-live': 'polite' });
  private readonly problemLine = el('div', { class: 'problem', id: 'structure-problem', hidden: '' });
  private readonly rowsBox = el('div', { class: 'trows' });
  private readonly spacer = el('div', { class: 'spacer' });
  private readonly scroller = el('div', { class: 'tscroller', 'aria-hidden': 'true', tabindex: '-1' }, this.spacer);
  private readonly tree = el('div', { class: 'tree', id: 'structure-tree', role: 'tree', tabindex: '0', 'aria-label': 'Structure' }, this.rowsBox);
  private readonly structBox: HTMLElement;

  bound = false;
  private total = 0;
  private first = 0;
  private rows: TreeRow[] = [];
  private rowsFirst = 0;
  private pool: RowEls[] = [];
  private rowHeight = 20;
  private viewport = 200;
  /** The selected row, by id (survives refreshes); its index when known. */
  private selectedId: string | undefined;
  private selectedIndex = -1;
  private inFlight = false;
  private again = false;
  private pendingToggle: { id: string; expand: boolean } | undefined;
  /** Typed editing of a value (read-write tabs). */
  private readonly editor: FieldEditor;
  private expectedScrollTop = 0;

  constructor(private readonly deps: StructureDeps) {
    this.editor = new FieldEditor(deps, {
      tree: this.tree,
      valueCell: (id) => this.pool.find((p) => p.row.dataset.id === id && !p.row.hidden)?.value,
      render: () => this.render(),
      refresh: () => this.refresh(),
    });
    const header = el('div', { class: 'theader', 'aria-hidden': 'true' }, el('span', {}, 'Field'), el('span', {}, 'Offset'), el('span', {}, 'Type'), el('span', {}, 'Value'), el('span', {}, ''));
    this.structBox = el('section', { class: 'structure', id: 'structure', hidden: '', 'aria-label': 'Structure' },
      el('div', { class: 'section-title' }, this.title),
      this.problemLine,
      this.summaryLine,
      header,
      el('div', { class: 'tbody' }, this.tree, this.scroller),
    );
    this.element = this.structBox;

    this.tree.addEventListener('keydown', (e) => this.onKey(e));
    this.tree.addEventListener('wheel', (e) => {
      e.preventDefault();
      const rows = e.deltaMode === 1 ? e.deltaY : e.deltaMode === 2 ? e.deltaY * this.pageRows() : e.deltaY / this.rowHeight;
      this.scrollTo(this.first + Math.trunc(rows === 0 ? 0 : rows > 0 ? Math.max(1, rows) : Math.min(-1, rows)));
    }, { passive: false });
    this.scroller.addEventListener('scroll', () => {
      if (Math.abs(this.scroller.scrollTop - this.expectedScrollTop) < 1) return;
      this.expectedScrollTop = this.scroller.scrollTop;
      const r = vp.firstRowAt(this.geometry(), this.scroller.scrollTop);
      if (r !== this.first) {
        this.first = r;
        this.refresh();
      }
    });
    new ResizeObserver(() => {
      this.measure();
      this.refresh();
    }).observe(this.tree);
  }

  // ------------------------------------------------------------------------------ binding

  onSchema(m: SchemaParams): void {
    const was = this.bound;
    this.bound = m.label !== undefined;
    this.structBox.hidden = !this.bound;
    document.body.classList.toggle('has-schema', this.bound);
    document.body.dataset.schema = m.label ?? '';
    this.title.textContent = m.label ? `Structure · ${m.label}` : 'Structure';
    this.title.title = m.how ? `${m.label} (${m.how})` : '';
    this.problemLine.hidden = !m.problem;
    this.problemLine.textContent = m.problem ?? '';
    if (!was && this.bound) {
      this.first = 0;
      this.selectedId = undefined;
      this.selectedIndex = -1;
    }
    if (this.bound) {
      this.measure();
      this.refresh();
    }
  }

  // ------------------------------------------------------------------------------ rows

  private geometry(): vp.ScrollGeometry {
    return { rows: this.total, rowHeight: this.rowHeight, viewport: Math.max(this.rowHeight, this.viewport) };
  }

  private pageRows(): number {
    return vp.pageRows(this.geometry());
  }

  private measure(): void {
    const h = this.pool[0]?.row.getBoundingClientRect().height;
    if (h && h > 0) this.rowHeight = h;
    this.viewport = this.tree.clientHeight;
    this.spacer.style.height = `${vp.spacerHeight(this.geometry())}px`;
  }

  /** Asks the host for the visible rows (one request at a time; a newer need runs next). */
  refresh(): void {
    if (!this.bound) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    const count = Math.min(MAX_TREE_ROWS, vp.renderRows({ ...this.geometry(), rows: Math.max(this.total, 1e9) }));
    const toggle = this.pendingToggle;
    this.pendingToggle = undefined;
    // A tree request the host refuses or does not answer in time ends like any other: the panel
    // says why and the next refresh asks again.
    this.deps.ch.request(PageRequests.tree, { first: this.first, count, ...(toggle ? { toggle } : {}) }).then(
      (r) => this.apply(r),
      (e: unknown) => this.deps.message(why(e), true),
    ).finally(() => {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
  }

  private apply(r: TreeResult): void {
    const totalChanged = r.total !== this.total;
    this.total = r.total;
    this.rows = r.rows;
    this.rowsFirst = r.first;
    if (totalChanged) this.spacer.style.height = `${vp.spacerHeight(this.geometry())}px`;
    const clamped = vp.clampFirstRow(this.geometry(), this.first);
    if (clamped !== this.first) {
      this.first = clamped;
      this.again = true;
    }
    this.expectedScrollTop = vp.scrollTopFor(this.geometry(), this.first);
    if (Math.abs(this.scroller.scrollTop - this.expectedScrollTop) >= 1) this.scroller.scrollTop = this.expectedScrollTop;
    if (this.selectedId !== undefined) {
      const i = r.rows.findIndex((x) => x.id === this.selectedId);
      if (i >= 0) this.selectedIndex = r.first + i;
    }
    this.renderSummary(r.summary);
    this.render();
    document.body.dataset.treeRows = String(r.total);
    mark('treeAt');
  }

  private renderSummary(s: CheckSummary): void {
    const parts: string[] = [];
    if (s.ok) parts.push(`✓ ${s.ok} ok`);
    if (s.failed) parts.push(`✗ ${s.failed} failed`);
    if (s.unknown) parts.push(`? ${s.unknown} unknown`);
    const firstBad = s.items.find((i) => i.ok !== true);
    this.summaryLine.textContent = parts.length ? `Checks: ${parts.join(' · ')}${s.partial ? ' (of the fields visited)' : ''}${firstBad ? ` — ${firstBad.path}: ${firstBad.text}` : ''}` : 'No checks in this schema';
    this.summaryLine.className = `summary ${s.failed ? 'failed' : s.unknown ? 'unknown' : s.ok ? 'ok' : ''}`;
    this.summaryLine.title = s.items.map((i) => `${CHECK_ICON(i.ok)} ${i.path}: ${i.text}`).join('\n');
    document.body.dataset.checks = JSON.stringify({ ok: s.ok, failed: s.failed, unknown: s.unknown });
  }

  private buildPool(n: number): void {
    if (this.pool.length === n) return;
    this.rowsBox.replaceChildren();
    this.pool = [];
    for (let i = 0; i < n; i++) {
      const twisty = el('span', { class: 'twisty' });
      const swatch = el('span', { class: 'swatch' });
      const name = el('span', { class: 'name' });
      const offset = el('span', { class: 'toff' });
      const type = el('span', { class: 'ttype' });
      const value = el('span', { class: 'tval' });
      const checks = el('span', { class: 'tchecks' });
      const row = el('div', { class: 'trow', role: 'treeitem' }, el('span', { class: 'tname' }, twisty, swatch, name), offset, type, value, checks);
      const slot = i;
      row.addEventListener('mousedown', (e) => {
        if ((e.target as HTMLElement).tagName === 'INPUT') return;
        e.preventDefault();
        this.tree.focus();
        const r = this.rowAtSlot(slot);
        if (!r) return;
        if (e.target === twisty && r.expandable) this.toggle(r, !r.expanded);
        else this.select(this.first + slot, r, true);
      });
      row.addEventListener('dblclick', (e) => {
        const r = this.rowAtSlot(slot);
        if (!r) return;
        if (e.target === value || e.target === row) this.editor.begin(r);
        else if (r.expandable) this.toggle(r, !r.expanded);
      });
      this.pool.push({ row, twisty, swatch, name, offset, type, value, checks });
      this.rowsBox.append(row);
    }
  }

  private rowAtSlot(slot: number): TreeRow | undefined {
    return this.rows[this.first + slot - this.rowsFirst];
  }

  private render(): void {
    this.buildPool(Math.min(this.total, vp.renderRows(this.geometry())));
    for (let s = 0; s < this.pool.length; s++) {
      const p = this.pool[s]!;
      const r = this.rowAtSlot(s);
      if (!r) {
        p.row.hidden = true;
        continue;
      }
      p.row.hidden = false;
      if (this.editor.editing && this.editor.editing.id === r.id && p.value.contains(this.editor.editing.input)) {
        // Leave the row being edited alone.
      } else {
        p.value.textContent = r.value;
      }
      p.row.dataset.id = r.id;
      p.row.dataset.path = r.path;
      // The workbench's context menu on a row (webview/context: Watch) gets the row's path.
      p.row.dataset.vscodeContext = JSON.stringify({ webviewSection: 'field', path: r.path, preventDefaultContextMenuItems: true });
      p.row.style.paddingLeft = `${r.depth * 12}px`;
      p.row.setAttribute('aria-level', String(r.depth + 1));
      if (r.expandable) p.row.setAttribute('aria-expanded', String(r.expanded));
      else p.row.removeAttribute('aria-expanded');
      const selected = r.id === this.selectedId;
      p.row.setAttribute('aria-selected', String(selected));
      p.row.classList.toggle('selected', selected);
      p.row.classList.toggle('has-problem', r.problem !== undefined);
      p.row.classList.toggle('editable', r.editable && !this.deps.readOnly());
      p.twisty.textContent = r.expandable ? (r.expanded ? '▾' : '▸') : '';
      p.swatch.className = `swatch t${r.tint}`;
      p.name.textContent = r.name;
      p.offset.textContent = hex(r.offset);
      p.type.textContent = r.type;
      p.checks.replaceChildren(...r.checks.map((c) => el('span', { class: `check ${CHECK_CLASS(c.ok)}`, title: c.text, 'aria-label': c.text }, CHECK_ICON(c.ok))));
      if (r.problem) p.checks.append(el('span', { class: 'check problem', title: r.problem, 'aria-label': r.problem }, '⚠'));
      const checks = r.checks.map((c) => c.text).join('; ');
      p.row.title = `${r.path || r.name}: ${r.type} at ${hex(r.offset)}, ${r.size} byte${r.size === 1 ? '' : 's'}${checks ? `\n${checks}` : ''}${r.problem ? `\n${r.problem}` : ''}${r.editable && !this.deps.readOnly() ? '\nDouble-click the value or press F2 to edit it' : ''}`;
      p.row.setAttribute('aria-label', `${r.name}, ${r.type} at ${hex(r.offset)}: ${r.value}${checks ? `, ${checks}` : ''}`);
    }
  }

  private scrollTo(row: number): void {
    const r = vp.clampFirstRow(this.geometry(), row);
    if (r === this.first) return;
    this.first = r;
    this.expectedScrollTop = vp.scrollTopFor(this.geometry(), r);
    this.scroller.scrollTop = this.expectedScrollTop;
    this.render();
    this.refresh();
  }

  private select(index: number, r: TreeRow | undefined, selectBytes: boolean): void {
    this.selectedIndex = index;
    this.selectedId = r?.id;
    const page = this.pageRows();
    if (index < this.first) this.scrollTo(index);
    else if (index >= this.first + page) this.scrollTo(index - page + 1);
    this.render();
    if (r && selectBytes) this.deps.selectBytes(r.offset, Math.max(1, r.size));
  }

  /** The grid's cursor is on this field (a locate/resolve reply): select and show its row. */
  reveal(id: string, row: number | undefined): void {
    this.selectedId = id;
    if (row !== undefined) {
      this.selectedIndex = row;
      const page = this.pageRows();
      if (row < this.first || row >= this.first + page) this.first = Math.max(0, row - Math.floor(page / 3));
    }
    this.refresh();
  }

  private toggle(r: TreeRow, expand: boolean): void {
    this.pendingToggle = { id: r.id, expand };
    this.refresh();
  }

  private onKey(e: KeyboardEvent): void {
    if (this.editor.editing) return;
    // Alt combinations are the workbench's (a replay's Alt+PageDown finds the next change of the
    // selection): paging the tree too would move the selection it follows.
    if (e.altKey) return;
    const k = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && (k === 'z' || k === 'y')) {
      e.preventDefault();
      this.deps.undo(k === 'y' || e.shiftKey);
      return;
    }
    const idx = this.selectedIndex < 0 ? this.first : this.selectedIndex;
    const r = this.rows[idx - this.rowsFirst];
    const go = (i: number) => {
      const j = Math.max(0, Math.min(this.total - 1, i));
      this.selectedIndex = j;
      const page = this.pageRows();
      if (j < this.first) this.scrollTo(j);
      else if (j >= this.first + page) this.scrollTo(j - page + 1);
      const row = this.rows[j - this.rowsFirst];
      this.selectedId = row?.id;
      this.render();
      if (row) this.deps.selectBytes(row.offset, Math.max(1, row.size));
      else this.refresh();
    };
    switch (e.key) {
      case 'ArrowDown':
        go(idx + 1);
        break;
      case 'ArrowUp':
        go(idx - 1);
        break;
      case 'PageDown':
        go(idx + this.pageRows());
        break;
      case 'PageUp':
        go(idx - this.pageRows());
        break;
      case 'Home':
        go(0);
        break;
      case 'End':
        go(this.total - 1);
        break;
      case 'ArrowRight':
        if (r?.expandable && !r.expanded) this.toggle(r, true);
        else if (r?.expanded) go(idx + 1);
        break;
      case 'ArrowLeft':
        if (r?.expanded) this.toggle(r, false);
        else if (r && r.depth > 0) {
          for (let i = idx - 1; i >= this.rowsFirst; i--) {
            if (this.rows[i - this.rowsFirst]!.depth < r.depth) {
              go(i);
              break;
            }
          }
        }
        break;
      case 'Enter':
        if (r) this.deps.selectBytes(r.offset, Math.max(1, r.size));
        break;
      case 'F2':
        if (r) this.editor.begin(r);
        break;
      case 'c':
      case 'C':
        if (!(e.ctrlKey || e.metaKey) || !r) return;
        this.copyRow(r);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  /** Copies `path = value` of a row (Ctrl+C in the tree). */
  private copyRow(r: TreeRow): void {
    const text = `${r.path || r.name} = ${r.value}`;
    this.deps.ch.request(PageRequests.copyText, { text }).then(
      () => this.deps.message(`copied ${text.length > 60 ? `${text.slice(0, 59)}…` : text}`),
      (e: unknown) => this.deps.message(why(e), true),
    );
  }
}
