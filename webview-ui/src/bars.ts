// The Go to bar (an offset, relative moves, or a field of the bound schema) and the Find bar
// (hex bytes, text, or a number of a width and byte order; runs in the host, with progress and
// Cancel).
import { parseProcessAddress } from '../../extension/src/shared/address';
import { ChannelError } from '../../extension/src/shared/channel';
import { parseGoto, selectionRange } from '../../extension/src/shared/inspector/navigation';
import { PageRequests, type FindQuery } from '../../extension/src/shared/protocol';
import { el } from './dom';
import { eventTime, mark } from './marks';
import type { Page } from './page';
import { why } from './toolbar';
import { button, select } from './widgets';

export class GotoBar {
  readonly input = el('input', { type: 'text', id: 'goto-input', 'aria-label': 'Offset: decimal, 0x hex, or +N / -N relative', placeholder: 'offset: 1234, 0x4d2, +16, -0x10', size: '32' });
  private readonly msg = el('span', { class: 'message', id: 'goto-message', 'aria-live': 'polite' });
  readonly element = el('div', { class: 'bar', id: 'goto-bar', hidden: '' }, el('label', { for: 'goto-input' }, 'Go to offset'), this.input, this.msg);

  constructor(private readonly page: Page, private readonly hide: () => void) {
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') return hide();
      if (e.key !== 'Enter') return;
      mark('inputAt', eventTime(e));
      this.go(this.input.value);
    });
    // Read the target's rows while it is typed: Enter then paints them without a round trip.
    this.input.addEventListener('input', () => {
      const { state, reader } = this.page;
      const r = parseGoto(this.input.value, state.cursor, state.size);
      if (r.ok) reader.prefetch(r.offset);
    });
  }

  /** The placeholder says whether field names work (a schema is bound). */
  setBound(bound: boolean): void {
    this.input.placeholder = bound ? 'offset or field: 1234, 0x4d2, +16, hdr.head' : 'offset: 1234, 0x4d2, +16, -0x10';
  }

  private error(text: string): void {
    this.msg.textContent = text;
    this.msg.classList.add('error');
  }

  private done(): void {
    this.msg.textContent = '';
    this.msg.classList.remove('error');
    this.hide();
  }

  private go(text: string): void {
    const { state, view, structure } = this.page;
    const r = parseGoto(text, state.cursor, state.size);
    if (!r.ok && ((structure.bound && /^[A-Za-z_]/.test(text.trim())) || parseProcessAddress(text))) {
      // Not a number: a field name of the bound schema, or a process's address ("pid 4242: 0x7f…").
      this.page.ch.request(PageRequests.resolve, { text: text.trim() }).then((f) => {
        this.done();
        view.revealRange(f.offset, f.length);
        if (f.id) structure.reveal(f.id, f.row);
      }, (e: unknown) => this.error(why(e)));
      return;
    }
    if (!r.ok) return this.error(r.message);
    this.done();
    view.revealRange(r.offset, 1);
  }
}

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
