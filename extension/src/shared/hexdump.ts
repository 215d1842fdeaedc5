// Hex dump lines as `xxd` and hex editors print them: offset, bytes in hex, printable ASCII.
// Pure; shared by the CLI and the inspector's Copy As.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The ASCII column character for a byte: itself when printable, else '.'. */
export const printable = (b: number): string => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');

/**
 * Formats `bytes` (which start at absolute offset `base`) as dump lines of `perRow` bytes.
 * The offset column is at least 8 hex digits, wider when the last offset needs it.
 */
export function hexdumpLines(bytes: Uint8Array, base = 0, perRow = 16, offsetDigits = 8): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += perRow) {
    const row = bytes.subarray(i, Math.min(bytes.length, i + perRow));
    let hex = '';
    let ascii = '';
    for (let j = 0; j < perRow; j++) {
      if (j > 0) hex += j % 8 === 0 ? '  ' : ' ';
      const b = row[j];
      hex += b === undefined ? '  ' : HEX[b]!;
      if (b !== undefined) ascii += printable(b);
    }
    lines.push(`${(base + i).toString(16).padStart(offsetDigits, '0')}  ${hex}  |${ascii}|`);
  }
  return lines;
}

/** Digits the offset column needs for offsets below `end`. */
export function offsetDigits(end: number): number {
  return Math.max(8, Math.max(1, end - 1).toString(16).length);
}
