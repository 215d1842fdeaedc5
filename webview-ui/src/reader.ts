// The window reader: one read of the visible rows in flight at a time (a newer need is served
// next), the live refresh schedule with Pause/Resume, and the fading of changed bytes. A read the
// host does not answer in time ends in an error state and the next refresh tries again: the grid
// never waits for a reply that will not come.
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
}

export class Reader {
  readonly changes = new ChangeTracker(1500);
  private inFlight = false;
  private again = false;
  private fadeTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly state: PageState, private readonly grid: Grid, private readonly ch: Endpoint, private readonly hooks: ReaderHooks) {}

  /** Reads the visible window now, or right after the read in flight. */
  read(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const s = this.state;
    const w = vp.windowFor(s.firstRow, vp.renderRows(this.grid.geometry()), s.bytesPerRow, s.size);
    if (w.length === 0) return;
    this.inFlight = true;
    this.ch.request(PageRequests.read, { offset: w.offset, length: Math.min(MAX_READ, w.length) }).then((r) => {
      const arrived = Date.now();
      const changed = changedOffsets(s.win.offset, s.win.bytes, r.offset, r.bytes);
      if (changed.length > 0) this.changes.mark(changed, performance.now());
      s.win = { offset: r.offset, bytes: r.bytes };
      s.spans = r.spans ?? [];
      s.rings = r.rings ?? [];
      this.hooks.apply(r);
      this.scheduleFade();
      painted(r.offset, arrived);
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
