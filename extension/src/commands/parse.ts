// Parsing of what users type into the commands' prompts. No vscode import.
import { parseNumber } from '../ipc/target';

/** "4096", "0x1000", "64K", "1M", "2G" → bytes; undefined when not a positive safe size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*([kmg]i?b?)?\s*$/i.exec(text);
  if (!m) return undefined;
  const base = parseNumber(m[1]!);
  if (base === undefined) return undefined;
  const unit = (m[2] ?? '').charAt(0).toLowerCase();
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const n = base * mult;
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
