// The Go to bar: an offset, relative moves, or a field of the bound schema (or a process's
// address). The Find bar is find.ts.
import { parseProcessAddress } from '../../extension/src/shared/address';
import { parseGoto } from '../../extension/src/shared/inspector/navigation';
import { PageRequests } from '../../extension/src/shared/protocol';
import { el } from './dom';
import { eventTime, mark } from './marks';
import type { Page } from './page';
import { why } from './toolbar';

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
    if (!r.ok && ((structure?.bound && /^[A-Za-z_]/.test(text.trim())) || parseProcessAddress(text))) {
      // Not a number: a field name of the bound schema, or a process's address ("pid 4242: 0x7f…").
      this.page.ch.request(PageRequests.resolve, { text: text.trim() }).then((f) => {
        this.done();
        view.revealRange(f.offset, f.length);
        if (f.id) structure?.reveal(f.id, f.row);
      }, (e: unknown) => this.error(why(e)));
      return;
    }
    if (!r.ok) return this.error(r.message);
    this.done();
    view.revealRange(r.offset, 1);
  }
}
