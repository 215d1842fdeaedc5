// The CLI's one writer of standard output. Every command writes through it, so that:
// - a full pipe is waited for (a large dump or decode never piles up in memory);
// - a closed pipe (`shmscope dump … | head`) ends the command quietly with status 0;
// - any other write error (`> /dev/full`: ENOSPC, EIO, …) is one line on stderr and status 1;
// - big JSON documents stream in chunks instead of becoming one string (V8 caps a string near
//   512 MB: `decode --json` of a 600 MB object would fail with "Invalid string length").
import { once } from 'node:events';

const CHUNK = 1 << 16;

/** The sentence for a failed write of standard output. */
export function writeFailure(e: NodeJS.ErrnoException): string {
  const what: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EIO: 'an input/output error',
    EFBIG: 'the file is too large',
    EDQUOT: 'the disk quota is exceeded',
    EBADF: 'standard output is closed',
    EACCES: 'permission denied',
  };
  return `cannot write the output: ${what[e.code ?? ''] ?? e.message} (${e.code ?? 'EIO'})`;
}

let failed: ((e: NodeJS.ErrnoException) => void) | undefined;

/**
 * Routes write errors of stdout to `onError` (EPIPE is success: the reader has what it wanted).
 * main() calls it once, before any command runs.
 */
export function guardStdout(onError: (e: NodeJS.ErrnoException) => never, onEpipe: () => never): void {
  failed = (e) => (e.code === 'EPIPE' ? onEpipe() : onError(e));
  process.stdout.on('error', (e: NodeJS.ErrnoException) => failed!(e));
  // Standard error is written with process.stderr.write (one line per failure or note): when it
  // fails too (a closed pipe, a closed descriptor) nothing can be reported, and the command must
  // end rather than carry on unheard or die of an unhandled 'error' event.
  process.stderr.on('error', () => process.exit(1));
}

/** Writes to stdout, waiting while the pipe is full. */
export async function write(data: string | Uint8Array): Promise<void> {
  try {
    if (!process.stdout.write(data)) await once(process.stdout, 'drain');
  } catch (e) {
    // A synchronous stdout (a file, /dev/full) may throw here rather than emit 'error'.
    if (failed && (e as NodeJS.ErrnoException).code) failed(e as NodeJS.ErrnoException);
    throw e;
  }
}

/** Writes one line (the newline is added). */
export function line(text: string): Promise<void> {
  return write(`${text}\n`);
}

/** Writes `value` as JSON.stringify(value, null, indent) would, in chunks, followed by a newline. */
export async function json(value: unknown, indent = 2): Promise<void> {
  const text = new JsonText(value, indent);
  for (let c = text.next(); c !== undefined; c = text.next()) await write(c);
  await write('\n');
}

/** Tuning of JsonText (tests make them small to reach every path). */
export interface JsonTextOptions {
  /** Characters gathered before a chunk is handed out. */
  chunk?: number;
  /** Arrays longer than this (and objects with more keys) are walked, never stringified whole. */
  walkOver?: number;
}

interface Frame {
  v: unknown[] | Record<string, unknown>;
  keys?: string[];
  i: number;
  /** The frame's own indentation; its members are one level deeper. */
  pad: string;
}

/**
 * JSON text in chunks, identical to JSON.stringify(value, null, indent) once joined: the writer
 * walks only the big containers (arrays over `walkOver` elements, or whatever JSON.stringify
 * could not hold as one string) and hands runs of their members to JSON.stringify, which does
 * the real work natively, re-indenting its text to the depth where it goes. So a 14 MB listing
 * or a million decoded slots cost about what JSON.stringify costs, without one giant string.
 */
export class JsonText {
  private readonly stack: Frame[] = [];
  private buf = '';
  private done = false;
  private readonly ind: string;
  private readonly nl: string;
  private readonly chunk: number;
  private readonly walkOver: number;
  /** Members stringified together, adapted so that each run gives 32-128 KiB of text (short-lived strings: cheap to collect). */
  private run = 64;

  constructor(value: unknown, private readonly indent: number, opts: JsonTextOptions = {}) {
    this.ind = ' '.repeat(indent);
    this.nl = indent > 0 ? '\n' : '';
    this.chunk = opts.chunk ?? CHUNK;
    this.walkOver = opts.walkOver ?? 1024;
    this.value(value, '');
  }

  /** The next piece of text, or undefined at the end. */
  next(): string | undefined {
    if (this.done) return undefined;
    while (this.stack.length && this.buf.length < this.chunk) this.step(this.stack[this.stack.length - 1]!);
    if (!this.stack.length) this.done = true;
    const out = this.buf;
    this.buf = '';
    return out;
  }

  /** `v` at indentation `pad`: as text when it is small, else as a frame to walk. */
  private value(v0: unknown, pad: string): void {
    const v = toJsonValue(v0);
    if (v !== null && typeof v === 'object' && (this.big(v) || weigh(v, this.walkOver * 64) < 0)) {
      this.open(v, pad);
      return;
    }
    const s = this.stringify(v, pad);
    if (s === undefined) this.open(v as object, pad);
    else this.buf += s;
  }

  private big(v: object): boolean {
    return Array.isArray(v) ? v.length > this.walkOver : false;
  }

  /**
   * JSON.stringify of `v` as it reads at indentation `pad` (its first line not indented), or
   * undefined when the text would be too long for one string. With `members`, `v` is an array
   * whose members are wanted without their brackets, each on its own line one level deeper.
   * The indentation comes from JSON.stringify itself: `v` goes in as deep in arrays as `pad` is,
   * and the text of those wrappers is cut off (cheaper than re-indenting every line).
   */
  private stringify(v: unknown, pad: string, members = false): string | undefined {
    const depth = this.indent > 0 ? pad.length / this.indent : 0;
    let w: unknown = v;
    for (let k = 0; k < depth; k++) w = [w];
    let s: string | undefined;
    try {
      s = JSON.stringify(w, null, this.indent);
    } catch (e) {
      if (e instanceof RangeError && v !== null && typeof v === 'object') return undefined;
      throw e;
    }
    if (s === undefined) return 'null';
    // A wrapper at level k opens with `[`, a newline and the indentation of level k + 1, and
    // closes with a newline, the indentation of level k and `]`.
    let head = 0;
    let tail = 0;
    const levels = members ? depth + 1 : depth;
    for (let k = 0; k < levels; k++) {
      head += 1 + this.nl.length + this.indent * (k + 1);
      tail += 1 + this.nl.length + this.indent * k;
    }
    // Members start at their indentation: keep the last level's.
    if (members) head -= this.indent * levels;
    return s.slice(head, s.length - tail);
  }

  private open(v: object, pad: string): void {
    if (Array.isArray(v)) {
      if (v.length === 0) {
        this.buf += '[]';
        return;
      }
      this.buf += `[${this.nl}`;
      this.stack.push({ v, i: 0, pad });
      return;
    }
    const rec = v as Record<string, unknown>;
    const keys = Object.keys(rec).filter((k) => {
      const x = rec[k];
      return x !== undefined && typeof x !== 'function' && typeof x !== 'symbol';
    });
    if (keys.length === 0) {
      this.buf += '{}';
      return;
    }
    this.buf += `{${this.nl}`;
    this.stack.push({ v: rec, keys, i: 0, pad });
  }

  /** Writes the next member (or run of members) of the innermost container. */
  private step(f: Frame): void {
    const inner = f.pad + this.ind;
    if (f.keys) {
      if (f.i === f.keys.length) return this.close(f, '}');
      const k = f.keys[f.i]!;
      if (f.i > 0) this.buf += `,${this.nl}`;
      f.i++;
      this.buf += `${this.nl ? inner : ''}${JSON.stringify(k)}:${this.indent > 0 ? ' ' : ''}`;
      this.value((f.v as Record<string, unknown>)[k], inner);
      return;
    }
    const a = f.v as unknown[];
    if (f.i === a.length) return this.close(f, ']');
    if (f.i > 0) this.buf += `,${this.nl}`;
    // A run of members that are not big containers, stringified as one array.
    let end = Math.min(a.length, f.i + this.run);
    for (let j = f.i; j < end; j++) {
      const x = toJsonValue(a[j]);
      if (x !== null && typeof x === 'object' && this.big(x)) {
        end = j;
        break;
      }
    }
    if (end === f.i) {
      // One big member: walk it.
      if (this.nl) this.buf += inner;
      this.value(a[f.i++], inner);
      return;
    }
    const s = end - f.i === 1 ? undefined : this.stringify(a.slice(f.i, end), f.pad, true);
    if (s === undefined) {
      // One member (or a run too long for one string): on its own.
      this.run = Math.max(1, this.run >> 3);
      if (this.nl) this.buf += inner;
      this.value(a[f.i++], inner);
      return;
    }
    this.buf += s;
    f.i = end;
    if (s.length < 1 << 15) this.run = Math.min(1 << 16, this.run * 2);
    else if (s.length > 1 << 17) this.run = Math.max(1, this.run >> 1);
  }

  private close(f: Frame, bracket: string): void {
    this.stack.pop();
    this.buf += `${this.nl}${this.nl ? f.pad : ''}${bracket}`;
  }
}

/** `budget` less the members of `v` (containers and scalars, all depths); negative once spent. */
function weigh(v: unknown, budget: number): number {
  budget--;
  if (budget < 0 || v === null || typeof v !== 'object') return budget;
  const members: unknown[] = Array.isArray(v) ? v : Object.values(v);
  for (const m of members) {
    budget = weigh(toJsonValue(m), budget);
    if (budget < 0) return budget;
  }
  return budget;
}

/** What JSON.stringify serialises for `v`: its toJSON() when it has one. */
function toJsonValue(v: unknown): unknown {
  return v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): unknown }).toJSON() : v;
}
