// Timestamps the page takes of itself, on the body's data-* attributes, for the bench and the
// tests: when its script ran, when init came, when bytes arrived, when rows were rendered and the
// frame after, the first paint, and the time of the input event (an Enter) that asked for them.
// Wall-clock milliseconds (Date.now's clock), so they compare with the host's stamps.

type Mark = 'scriptAt' | 'initAt' | 'openedAt' | 'handedAt' | 'bytesAt' | 'renderedAt' | 'framedAt' | 'firstPaintAt' | 'inputAt' | 'treeAt' | 'restAt' | 'shownAt' | 'shownBytesAt' | 'shownFramedAt';

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

/**
 * Rows of `offset` were rendered from bytes that arrived at `bytesAt`; the next frame shows them.
 * The first render at a new offset also stamps shownAt, its bytes' shownBytesAt and the frame after
 * it, shownFramedAt: when a jump's rows were first on screen (the read that follows repaints them,
 * and moves renderedAt and framedAt).
 */
export function painted(offset: number, bytesAt: number): void {
  const body = document.body.dataset;
  mark('bytesAt', bytesAt);
  mark('renderedAt');
  const moved = body.renderedOffset !== String(offset);
  body.renderedOffset = String(offset);
  if (moved) {
    mark('shownAt', Number(body.renderedAt));
    mark('shownBytesAt', bytesAt);
    delete body.shownFramedAt;
  }
  requestAnimationFrame(() => {
    mark('framedAt');
    if (moved && body.renderedOffset === String(offset)) mark('shownFramedAt');
  });
  if (!firstPaint) {
    firstPaint = true;
    body.painted = 'true';
    body.firstPaintAt = body.renderedAt;
  }
}

export function hasPainted(): boolean {
  return firstPaint;
}
