// The data inspector of the selection, in the side panel (part of the page's lazily loaded rest).
import { inspect, inspectedOffset } from '../../extension/src/shared/inspector/datainspector';
import { el } from './dom';
import { byteAt, type PageState } from './state';
import { button } from './widgets';

/** The data inspector: the bytes at the selection's start (or the cursor) as every integer width, floats, text and times. */
export class DataPanel {
  private readonly body = el('tbody');
  private readonly endian: HTMLButtonElement;
  readonly element: HTMLElement;

  constructor(private readonly state: PageState) {
    this.endian = button('Little endian', 'Byte order of the data inspector', () => {
      state.littleEndian = !state.littleEndian;
      this.endian.textContent = state.littleEndian ? 'Little endian' : 'Big endian';
      this.render();
    }, 'endian');
    this.element = el('aside', { class: 'inspector', id: 'data-inspector', 'aria-label': 'Data inspector', tabindex: '0' }, this.endian, el('table', {}, this.body));
  }

  render(): void {
    const s = this.state;
    const at = inspectedOffset(s.anchor, s.cursor);
    const bytes = new Uint8Array(8);
    let n = 0;
    for (; n < 8; n++) {
      const b = byteAt(s, at + n);
      if (b === undefined || at + n >= s.size) break;
      bytes[n] = b;
    }
    const rows = inspect(bytes.subarray(0, n), s.littleEndian);
    if (this.body.children.length !== rows.length) {
      this.body.replaceChildren(...rows.map(() => el('tr', {}, el('th', { scope: 'row' }), el('td'))));
    }
    rows.forEach((r, i) => {
      const tr = this.body.children[i]!;
      tr.children[0]!.textContent = r.label;
      tr.children[1]!.textContent = r.value ?? '—';
    });
  }
}
