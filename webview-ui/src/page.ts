// The parts of the page, as each module sees the others. main.ts makes them and fills this in;
// a module keeps the Page and reaches the others through it only when the user acts, so no
// module needs to know in which order the others are made.
import type { Endpoint } from '../../extension/src/shared/channel';
import type { Action } from '../../extension/src/shared/protocol';
import type { GotoBar } from './bars';
import type { DataPanel } from './datapanel';
import type { FindBar } from './find';
import type { Grid } from './grid';
import type { Reader } from './reader';
import type { TabState } from './splitter';
import type { PageState } from './state';
import type { StatusLine } from './status';
import type { StructurePanel } from './structure';
import type { View } from './view';

export interface Page {
  readonly state: PageState;
  readonly ch: Endpoint;
  readonly grid: Grid;
  readonly view: View;
  readonly reader: Reader;
  readonly status: StatusLine;
  /**
   * The side panel's data inspector and structure tree, and the Find bar: the page's rest
   * (rest.ts), loaded after the first frame; undefined until then.
   */
  readonly data?: DataPanel;
  readonly structure?: StructurePanel;
  readonly find?: FindBar;
  /** A toolbar action the host performs (snapshot, compare, undo…); errors reach the status line. */
  action(a: Action): void;
  /** Copies the selection in the toolbar's chosen format. */
  copySelection(): void;
  /** Opens the Go to or Find bar. */
  showBar(which: 'goto' | 'find'): void;
  /** Finds again, forward or backward (F3). */
  findNext(backward: boolean): void;
  /** Selects, in the structure tree, the field under a byte (expanding its parents). */
  locateInTree(offset: number): void;
}

/** The Page as main.ts and the page's rest fill it in. */
export type PageParts = { -readonly [K in keyof Page]: Page[K] };

/**
 * What main.ts (the grid's first paint, inlined into the HTML) hands the page's rest (rest.ts:
 * the side panel, Find, the timeline), which it loads after the first frame, on
 * `globalThis.shmscopeBoot`. The rest reaches main's modules as main's own instances (the build
 * resolves them to main's `globalThis.shmscopeModules`), so nothing exists twice.
 */
export interface Boot {
  page: PageParts;
  tab: TabState;
  goto: GotoBar;
  /** `.main` (grid, scroller, overlays), the overlays' stack over the grid, and the toolbar. */
  main: HTMLElement;
  bars: HTMLElement;
  toolbar: HTMLElement;
  /** Closes the bars, back to the grid. */
  hideBars(): void;
  /** Find was asked for (Ctrl+F, the toolbar, the host) before the rest was there. */
  wantFind: boolean;
  /** The rest is in place: the page says `ready`. */
  done(): void;
}
