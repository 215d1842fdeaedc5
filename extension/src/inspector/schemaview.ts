// The structure view's host side: the schema bound to an inspector, its decode of the object
// (reused for a moment, so one refresh's read and tree requests share it), the rows, fields and
// rings the page asks for, and typed edits of a field. No vscode import.
import { ownerLookup, processViews, Scope } from '../analysis';
import { addressToOffset, pointerNote, type ProcessView } from '../shared/address';
import { StructureTree } from '../shared/inspector/structure';
import type { FieldResult, SchemaParams, TreeParams, TreeResult } from '../shared/protocol';
import { decode, type Schema, type ThreadLookup } from '../shared/schema';
import type { ByteSource } from '../shared/source';

/** A schema bound to the view: which type decodes the object, and how the binding came about. */
export interface SchemaBinding {
  schema: Schema;
  /** The type to decode; the schema's first `segment` when undefined. */
  type?: string;
  /** What the page shows, e.g. "ring.shms · Ring". */
  label: string;
  how: string;
}

/** A decode is reused for this long, so one refresh's read and tree requests share it. */
const DECODE_TTL_MS = 50;
/** How often a bound view re-reads who maps the object and which threads exist (background). */
const PROCESS_TTL_MS = 5000;
/**
 * Largest range a [[checksum]] covers in the live view: every refresh decodes again, and a JS
 * crc32 runs near 80 MB/s, so 4 MiB keeps a refresh under ~50 ms. Larger ranges show the check
 * as unknown, saying why; `shmscope decode` checks them (its limit is 256 MiB).
 */
export const LIVE_CHECKSUM_BYTES = 4 << 20;
/**
 * What all checksums of one refresh may read, seqlock retries included: two sums of the largest
 * range. A writer that never leaves its seqlock alone then costs one refresh ~100 ms, not 100 sums;
 * the check says the budget cut it short.
 */
export const LIVE_CHECKSUM_BUDGET = 2 * LIVE_CHECKSUM_BYTES;

const fail = (code: string, message: string) => Object.assign(new Error(message), { code });

export class SchemaView {
  private binding: SchemaBinding | undefined;
  private bindingProblem: string | undefined;
  /** The rows over the latest decode; its expanded set outlives re-binds. */
  readonly tree = new StructureTree();
  private decodedAt = -Infinity;

  constructor(
    private readonly source: ByteSource,
    /** Told when the binding's problem sentence changes (the page's schema line). */
    private readonly onProblem: () => void,
    /** The object's target text and its size now (who maps it; pointers into it). */
    private readonly object: () => { target: string; size: number },
  ) {}

  get bound(): SchemaBinding | undefined {
    return this.binding;
  }

  /** Binds a schema (or unbinds with undefined) and decodes at once. */
  bind(b: SchemaBinding | undefined): void {
    this.binding = b;
    this.decodedAt = -Infinity;
    this.bindingProblem = undefined;
    this.decodeNow();
  }

  /** The bytes changed (a write, undo): the next request decodes again. */
  stale(): void {
    this.decodedAt = -Infinity;
  }

  params(): SchemaParams {
    const b = this.binding;
    if (!b) return {};
    const errors = b.schema.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    const problem = this.bindingProblem ?? (first ? `${b.label}: ${errors.length} error${errors.length === 1 ? '' : 's'}; line ${first.range.start.line + 1}: ${first.message}` : undefined);
    return { label: b.label, how: b.how, ...(problem ? { problem } : {}) };
  }

  /** Decodes the object through the bound schema, at most once per DECODE_TTL_MS. */
  decodeNow(force = false): void {
    const b = this.binding;
    if (!b) {
      this.tree.setRoot(undefined);
      return;
    }
    const now = performance.now();
    if (!force && now - this.decodedAt < DECODE_TTL_MS) return;
    this.decodedAt = now;
    this.refreshProcesses();
    const views = this.processes.views;
    const { target, size } = this.object();
    const r = decode(b.schema, b.type, this.source, {
      maxChecksumBytes: LIVE_CHECKSUM_BYTES,
      checksumBudgetBytes: LIVE_CHECKSUM_BUDGET,
      ...(this.processes.threads ? { threads: this.processes.threads } : {}),
      ...(views.length ? { pointers: (v: bigint) => pointerNote(v, views, size, target.startsWith('posix:') ? 'object' : 'segment') } : {}),
    });
    this.tree.setRoot(r.root);
    const why = r.root ? undefined : r.diagnostics[0]?.message;
    if (why !== this.bindingProblem) {
      this.bindingProblem = why;
      this.onProblem();
    }
  }

  /**
   * Who maps this object where, and who each TID is: for the owners of decoded mutexes and the
   * flags on absolute pointers. Re-read in the background at most every PROCESS_TTL_MS; a view of
   * something that is not a live object (a snapshot) never asks again.
   */
  private processes: { views: ProcessView[]; threads?: ThreadLookup; at: number; busy: boolean; off: boolean } = { views: [], at: -Infinity, busy: false, off: false };
  private refreshProcesses(): void {
    const p = this.processes;
    if (p.off || p.busy || performance.now() - p.at < PROCESS_TTL_MS) return;
    p.busy = true;
    // One scope for both: the views of this object only (not a container's of the same id), and
    // the owners' TIDs counted where its mappers count them.
    const scope = new Scope();
    processViews(this.object().target, scope)
      .then(async (views) => [views, await ownerLookup(views, scope)] as const)
      .then(([views, threads]) => {
        const key = (list: ProcessView[]) => list.map((v) => `${v.pid}:${v.start}:${v.end}:${v.offset}`).join(',');
        const first = !p.threads;
        const changed = key(views) !== key(p.views);
        Object.assign(p, { views, threads, at: performance.now() });
        if (first || changed) this.decodedAt = -Infinity; // the next refresh decodes with them
      })
      .catch(() => {
        p.off = true; // not a live System V or POSIX object
      })
      .finally(() => {
        p.busy = false;
      });
  }

  /** The fields and rings over [offset, offset + length), for a read's reply. */
  layout(offset: number, length: number): ReturnType<StructureTree['layout']> {
    this.decodeNow();
    return this.tree.layout(offset, length);
  }

  rows(m: TreeParams): TreeResult {
    this.decodeNow();
    if (m.toggle) this.tree.toggle(m.toggle.id, m.toggle.expand);
    const total = this.tree.total();
    const first = Math.min(m.first, Math.max(0, total - 1));
    return { total, first, rows: this.tree.rows(first, m.count), summary: this.tree.summary() };
  }

  /** The binding, or the ENOENT sentence that says to bind one first. */
  requireBound(): SchemaBinding {
    if (!this.binding) throw fail('ENOENT', 'no schema is bound to this view: use "Bind Schema…" first');
    return this.binding;
  }

  /** A field by path or unique name: its bytes, and its tree row (ancestors expanded). */
  resolve(text: string): FieldResult {
    const b = this.requireBound();
    this.decodeNow();
    const hit = this.tree.find(text);
    if (!hit) {
      const top = this.tree.rootNode?.children(0, 12).map((n) => n.name) ?? [];
      throw fail('ENOENT', `no field "${text}" in ${b.label}${top.length ? ` (it has ${top.join(', ')})` : ''}`);
    }
    const row = this.tree.reveal(hit.id);
    return { offset: hit.node.offset, length: Math.max(1, hit.node.size), path: hit.node.path, id: hit.id, ...(row !== undefined ? { row } : {}) };
  }

  /** A process address → the offset it points to in this object, and the field there when bound. */
  async resolveAddress(a: { pid: number; address: bigint }): Promise<FieldResult> {
    const { target, size } = this.object();
    const r = addressToOffset(a.address, a.pid, await processViews(target), size);
    if (!r.ok) throw fail('ENOENT', r.message);
    if (this.binding) {
      this.decodeNow();
      const hit = this.tree.locate(r.offset);
      if (hit) {
        const row = this.tree.reveal(hit.id);
        return { offset: r.offset, length: 1, path: hit.node.path, id: hit.id, ...(row !== undefined ? { row } : {}) };
      }
    }
    return { offset: r.offset, length: 1, path: '', id: '' };
  }

  /** The deepest field over a byte, revealed in the tree. */
  locate(offset: number): FieldResult {
    const b = this.requireBound();
    this.decodeNow();
    const hit = this.tree.locate(offset);
    if (!hit) throw fail('ENOENT', `no field of ${b.label} covers offset 0x${offset.toString(16)}`);
    const row = this.tree.reveal(hit.id);
    return { offset: hit.node.offset, length: Math.max(1, hit.node.size), path: hit.node.path, id: hit.id, ...(row !== undefined ? { row } : {}) };
  }

  /**
   * The bytes that put a typed value into a decoded field, in the field's endianness and width.
   * `path` must still name the row: a re-bound schema may have moved it.
   */
  encodeField(id: string, path: string, text: string): { offset: number; bytes: Uint8Array } {
    this.requireBound();
    this.decodeNow(true);
    const node = this.tree.nodeById(id);
    if (!node || node.path !== path) throw fail('ESTALE', `the field ${path} moved (the schema or the data changed): pick it again`);
    if (!node.encode) throw fail('EINVAL', `${path} is ${node.kind === 'array' || node.kind === 'struct' || node.kind === 'union' ? `a ${node.kind}: edit its members` : 'not a value that can be edited'}`);
    const current = this.source.read(node.offset, Math.max(0, node.size));
    return node.encode(text, current);
  }
}
