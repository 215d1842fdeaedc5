// shmscope decode TARGET|--file PATH --schema FILE.shms [--type NAME] [--json]
import type { Command } from 'commander';
import path from 'node:path';
import { openShm, parseTarget, schemaIdentity, type Target } from '../../ipc';
import { processViews, threadLookup } from '../../ipc';
import { pointerNote } from '../../shared/address';
import {
  countChecks, compileSchema, decode, decodeJson, defaultSegment, findType, formatDiagnostic, segmentFor, typeErrors, type CheckResult, type CompileOptions, type DecodedNode,
  type Diagnostic, type Schema, type StructType,
} from '../../shared/schema';
import { schemaOptions, withSchemaOptions } from '../schema-options';
import { BufferSource, type ByteSource } from '../../shared/source';
import { UserError } from '../errors';
import { readRegularFile, SCHEMA_LIMIT, SNAPSHOT_LIMIT } from '../input';
import * as stdout from '../output';
import { escapeControl as esc } from '../../shared/escape';

/** Reads and compiles a schema file (a regular file of at most SCHEMA_LIMIT bytes), with `-I`/`-D`. */
export function loadSchema(file: string, options: CompileOptions = {}): Schema {
  return compileSchema(readRegularFile(file, 'schema', SCHEMA_LIMIT).toString('utf8'), path.resolve(file), options);
}

/** The segment declared `for` this target (by id first, then by key or POSIX name), if any. */
function boundSegment(schema: Schema, target: Target): StructType | undefined {
  if (target.kind === 'shm') {
    const byId = segmentFor(schema, { kind: 'id', value: target.id });
    if (byId) return byId;
  }
  const identity = schemaIdentity(target);
  return identity ? segmentFor(schema, identity) : undefined;
}

const mark = (c: CheckResult) => (c.ok === true ? '✓' : c.ok === false ? '✗' : '?');
function checkText(c: CheckResult): string {
  const detail = c.ok === true ? '' : ` expected ${JSON.stringify(c.expected)}, actual ${JSON.stringify(c.actual)}`;
  return `${mark(c)} ${c.kind}${detail}${c.message ? ` (${c.message})` : ''}`;
}

/** The readable tree: offset, name, type, value, checks; arrays show their first elements. */
function printTree(root: DecodedNode, maxElements: number, out: string[], checks: CheckResult[], diags: Diagnostic[]) {
  const width = Math.max(4, (root.offset + root.size).toString(16).length);
  const walk = (n: DecodedNode, indent: string) => {
    checks.push(...n.checks);
    diags.push(...n.diagnostics);
    // A struct or array shows its members below it; an empty array says so instead of a value.
    // A glibc primitive shows its state, not its internal members.
    const value = n.kind === 'array' && n.childCount === 0 ? ' = []' : n.childCount && n.kind !== 'offset' && !n.lock ? '' : ` = ${n.display}`;
    const cs = n.checks.map((c) => `  ${checkText(c)}`).join('');
    out.push(esc(`0x${n.offset.toString(16).padStart(width, '0')}  ${indent}${n.name}: ${n.type}${value}${cs}`));
    if (n.kind === 'text' || n.lock) return;
    const shown = n.kind === 'array' ? Math.min(n.childCount, maxElements) : n.childCount;
    for (let i = 0; i < shown; i += 1000) for (const c of n.children(i, Math.min(1000, shown - i))) walk(c, `${indent}  `);
    if (shown < n.childCount) out.push(`${' '.repeat(width + 4)}${indent}  … ${n.childCount - shown} more (use --json for all)`);
  };
  walk(root, '');
}

/** Does a type contain a glibc primitive (so its decode names owner threads)? */
function usesPrimitives(t: import('../../shared/schema').Type, depth = 0): boolean {
  if (depth > 32) return false;
  if (t.k === 'struct') return !!t.primitive || t.fields.some((f) => usesPrimitives(f.type, depth + 1));
  if (t.k === 'array') return usesPrimitives(t.elem, depth + 1);
  return false;
}

export function register(program: Command): void {
  withSchemaOptions(program
    .command('decode'))
    .description('decode a segment (or a snapshot file) through an offset schema')
    .argument('[target]', 'shm:ID, key:0xKEY or posix:/NAME (or use --file)')
    .requiredOption('--schema <file>', 'the .shms schema')
    .option('--file <path>', 'decode a file (a snapshot) instead of a live object')
    .option('--type <name>', 'the type to decode (default: the segment bound to the target, or the schema\'s segment)')
    .option('--json', 'JSON output (DESIGN.md §5)')
    .option('--max-elements <n>', 'array elements shown per array in the tree view', '16')
    .action(async (targetText: string | undefined, opts: { schema: string; file?: string; type?: string; json?: boolean; maxElements: string; include?: string[]; define?: string[] }) => {
      if (!targetText && !opts.file) throw new UserError('name a target (shm:ID, key:0xKEY, posix:/NAME) or --file PATH');
      if (targetText && opts.file) throw new UserError('give either a target or --file, not both');
      const schema = loadSchema(opts.schema, schemaOptions(opts));
      // The target is parsed once, here: `posix:ring` and `posix:/ring` are the same object.
      const target = targetText ? parseTarget(targetText, 'shm') : undefined;
      let type = opts.type ? findType(schema, opts.type) : target ? boundSegment(schema, target) : undefined;
      if (opts.type && !type) {
        const names = schema.structs.map((s) => s.name).filter((n) => !n.startsWith('('));
        throw new UserError(`no type "${opts.type}" in ${opts.schema}${names.length ? ` (it has ${names.join(', ')})` : ''}`);
      }
      type ??= defaultSegment(schema);
      if (!type) throw new UserError(`${opts.schema} has no segment declaration: name the type with --type`);
      // Errors in declarations the type does not use are reported, not a refusal; the type's own
      // errors travel with the fields they affect (the layout stops there).
      const mine = typeErrors(schema, type);
      const others = schema.diagnostics.filter((d) => d.severity === 'error' && !mine.includes(d));
      for (const d of [...mine, ...others].slice(0, 20)) process.stderr.write(`${esc(formatDiagnostic(opts.schema, d))}\n`);
      if (others.length) process.stderr.write(`${esc(`shmscope: note: ${others.length} error${others.length === 1 ? '' : 's'} in declarations ${type.name} does not use (run shmscope check --schema ${opts.schema})`)}\n`);
      const maxElements = Math.max(0, Number.parseInt(opts.maxElements, 10) || 0);

      let source: ByteSource & { close?(): void };
      if (opts.file) source = new BufferSource(readRegularFile(opts.file, 'snapshot', SNAPSHOT_LIMIT));
      else source = openShm(target!);
      try {
        // Who owns a decoded mutex (process, thread name, alive) comes from one thread scan, for a
        // live object only: the TIDs in a snapshot are those of the time it was taken.
        const threads = target && usesPrimitives(type) ? await threadLookup() : undefined;
        // A live object: values equal to an address of some process's mapping of it are flagged.
        let pointers: ((v: bigint) => string | undefined) | undefined;
        if (target) {
          const views = await processViews(target).catch(() => []);
          const size = source.size;
          const what = target.kind === 'posix-shm' ? 'object' : 'segment';
          if (views.length) pointers = (v) => pointerNote(v, views, size, what);
        }
        if (opts.json) {
          const r = decodeJson(schema, type, source, { threads, pointers });
          await stdout.json(r.json);
          return;
        }
        const r = decode(schema, type, source, { threads, pointers });
        const lines: string[] = [];
        const checks: CheckResult[] = [];
        const diags = [...r.diagnostics];
        if (r.root) printTree(r.root, maxElements, lines, checks, diags);
        const seen = new Set<string>();
        for (const l of lines) await stdout.line(l);
        const n = countChecks(checks);
        if (checks.length) await stdout.line(`checks: ${n.ok} passed, ${n.failed} failed${n.unknown ? `, ${n.unknown} unknown` : ''}`);
        for (const d of diags) {
          const line = esc(`${d.severity}: ${d.message}`);
          if (!seen.has(line)) await stdout.line(line);
          seen.add(line);
        }
      } finally {
        source.close?.();
      }
    });
}
