// The page's state: what the host said about the object, and where the user is in it. One object
// shared by the page's modules; each changes only its own part. No DOM.
import type { Bookmark, FieldSpan, InitParams, Range, RingMark } from '../../extension/src/shared/protocol';

/** What init says (target, title, size, readOnly, bytesPerRow, refreshMs), and the page's own state. */
export interface PageState extends Omit<InitParams, 'openedAt' | 'handedAt'> {
  paused: boolean;
  removed: boolean;
  firstRow: number;
  cursor: number;
  anchor: number;
  asciiActive: boolean;
  /** First nibble typed in the hex column, waiting for the second. */
  pendingNibble: number | undefined;
  littleEndian: boolean;
  /** The last bytes read and where they start: the rows shown and a margin around them. */
  win: { offset: number; bytes: Uint8Array };
  /** Bytes read ahead around a Go to target while it is typed; the grid paints from them until the jump's own read arrives. */
  ahead: { offset: number; bytes: Uint8Array };
  diff: Range[];
  diffLabel: string;
  /** Where the last Find matched, so Next moves past it. */
  lastFound: number | undefined;
  /** With a schema: the fields over the last window read, and the rings there. */
  spans: FieldSpan[];
  rings: RingMark[];
  bookmarks: Bookmark[];
}

export function initialState(): PageState {
  return {
    target: '', title: '', size: 0, readOnly: true, bytesPerRow: 16, refreshMs: 0, paused: false, removed: false,
    firstRow: 0, cursor: 0, anchor: 0, asciiActive: false, pendingNibble: undefined, littleEndian: true,
    win: { offset: 0, bytes: new Uint8Array(0) }, ahead: { offset: 0, bytes: new Uint8Array(0) }, diff: [], diffLabel: '', lastFound: undefined, spans: [], rings: [], bookmarks: [],
  };
}

/** The byte at `offset` from the last window read, else from the bytes read ahead, if either holds it. */
export function byteAt(s: PageState, offset: number): number | undefined {
  const i = offset - s.win.offset;
  if (i >= 0 && i < s.win.bytes.length) return s.win.bytes[i];
  const j = offset - s.ahead.offset;
  return j >= 0 && j < s.ahead.bytes.length ? s.ahead.bytes[j] : undefined;
}

/** The deepest field over `offset` in the last window's spans. */
export function spanAt(s: PageState, offset: number): FieldSpan | undefined {
  let found: FieldSpan | undefined;
  for (const sp of s.spans) {
    if (sp.offset > offset) break;
    if (offset < sp.offset + sp.length) found = sp;
  }
  return found;
}
