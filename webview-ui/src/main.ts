// The inspector page: a virtualized hex grid over one IPC object, fed window by window by the host.
// Plain TypeScript and DOM (the grid is a handful of reused row elements; a framework would add
// weight without removing any of this code). All messages come from extension/src/shared/protocol.
import './style.css';
import type { Action, Bookmark, CopyFormat, FieldSpan, FindQuery, FromWebview, Range, RingMark, ToWebview } from '../../extension/src/shared/protocol';
import { MAX_READ, MAX_WRITE } from '../../extension/src/shared/protocol';
import * as vp from '../../extension/src/shared/inspector/viewport';
import { parseProcessAddress } from '../../extension/src/shared/address';
import { formatOffset, inRange, moveCursor, NAV_KEYS, parseGoto, selectionRange, type NavKey } from '../../extension/src/shared/inspector/navigation';
import { inspect } from '../../extension/src/shared/inspector/datainspector';
import { ChangeTracker, changedOffsets } from '../../extension/src/shared/inspector/changes';
import { el } from './dom';
import { StructurePanel } from './structure';

document.body.dataset.scriptAt = String(Date.now());
declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();
const post = (m: FromWebview) => vscode.postMessage(m);

// ---------------------------------------------------------------------------------------------
// DOM helpers (never innerHTML: every text goes through textContent; `el` lives in dom.ts).

function button(label: string, title: string, onClick: () => void, id?: string): HTMLButtonElement {
  const b = el('button', { type: 'button', title, 'aria-label': title, ...(id ? { id } : {}) }, label);
  b.addEventListener('click', onClick);
  return b;
}

function select<T extends string>(label: string, options: [T, string][], id: string): HTMLSelectElement {
  const s = el('select', { 'aria-label': label, title: label, id });
  for (const [v, text] of options) s.append(el('option', { value: v }, text));
  return s;
}

// ---------------------------------------------------------------------------------------------
// State.

const state = {
  target: '',
  title: '',
  size: 0,
  readOnly: true,
  bytesPerRow: 16,
  refreshMs: 0,
  paused: false,
  removed: false,
  firstRow: 0,
  cursor: 0,
  anchor: 0,
  asciiActive: false,
  /** First nibble typed in the hex column, waiting for the second. */
  pendingNibble: undefined as number | undefined,
  littleEndian: true,
  /** The last bytes read and where they start. */
  win: { offset: 0, bytes: new Uint8Array(0) as Uint8Array },
  diff: [] as Range[],
  diffLabel: '',
  /** Where the last Find matched, so Next moves past it. */
  lastFound: undefined as number | undefined,
  /** With a schema: the fields over the last window read, and the rings there. */
  spans: [] as FieldSpan[],
  rings: [] as RingMark[],
  bookmarks: [] as Bookmark[],
};
const changes = new ChangeTracker(1500);
let rowHeight = 20;
let viewportPx = 400;
/** The scroller spans the header row too; the spacer makes up for it (see viewport.ts). */
let chromePx = 0;

// ---------------------------------------------------------------------------------------------
// Layout.

const banner = el('div', { class: 'banner', role: 'alert', id: 'banner', hidden: '' });
const modeBadge = el('span', { class: 'mode', id: 'mode' }, 'read-only');
const pauseBtn = button('Pause', 'Pause live refresh', () => setPaused(!state.paused), 'pause');
const copyFormat = select<CopyFormat>('Copy As format', [['hex', 'Hex'], ['c', 'C array'], ['base64', 'Base64'], ['text', 'Text']], 'copy-format');
const diffInfo = el('span', { class: 'message', id: 'diff-info' });
const toolbar = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Inspector' },
  pauseBtn,
  button('Go to…', 'Go to Offset (Ctrl+G)', () => showBar('goto'), 'goto-open'),
  button('Find…', 'Find (Ctrl+F)', () => showBar('find'), 'find-open'),
  copyFormat,
  button('Copy', 'Copy the selection in the chosen format (Ctrl+C)', () => copySelection(copyFormat.value as CopyFormat), 'copy'),
  button('Snapshot…', 'Save a snapshot of the object to a .shmsnap file', () => action('snapshot'), 'snapshot'),
  button('Compare…', 'Compare with a snapshot', () => action('compare'), 'compare'),
  button('◀ Diff', 'Previous difference', () => jumpDiff(-1), 'diff-prev'),
  button('Diff ▶', 'Next difference', () => jumpDiff(1), 'diff-next'),
  button('Schema…', 'Bind a schema to decode this object (Shared Memory: Inspector: Bind Schema…)', () => action('bindSchema'), 'bind-schema'),
  button('Bookmark…', 'Bookmark the selection with a name and a colour', () => action('addBookmark'), 'add-bookmark'),
  diffInfo,
  modeBadge,
);

const gotoInput = el('input', { type: 'text', id: 'goto-input', 'aria-label': 'Offset: decimal, 0x hex, or +N / -N relative', placeholder: 'offset: 1234, 0x4d2, +16, -0x10', size: '32' });
const gotoMsg = el('span', { class: 'message', id: 'goto-message', 'aria-live': 'polite' });
const gotoBar = el('div', { class: 'bar', id: 'goto-bar', hidden: '' }, el('label', { for: 'goto-input' }, 'Go to offset'), gotoInput, gotoMsg);

const findKind = select<FindQuery['kind']>('Find what', [['hex', 'Hex bytes'], ['text', 'Text'], ['number', 'Number']], 'find-kind');
const findWidth = select('Number width', [['1', '8-bit'], ['2', '16-bit'], ['4', '32-bit'], ['8', '64-bit']], 'find-width');
findWidth.value = '4';
const findEndian = select('Number byte order', [['le', 'little endian'], ['be', 'big endian']], 'find-endian');
const findInput = el('input', { type: 'text', id: 'find-input', 'aria-label': 'Find', placeholder: 'de ad be ef', size: '32' });
const findMsg = el('span', { class: 'message', id: 'find-message', 'aria-live': 'polite' });
const findCancel = button('Cancel', 'Cancel the search', () => cancelFind(), 'find-cancel');
const findBar = el('div', { class: 'bar', id: 'find-bar', hidden: '' },
  findKind, findWidth, findEndian, findInput,
  button('Previous', 'Find previous (Shift+Enter)', () => find(true), 'find-prev'),
  button('Next', 'Find next (Enter)', () => find(false), 'find-next'),
  findCancel, findMsg);

const headerHex = el('div', { class: 'hex' });
const headerAscii = el('div', { class: 'ascii' }, 'ASCII');
const header = el('div', { class: 'row header', 'aria-hidden': 'true' }, el('div', { class: 'off' }, 'Offset'), headerHex, headerAscii);
const rowsBox = el('div', { class: 'rows', id: 'rows' });
const grid = el('div', { class: 'grid', id: 'grid', tabindex: '0', role: 'grid', 'aria-label': 'Hex view', 'aria-readonly': 'true' }, header, rowsBox);
const spacer = el('div', { class: 'spacer' });
const scroller = el('div', { class: 'scroller', id: 'scroller', 'aria-hidden': 'true' }, spacer);
const inspectorBody = el('tbody');
const endianBtn = button('Little endian', 'Byte order of the data inspector', () => {
  state.littleEndian = !state.littleEndian;
  endianBtn.textContent = state.littleEndian ? 'Little endian' : 'Big endian';
  renderInspector();
}, 'endian');
const inspectorPanel = el('aside', { class: 'inspector', id: 'data-inspector', 'aria-label': 'Data inspector' },
  endianBtn, el('table', {}, inspectorBody));
const structure = new StructurePanel({
  request: (m, cb) => request(m, cb),
  nextId: () => nextId++,
  selectBytes: (offset, length) => revealRange(offset, length),
  message: (t, e) => message(t, e),
  readOnly: () => state.readOnly,
  refreshBytes: () => requestWindow(),
}, (b) => revealRange(b.offset, b.length), (index, b) => {
  request({ type: 'removeBookmark', requestId: nextId++, index, name: b.name }, (r) => {
    if (r.type === 'error') message(r.message, true);
    else message(`removed the bookmark ${b.name}`);
  });
});
const side = el('div', { class: 'side' }, structure.element, inspectorPanel);
const splitter = el('div', { class: 'splitter', id: 'splitter', role: 'separator', 'aria-orientation': 'vertical', 'aria-label': 'Width of the side panel (Left and Right arrows)', tabindex: '0' });
const main = el('div', { class: 'main' }, grid, scroller, splitter, side);

// The side panel's width follows the splitter (drag, or arrows when focused) and is kept in the
// tab's webview state, so it survives the tab being hidden and shown.
function setSideWidth(px: number, save = true): void {
  const max = Math.max(200, main.clientWidth - 320);
  const w = Math.round(Math.max(200, Math.min(max, px)));
  side.style.width = `${w}px`;
  splitter.setAttribute('aria-valuenow', String(w));
  if (save) vscode.setState({ ...(vscode.getState() as object | undefined), sideWidth: w });
}
const savedWidth = (vscode.getState() as { sideWidth?: unknown } | undefined)?.sideWidth;
if (typeof savedWidth === 'number' && Number.isFinite(savedWidth)) side.style.width = `${savedWidth}px`;
splitter.addEventListener('pointerdown', (e) => {
  splitter.setPointerCapture(e.pointerId);
  const move = (m: PointerEvent) => setSideWidth(main.getBoundingClientRect().right - m.clientX);
  const up = () => {
    splitter.removeEventListener('pointermove', move);
    splitter.removeEventListener('pointerup', up);
  };
  splitter.addEventListener('pointermove', move);
  splitter.addEventListener('pointerup', up);
  e.preventDefault();
});
splitter.addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
  e.preventDefault();
  setSideWidth(side.getBoundingClientRect().width + (e.key === 'ArrowLeft' ? 24 : -24));
});
const statusCursor = el('span', { id: 'status-cursor' });
const statusSel = el('span', { id: 'status-selection' });
const statusSize = el('span', { id: 'status-size' });
const statusLive = el('span', { id: 'status-live' });
const statusField = el('span', { id: 'status-field' });
const statusMsg = el('span', { id: 'status-message', class: 'message', 'aria-live': 'polite' });
const status = el('div', { class: 'status', role: 'status' }, statusCursor, statusSel, statusSize, statusLive, statusField, statusMsg);
document.body.append(banner, toolbar, gotoBar, findBar, main, status);

// A pool of row elements, reused as the view scrolls: the DOM never holds more than a screen.
interface RowEls { row: HTMLDivElement; off: HTMLDivElement; hex: HTMLSpanElement[]; ascii: HTMLSpanElement[] }
let pool: RowEls[] = [];

function buildRows(count: number): void {
  if (pool.length === count && pool[0]?.hex.length === state.bytesPerRow) return;
  rowsBox.replaceChildren();
  pool = [];
  headerHex.replaceChildren(...Array.from({ length: state.bytesPerRow }, (_, i) => el('span', {}, i.toString(16).padStart(2, '0'))));
  for (let r = 0; r < count; r++) {
    const off = el('div', { class: 'off' });
    const hex: HTMLSpanElement[] = [];
    const ascii: HTMLSpanElement[] = [];
    const hexBox = el('div', { class: 'hex' });
    const asciiBox = el('div', { class: 'ascii' });
    for (let c = 0; c < state.bytesPerRow; c++) {
      const h = el('span', { 'data-col': String(c) });
      const a = el('span', { 'data-col': String(c) });
      hex.push(h);
      ascii.push(a);
      hexBox.append(h);
      asciiBox.append(a);
    }
    const row = el('div', { class: 'row', role: 'row' }, off, hexBox, asciiBox);
    pool.push({ row, off, hex, ascii });
    rowsBox.append(row);
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function geometry(): vp.ScrollGeometry {
  return { rows: vp.rowCount(state.size, state.bytesPerRow), rowHeight, viewport: Math.max(rowHeight, viewportPx), chrome: chromePx };
}

function byteAt(offset: number): number | undefined {
  const i = offset - state.win.offset;
  return i >= 0 && i < state.win.bytes.length ? state.win.bytes[i] : undefined;
}

/** Paints the visible rows from the last bytes read. Cheap: text and classes of reused spans. */
function render(): void {
  const g = geometry();
  buildRows(vp.renderRows(g));
  const sel = selectionRange(state.anchor, state.cursor);
  const now = performance.now();
  const bpr = state.bytesPerRow;
  let diffIdx = 0;
  let spanIdx = 0;
  const spans = state.spans;
  for (let r = 0; r < pool.length; r++) {
    const p = pool[r]!;
    const rowNo = state.firstRow + r;
    const rowOff = rowNo * bpr;
    if (rowOff >= state.size) {
      p.row.hidden = true;
      continue;
    }
    p.row.hidden = false;
    p.row.dataset.offset = String(rowOff);
    p.off.textContent = formatOffset(rowOff, state.size);
    for (let c = 0; c < bpr; c++) {
      const o = rowOff + c;
      const h = p.hex[c]!;
      const a = p.ascii[c]!;
      if (o >= state.size) {
        h.textContent = '  ';
        a.textContent = ' ';
        h.className = a.className = '';
        h.removeAttribute('data-offset');
        continue;
      }
      const b = byteAt(o);
      h.dataset.offset = a.dataset.offset = String(o);
      let cls = '';
      if (b === undefined) {
        h.textContent = '··';
        a.textContent = '·';
        cls = 'missing';
      } else {
        h.textContent = HEX[b]!;
        a.textContent = b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
        if (b === 0) cls = 'zero';
      }
      if (inRange(sel, o)) cls += ' sel';
      if (o === state.cursor) cls += ' cur';
      const k = changes.intensity(o, now);
      if (k > 0) cls += k > 0.66 ? ' chg chg-3' : k > 0.33 ? ' chg chg-2' : ' chg chg-1';
      while (diffIdx < state.diff.length && state.diff[diffIdx]!.offset + state.diff[diffIdx]!.length <= o) diffIdx++;
      const d = state.diff[diffIdx];
      if (d && inRange(d, o)) cls += ' diff';
      if (spans.length) {
        while (spanIdx < spans.length && spans[spanIdx]!.offset + spans[spanIdx]!.length <= o) spanIdx++;
        const sp = spans[spanIdx];
        if (sp && o >= sp.offset) {
          const elem = sp.stride ? Math.floor((o - sp.offset) / sp.stride) : 0;
          cls += ` t${sp.tint}${sp.stride && elem % 2 ? ' alt' : ''}${sp.bad ? ' bad' : ''}`;
          if (o === sp.offset || (sp.stride && (o - sp.offset) % sp.stride === 0)) cls += ' fs';
        }
      }
      for (const ring of state.rings) {
        if (inRange(ring.headSlot, o)) cls += ' rh';
        else if (inRange(ring.tailSlot, o)) cls += ' rt';
        for (const v of ring.valid) if (inRange(v, o)) cls += ' rv';
      }
      for (const b of state.bookmarks) if (inRange(b, o)) cls += ` bm bm-${b.color}`;
      h.className = a.className = cls.trim();
    }
  }
  grid.classList.toggle('ascii-active', state.asciiActive);
  renderStatus();
  renderInspector();
}

function renderStatus(): void {
  const sel = selectionRange(state.anchor, state.cursor);
  statusCursor.textContent = `Offset 0x${state.cursor.toString(16)} (${state.cursor})`;
  statusSel.textContent = sel.length > 1 ? `Selection ${sel.length} bytes` : 'No selection';
  statusSize.textContent = `Size ${state.size} bytes (0x${state.size.toString(16)})`;
  statusLive.textContent = state.removed ? 'removed' : state.refreshMs <= 0 ? 'static' : state.paused ? 'paused' : `live every ${state.refreshMs} ms`;
}

function renderInspector(): void {
  const bytes = new Uint8Array(8);
  let n = 0;
  for (; n < 8; n++) {
    const b = byteAt(state.cursor + n);
    if (b === undefined || state.cursor + n >= state.size) break;
    bytes[n] = b;
  }
  const rows = inspect(bytes.subarray(0, n), state.littleEndian);
  if (inspectorBody.children.length !== rows.length) {
    inspectorBody.replaceChildren(...rows.map(() => el('tr', {}, el('th', { scope: 'row' }), el('td'))));
  }
  rows.forEach((r, i) => {
    const tr = inspectorBody.children[i]!;
    tr.children[0]!.textContent = r.label;
    tr.children[1]!.textContent = r.value ?? '—';
  });
}

function message(text: string, error = false): void {
  statusMsg.textContent = text;
  statusMsg.classList.toggle('error', error);
}

// ---------------------------------------------------------------------------------------------
// Reading: one outstanding read at a time; a newer need is remembered and served next.

let nextId = 1;
let readInFlight: number | undefined;
let readAgain = false;
const pending = new Map<number, (m: ToWebview) => void>();

function request(m: FromWebview & { requestId: number }, onReply?: (reply: ToWebview) => void): void {
  if (onReply) pending.set(m.requestId, onReply);
  post(m);
}

function requestWindow(): void {
  if (readInFlight !== undefined) {
    readAgain = true;
    return;
  }
  const g = geometry();
  const w = vp.windowFor(state.firstRow, vp.renderRows(g), state.bytesPerRow, state.size);
  if (w.length === 0) return;
  const id = nextId++;
  readInFlight = id;
  request({ type: 'read', requestId: id, offset: w.offset, length: Math.min(MAX_READ, w.length) }, (reply) => {
    readInFlight = undefined;
    if (reply.type === 'readReply') {
      const arrived = Date.now();
      const changed = changedOffsets(state.win.offset, state.win.bytes, reply.offset, reply.bytes);
      if (changed.length > 0) changes.mark(changed, performance.now());
      state.win = { offset: reply.offset, bytes: reply.bytes };
      state.spans = reply.spans ?? [];
      state.rings = reply.rings ?? [];
      if (reply.size !== state.size) applySize(reply.size);
      render();
      structure.refresh();
      scheduleFade();
      // Timestamps for the bench and tests: bytes arrived, rows rendered, next frame shown.
      const body = document.body.dataset;
      body.bytesAt = String(arrived);
      body.renderedAt = String(Date.now());
      body.renderedOffset = String(reply.offset);
      requestAnimationFrame(() => { body.framedAt = String(Date.now()); });
      if (!firstPaint) {
        firstPaint = true;
        body.painted = 'true';
        body.firstPaintAt = body.renderedAt;
      }
    } else if (reply.type === 'error') {
      message(reply.message, true);
    }
    if (readAgain) {
      readAgain = false;
      requestWindow();
    }
  });
}
let firstPaint = false;

let fadeTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleFade(): void {
  if (fadeTimer !== undefined || changes.size === 0) return;
  fadeTimer = setTimeout(() => {
    fadeTimer = undefined;
    const live = changes.prune(performance.now());
    render();
    if (live) scheduleFade();
  }, 250);
}

let refreshTimer: ReturnType<typeof setInterval> | undefined;
function setupRefresh(): void {
  if (refreshTimer !== undefined) clearInterval(refreshTimer);
  refreshTimer = undefined;
  if (state.refreshMs > 0 && !state.paused && !state.removed) {
    refreshTimer = setInterval(() => requestWindow(), state.refreshMs);
  }
  renderStatus();
}

function setPaused(p: boolean): void {
  state.paused = p;
  pauseBtn.textContent = p ? 'Resume' : 'Pause';
  pauseBtn.setAttribute('aria-pressed', String(p));
  pauseBtn.title = p ? 'Resume live refresh' : 'Pause live refresh';
  setupRefresh();
  sendState();
}

function applySize(size: number): void {
  if (size === state.size) return;
  const old = state.size;
  state.size = size;
  state.cursor = Math.min(state.cursor, Math.max(0, size - 1));
  state.anchor = Math.min(state.anchor, Math.max(0, size - 1));
  state.firstRow = vp.clampFirstRow(geometry(), state.firstRow);
  spacer.style.height = `${vp.spacerHeight(geometry())}px`;
  if (old !== 0) showBanner(`The object's size changed from ${old} to ${size} bytes.`);
}

function showBanner(text: string): void {
  banner.textContent = text;
  banner.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Scrolling and cursor.

let expectedScrollTop = 0;

function setFirstRow(row: number): void {
  const g = geometry();
  const r = vp.clampFirstRow(g, row);
  if (r !== state.firstRow) {
    state.firstRow = r;
    requestWindow();
  }
  expectedScrollTop = vp.scrollTopFor(g, r);
  if (Math.abs(scroller.scrollTop - expectedScrollTop) >= 1) scroller.scrollTop = expectedScrollTop;
  render();
  sendState();
}

let measuredScroller = 0;
scroller.addEventListener('scroll', () => {
  // Our own scrollTop writes echo back here; only a user's drag moves the first row.
  if (Math.abs(scroller.scrollTop - expectedScrollTop) < 1) return;
  // A resize (a bar shown or hidden) moves scrollTop before the ResizeObserver runs: that is not
  // the user scrolling, so keep the first row and put the scrollbar where the new geometry says.
  if (scroller.clientHeight !== measuredScroller) {
    measure();
    setFirstRow(state.firstRow);
    return;
  }
  expectedScrollTop = scroller.scrollTop;
  const r = vp.firstRowAt(geometry(), scroller.scrollTop);
  if (r !== state.firstRow) {
    state.firstRow = r;
    requestWindow();
    render();
    sendState();
  }
});

grid.addEventListener('wheel', (e) => {
  e.preventDefault();
  const rows = e.deltaMode === 1 ? e.deltaY : e.deltaMode === 2 ? e.deltaY * vp.pageRows(geometry()) : e.deltaY / rowHeight;
  setFirstRow(state.firstRow + Math.trunc(rows === 0 ? 0 : rows > 0 ? Math.max(1, rows) : Math.min(-1, rows)));
}, { passive: false });

function setCursor(offset: number, extend: boolean, reveal = true): void {
  state.cursor = Math.max(0, Math.min(Math.max(0, state.size - 1), offset));
  if (!extend) state.anchor = state.cursor;
  state.pendingNibble = undefined;
  if (reveal) {
    const g = geometry();
    const row = vp.rowOf(state.cursor, state.bytesPerRow).row;
    const first = vp.firstRowToReveal(g, state.firstRow, row);
    if (first !== state.firstRow) {
      setFirstRow(first);
      return;
    }
  }
  render();
  sendState();
}

/** Selects a range and shows it with a little context above. */
function revealRange(offset: number, length: number): void {
  const g = geometry();
  const row = vp.rowOf(offset, state.bytesPerRow).row;
  state.anchor = offset;
  state.cursor = Math.min(state.size - 1, offset + Math.max(1, length) - 1);
  state.pendingNibble = undefined;
  const page = vp.pageRows(g);
  const visible = row >= state.firstRow && row < state.firstRow + page;
  if (visible) {
    render();
    sendState();
  } else {
    setFirstRow(row - Math.min(2, Math.floor(page / 3)));
  }
}

function sendState(): void {
  const g = geometry();
  post({
    type: 'state',
    cursor: state.cursor,
    selection: selectionRange(state.anchor, state.cursor),
    paused: state.paused,
    firstRow: state.firstRow,
    visible: vp.windowFor(state.firstRow, vp.pageRows(g), state.bytesPerRow, state.size),
  });
}

function offsetFromEvent(e: MouseEvent): { offset: number; ascii: boolean } | undefined {
  const t = e.target as HTMLElement | null;
  const o = t?.dataset?.offset;
  if (o === undefined || t?.parentElement === null) return undefined;
  return { offset: Number(o), ascii: t!.parentElement!.classList.contains('ascii') };
}

let dragging = false;
grid.addEventListener('mousedown', (e) => {
  const hit = offsetFromEvent(e);
  if (!hit) return;
  grid.focus();
  state.asciiActive = hit.ascii;
  dragging = true;
  setCursor(hit.offset, e.shiftKey, false);
  if (!e.shiftKey) locateInTree(hit.offset);
});

/** Selects, in the structure tree, the field under a byte (expanding its parents). */
function locateInTree(offset: number): void {
  if (!structure.bound || !spanAt(offset)) return;
  request({ type: 'locate', requestId: nextId++, offset }, (reply) => {
    if (reply.type === 'resolveReply') structure.reveal(reply.id, reply.row);
  });
}

function spanAt(offset: number): FieldSpan | undefined {
  let found: FieldSpan | undefined;
  for (const sp of state.spans) {
    if (sp.offset > offset) break;
    if (offset < sp.offset + sp.length) found = sp;
  }
  return found;
}

/** What the bytes under the mouse are: field, ring slot, bookmark. */
function describeByte(offset: number): string {
  const parts: string[] = [];
  const sp = spanAt(offset);
  if (sp) {
    const i = sp.stride ? Math.floor((offset - sp.offset) / sp.stride) : -1;
    parts.push(i >= 0 ? `${sp.path}[${i}] (${sp.type})` : `${sp.path} (${sp.type}, ${sp.length} byte${sp.length === 1 ? '' : 's'} at 0x${sp.offset.toString(16)})`);
  }
  for (const ring of state.rings) {
    if (inRange(ring.headSlot, offset)) parts.push(`head slot of ${ring.path}`);
    if (inRange(ring.tailSlot, offset)) parts.push(`tail slot of ${ring.path}`);
  }
  for (const b of state.bookmarks) if (inRange(b, offset)) parts.push(`bookmark ${b.name}`);
  return parts.join(' · ');
}

let hovered: HTMLElement | undefined;
grid.addEventListener('mousemove', (e) => {
  if (dragging) return;
  const hit = offsetFromEvent(e);
  const t = e.target as HTMLElement;
  if (!hit || t === hovered) return;
  hovered = t;
  const text = describeByte(hit.offset);
  statusField.textContent = text;
  t.title = text;
});
grid.addEventListener('mouseleave', () => {
  hovered = undefined;
  statusField.textContent = state.rings[0]?.text ?? '';
});
grid.addEventListener('mousemove', (e) => {
  if (!dragging || (e.buttons & 1) === 0) return;
  const hit = offsetFromEvent(e);
  if (hit && hit.offset !== state.cursor) setCursor(hit.offset, true, false);
});
window.addEventListener('mouseup', () => { dragging = false; });

grid.addEventListener('keydown', (e) => {
  const ctrl = e.ctrlKey || e.metaKey;
  if (NAV_KEYS.includes(e.key)) {
    e.preventDefault();
    const next = moveCursor(state.cursor, e.key as NavKey, { bytesPerRow: state.bytesPerRow, size: state.size, pageRows: vp.pageRows(geometry()), ctrl });
    setCursor(next, e.shiftKey);
    return;
  }
  if (e.key === 'Tab' && !ctrl) {
    e.preventDefault();
    state.asciiActive = !state.asciiActive;
    state.pendingNibble = undefined;
    render();
    return;
  }
  if (ctrl && (e.key === 'c' || e.key === 'C')) {
    e.preventDefault();
    copySelection(copyFormat.value as CopyFormat);
    return;
  }
  if (ctrl && (e.key === 'z' || e.key === 'Z')) {
    e.preventDefault();
    action(e.shiftKey ? 'redo' : 'undo');
    return;
  }
  if (ctrl && (e.key === 'y' || e.key === 'Y')) {
    e.preventDefault();
    action('redo');
    return;
  }
  if (!ctrl && !e.altKey && e.key.length === 1) typeChar(e.key);
});

// ---------------------------------------------------------------------------------------------
// Editing (read-write tabs only): typed hex nibbles or ASCII characters overwrite in place.

function typeChar(ch: string): void {
  let value: number | undefined;
  if (state.asciiActive) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) return;
    value = code;
  } else {
    if (!/^[0-9a-f]$/i.test(ch)) return;
    const nib = parseInt(ch, 16);
    if (state.readOnly) return refuseEdit();
    if (state.pendingNibble === undefined) {
      state.pendingNibble = nib;
      message(`typed ${ch.toLowerCase()}_ at 0x${state.cursor.toString(16)}`);
      return;
    }
    value = (state.pendingNibble << 4) | nib;
    state.pendingNibble = undefined;
  }
  if (state.readOnly) return refuseEdit();
  writeByte(state.cursor, value);
}

function refuseEdit(): void {
  message('This tab is read-only: use "Open Read-Write…" to edit the object.', true);
}

function writeByte(offset: number, value: number): void {
  const bytes = new Uint8Array([value]);
  const i = offset - state.win.offset;
  const before = state.win.bytes[i];
  if (i >= 0 && i < state.win.bytes.length) state.win.bytes[i] = value; // shown at once
  request({ type: 'write', requestId: nextId++, offset, bytes: bytes.subarray(0, MAX_WRITE) }, (reply) => {
    if (reply.type === 'error') {
      if (before !== undefined && i >= 0 && i < state.win.bytes.length) state.win.bytes[i] = before;
      message(reply.message, true);
      render();
    } else {
      message(`wrote 0x${HEX[value]} at 0x${offset.toString(16)}`);
    }
  });
  if (offset + 1 < state.size) setCursor(offset + 1, false);
  else render();
}

// ---------------------------------------------------------------------------------------------
// Toolbar actions.

function action(a: Action): void {
  request({ type: 'action', requestId: nextId++, action: a }, (reply) => {
    if (reply.type === 'error') message(reply.message, true);
    else if (a === 'undo' || a === 'redo') {
      requestWindow();
      structure.refresh();
    }
  });
}

function copySelection(format: CopyFormat): void {
  const sel = selectionRange(state.anchor, state.cursor);
  if (state.size === 0) return;
  request({ type: 'copy', requestId: nextId++, offset: sel.offset, length: Math.min(MAX_READ, sel.length), format }, (reply) => {
    if (reply.type === 'error') message(reply.message, true);
    else message(`copied ${Math.min(MAX_READ, sel.length)} bytes as ${format}`);
  });
}

function jumpDiff(dir: 1 | -1): void {
  if (state.diff.length === 0) return message('no differences to go to');
  const ranges = state.diff;
  const next = dir > 0
    ? ranges.find((r) => r.offset > state.cursor) ?? ranges[0]!
    : [...ranges].reverse().find((r) => r.offset + r.length - 1 < state.anchor) ?? ranges[ranges.length - 1]!;
  revealRange(next.offset, next.length);
  const i = ranges.indexOf(next);
  diffInfo.textContent = `${state.diffLabel}: difference ${i + 1} of ${ranges.length}`;
}

function showBar(which: 'goto' | 'find'): void {
  const bar = which === 'goto' ? gotoBar : findBar;
  const input = which === 'goto' ? gotoInput : findInput;
  bar.hidden = false;
  input.focus();
  input.select();
}

function hideBars(): void {
  gotoBar.hidden = true;
  findBar.hidden = true;
  grid.focus();
}

gotoInput.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') return hideBars();
  if (e.key !== 'Enter') return;
  const r = parseGoto(gotoInput.value, state.cursor, state.size);
  if (!r.ok && ((structure.bound && /^[A-Za-z_]/.test(gotoInput.value.trim())) || parseProcessAddress(gotoInput.value))) {
    // Not a number: a field name of the bound schema, or a process's address ("pid 4242: 0x7f…").
    request({ type: 'resolve', requestId: nextId++, text: gotoInput.value.trim() }, (reply) => {
      if (reply.type === 'resolveReply') {
        gotoMsg.textContent = '';
        gotoMsg.classList.remove('error');
        gotoBar.hidden = true;
        grid.focus();
        revealRange(reply.offset, reply.length);
        if (reply.id) structure.reveal(reply.id, reply.row);
      } else if (reply.type === 'error') {
        gotoMsg.textContent = reply.message;
        gotoMsg.classList.add('error');
      }
    });
    return;
  }
  if (!r.ok) {
    gotoMsg.textContent = r.message;
    gotoMsg.classList.add('error');
    return;
  }
  gotoMsg.textContent = '';
  gotoMsg.classList.remove('error');
  gotoBar.hidden = true;
  grid.focus();
  revealRange(r.offset, 1);
});

let findId: number | undefined;
function find(backward: boolean): void {
  if (findInput.value.length === 0) return;
  if (findId !== undefined) cancelFind();
  const kind = findKind.value as FindQuery['kind'];
  const query: FindQuery = { kind, text: findInput.value };
  if (kind === 'number') {
    query.width = Number(findWidth.value) as 1 | 2 | 4 | 8;
    query.endian = findEndian.value as 'le' | 'be';
  }
  const sel = selectionRange(state.anchor, state.cursor);
  const from = backward ? sel.offset : sel.offset + (sel.length > 1 || state.lastFound === sel.offset ? 1 : 0);
  const id = nextId++;
  findId = id;
  findMsg.textContent = 'searching…';
  findMsg.classList.remove('error');
  request({ type: 'find', requestId: id, query, from, backward }, (reply) => {
    if (findId === id) findId = undefined;
    if (reply.type === 'findReply') {
      if (reply.offset === null) {
        findMsg.textContent = 'not found';
      } else {
        findMsg.textContent = `found at 0x${reply.offset.toString(16)} (${reply.offset})`;
        state.lastFound = reply.offset;
        revealRange(reply.offset, reply.length);
      }
    } else if (reply.type === 'error') {
      findMsg.textContent = reply.message;
      findMsg.classList.toggle('error', reply.code !== 'ECANCELED');
    }
  });
}

function cancelFind(): void {
  if (findId === undefined) return;
  post({ type: 'cancel', requestId: findId });
}

findInput.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') return hideBars();
  if (e.key === 'Enter') find(e.shiftKey);
});
const syncFindKind = () => {
  const num = findKind.value === 'number';
  findWidth.hidden = !num;
  findEndian.hidden = !num;
  findInput.placeholder = findKind.value === 'hex' ? 'de ad be ef' : findKind.value === 'text' ? 'text' : '1234 or 0x4d2';
};
findKind.addEventListener('change', syncFindKind);
syncFindKind();

window.addEventListener('keydown', (e) => {
  const ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && (e.key === 'g' || e.key === 'G')) {
    e.preventDefault();
    showBar('goto');
  } else if (ctrl && (e.key === 'f' || e.key === 'F')) {
    e.preventDefault();
    showBar('find');
  } else if (e.key === 'F3') {
    e.preventDefault();
    find(e.shiftKey);
  }
});

// ---------------------------------------------------------------------------------------------
// Messages from the host.

window.addEventListener('message', (e: MessageEvent<ToWebview>) => onMessage(e.data));

function onMessage(m: ToWebview): void {
  switch (m.type) {
    case 'init': {
      document.body.dataset.initAt ??= String(Date.now());
      const sizeChanged = m.size !== state.size;
      state.target = m.target;
      state.title = m.title;
      state.readOnly = m.readOnly;
      state.bytesPerRow = m.bytesPerRow;
      state.refreshMs = m.refreshMs;
      modeBadge.textContent = m.readOnly ? 'read-only' : 'read-write';
      modeBadge.classList.toggle('rw', !m.readOnly);
      grid.setAttribute('aria-readonly', String(m.readOnly));
      grid.setAttribute('aria-label', `Hex view of ${m.title}, ${m.size} bytes`);
      if (sizeChanged) {
        state.size = m.size;
        spacer.style.height = `${vp.spacerHeight(geometry())}px`;
      }
      pool = [];
      setupRefresh();
      measure();
      requestWindow();
      render();
      return;
    }
    case 'status':
      if (m.size !== state.size) applySize(m.size);
      if (m.removed && !state.removed) {
        state.removed = true;
        setupRefresh();
        showBanner(m.problem ?? 'The object was removed. The last bytes read stay visible.');
        document.body.dataset.removed = 'true';
      } else if (m.problem) {
        showBanner(m.problem);
      }
      render();
      return;
    case 'reveal':
      revealRange(Math.min(m.offset, Math.max(0, state.size - 1)), m.length);
      locateInTree(m.offset);
      return;
    case 'schema':
      structure.onSchema(m);
      gotoInput.placeholder = structure.bound ? 'offset or field: 1234, 0x4d2, +16, hdr.head' : 'offset: 1234, 0x4d2, +16, -0x10';
      if (!structure.bound) {
        state.spans = [];
        state.rings = [];
        render();
      }
      return;
    case 'bookmarks':
      state.bookmarks = m.items;
      structure.setBookmarks(m.items);
      render();
      return;
    case 'invalidate':
      requestWindow();
      return;
    case 'diff':
      state.diff = m.ranges;
      state.diffLabel = m.label ?? '';
      diffInfo.textContent = m.label ? `${m.label}: ${m.ranges.length} difference${m.ranges.length === 1 ? '' : 's'}` : '';
      render();
      return;
    case 'show':
      showBar(m.what);
      return;
    case 'findProgress':
      if (m.requestId === findId) findMsg.textContent = `searching… ${Math.floor((100 * m.done) / Math.max(1, m.total))}%`;
      return;
    default: {
      const cb = pending.get(m.requestId);
      if (cb) {
        pending.delete(m.requestId);
        cb(m);
      }
    }
  }
}

function measure(): void {
  const probe = pool[0]?.row ?? header;
  const h = probe.getBoundingClientRect().height;
  if (h > 0) rowHeight = h;
  viewportPx = grid.clientHeight - header.getBoundingClientRect().height;
  chromePx = Math.max(0, scroller.clientHeight - viewportPx);
  measuredScroller = scroller.clientHeight;
  spacer.style.height = `${vp.spacerHeight(geometry())}px`;
}

new ResizeObserver(() => {
  const before = vp.renderRows(geometry());
  measure();
  const first = vp.clampFirstRow(geometry(), state.firstRow);
  if (vp.renderRows(geometry()) !== before) {
    state.firstRow = first;
    requestWindow();
  }
  setFirstRow(first);
}).observe(grid);

// The host puts the first init in a meta tag: start reading at once, without a round trip.
const initMeta = document.querySelector('meta[name="shmscope-init"]')?.getAttribute('content');
if (initMeta) {
  try {
    const m = JSON.parse(initMeta) as ToWebview;
    if (m.type === 'init') onMessage(m);
  } catch {
    /* the host sends init again after ready */
  }
}
// The first rows travel with the page too: paint them now; the read above refreshes them.
const firstMeta = document.querySelector('meta[name="shmscope-first"]');
const firstB64 = firstMeta?.getAttribute('content');
if (firstB64 && !firstPaint && state.firstRow === 0) {
  try {
    const bin = atob(firstB64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const arrived = Date.now();
    state.win = { offset: Number(firstMeta?.getAttribute('data-offset') ?? 0), bytes };
    render();
    const body = document.body.dataset;
    body.bytesAt = String(arrived);
    body.renderedAt = body.firstPaintAt = String(Date.now());
    body.renderedOffset = String(state.win.offset);
    body.painted = 'true';
    firstPaint = true;
  } catch {
    /* the read above paints them */
  }
}
post({ type: 'ready' });
