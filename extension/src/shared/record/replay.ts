// Replaying a recording through its schema: each frame decoded as `decode --json` decodes a live
// object, fields picked out by path (`hdr.head`, `slots[3].len`, `sem[0]`), and the searches a
// timeline needs (the next frame where some bytes change, the next where a check fails). Pure.
import { compileSchema, decode, decodeJson, defaultSegment, findType, type CheckResult, type CutArray, type DecodedNode, type JsonValue, type Schema, type Type } from '../schema';
import { BufferSource } from '../source';
import type { Frame, Recording } from './reader';

/** A frame decoded: the schema's JSON (fields, checks, diagnostics) or undefined without a schema. */
export interface DecodedFrame {
  frame: Frame;
  json?: { [k: string]: JsonValue };
  checks: CheckResult[];
  /** Arrays the JSON holds only in part, and the values budget when it ran out (decodeJson). */
  cut?: CutArray[];
  budgetSpent?: number;
}

/** Decodes a recording's frames through the schema it carries, or one given instead. */
export class FrameDecoder {
  readonly schema?: Schema;
  readonly type?: Type;

  constructor(
    readonly recording: Recording,
    override?: { schema: Schema; type?: string },
  ) {
    const carried = recording.header.schema;
    this.schema = override?.schema ?? (carried ? compileSchema(carried.text, carried.file) : undefined);
    const typeName = override ? override.type : carried?.type;
    if (this.schema) this.type = typeName ? findType(this.schema, typeName) : (defaultSegment(this.schema));
  }

  /** Frame `index` with its decode (`limits`: JsonOptions.maxArrayElements, DecodeOptions.maxWork). */
  decode(index: number, limits: { maxArrayElements?: number; maxWork?: number } = {}): DecodedFrame {
    const frame = this.recording.seek(index);
    if (!this.schema || !this.type) return { frame, checks: [] };
    const bytes = this.recording.objectBytes(frame);
    const r = decodeJson(this.schema, this.type, new BufferSource(bytes), limits);
    return { frame, json: r.json, checks: r.checks, cut: r.cut, ...(r.budgetSpent !== undefined ? { budgetSpent: r.budgetSpent } : {}) };
  }
}

/** Splits `hdr.slots[3].len` into ['hdr', 'slots', 3, 'len']; undefined when it is not a path. */
export function parsePath(path: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  const re = /\s*(?:\.?([A-Za-z_][A-Za-z0-9_]*)|\[\s*(\d+)\s*\])/y;
  let at = 0;
  const text = path.trim();
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m || (m[1] !== undefined && out.length === 0 && text[at] === '.')) return undefined;
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
    at = re.lastIndex;
  }
  return out.length ? out : undefined;
}

/** Most fields one plot shows. */
export const MAX_WATCH_FIELDS = 8;

/** Splits "hdr.head, hdr.tail sem[0]" into paths (at most MAX_WATCH_FIELDS); a sentence when one is not a path. */
export function parseWatchList(text: string): { paths: string[] } | { problem: string } {
  const paths = text.split(/[\s,]+/).map((p) => p.trim()).filter(Boolean);
  if (paths.length === 0) return { problem: 'Name at least one field, e.g. hdr.head' };
  if (paths.length > MAX_WATCH_FIELDS) return { problem: `At most ${MAX_WATCH_FIELDS} fields per plot` };
  const bad = paths.find((p) => !parsePath(p));
  return bad ? { problem: `"${bad}" is not a field path (like hdr.head, slots[3].len or sem[0])` } : { paths };
}

/**
 * A field's value in a decoded frame: `sem[N]` names the frame's semaphore N; anything else is
 * a path into the decoded JSON (an `offset<T>` is followed through its `value`). Undefined when
 * the frame has no such field.
 */
export function fieldValue(d: DecodedFrame, path: string): JsonValue | undefined {
  const parts = parsePath(path);
  if (!parts) return undefined;
  if (parts[0] === 'sem' && parts.length === 2 && typeof parts[1] === 'number') return d.frame.sems[parts[1]];
  let v: JsonValue | undefined = d.json;
  for (const p of parts) {
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof p === 'string' && !(p in v) && 'value' in v && 'offset' in v) v = v.value;
    if (typeof p === 'number') v = Array.isArray(v) ? v[p] : undefined;
    else v = v && typeof v === 'object' && !Array.isArray(v) ? v[p] : undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/** The first frame after `from` (in `direction`) whose bytes in [offset, offset+length) differ from frame `from`'s. */
export function nextChange(rec: Recording, from: number, offset: number, length: number, direction: 1 | -1 = 1): number | undefined {
  const window = (i: number) => {
    const f = rec.seek(i);
    return rec.objectBytes(f).slice(offset, offset + length);
  };
  const base = window(from);
  for (let i = from + direction; i >= 0 && i < rec.frameCount; i += direction) {
    const w = window(i);
    if (w.length !== base.length || w.some((b, k) => b !== base[k])) return i;
  }
  return undefined;
}

/** The first frame after `from` (in `direction`) where a check fails or the frame is torn. */
export function nextFailure(dec: FrameDecoder, from: number, direction: 1 | -1 = 1): number | undefined {
  for (let i = from + direction; i >= 0 && i < dec.recording.frameCount; i += direction) {
    const d = dec.decode(i);
    if (d.frame.torn || d.checks.some((c) => c.ok === false)) return i;
  }
  return undefined;
}

/** Fields over time, for a plot: one x (seconds since the start) and one column per path. */
export interface Series {
  /** Seconds since the recording started, per point. */
  t: number[];
  /** The frame each point comes from. */
  frames: number[];
  columns: { path: string; values: (number | null)[]; labels?: Record<number, string> }[];
}

/** A lazily found field as a plot point: enums by number (labelled), text numbered by first appearance. */
export function plotField(f: { value: number | null; label?: string } | undefined, labels: Record<number, string>): number | null {
  if (!f) return null;
  if (f.value !== null) {
    if (f.label !== undefined) labels[f.value] = f.label;
    return f.value;
  }
  if (f.label === undefined) return null;
  for (const [k, name] of Object.entries(labels)) if (name === f.label) return Number(k);
  const next = Object.keys(labels).length;
  labels[next] = f.label;
  return next;
}

/**
 * Samples `paths` over the recording: every frame when there are at most `maxPoints`, else frames
 * evenly spread (always the first and the last). `frames` may narrow it to some frames. Yields to
 * the event loop every `yieldEvery` frames, reporting progress; `signal` cancels (ECANCELED).
 */
export async function sampleSeries(
  dec: FrameDecoder,
  paths: readonly string[],
  maxPoints = 20_000,
  opts: { frames?: readonly number[]; signal?: AbortSignal; onProgress?: (done: number, total: number) => void; yieldEvery?: number } = {},
): Promise<Series> {
  const frames = opts.frames;
  const n = dec.recording.frameCount;
  const picks: number[] = frames ? [...frames] : [];
  if (!frames) {
    const step = n <= maxPoints ? 1 : (n - 1) / (maxPoints - 1);
    for (let k = 0; k < Math.min(n, maxPoints); k++) picks.push(Math.round(k * step));
  }
  const out: Series = { t: [], frames: [], columns: paths.map((path) => ({ path, values: [], labels: {} })) };
  let done = 0;
  for (const i of picks) {
    // A few hundred decodes at a time, then the event loop runs (an editor stays responsive).
    if (++done % (opts.yieldEvery ?? 250) === 0) {
      opts.onProgress?.(done, picks.length);
      await new Promise<void>((r) => setTimeout(r, 0));
      if (opts.signal?.aborted) throw Object.assign(new Error('sampling was cancelled'), { code: 'ECANCELED' });
    }
    const frame = dec.recording.seek(i);
    // Only the fields asked for are decoded: a lazy decode finds them by path.
    const root = dec.schema && dec.type ? decode(dec.schema, dec.type, new BufferSource(dec.recording.objectBytes(frame))).root : undefined;
    out.t.push(frame.timeMs / 1000);
    out.frames.push(i);
    for (const c of out.columns) {
      const sem = /^\s*sem\s*\[\s*(\d+)\s*\]\s*$/.exec(c.path);
      if (sem) {
        c.values.push(frame.sems[Number(sem[1])] ?? null);
        continue;
      }
      c.values.push(plotField(lazyField(root, c.path), c.labels!));
    }
  }
  for (const c of out.columns) if (Object.keys(c.labels!).length === 0) delete c.labels;
  return out;
}

/**
 * One field of a lazy decode, found by path without decoding the rest (a live Watch samples a
 * few fields of what may be a very large segment): its number for a plot and, for enums and
 * text, the name it stands for. Undefined when the path names nothing.
 */
export function lazyField(root: DecodedNode | undefined, path: string): { value: number | null; label?: string } | undefined {
  const parts = parsePath(path);
  if (!root || !parts) return undefined;
  let n: DecodedNode | undefined = root;
  for (const p of parts) {
    if (!n) return undefined;
    if (n.kind === 'offset' && !(typeof p === 'string' && p === 'value')) n = n.children(0, 1)[0];
    if (!n) return undefined;
    if (typeof p === 'number') {
      n = n.kind === 'array' && p < n.childCount ? n.children(p, 1)[0] : undefined;
      continue;
    }
    let found: DecodedNode | undefined;
    for (let i = 0; i < n.childCount && !found; i += 1000) found = n.children(i, Math.min(1000, n.childCount - i)).find((c) => c.name === p);
    n = found;
  }
  if (!n) return undefined;
  const v = n.value;
  if (typeof v === 'bigint') return n.kind === 'enum' ? { value: Number(v), label: n.display } : { value: Number(v) };
  if (typeof v === 'number') return { value: v };
  if (typeof v === 'boolean') return { value: v ? 1 : 0 };
  if (typeof v === 'string') return { value: null, label: v };
  return { value: null };
}
