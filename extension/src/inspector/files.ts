// Snapshot files on disk: write one from a live source in chunks, and read one back as a
// read-only InspectorSource. Node fs only (no vscode), so the tests use it directly.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { openRegularFile } from '../ipc/regular';
import { decodeSnapshotHeader, encodeSnapshotHeader, type SnapshotHeader } from '../shared/inspector/snapshot';
import type { ByteSource } from '../shared/source';
import type { InspectorSource } from './session';

const CHUNK = 1 << 20;

/** Writes `src` to `path` as a .shmsnap; `onProgress` after each MiB. Returns the header written. */
export async function writeSnapshotFile(path: string, src: ByteSource, meta: { target: string; title: string }, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<SnapshotHeader> {
  const size = src.size;
  const header: SnapshotHeader = { version: 1, target: meta.target, title: meta.title, size, time: new Date().toISOString() };
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, encodeSnapshotHeader(header));
    for (let pos = 0; pos < size; pos += CHUNK) {
      if (signal?.aborted) throw Object.assign(new Error('the snapshot was cancelled'), { code: 'ECANCELED' });
      const bytes = src.read(pos, Math.min(CHUNK, size - pos));
      if (bytes.length !== Math.min(CHUNK, size - pos)) throw Object.assign(new Error('the object shrank while the snapshot was taken'), { code: 'ERANGE' });
      writeSync(fd, bytes);
      onProgress?.(pos + bytes.length, size);
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    closeSync(fd);
  }
  return header;
}

/** A snapshot file opened for reading: its header and its bytes as a source. */
export class SnapshotFileSource implements InspectorSource {
  readonly readOnly = true;
  readonly header: SnapshotHeader;
  private readonly fd: number;
  private readonly dataOffset: number;

  constructor(readonly path: string) {
    // Not open(path, 'r'): a FIFO named x.shmsnap would park the extension host's thread in open.
    this.fd = openRegularFile(path);
    try {
      const fileSize = fstatSync(this.fd).size;
      const head = new Uint8Array(Math.min(fileSize, 64 * 1024 + 12));
      readSync(this.fd, head, 0, head.length, 0);
      const parsed = decodeSnapshotHeader(head, fileSize);
      this.header = parsed.header;
      this.dataOffset = parsed.dataOffset;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  get size(): number {
    return this.header.size;
  }

  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.size));
    const n = Math.max(0, Math.min(length, this.size - start));
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, out, got, n - got, this.dataOffset + start + got);
      if (r === 0) break;
      got += r;
    }
    return got === n ? out : out.subarray(0, got);
  }

  write(): void {
    throw Object.assign(new Error('a snapshot is read-only'), { code: 'EROFS' });
  }

  close(): void {
    closeSync(this.fd);
  }
}
