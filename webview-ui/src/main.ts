// The inspector page: a virtualized hex grid over one IPC object, fed window by window by the
// host, with a structure panel, bookmarks and a data inspector beside it. Plain TypeScript and DOM
// (the grid is a handful of reused row elements; a framework would add weight without removing
// any of this code). This file only boots the grid's first paint: it makes the grid and what it
// needs, registers the byte decorations, connects the channel (all messages come from
// extension/src/shared/protocol), and paints the first rows the host put in the page. It is the
// bundle inlined into the page's HTML; the rest (rest.ts: the side panel, Find, the timeline) is a
// second bundle the page loads after its first frame, so the first paint parses only this.
import './style.css';
import { Endpoint } from '../../extension/src/shared/channel';
import { bookmarkLayer, changesLayer, diffLayer, fieldLayer, ringLayer, selectionLayer } from '../../extension/src/shared/inspector/decorations';
import { selectionRange } from '../../extension/src/shared/inspector/navigation';
import { PageNotes, PageRequests, type InitParams } from '../../extension/src/shared/protocol';
import { GotoBar } from './bars';
import { el } from './dom';
import { Grid } from './grid';
import { wireInput } from './input';
import { hasPainted, mark, painted } from './marks';
import { applyInit, wireHostNotes } from './notes';
import type { Boot, PageParts } from './page';
import { Reader } from './reader';
import type { TabState } from './splitter';
import { initialState, spanAt } from './state';
import { StatusLine } from './status';
import { Toolbar } from './toolbar';
import { View } from './view';

mark('scriptAt');
declare function acquireVsCodeApi(): TabState & { postMessage(m: unknown): void };
const vscode = acquireVsCodeApi();
// The nonce this script runs under: the rest's script element carries it too (the CSP allows
// nothing else).
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';

const state = initialState();
const ch = new Endpoint((m) => vscode.postMessage(m));
const grid = new Grid(state);
const status = new StatusLine(state);
// The page's parts, filled in as they are made (each reaches the others only when the user acts;
// the side panel's and Find's only once the rest has made them).
const page = { state, ch, grid, status } as PageParts;
page.view = new View(state, grid, ch, {
  read: () => page.reader.read(),
  moved: () => page.reader.moved(),
  painted: () => {
    status.render();
    page.data?.render();
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
    page.structure?.refresh();
  },
  failed: (e) => {
    status.message(e.code === 'ETIMEDOUT' ? `${e.message}: the rows shown are the last read; it tries again` : e.message, true, 'read');
    document.body.dataset.readError = e.code;
  },
  changed: () => status.render(),
  repaint: () => page.view.render(),
});
const toolbar = new Toolbar(page);
const hideBars = () => {
  gotoBar.element.hidden = true;
  if (page.find) page.find.element.hidden = true;
  grid.element.focus();
};
const gotoBar = new GotoBar(page, hideBars);
page.action = (a) => toolbar.action(a);
page.copySelection = () => toolbar.copy();
page.findNext = (backward) => page.find?.find(backward);
page.showBar = (which) => {
  const bar = which === 'goto' ? gotoBar : page.find;
  if (!bar) {
    boot.wantFind = true; // the rest opens it when it is there
    return;
  }
  bar.element.hidden = false;
  bar.input.focus();
  bar.input.select();
};
page.locateInTree = (offset) => {
  const structure = page.structure;
  if (!structure?.bound || !spanAt(state, offset)) return;
  ch.request(PageRequests.locate, { offset }).then((f) => structure.reveal(f.id, f.row), () => undefined);
};

// The byte decorations, in paint order.
const deco = grid.decorations;
deco.register(selectionLayer(() => ({ selection: selectionRange(state.anchor, state.cursor), cursor: state.cursor })));
deco.register(changesLayer(page.reader.changes));
deco.register(diffLayer(() => state.diff));
deco.register(fieldLayer(() => state.spans));
deco.register(ringLayer(() => state.rings));
deco.register(bookmarkLayer(() => state.bookmarks));

// Layout. Before the first paint, only what it shows: the toolbar, the grid (with the overlays'
// stack over its top left corner: Go to now, Find when the rest is in; showing or closing either
// never resizes the grid, so a jump repaints the rows once) and the status line. The side panel
// (structure tree, bookmarks, data inspector), the timeline and the banner join after the first
// frame (see below), so the first layout and paint are the grid's alone.
const bars = el('div', { class: 'bars' }, gotoBar.element);
const main = el('div', { class: 'main' }, grid.element, grid.scroller, bars);
document.body.append(toolbar.element, main, status.element);

wireInput(page);
const targets = { tab: vscode, toolbar, goto: gotoBar };
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
 * The rest of the page, once the first frame is out: the banner joins the layout and the rest's
 * script loads (its URL is in a meta tag); it puts the side panel, Find and the timeline in place
 * and calls `done`, and the page says `ready` (the host's notes, its schema and bookmarks among
 * them, wait for it, so the structure tree is in the page, and measured, before its first note).
 * A page whose rest cannot load keeps its grid, Go to and toolbar, says why, and says `ready`. A
 * hidden tab gets no animation frames: the timer is its way there.
 */
let ready = false;
const done = () => {
  if (ready) return;
  ready = true;
  mark('restAt');
  ch.notify(PageNotes.ready, {});
};
const boot: Boot = { page, tab: vscode, goto: gotoBar, main, bars, toolbar: toolbar.element, hideBars, wantFind: false, done };
let started = false;
const loadRest = () => {
  if (started) return;
  started = true;
  document.body.prepend(status.banner);
  (globalThis as { shmscopeBoot?: Boot }).shmscopeBoot = boot;
  const src = document.querySelector('meta[name="shmscope-rest"]')?.getAttribute('content');
  if (!src) return done();
  const script = document.createElement('script');
  script.nonce = nonce;
  script.src = src;
  script.addEventListener('error', () => {
    status.message('the side panel and Find could not be loaded (see the webview developer tools)', true);
    done();
  });
  document.head.append(script);
};
requestAnimationFrame(() => setTimeout(loadRest, 0));
setTimeout(loadRest, 100);
