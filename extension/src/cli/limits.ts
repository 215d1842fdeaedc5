// Limits that cut a decode's output (`decode`, `replay`): their options, their defaults, and the
// one line a command prints when one of them left something out (exit status EXIT_CUT_SHORT).
import type { Command } from 'commander';
import { MAX_ARRAY_ELEMENTS, type CutArray } from '../shared/schema';
import { CutShort, UserError } from './errors';

/** Elements per array the tree shows unless --max-elements says otherwise. */
const TREE_ELEMENTS = 16;
/** Values one decode may produce unless --max-values says otherwise (DecodeOptions.maxWork). */
const MAX_VALUES = 5_000_000;

export interface DecodeLimits {
  /** Elements per array: shown (tree) or written (JSON). */
  maxElements: number;
  maxValues: number;
}

function count(text: string, option: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n)) throw new UserError(`${option} takes a whole number, not "${text}"`);
  return n;
}

/** The limits the options ask for (the tree's default differs from JSON's). */
export function decodeLimits(opts: { json?: boolean; maxElements?: string; maxValues?: string }): DecodeLimits {
  return {
    maxElements: opts.maxElements !== undefined ? count(opts.maxElements, '--max-elements') : opts.json ? MAX_ARRAY_ELEMENTS : TREE_ELEMENTS,
    maxValues: opts.maxValues !== undefined ? count(opts.maxValues, '--max-values') : MAX_VALUES,
  };
}

/** The one line for a decode that a limit cut short, naming the option that lifts it. */
export function cutShort(cut: readonly CutArray[], budget: number | undefined): CutShort | undefined {
  if (budget !== undefined) return new CutShort(`output cut short: decoding stopped after ${budget} values (--max-values raises the limit)`);
  if (!cut.length) return undefined;
  const first = cut[0]!;
  const most = Math.max(...cut.map((c) => c.total));
  const others = cut.length > 1 ? ` and ${cut.length - 1} more array${cut.length === 2 ? '' : 's'}` : '';
  return new CutShort(`output cut short: ${first.path || 'the array'} has ${first.total} elements, the first ${first.written} written${others} (--max-elements ${most} writes them all)`);
}

/** Adds --max-elements and --max-values to a command. */
export function limitOptions(c: Command): Command {
  return c
    .option('--max-elements <n>', `elements per array: shown in the tree (default ${TREE_ELEMENTS}), written with --json (default ${MAX_ARRAY_ELEMENTS}); past it, exit 4`)
    .option('--max-values <n>', `values one decode may produce (default ${MAX_VALUES}; fixed-layout arrays count once); past it, exit 4`);
}
