// The window reader: one read of the visible rows in flight at a time (a newer need is served
// next), the live refresh schedule with Pause/Resume, and the fading of changed bytes. A read the
// host does not answer in time ends in an error state and the next refresh tries again: the grid
// never waits for a reply that will not come. Each read takes a page of rows above and below the
// view too, and a Go to target's rows are read while it is typed, so a scroll or a jump paints
// from bytes the page has (then reads, as always).
import { ChannelError, type Endpoint } from '../../extension/src/shared/channel';
import { ChangeTracker, changedOffsets } from '../../extension/src/shared/inspector/changes';
import * as vp from '../../extension/src/shared/inspector/viewport';
import { MAX_READ, PageRequests, type ReadResult } from '../../extension/src/shared/protocol';
import type { Grid } from './grid';
import { painted } from './marks';
import type { PageState } from './state';

export interface ReaderHooks {
  /** New bytes are in the state: paint them. */
  apply(r: ReadResult): void;
  /** A read failed: say why (the last bytes stay). */
  failed(e: ChannelError): void;
  /** Live / paused / static changed. */
  changed(): void;
  /** Bytes read ahead arrived for rows the view shows: paint them. */
  repaint(): void;
}

export class Reader {
  readonly changes = new ChangeTracker(1500);
  private inFlight = false;
  private again = false;
  private fadeTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  /** The read-ahead in flight, and when the last one arrived. */
  private aheadFor: { offset: number; length: number } | undefined;
  private aheadAt = 0;
  private winAt = 0;

  constructor(private readonly state: PageState, private readonly grid: Grid, private readonly ch: Endpoint, private readonly hooks: ReaderHooks) {}

  /** Reads the visible window now, or right after the read in flight. */
  read(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const s = this.state;
    const rows = vp.renderRows(this.grid.geometry());
    const w = vp.prefetchWindow(s.firstRow, rows, s.bytesPerRow, s.size, rows);
    if (w.length === 0) return;
    this.inFlight = true;
    this.ch.request(PageRequests.read, { offset: w.offset, length: Math.min(MAX_READ, w.length) }).then((r) => {
      const arrived = Date.now();
      this.winAt = arrived;
      const changed = changedOffsets(s.win.offset, s.win.bytes, r.offset, r.bytes);
      if (changed.length > 0) this.changes.mark(changed, performance.now());
      s.win = { offset: r.offset, bytes: r.bytes };
      s.spans = r.spans ?? [];
      s.rings = r.rings ?? [];
      this.hooks.apply(r);
      this.scheduleFade();
      painted(s.firstRow * s.bytesPerRow, arrived);
    }, (e: unknown) => {
      this.hooks.failed(e instanceof ChannelError ? e : new ChannelError('EIO', String(e)));
    }).finally(() => {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.read();
      }
    });
  }

  /** Which of the page's windows holds every row the view shows: the last read's, the read-ahead's, or neither. */
  private viewIn(): 'win' | 'ahead' | undefined {
    const s = this.state;
    const v = vp.windowFor(s.firstRow, vp.renderRows(this.grid.geometry()), s.bytesPerRow, s.size);
    const has = (w: { offset: number; bytes: Uint8Array }) => vp.holds({ offset: w.offset, length: w.bytes.length }, v.offset, v.length);
    if (v.length === 0) return undefined;
    return has(s.win) ? 'win' : has(s.ahead) ? 'ahead' : undefined;
  }

  /**
   * The view moved (a scroll, a jump) and was painted: when the page had the bytes it shows, those
   * rows are the new ones (the read that follows refreshes them). Counted on the body for tests.
   */
  moved(): void {
    const from = this.viewIn();
    if (!from) return;
    const s = this.state;
    const body = document.body.dataset;
    body.paintsAhead = String(Number(body.paintsAhead ?? 0) + 1);
    painted(s.firstRow * s.bytesPerRow, from === 'win' ? this.winAt : this.aheadAt);
  }

  /** Reads the rows around `offset` (a Go to target being typed) unless the page has them or asked for them. */
  prefetch(offset: number): void {
    const s = this.state;
    const rows = vp.renderRows(this.grid.geometry());
    const w = vp.neighbourhood(Math.min(offset, Math.max(0, s.size - 1)), rows, s.bytesPerRow, s.size);
    const has = (b: { offset: number; bytes: Uint8Array }) => vp.holds({ offset: b.offset, length: b.bytes.length }, w.offset, w.length);
    if (w.length === 0 || has(s.win) || has(s.ahead) || (this.aheadFor && vp.holds(this.aheadFor, w.offset, w.length))) return;
    const asked = { offset: w.offset, length: Math.min(MAX_READ, w.length) };
    this.aheadFor = asked;
    this.ch.request(PageRequests.read, asked).then((r) => {
      if (this.aheadFor !== asked) return; // a newer target was typed, or the bytes changed
      this.aheadFor = undefined;
      this.aheadAt = Date.now();
      s.ahead = { offset: r.offset, bytes: r.bytes };
      document.body.dataset.aheadOffset = String(r.offset);
      // The jump happened while these bytes travelled, before its own read came back: show them now.
      if (this.viewIn() === 'ahead') {
        this.hooks.repaint();
        this.moved();
      }
    }, () => {
      if (this.aheadFor === asked) this.aheadFor = undefined; // the jump's own read will say why
    });
  }

  /** Forgets the bytes read ahead (they changed behind the page's back) and reads the view again. */
  invalidate(): void {
    this.state.ahead = { offset: 0, bytes: new Uint8Array(0) };
    this.aheadFor = undefined;
    this.read();
  }

  private scheduleFade(): void {
    if (this.fadeTimer !== undefined || this.changes.size === 0) return;
    this.fadeTimer = setTimeout(() => {
      this.fadeTimer = undefined;
      const live = this.changes.prune(performance.now());
      this.grid.render();
      if (live) this.scheduleFade();
    }, 250);
  }

  /** (Re)starts the live refresh as the state says: its interval, unless paused or removed. */
  schedule(): void {
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    const s = this.state;
    if (s.refreshMs > 0 && !s.paused && !s.removed) this.refreshTimer = setInterval(() => this.read(), s.refreshMs);
    this.hooks.changed();
  }
}
