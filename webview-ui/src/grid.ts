// The hex grid's DOM: offset, hex and ASCII columns in a pool of reused row elements (never more
// than a screen), painted from the last bytes read with every decoration layer's classes.
import { Decorations } from '../../extension/src/shared/inspector/decorations';
import { formatOffset } from '../../extension/src/shared/inspector/navigation';
import * as vp from '../../extension/src/shared/inspector/viewport';
import { el } from './dom';
import { byteAt, type PageState } from './state';

interface RowEls { row: HTMLDivElement; off: HTMLDivElement; hex: HTMLSpanElement[]; ascii: HTMLSpanElement[] }

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class Grid {
  readonly headerHex = el('div', { class: 'hex' });
  readonly header = el('div', { class: 'row header', 'aria-hidden': 'true' }, el('div', { class: 'off' }, 'Offset'), this.headerHex, el('div', { class: 'ascii' }, 'ASCII'));
  readonly rowsBox = el('div', { class: 'rows', id: 'rows' });
  readonly element = el('div', { class: 'grid', id: 'grid', tabindex: '0', role: 'grid', 'aria-label': 'Hex view', 'aria-readonly': 'true' }, this.header, this.rowsBox);
  readonly spacer = el('div', { class: 'spacer' });
  /** The scroller spans the header row too; the spacer makes up for it (see viewport.ts). It is hidden from
   *  assistive technology and out of the Tab order (Chromium makes a scrollable box focusable by itself):
   *  keyboard users scroll through the grid. */
  readonly scroller = el('div', { class: 'scroller', id: 'scroller', 'aria-hidden': 'true', tabindex: '-1' }, this.spacer);
  /** What the bytes are painted with; panels register their layers here. */
  readonly decorations = new Decorations();
  private pool: RowEls[] = [];
  rowHeight = 20;
  private viewportPx = 400;
  private chromePx = 0;
  /** The scroller's height when last measured (a change means a bar was shown or hidden). */
  measuredScroller = 0;

  constructor(private readonly state: PageState) {}

  geometry(): vp.ScrollGeometry {
    const s = this.state;
    return { rows: vp.rowCount(s.size, s.bytesPerRow), rowHeight: this.rowHeight, viewport: Math.max(this.rowHeight, this.viewportPx), chrome: this.chromePx };
  }

  /** Drops the row pool (bytes per row changed). */
  reset(): void {
    this.pool = [];
  }

  setSpacer(): void {
    this.spacer.style.height = `${vp.spacerHeight(this.geometry())}px`;
  }

  measure(): void {
    const probe = this.pool[0]?.row ?? this.header;
    const h = probe.getBoundingClientRect().height;
    if (h > 0) this.rowHeight = h;
    this.viewportPx = this.element.clientHeight - this.header.getBoundingClientRect().height;
    this.chromePx = Math.max(0, this.scroller.clientHeight - this.viewportPx);
    this.measuredScroller = this.scroller.clientHeight;
    this.setSpacer();
  }

  private buildRows(count: number): void {
    const bpr = this.state.bytesPerRow;
    if (this.pool.length === count && this.pool[0]?.hex.length === bpr) return;
    this.rowsBox.replaceChildren();
    this.pool = [];
    this.headerHex.replaceChildren(...Array.from({ length: bpr }, (_, i) => el('span', {}, i.toString(16).padStart(2, '0'))));
    for (let r = 0; r < count; r++) {
      const off = el('div', { class: 'off' });
      const hex: HTMLSpanElement[] = [];
      const ascii: HTMLSpanElement[] = [];
      const hexBox = el('div', { class: 'hex' });
      const asciiBox = el('div', { class: 'ascii' });
      for (let c = 0; c < bpr; c++) {
        const h = el('span', { 'data-col': String(c) });
        const a = el('span', { 'data-col': String(c) });
        hex.push(h);
        ascii.push(a);
        hexBox.append(h);
        asciiBox.append(a);
      }
      const row = el('div', { class: 'row', role: 'row' }, off, hexBox, asciiBox);
      this.pool.push({ row, off, hex, ascii });
      this.rowsBox.append(row);
    }
  }

  /** Paints the visible rows from the last bytes read. Cheap: text and classes of reused spans. */
  render(): void {
    const s = this.state;
    this.buildRows(vp.renderRows(this.geometry()));
    const bpr = s.bytesPerRow;
    this.decorations.begin(s.firstRow * bpr, performance.now());
    for (let r = 0; r < this.pool.length; r++) {
      const p = this.pool[r]!;
      const rowOff = (s.firstRow + r) * bpr;
      if (rowOff >= s.size) {
        p.row.hidden = true;
        continue;
      }
      p.row.hidden = false;
      p.row.dataset.offset = String(rowOff);
      p.off.textContent = formatOffset(rowOff, s.size);
      for (let c = 0; c < bpr; c++) {
        const o = rowOff + c;
        const h = p.hex[c]!;
        const a = p.ascii[c]!;
        if (o >= s.size) {
          h.textContent = '  ';
          a.textContent = ' ';
          h.className = a.className = '';
          h.removeAttribute('data-offset');
          continue;
        }
        const b = byteAt(s, o);
        h.dataset.offset = a.dataset.offset = String(o);
        let cls = '';
        if (b === undefined) {
          h.textContent = '··';
          a.textContent = '·';
          cls = 'missing';
        } else {
          h.textContent = HEX[b]!;
          a.textContent = b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
          if (b === 0) cls = 'zero';
        }
        const layered = this.decorations.classes(o);
        h.className = a.className = cls && layered ? `${cls} ${layered}` : cls || layered;
      }
    }
    this.element.classList.toggle('ascii-active', s.asciiActive);
  }
}

export { HEX };
