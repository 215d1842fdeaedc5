// shmscope import HEADER.h [-I DIR]… [-D NAME[=VALUE]]… [-o OUT.shms] [--json] [--cpp "cc -E"]
// The one implementation of header import: the editor's "Import C Header as Schema…" runs this
// command in a child process, so a big header never blocks the extension host.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { importHeader, MAX_TOKENS, type ImportResult } from '../../shared/schema';
import { escapeControl as esc } from '../../shared/escape';
import { UserError } from '../errors';
import { readRegularFile } from '../input';
import * as stdout from '../output';
import { schemaOptions, withSchemaOptions } from '../schema-options';

/** Largest header read (a preprocessed translation unit of a big project fits). */
const HEADER_LIMIT = 256 << 20;

/** The header preprocessed by the user's own compiler (`--cpp "cc -E"`), for exact fidelity with their flags. */
function runCpp(command: string, file: string, include: string[], define: string[]): string {
  const [exe, ...args] = command.trim().split(/\s+/);
  if (!exe) throw new UserError('--cpp needs a command, like "cc -E"');
  const r = spawnSync(exe, [...args, ...include.map((d) => `-I${d}`), ...define.map((d) => `-D${d}`), file], { encoding: 'utf8', maxBuffer: HEADER_LIMIT, timeout: 120_000 });
  if (r.error) throw new UserError(`cannot run ${exe}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such command' : r.error.message}`);
  if (r.status !== 0) throw new UserError(`${command} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}`);
  return r.stdout;
}

export interface ImportCommandOptions {
  output?: string;
  json?: boolean;
  cpp?: string;
  allTypes?: boolean;
  include?: string[];
  define?: string[];
  /** --max-tokens: the token limit (default MAX_TOKENS). */
  maxTokens?: string;
}

function maxTokensOf(opts: ImportCommandOptions): number {
  if (opts.maxTokens === undefined) return MAX_TOKENS;
  const n = Number(opts.maxTokens);
  if (!/^\s*\d+\s*$/.test(opts.maxTokens) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`--max-tokens takes a whole number, not "${opts.maxTokens}"`);
  return n;
}

/**
 * Runs an import as the command does; returns what it wrote. A header the token limit cuts short
 * is refused (UserError, nothing written): a schema missing the types after that place would look
 * complete.
 */
export function runImport(header: string, opts: ImportCommandOptions): ImportResult & { output?: string } {
  const file = path.resolve(header);
  const maxTokens = maxTokensOf(opts);
  const result = opts.cpp
    ? importHeader(runCpp(opts.cpp, file, opts.include ?? [], opts.define ?? []), file, { allTypes: opts.allTypes ?? true, includePath: [], maxTokens })
    : importHeader(readRegularFile(file, 'header', HEADER_LIMIT).toString('utf8'), file, { ...schemaOptions(opts), maxTokens, ...(opts.allTypes !== undefined ? { allTypes: opts.allTypes } : {}) });
  if (result.tokenLimit) {
    throw new UserError(`${header}: ${result.tokenLimit}; nothing written (--max-tokens ${maxTokens * 2} reads twice as much, at a few hundred bytes of memory per token)`);
  }
  if (opts.output) {
    try {
      writeFileSync(opts.output, result.text);
    } catch (e) {
      throw new UserError(`cannot write ${opts.output}: ${(e as Error).message}`);
    }
  }
  return { ...result, ...(opts.output ? { output: opts.output } : {}) };
}

export function register(program: Command): void {
  withSchemaOptions(program
    .command('import'))
    .description('write an offset schema from a C header: its types (macros expanded) and numeric #defines; lists what it skipped')
    .argument('<header>', 'the C header')
    .option('-o, --output <file>', 'write the schema here (default: standard output)')
    .option('--json', 'a JSON report: {output, types, defines, skipped, diagnostics} (and text without -o)')
    .option('--cpp <command>', 'preprocess with this compiler instead (e.g. "cc -E"), with the -I/-D given')
    .option('--all-types', "keep every type of the header's includes, not only those its types use")
    .option('--max-tokens <n>', `tokens of a file and of the preprocessed header read at most (default ${MAX_TOKENS}); past it, nothing is written and the exit status is 1`)
    .action(async (header: string, opts: ImportCommandOptions) => {
      const r = runImport(header, opts);
      if (opts.json) {
        await stdout.json({ output: r.output ?? null, types: r.types, defines: r.defines, skipped: r.skipped, diagnostics: r.diagnostics, ...(r.output ? {} : { text: r.text }) });
        return;
      }
      if (!r.output) await stdout.write(r.text);
      for (const d of r.diagnostics) process.stderr.write(`${esc(`${header}:${d}`)}\n`);
      const summary = `${r.output ? `wrote ${r.output}: ` : ''}${r.types} type declaration${r.types === 1 ? '' : 's'}, ${r.defines} #define${r.defines === 1 ? '' : 's'}; skipped ${r.skipped.length} (functions, variables, other macros: --json lists them)`;
      process.stderr.write(`shmscope: ${esc(summary)}\n`);
    });
}
