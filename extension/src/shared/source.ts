// The one way code reads bytes: a live segment, a POSIX object, a snapshot file or a test buffer.
// The hex view and the schema decoder both read through it. Pure: no vscode, no native import.

/** Reads `length` bytes at `offset`; may return fewer only at the end of the object. */
export interface ByteSource {
  /** Current size in bytes (a live object can shrink or grow between calls). */
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** A ByteSource over bytes already in memory. */
export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.bytes.length));
    return this.bytes.subarray(start, Math.min(this.bytes.length, start + Math.max(0, length)));
  }
}
