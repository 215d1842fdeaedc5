// Virtual scrolling for the hex grid: which rows a scroll position shows, and back. Browsers cap
// element heights (near 33 M px in Chromium, less elsewhere), so a segment of many GiB cannot have
// a spacer as tall as its rows; past MAX_SCROLL_PX the scrollbar is scaled: its whole travel maps
// linearly onto the row range, and wheel/keyboard move by rows instead. Pure: no DOM.

/** Tallest spacer we make; well under every browser's cap. */
export const MAX_SCROLL_PX = 8_000_000;

export interface ScrollGeometry {
  /** Total rows of the object. */
  rows: number;
  /** Height of one row in px (> 0). */
  rowHeight: number;
  /** Height of the visible area in px. */
  viewport: number;
  /**
   * How much taller the scroll container is than `viewport` (e.g. it also spans a header row).
   * The spacer grows by as much, so the container's own scroll travel stays spacer - viewport.
   */
  chrome?: number;
}

/** Rows that fit fully in the viewport (at least 1). */
export function pageRows(g: ScrollGeometry): number {
  return Math.max(1, Math.floor(g.viewport / g.rowHeight));
}

/** Rows to render: the page plus one partly visible row. */
export function renderRows(g: ScrollGeometry): number {
  return Math.min(g.rows, Math.ceil(g.viewport / g.rowHeight) + 1);
}

/** Height to give the scroll spacer. */
export function spacerHeight(g: ScrollGeometry): number {
  return Math.min(g.rows * g.rowHeight, MAX_SCROLL_PX) + Math.max(0, g.chrome ?? 0);
}

/** Whether the scrollbar is scaled (one px of scrollbar is more than one px of rows). */
export function isScaled(g: ScrollGeometry): boolean {
  return g.rows * g.rowHeight > MAX_SCROLL_PX;
}

/** Highest first row: the last page ends at the last row. */
export function maxFirstRow(g: ScrollGeometry): number {
  return Math.max(0, g.rows - pageRows(g));
}

/** Clamps a first row into [0, maxFirstRow]. */
export function clampFirstRow(g: ScrollGeometry, row: number): number {
  return Math.max(0, Math.min(maxFirstRow(g), Math.floor(row)));
}

/** How far the scroll container can scroll: its scrollHeight minus its clientHeight. */
export function scrollTravel(g: ScrollGeometry): number {
  return Math.min(g.rows * g.rowHeight, MAX_SCROLL_PX) - g.viewport;
}

/** The first row shown at a scroll position. */
export function firstRowAt(g: ScrollGeometry, scrollTop: number): number {
  if (!isScaled(g)) return clampFirstRow(g, scrollTop / g.rowHeight);
  const travel = scrollTravel(g);
  if (travel <= 0) return 0;
  const frac = Math.max(0, Math.min(1, scrollTop / travel));
  return clampFirstRow(g, Math.round(frac * maxFirstRow(g)));
}

/** The scroll position that shows `row` first (inverse of firstRowAt). */
export function scrollTopFor(g: ScrollGeometry, row: number): number {
  const r = clampFirstRow(g, row);
  if (!isScaled(g)) return r * g.rowHeight;
  const max = maxFirstRow(g);
  const travel = scrollTravel(g);
  return max === 0 ? 0 : (r / max) * travel;
}

/** The first row that keeps `row` visible, moving the view as little as possible. */
export function firstRowToReveal(g: ScrollGeometry, first: number, row: number): number {
  const page = pageRows(g);
  if (row < first) return clampFirstRow(g, row);
  if (row >= first + page) return clampFirstRow(g, row - page + 1);
  return first;
}

/** Row count for `size` bytes at `bytesPerRow`. */
export function rowCount(size: number, bytesPerRow: number): number {
  return Math.ceil(size / bytesPerRow);
}

/** The row holding an offset, and the column within it. */
export function rowOf(offset: number, bytesPerRow: number): { row: number; col: number } {
  return { row: Math.floor(offset / bytesPerRow), col: offset % bytesPerRow };
}

/** The byte window [offset, offset+length) that rows [first, first+count) show, clipped to size. */
export function windowFor(first: number, count: number, bytesPerRow: number, size: number): { offset: number; length: number } {
  const offset = Math.min(size, first * bytesPerRow);
  const end = Math.min(size, (first + count) * bytesPerRow);
  return { offset, length: Math.max(0, end - offset) };
}

/**
 * The byte window to read for rows [first, first+count): those rows and `margin` rows above and
 * below them, clipped to the object. A scroll or a jump of up to `margin` rows then paints from
 * bytes the page already has, without waiting for a round trip.
 */
export function prefetchWindow(first: number, count: number, bytesPerRow: number, size: number, margin: number): { offset: number; length: number } {
  const start = Math.max(0, first - margin);
  return windowFor(start, first + count + margin - start, bytesPerRow, size);
}

/** The rows around `offset` that a jump there may show: a window of `count` rows on either side of its row. */
export function neighbourhood(offset: number, count: number, bytesPerRow: number, size: number): { offset: number; length: number } {
  return prefetchWindow(rowOf(offset, bytesPerRow).row, 1, bytesPerRow, size, count);
}

/** Whether window `w` (bytes from `w.offset`) holds all of [offset, offset+length). */
export function holds(w: { offset: number; length: number }, offset: number, length: number): boolean {
  return offset >= w.offset && offset + length <= w.offset + w.length;
}
