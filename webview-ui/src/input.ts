// Input on the hex grid: mouse selection and dragging, the keyboard (navigation, Tab from the hex to
// the ASCII column and then out of the grid, Copy, Undo/Redo), what the byte under the mouse is, the page's own
// shortcuts (Ctrl+G, Ctrl+F, F3), and typing over bytes in read-write tabs.
import { inRange, moveCursor, NAV_KEYS, type NavKey } from '../../extension/src/shared/inspector/navigation';
import { MAX_WRITE, PageRequests } from '../../extension/src/shared/protocol';
import { HEX } from './grid';
import type { Page } from './page';
import { spanAt } from './state';
import { why } from './toolbar';

function offsetFromEvent(e: MouseEvent): { offset: number; ascii: boolean } | undefined {
  const t = e.target as HTMLElement | null;
  const o = t?.dataset?.offset;
  const parent = t?.parentElement;
  if (o === undefined || !parent) return undefined;
  return { offset: Number(o), ascii: parent.classList.contains('ascii') };
}

/** What the bytes under the mouse are: field, ring slot, bookmark. */
export function describeByte(page: Page, offset: number): string {
  const s = page.state;
  const parts: string[] = [];
  const sp = spanAt(s, offset);
  if (sp) {
    const i = sp.stride ? Math.floor((offset - sp.offset) / sp.stride) : -1;
    parts.push(i >= 0 ? `${sp.path}[${i}] (${sp.type})` : `${sp.path} (${sp.type}, ${sp.length} byte${sp.length === 1 ? '' : 's'} at 0x${sp.offset.toString(16)})`);
  }
  for (const ring of s.rings) {
    if (inRange(ring.headSlot, offset)) parts.push(`head slot of ${ring.path}`);
    if (inRange(ring.tailSlot, offset)) parts.push(`tail slot of ${ring.path}`);
  }
  for (const b of s.bookmarks) if (inRange(b, offset)) parts.push(`bookmark ${b.name}`);
  return parts.join(' · ');
}

export function wireInput(page: Page): void {
  const { state, view } = page;
  const grid = page.grid.element;
  let dragging = false;
  let hovered: HTMLElement | undefined;

  grid.addEventListener('mousedown', (e) => {
    const hit = offsetFromEvent(e);
    if (!hit) return;
    grid.focus();
    state.asciiActive = hit.ascii;
    dragging = true;
    view.setCursor(hit.offset, e.shiftKey, false);
    if (!e.shiftKey) page.locateInTree(hit.offset);
  });
  grid.addEventListener('mousemove', (e) => {
    if (dragging) {
      if ((e.buttons & 1) === 0) return;
      const hit = offsetFromEvent(e);
      if (hit && hit.offset !== state.cursor) view.setCursor(hit.offset, true, false);
      return;
    }
    const hit = offsetFromEvent(e);
    const t = e.target as HTMLElement;
    if (!hit || t === hovered) return;
    hovered = t;
    const text = describeByte(page, hit.offset);
    page.status.field.textContent = text;
    t.title = text;
  });
  grid.addEventListener('mouseleave', () => {
    hovered = undefined;
    page.status.field.textContent = state.rings[0]?.text ?? '';
  });
  window.addEventListener('mouseup', () => { dragging = false; });

  grid.addEventListener('keydown', (e) => {
    const ctrl = e.ctrlKey || e.metaKey;
    if (NAV_KEYS.includes(e.key)) {
      e.preventDefault();
      view.setCursor(moveCursor(state.cursor, e.key as NavKey, { bytesPerRow: state.bytesPerRow, size: state.size, pageRows: view.pageRows(), ctrl }), e.shiftKey);
      return;
    }
    // Tab goes hex → ASCII, then on to the structure tree and the data inspector (Shift+Tab back):
    // the grid's two columns are two stops, never a trap.
    if (e.key === 'Tab' && !ctrl && !e.altKey && state.asciiActive === e.shiftKey) {
      e.preventDefault();
      state.asciiActive = !state.asciiActive;
      state.pendingNibble = undefined;
      view.render();
      return;
    }
    const k = e.key.toLowerCase();
    if (ctrl && (k === 'c' || k === 'z' || k === 'y')) {
      e.preventDefault();
      if (k === 'c') page.copySelection();
      else page.action(k === 'z' && !e.shiftKey ? 'undo' : 'redo');
      return;
    }
    if (!ctrl && !e.altKey && e.key.length === 1) typeChar(page, e.key);
  });

  window.addEventListener('keydown', (e) => {
    const ctrl = e.ctrlKey || e.metaKey;
    const k = e.key.toLowerCase();
    if (ctrl && (k === 'g' || k === 'f')) {
      e.preventDefault();
      page.showBar(k === 'g' ? 'goto' : 'find');
    } else if (e.key === 'F3') {
      e.preventDefault();
      page.findNext(e.shiftKey);
    }
  });
}

// Editing (read-write tabs only): typed hex nibbles or ASCII characters overwrite in place.

function typeChar(page: Page, ch: string): void {
  const s = page.state;
  let value: number | undefined;
  if (s.asciiActive) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) return;
    value = code;
  } else {
    if (!/^[0-9a-f]$/i.test(ch)) return;
    const nib = parseInt(ch, 16);
    if (s.readOnly) return refuseEdit(page);
    if (s.pendingNibble === undefined) {
      s.pendingNibble = nib;
      page.status.message(`typed ${ch.toLowerCase()}_ at 0x${s.cursor.toString(16)}`);
      return;
    }
    value = (s.pendingNibble << 4) | nib;
    s.pendingNibble = undefined;
  }
  if (s.readOnly) return refuseEdit(page);
  writeByte(page, s.cursor, value);
}

function refuseEdit(page: Page): void {
  page.status.message('This tab is read-only: use "Open Read-Write…" to edit the object.', true);
}

function writeByte(page: Page, offset: number, value: number): void {
  const s = page.state;
  const bytes = new Uint8Array([value]);
  const i = offset - s.win.offset;
  const before = s.win.bytes[i];
  if (i >= 0 && i < s.win.bytes.length) s.win.bytes[i] = value; // shown at once
  page.ch.request(PageRequests.write, { offset, bytes: bytes.subarray(0, MAX_WRITE) }).then(
    () => page.status.message(`wrote 0x${HEX[value]} at 0x${offset.toString(16)}`),
    (e: unknown) => {
      if (before !== undefined && i >= 0 && i < s.win.bytes.length) s.win.bytes[i] = before;
      page.status.message(why(e), true);
      page.view.render();
    },
  );
  if (offset + 1 < s.size) page.view.setCursor(offset + 1, false);
  else page.view.render();
}
