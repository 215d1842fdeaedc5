// The inspector's structure view over a decoded schema, without vscode or DOM: a flattened,
// virtualized tree (only the rows asked for are decoded, so an expanded array of a million slots
// costs what the screen shows), the fields that cover a byte window (for tints and hover names on
// the hex grid), the rings in that window (head, tail, valid region), a check summary, and lookup
// by field name for Go to.
//
// Rows are identified by their index path from the root ("0/3/12": child 0, its child 3, its
// element 12), not by field path: anonymous members share their parent's path, indices do not.
// The expanded set survives re-decodes, so the live refresh keeps what the user opened.
import type { CheckResult, DecodedNode } from '../schema';

/** How many tint colours the page cycles through (sibling index modulo this). */
export const TINTS = 6;
/** Most spans one window reports; past that, an array is one span. */
export const MAX_SPANS = 4096;
/** Longest value text sent for one row. */
const MAX_VALUE = 200;

export interface TreeCheck {
  kind: CheckResult['kind'];
  ok: boolean | null;
  text: string;
}

/** One visible row of the tree. */
export interface TreeRow {
  id: string;
  depth: number;
  name: string;
  path: string;
  type: string;
  kind: string;
  offset: number;
  size: number;
  value: string;
  expandable: boolean;
  expanded: boolean;
  checks: TreeCheck[];
  /** The first diagnostic of this node, if any. */
  problem?: string;
  editable: boolean;
  tint: number;
}

/** A decoded field covering bytes on the grid. `stride` > 0: an array of scalars, one span. */
export interface FieldSpan {
  offset: number;
  length: number;
  path: string;
  type: string;
  tint: number;
  stride?: number;
  /** A check on this field failed. */
  bad?: boolean;
}

export interface ByteRange {
  offset: number;
  length: number;
}

/** A ring buffer (an array with [[ring]]) as read: where head and tail point and what is valid. */
export interface RingMark {
  path: string;
  head: number;
  tail: number;
  capacity: number;
  /** Bytes of the slot `head` points at (next write) and of `tail` (next read). */
  headSlot: ByteRange;
  tailSlot: ByteRange;
  /** Byte ranges of the slots between tail and head (clipped to the window asked for). */
  valid: ByteRange[];
  text: string;
}

export interface CheckSummary {
  ok: number;
  failed: number;
  unknown: number;
  /** Failed and unknown checks first, at most 20. */
  items: (TreeCheck & { path: string })[];
  /** Fewer nodes were visited than exist (a large array): the counts cover what was. */
  partial: boolean;
}

export const childId = (parent: string, i: number): string => (parent === '' ? String(i) : `${parent}/${i}`);

/** Checks as one line each. */
export function checkText(c: CheckResult): string {
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  if (c.ok === true) return `${c.kind} ok${c.message ? `: ${c.message}` : ''}`;
  if (c.ok === false) return `${c.kind} failed: expected ${show(c.expected)}, got ${show(c.actual)}${c.message ? ` (${c.message})` : ''}`;
  return `${c.kind} unknown${c.message ? `: ${c.message}` : ''}`;
}

const isLeaf = (n: DecodedNode) => n.childCount === 0 || n.kind === 'offset' || n.kind === 'text';

function ends(n: DecodedNode): number {
  return n.offset + Math.max(1, n.size);
}

/** Every child of a node, in chunks (children() pages at maxElements). */
function allChildren(n: DecodedNode): DecodedNode[] {
  const out: DecodedNode[] = [];
  while (out.length < n.childCount) {
    const got = n.children(out.length, n.childCount - out.length);
    if (got.length === 0) break;
    out.push(...got);
  }
  return out;
}

const child = (n: DecodedNode, i: number): DecodedNode | undefined => (i >= 0 && i < n.childCount ? n.children(i, 1)[0] : undefined);

/** The fixed distance between array elements, or undefined when elements vary in size. */
function strideOf(n: DecodedNode): number | undefined {
  if (n.ring) return n.ring.stride;
  if (n.childCount === 0) return undefined;
  const first = child(n, 0);
  if (!first || first.size <= 0) return undefined;
  if (n.childCount > 1) {
    const second = child(n, 1);
    if (!second || second.offset - first.offset !== first.size) return undefined;
  }
  return first.size;
}

export class StructureTree {
  private root: DecodedNode | undefined;
  readonly expanded = new Set<string>();
  private counts = new Map<string, number>();

  constructor(root?: DecodedNode) {
    this.root = root;
  }

  /** A new decode (live refresh or schema change); the expanded set stays. */
  setRoot(root: DecodedNode | undefined): void {
    this.root = root;
    this.counts.clear();
  }

  get rootNode(): DecodedNode | undefined {
    return this.root;
  }

  /** Expands or collapses a row (flips it when `expand` is omitted). Unknown ids are ignored. */
  toggle(id: string, expand?: boolean): void {
    const node = this.nodeById(id);
    if (!node || node.childCount === 0) return;
    const open = expand ?? !this.expanded.has(id);
    if (open) this.expanded.add(id);
    else this.expanded.delete(id);
    this.counts.clear();
  }

  /** The node of a row id, decoding only along the way. */
  nodeById(id: string): DecodedNode | undefined {
    let n = this.root;
    if (id === '') return n;
    for (const part of id.split('/')) {
      if (!n || !/^\d+$/.test(part)) return undefined;
      n = child(n, Number(part));
    }
    return n;
  }

  /** Rows shown: the root's children and everything expanded below them. */
  total(): number {
    return this.root ? this.count(this.root, '', true) : 0;
  }

  /** Rows of an expanded node's subtree (not counting the node itself). */
  private count(n: DecodedNode, id: string, open = this.expanded.has(id)): number {
    if (!open || n.childCount === 0) return 0;
    const memo = this.counts.get(id);
    if (memo !== undefined) return memo;
    let rows = n.childCount;
    if (n.kind === 'array') {
      for (const e of this.expandedChildren(n, id)) rows += e.rows;
    } else {
      allChildren(n).forEach((k, i) => { rows += this.count(k, childId(id, i)); });
    }
    this.counts.set(id, rows);
    return rows;
  }

  /** Expanded elements of an array, by index, with their subtree rows. */
  private expandedChildren(n: DecodedNode, id: string): { index: number; node: DecodedNode; rows: number }[] {
    const prefix = id === '' ? '' : `${id}/`;
    const out: { index: number; node: DecodedNode; rows: number }[] = [];
    for (const e of this.expanded) {
      if (!e.startsWith(prefix)) continue;
      const rest = e.slice(prefix.length);
      if (!/^\d+$/.test(rest)) continue;
      const index = Number(rest);
      const k = child(n, index);
      if (k) out.push({ index, node: k, rows: this.count(k, e) });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** Rows [first, first + count) of the flattened tree. */
  rows(first: number, count: number): TreeRow[] {
    const out: TreeRow[] = [];
    if (!this.root || count <= 0) return out;
    this.walk(this.root, '', 0, { skip: Math.max(0, first), left: count, out });
    return out;
  }

  private row(n: DecodedNode, id: string, depth: number, index: number): TreeRow {
    const shown = preview(n);
    const value = shown.length > MAX_VALUE ? `${shown.slice(0, MAX_VALUE - 1)}…` : shown;
    return {
      id, depth, name: n.name, path: n.path, type: n.type, kind: n.kind, offset: n.offset, size: n.size, value,
      expandable: n.childCount > 0, expanded: n.childCount > 0 && this.expanded.has(id),
      checks: n.checks.map((c) => ({ kind: c.kind, ok: c.ok, text: checkText(c) })),
      ...(n.diagnostics[0] ? { problem: n.diagnostics[0].message } : {}),
      editable: n.encode !== undefined,
      tint: index % TINTS,
    };
  }

  /** Emits one child row (or skips it) and then its subtree. */
  private visitChild(k: DecodedNode, id: string, depth: number, index: number, st: { skip: number; left: number; out: TreeRow[] }): void {
    if (st.skip > 0) st.skip--;
    else {
      st.out.push(this.row(k, id, depth, index));
      st.left--;
    }
    if (st.left === 0) return;
    const sub = this.count(k, id);
    if (sub === 0) return;
    if (st.skip >= sub) st.skip -= sub;
    else this.walk(k, id, depth + 1, st);
  }

  private walk(n: DecodedNode, id: string, depth: number, st: { skip: number; left: number; out: TreeRow[] }): void {
    if (n.kind !== 'array') {
      const kids = allChildren(n);
      for (let i = 0; i < kids.length && st.left > 0; i++) this.visitChild(kids[i]!, childId(id, i), depth, i, st);
      return;
    }
    // An array: plain elements between expanded ones are counted, not visited.
    let i = 0;
    const stops = [...this.expandedChildren(n, id), { index: n.childCount, node: undefined, rows: 0 }];
    for (const e of stops) {
      const block = e.index - i;
      if (st.skip >= block) st.skip -= block;
      else {
        let at = i + st.skip;
        st.skip = 0;
        while (at < e.index && st.left > 0) {
          const got = n.children(at, Math.min(e.index - at, st.left));
          if (got.length === 0) return;
          for (const k of got) {
            st.out.push(this.row(k, childId(id, at), depth, at));
            at++;
            st.left--;
          }
        }
      }
      if (st.left === 0 || !e.node) return;
      this.visitChild(e.node, childId(id, e.index), depth, e.index, st);
      if (st.left === 0) return;
      i = e.index + 1;
    }
  }

  /** The row index of an id, or undefined when an ancestor is collapsed or the id is unknown. */
  indexOf(id: string): number | undefined {
    if (!this.root || id === '') return undefined;
    let n: DecodedNode = this.root;
    let cur = '';
    let idx = 0;
    const parts = id.split('/');
    for (let p = 0; p < parts.length; p++) {
      if (p > 0 && !this.expanded.has(cur)) return undefined;
      const i = Number(parts[p]);
      if (!Number.isInteger(i) || i < 0 || i >= n.childCount) return undefined;
      if (n.kind === 'array') {
        idx += i;
        for (const e of this.expandedChildren(n, cur)) if (e.index < i) idx += e.rows;
      } else {
        const kids = allChildren(n);
        for (let j = 0; j < i; j++) idx += 1 + this.count(kids[j]!, childId(cur, j));
      }
      const k = child(n, i);
      if (!k) return undefined;
      cur = childId(cur, i);
      n = k;
      if (p < parts.length - 1) idx += 1;
    }
    return idx;
  }

  /** The deepest field at a byte offset, with its row id (expanding nothing). */
  locate(offset: number, maxDepth = 64): { id: string; node: DecodedNode } | undefined {
    let n = this.root;
    if (!n || offset < n.offset || offset >= ends(n)) return undefined;
    let id = '';
    for (let d = 0; d < maxDepth && !isLeaf(n); d++) {
      let next: { i: number; k: DecodedNode } | undefined;
      const stride = n.kind === 'array' ? strideOf(n) : undefined;
      if (stride !== undefined) {
        const i = Math.floor((offset - n.offset) / stride);
        const k = child(n, i);
        if (k) next = { i, k };
      } else {
        const kids = n.kind === 'array' && n.childCount > MAX_SPANS ? [] : allChildren(n);
        const i = kids.findIndex((k) => offset >= k.offset && offset < ends(k));
        if (i >= 0) next = { i, k: kids[i]! };
      }
      if (!next) break;
      id = childId(id, next.i);
      n = next.k;
    }
    return id === '' ? undefined : { id, node: n };
  }

  /** Expands the ancestors of an id so its row shows; returns its row index. */
  reveal(id: string): number | undefined {
    const parts = id.split('/');
    for (let p = 1; p < parts.length; p++) this.expanded.add(parts.slice(0, p).join('/'));
    this.counts.clear();
    return this.indexOf(id);
  }

  /** Fields covering [offset, offset + length), leaves only, in offset order; and the rings there. */
  layout(offset: number, length: number): { spans: FieldSpan[]; rings: RingMark[] } {
    const spans: FieldSpan[] = [];
    const rings: RingMark[] = [];
    if (this.root && length > 0) this.cover(this.root, 0, offset, offset + length, spans, rings, 0);
    spans.sort((a, b) => a.offset - b.offset);
    return { spans, rings };
  }

  private cover(n: DecodedNode, tint: number, lo: number, hi: number, spans: FieldSpan[], rings: RingMark[], depth: number): void {
    if (spans.length >= MAX_SPANS || depth > 64) return;
    if (ends(n) <= lo || n.offset >= hi || n.size <= 0) return;
    const bad = n.checks.some((c) => c.ok === false) || undefined;
    if (isLeaf(n)) {
      spans.push({ offset: n.offset, length: n.size, path: n.path, type: n.type, tint, ...(bad ? { bad } : {}) });
      return;
    }
    if (n.kind === 'array') {
      const stride = strideOf(n);
      if (n.ring && stride) rings.push(ringMark(n, n.ring, stride, lo, hi));
      const first = child(n, 0);
      if (stride !== undefined) {
        const i0 = Math.max(0, Math.floor((lo - n.offset) / stride));
        const i1 = Math.min(n.childCount, Math.ceil((hi - n.offset) / stride));
        if ((first && isLeaf(first) && first.kind !== 'text') || i1 - i0 > MAX_SPANS - spans.length) {
          spans.push({ offset: n.offset, length: n.size, path: n.path, type: n.type, tint, stride, ...(bad ? { bad } : {}) });
          return;
        }
        for (let i = i0; i < i1; i += 1000) {
          n.children(i, Math.min(1000, i1 - i)).forEach((k, j) => this.cover(k, (i + j) % TINTS, lo, hi, spans, rings, depth + 1));
        }
        return;
      }
      for (let i = 0; i < n.childCount && spans.length < MAX_SPANS; i += 1000) {
        const kids = n.children(i, 1000);
        if (kids.length === 0) break;
        kids.forEach((k, j) => this.cover(k, (i + j) % TINTS, lo, hi, spans, rings, depth + 1));
        if (kids[kids.length - 1]!.offset >= hi) break;
      }
      return;
    }
    const kids = allChildren(n);
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i]!;
      this.cover(k, i % TINTS, lo, hi, spans, rings, depth + 1);
      // A union's members overlap: the first one describes the bytes.
      if (n.kind === 'union' && ends(k) > lo && k.offset < hi) break;
    }
  }

  /** Every check reachable within a budget of nodes (arrays count against it element by element). */
  summary(budget = 20_000): CheckSummary {
    const s: CheckSummary = { ok: 0, failed: 0, unknown: 0, items: [], partial: false };
    if (!this.root) return s;
    const later: (TreeCheck & { path: string })[] = [];
    let left = budget;
    const visit = (n: DecodedNode) => {
      if (left-- <= 0) {
        s.partial = true;
        return;
      }
      for (const c of n.checks) {
        const item = { kind: c.kind, ok: c.ok, text: checkText(c), path: c.path };
        if (c.ok === true) {
          s.ok++;
          later.push(item);
        } else {
          if (c.ok === false) s.failed++;
          else s.unknown++;
          if (s.items.length < 20) s.items.push(item);
        }
      }
      if (n.kind === 'offset' || n.kind === 'text') return;
      if (n.kind === 'array' && n.childCount > 0) {
        // Elements of a scalar array carry no checks of their own: the array's checks are on it.
        // Elements of a struct array all have the same members: if the first has no check
        // anywhere, neither have the others (a million slots are not walked to learn that).
        const first = child(n, 0)!;
        if (isLeaf(first)) return;
        const before = s.ok + s.failed + s.unknown;
        visit(first);
        if (s.ok + s.failed + s.unknown === before) return;
        for (let i = 1; i < n.childCount && left > 0; i += 1000) n.children(i, 1000).forEach(visit);
        if (left <= 0) s.partial = true;
        return;
      }
      for (let i = 0; i < n.childCount && left > 0; i += 1000) n.children(i, 1000).forEach(visit);
      if (n.childCount > 0 && left <= 0) s.partial = true;
    };
    visit(this.root);
    for (const it of later) if (s.items.length < 20) s.items.push(it);
    return s;
  }

  /**
   * A field by path (`hdr.head`, `slots[3].text`, `stats.value.produced`) or, when that finds
   * nothing, by a member name that only one field outside arrays has (`head`).
   */
  find(text: string): { id: string; node: DecodedNode } | undefined {
    const root = this.root;
    const want = text.trim().replace(/\s+/g, '');
    if (!root || want === '') return undefined;
    const exact = this.byPath(root, '', want, 0);
    if (exact) return exact;
    const hits: { id: string; node: DecodedNode }[] = [];
    let left = 20_000;
    const visit = (n: DecodedNode, id: string) => {
      if (left-- <= 0 || hits.length > 1) return;
      if (n.kind === 'array' || n.kind === 'offset') return;
      allChildren(n).forEach((k, i) => {
        const kid = childId(id, i);
        if (k.name === want) hits.push({ id: kid, node: k });
        visit(k, kid);
      });
    };
    visit(root, '');
    return hits.length === 1 ? hits[0] : undefined;
  }

  private byPath(n: DecodedNode, id: string, path: string, depth: number): { id: string; node: DecodedNode } | undefined {
    if (depth > 64) return undefined;
    if (n.kind === 'array') {
      const m = path.slice(n.path.length).match(/^\[(\d+)\]/);
      if (!m) return undefined;
      const i = Number(m[1]);
      const k = child(n, i);
      if (!k) return undefined;
      return k.path === path ? { id: childId(id, i), node: k } : this.byPath(k, childId(id, i), path, depth + 1);
    }
    const kids = allChildren(n);
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i]!;
      if (k.path === path && k.path !== n.path) return { id: childId(id, i), node: k };
      const under = k.path === n.path || path.startsWith(`${k.path}.`) || path.startsWith(`${k.path}[`);
      if (under) {
        const hit = this.byPath(k, childId(id, i), path, depth + 1);
        if (hit) return hit;
      }
    }
    return undefined;
  }
}

/**
 * What a row shows as its value: a scalar's display; for a struct, its first members' values
 * (`{ len: 5, text: "msg 3" }`, so a ring's slots can be read without expanding each); for an
 * array of scalars, its first elements. Decodes at most a few children per row.
 */
export function preview(n: DecodedNode, budget = 120): string {
  const short = (s: string) => (s.length > 40 ? `${s.slice(0, 39)}…` : s);
  const list = (items: string[], more: boolean, open: string, close: string) => {
    let out = '';
    for (const it of items) {
      if (out.length + it.length > budget) return `${open}${out}${out ? ', ' : ''}…${close}`;
      out += `${out ? ', ' : ''}${it}`;
    }
    return `${open}${out}${more ? ', …' : ''}${close}`;
  };
  if (n.lock) return n.display;
  if ((n.kind === 'struct' || n.kind === 'union') && n.childCount > 0) {
    const kids = n.children(0, Math.min(n.childCount, 8));
    return list(kids.map((k) => `${k.name}: ${k.childCount > 0 && !k.lock && k.kind !== 'text' && k.kind !== 'offset' ? (k.kind === 'array' ? `[${k.childCount}]` : '{…}') : short(k.display)}`), n.childCount > kids.length, '{ ', ' }');
  }
  if (n.kind === 'array' && n.childCount > 0) {
    const first = n.children(0, 1)[0];
    if (first && isLeaf(first) && first.kind !== 'text') {
      const kids = n.children(0, Math.min(n.childCount, 16));
      return `[${n.childCount}] ${list(kids.map((k) => short(k.display)), n.childCount > kids.length, '', '')}`;
    }
  }
  return n.display;
}

function ringMark(n: DecodedNode, r: NonNullable<DecodedNode['ring']>, stride: number, lo: number, hi: number): RingMark {
  const cap = Math.max(1, r.capacity);
  const slot = (i: number): ByteRange => ({ offset: n.offset + (((i % cap) + cap) % cap) * stride, length: stride });
  const used = r.head - r.tail;
  const valid: ByteRange[] = [];
  const clip = (a: number, b: number) => {
    const s = Math.max(a, lo);
    const e = Math.min(b, hi);
    if (e > s) valid.push({ offset: s, length: e - s });
  };
  if (used > 0 && used <= cap) {
    const t = ((r.tail % cap) + cap) % cap;
    const end = t + used;
    clip(n.offset + t * stride, n.offset + Math.min(cap, end) * stride);
    if (end > cap) clip(n.offset, n.offset + (end - cap) * stride);
  }
  const text = used >= 0 && used <= cap
    ? `${n.path}: head ${r.head} (slot ${((r.head % cap) + cap) % cap}), tail ${r.tail} (slot ${((r.tail % cap) + cap) % cap}), ${used} of ${cap} in use`
    : `${n.path}: head ${r.head}, tail ${r.tail}: not a valid ring state`;
  return { path: n.path, head: r.head, tail: r.tail, capacity: cap, headSlot: slot(r.head), tailSlot: slot(r.tail), valid, text };
}
