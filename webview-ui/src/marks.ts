// Timestamps the page takes of itself, on the body's data-* attributes, for the bench and the
// tests: when its script ran, when init came, when bytes arrived, when rows were rendered and the
// frame after, the first paint, and the time of the input event (an Enter) that asked for them.
// Wall-clock milliseconds (Date.now's clock), so they compare with the host's stamps.

type Mark = 'scriptAt' | 'initAt' | 'openedAt' | 'handedAt' | 'bytesAt' | 'renderedAt' | 'framedAt' | 'firstPaintAt' | 'inputAt' | 'treeAt';

/** Wall-clock time of a DOM event (its timeStamp is on the page's performance clock). */
export const eventTime = (e: Event): number => Math.round(performance.timeOrigin + e.timeStamp);

export function mark(name: Mark, at: number = Date.now()): void {
  document.body.dataset[name] = String(at);
}

/** Only the first time: init, the first paint. */
export function markOnce(name: Mark, at: number = Date.now()): void {
  document.body.dataset[name] ??= String(at);
}

let firstPaint = false;

/** Rows of `offset` were rendered from bytes that arrived at `bytesAt`; the next frame shows them. */
export function painted(offset: number, bytesAt: number): void {
  const body = document.body.dataset;
  mark('bytesAt', bytesAt);
  mark('renderedAt');
  body.renderedOffset = String(offset);
  requestAnimationFrame(() => mark('framedAt'));
  if (!firstPaint) {
    firstPaint = true;
    body.painted = 'true';
    body.firstPaintAt = body.renderedAt;
  }
}

export function hasPainted(): boolean {
  return firstPaint;
}
