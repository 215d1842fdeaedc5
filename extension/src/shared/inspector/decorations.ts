// What the hex grid paints over its bytes, as layers: each decoration (selection, changed bytes,
// snapshot diff, schema field tints, ring marks, bookmarks) registers a layer that gives the
// classes of one byte, and the grid asks every layer in turn instead of one switch knowing all.
// A new panel (a recording's timeline, say) adds its own layer. Pure: no DOM, so it is unit-tested.
import type { FieldSpan, Range, RingMark } from '../protocol';
import type { ChangeTracker } from './changes';
import { inRange } from './navigation';

/** One decoration. `begin` is called before each paint with its first offset; `classes` then in increasing offset order. */
export interface Layer {
  readonly name: string;
  begin?(first: number, now: number): void;
  /** Class names for the byte at `offset` (space-separated), or ''. */
  classes(offset: number): string;
}

/** The layers in paint order, and the classes of a byte from all of them. */
export class Decorations {
  private readonly layers: Layer[] = [];

  /** Adds a layer; returns a function that removes it. */
  register(layer: Layer): () => void {
    this.layers.push(layer);
    return () => {
      const i = this.layers.indexOf(layer);
      if (i >= 0) this.layers.splice(i, 1);
    };
  }

  get names(): string[] {
    return this.layers.map((l) => l.name);
  }

  begin(first: number, now: number): void {
    for (const l of this.layers) l.begin?.(first, now);
  }

  /** Every layer's classes for one byte, joined (call in increasing offset order after begin). */
  classes(offset: number): string {
    let cls = '';
    for (const l of this.layers) {
      const c = l.classes(offset);
      if (c) cls += cls ? ` ${c}` : c;
    }
    return cls;
  }

  /** Classes of [first, first + count), for tests and tools. */
  paint(first: number, count: number, now = 0): string[] {
    this.begin(first, now);
    return Array.from({ length: count }, (_, i) => this.classes(first + i));
  }
}

/** A cursor over sorted, non-overlapping ranges, advanced as offsets increase. */
function sortedRanges(get: () => readonly Range[]) {
  let ranges: readonly Range[] = [];
  let i = 0;
  return {
    begin(first: number) {
      ranges = get();
      i = 0;
      while (i < ranges.length && ranges[i]!.offset + ranges[i]!.length <= first) i++;
    },
    at(offset: number): Range | undefined {
      while (i < ranges.length && ranges[i]!.offset + ranges[i]!.length <= offset) i++;
      const r = ranges[i];
      return r && offset >= r.offset ? r : undefined;
    },
  };
}

/** The selection (`sel`) and the cursor byte (`cur`). */
export function selectionLayer(get: () => { selection: Range; cursor: number }): Layer {
  let s = { selection: { offset: 0, length: 0 }, cursor: -1 };
  return {
    name: 'selection',
    begin: () => { s = get(); },
    classes: (o) => (inRange(s.selection, o) ? (o === s.cursor ? 'sel cur' : 'sel') : o === s.cursor ? 'cur' : ''),
  };
}

/** Bytes that changed lately, in three fading steps (`chg chg-3` … `chg chg-1`). */
export function changesLayer(tracker: ChangeTracker): Layer {
  let now = 0;
  return {
    name: 'changes',
    begin: (_first, t) => { now = t; },
    classes: (o) => {
      const k = tracker.intensity(o, now);
      return k <= 0 ? '' : k > 0.66 ? 'chg chg-3' : k > 0.33 ? 'chg chg-2' : 'chg chg-1';
    },
  };
}

/** Ranges that differ from a snapshot (`diff`); `get` returns them sorted. */
export function diffLayer(get: () => readonly Range[]): Layer {
  const r = sortedRanges(get);
  return { name: 'diff', begin: (first) => r.begin(first), classes: (o) => (r.at(o) ? 'diff' : '') };
}

/**
 * Schema fields: their tint (`tN`), alternate shades for the elements of an array (`alt`), a
 * failed check (`bad`), and the first byte of a field or element (`fs`). Spans are sorted.
 */
export function fieldLayer(get: () => readonly FieldSpan[]): Layer {
  const r = sortedRanges(get);
  return {
    name: 'fields',
    begin: (first) => r.begin(first),
    classes: (o) => {
      const sp = r.at(o) as FieldSpan | undefined;
      if (!sp) return '';
      const elem = sp.stride ? Math.floor((o - sp.offset) / sp.stride) : 0;
      let cls = `t${sp.tint}${sp.stride && elem % 2 ? ' alt' : ''}${sp.bad ? ' bad' : ''}`;
      if (o === sp.offset || (sp.stride && (o - sp.offset) % sp.stride === 0)) cls += ' fs';
      return cls;
    },
  };
}

/** Ring buffers: the head slot (`rh`), else the tail slot (`rt`), and slots holding data (`rv`). */
export function ringLayer(get: () => readonly RingMark[]): Layer {
  let rings: readonly RingMark[] = [];
  return {
    name: 'rings',
    begin: () => { rings = get(); },
    classes: (o) => {
      let cls = '';
      for (const ring of rings) {
        if (inRange(ring.headSlot, o)) cls += ' rh';
        else if (inRange(ring.tailSlot, o)) cls += ' rt';
        for (const v of ring.valid) if (inRange(v, o)) cls += ' rv';
      }
      return cls.trim();
    },
  };
}

/** Bookmarks frame their bytes in their colour (`bm bm-red`). */
export function bookmarkLayer(get: () => readonly { offset: number; length: number; color: string }[]): Layer {
  let marks: readonly { offset: number; length: number; color: string }[] = [];
  return {
    name: 'bookmarks',
    begin: () => { marks = get(); },
    classes: (o) => {
      let cls = '';
      for (const b of marks) if (inRange(b, o)) cls += ` bm bm-${b.color}`;
      return cls.trim();
    },
  };
}
