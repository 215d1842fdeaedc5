// One inspector view's host logic, without vscode: it validates every message from the page,
// clamps ranges, serves reads, writes (with undo/redo), finds and copies, and tells the page when
// the object changes size or disappears. The vscode panel (panel.ts) only wires it to a webview,
// so this is tested directly against real segments (test/native/inspector-session.test.ts).
import { processViews } from '../ipc/views';
import { threadLookup } from '../ipc/waits';
import { addressToOffset, parseProcessAddress, pointerNote, type ProcessView } from '../shared/address';
import type { ThreadLookup } from '../shared/schema';
import { formatCopy } from '../shared/inspector/copyas';
import { compileQuery, findInSource } from '../shared/inspector/find';
import { StructureTree } from '../shared/inspector/structure';
import { MAX_READ, parseFromWebview, type Action, type Bookmark, type FromWebview, type InitMessage, type SchemaMessage, type StateMessage, type ToWebview } from '../shared/protocol';
import { decode, type Schema } from '../shared/schema';
import type { ByteSource } from '../shared/source';

/** What a view reads: a live segment handle, or a snapshot file. */
export interface InspectorSource extends ByteSource {
  readonly readOnly: boolean;
  write(offset: number, bytes: Uint8Array): void;
  /** Current size and whether the object is gone; absent for sources that cannot change. */
  status?(): { size: number; removed: boolean };
  close(): void;
}

/** What the session needs from its surroundings. */
export interface SessionHost {
  post(m: ToWebview): void;
  writeClipboard(text: string): Promise<void>;
  /** Snapshot, compare, binding and bookmarks need the editor's UI; undo/redo the session does itself. */
  action(a: Exclude<Action, 'undo' | 'redo'>): Promise<void>;
  /** Removes a bookmark the page showed at `index` (named `name`, so a stale list removes nothing). */
  removeBookmark?(index: number, name: string): Promise<void>;
  /** The object's bookmarks, sent to the page when it is ready. */
  bookmarks?(): Bookmark[];
  log(line: string): void;
}

/** A schema bound to the view: which type decodes the object, and how the binding came about. */
export interface SchemaBinding {
  schema: Schema;
  /** The type to decode; the schema's first `segment` when undefined. */
  type?: string;
  /** What the page shows, e.g. "ring.shms · Ring". */
  label: string;
  how: string;
}

/** A decode is reused for this long, so one refresh's read and tree requests share it. */
const DECODE_TTL_MS = 50;
/** How often a bound view re-reads who maps the object and which threads exist (background). */
const PROCESS_TTL_MS = 5000;
/**
 * Largest range a [[checksum]] covers in the live view: every refresh decodes again, and a JS
 * crc32 runs near 80 MB/s, so 4 MiB keeps a refresh under ~50 ms. Larger ranges show the check
 * as unknown, saying why; `shmscope decode` checks them (its limit is 256 MiB).
 */
export const LIVE_CHECKSUM_BYTES = 4 << 20;

export interface SessionInfo {
  target: string;
  title: string;
  bytesPerRow: number;
  refreshMs: number;
}

interface Edit {
  offset: number;
  before: Uint8Array;
  after: Uint8Array;
}

/** An error with an errno-style code, as the page shows it. */
function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'EIO', message: e.message };
  }
  return { code: 'EIO', message: String(e) };
}

const MAX_UNDO = 1000;

/**
 * The bytes as a plain Uint8Array owning exactly its buffer. The webview bridge transfers typed
 * arrays by constructor name: a Node Buffer would travel as JSON, and a view into a larger
 * buffer would carry all of it.
 */
export function plainBytes(b: Uint8Array): Uint8Array {
  if (b.constructor === Uint8Array && b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

export class InspectorSession {
  private readonly undoStack: Edit[] = [];
  private readonly redoStack: Edit[] = [];
  private readonly finds = new Map<number, AbortController>();
  private lastStatus: { size: number; removed: boolean };
  private disposed = false;
  private binding: SchemaBinding | undefined;
  private bindingProblem: string | undefined;
  /** The structure view's rows over the latest decode; its expanded set outlives re-binds. */
  readonly tree = new StructureTree();
  private decodedAt = -Infinity;
  /** The page's last reported cursor and view. */
  state: StateMessage | undefined;
  /** Counts for tests and the log. */
  readonly stats = { reads: 0, readBytes: 0, dropped: 0 };
  /** Resolves listeners waiting for the page's next `ready`. */
  private readyWaiters: (() => void)[] = [];
  ready = false;

  constructor(
    readonly source: InspectorSource,
    private info: SessionInfo,
    private readonly host: SessionHost,
  ) {
    this.lastStatus = { size: this.safeSize(), removed: false };
  }

  get readOnly(): boolean {
    return this.source.readOnly;
  }

  get size(): number {
    return this.lastStatus.size;
  }

  get removed(): boolean {
    return this.lastStatus.removed;
  }

  private safeSize(): number {
    try {
      return this.source.size;
    } catch {
      return this.lastStatus?.size ?? 0;
    }
  }

  /** The message that (re)configures the page. */
  init(): InitMessage {
    return { type: 'init', target: this.info.target, title: this.info.title, size: this.lastStatus.size, readOnly: this.source.readOnly, bytesPerRow: this.info.bytesPerRow, refreshMs: this.info.refreshMs };
  }

  /** The schema bound to this view, if any. */
  get schema(): SchemaBinding | undefined {
    return this.binding;
  }

  /** Binds a schema (or unbinds with undefined); the page re-reads and rebuilds its tree. */
  bind(b: SchemaBinding | undefined): void {
    this.binding = b;
    this.decodedAt = -Infinity;
    this.bindingProblem = undefined;
    this.decodeNow();
    if (this.ready) {
      this.host.post(this.schemaMessage());
      this.host.post({ type: 'invalidate' });
    }
  }

  schemaMessage(): SchemaMessage {
    const b = this.binding;
    if (!b) return { type: 'schema' };
    const errors = b.schema.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    const problem = this.bindingProblem ?? (first ? `${b.label}: ${errors.length} error${errors.length === 1 ? '' : 's'}; line ${first.range.start.line + 1}: ${first.message}` : undefined);
    return { type: 'schema', label: b.label, how: b.how, ...(problem ? { problem } : {}) };
  }

  /** Decodes the object through the bound schema, at most once per DECODE_TTL_MS. */
  private decodeNow(force = false): void {
    const b = this.binding;
    if (!b) {
      this.tree.setRoot(undefined);
      return;
    }
    const now = performance.now();
    if (!force && now - this.decodedAt < DECODE_TTL_MS) return;
    this.decodedAt = now;
    this.refreshProcesses();
    const views = this.processes.views;
    const size = this.lastStatus.size;
    const r = decode(b.schema, b.type, this.source, {
      maxChecksumBytes: LIVE_CHECKSUM_BYTES,
      ...(this.processes.threads ? { threads: this.processes.threads } : {}),
      ...(views.length ? { pointers: (v: bigint) => pointerNote(v, views, size, this.info.target.startsWith('posix:') ? 'object' : 'segment') } : {}),
    });
    this.tree.setRoot(r.root);
    const why = r.root ? undefined : r.diagnostics[0]?.message;
    if (why !== this.bindingProblem) {
      this.bindingProblem = why;
      if (this.ready) this.host.post(this.schemaMessage());
    }
  }

  /**
   * Who maps this object where, and who each TID is: for the owners of decoded mutexes and the
   * flags on absolute pointers. Re-read in the background at most every PROCESS_TTL_MS; a view of
   * something that is not a live object (a snapshot) never asks again.
   */
  private processes: { views: ProcessView[]; threads?: ThreadLookup; at: number; busy: boolean; off: boolean } = { views: [], at: -Infinity, busy: false, off: false };
  private refreshProcesses(): void {
    const p = this.processes;
    if (p.off || p.busy || performance.now() - p.at < PROCESS_TTL_MS) return;
    p.busy = true;
    Promise.all([processViews(this.info.target), threadLookup()])
      .then(([views, threads]) => {
        const key = (list: ProcessView[]) => list.map((v) => `${v.pid}:${v.start}:${v.end}:${v.offset}`).join(',');
        const first = !p.threads;
        const changed = key(views) !== key(p.views);
        Object.assign(p, { views, threads, at: performance.now() });
        if (first || changed) this.decodedAt = -Infinity; // the next refresh decodes with them
      })
      .catch(() => {
        p.off = true; // not a live System V or POSIX object
      })
      .finally(() => {
        p.busy = false;
      });
  }

  /** New settings: the page is re-initialised. */
  reconfigure(info: Partial<SessionInfo>): void {
    this.info = { ...this.info, ...info };
    if (this.ready) this.host.post(this.init());
  }

  /** Waits until the page has said `ready` (for tests and for reveal-on-open). */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Re-reads size and existence; tells the page when either changed. */
  pollStatus(): void {
    if (this.disposed || !this.source.status) return;
    let st: { size: number; removed: boolean };
    try {
      st = this.source.status();
    } catch (e) {
      const err = errorOf(e);
      st = { size: this.lastStatus.size, removed: err.code === 'ENOENT' || err.code === 'EIDRM' || err.code === 'EINVAL' };
      if (!st.removed) return;
    }
    const was = this.lastStatus;
    if (st.size === was.size && st.removed === was.removed) return;
    this.lastStatus = { size: st.size, removed: was.removed || st.removed };
    const problem = this.lastStatus.removed
      ? `${this.info.title} was removed. The last bytes read stay visible.`
      : `${this.info.title} changed size from ${was.size} to ${st.size} bytes.`;
    this.host.log(`inspector ${this.info.target}: ${problem}`);
    this.host.post({ type: 'status', size: this.lastStatus.size, removed: this.lastStatus.removed, problem });
  }

  /** Handles one raw message from the page. Every request gets exactly one reply. */
  async handle(raw: unknown): Promise<void> {
    if (this.disposed) return;
    const m = parseFromWebview(raw);
    if (!m) {
      this.stats.dropped++;
      let shown: string;
      try {
        shown = JSON.stringify(raw, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 200) ?? String(raw);
      } catch {
        shown = typeof raw;
      }
      this.host.log(`inspector ${this.info.target}: dropped a malformed message from the page: ${shown}`);
      return;
    }
    try {
      await this.dispatch(m);
    } catch (e) {
      if ('requestId' in m && m.type !== 'cancel') this.host.post({ type: 'error', requestId: m.requestId, ...errorOf(e) });
      else this.host.log(`inspector ${this.info.target}: ${errorOf(e).message}`);
    }
  }

  private async dispatch(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.host.post(this.init());
        this.host.post(this.schemaMessage());
        if (this.host.bookmarks) this.host.post({ type: 'bookmarks', items: this.host.bookmarks() });
        for (const w of this.readyWaiters.splice(0)) w();
        return;
      case 'state':
        this.state = m;
        return;
      case 'read': {
        this.pollStatus();
        const size = this.lastStatus.removed ? this.lastStatus.size : this.safeSize();
        const offset = Math.min(m.offset, size);
        const length = Math.min(m.length, MAX_READ, size - offset);
        const bytes = plainBytes(length > 0 ? this.source.read(offset, length) : new Uint8Array(0));
        this.stats.reads++;
        this.stats.readBytes += bytes.length;
        if (this.binding && bytes.length > 0) {
          this.decodeNow();
          const { spans, rings } = this.tree.layout(offset, bytes.length);
          this.host.post({ type: 'readReply', requestId: m.requestId, offset, bytes, size, spans, rings });
        } else {
          this.host.post({ type: 'readReply', requestId: m.requestId, offset, bytes, size });
        }
        return;
      }
      case 'tree': {
        this.decodeNow();
        if (m.toggle) this.tree.toggle(m.toggle.id, m.toggle.expand);
        const total = this.tree.total();
        const first = Math.min(m.first, Math.max(0, total - 1));
        this.host.post({ type: 'treeReply', requestId: m.requestId, total, first, rows: this.tree.rows(first, m.count), summary: this.tree.summary() });
        return;
      }
      case 'resolve': {
        // "pid 4242: 0x7f…": an address of a process that maps this object (offsets, not pointers).
        const address = parseProcessAddress(m.text);
        this.host.post({ type: 'resolveReply', requestId: m.requestId, ...(address ? await this.resolveAddress(address) : this.resolveField(m.text)) });
        return;
      }
      case 'locate': {
        this.needSchema();
        this.decodeNow();
        const hit = this.tree.locate(m.offset);
        if (!hit) throw Object.assign(new Error(`no field of ${this.binding!.label} covers offset 0x${m.offset.toString(16)}`), { code: 'ENOENT' });
        const row = this.tree.reveal(hit.id);
        this.host.post({ type: 'resolveReply', requestId: m.requestId, offset: hit.node.offset, length: Math.max(1, hit.node.size), path: hit.node.path, id: hit.id, ...(row !== undefined ? { row } : {}) });
        return;
      }
      case 'setField':
        this.setField(m.id, m.path, m.text);
        this.host.post({ type: 'ack', requestId: m.requestId });
        return;
      case 'copyText':
        await this.host.writeClipboard(m.text);
        this.host.post({ type: 'ack', requestId: m.requestId });
        return;
      case 'removeBookmark':
        if (!this.host.removeBookmark) throw Object.assign(new Error('this view keeps no bookmarks'), { code: 'ENOTSUP' });
        await this.host.removeBookmark(m.index, m.name);
        this.host.post({ type: 'ack', requestId: m.requestId });
        return;
      case 'write':
        this.write(m.offset, m.bytes);
        this.host.post({ type: 'ack', requestId: m.requestId });
        return;
      case 'find':
        return this.find(m.requestId, m);
      case 'cancel':
        this.finds.get(m.requestId)?.abort();
        return;
      case 'copy': {
        const size = this.safeSize();
        const offset = Math.min(m.offset, size);
        const length = Math.min(m.length, size - offset);
        if (length <= 0) throw Object.assign(new Error('nothing to copy: the selection lies past the end of the object'), { code: 'EINVAL' });
        await this.host.writeClipboard(formatCopy(this.source.read(offset, length), m.format));
        this.host.post({ type: 'ack', requestId: m.requestId });
        return;
      }
      case 'action':
        if (m.action === 'undo' || m.action === 'redo') {
          const done = m.action === 'undo' ? this.undo() : this.redo();
          if (!done) throw Object.assign(new Error(`nothing to ${m.action}`), { code: 'ENOENT' });
        } else {
          await this.host.action(m.action);
        }
        this.host.post({ type: 'ack', requestId: m.requestId });
        return;
    }
  }

  /** A field by path or unique name: its bytes, and its tree row (ancestors expanded). */
  /** A process address → the offset it points to in this object, and the field there when bound. */
  async resolveAddress(a: { pid: number; address: bigint }): Promise<{ offset: number; length: number; path: string; id: string; row?: number }> {
    const r = addressToOffset(a.address, a.pid, await processViews(this.info.target), this.lastStatus.size);
    if (!r.ok) throw Object.assign(new Error(r.message), { code: 'ENOENT' });
    if (this.binding) {
      this.decodeNow();
      const hit = this.tree.locate(r.offset);
      if (hit) {
        const row = this.tree.reveal(hit.id);
        return { offset: r.offset, length: 1, path: hit.node.path, id: hit.id, ...(row !== undefined ? { row } : {}) };
      }
    }
    return { offset: r.offset, length: 1, path: '', id: '' };
  }

  resolveField(text: string): { offset: number; length: number; path: string; id: string; row?: number } {
    this.needSchema();
    this.decodeNow();
    const hit = this.tree.find(text);
    if (!hit) {
      const top = this.tree.rootNode?.children(0, 12).map((n) => n.name) ?? [];
      throw Object.assign(new Error(`no field "${text}" in ${this.binding!.label}${top.length ? ` (it has ${top.join(', ')})` : ''}`), { code: 'ENOENT' });
    }
    const row = this.tree.reveal(hit.id);
    return { offset: hit.node.offset, length: Math.max(1, hit.node.size), path: hit.node.path, id: hit.id, ...(row !== undefined ? { row } : {}) };
  }

  private needSchema(): void {
    if (!this.binding) throw Object.assign(new Error('no schema is bound to this view: use "Bind Schema…" first'), { code: 'ENOENT' });
  }

  /**
   * Writes a typed value into a decoded field, in the field's endianness and width (through
   * `write`, so undo restores it). `path` must still name the row: a re-bound schema may have
   * moved it.
   */
  setField(id: string, path: string, text: string): { offset: number; bytes: Uint8Array } {
    this.needSchema();
    if (this.source.readOnly) throw Object.assign(new Error(`${this.info.title} is open read-only: use "Open Read-Write…" to edit fields`), { code: 'EROFS' });
    this.decodeNow(true);
    const node = this.tree.nodeById(id);
    if (!node || node.path !== path) throw Object.assign(new Error(`the field ${path} moved (the schema or the data changed): pick it again`), { code: 'ESTALE' });
    if (!node.encode) throw Object.assign(new Error(`${path} is ${node.kind === 'array' || node.kind === 'struct' || node.kind === 'union' ? `a ${node.kind}: edit its members` : 'not a value that can be edited'}`), { code: 'EINVAL' });
    const current = this.source.read(node.offset, Math.max(0, node.size));
    const w = node.encode(text, current);
    this.write(w.offset, w.bytes);
    this.decodedAt = -Infinity;
    this.host.log(`inspector ${this.info.target}: set ${path} = ${text} (${w.bytes.length} bytes at ${w.offset})`);
    return w;
  }

  /** Writes through to the object, remembering the bytes it replaced for undo. */
  write(offset: number, bytes: Uint8Array): void {
    if (this.source.readOnly) {
      throw Object.assign(new Error(`${this.info.title} is open read-only: use "Open Read-Write…" to edit it`), { code: 'EROFS' });
    }
    if (this.lastStatus.removed) throw Object.assign(new Error(`${this.info.title} was removed: nothing to write to`), { code: 'EIDRM' });
    const size = this.safeSize();
    if (offset + bytes.length > size) {
      throw Object.assign(new Error(`a write of ${bytes.length} bytes at ${offset} would pass the end (${size} bytes)`), { code: 'ERANGE' });
    }
    const before = this.source.read(offset, bytes.length).slice();
    const after = bytes.slice();
    this.source.write(offset, after);
    this.decodedAt = -Infinity;
    this.undoStack.push({ offset, before, after });
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
    this.redoStack.length = 0;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Restores the bytes of the last write; the page re-reads. */
  undo(): boolean {
    return this.replay(this.undoStack, this.redoStack, 'before');
  }

  redo(): boolean {
    return this.replay(this.redoStack, this.undoStack, 'after');
  }

  /** Moves the newest edit of `from` to `to`, writing its `side` bytes back. */
  private replay(from: Edit[], to: Edit[], side: 'before' | 'after'): boolean {
    const e = from.pop();
    if (!e) return false;
    this.source.write(e.offset, e[side]);
    this.decodedAt = -Infinity;
    to.push(e);
    this.host.post({ type: 'invalidate' });
    return true;
  }

  private async find(requestId: number, m: Extract<FromWebview, { type: 'find' }>): Promise<void> {
    // A QueryError (EINVAL) or CancelledError (ECANCELED) reaches the page as an error reply.
    const needle = compileQuery(m.query);
    const ac = new AbortController();
    this.finds.set(requestId, ac);
    let lastProgress = 0;
    try {
      const offset = await findInSource(this.source, needle, m.from, m.backward, {
        signal: ac.signal,
        onProgress: (done, total) => {
          const now = Date.now();
          if (now - lastProgress < 100) return;
          lastProgress = now;
          this.host.post({ type: 'findProgress', requestId, done, total });
        },
      });
      this.host.post({ type: 'findReply', requestId, offset, length: needle.length });
    } finally {
      this.finds.delete(requestId);
    }
  }

  /** Stops running finds and closes the source. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ac of this.finds.values()) ac.abort();
    this.finds.clear();
    this.source.close();
  }
}
