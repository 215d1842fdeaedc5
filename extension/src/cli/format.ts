// Small text helpers of the CLI: tables, sizes, modes, numbers from the command line.
import { parseNumber } from '../ipc';
import { UserError } from './errors';

/** Parses a decimal or 0x hex non-negative integer option, or fails with a line naming it. */
export function num(name: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = parseNumber(text);
  if (n === undefined || n > max) throw new UserError(`${name} must be a number (decimal or 0x hex) up to ${max}, not "${text}"`);
  return n;
}

export const mode = (m: number) => `0${m.toString(8).padStart(3, '0')}`;
export { hexKey } from '../ipc/target';

/** 1536 → "1.5 KiB". */
export function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** Left-aligned columns separated by two spaces; numeric columns right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '  (none)';
  const cells = [header, ...rows.map((r) => r.map(String))];
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
