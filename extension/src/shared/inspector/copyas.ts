// Copy As: a byte range as text in the formats people paste elsewhere. Pure: no DOM, no Buffer.

import type { CopyFormat } from '../protocol';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** "de ad be ef": bytes as hex pairs separated by spaces. */
export function toHex(bytes: Uint8Array): string {
  const out = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = HEX[bytes[i] ?? 0] ?? '00';
  return out.join(' ');
}

/** A C declaration `const unsigned char name[N] = { 0x.., … };`, twelve bytes a line. */
export function toCArray(bytes: Uint8Array, name = 'data'): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 12) {
    const part = Array.from(bytes.subarray(i, i + 12), (b) => `0x${HEX[b]}`);
    lines.push(`    ${part.join(', ')}${i + 12 < bytes.length ? ',' : ''}`);
  }
  return `const unsigned char ${name}[${bytes.length}] = {\n${lines.join('\n')}\n};`;
}

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += b === undefined ? '=' : B64[(n >> 6) & 63]!;
    out += c === undefined ? '=' : B64[n & 63]!;
  }
  return out;
}

/** The bytes as UTF-8 text (invalid sequences become U+FFFD; NUL stays NUL). */
export function toText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** The bytes in a Copy As format. */
export function formatCopy(bytes: Uint8Array, format: CopyFormat): string {
  switch (format) {
    case 'hex': return toHex(bytes);
    case 'c': return toCArray(bytes);
    case 'base64': return toBase64(bytes);
    case 'text': return toText(bytes);
  }
}
