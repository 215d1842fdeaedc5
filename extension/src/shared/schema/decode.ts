// Lazy, bounded decoding of bytes through a schema. A node decodes its children when asked;
// arrays are paged; every read goes through a ByteSource; every problem becomes a diagnostic on
// the node (with the schema range that caused it) and decoding carries on with what it has.
import type { ByteSource } from '../source';
import type { Attr, Expr } from './ast';
import { summer, type ChecksumAlgorithm } from './checksum';
import { exprText, findField, type Schema } from './compile';
import { diagnostic, type Diagnostic } from './diagnostics';
import { canEncode, encodeValue } from './encode';
import { halfValue } from './float16';
import { EvalError, evaluate, evalInt, type Env, type Rec, type Val } from './expr';
import type { Range } from './lexer';
import { lockState, type LockState, type ThreadLookup } from './primitives';
import { alignUp, type ArrayType, type EnumType, type Field, type IntType, type OffsetType, type StructType, type Type } from './types';

export interface DecodeOptions {
  /** Deepest nesting of structs/arrays/offsets followed (default 64). */
  maxDepth?: number;
  /** Most children one `children()` call returns (default 1000). */
  maxElements?: number;
  /** Most nodes and elements one decode may produce in total (default 5 000 000). */
  maxWork?: number;
  /** `[[seqlock]]` re-reads before giving up as unstable (default 100). */
  seqlockRetries?: number;
  /** Largest range a `[[checksum]]` reads (default 256 MiB). */
  maxChecksumBytes?: number;
  /**
   * Most bytes all of one decode's checksums may read, seqlock retries included (default: no
   * limit). A live refresh sets it, so a writer that keeps a seqlock busy cannot make one refresh
   * sum the same range a hundred times; a check the budget cut short is unknown, saying so.
   */
  checksumBudgetBytes?: number;
  /** Who a TID is, for the owners of decoded mutexes and rwlocks (from a thread scan). */
  threads?: ThreadLookup;
  /**
   * Says when a 64-bit value is an absolute address into the object as some process maps it
   * ("pointer into this segment as mapped by pid 4242; offset 0x40"); such fields are flagged.
   */
  pointers?: (value: bigint) => string | undefined;
}

/** The outcome of one check: ok true/false, or null when it could not be evaluated. */
export interface CheckResult {
  path: string;
  kind: 'expect' | 'checksum' | 'seqlock' | 'ring';
  ok: boolean | null;
  expected: JsonValue;
  actual: JsonValue;
  message?: string;
  range: Range;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export type NodeKind = 'struct' | 'union' | 'array' | 'text' | 'int' | 'bool' | 'enum' | 'float' | 'pointer' | 'offset' | 'bitfield' | 'error';

/** One decoded field: what the inspector's tree and the CLI show. */
export interface DecodedNode {
  name: string;
  /** Dotted path from the root, e.g. `hdr.magic`, `slots[3].text`. */
  path: string;
  type: string;
  kind: NodeKind;
  /** Absolute byte offset in the source. */
  offset: number;
  size: number;
  /** Scalar value (bigint for integers), text for char arrays, offset for offset<T>. */
  value: bigint | number | string | boolean | undefined;
  /** The value as a person reads it (formats, enum names, hex pointers). */
  display: string;
  checks: CheckResult[];
  diagnostics: Diagnostic[];
  /** Number of children (array length, members present). */
  childCount: number;
  /** Children `start .. start+count` (capped at maxElements per call), decoded on demand. */
  children(start?: number, count?: number): DecodedNode[];
  /** Schema range of the member this node comes from. */
  range: Range;
  /** Bit-fields: bit position and width within the bytes at `offset`. */
  bits?: { offset: number; width: number };
  /**
   * Scalars and text that can be written (int, bool, enum, bitfield, float, pointer, offset,
   * char arrays): the bytes that make `text` this field's value, in its endianness. Throws an
   * Error with `code` 'EINVAL' (not a value of the type) or 'ERANGE' (does not fit) and a sentence
   * a user understands. Absent on nodes that cannot be edited (structs, arrays, errors).
   */
  encode?(text: string, current?: Uint8Array): { offset: number; bytes: Uint8Array };
  /** An array carrying [[ring(head=…, tail=…)]]: the ring as read (indices, not offsets). */
  ring?: { head: number; tail: number; capacity: number; stride: number };
  /** A glibc primitive (pthread_mutex_t, sem_t, …) or a `[[futex]]` word: its decoded state. */
  lock?: LockState;
}

const NO_RANGE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
const PAGE = 1 << 16;

/** Decoding state shared by the nodes of one decode: the source, caches and budgets. */
export class DecodeContext {
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxWork: number;
  readonly seqlockRetries: number;
  readonly maxChecksumBytes: number;
  /** What is left of the checksum budget (DecodeOptions.checksumBudgetBytes). */
  checksumBudget: number;
  readonly checksumBudgetBytes: number;
  readonly threads: ThreadLookup | undefined;
  readonly pointers: ((value: bigint) => string | undefined) | undefined;
  work = 0;
  private pages = new Map<number, Uint8Array>();
  /** True once the work budget (maxWork) ran out: the decode's output is partial. */
  exhausted = false;
  /** Structs with layout errors already reported in this decode. */
  readonly brokenReported = new Set<StructType>();
  /** The size when the decode started; a smaller size later means the object shrank meanwhile. */
  readonly initialSize: number;
  /** Why decoding stopped early (the object shrank or could not be read), once known. */
  halted?: string;
  private haltReported = false;
  constructor(
    readonly schema: Schema,
    readonly source: ByteSource,
    opts: DecodeOptions = {},
  ) {
    this.initialSize = this.size;
    this.maxDepth = opts.maxDepth ?? 64;
    this.maxElements = opts.maxElements ?? 1000;
    this.maxWork = opts.maxWork ?? 5_000_000;
    this.seqlockRetries = opts.seqlockRetries ?? 100;
    this.maxChecksumBytes = opts.maxChecksumBytes ?? 256 << 20;
    this.threads = opts.threads;
    this.pointers = opts.pointers;
    this.checksumBudgetBytes = opts.checksumBudgetBytes ?? Infinity;
    this.checksumBudget = this.checksumBudgetBytes;
  }

  /** Takes `n` bytes of checksumming from the budget; false (taking nothing) when they are not left. */
  takeChecksumBytes(n: number): boolean {
    if (n > this.checksumBudget) return false;
    this.checksumBudget -= n;
    return true;
  }

  /** Counts work; false (once reported) when the budget is spent. */
  spend(n: number, diags: Diagnostic[], range: Range): boolean {
    this.work += n;
    if (this.work <= this.maxWork) return true;
    if (!this.exhausted) {
      this.exhausted = true;
      diags.push(diagnostic(range, 'warning', `decoding stopped: more than ${this.maxWork} values in one decode`));
    }
    return false;
  }

  get size(): number {
    let s: number;
    try {
      s = this.source.size;
    } catch {
      s = 0;
    }
    if (this.initialSize !== undefined && s < this.initialSize && !this.halted) this.halted = `the object shrank from ${this.initialSize} to ${s} bytes during the decode: decoding stopped`;
    return s;
  }

  /**
   * True once the decode has stopped (the object shrank, or a read failed): the first caller
   * reports why, once for the whole decode; the others add nothing.
   */
  stopped(diags: Diagnostic[], range: Range): boolean {
    void this.size;
    if (!this.halted) return false;
    if (!this.haltReported) {
      this.haltReported = true;
      diags.push(diagnostic(range, 'error', this.halted));
    }
    return true;
  }

  /** Bytes at [off, off+len), through a page cache; shorter at the end of the source. */
  bytes(off: number, len: number): Uint8Array {
    if (len <= 0 || off < 0) return new Uint8Array(0);
    const p0 = Math.floor(off / PAGE);
    const p1 = Math.floor((off + len - 1) / PAGE);
    if (p0 === p1) {
      const pg = this.page(p0);
      const s = off - p0 * PAGE;
      return pg.subarray(s, Math.min(pg.length, s + len));
    }
    if (len > 4 * PAGE) return this.direct(off, len);
    const out = new Uint8Array(len);
    let got = 0;
    for (let p = p0; p <= p1; p++) {
      const pg = this.page(p);
      const s = p === p0 ? off - p0 * PAGE : 0;
      const chunk = pg.subarray(s, Math.min(pg.length, s + (len - got)));
      out.set(chunk, got);
      got += chunk.length;
      if (pg.length < PAGE) break;
    }
    return got === len ? out : out.subarray(0, got);
  }

  /** An uncached read, clamped to the source's size; empty when the source fails. */
  direct(off: number, len: number): Uint8Array {
    const n = Math.min(len, this.size - off);
    if (n <= 0 || off < 0) return new Uint8Array(0);
    try {
      return this.source.read(off, n);
    } catch (e) {
      this.halted ??= `the object could not be read at offset ${off} (${(e as Error).message}): decoding stopped`;
      return new Uint8Array(0);
    }
  }

  private page(p: number): Uint8Array {
    let pg = this.pages.get(p);
    if (!pg) {
      if (this.pages.size >= 256) this.pages.clear();
      try {
        // Sources may refuse a range past their end (a live segment does): ask only for what is there.
        const len = Math.min(PAGE, this.size - p * PAGE);
        pg = len > 0 ? this.source.read(p * PAGE, len) : new Uint8Array(0);
      } catch (e) {
        this.halted ??= `the object could not be read at offset ${p * PAGE} (${(e as Error).message}): decoding stopped`;
        pg = new Uint8Array(0);
      }
      this.pages.set(p, pg);
    }
    return pg;
  }
}

// ------------------------------------------------------------------------------ scalars

function readUint(b: Uint8Array, at: number, size: number, le: boolean): bigint {
  if (size <= 6) {
    let v = 0;
    if (le) for (let i = size - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
    else for (let i = 0; i < size; i++) v = v * 256 + b[at + i]!;
    return BigInt(v);
  }
  let v = 0n;
  if (le) for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  else for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

function readInt(b: Uint8Array, at: number, t: IntType, le: boolean): bigint {
  const u = readUint(b, at, t.size, le);
  return t.signed ? BigInt.asIntN(t.size * 8, u) : u;
}

function readFloat(b: Uint8Array, at: number, size: number, le: boolean): number {
  const dv = new DataView(b.buffer, b.byteOffset + at, size);
  return size === 4 ? dv.getFloat32(0, le) : size === 8 ? dv.getFloat64(0, le) : size === 2 ? halfValue(dv.getUint16(0, le)) : NaN;
}


/** Bytes as text up to the first NUL: UTF-8 when valid, else Latin-1. */
const utf8 = new TextDecoder('utf-8', { fatal: true });
export function textOf(b: Uint8Array, at: number, len: number): string {
  let end = at;
  const stop = Math.min(b.length, at + len);
  let ascii = true;
  while (end < stop) {
    const c = b[end]!;
    if (c === 0) break;
    if (c > 127) ascii = false;
    end++;
  }
  if (ascii) return latin1(b, at, end);
  try {
    return utf8.decode(b.subarray(at, end));
  } catch {
    return latin1(b, at, end);
  }
}

/** Bytes as Latin-1 text; fromCharCode over a view is several times faster than += per char. */
function latin1(b: Uint8Array, at: number, end: number): string {
  let s = '';
  for (let i = at; i < end; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** A bigint as the nearest safe Number (±(2^53 - 1) at most). */
const clampNumber = (v: bigint): number => Number(v > SAFE ? SAFE : v < -SAFE ? -SAFE : v);
/** Integers as JSON: numbers when exact (|v| < 2^53), decimal strings beyond. */
export function intJson(v: bigint): number | string {
  return v <= SAFE && v >= -SAFE ? Number(v) : v.toString();
}

export function enumName(t: EnumType, v: bigint): string | undefined {
  const n = t.names.get(v);
  if (n !== undefined) return n;
  if (!t.flags || v <= 0n) return undefined;
  const parts: string[] = [];
  let rest = v;
  for (const [bit, name] of t.names) {
    if (bit > 0n && (bit & (bit - 1n)) === 0n && (v & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (!parts.length) return undefined;
  if (rest !== 0n) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

function formatOf(attrs: Attr[]): string | undefined {
  const a = attrs.find((x) => x.name === 'format')?.args[0]?.expr;
  return a && a.k === 'name' ? a.name : undefined;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
function isoTime(ms: number, fracDigits: string): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return 'invalid time';
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${fracDigits}Z`;
}

/** Display text of an integer under a `[[format]]`. */
export function formatInt(v: bigint, size: number, fmt: string | undefined): string {
  switch (fmt) {
    case 'hex':
      return `0x${BigInt.asUintN(size * 8, v).toString(16).padStart(size * 2, '0')}`;
    case 'bin':
      return `0b${BigInt.asUintN(size * 8, v).toString(2)}`;
    case 'char': {
      const c = Number(BigInt.asUintN(8, v));
      return c >= 32 && c < 127 ? `'${String.fromCharCode(c)}'` : `'\\x${c.toString(16).padStart(2, '0')}'`;
    }
    case 'bool':
      return v !== 0n ? 'true' : 'false';
    case 'ipv4': {
      const u = Number(BigInt.asUintN(32, v));
      // The bytes in memory order (network order as stored).
      return [u & 255, (u >>> 8) & 255, (u >>> 16) & 255, u >>> 24].join('.');
    }
    case 'time_s':
      return `${isoTime(Number(v) * 1000, '')} (${v})`;
    case 'time_ns': {
      const ms = Number(v / 1_000_000n);
      const ns = BigInt.asUintN(64, v) % 1_000_000_000n;
      return `${isoTime(ms - (ms % 1000), `.${ns.toString().padStart(9, '0')}`)} (${v})`;
    }
    default:
      return v.toString();
  }
}

// ------------------------------------------------------------------------------ instances

/** Where a member sits in one instance of its struct. */
interface Placement {
  field: Field;
  offset: number;
  size: number;
  present: boolean;
  /** Resolved type (arrays with a count from data get a concrete count). */
  type: Type;
  diags: Diagnostic[];
  /** An array element: its instance is not cached by the owner. */
  element?: boolean;
}

/** One struct in memory: lays out its members (from data when needed) and answers expressions. */
class Inst implements Rec {
  readonly rec = true;
  private placed: Placement[] | undefined;
  private partial: Placement[] = [];
  private computing = false;
  readonly diags: Diagnostic[] = [];
  /** `[[seqlock]]`: a consistent copy of this struct's bytes. */
  snapshot?: { at: number; bytes: Uint8Array };
  seqlock?: CheckResult;
  private sizeCache: number | undefined;

  constructor(
    readonly ctx: DecodeContext,
    readonly type: StructType,
    readonly base: number,
    readonly parent: Inst | undefined,
    readonly path: string,
    readonly depth: number,
  ) {
    this.takeSeqlock();
  }

  bytes(off: number, len: number): Uint8Array {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks up the parent chain from this
    for (let i: Inst | undefined = this; i; i = i.parent) {
      const s = i.snapshot;
      if (s && off >= s.at && off + len <= s.at + s.bytes.length) return s.bytes.subarray(off - s.at, off - s.at + len);
    }
    return this.ctx.bytes(off, len);
  }

  /** This struct's `[[seqlock]]` counter, when it has one that can be read in place. */
  private seqField(): Field | undefined {
    const f = this.type.fields.find((x) => x.attrs.some((a) => a.name === 'seqlock'));
    return f && f.type.k === 'int' && f.offset >= 0 && !this.type.dynamic ? f : undefined;
  }

  /** The counter's value in memory now (not from the snapshot). */
  private seqNow(f: Field): bigint | undefined {
    const size = f.type.size;
    const b = this.ctx.direct(this.base + f.offset, size);
    return b.length === size ? readUint(b, 0, size, f.endian === 'le') : undefined;
  }

  /**
   * Runs `read` inside one generation of this struct's seqlock: the counter is even before and
   * unchanged after. Undefined without a seqlock, or when no generation held within the retries.
   */
  underSeqlock<T>(read: () => T): { value: T; seq: bigint } | undefined {
    const f = this.seqField();
    if (!f) return undefined;
    for (let i = 0; i < this.ctx.seqlockRetries; i++) {
      const s1 = this.seqNow(f);
      if (s1 === undefined) return undefined;
      if (s1 % 2n !== 0n) continue;
      const value = read();
      if (this.seqNow(f) === s1) return { value, seq: s1 };
    }
    return undefined;
  }

  private takeSeqlock() {
    const f = this.seqField();
    if (!f) return;
    const path = join(this.path, f.name);
    const got = this.underSeqlock(() => this.ctx.direct(this.base, this.type.size).slice());
    if (got && got.value.length >= this.type.size) {
      this.snapshot = { at: this.base, bytes: got.value };
      this.seqlock = { path, kind: 'seqlock', ok: true, expected: 'even and unchanged', actual: intJson(got.seq), range: f.range };
      return;
    }
    const last = this.seqNow(f);
    this.seqlock = {
      path, kind: 'seqlock', ok: false, expected: 'even and unchanged', actual: last === undefined ? null : intJson(last), range: f.range,
      message: `no consistent read after ${this.ctx.seqlockRetries} tries (a writer holds the lock or is always writing)`,
    };
  }

  /** Environment for expressions in this struct: earlier fields, enclosing structs, constants. */
  env(): Env {
    const schema = this.ctx.schema;
    return {
      name: (n) => this.lookup(n) ?? schema.constants.get(n)?.value,
      sizeof: (t) => sizeOfRef(schema, t),
      alignof: () => undefined,
      offsetof: () => undefined,
    };
  }

  lookup(name: string): Val | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks up the parent chain from this
    for (let i: Inst | undefined = this; i; i = i.parent) {
      const v = i.member(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Where member `name` is (also inside anonymous members), or undefined. */
  locate(name: string): Placement | undefined {
    const list = this.placed ?? this.partial;
    if (!this.placed && !this.computing) return this.placements().find((p) => p.field.name === name && p.present) ?? this.locateAnon(name);
    return list.find((p) => p.field.name === name && p.present) ?? this.locateAnon(name);
  }
  private locateAnon(name: string): Placement | undefined {
    const list = this.placed ?? this.partial;
    for (const p of list) {
      if (p.field.anonymous && p.present && p.type.k === 'struct') {
        const inner = this.child(p).locate(name);
        if (inner) return inner;
      }
    }
    return undefined;
  }

  member(name: string): Val | undefined {
    const p = this.locate(name);
    if (!p) return undefined;
    return valueOf(this, p);
  }
  index(): Val | undefined {
    return undefined;
  }
  get byteSize(): number {
    return this.totalSize();
  }

  private children = new Map<Field, Inst>();
  child(p: Placement): Inst {
    let c = this.children.get(p.field);
    if (!c) {
      c = new Inst(this.ctx, p.type as StructType, p.offset, this, join(this.path, p.field.name), this.depth + 1);
      this.children.set(p.field, c);
    }
    return c;
  }

  totalSize(): number {
    if (this.sizeCache !== undefined) return this.sizeCache;
    if (!this.type.dynamic) return (this.sizeCache = this.type.size);
    let end = 0;
    for (const p of this.placements()) if (p.present) end = Math.max(end, p.offset - this.base + p.size);
    return (this.sizeCache = alignUp(end, this.type.align));
  }

  placements(): Placement[] {
    if (this.placed) return this.placed;
    if (this.computing) return this.partial;
    this.computing = true;
    const out = this.partial;
    const t = this.type;
    let cursor = 0; // relative byte end of the last member
    let bitpos = 0;
    let dynamicSeen = false;
    for (const f of t.fields) {
      const diags: Diagnostic[] = [];
      let present = true;
      if (f.cond) {
        const c = this.evalInt(f.cond, diags);
        present = c !== undefined && c !== 0n;
      }
      let type = f.type;
      let rel = f.offset;
      if (rel < 0 || dynamicSeen) {
        if (f.at) {
          const v = this.evalInt(f.at, diags);
          rel = v === undefined || v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
          if (rel < 0) present = false;
        } else if (f.bitWidth !== undefined) {
          const start = Math.max(bitpos, cursor * 8);
          rel = Math.floor(start / 8);
        } else rel = t.union ? 0 : alignUp(cursor, f.align);
      }
      if (!present) {
        out.push({ field: f, offset: this.base + Math.max(0, rel), size: 0, present: false, type, diags });
        if (f.cond) dynamicSeen = true;
        continue;
      }
      if (f.offset < 0) dynamicSeen = true;
      let size = f.size;
      if (type.k === 'array' && type.countExpr) {
        const arr = this.concreteArray(type, this.base + rel, diags, f.range);
        type = arr;
        size = arr.size;
      }
      const p: Placement = { field: f, offset: this.base + rel, size, present: true, type, diags };
      out.push(p);
      if (type.k === 'struct' && type.dynamic) size = p.size = this.child(p).totalSize();
      if (type.k === 'array' && type.elem.k === 'struct' && type.elem.dynamic) size = p.size = arrayElements(this, p).end - p.offset;
      if (f.bitWidth !== undefined) {
        bitpos = rel * 8 + (f.bitOffset ?? 0) + f.bitWidth;
        cursor = Math.max(cursor, Math.ceil(bitpos / 8));
      } else if (!t.union) {
        cursor = Math.max(cursor, rel + size);
        bitpos = cursor * 8;
      }
    }
    this.placed = out;
    this.computing = false;
    return out;
  }

  /** An array whose count comes from data, clamped to what the source holds. */
  private concreteArray(t: ArrayType, at: number, diags: Diagnostic[], range: Range): ArrayType {
    const c = t.countExpr ? this.evalInt(t.countExpr, diags) : BigInt(t.count ?? 0);
    let count = c === undefined ? 0 : c < 0n ? 0 : c > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c);
    if (c !== undefined && c < 0n) diags.push(diagnostic(range, 'error', `array count ${c} is negative`));
    const stride = t.elem.size;
    const avail = Math.max(0, this.ctx.size - at);
    if (stride > 0 && count * stride > avail) {
      const fit = Math.floor(avail / stride);
      // The count as the data holds it (2^63 stays 9223372036854775808, not a clamped 2^53 - 1).
      diags.push(diagnostic(range, 'error', `array count ${c ?? count} (${exprText(t.countExpr!)}) runs past the end of the data: ${fit} element${fit === 1 ? '' : 's'} fit`));
      count = fit;
    } else if (stride === 0 && count > 1_000_000) count = 1_000_000;
    return { ...t, count, size: stride * count, name: `${t.elem.name}[${count}]` };
  }

  evalInt(e: Expr, diags: Diagnostic[]): bigint | undefined {
    return this.evalWith(e, diags, evalInt);
  }
  evalVal(e: Expr, diags: Diagnostic[]): Val | undefined {
    return this.evalWith(e, diags, evaluate);
  }
  /** Evaluates over this struct's fields; a failure becomes a diagnostic at its range. */
  private evalWith<T>(e: Expr, diags: Diagnostic[], run: (e: Expr, env: Env) => T): T | undefined {
    try {
      return run(e, this.env());
    } catch (x) {
      const r = x instanceof EvalError ? x.range : e.range;
      diags.push(diagnostic(r, 'error', `cannot evaluate ${exprText(e)}: ${(x as Error).message}`));
      return undefined;
    }
  }
}

function sizeOfRef(schema: Schema, t: import('./ast').TypeRef): number | undefined {
  if (t.spec.k === 'named') return schema.types.get(t.spec.name)?.size;
  if (t.spec.k === 'struct' || t.spec.k === 'enum') return t.spec.tag ? schema.types.get(t.spec.tag)?.size : undefined;
  return undefined;
}

const join = (path: string, name: string) => (name === '' ? path : path === '' ? name : `${path}.${name}`);

/** An array in memory, for expressions (`a[i]`) and for children. */
class ArrRec implements Rec {
  readonly rec = true;
  constructor(
    readonly owner: Inst,
    readonly p: Placement,
  ) {}
  get byteSize() {
    return this.p.size;
  }
  member(): Val | undefined {
    return undefined;
  }
  index(i: number): Val | undefined {
    const t = this.p.type as ArrayType;
    if (i < 0 || i >= (t.count ?? 0)) return undefined;
    const el = elementAt(this.owner, this.p, i);
    if (!el) return undefined;
    return valueOf(this.owner, el);
  }
}

const elementOffsets = new WeakMap<Placement, { offsets: number[]; end: number }>();
/** Offsets of the elements of an array with data-sized elements (sequential, bounded, once per array). */
function arrayElements(inst: Inst, p: Placement): { offsets: number[]; end: number } {
  const known = elementOffsets.get(p);
  if (known) return known;
  const r = computeElements(inst, p);
  elementOffsets.set(p, r);
  return r;
}
function computeElements(inst: Inst, p: Placement): { offsets: number[]; end: number } {
  const t = p.type as ArrayType;
  const offsets: number[] = [];
  let at = p.offset;
  const n = Math.min(t.count ?? 0, inst.ctx.maxElements * 100);
  for (let i = 0; i < n; i++) {
    offsets.push(at);
    const e = new Inst(inst.ctx, t.elem as StructType, at, inst, `${inst.path}[${i}]`, inst.depth + 1);
    at += Math.max(1, e.totalSize());
    if (at > inst.ctx.size) break;
  }
  return { offsets, end: at };
}

function elementAt(inst: Inst, p: Placement, i: number): Placement | undefined {
  const t = p.type as ArrayType;
  const elem = t.elem;
  if (elem.k === 'struct' && elem.dynamic) {
    const off = arrayElements(inst, p).offsets[i];
    if (off === undefined) return undefined;
    return { field: { ...p.field, name: `${p.field.name}[${i}]`, type: elem, attrs: p.field.attrs.filter((a) => a.name === 'format'), size: elem.size, bitWidth: undefined, bitOffset: undefined, cond: undefined, at: undefined }, offset: off, size: 0, present: true, type: elem, diags: [], element: true };
  }
  return { field: { ...p.field, name: `${p.field.name}[${i}]`, type: elem, attrs: p.field.attrs.filter((a) => a.name === 'format'), size: elem.size, bitWidth: undefined, bitOffset: undefined, cond: undefined, at: undefined }, offset: p.offset + i * elem.size, size: elem.size, present: true, type: elem, diags: [], element: true };
}

/** The value of a placed member for expressions. */
function valueOf(inst: Inst, p: Placement): Val | undefined {
  const t = p.type;
  const f = p.field;
  switch (t.k) {
    case 'int':
    case 'enum': {
      const it = t.k === 'enum' ? t.base : t;
      if (f.bitWidth !== undefined) return readBits(inst, p, it);
      const b = inst.bytes(p.offset, it.size);
      if (b.length < it.size) return undefined;
      return readInt(b, 0, it, f.endian === 'le');
    }
    case 'float': {
      const b = inst.bytes(p.offset, t.size);
      return b.length < t.size ? undefined : readFloat(b, 0, t.size, f.endian === 'le');
    }
    case 'pointer':
    case 'offset': {
      const size = t.size;
      const b = inst.bytes(p.offset, size);
      return b.length < size ? undefined : readUint(b, 0, size, f.endian === 'le');
    }
    case 'struct':
      return inst.child(p);
    case 'array':
      if (t.elem.k === 'int' && t.elem.char) {
        const b = inst.bytes(p.offset, t.size);
        return textOf(b, 0, b.length);
      }
      return new ArrRec(inst, p);
    case 'void':
      return undefined;
  }
}

function readBits(inst: Inst, p: Placement, t: IntType): bigint | undefined {
  const f = p.field;
  const b = inst.bytes(p.offset, f.size);
  if (b.length < f.size) return undefined;
  const raw = readUint(b, 0, f.size, true);
  const w = BigInt(f.bitWidth!);
  const v = (raw >> BigInt(f.bitOffset ?? 0)) & ((1n << w) - 1n);
  return t.signed && !t.bool ? BigInt.asIntN(Number(w), v) : v;
}

// ------------------------------------------------------------------------------ nodes

/** Node kinds a person may edit in place (encode.ts also needs a type it can encode). */
const EDITABLE = new Set<NodeKind>(['int', 'bool', 'enum', 'bitfield', 'float', 'pointer', 'offset', 'text']);

interface Followed {
  key: string;
  up?: Followed;
}

class Node implements DecodedNode {
  value: bigint | number | string | boolean | undefined;
  display = '';
  checks: CheckResult[] = [];
  diagnostics: Diagnostic[] = [];
  childCount = 0;
  kind: NodeKind = 'error';
  type: string;
  bits?: { offset: number; width: number };
  encode?: (text: string, current?: Uint8Array) => { offset: number; bytes: Uint8Array };
  ring?: { head: number; tail: number; capacity: number; stride: number };
  lock?: LockState;
  private kids = new Map<number, DecodedNode>();
  /** Struct children come from this instance. */
  inst?: Inst;
  /** Array or offset details. */
  placement: Placement;
  target?: { type: Type; at: number };

  constructor(
    readonly owner: Inst,
    p: Placement,
    readonly name: string,
    readonly path: string,
    readonly depth: number,
    readonly followed: Followed | undefined,
  ) {
    this.placement = p;
    this.type = p.type.name;
    this.diagnostics.push(...p.diags);
    this.decodeSelf();
    // Only fields wholly inside the data (a char array cut short by the end still decodes as text).
    if (EDITABLE.has(this.kind) && canEncode(p.type) && p.offset + p.size <= this.owner.ctx.size) this.encode = (text, current) => this.encodeText(text, current);
  }

  /** The bytes that make `text` this field's value (see DecodedNode.encode; encode.ts). */
  private encodeText(text: string, current?: Uint8Array): { offset: number; bytes: Uint8Array } {
    const p = this.placement;
    const ctx = this.owner.ctx;
    return encodeValue(
      {
        name: p.field.name || this.name, type: p.type, offset: p.offset, size: p.size, endian: p.field.endian, bits: this.bits, format: formatOf(p.field.attrs),
        // Live bytes, not the page cache: a bit-field's neighbours may have changed since the decode.
        read: (off, len) => ctx.direct(off, len),
      },
      text,
      current,
    );
  }
  get offset() {
    return this.placement.offset;
  }
  get size() {
    return this.placement.size;
  }
  get range() {
    return this.placement.field.range;
  }
  get field() {
    return this.placement.field;
  }

  private short(need: number): boolean {
    const avail = this.owner.ctx.size - this.offset;
    if (avail >= need) return false;
    this.kind = 'error';
    this.display = '(past the end of the data)';
    if (this.owner.ctx.stopped(this.diagnostics, this.range)) return true;
    this.diagnostics.push(diagnostic(this.range, 'error', `${this.path || this.name} at offset ${this.offset} (${need} bytes) is past the end of the data (${this.owner.ctx.size} bytes)`));
    return true;
  }

  /** A scalar that could not be read (the source failed or shrank): an error node. */
  private unreadable(): void {
    this.kind = 'error';
    this.value = undefined;
    this.display = '(unreadable)';
    if (this.owner.ctx.stopped(this.diagnostics, this.range)) return;
    this.diagnostics.push(diagnostic(this.range, 'error', `${this.path || this.name} at offset ${this.offset} could not be read`));
  }

  private decodeSelf() {
    const p = this.placement;
    const t = p.type;
    const f = p.field;
    const ctx = this.owner.ctx;
    const fmt = formatOf(f.attrs);
    switch (t.k) {
      case 'int':
      case 'enum': {
        if (this.short(f.size)) return;
        const v = valueOf(this.owner, p);
        if (typeof v !== 'bigint') return this.unreadable();
        this.kind = f.bitWidth !== undefined ? 'bitfield' : t.k === 'enum' ? 'enum' : t.bool ? 'bool' : 'int';
        if (f.bitWidth !== undefined) this.bits = { offset: f.bitOffset ?? 0, width: f.bitWidth };
        this.value = v;
        if (t.k === 'enum') {
          const n = enumName(t, v);
          this.display = fmt ? formatInt(v, t.size, fmt) : n ?? `${v} (not a ${t.name} value)`;
        } else if (t.bool) this.display = v !== 0n ? 'true' : 'false';
        else this.display = formatInt(v, t.size, fmt);
        if (t.k === 'int' && t.size === 8 && f.bitWidth === undefined && ctx.pointers) this.flagPointer(v);
        if (t.k === 'int' && t.size === 4 && f.attrs.some((a) => a.name === 'futex')) {
          this.lock = lockState('futex', this.owner.bytes(p.offset, 4));
          this.display = `${this.display} (futex${BigInt.asUintN(32, v) & 0x8000_0000n ? ', waiters' : ''})`;
        }
        break;
      }
      case 'float': {
        if (this.short(t.size)) return;
        const fv = valueOf(this.owner, p);
        if (typeof fv !== 'number') return this.unreadable();
        this.kind = 'float';
        this.value = fv;
        this.display = String(this.value);
        break;
      }
      case 'pointer': {
        if (this.short(8)) return;
        const v = valueOf(this.owner, p);
        if (typeof v !== 'bigint') return this.unreadable();
        this.kind = 'pointer';
        this.value = v;
        this.display = `0x${v.toString(16).padStart(16, '0')}`;
        if (ctx.pointers) this.flagPointer(v);
        break;
      }
      case 'offset':
        this.decodeOffset(t);
        break;
      case 'struct': {
        this.kind = t.union ? 'union' : 'struct';
        if (this.depth >= ctx.maxDepth) {
          this.diagnostics.push(diagnostic(this.range, 'warning', `nesting deeper than ${ctx.maxDepth}: not decoded`));
          this.display = '(too deep)';
          return;
        }
        if (t.errors?.length && !ctx.brokenReported.has(t)) {
          // The layout stops at a member with an error: say so beside the struct, once per decode.
          ctx.brokenReported.add(t);
          for (const e of t.errors) this.diagnostics.push(diagnostic(e.range, 'error', `${t.name} is decoded only up to its first error: ${e.message}`));
        }
        this.inst = p.element ? new Inst(ctx, t, p.offset, this.owner, this.path, this.depth) : this.owner.child(p);
        this.childCount = this.inst.placements().filter((x) => x.present).length;
        this.display = `{${t.name}}`;
        if (t.primitive) {
          this.lock = lockState(t.primitive, this.owner.bytes(p.offset, t.size), ctx.threads);
          this.display = this.lock.text;
        }
        break;
      }
      case 'array': {
        if (t.elem.k === 'int' && t.elem.char) {
          this.kind = 'text';
          const b = this.owner.bytes(p.offset, t.size);
          if (b.length < t.size) this.short(t.size);
          this.value = textOf(b, 0, b.length);
          this.kind = 'text';
          this.display = JSON.stringify(this.value);
          break;
        }
        this.kind = 'array';
        if (this.depth >= ctx.maxDepth) {
          this.diagnostics.push(diagnostic(this.range, 'warning', `nesting deeper than ${ctx.maxDepth}: not decoded`));
          return;
        }
        this.childCount = t.count ?? 0;
        // A fixed count larger than the data there is: show what exists, say why the rest is missing.
        const stride = t.elem.size;
        const avail = Math.max(0, ctx.size - p.offset);
        if (!t.countExpr && stride > 0 && this.childCount * stride > avail) {
          const fit = Math.floor(avail / stride);
          this.diagnostics.push(diagnostic(this.range, 'error', `${this.path || this.name}: ${this.childCount} elements do not fit in the data after offset ${p.offset}: ${fit} do`));
          this.childCount = fit;
        }
        this.display = `[${this.childCount}]`;
        break;
      }
      case 'void':
        break;
    }
    this.runChecks();
  }

  /** An absolute address into the object itself: valid in one process only (offsets, not pointers). */
  private flagPointer(v: bigint) {
    const note = this.owner.ctx.pointers?.(BigInt.asUintN(64, v));
    if (!note) return;
    this.display += ` (${note})`;
    this.diagnostics.push(diagnostic(this.range, 'warning', `${this.path || this.name}: ${note}: store an offset instead`));
  }

  private decodeOffset(t: OffsetType) {
    const p = this.placement;
    this.kind = 'offset';
    if (this.short(t.size)) return;
    const unsigned = valueOf(this.owner, p);
    if (typeof unsigned !== 'bigint') return this.unreadable();
    const raw = t.width.signed ? BigInt.asIntN(t.width.size * 8, unsigned) : unsigned;
    this.value = raw;
    let base = 0n;
    if (t.base === 'self') base = BigInt(p.offset);
    else if (typeof t.base === 'object') base = this.owner.evalInt(t.base, this.diagnostics) ?? 0n;
    const at = base + raw;
    this.display = `→ 0x${at.toString(16)}`;
    const ctx = this.owner.ctx;
    if (at < 0n || at + BigInt(Math.max(1, t.target.size)) > BigInt(ctx.size)) {
      this.diagnostics.push(diagnostic(this.range, 'error', `${this.path}: offset 0x${at.toString(16)} is outside the data (${ctx.size} bytes)`));
      this.display += ' (outside the data)';
      return;
    }
    const key = `${t.target.name}@${at}`;
    for (let f = this.followed; f; f = f.up) {
      if (f.key === key) {
        this.diagnostics.push(diagnostic(this.range, 'warning', `${this.path}: offset cycle back to ${t.target.name} at 0x${at.toString(16)}`));
        this.display += ' (cycle)';
        return;
      }
    }
    if (this.depth >= ctx.maxDepth) {
      this.diagnostics.push(diagnostic(this.range, 'warning', `offsets followed deeper than ${ctx.maxDepth}: stopped`));
      return;
    }
    this.target = { type: t.target, at: Number(at) };
    this.childCount = 1;
  }

  private runChecks() {
    const p = this.placement;
    const f = p.field;
    if (this.owner.seqlock && this.owner.seqlock.path === this.path) this.checks.push(this.owner.seqlock);
    for (const a of f.attrs) {
      if (a.name === 'expect') this.checkExpect(a);
      else if (a.name === 'checksum') this.checkChecksum(a);
      else if (a.name === 'ring') this.checkRing(a);
    }
  }

  private checkExpect(a: Attr) {
    const e = a.args[0]?.expr;
    if (!e) return;
    const base: Omit<CheckResult, 'ok' | 'expected' | 'actual'> = { path: this.path, kind: 'expect', range: a.range };
    const want = this.owner.evalVal(e, this.diagnostics);
    const actual = this.jsonScalar();
    if (want === undefined || this.value === undefined) {
      this.checks.push({ ...base, ok: null, expected: want === undefined ? null : plain(want), actual, message: 'could not evaluate' });
      return;
    }
    let ok: boolean;
    if (typeof this.value === 'string') ok = typeof want === 'string' && want === this.value;
    else if (typeof want === 'bigint' && typeof this.value === 'bigint') ok = want === this.value || BigInt.asUintN(this.size * 8, want) === BigInt.asUintN(this.size * 8, this.value);
    else ok = Number(want) === Number(this.value);
    const show = expectShow(this.placement.type, this.size, this.field.attrs, want);
    this.checks.push({ ...base, ok, expected: show(want), actual: typeof this.value === 'bigint' ? show(this.value) : actual });
  }

  private checkChecksum(a: Attr) {
    const base = { path: this.path, kind: 'checksum' as const, range: a.range };
    const algExpr = a.args[0]?.expr;
    const alg = (algExpr && algExpr.k === 'name' ? algExpr.name : 'crc32') as ChecksumAlgorithm;
    let start: number | undefined;
    let len: number | undefined;
    if (a.args.length === 2) {
      const loc = locateExpr(this.owner, a.args[1]!.expr, this.diagnostics);
      if (loc) [start, len] = [loc.offset, loc.size];
    } else if (a.args.length === 3) {
      const s = this.owner.evalInt(a.args[1]!.expr, this.diagnostics);
      const l = this.owner.evalInt(a.args[2]!.expr, this.diagnostics);
      if (s !== undefined && l !== undefined && s >= 0n && l >= 0n) [start, len] = [this.owner.base + Number(s), Number(l)];
    }
    const stored = typeof this.value === 'bigint' ? intJson(this.value) : null;
    const ctx = this.owner.ctx;
    if (start === undefined || len === undefined) {
      this.checks.push({ ...base, ok: null, expected: null, actual: stored, message: 'the checksummed range could not be found' });
      return;
    }
    if (len > ctx.maxChecksumBytes || start + len > ctx.size) {
      this.checks.push({ ...base, ok: null, expected: null, actual: stored, message: start + len > ctx.size ? 'the range runs past the end of the data' : `the range is larger than ${ctx.maxChecksumBytes} bytes` });
      return;
    }
    let cut = false;
    const sumOver = (read: (at: number, n: number) => Uint8Array): number | undefined => {
      if (!ctx.takeChecksumBytes(len)) {
        cut = true;
        return undefined;
      }
      const s = summer(alg);
      for (let at = start; at < start + len; ) {
        const chunk = read(at, Math.min(1 << 20, start + len - at));
        if (chunk.length === 0) break;
        s.update(chunk);
        at += chunk.length;
      }
      return s.digest();
    };
    // Under a seqlock, the stored sum and the range it covers must come from the same write: read
    // both live inside one generation (the struct's snapshot holds only its own bytes).
    const p = this.placement;
    const storedNow = (): bigint | undefined => {
      const b = ctx.direct(p.offset, p.size);
      return b.length === p.size && p.type.k === 'int' ? readUint(b, 0, p.size, p.field.endian === 'le') : undefined;
    };
    const live = this.owner.underSeqlock(() => ({ sum: cut ? undefined : sumOver((at, n) => ctx.direct(at, n)), stored: storedNow() }));
    const sum = live && live.value.sum !== undefined ? live.value.sum : cut ? undefined : sumOver((at, n) => this.owner.bytes(at, n));
    if (sum === undefined) {
      this.checks.push({ ...base, ok: null, expected: null, actual: stored, message: `not checked in this refresh: its budget of ${ctx.checksumBudgetBytes} bytes of checksums ran out before the writer left the data unchanged (shmscope decode checks it)` });
      return;
    }
    const value = live?.value.stored ?? (typeof this.value === 'bigint' ? this.value : undefined);
    const ok = value !== undefined && BigInt.asUintN(32, value) === BigInt(sum);
    this.checks.push({ ...base, ok, expected: `0x${sum.toString(16).padStart(8, '0')}`, actual: value !== undefined ? `0x${BigInt.asUintN(32, value).toString(16).padStart(8, '0')}` : null, message: `${alg} over ${len} bytes at ${start}` });
  }

  private checkRing(a: Attr) {
    const base = { path: this.path, kind: 'ring' as const, range: a.range };
    const get = (n: string) => {
      const x = a.args.find((y) => y.name === n);
      return x ? this.owner.evalInt(x.expr, this.diagnostics) : undefined;
    };
    const head = get('head');
    const tail = get('tail');
    const cap = BigInt(this.childCount);
    const declared = this.placement.field.type;
    const capacity = declared.k === 'array' && declared.countExpr ? this.owner.evalInt(declared.countExpr, []) ?? cap : cap;
    if (head === undefined || tail === undefined) {
      this.checks.push({ ...base, ok: null, expected: null, actual: null, message: 'head or tail could not be read' });
      return;
    }
    if (this.kind === 'array') {
      const t = this.placement.type;
      this.ring = { head: clampNumber(head), tail: clampNumber(tail), capacity: clampNumber(capacity), stride: t.k === 'array' ? t.elem.size : 0 };
    }
    const used = head - tail;
    const ok = used >= 0n && used <= capacity;
    this.checks.push({
      ...base, ok, expected: `0 <= head - tail <= ${capacity}`, actual: intJson(used),
      message: ok ? `${used} of ${capacity} slots in use (head ${head}, tail ${tail})` : used < 0n ? `tail ${tail} is ahead of head ${head}` : `head ${head} is ${used} ahead of tail ${tail}, more than the ${capacity} slots`,
    });
  }

  /** Scalar JSON of this node. */
  jsonScalar(): JsonValue {
    const v = this.value;
    if (v === undefined) return null;
    if (typeof v === 'bigint') {
      const t = this.placement.type;
      if (t.k === 'enum') return enumName(t, v) ?? intJson(v);
      if (t.k === 'int' && t.bool) return v !== 0n;
      if (t.k === 'pointer') return `0x${v.toString(16)}`;
      return intJson(v);
    }
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    return v;
  }

  children(start = 0, count?: number): DecodedNode[] {
    const ctx = this.owner.ctx;
    const want = Math.max(0, Math.min(count ?? ctx.maxElements, ctx.maxElements, this.childCount - start));
    const out: DecodedNode[] = [];
    if (want <= 0 || start < 0) return out;
    if (ctx.stopped(this.diagnostics, this.range)) return out;
    if (!ctx.spend(want, this.diagnostics, this.range)) return out;
    if (this.inst) {
      const list = this.inst.placements().filter((x) => x.present);
      for (let i = start; i < start + want; i++) {
        const pl = list[i]!;
        const anon = pl.type.k === 'struct' && pl.type.union ? '(anonymous union)' : '(anonymous struct)';
        out.push(this.kid(i, () => new Node(this.inst!, pl, pl.field.name || anon, join(this.path, pl.field.name), this.depth + 1, this.followed)));
      }
      return out;
    }
    if (this.target) {
      const { type, at } = this.target;
      const p: Placement = { field: { ...this.field, name: '*', type, attrs: [], offset: at, size: type.size }, offset: at, size: type.size, present: true, type, diags: [], element: true };
      const root = this.owner;
      out.push(this.kid(0, () => new Node(root, p, 'value', `${this.path}.value`, this.depth + 1, { key: `${type.name}@${at}`, up: this.followed })));
      return out;
    }
    if (this.kind === 'array') {
      for (let i = start; i < start + want; i++) {
        out.push(
          this.kid(i, () => {
            const el = elementAt(this.owner, this.placement, i);
            if (!el) {
              const bad: Placement = { ...this.placement, type: (this.placement.type as ArrayType).elem, size: 0, diags: [diagnostic(this.range, 'error', `element ${i} could not be placed`)] };
              return new Node(this.owner, bad, `[${i}]`, `${this.path}[${i}]`, this.depth + 1, this.followed);
            }
            return new Node(this.owner, el, `[${i}]`, `${this.path}[${i}]`, this.depth + 1, this.followed);
          }),
        );
      }
    }
    return out;
  }

  private kid(i: number, make: () => DecodedNode): DecodedNode {
    let k = this.kids.get(i);
    if (!k) {
      k = make();
      if (this.kids.size > 10_000) this.kids.clear();
      this.kids.set(i, k);
    }
    return k;
  }
}

/**
 * How an `[[expect]]` shows its expected and actual values on a member of type `t` (`size` bytes,
 * attributes `attrs`) expecting `want`: enum names, hex for `[[format(hex)]]` or a wanted value
 * above 9 (magic numbers), else the integer. The nodes and toJson's loop over array elements share it.
 */
export function expectShow(t: Type, size: number, attrs: Attr[], want: Val): (v: Val) => JsonValue {
  const hex = formatOf(attrs) === 'hex' || (typeof want === 'bigint' && want > 9n && t.k === 'int' && !t.bool);
  return (v: Val) => (typeof v === 'bigint' ? (t.k === 'enum' ? enumName(t, v) ?? intJson(v) : hex ? `0x${BigInt.asUintN(size * 8, v).toString(16)}` : intJson(v)) : plain(v));
}

function plain(v: Val): JsonValue {
  if (typeof v === 'bigint') return intJson(v);
  if (typeof v === 'number' || typeof v === 'string') return v;
  return null;
}

/** Byte span named by an expression (`slots`, `hdr.stats`, `arr[2]`). */
function locateExpr(inst: Inst, e: Expr, diags: Diagnostic[]): { offset: number; size: number } | undefined {
  if (e.k === 'name') {
    for (let i: Inst | undefined = inst; i; i = i.parent) {
      const p = i.locate(e.name);
      if (p) return { offset: p.offset, size: p.size };
    }
    diags.push(diagnostic(e.range, 'error', `no field "${e.name}" to checksum`));
    return undefined;
  }
  if (e.k === 'member') {
    const v = inst.evalVal(e.obj, diags);
    if (v instanceof Inst) {
      const p = v.locate(e.name);
      if (p) return { offset: p.offset, size: p.size };
    }
    diags.push(diagnostic(e.range, 'error', `no field "${exprText(e)}" to checksum`));
    return undefined;
  }
  diags.push(diagnostic(e.range, 'error', 'a checksum range is a field name, or start and length'));
  return undefined;
}

// ------------------------------------------------------------------------------ entry points

/** The root node of `type` decoded at `offset` (0) of `source`. */
export function decodeType(schema: Schema, type: StructType | Type, source: ByteSource, opts: DecodeOptions & { offset?: number } = {}): DecodedNode {
  const ctx = new DecodeContext(schema, source, opts);
  const holder: StructType = { k: 'struct', name: '', union: false, fields: [], size: 0, align: 1, dynamic: false, tailPadding: 0 };
  const root = new Inst(ctx, holder, 0, undefined, '', 0);
  const field: Field = {
    name: '', type, offset: opts.offset ?? 0, size: type.size, align: type.align, endian: 'le', attrs: [], range: type.k === 'struct' && type.decl ? type.decl.nameRange : NO_RANGE,
    nameRange: NO_RANGE, paddingBefore: 0, anonymous: false,
  };
  const p: Placement = { field, offset: opts.offset ?? 0, size: type.size, present: true, type, diags: [] };
  const node = new Node(root, p, type.name, '', 0, undefined);
  if (type.k === 'struct' && type.dynamic && node.inst) p.size = node.inst.totalSize();
  return node;
}

/** The work budget (DecodeOptions.maxWork) when it ran out in the decode `node` belongs to, else undefined. */
export function budgetSpent(node: DecodedNode): number | undefined {
  return node instanceof Node && node.owner.ctx.exhausted ? node.owner.ctx.maxWork : undefined;
}

/** Finds the deepest node covering byte `offset` (absolute), decoding only along the way. */
export function fieldAt(root: DecodedNode, offset: number, maxSteps = 256): DecodedNode | undefined {
  let node: DecodedNode = root;
  if (offset < node.offset || offset >= node.offset + Math.max(1, node.size)) return undefined;
  for (let step = 0; step < maxSteps; step++) {
    if (node.childCount === 0 || node.kind === 'offset') return node;
    let next: DecodedNode | undefined;
    if (node.kind === 'array') {
      const n = node as Node;
      const t = n.placement.type as ArrayType;
      const stride = t.elem.size;
      if (stride > 0 && !(t.elem.k === 'struct' && t.elem.dynamic)) {
        const i = Math.floor((offset - node.offset) / stride);
        next = i >= 0 && i < node.childCount ? node.children(i, 1)[0] : undefined;
      }
    } else {
      for (let i = 0; i < node.childCount && !next; i += 1000) {
        next = node.children(i, 1000).find((c) => offset >= c.offset && offset < c.offset + c.size);
      }
    }
    if (!next) return node;
    node = next;
  }
  return node;
}

export { findField, readUint, readInt, readFloat, type Placement, Inst as StructInstance, Node as NodeImpl };
export type { EnumType };
