// The inspector page: a virtualized hex grid over one IPC object, fed window by window by the
// host, with a structure panel, bookmarks and a data inspector beside it. Plain TypeScript and DOM
// (the grid is a handful of reused row elements; a framework would add weight without removing
// any of this code). This file only boots: it makes the parts, lays them out, registers the byte
// decorations, connects the channel (all messages come from extension/src/shared/protocol), and
// paints the first rows the host put in the page.
import './style.css';
import { Endpoint } from '../../extension/src/shared/channel';
import { bookmarkLayer, changesLayer, diffLayer, fieldLayer, ringLayer, selectionLayer } from '../../extension/src/shared/inspector/decorations';
import { selectionRange } from '../../extension/src/shared/inspector/navigation';
import { HostNotes, PageNotes, PageRequests, type InitParams } from '../../extension/src/shared/protocol';
import { FindBar, GotoBar } from './bars';
import { BookmarkList } from './bookmarks';
import { el } from './dom';
import { Grid } from './grid';
import { wireInput } from './input';
import { hasPainted, mark, painted } from './marks';
import { applyInit, wireHostNotes } from './notes';
import type { Page } from './page';
import { Reader } from './reader';
import { splitter, type TabState } from './splitter';
import { initialState, spanAt } from './state';
import { DataPanel, StatusLine } from './status';
import { StructurePanel } from './structure';
import { TimelineBar } from './timeline';
import { Toolbar, why } from './toolbar';
import { View } from './view';

mark('scriptAt');
declare function acquireVsCodeApi(): TabState & { postMessage(m: unknown): void };
const vscode = acquireVsCodeApi();

const state = initialState();
const ch = new Endpoint((m) => vscode.postMessage(m));
const grid = new Grid(state);
const status = new StatusLine(state);
const data = new DataPanel(state);
// The page's parts, filled in as they are made (each reaches the others only when the user acts).
const page = { state, ch, grid, status, data } as { -readonly [K in keyof Page]: Page[K] };
page.view = new View(state, grid, ch, {
  read: () => page.reader.read(),
  moved: () => page.reader.moved(),
  painted: () => {
    status.render();
    data.render();
  },
  banner: (text) => status.showBanner(text),
  covered: () => bars.offsetHeight,
});
page.reader = new Reader(state, grid, ch, {
  apply: (r) => {
    delete document.body.dataset.readError;
    status.clear('read');
    if (r.size !== state.size) page.view.applySize(r.size);
    page.view.render();
    page.structure.refresh();
  },
  failed: (e) => {
    status.message(e.code === 'ETIMEDOUT' ? `${e.message}: the rows shown are the last read; it tries again` : e.message, true, 'read');
    document.body.dataset.readError = e.code;
  },
  changed: () => status.render(),
  repaint: () => page.view.render(),
});
page.structure = new StructurePanel({
  ch,
  selectBytes: (offset, length) => page.view.revealRange(offset, length),
  message: (t, e) => status.message(t, e),
  readOnly: () => state.readOnly,
  refreshBytes: () => page.reader.read(),
  undo: (redo) => page.action(redo ? 'redo' : 'undo'),
});
const toolbar = new Toolbar(page);
const hideBars = () => {
  gotoBar.element.hidden = true;
  findBar.element.hidden = true;
  grid.element.focus();
};
const gotoBar = new GotoBar(page, hideBars);
const findBar = new FindBar(page, hideBars);
const bookmarks = new BookmarkList((b) => page.view.revealRange(b.offset, b.length), (index, b) => {
  ch.request(PageRequests.removeBookmark, { index, name: b.name }).then(() => status.message(`removed the bookmark ${b.name}`), (e: unknown) => status.message(why(e), true));
});
page.action = (a) => toolbar.action(a);
page.copySelection = () => toolbar.copy();
page.findNext = (backward) => findBar.find(backward);
page.showBar = (which) => {
  const bar = which === 'goto' ? gotoBar : findBar;
  bar.element.hidden = false;
  bar.input.focus();
  bar.input.select();
};
page.locateInTree = (offset) => {
  if (!page.structure.bound || !spanAt(state, offset)) return;
  ch.request(PageRequests.locate, { offset }).then((f) => page.structure.reveal(f.id, f.row), () => undefined);
};

// The byte decorations, in paint order.
const deco = grid.decorations;
deco.register(selectionLayer(() => ({ selection: selectionRange(state.anchor, state.cursor), cursor: state.cursor })));
deco.register(changesLayer(page.reader.changes));
deco.register(diffLayer(() => state.diff));
deco.register(fieldLayer(() => state.spans));
deco.register(ringLayer(() => state.rings));
deco.register(bookmarkLayer(() => state.bookmarks));

// Layout. Before the first paint, only what it shows: the toolbar, the grid (with the Go to bar,
// which floats over its top left corner, so showing or closing it never resizes the grid and a
// jump repaints the rows once) and the status line. The side panel (structure tree, bookmarks,
// data inspector), the Find bar (an overlay below Go to's place), the timeline and the banner
// join after the first frame (see below), so the first layout and paint are the grid's alone.
const side = el('div', { class: 'side' }, el('div', { class: 'side-top' }, page.structure.element, bookmarks.element), data.element);
const bars = el('div', { class: 'bars' }, gotoBar.element);
const main = el('div', { class: 'main' }, grid.element, grid.scroller, bars);
// A replay's timeline bar, hidden until the host sends where its cursor is (`.shmrec` tabs only).
const timeline = new TimelineBar((op) => ch.notify(PageNotes.timelineOp, op));
ch.onNotification(HostNotes.timeline, (m) => timeline.update(m));
document.body.append(toolbar.element, main, status.element);

wireInput(page);
const targets = { tab: vscode, toolbar, goto: gotoBar, find: findBar, bookmarks };
wireHostNotes(page, targets);
window.addEventListener('message', (e: MessageEvent<unknown>) => void ch.receive(e.data));

// The first rows travel with the page: they are the window until the first read answers, so
// the grid's first render (in init below) paints them.
const firstMeta = document.querySelector('meta[name="shmscope-first"]');
const firstB64 = firstMeta?.getAttribute('content');
let firstAt: number | undefined;
if (firstB64) {
  try {
    const bin = atob(firstB64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    firstAt = Date.now();
    state.win = { offset: Number(firstMeta?.getAttribute('data-offset') ?? 0), bytes };
  } catch {
    /* the first read paints them */
  }
}
// The host puts the first init in a meta tag too: start reading at once, without a round trip.
const initMeta = document.querySelector('meta[name="shmscope-init"]')?.getAttribute('content');
if (initMeta) {
  try {
    applyInit(page, targets, JSON.parse(initMeta) as InitParams);
  } catch {
    /* the host sends init again after ready */
  }
}
if (firstAt !== undefined && !hasPainted() && state.firstRow === 0 && state.size > 0) {
  if (!initMeta) page.view.render();
  painted(state.win.offset, firstAt);
  document.body.dataset.firstFrom = 'html'; // for the tests: painted before any message
}

/**
 * The rest of the page, once the first frame is out: the side panel and the bars join the
 * layout, then the page says `ready` (the host's notes, its schema and bookmarks among them, wait
 * for it, so the structure tree is in the page, and measured, before its first note). A hidden
 * tab gets no animation frames: the timer is its way there.
 */
let rest = false;
const finish = () => {
  if (rest) return;
  rest = true;
  bars.before(splitter(main, side, vscode), side);
  bars.append(findBar.element);
  document.body.prepend(status.banner);
  toolbar.element.after(timeline.element);
  mark('restAt');
  ch.notify(PageNotes.ready, {});
};
requestAnimationFrame(() => setTimeout(finish, 0));
setTimeout(finish, 100);
