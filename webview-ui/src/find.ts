// The Find bar: hex bytes, text, or a number of a width and byte order; the search runs in the
// host, with progress and Cancel. An overlay under Go to's place (part of the page's lazily
// loaded rest).
import { ChannelError } from '../../extension/src/shared/channel';
import { selectionRange } from '../../extension/src/shared/inspector/navigation';
import { PageRequests, type FindQuery } from '../../extension/src/shared/protocol';
import { el } from './dom';
import type { Page } from './page';
import { why } from './toolbar';
import { button, select } from './widgets';

export class FindBar {
  private readonly kind = select<FindQuery['kind']>('Find what', [['hex', 'Hex bytes'], ['text', 'Text'], ['number', 'Number']], 'find-kind');
  private readonly width = select('Number width', [['1', '8-bit'], ['2', '16-bit'], ['4', '32-bit'], ['8', '64-bit']], 'find-width');
  private readonly endian = select('Number byte order', [['le', 'little endian'], ['be', 'big endian']], 'find-endian');
  readonly input = el('input', { type: 'text', id: 'find-input', 'aria-label': 'Find', placeholder: 'de ad be ef', size: '32' });
  private readonly msg = el('span', { class: 'message', id: 'find-message', 'aria-live': 'polite' });
  readonly element: HTMLElement;
  /** The running search, to cancel. */
  private running: AbortController | undefined;

  constructor(private readonly page: Page, hide: () => void) {
    this.width.value = '4';
    this.element = el('div', { class: 'bar', id: 'find-bar', hidden: '' },
      this.kind, this.width, this.endian, this.input,
      button('Previous', 'Find previous (Shift+Enter)', () => this.find(true), 'find-prev'),
      button('Next', 'Find next (Enter)', () => this.find(false), 'find-next'),
      button('Cancel', 'Cancel the search', () => this.cancel(), 'find-cancel'), this.msg);
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') return hide();
      if (e.key === 'Enter') this.find(e.shiftKey);
    });
    const syncKind = () => {
      const num = this.kind.value === 'number';
      this.width.hidden = !num;
      this.endian.hidden = !num;
      this.input.placeholder = this.kind.value === 'hex' ? 'de ad be ef' : this.kind.value === 'text' ? 'text' : '1234 or 0x4d2';
    };
    this.kind.addEventListener('change', syncKind);
    syncKind();
  }

  find(backward: boolean): void {
    if (this.input.value.length === 0) return;
    this.cancel();
    const { state, view } = this.page;
    const kind = this.kind.value as FindQuery['kind'];
    const query: FindQuery = { kind, text: this.input.value };
    if (kind === 'number') {
      query.width = Number(this.width.value) as 1 | 2 | 4 | 8;
      query.endian = this.endian.value as 'le' | 'be';
    }
    const sel = selectionRange(state.anchor, state.cursor);
    const from = backward ? sel.offset : sel.offset + (sel.length > 1 || state.lastFound === sel.offset ? 1 : 0);
    const ac = new AbortController();
    this.running = ac;
    this.msg.textContent = 'searching…';
    this.msg.classList.remove('error');
    const mine = () => this.running === ac;
    this.page.ch.request(PageRequests.find, { query, from, backward }, {
      signal: ac.signal,
      onProgress: (done, total) => { if (mine()) this.msg.textContent = `searching… ${Math.floor((100 * done) / Math.max(1, total))}%`; },
    }).then((r) => {
      if (r.offset === null) {
        this.msg.textContent = 'not found';
      } else {
        this.msg.textContent = `found at 0x${r.offset.toString(16)} (${r.offset})`;
        state.lastFound = r.offset;
        view.revealRange(r.offset, r.length);
      }
    }, (e: unknown) => {
      this.msg.textContent = why(e);
      this.msg.classList.toggle('error', !(e instanceof ChannelError && e.code === 'ECANCELED'));
    }).finally(() => {
      if (mine()) this.running = undefined;
    });
  }

  cancel(): void {
    this.running?.abort();
  }
}
