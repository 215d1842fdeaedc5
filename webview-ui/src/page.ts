// The parts of the page, as each module sees the others. main.ts makes them and fills this in;
// a module keeps the Page and reaches the others through it only when the user acts, so no
// module needs to know in which order the others are made.
import type { Endpoint } from '../../extension/src/shared/channel';
import type { Action } from '../../extension/src/shared/protocol';
import type { Grid } from './grid';
import type { Reader } from './reader';
import type { PageState } from './state';
import type { DataPanel, StatusLine } from './status';
import type { StructurePanel } from './structure';
import type { View } from './view';

export interface Page {
  readonly state: PageState;
  readonly ch: Endpoint;
  readonly grid: Grid;
  readonly view: View;
  readonly reader: Reader;
  readonly status: StatusLine;
  readonly data: DataPanel;
  readonly structure: StructurePanel;
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
