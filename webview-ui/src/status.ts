// The status line (cursor, selection, size, live state, the field under the mouse, the last
// message) and the banner for what happened to the object. The data inspector is datapanel.ts.
import { selectionRange } from '../../extension/src/shared/inspector/navigation';
import { el } from './dom';
import type { PageState } from './state';

export class StatusLine {
  readonly banner = el('div', { class: 'banner', role: 'alert', id: 'banner', hidden: '' });
  private readonly cursor = el('span', { id: 'status-cursor' });
  private readonly sel = el('span', { id: 'status-selection' });
  private readonly size = el('span', { id: 'status-size' });
  private readonly live = el('span', { id: 'status-live' });
  /** The object's resident, swapped and PSS bytes, as the host last read them (empty until then). */
  private readonly memory = el('span', { id: 'status-memory' });
  readonly field = el('span', { id: 'status-field' });
  private readonly msg = el('span', { id: 'status-message', class: 'message', 'aria-live': 'polite' });
  readonly element = el('div', { class: 'status', role: 'status' }, this.cursor, this.sel, this.size, this.live, this.memory, this.field, this.msg);

  constructor(private readonly state: PageState) {}

  render(): void {
    const s = this.state;
    const sel = selectionRange(s.anchor, s.cursor);
    this.cursor.textContent = `Offset 0x${s.cursor.toString(16)} (${s.cursor})`;
    this.sel.textContent = sel.length > 1 ? `Selection ${sel.length} bytes` : 'No selection';
    this.size.textContent = `Size ${s.size} bytes (0x${s.size.toString(16)})`;
    this.live.textContent = s.removed ? 'removed' : s.refreshMs <= 0 ? 'static' : s.paused ? 'paused' : `live every ${s.refreshMs} ms`;
  }

  setMemory(text: string): void {
    this.memory.textContent = text;
  }

  /** What the message shown is about, when it states a condition that can end ("read"). */
  private condition: string | undefined;

  /** Shows a message; with `condition`, `clear(condition)` takes it away when that condition ends. */
  message(text: string, error = false, condition?: string): void {
    this.msg.textContent = text;
    this.msg.classList.toggle('error', error);
    this.condition = condition;
  }

  /** The condition ended (reads answer again): its message goes, a later one stays. */
  clear(condition: string): void {
    if (this.condition !== condition) return;
    this.message('');
  }

  showBanner(text: string): void {
    this.banner.textContent = text;
    this.banner.hidden = false;
  }
}
