// shmscope import HEADER.h [-I DIR]… [-D NAME[=VALUE]]… [-o OUT.shms] [--json] [--cpp "cc -E"] [--keep-going]
// shmscope import PROGRAM|LIBRARY|DEBUGFILE|pid:N [--type NAME]… [-o OUT.shms] [--json] [--all-types]
// The one implementation of header import: the editor's "Import C Header as Schema…" runs this
// command in a child process, so a big header never blocks the extension host.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { importHeader, MAX_TOKENS, systemIncludeDirs, type ImportResult } from '../../shared/schema';
import { escapeControl as esc } from '../../shared/escape';
import { UserError } from '../errors';
import { importProgram, isElf, listProgramTypes } from '../dwarf';
import { readRegularFile } from '../input';
import * as stdout from '../output';
import { schemaOptions, withSchemaOptions } from '../schema-options';

/** Largest header read (a preprocessed translation unit of a big project fits). */
const HEADER_LIMIT = 256 << 20;

/** The header preprocessed by the user's own compiler (`--cpp "cc -E"`), for exact fidelity with their flags. */
function runCpp(command: string, file: string, include: string[], define: string[]): string {
  const [exe, ...args] = command.trim().split(/\s+/);
  if (!exe) throw new UserError('--cpp needs a command, like "cc -E"');
  const run = (extra: string[]) => spawnSync(exe, [...args, ...extra, ...include.map((d) => `-I${d}`), ...define.map((d) => `-D${d}`), file], { encoding: 'utf8', maxBuffer: HEADER_LIMIT, timeout: 120_000 });
  // -dD keeps the #define lines in the output (gcc, clang and cpp have it): without it, every
  // numeric #define would be lost. A preprocessor that refuses it runs without.
  let r = args.includes('-dD') ? run([]) : run(['-dD']);
  if (!r.error && r.status !== 0 && !args.includes('-dD')) r = run([]);
  if (r.error) throw new UserError(`cannot run ${exe}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such command' : r.error.message}`);
  if (r.status !== 0) throw new UserError(`${command} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}`);
  return ownDefines(r.stdout, file);
}

/**
 * The preprocessed text with only the #define and #undef lines of the header and of the user's
 * headers it includes, as an import without --cpp keeps them: the compiler's predefined macros
 * and the system headers' (thousands) go. Where a line comes from is in the line markers
 * (`# 12 "wire.h" 1`).
 */
function ownDefines(text: string, header: string): string {
  const system = systemIncludeDirs().map((d) => `${d.replace(/\/+$/, '')}/`);
  let own = true;
  return text.split('\n').map((line) => {
    const marker = /^#\s*(?:line\s+)?\d+\s+"((?:[^"\\]|\\.)*)"/.exec(line);
    if (marker) {
      const from = marker[1]!;
      own = !from.startsWith('<') && (path.resolve(from) === header || !system.some((d) => path.resolve(from).startsWith(d)));
      return line;
    }
    return own || !/^\s*#\s*(define|undef)\b/.test(line) ? line : '';
  }).join('\n');
}

export interface ImportCommandOptions {
  output?: string;
  json?: boolean;
  cpp?: string;
  allTypes?: boolean;
  include?: string[];
  define?: string[];
  type?: string[];
  listTypes?: boolean;
  /** --max-tokens: the token limit (default MAX_TOKENS). */
  maxTokens?: string;
  /** --keep-going: a header's errors do not fail the import (it writes what it could either way). */
  keepGoing?: boolean;
}

function maxTokensOf(opts: ImportCommandOptions): number {
  if (opts.maxTokens === undefined) return MAX_TOKENS;
  const n = Number(opts.maxTokens);
  if (!/^\s*\d+\s*$/.test(opts.maxTokens) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`--max-tokens takes a whole number, not "${opts.maxTokens}"`);
  return n;
}

/** C++ source: its layouts come from the compiler's ABI, so only the program's debug information is exact. */
const CXX_EXT = /\.(hpp|hh|hxx|h\+\+|cpp|cc|cxx|ipp|tcc)$/i;
const CXX_TEXT = /^[ \t]*(?:namespace[ \t]+\w+[ \t]*\{|template[ \t]*<|class[ \t]+\w+[^;()]*\{|(?:public|private|protected)[ \t]*:)/m;

function refuseCxx(file: string, text: string | undefined): void {
  const plainText = text?.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  if (CXX_EXT.test(file) || (plainText !== undefined && CXX_TEXT.test(plainText))) {
    throw new UserError(`${file} is C++: its classes are laid out by the compiler's ABI (bases, vtables, templates), which a header cannot say exactly; build the program with -g and import from it: shmscope import PROGRAM --type NAME`);
  }
}

function writeOut(output: string, text: string) {
  try {
    writeFileSync(output, text);
  } catch (e) {
    throw new UserError(`cannot write ${output}: ${(e as Error).message}`);
  }
}

/**
 * Runs an import as the command does; returns what it wrote. A header the token limit cuts short
 * is refused (UserError, nothing written): a schema missing the types after that place would look
 * complete.
 */
export async function runImport(header: string, opts: ImportCommandOptions): Promise<ImportResult & { output?: string; program?: boolean; roots?: Record<string, string> }> {
  const file = path.resolve(header);
  if (/^pid:\d+$/.test(header) || isElf(file)) {
    const r = await importProgram(header, { types: opts.type ?? [], allTypes: opts.allTypes ?? false });
    if (opts.output) writeOut(opts.output, r.text);
    return { text: r.text, types: r.types.length, defines: 0, skipped: r.skipped, diagnostics: r.notes, refused: [], program: true, roots: r.roots, ...(opts.output ? { output: opts.output } : {}) };
  }
  if (opts.type?.length) throw new UserError(`--type picks types of a program or library built with -g; ${header} is not an ELF file`);
  const maxTokens = maxTokensOf(opts);
  let result: ImportResult;
  if (opts.cpp) {
    refuseCxx(file, undefined);
    result = importHeader(runCpp(opts.cpp, file, opts.include ?? [], opts.define ?? []), file, { allTypes: opts.allTypes ?? true, includePath: [], maxTokens });
  } else {
    const text = readRegularFile(file, 'header', HEADER_LIMIT).toString('utf8');
    refuseCxx(file, text);
    result = importHeader(text, file, { ...schemaOptions(opts), maxTokens, ...(opts.allTypes !== undefined ? { allTypes: opts.allTypes } : {}) });
  }
  if (result.tokenLimit) {
    throw new UserError(`${header}: ${result.tokenLimit}; nothing written (--max-tokens ${maxTokens * 2} reads twice as much, at a few hundred bytes of memory per token)`);
  }
  if (opts.output) writeOut(opts.output, result.text);
  return { ...result, ...(opts.output ? { output: opts.output } : {}) };
}

export function register(program: Command): void {
  withSchemaOptions(program
    .command('import'))
    .description('write an offset schema from a C header (its types, macros expanded, and numeric #defines), or from the debug information of a program, library, debug file or pid:N')
    .argument('<input>', 'the C header, or an ELF file built with -g, or pid:N')
    .option('--type <name>', 'from a program: import this type and what it uses (repeatable; app::Shared)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('-o, --output <file>', 'write the schema here (default: standard output)')
    .option('--json', 'a JSON report: {output, types, defines, skipped, diagnostics} (and text without -o)')
    .option('--cpp <command>', 'preprocess with this compiler instead (e.g. "cc -E"), with the -I/-D given')
    .option('--list-types', 'from a program: list the names of its types (one a line; --json: an array) instead of importing')
    .option('--all-types', "keep every type of the header's includes (of a program: every type), not only those its types use")
    .option('--keep-going', "a header's errors do not fail the import: exit 0 with what could be read (a type without a layout still exits 1)")
    .option('--max-tokens <n>', `tokens of a file and of the preprocessed header read at most (default ${MAX_TOKENS}); past it, nothing is written and the exit status is 1`)
    .action(async (header: string, opts: ImportCommandOptions) => {
      if (opts.listTypes) {
        if (!/^pid:\d+$/.test(header) && !isElf(path.resolve(header))) throw new UserError(`--list-types reads a program or library built with -g; ${header} is not an ELF file`);
        const names = await listProgramTypes(header);
        if (opts.json) await stdout.json({ types: names });
        else await stdout.write(names.map((n) => `${esc(n)}\n`).join(''));
        return;
      }
      const r = await runImport(header, opts);
      // A type the header lays out in a way the engine does not make is written without a layout
      // (so it never decodes) and the import fails: exit 1 after the report, one line naming each.
      const refusal = r.refused.length ? `${header}: ${r.refused.length === 1 ? 'a type has' : `${r.refused.length} types have`} no layout (${r.refused.join('; ')})` : undefined;
      // A header's errors (a declaration it could not read, a failed static_assert) fail the import
      // too, after writing what it could: the schema may lack or misplace what the errors are about.
      // --keep-going takes what could be read with exit 0. A program's notes are not errors.
      const errors = !r.program && !opts.keepGoing && r.diagnostics.length ? `${header}: ${r.diagnostics.length === 1 ? 'an error' : `${r.diagnostics.length} errors`} (the schema has what could be read; --keep-going exits 0 with it)` : undefined;
      if (opts.json) {
        await stdout.json({ output: r.output ?? null, types: r.types, defines: r.defines, skipped: r.skipped, diagnostics: r.diagnostics, refused: r.refused, ...(r.roots ? { roots: r.roots } : {}), ...(r.output ? {} : { text: r.text }) });
        if (refusal || errors) process.exitCode = 1;
        return;
      }
      if (!r.output) await stdout.write(r.text);
      for (const d of r.diagnostics) process.stderr.write(`${esc(`${header}:${d}`)}\n`);
      const summary = r.program
        ? `${r.output ? `wrote ${r.output}: ` : ''}${r.types} type declaration${r.types === 1 ? '' : 's'} from the debug information${r.skipped.length ? `; skipped ${r.skipped.length} the schema cannot express (--json lists them)` : ''}`
        : `${r.output ? `wrote ${r.output}: ` : ''}${r.types} type declaration${r.types === 1 ? '' : 's'}, ${r.defines} #define${r.defines === 1 ? '' : 's'}; skipped ${r.skipped.length} (functions, variables, other macros: --json lists them)`;
      process.stderr.write(`shmscope: ${esc(summary)}\n`);
      if (refusal) throw new UserError(refusal);
      if (errors) throw new UserError(errors);
    });
}
