// The toolbar: Pause/Resume, the Go to and Find bars, Copy As, snapshots and their differences,
// Bind Schema, bookmarks, and the tab's read-only / read-write badge.
import { ChannelError } from '../../extension/src/shared/channel';
import { selectionRange } from '../../extension/src/shared/inspector/navigation';
import { MAX_READ, PageRequests, type Action, type CopyFormat } from '../../extension/src/shared/protocol';
import { el } from './dom';
import type { Page } from './page';
import { button, select } from './widgets';

/** The sentence of a failed request. */
export const why = (e: unknown): string => (e instanceof ChannelError || e instanceof Error ? e.message : String(e));

export class Toolbar {
  readonly pause: HTMLButtonElement;
  readonly mode = el('span', { class: 'mode', id: 'mode' }, 'read-only');
  readonly copyFormat = select<CopyFormat>('Copy As format', [['hex', 'Hex'], ['c', 'C array'], ['base64', 'Base64'], ['text', 'Text']], 'copy-format');
  readonly diffInfo = el('span', { class: 'message', id: 'diff-info' });
  readonly element: HTMLElement;

  constructor(private readonly page: Page) {
    this.pause = button('Pause', 'Pause live refresh', () => this.setPaused(!page.state.paused), 'pause');
    this.element = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Inspector' },
      this.pause,
      button('Go to…', 'Go to Offset (Ctrl+G)', () => page.showBar('goto'), 'goto-open'),
      button('Find…', 'Find (Ctrl+F)', () => page.showBar('find'), 'find-open'),
      this.copyFormat,
      button('Copy', 'Copy the selection in the chosen format (Ctrl+C)', () => this.copy(), 'copy'),
      button('Snapshot…', 'Save a snapshot of the object to a .shmsnap file', () => this.action('snapshot'), 'snapshot'),
      button('Compare…', 'Compare with a snapshot', () => this.action('compare'), 'compare'),
      button('◀ Diff', 'Previous difference', () => this.jumpDiff(-1), 'diff-prev'),
      button('Diff ▶', 'Next difference', () => this.jumpDiff(1), 'diff-next'),
      button('Schema…', 'Bind a schema to decode this object (Shared Memory: Inspector: Bind Schema…)', () => this.action('bindSchema'), 'bind-schema'),
      button('Bookmark…', 'Bookmark the selection with a name and a colour', () => this.action('addBookmark'), 'add-bookmark'),
      this.diffInfo,
      this.mode,
    );
  }

  setMode(readOnly: boolean): void {
    this.mode.textContent = readOnly ? 'read-only' : 'read-write';
    this.mode.classList.toggle('rw', !readOnly);
  }

  setPaused(p: boolean): void {
    const page = this.page;
    page.state.paused = p;
    this.pause.textContent = p ? 'Resume' : 'Pause';
    this.pause.setAttribute('aria-pressed', String(p));
    this.pause.title = p ? 'Resume live refresh' : 'Pause live refresh';
    page.reader.schedule();
    page.view.sendState();
  }

  action(a: Action): void {
    const page = this.page;
    page.ch.request(PageRequests.action, { action: a }).then(() => {
      if (a === 'undo' || a === 'redo') {
        page.reader.read();
        page.structure?.refresh();
      }
    }, (e: unknown) => page.status.message(why(e), true));
  }

  copy(): void {
    const s = this.page.state;
    const format = this.copyFormat.value as CopyFormat;
    const sel = selectionRange(s.anchor, s.cursor);
    if (s.size === 0) return;
    const length = Math.min(MAX_READ, sel.length);
    this.page.ch.request(PageRequests.copy, { offset: sel.offset, length, format }).then(
      () => this.page.status.message(`copied ${length} bytes as ${format}`),
      (e: unknown) => this.page.status.message(why(e), true),
    );
  }

  /** Shows the differences against a snapshot (none clears them). */
  setDiff(label: string | undefined, ranges: { offset: number; length: number }[]): void {
    const s = this.page.state;
    s.diff = ranges;
    s.diffLabel = label ?? '';
    this.diffInfo.textContent = label ? `${label}: ${ranges.length} difference${ranges.length === 1 ? '' : 's'}` : '';
  }

  private jumpDiff(dir: 1 | -1): void {
    const s = this.page.state;
    if (s.diff.length === 0) return this.page.status.message('no differences to go to');
    const ranges = s.diff;
    const next = dir > 0
      ? ranges.find((r) => r.offset > s.cursor) ?? ranges[0]!
      : [...ranges].reverse().find((r) => r.offset + r.length - 1 < s.anchor) ?? ranges[ranges.length - 1]!;
    this.page.view.revealRange(next.offset, next.length);
    this.diffInfo.textContent = `${s.diffLabel}: difference ${ranges.indexOf(next) + 1} of ${ranges.length}`;
  }
}
