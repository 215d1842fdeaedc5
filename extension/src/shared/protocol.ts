// Every message between the inspector's host side (extension/src/inspector) and its page
// (webview-ui), as typed constants of the channel (channel.ts): `PageRequests` the page asks and
// the host answers, `PageNotes` the page tells, `HostNotes` the host tells. Both sides import this
// module; no message string is spelled anywhere else. Bytes cross as Uint8Array (structured
// clone); offsets are numbers checked to be safe integers (≤ 2^53), which covers any segment Linux
// can map. The host trusts nothing the page sends: each request's parser below checks it.
// Pure: no vscode, no DOM.
import { notificationType, requestType, trusted } from './channel';
import type { CheckSummary, FieldSpan, RingMark, TreeRow } from './inspector/structure';
import type { TimelinePosition } from './record/timeline';

export type { CheckSummary, FieldSpan, RingMark, TreeRow };

/** Largest window one read may ask for; the host clamps to this too. */
export const MAX_READ = 1 << 20;
/** Largest single write (a typed byte or a paste). */
export const MAX_WRITE = 1 << 16;
/** Longest Find query text. */
export const MAX_QUERY = 4096;
/** Most tree rows one request may ask for. */
export const MAX_TREE_ROWS = 1000;
/** Longest field path, field value text or bookmark name the page may send. */
export const MAX_TEXT = 4096;
/** Bookmark colours: names of the theme's chart colours (--vscode-charts-*). */
export const BOOKMARK_COLORS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple'] as const;
export type BookmarkColor = (typeof BOOKMARK_COLORS)[number];

/** A named, coloured byte range, kept per object across sessions. */
export interface Bookmark {
  name: string;
  offset: number;
  length: number;
  color: BookmarkColor;
}

/** Bytes per row the page accepts. */
export const MIN_BYTES_PER_ROW = 1;
export const MAX_BYTES_PER_ROW = 64;

export type CopyFormat = 'hex' | 'c' | 'base64' | 'text';
export const COPY_FORMATS: readonly CopyFormat[] = ['hex', 'c', 'base64', 'text'];

/** What Find looks for. `number` is parsed with `width` bytes in `endian` order. */
export interface FindQuery {
  kind: 'hex' | 'text' | 'number';
  text: string;
  width?: 1 | 2 | 4 | 8;
  endian?: 'le' | 'be';
}

/** A byte range [offset, offset + length). */
export interface Range {
  offset: number;
  length: number;
}

// ---------------------------------------------------------------------------------------------
// Host → page notifications (the page trusts its host).

/** Sent once after `ready`, and again when a setting changes. */
export interface InitParams {
  /** Target text, e.g. "shm:32770". */
  target: string;
  /** What the user calls the object, e.g. "segment key 0x52494e47 (id 32770)". */
  title: string;
  size: number;
  readOnly: boolean;
  bytesPerRow: number;
  /** Live refresh interval; 0 = no live refresh. */
  refreshMs: number;
  /** When the command that opened the tab started (the host's wall clock), for the first-paint figure. */
  openedAt?: number;
  /** When the host handed the page's HTML to the workbench (wall clock): the host's share of the first paint ends here. */
  handedAt?: number;
}

/** Whether a schema is bound, and to what. Sent after init and whenever the binding changes. */
export interface SchemaParams {
  /** e.g. "ring.shms · Ring"; undefined when nothing is bound. */
  label?: string;
  /** Where the schema comes from: "segment Ring for key 0x52494e47", "setting", "bound by hand". */
  how?: string;
  /** A sentence when the schema has errors or could not be read. */
  problem?: string;
}

/** Pushed when the object changes size or is removed; the page keeps its last bytes. */
export interface StatusParams {
  size: number;
  removed: boolean;
  /** A sentence for a banner, or undefined when all is well. */
  problem?: string;
}

/** Differing ranges against a snapshot; empty `ranges` with `label` undefined clears it. */
export interface DiffParams {
  label?: string;
  ranges: Range[];
}

export const HostNotes = {
  init: notificationType<InitParams>('init', trusted),
  /** The object changed size or was removed. */
  status: notificationType<StatusParams>('status', trusted),
  /** The object's memory for the status line ("Memory: resident 8 KiB · swapped 0 B · PSS 4 KiB"), read on open and on a slow timer. */
  memory: notificationType<{ text: string }>('memory', trusted),
  /** Move the cursor and select a range (Go to Offset from a command, a diff, a bookmark). */
  reveal: notificationType<Range>('reveal', trusted),
  /** Bytes changed behind the page's back (undo, redo, a re-bound schema): re-read now. */
  invalidate: notificationType<Record<string, never>>('invalidate', trusted),
  diff: notificationType<DiffParams>('diff', trusted),
  /** Open a bar (from a command or a keybinding in the host). */
  show: notificationType<{ what: 'goto' | 'find' }>('show', trusted),
  schema: notificationType<SchemaParams>('schema', trusted),
  /** The object's bookmarks (after ready, and whenever they change). */
  bookmarks: notificationType<{ items: Bookmark[] }>('bookmarks', trusted),
  /** A replay's timeline (`.shmrec` tabs only): where its cursor is; the page shows its bar. */
  timeline: notificationType<TimelineParams>('timeline', trusted),
};

/** Where a replay's cursor is (times in milliseconds since the recording started), and whether it plays. */
export interface TimelineParams extends TimelinePosition {
  playing: boolean;
}

// ---------------------------------------------------------------------------------------------
// Page → host: what the page may send, each with the parser the host runs on it.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A safe, non-negative integer: an offset, a length, an id. */
export const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isRange = (v: unknown): v is Range => isObj(v) && isOffset(v.offset) && isOffset(v.length) && Number.isSafeInteger(v.offset + v.length) && onlyKeys(v, ['offset', 'length']);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
/** A tree row id: child indices joined by "/" ("0/3/12"), at most 64 deep. */
const isRowId = (v: unknown): v is string => typeof v === 'string' && v.length <= 1024 && /^\d{1,10}(\/\d{1,10}){0,63}$/.test(v);

function onlyKeys(o: Obj, keys: readonly string[]): boolean {
  return Object.keys(o).every((k) => keys.includes(k));
}

/** `v` as an object with no keys but `keys`, or undefined. */
const shape = (v: unknown, keys: readonly string[]): Obj | undefined => (isObj(v) && onlyKeys(v, keys) ? v : undefined);

function parseQuery(v: unknown): FindQuery | undefined {
  if (!isObj(v) || !onlyKeys(v, ['kind', 'text', 'width', 'endian'])) return undefined;
  if (v.kind !== 'hex' && v.kind !== 'text' && v.kind !== 'number') return undefined;
  if (typeof v.text !== 'string' || v.text.length === 0 || v.text.length > MAX_QUERY) return undefined;
  const q: FindQuery = { kind: v.kind, text: v.text };
  if (v.width !== undefined) {
    if (v.width !== 1 && v.width !== 2 && v.width !== 4 && v.width !== 8) return undefined;
    q.width = v.width;
  }
  if (v.endian !== undefined) {
    if (v.endian !== 'le' && v.endian !== 'be') return undefined;
    q.endian = v.endian;
  }
  if (q.kind === 'number' && q.width === undefined) return undefined;
  return q;
}

/** Read [offset, offset+length) — the visible window. The page keeps at most one outstanding. */
export interface ReadParams { offset: number; length: number }
/** `size` is the object's size at the time of the read; with a schema, the fields and rings there. */
export interface ReadResult { offset: number; bytes: Uint8Array; size: number; spans?: FieldSpan[]; rings?: RingMark[] }
export interface WriteParams { offset: number; bytes: Uint8Array }
/** Find the next (or previous) match starting at `from`. */
export interface FindParams { query: FindQuery; from: number; backward: boolean }
/** The match, or `offset: null` when none. */
export interface FindResult { offset: number | null; length: number }
export interface CopyParams { offset: number; length: number; format: CopyFormat }
/** Rows [first, first + count) of the structure tree, after expanding or collapsing `toggle`. */
export interface TreeParams { first: number; count: number; toggle?: { id: string; expand: boolean } }
/** Rows [first, first + rows.length) of `total`, and every check's state. */
export interface TreeResult { total: number; first: number; rows: TreeRow[]; summary: CheckSummary }
/** A field's bytes and its row in the tree (ancestors expanded). */
export interface FieldResult { offset: number; length: number; path: string; id: string; row?: number }
/** Write a typed value into a field (read-write tabs). `path` guards against a re-bound schema. */
export interface SetFieldParams { id: string; path: string; text: string }
/** Remove bookmark `index` of the list the page was last sent (named `name`, so a stale list removes nothing). */
export interface RemoveBookmarkParams { index: number; name: string }

export const ACTIONS = ['snapshot', 'compare', 'clearDiff', 'undo', 'redo', 'bindSchema', 'addBookmark'] as const;
export type Action = (typeof ACTIONS)[number];

/** The page's cursor and view state, sent when it changes (for host commands and tests). */
export interface StateParams {
  cursor: number;
  selection: Range;
  paused: boolean;
  firstRow: number;
  /** Offsets of the rows the DOM shows, first and last byte. */
  visible: Range;
}

const parseRead = (v: unknown): ReadParams | undefined => {
  const m = shape(v, ['offset', 'length']);
  if (!m || !isOffset(m.offset) || !isOffset(m.length) || m.length > MAX_READ || !Number.isSafeInteger(m.offset + m.length)) return undefined;
  return { offset: m.offset, length: m.length };
};
const parseWrite = (v: unknown): WriteParams | undefined => {
  const m = shape(v, ['offset', 'bytes']);
  if (!m || !isOffset(m.offset) || !(m.bytes instanceof Uint8Array)) return undefined;
  if (m.bytes.length === 0 || m.bytes.length > MAX_WRITE || !Number.isSafeInteger(m.offset + m.bytes.length)) return undefined;
  return { offset: m.offset, bytes: m.bytes };
};
const parseFind = (v: unknown): FindParams | undefined => {
  const m = shape(v, ['query', 'from', 'backward']);
  const query = m && parseQuery(m.query);
  if (!m || !query || !isOffset(m.from) || !isBool(m.backward)) return undefined;
  return { query, from: m.from, backward: m.backward };
};
const parseCopy = (v: unknown): CopyParams | undefined => {
  const m = shape(v, ['offset', 'length', 'format']);
  if (!m || !isOffset(m.offset) || !isOffset(m.length) || m.length === 0 || m.length > MAX_READ) return undefined;
  if (!COPY_FORMATS.includes(m.format as CopyFormat)) return undefined;
  return { offset: m.offset, length: m.length, format: m.format as CopyFormat };
};
const parseAction = (v: unknown): { action: Action } | undefined => {
  const m = shape(v, ['action']);
  return m && ACTIONS.includes(m.action as Action) ? { action: m.action as Action } : undefined;
};
const parseTree = (v: unknown): TreeParams | undefined => {
  const m = shape(v, ['first', 'count', 'toggle']);
  if (!m || !isOffset(m.first) || !isOffset(m.count) || m.count > MAX_TREE_ROWS) return undefined;
  const r: TreeParams = { first: m.first, count: m.count };
  if (m.toggle !== undefined) {
    const t = shape(m.toggle, ['id', 'expand']);
    if (!t || !isRowId(t.id) || !isBool(t.expand)) return undefined;
    r.toggle = { id: t.id, expand: t.expand };
  }
  return r;
};
const parseNonEmptyText = (v: unknown): { text: string } | undefined => {
  const m = shape(v, ['text']);
  return m && isText(m.text) && m.text.length > 0 ? { text: m.text } : undefined;
};
const parseLocate = (v: unknown): { offset: number } | undefined => {
  const m = shape(v, ['offset']);
  return m && isOffset(m.offset) ? { offset: m.offset } : undefined;
};
const parseSetField = (v: unknown): SetFieldParams | undefined => {
  const m = shape(v, ['id', 'path', 'text']);
  return m && isRowId(m.id) && isText(m.path) && isText(m.text) ? { id: m.id, path: m.path, text: m.text } : undefined;
};
const parseRemoveBookmark = (v: unknown): RemoveBookmarkParams | undefined => {
  const m = shape(v, ['index', 'name']);
  return m && isOffset(m.index) && isText(m.name) ? { index: m.index, name: m.name } : undefined;
};
const parseState = (v: unknown): StateParams | undefined => {
  const m = shape(v, ['cursor', 'selection', 'paused', 'firstRow', 'visible']);
  if (!m || !isOffset(m.cursor) || !isRange(m.selection) || !isBool(m.paused) || !isOffset(m.firstRow) || !isRange(m.visible)) return undefined;
  return { cursor: m.cursor, selection: { ...m.selection }, paused: m.paused, firstRow: m.firstRow, visible: { ...m.visible } };
};
const parseNothing = (v: unknown): Record<string, never> | undefined => (shape(v, []) ? {} : undefined);

/** How long the page waits for a read before it shows an error state instead of a frozen grid. */
export const READ_TIMEOUT_MS = 5_000;
/** A find may run long on a big object; it reports progress, and each report restarts this. */
export const FIND_TIMEOUT_MS = 15_000;

export const PageRequests = {
  read: requestType<ReadParams, ReadResult>('read', parseRead, READ_TIMEOUT_MS),
  /** Overwrite bytes at offset (read-write tabs only). */
  write: requestType<WriteParams, void>('write', parseWrite),
  find: requestType<FindParams, FindResult>('find', parseFind, FIND_TIMEOUT_MS),
  /** Copy a range to the clipboard in a format. */
  copy: requestType<CopyParams, void>('copy', parseCopy),
  /** A toolbar action that the host performs with its own UI: no timeout, a person answers it. */
  action: requestType<{ action: Action }, void>('action', parseAction, 0),
  tree: requestType<TreeParams, TreeResult>('tree', parseTree, READ_TIMEOUT_MS),
  /** A field by path or unique name (Go to with a field name); it is revealed in the tree. */
  resolve: requestType<{ text: string }, FieldResult>('resolve', parseNonEmptyText),
  /** The deepest field at a byte offset (the cursor), revealed in the tree. */
  locate: requestType<{ offset: number }, FieldResult>('locate', parseLocate),
  setField: requestType<SetFieldParams, void>('setField', parseSetField),
  /** Put text on the clipboard (a tree row's path and value). */
  copyText: requestType<{ text: string }, void>('copyText', parseNonEmptyText),
  removeBookmark: requestType<RemoveBookmarkParams, void>('removeBookmark', parseRemoveBookmark),
};

/** What the timeline bar asks of a replay. */
export const TIMELINE_OPS = ['seek', 'play', 'pause', 'step', 'nextChange', 'previousChange', 'nextFailure', 'previousFailure'] as const;
export type TimelineOp = (typeof TIMELINE_OPS)[number];

/** The timeline bar: go to `frame` (seek), step by `delta` (±1), or another op. The host answers with a `timeline` note. */
export interface TimelineOpParams {
  op: TimelineOp;
  frame?: number;
  delta?: number;
}

const parseTimelineOp = (v: unknown): TimelineOpParams | undefined => {
  const m = shape(v, ['op', 'frame', 'delta']);
  if (!m || !TIMELINE_OPS.includes(m.op as TimelineOp)) return undefined;
  const r: TimelineOpParams = { op: m.op as TimelineOp };
  if (m.op === 'seek') {
    if (!isOffset(m.frame) || m.delta !== undefined) return undefined;
    r.frame = m.frame;
  } else if (m.op === 'step') {
    if ((m.delta !== 1 && m.delta !== -1) || m.frame !== undefined) return undefined;
    r.delta = m.delta;
  } else if (m.frame !== undefined || m.delta !== undefined) return undefined;
  return r;
};

export const PageNotes = {
  /** The page has loaded and listens. */
  ready: notificationType<Record<string, never>>('ready', parseNothing),
  state: notificationType<StateParams>('state', parseState),
  /** The timeline bar of a replay. */
  timelineOp: notificationType<TimelineOpParams>('timelineOp', parseTimelineOp),
};

// ---------------------------------------------------------------------------------------------
// The Watch plot page (webview-ui/src/plot.ts): fields over time, from a recording or live. A
// page of its own with one-way notes, so it keeps its own small message set.


/** Host → plot page: what is plotted. `live` plots keep the last `windowSeconds`. */
export interface PlotInitMessage {
  type: 'plotInit';
  title: string;
  /** One per field; `labels` name enum values (and text values, numbered by first appearance). */
  columns: { path: string; labels?: Record<number, string> }[];
  live: boolean;
  windowSeconds?: number;
}

/** Host → plot page: points, replacing what is there or (`append`) added to it. x in seconds. */
export interface PlotDataMessage {
  type: 'plotData';
  t: number[];
  values: (number | null)[][];
  append: boolean;
  /** Enum labels seen since the last message, per column. */
  labels?: (Record<number, string> | undefined)[];
}

/** Host → plot page: the timeline's cursor, in seconds. */
export interface PlotCursorMessage {
  type: 'plotCursor';
  t: number;
}

export type ToPlot = PlotInitMessage | PlotDataMessage | PlotCursorMessage;

/** Plot page → host: the page is ready, or the user clicked a time (seconds) to go to. */
export type FromPlot = { type: 'plotReady' } | { type: 'plotSeek'; t: number };

/** The plot page's message, if `raw` is exactly one of FromPlot; else undefined. */
export function parseFromPlot(raw: unknown): FromPlot | undefined {
  if (!isObj(raw)) return undefined;
  if (raw.type === 'plotReady' && onlyKeys(raw, ['type'])) return { type: 'plotReady' };
  if (raw.type === 'plotSeek' && onlyKeys(raw, ['type', 't']) && typeof raw.t === 'number' && Number.isFinite(raw.t)) return { type: 'plotSeek', t: raw.t };
  return undefined;
}
