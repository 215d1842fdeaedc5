// One inspector view's host logic, without vscode: it serves the page's requests over the channel
// (reads clamped to the object, writes with undo/redo, find, copy, the structure view), and tells
// the page when the object changes size or disappears. The vscode panel (panel.ts) only wires it
// to a webview, so this is tested directly against real segments (test/native/inspector-session.test.ts).
import { Endpoint, errorOf, type Envelope, type NotificationType } from '../shared/channel';
import { parseProcessAddress } from '../shared/address';
import { formatCopy } from '../shared/inspector/copyas';
import { compileQuery, findInSource } from '../shared/inspector/find';
import { HostNotes, MAX_READ, PageNotes, PageRequests, type Action, type Bookmark, type FieldResult, type InitParams, type StateParams, type TimelineOpParams } from '../shared/protocol';
import type { ByteSource } from '../shared/source';
import { EditHistory } from './history';
import { SchemaView, type SchemaBinding } from './schemaview';

export { LIVE_CHECKSUM_BYTES, type SchemaBinding } from './schemaview';

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
  /** Sends one envelope of the channel to the page. */
  post(m: Envelope): void;
  writeClipboard(text: string): Promise<void>;
  /** Snapshot, compare, binding and bookmarks need the editor's UI; undo/redo the session does itself. */
  action(a: Exclude<Action, 'undo' | 'redo'>): Promise<void>;
  /** Removes a bookmark the page showed at `index` (named `name`, so a stale list removes nothing). */
  removeBookmark?(index: number, name: string): Promise<void>;
  /** The object's bookmarks, sent to the page when it is ready. */
  bookmarks?(): Bookmark[];
  /** A replay's timeline bar (absent elsewhere: its notes are then dropped and logged). */
  timeline?(m: TimelineOpParams): void;
  log(line: string): void;
}

export interface SessionInfo {
  target: string;
  title: string;
  bytesPerRow: number;
  refreshMs: number;
  /** When the command that opened the view started (wall clock). */
  openedAt?: number;
}

const fail = (code: string, message: string) => Object.assign(new Error(message), { code });

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
  readonly channel: Endpoint;
  private readonly history = new EditHistory();
  private readonly view: SchemaView;
  private lastStatus: { size: number; removed: boolean };
  private disposed = false;
  /** The page's last reported cursor and view. */
  state: StateParams | undefined;
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
    this.lastStatus = { size: 0, removed: false };
    this.lastStatus.size = this.safeSize();
    this.view = new SchemaView(source, () => { if (this.ready) this.notify(HostNotes.schema, this.view.params()); }, () => ({ target: this.info.target, size: this.lastStatus.size }));
    this.channel = new Endpoint((m) => host.post(m), (why) => {
      this.stats.dropped++;
      host.log(`inspector ${this.info.target}: ${why}`);
    });
    this.serve();
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

  get tree(): SchemaView['tree'] {
    return this.view.tree;
  }

  private safeSize(): number {
    try {
      return this.source.size;
    } catch {
      return this.lastStatus.size;
    }
  }

  /** Tells the page something (nothing once disposed). */
  notify<P>(type: NotificationType<P>, params: P): void {
    if (!this.disposed) this.channel.notify(type, params);
  }

  /** What (re)configures the page. */
  init(): InitParams {
    return { target: this.info.target, title: this.info.title, size: this.lastStatus.size, readOnly: this.source.readOnly, bytesPerRow: this.info.bytesPerRow, refreshMs: this.info.refreshMs, ...(this.info.openedAt !== undefined ? { openedAt: this.info.openedAt } : {}) };
  }

  /** The schema bound to this view, if any. */
  get schema(): SchemaBinding | undefined {
    return this.view.bound;
  }

  /** Binds a schema (or unbinds with undefined); the page re-reads and rebuilds its tree. */
  bind(b: SchemaBinding | undefined): void {
    this.view.bind(b);
    if (this.ready) {
      this.notify(HostNotes.schema, this.view.params());
      this.notify(HostNotes.invalidate, {});
    }
  }

  schemaParams(): ReturnType<SchemaView['params']> {
    return this.view.params();
  }

  /** The source now holds other bytes (a replay moved to another frame): decode again, and the page re-reads. */
  sourceChanged(): void {
    this.view.stale();
    this.view.decodeNow(true);
    if (this.ready) this.notify(HostNotes.invalidate, {});
  }

  /** New settings: the page is re-initialised. */
  reconfigure(info: Partial<SessionInfo>): void {
    this.info = { ...this.info, ...info };
    if (this.ready) this.notify(HostNotes.init, this.init());
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
    this.notify(HostNotes.status, { size: this.lastStatus.size, removed: this.lastStatus.removed, problem });
  }

  /** Handles one raw message from the page. Every request gets exactly one reply. */
  handle(raw: unknown): Promise<void> {
    return this.disposed ? Promise.resolve() : this.channel.receive(raw);
  }

  /** What the page may ask, and the answers. */
  private serve(): void {
    const ch = this.channel;
    ch.onNotification(PageNotes.ready, () => {
      this.ready = true;
      this.notify(HostNotes.init, this.init());
      this.notify(HostNotes.schema, this.view.params());
      if (this.host.bookmarks) this.notify(HostNotes.bookmarks, { items: this.host.bookmarks() });
      for (const w of this.readyWaiters.splice(0)) w();
    });
    ch.onNotification(PageNotes.state, (m) => { this.state = m; });
    ch.onNotification(PageNotes.timelineOp, (m) => {
      if (this.host.timeline) this.host.timeline(m);
      else this.host.log(`inspector ${this.info.target}: a timeline request in a tab that has no timeline`);
    });
    ch.onRequest(PageRequests.read, (m) => {
      this.pollStatus();
      const size = this.lastStatus.removed ? this.lastStatus.size : this.safeSize();
      const offset = Math.min(m.offset, size);
      const length = Math.min(m.length, MAX_READ, size - offset);
      const bytes = plainBytes(length > 0 ? this.source.read(offset, length) : new Uint8Array(0));
      this.stats.reads++;
      this.stats.readBytes += bytes.length;
      if (!this.view.bound || bytes.length === 0) return { offset, bytes, size };
      const { spans, rings } = this.view.layout(offset, bytes.length);
      return { offset, bytes, size, spans, rings };
    });
    ch.onRequest(PageRequests.tree, (m) => this.view.rows(m));
    ch.onRequest(PageRequests.resolve, (m) => {
      // "pid 4242: 0x7f…": an address of a process that maps this object (offsets, not pointers).
      const address = parseProcessAddress(m.text);
      return address ? this.view.resolveAddress(address) : this.view.resolve(m.text);
    });
    ch.onRequest(PageRequests.locate, (m) => this.view.locate(m.offset));
    ch.onRequest(PageRequests.setField, (m) => { this.setField(m.id, m.path, m.text); });
    ch.onRequest(PageRequests.copyText, (m) => this.host.writeClipboard(m.text));
    ch.onRequest(PageRequests.removeBookmark, async (m) => {
      if (!this.host.removeBookmark) throw fail('ENOTSUP', 'this view keeps no bookmarks');
      await this.host.removeBookmark(m.index, m.name);
    });
    ch.onRequest(PageRequests.write, (m) => this.write(m.offset, m.bytes));
    ch.onRequest(PageRequests.find, async (m, ctx) => {
      // A QueryError (EINVAL) or CancelledError (ECANCELED) reaches the page as an error reply.
      const needle = compileQuery(m.query);
      let lastProgress = 0;
      const offset = await findInSource(this.source, needle, m.from, m.backward, {
        signal: ctx.signal,
        onProgress: (done, total) => {
          const now = Date.now();
          if (now - lastProgress < 100) return;
          lastProgress = now;
          ctx.progress(done, total);
        },
      });
      return { offset, length: needle.length };
    });
    ch.onRequest(PageRequests.copy, async (m) => {
      const size = this.safeSize();
      const offset = Math.min(m.offset, size);
      const length = Math.min(m.length, size - offset);
      if (length <= 0) throw fail('EINVAL', 'nothing to copy: the selection lies past the end of the object');
      await this.host.writeClipboard(formatCopy(this.source.read(offset, length), m.format));
    });
    ch.onRequest(PageRequests.action, async ({ action }) => {
      if (action === 'undo' || action === 'redo') {
        if (!(action === 'undo' ? this.undo() : this.redo())) throw fail('ENOENT', `nothing to ${action}`);
      } else {
        await this.host.action(action);
      }
    });
  }

  /** A field by path or unique name: its bytes, and its tree row (ancestors expanded). */
  resolveField(text: string): FieldResult {
    return this.view.resolve(text);
  }

  /** Writes a typed value into a decoded field (through `write`, so undo restores it). */
  setField(id: string, path: string, text: string): { offset: number; bytes: Uint8Array } {
    this.view.requireBound();
    if (this.source.readOnly) throw fail('EROFS', `${this.info.title} is open read-only: use "Open Read-Write…" to edit fields`);
    const w = this.view.encodeField(id, path, text);
    this.write(w.offset, w.bytes);
    this.host.log(`inspector ${this.info.target}: set ${path} = ${text} (${w.bytes.length} bytes at ${w.offset})`);
    return w;
  }

  /** Writes through to the object, remembering the bytes it replaced for undo. */
  write(offset: number, bytes: Uint8Array): void {
    if (this.source.readOnly) throw fail('EROFS', `${this.info.title} is open read-only: use "Open Read-Write…" to edit it`);
    if (this.lastStatus.removed) throw fail('EIDRM', `${this.info.title} was removed: nothing to write to`);
    const size = this.safeSize();
    if (offset + bytes.length > size) throw fail('ERANGE', `a write of ${bytes.length} bytes at ${offset} would pass the end (${size} bytes)`);
    this.history.write(this.source, offset, bytes);
    this.view.stale();
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  /** Restores the bytes of the last write; the page re-reads. */
  undo(): boolean {
    return this.replayed(this.history.undo(this.source));
  }

  redo(): boolean {
    return this.replayed(this.history.redo(this.source));
  }

  private replayed(done: boolean): boolean {
    if (done) {
      this.view.stale();
      this.notify(HostNotes.invalidate, {});
    }
    return done;
  }

  /** Stops running requests (a find) and closes the source. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.channel.close();
    this.source.close();
  }
}
