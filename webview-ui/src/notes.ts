// What the host tells the page (init, status, reveal, invalidate, diff, show; schema and bookmarks
// once the side panel is there), each applied to the parts it concerns.
import { HostNotes, type InitParams } from '../../extension/src/shared/protocol';
import type { GotoBar } from './bars';
import type { BookmarkList } from './bookmarks';
import { markOnce } from './marks';
import type { Page } from './page';
import type { TabState } from './splitter';
import type { StructurePanel } from './structure';
import type { Toolbar } from './toolbar';

export interface NoteTargets {
  /** The tab's saved state: it names the object, so a reloaded window can reopen it. */
  tab: TabState;
  toolbar: Toolbar;
  goto: GotoBar;
}

/** The side panel's parts, which the page's rest makes. */
export interface PanelTargets {
  goto: GotoBar;
  structure: StructurePanel;
  bookmarks: BookmarkList;
}

/** Applies init (also the one the host embeds in the page's HTML). */
export function applyInit(page: Page, t: NoteTargets, m: InitParams): void {
  const { state, grid, view, reader } = page;
  t.toolbar.setMode(m.readOnly);
  t.tab.setState({ ...(t.tab.getState() as object | undefined), target: m.target });
  markOnce('initAt');
  if (m.openedAt !== undefined) markOnce('openedAt', m.openedAt);
  if (m.handedAt !== undefined) markOnce('handedAt', m.handedAt);
  const sizeChanged = m.size !== state.size;
  state.target = m.target;
  state.title = m.title;
  state.readOnly = m.readOnly;
  state.bytesPerRow = m.bytesPerRow;
  state.refreshMs = m.refreshMs;
  grid.element.setAttribute('aria-readonly', String(m.readOnly));
  grid.element.setAttribute('aria-label', `Hex view of ${m.title}, ${m.size} bytes`);
  if (sizeChanged) {
    state.size = m.size;
    grid.setSpacer();
  }
  grid.reset();
  reader.schedule();
  grid.measure();
  reader.read();
  view.render();
}

export function wireHostNotes(page: Page, t: NoteTargets): void {
  const { ch, state, view } = page;
  ch.onNotification(HostNotes.init, (m) => applyInit(page, t, m));
  ch.onNotification(HostNotes.memory, (m) => page.status.setMemory(m.text));
  ch.onNotification(HostNotes.status, (m) => {
    if (m.size !== state.size) view.applySize(m.size);
    if (m.removed && !state.removed) {
      state.removed = true;
      page.reader.schedule();
      page.status.showBanner(m.problem ?? 'The object was removed. The last bytes read stay visible.');
      document.body.dataset.removed = 'true';
    } else if (m.problem) {
      page.status.showBanner(m.problem);
    }
    view.render();
  });
  ch.onNotification(HostNotes.reveal, (m) => {
    view.revealRange(Math.min(m.offset, Math.max(0, state.size - 1)), m.length);
    page.locateInTree(m.offset);
  });
  ch.onNotification(HostNotes.invalidate, () => page.reader.invalidate());
  ch.onNotification(HostNotes.diff, (m) => {
    t.toolbar.setDiff(m.label, m.ranges);
    view.render();
  });
  ch.onNotification(HostNotes.show, (m) => page.showBar(m.what));
}

/**
 * The notes for the side panel: the page's rest wires them when it has made the panel, before it
 * says `ready` (the host sends them only after it).
 */
export function wirePanelNotes(page: Page, t: PanelTargets): void {
  const { ch, state, view } = page;
  ch.onNotification(HostNotes.schema, (m) => {
    t.structure.onSchema(m);
    t.goto.setBound(t.structure.bound);
    if (!t.structure.bound) {
      state.spans = [];
      state.rings = [];
      view.render();
    }
  });
  ch.onNotification(HostNotes.bookmarks, (m) => {
    state.bookmarks = m.items;
    t.bookmarks.set(m.items);
    view.render();
  });
}
