// The LSP base protocol's framing (`Content-Length: N\r\n\r\n` + N bytes), checked before the
// JSON-RPC reader sees it. A client (or anything writing to our stdin) may send a negative or
// non-numeric length, an empty header block or bytes that are no header at all; the reader would
// stop answering for good. Here a bad frame is dropped with one log line, the stream re-synchronises
// on the next `Content-Length:` header, and every good frame passes on unchanged.
import { Transform, type TransformCallback } from 'node:stream';

/** Largest message body accepted (a whole document of a few MiB fits many times over). */
export const MAX_FRAME_BYTES = 64 << 20;
const MAX_HEADER_BYTES = 8192;
const SEP = Buffer.from('\r\n\r\n');

export class FrameFilter extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  /** Body bytes still expected for the frame being passed on. */
  private need = -1;
  private header = '';

  constructor(private readonly log: (message: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.drain();
    done();
  }

  private drain() {
    for (;;) {
      if (this.need >= 0) {
        if (this.buf.length < this.need) return;
        const body = this.buf.subarray(0, this.need);
        this.buf = this.buf.subarray(this.need);
        this.need = -1;
        this.push(Buffer.concat([Buffer.from(this.header), body]));
        continue;
      }
      const end = this.buf.indexOf(SEP);
      if (end < 0) {
        if (this.buf.length > MAX_HEADER_BYTES) {
          this.log(`dropped ${this.buf.length} bytes that hold no message header`);
          this.buf = this.resync(this.buf, this.buf.length);
        }
        return;
      }
      const block = this.buf.subarray(0, end).toString('latin1');
      const rest = this.buf.subarray(end + SEP.length);
      if (block.trim() === '') {
        this.log('dropped a message with an empty header block');
        this.buf = rest;
        continue;
      }
      const lines = block.split('\r\n');
      if (!lines.every((l) => /^[A-Za-z][A-Za-z0-9-]*:[ \t]*\S/.test(l))) {
        // Garbage before a header (the body of a frame we refused): skip to the next header.
        const at = block.search(/Content-Length:/i);
        if (at > 0) {
          this.log(`skipped ${at} bytes before a message header`);
          this.buf = this.buf.subarray(at);
          continue;
        }
        this.log(`dropped a malformed header block ${JSON.stringify(block.slice(0, 80))}`);
        this.buf = rest;
        continue;
      }
      const len = lines.map((l) => /^content-length:[ \t]*(.*)$/i.exec(l)?.[1]?.trim()).find((v) => v !== undefined);
      if (len === undefined || !/^\d{1,10}$/.test(len) || Number(len) > MAX_FRAME_BYTES) {
        this.log(len === undefined ? 'dropped a message without Content-Length' : `dropped a message with Content-Length ${JSON.stringify(len)} (a length from 0 to ${MAX_FRAME_BYTES} bytes is expected)`);
        this.buf = rest;
        continue;
      }
      this.header = `Content-Length: ${Number(len)}\r\n\r\n`;
      this.need = Number(len);
      this.buf = rest;
    }
  }

  /** Keeps what may start the next header (from its last `Content-Length`), drops the rest. */
  private resync(b: Buffer, upTo: number): Buffer {
    const at = b.subarray(0, upTo).toString('latin1').search(/Content-Length:(?![\s\S]*Content-Length:)/i);
    return at >= 0 ? b.subarray(at) : Buffer.alloc(0);
  }
}
