// The options every command that reads a schema or a header shares: `-I DIR` (repeatable) and
// `-D NAME[=VALUE]` (repeatable), as a C compiler takes them.
import type { Command } from 'commander';
import type { CompileOptions } from '../shared/schema';
import { UserError } from './errors';

const collect = (v: string, all: string[]) => [...all, v];

/** Adds -I and -D to a command. */
export function withSchemaOptions(cmd: Command): Command {
  return cmd
    .option('-I, --include <dir>', 'search DIR for #include files (repeatable; before the system folders)', collect, [] as string[])
    .option('-D, --define <name[=value]>', 'define a macro, as cc -D does (repeatable)', collect, [] as string[]);
}

/** The compile options of `-I`/`-D`. */
export function schemaOptions(opts: { include?: string[]; define?: string[] }): CompileOptions {
  const defines: Record<string, string> = {};
  for (const d of opts.define ?? []) {
    const m = /^([A-Za-z_]\w*)(?:=(.*))?$/s.exec(d);
    if (!m) throw new UserError(`-D ${d}: expected NAME or NAME=VALUE`);
    defines[m[1]!] = m[2] ?? '';
  }
  return { includePath: opts.include ?? [], defines };
}
