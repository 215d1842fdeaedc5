// Every message between the inspector's host side (extension/src/inspector) and its page
// (webview-ui). Both sides import this module; no message string is spelled anywhere else.
// Bytes cross as Uint8Array (structured clone); offsets are numbers checked to be safe integers
// (≤ 2^53), which covers any segment Linux can map. Every request carries a `requestId` and is
// answered by exactly one reply with the same id, or an `error` carrying {code, message}.
// Pure: no vscode, no DOM.
import type { CheckSummary, FieldSpan, RingMark, TreeRow } from './inspector/structure';

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
// Host → page

/** Sent once after `ready`, and again when a setting changes. */
export interface InitMessage {
  type: 'init';
  /** Target text, e.g. "shm:32770". */
  target: string;
  /** What the user calls the object, e.g. "segment key 0x52494e47 (id 32770)". */
  title: string;
  size: number;
  readOnly: boolean;
  bytesPerRow: number;
  /** Live refresh interval; 0 = no live refresh. */
  refreshMs: number;
}

/** Reply to `read`. `size` is the object's size at the time of the read. */
export interface ReadReply {
  type: 'readReply';
  requestId: number;
  offset: number;
  bytes: Uint8Array;
  size: number;
  /** With a bound schema: the decoded fields over these bytes, and the rings among them. */
  spans?: FieldSpan[];
  rings?: RingMark[];
}

/** Whether a schema is bound, and to what. Sent after init and whenever the binding changes. */
export interface SchemaMessage {
  type: 'schema';
  /** e.g. "ring.shms · Ring"; undefined when nothing is bound. */
  label?: string;
  /** Where the schema comes from: "segment Ring for key 0x52494e47", "setting", "bound by hand". */
  how?: string;
  /** A sentence when the schema has errors or could not be read. */
  problem?: string;
}

/** Reply to `tree`: rows [first, first + rows.length) of `total`, and every check's state. */
export interface TreeReply {
  type: 'treeReply';
  requestId: number;
  total: number;
  first: number;
  rows: TreeRow[];
  summary: CheckSummary;
}

/** Reply to `resolve`/`locate`: the field's bytes and its row in the tree (ancestors expanded). */
export interface ResolveReply {
  type: 'resolveReply';
  requestId: number;
  offset: number;
  length: number;
  path: string;
  id: string;
  /** The field's row index in the tree, now that its ancestors are expanded. */
  row?: number;
}

/** The object's bookmarks (after init, and whenever they change). */
export interface BookmarksMessage {
  type: 'bookmarks';
  items: Bookmark[];
}

/** Pushed when the object changes size or is removed; the page keeps its last bytes. */
export interface StatusMessage {
  type: 'status';
  size: number;
  removed: boolean;
  /** A sentence for a banner, or undefined when all is well. */
  problem?: string;
}

/** Reply to `find`: the match, or `offset: null` when none. */
export interface FindReply {
  type: 'findReply';
  requestId: number;
  offset: number | null;
  length: number;
}

/** Progress of a running find. */
export interface FindProgress {
  type: 'findProgress';
  requestId: number;
  done: number;
  total: number;
}

/** Reply to `write`, `copy` and `action` requests that produce nothing else. */
export interface AckReply {
  type: 'ack';
  requestId: number;
}

/** The failure of a request. `code` is an errno name or one of ours (EINVAL, ECANCELED, EROFS…). */
export interface ErrorReply {
  type: 'error';
  requestId: number;
  code: string;
  message: string;
}

/** Move the cursor and select a range (Go to Offset from a command, a diff, a find from the host). */
export interface RevealMessage {
  type: 'reveal';
  offset: number;
  length: number;
}

/** Bytes changed behind the page's back (undo, redo): re-read now. */
export interface InvalidateMessage {
  type: 'invalidate';
}

/** Differing ranges against a snapshot; empty `ranges` with `label` undefined clears it. */
export interface DiffMessage {
  type: 'diff';
  label?: string;
  ranges: Range[];
}

/** Ask the page to open a UI (from a command or a keybinding in the host). */
export interface ShowMessage {
  type: 'show';
  what: 'goto' | 'find';
}

/** A replay's timeline (a `.shmrec` tab only): where its cursor is; the page shows its bar. */
export interface TimelineMessage {
  type: 'timeline';
  frame: number;
  frames: number;
  /** Milliseconds since the recording started, of this frame and of the last one. */
  timeMs: number;
  durationMs: number;
  playing: boolean;
  speed: number;
  torn: boolean;
}

export type ToWebview =
  | TimelineMessage
  | InitMessage
  | ReadReply
  | StatusMessage
  | FindReply
  | FindProgress
  | AckReply
  | ErrorReply
  | RevealMessage
  | InvalidateMessage
  | DiffMessage
  | ShowMessage
  | SchemaMessage
  | TreeReply
  | ResolveReply
  | BookmarksMessage;

// ---------------------------------------------------------------------------------------------
// Page → host

/** The page has loaded and listens. */
export interface ReadyMessage {
  type: 'ready';
}

/** Read [offset, offset+length) — the visible window. The page keeps at most one outstanding. */
export interface ReadRequest {
  type: 'read';
  requestId: number;
  offset: number;
  length: number;
}

/** Overwrite bytes at offset (read-write tabs only). */
export interface WriteRequest {
  type: 'write';
  requestId: number;
  offset: number;
  bytes: Uint8Array;
}

/** Find the next (or previous) match starting at `from`. */
export interface FindRequest {
  type: 'find';
  requestId: number;
  query: FindQuery;
  from: number;
  backward: boolean;
}

/** Stop a running find; it then replies with an ECANCELED error. */
export interface CancelRequest {
  type: 'cancel';
  requestId: number;
}

/** Copy a range to the clipboard in a format. */
export interface CopyRequest {
  type: 'copy';
  requestId: number;
  offset: number;
  length: number;
  format: CopyFormat;
}

/** A toolbar action that the host performs with its own UI. */
export interface ActionRequest {
  type: 'action';
  requestId: number;
  action: Action;
}

export const ACTIONS = ['snapshot', 'compare', 'clearDiff', 'undo', 'redo', 'bindSchema', 'addBookmark'] as const;
export type Action = (typeof ACTIONS)[number];

/** Rows [first, first + count) of the structure tree, after expanding or collapsing `toggle`. */
export interface TreeRequest {
  type: 'tree';
  requestId: number;
  first: number;
  count: number;
  toggle?: { id: string; expand: boolean };
}

/** A field by path or unique name (Go to with a field name); `reveal` expands it in the tree. */
export interface ResolveRequest {
  type: 'resolve';
  requestId: number;
  text: string;
}

/** The deepest field at a byte offset (the cursor), revealed in the tree. */
export interface LocateRequest {
  type: 'locate';
  requestId: number;
  offset: number;
}

/** Write a typed value into a field (read-write tabs). `path` guards against a re-bound schema. */
export interface SetFieldRequest {
  type: 'setField';
  requestId: number;
  id: string;
  path: string;
  text: string;
}

/** Put text on the clipboard (a tree row's path and value). */
export interface CopyTextRequest {
  type: 'copyText';
  requestId: number;
  text: string;
}

/** Remove bookmark `index` of the list the page was last sent. */
export interface RemoveBookmarkRequest {
  type: 'removeBookmark';
  requestId: number;
  index: number;
  name: string;
}

/** The page's cursor and view state, sent when it changes (for host commands and tests). */
export interface StateMessage {
  type: 'state';
  cursor: number;
  selection: Range;
  paused: boolean;
  firstRow: number;
  /** Offsets of the rows the DOM shows, first and last byte. */
  visible: Range;
}

/** What the timeline bar asks of a replay. */
export const TIMELINE_OPS = ['seek', 'play', 'pause', 'step', 'nextChange', 'previousChange', 'nextFailure', 'previousFailure'] as const;
export type TimelineOp = (typeof TIMELINE_OPS)[number];

/** The timeline bar: go to `frame` (seek), step by `delta` (±1), or another op. No reply: the host answers with a `timeline` message. */
export interface TimelineRequest {
  type: 'timelineOp';
  op: TimelineOp;
  frame?: number;
  delta?: number;
}

export type FromWebview =
  | TimelineRequest
  | ReadyMessage
  | ReadRequest
  | WriteRequest
  | FindRequest
  | CancelRequest
  | CopyRequest
  | ActionRequest
  | StateMessage
  | TreeRequest
  | ResolveRequest
  | LocateRequest
  | SetFieldRequest
  | CopyTextRequest
  | RemoveBookmarkRequest;

// ---------------------------------------------------------------------------------------------
// Validation of what the page sends: the host trusts nothing it did not check.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A safe, non-negative integer: an offset, a length, an id. */
export const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isRange = (v: unknown): v is Range => isObj(v) && isOffset(v.offset) && isOffset(v.length) && Number.isSafeInteger(v.offset + v.length) && onlyKeys(v, ['offset', 'length']);

function onlyKeys(o: Obj, keys: readonly string[]): boolean {
  return Object.keys(o).every((k) => keys.includes(k));
}

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

/**
 * The message, if `raw` is exactly one of FromWebview with every field in range; else undefined.
 * Extra fields are refused too, so nothing unexpected reaches a handler.
 */
export function parseFromWebview(raw: unknown): FromWebview | undefined {
  if (!isObj(raw) || typeof raw.type !== 'string') return undefined;
  const m = raw;
  const id = m.requestId;
  switch (m.type) {
    case 'ready':
      return onlyKeys(m, ['type']) ? { type: 'ready' } : undefined;
    case 'read':
      if (!onlyKeys(m, ['type', 'requestId', 'offset', 'length'])) return undefined;
      if (!isOffset(id) || !isOffset(m.offset) || !isOffset(m.length) || m.length > MAX_READ) return undefined;
      if (!Number.isSafeInteger(m.offset + m.length)) return undefined;
      return { type: 'read', requestId: id, offset: m.offset, length: m.length };
    case 'write':
      if (!onlyKeys(m, ['type', 'requestId', 'offset', 'bytes'])) return undefined;
      if (!isOffset(id) || !isOffset(m.offset) || !(m.bytes instanceof Uint8Array)) return undefined;
      if (m.bytes.length === 0 || m.bytes.length > MAX_WRITE || !Number.isSafeInteger(m.offset + m.bytes.length)) return undefined;
      return { type: 'write', requestId: id, offset: m.offset, bytes: m.bytes };
    case 'find': {
      if (!onlyKeys(m, ['type', 'requestId', 'query', 'from', 'backward'])) return undefined;
      const query = parseQuery(m.query);
      if (!isOffset(id) || !query || !isOffset(m.from) || !isBool(m.backward)) return undefined;
      return { type: 'find', requestId: id, query, from: m.from, backward: m.backward };
    }
    case 'cancel':
      if (!onlyKeys(m, ['type', 'requestId']) || !isOffset(id)) return undefined;
      return { type: 'cancel', requestId: id };
    case 'copy':
      if (!onlyKeys(m, ['type', 'requestId', 'offset', 'length', 'format'])) return undefined;
      if (!isOffset(id) || !isOffset(m.offset) || !isOffset(m.length) || m.length === 0 || m.length > MAX_READ) return undefined;
      if (!COPY_FORMATS.includes(m.format as CopyFormat)) return undefined;
      return { type: 'copy', requestId: id, offset: m.offset, length: m.length, format: m.format as CopyFormat };
    case 'action':
      if (!onlyKeys(m, ['type', 'requestId', 'action']) || !isOffset(id)) return undefined;
      if (!ACTIONS.includes(m.action as Action)) return undefined;
      return { type: 'action', requestId: id, action: m.action as Action };
    case 'state':
      if (!onlyKeys(m, ['type', 'cursor', 'selection', 'paused', 'firstRow', 'visible'])) return undefined;
      if (!isOffset(m.cursor) || !isRange(m.selection) || !isBool(m.paused) || !isOffset(m.firstRow) || !isRange(m.visible)) return undefined;
      return { type: 'state', cursor: m.cursor, selection: { ...m.selection }, paused: m.paused, firstRow: m.firstRow, visible: { ...m.visible } };
    case 'tree': {
      if (!onlyKeys(m, ['type', 'requestId', 'first', 'count', 'toggle'])) return undefined;
      if (!isOffset(id) || !isOffset(m.first) || !isOffset(m.count) || m.count > MAX_TREE_ROWS) return undefined;
      const r: TreeRequest = { type: 'tree', requestId: id, first: m.first, count: m.count };
      if (m.toggle !== undefined) {
        const t = m.toggle;
        if (!isObj(t) || !onlyKeys(t, ['id', 'expand']) || !isRowId(t.id) || !isBool(t.expand)) return undefined;
        r.toggle = { id: t.id, expand: t.expand };
      }
      return r;
    }
    case 'resolve':
      if (!onlyKeys(m, ['type', 'requestId', 'text']) || !isOffset(id) || !isText(m.text) || m.text.length === 0) return undefined;
      return { type: 'resolve', requestId: id, text: m.text };
    case 'locate':
      if (!onlyKeys(m, ['type', 'requestId', 'offset']) || !isOffset(id) || !isOffset(m.offset)) return undefined;
      return { type: 'locate', requestId: id, offset: m.offset };
    case 'setField':
      if (!onlyKeys(m, ['type', 'requestId', 'id', 'path', 'text']) || !isOffset(id)) return undefined;
      if (!isRowId(m.id) || !isText(m.path) || !isText(m.text)) return undefined;
      return { type: 'setField', requestId: id, id: m.id, path: m.path, text: m.text };
    case 'copyText':
      if (!onlyKeys(m, ['type', 'requestId', 'text']) || !isOffset(id) || !isText(m.text) || m.text.length === 0) return undefined;
      return { type: 'copyText', requestId: id, text: m.text };
    case 'removeBookmark':
      if (!onlyKeys(m, ['type', 'requestId', 'index', 'name']) || !isOffset(id) || !isOffset(m.index) || !isText(m.name)) return undefined;
      return { type: 'removeBookmark', requestId: id, index: m.index, name: m.name };
    case 'timelineOp': {
      if (!onlyKeys(m, ['type', 'op', 'frame', 'delta']) || !TIMELINE_OPS.includes(m.op as TimelineOp)) return undefined;
      const r: TimelineRequest = { type: 'timelineOp', op: m.op as TimelineOp };
      if (m.op === 'seek') {
        if (!isOffset(m.frame) || m.delta !== undefined) return undefined;
        r.frame = m.frame;
      } else if (m.op === 'step') {
        if ((m.delta !== 1 && m.delta !== -1) || m.frame !== undefined) return undefined;
        r.delta = m.delta;
      } else if (m.frame !== undefined || m.delta !== undefined) return undefined;
      return r;
    }
    default:
      return undefined;
  }
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
/** A tree row id: child indices joined by "/" ("0/3/12"), at most 64 deep. */
const isRowId = (v: unknown): v is string => typeof v === 'string' && v.length <= 1024 && /^\d{1,10}(\/\d{1,10}){0,63}$/.test(v);

/** Whether a request type expects a reply (every one with a requestId). */
export function isRequest(m: FromWebview): m is Extract<FromWebview, { requestId: number }> {
  return 'requestId' in m;
}

// ---------------------------------------------------------------------------------------------
// The Watch plot page (webview-ui/src/plot.ts): fields over time, from a recording or live.

/** Most fields one plot shows. */
export const MAX_WATCH_FIELDS = 8;

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
