// Scrolling and the cursor: which rows are shown (a scaled scrollbar over any size, the wheel,
// resizes), where the cursor and selection are, and the view state the host is told about.
import type { Endpoint } from '../../extension/src/shared/channel';
import { selectionRange } from '../../extension/src/shared/inspector/navigation';
import * as vp from '../../extension/src/shared/inspector/viewport';
import { PageNotes } from '../../extension/src/shared/protocol';
import type { Grid } from './grid';
import type { PageState } from './state';

export interface ViewHooks {
  /** The rows to show changed: read them. */
  read(): void;
  /** The rows shown moved and were painted (from the bytes the page has, if it has them). */
  moved(): void;
  /** The grid was painted: the status line and data inspector follow. */
  painted(): void;
  /** A sentence for the banner (the object changed size). */
  banner(text: string): void;
  /** Pixels at the grid's top that an open overlay (Go to, Find) covers. */
  covered(): number;
}

export class View {
  private expectedScrollTop = 0;

  constructor(private readonly state: PageState, private readonly grid: Grid, private readonly ch: Endpoint, private readonly hooks: ViewHooks) {
    const scroller = grid.scroller;
    scroller.addEventListener('scroll', () => {
      // Our own scrollTop writes echo back here; only a user's drag moves the first row.
      if (Math.abs(scroller.scrollTop - this.expectedScrollTop) < 1) return;
      // A resize (a bar shown or hidden) moves scrollTop before the ResizeObserver runs: that is not
      // the user scrolling, so keep the first row and put the scrollbar where the new geometry says.
      if (scroller.clientHeight !== grid.measuredScroller) {
        grid.measure();
        this.setFirstRow(state.firstRow);
        return;
      }
      this.expectedScrollTop = scroller.scrollTop;
      const r = vp.firstRowAt(grid.geometry(), scroller.scrollTop);
      if (r !== state.firstRow) {
        state.firstRow = r;
        hooks.read();
        this.render();
        hooks.moved();
        this.sendState();
      }
    });
    grid.element.addEventListener('wheel', (e) => {
      e.preventDefault();
      const rows = e.deltaMode === 1 ? e.deltaY : e.deltaMode === 2 ? e.deltaY * vp.pageRows(grid.geometry()) : e.deltaY / grid.rowHeight;
      this.setFirstRow(state.firstRow + Math.trunc(rows === 0 ? 0 : rows > 0 ? Math.max(1, rows) : Math.min(-1, rows)));
    }, { passive: false });
    new ResizeObserver(() => {
      const before = vp.renderRows(grid.geometry());
      grid.measure();
      const first = vp.clampFirstRow(grid.geometry(), state.firstRow);
      if (vp.renderRows(grid.geometry()) !== before) {
        state.firstRow = first;
        hooks.read();
      }
      this.setFirstRow(first);
    }).observe(grid.element);
  }

  render(): void {
    this.grid.render();
    this.hooks.painted();
  }

  setFirstRow(row: number): void {
    const g = this.grid.geometry();
    const r = vp.clampFirstRow(g, row);
    const moved = r !== this.state.firstRow;
    if (moved) {
      this.state.firstRow = r;
      this.hooks.read();
    }
    this.expectedScrollTop = vp.scrollTopFor(g, r);
    if (Math.abs(this.grid.scroller.scrollTop - this.expectedScrollTop) >= 1) this.grid.scroller.scrollTop = this.expectedScrollTop;
    this.render();
    if (moved) this.hooks.moved();
    this.sendState();
  }

  setCursor(offset: number, extend: boolean, reveal = true): void {
    const s = this.state;
    s.cursor = Math.max(0, Math.min(Math.max(0, s.size - 1), offset));
    if (!extend) s.anchor = s.cursor;
    s.pendingNibble = undefined;
    if (reveal) {
      const row = vp.rowOf(s.cursor, s.bytesPerRow).row;
      const first = vp.firstRowToReveal(this.grid.geometry(), s.firstRow, row);
      if (first !== s.firstRow) {
        this.setFirstRow(first);
        return;
      }
    }
    this.render();
    this.sendState();
  }

  /**
   * Selects a range and shows it with a little context above, below the rows an open overlay
   * covers (Find stays open while its matches are shown).
   */
  revealRange(offset: number, length: number): void {
    const s = this.state;
    const g = this.grid.geometry();
    const row = vp.rowOf(offset, s.bytesPerRow).row;
    s.anchor = offset;
    s.cursor = Math.min(s.size - 1, offset + Math.max(1, length) - 1);
    s.pendingNibble = undefined;
    const page = vp.pageRows(g);
    const hidden = Math.min(Math.floor(page / 2), Math.ceil(this.hooks.covered() / this.grid.rowHeight));
    if (row >= s.firstRow + hidden && row < s.firstRow + page) {
      this.render();
      this.sendState();
    } else {
      this.setFirstRow(row - Math.max(hidden, Math.min(2, Math.floor(page / 3))));
    }
  }

  /** The object's size changed: clamp the cursor and rows, and say so (not for the first size). */
  applySize(size: number): void {
    const s = this.state;
    if (size === s.size) return;
    const old = s.size;
    s.size = size;
    s.cursor = Math.min(s.cursor, Math.max(0, size - 1));
    s.anchor = Math.min(s.anchor, Math.max(0, size - 1));
    s.firstRow = vp.clampFirstRow(this.grid.geometry(), s.firstRow);
    this.grid.setSpacer();
    if (old !== 0) this.hooks.banner(`The object's size changed from ${old} to ${size} bytes.`);
  }

  /** Rows a page holds, for Page Up/Down. */
  pageRows(): number {
    return vp.pageRows(this.grid.geometry());
  }

  sendState(): void {
    const s = this.state;
    this.ch.notify(PageNotes.state, {
      cursor: s.cursor,
      selection: selectionRange(s.anchor, s.cursor),
      paused: s.paused,
      firstRow: s.firstRow,
      visible: vp.windowFor(s.firstRow, this.pageRows(), s.bytesPerRow, s.size),
    });
  }
}
