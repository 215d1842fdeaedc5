// The inspector page's rest, a bundle of its own that main.ts loads after the grid's first frame:
// the side panel (structure tree, bookmarks, data inspector) with its splitter, the Find bar and a
// replay's timeline. It takes main's parts from `globalThis.shmscopeBoot`, puts its own in the
// layout, wires their notes and says `ready` through main. Every module main has is main's own
// instance here (the build resolves them to main's registry), so nothing exists twice.
import { HostNotes, PageNotes, PageRequests } from '../../extension/src/shared/protocol';
import { BookmarkList } from './bookmarks';
import { DataPanel } from './datapanel';
import { el } from './dom';
import { FindBar } from './find';
import { wirePanelNotes } from './notes';
import type { Boot } from './page';
import { splitter } from './splitter';
import { StructurePanel } from './structure';
import { TimelineBar } from './timeline';
import { why } from './toolbar';

function install(boot: Boot): void {
  const { page, main, bars } = boot;
  const { state, ch, status } = page;
  page.data = new DataPanel(state);
  const structure = new StructurePanel({
    ch,
    selectBytes: (offset, length) => page.view.revealRange(offset, length),
    message: (t, e) => status.message(t, e),
    readOnly: () => state.readOnly,
    refreshBytes: () => page.reader.read(),
    undo: (redo) => page.action(redo ? 'redo' : 'undo'),
  });
  page.structure = structure;
  const bookmarks = new BookmarkList((b) => page.view.revealRange(b.offset, b.length), (index, b) => {
    ch.request(PageRequests.removeBookmark, { index, name: b.name }).then(() => status.message(`removed the bookmark ${b.name}`), (e: unknown) => status.message(why(e), true));
  });
  const find = new FindBar(page, () => boot.hideBars());
  page.find = find;
  // A replay's timeline bar, hidden until the host sends where its cursor is (`.shmrec` tabs only).
  const timeline = new TimelineBar((op) => ch.notify(PageNotes.timelineOp, op));
  ch.onNotification(HostNotes.timeline, (m) => timeline.update(m));
  wirePanelNotes(page, { goto: boot.goto, structure, bookmarks });

  const side = el('div', { class: 'side' }, el('div', { class: 'side-top' }, structure.element, bookmarks.element), page.data.element);
  bars.before(splitter(main, side, boot.tab), side);
  bars.append(find.element);
  boot.toolbar.after(timeline.element);
  page.data.render();
  if (boot.wantFind) page.showBar('find');
  boot.done();
}

const boot = (globalThis as { shmscopeBoot?: Boot }).shmscopeBoot;
if (boot) install(boot);
