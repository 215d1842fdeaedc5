// Live changes: which bytes differ between two reads of the visible window, and how strongly
// each is still highlighted as the highlight fades. Pure: no DOM.

/** Absolute offsets whose byte differs between two reads; only the overlap of the windows counts. */
export function changedOffsets(prevOffset: number, prev: Uint8Array, offset: number, cur: Uint8Array): number[] {
  const lo = Math.max(prevOffset, offset);
  const hi = Math.min(prevOffset + prev.length, offset + cur.length);
  const out: number[] = [];
  for (let a = lo; a < hi; a++) {
    if (prev[a - prevOffset] !== cur[a - offset]) out.push(a);
  }
  return out;
}

/** Remembers when each byte last changed; the highlight fades linearly over `fadeMs`. */
export class ChangeTracker {
  private readonly when = new Map<number, number>();
  constructor(readonly fadeMs = 2000) {}

  mark(offsets: Iterable<number>, now: number): void {
    for (const o of offsets) this.when.set(o, now);
  }

  /** 1 right after a change, falling to 0 after fadeMs. */
  intensity(offset: number, now: number): number {
    const t = this.when.get(offset);
    if (t === undefined) return 0;
    const k = 1 - (now - t) / this.fadeMs;
    return k > 0 ? Math.min(1, k) : 0;
  }

  /** Forgets changes that have faded; returns whether any highlight is still visible. */
  prune(now: number): boolean {
    for (const [o, t] of this.when) if (now - t >= this.fadeMs) this.when.delete(o);
    return this.when.size > 0;
  }

  clear(): void {
    this.when.clear();
  }

  get size(): number {
    return this.when.size;
  }
}
