// The object's bookmarks, listed beside the structure tree: click one to select its bytes, × to
// remove it (the host removes it by index and name, so a stale list removes nothing).
import type { Bookmark } from '../../extension/src/shared/protocol';
import { el } from './dom';

const hex = (n: number) => `0x${n.toString(16)}`;

export class BookmarkList {
  private readonly list = el('ul', { class: 'bookmarks', id: 'bookmark-list', 'aria-label': 'Bookmarks' });
  readonly element = el('section', { class: 'bookmark-box', hidden: '' }, el('div', { class: 'section-title' }, 'Bookmarks'), this.list);

  constructor(private readonly go: (b: Bookmark) => void, private readonly remove: (index: number, b: Bookmark) => void) {}

  set(items: Bookmark[]): void {
    this.element.hidden = items.length === 0;
    this.list.replaceChildren(...items.map((b, i) => {
      const go = el('button', { type: 'button', class: 'bm-go', title: `Go to ${b.name}: ${hex(b.offset)}, ${b.length} byte${b.length === 1 ? '' : 's'}` },
        el('span', { class: `swatch bm-${b.color}` }), `${b.name} `, el('span', { class: 'dim' }, `${hex(b.offset)} · ${b.length}`));
      go.addEventListener('click', () => this.go(b));
      const rm = el('button', { type: 'button', class: 'bm-rm', title: `Remove the bookmark ${b.name}`, 'aria-label': `Remove the bookmark ${b.name}` }, '×');
      rm.addEventListener('click', () => this.remove(i, b));
      return el('li', {}, go, rm);
    }));
  }
}
