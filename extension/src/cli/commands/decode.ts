// shmscope decode TARGET|--file PATH --schema FILE.shms [--type NAME] [--json]
// shmscope decode FILE.shmrec [--at TIME|#FRAME] [--schema FILE.shms] [--type NAME] [--json]
import type { Command } from 'commander';
import path from 'node:path';
import { namespacePid, nsShmRead, nsShmStat, openObject, parseTarget, type ShmHandle, type Target } from '../../ipc';
import { ownerLookup, processViews, resolveBinding, Scope, subjectOf } from '../../analysis';
import { pointerNote } from '../../shared/address';
import {
  budgetSpent, countChecks, compileSchema, decode, decodeJson, defaultSegment, findType, formatDiagnostic, typeErrors, type CheckResult, type CompileOptions, type DecodedNode,
  type Diagnostic, type JsonValue, type Schema, type StructType, type Type,
} from '../../shared/schema';
import { parsePosition, RecordingError } from '../../shared/record';
import { decoderFor, openForCommand } from './replay';
import { schemaOptions, withSchemaOptions } from '../schema-options';
import { BufferSource, type ByteSource } from '../../shared/source';
import { UserError } from '../errors';
import { cutShort, decodeLimits, limitOptions, type DecodeLimits } from '../limits';
import { readRegularFile, SCHEMA_LIMIT, SNAPSHOT_LIMIT } from '../input';
import * as stdout from '../output';
import { escapeControl as esc } from '../../shared/escape';

/** Reads and compiles a schema file (a regular file of at most SCHEMA_LIMIT bytes), with `-I`/`-D`. */
export function loadSchema(file: string, options: CompileOptions = {}): Schema {
  return compileSchema(readRegularFile(file, 'schema', SCHEMA_LIMIT).toString('utf8'), path.resolve(file), options);
}

/** The segment declared `for` this target (by id first, then by key, POSIX name, memfd name, path or program), if any. */
export function boundSegment(schema: Schema, target: Target, handle?: ShmHandle): StructType | undefined {
  return resolveBinding([schema], subjectOf(target, handle))?.segment;
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
function usesPrimitives(t: Type, depth = 0): boolean {
  if (depth > 32) return false;
  if (t.k === 'struct') return !!t.primitive || t.fields.some((f) => usesPrimitives(f.type, depth + 1));
  if (t.k === 'array') return usesPrimitives(t.elem, depth + 1);
  return false;
}

export function register(program: Command): void {
  limitOptions(withSchemaOptions(program
    .command('decode')))
    .description('decode a segment (or a snapshot file) through an offset schema')
    .argument('[target]', 'shm:ID, key:0xKEY, posix:/NAME or a recording FILE.shmrec (or use --file)')
    .option('--schema <file>', 'the .shms schema (a recording carries its own)')
    .option('--at <position>', 'in a recording: the frame (#N), a time since its start (500ms, 12.5s, 5m, 1h, 1m30s) or an ISO-8601 time (2026-12-04T20:41:03Z)', '#0')
    .option('--file <path>', 'decode a file (a snapshot) instead of a live object')
    .option('--type <name>', 'the type to decode (default: the segment bound to the target, or the schema\'s segment)')
    .option('--json', 'JSON output (DESIGN.md §5)')
    .option('--namespace <pid>', 'a segment of the IPC namespace of process PID (a container)')
    .action(async (targetText: string | undefined, opts: DecodeCommandOptions & { file?: string; namespace?: string }) => {
      if (!targetText && !opts.file) throw new UserError('name a target (shm:ID, key:0xKEY, posix:/NAME) or --file PATH');
      if (targetText && opts.file) throw new UserError('give either a target or --file, not both');
      if (targetText && /\.shmrec$/i.test(targetText)) return decodeRecorded(targetText, opts);
      if (!opts.schema) throw new UserError('--schema FILE.shms is needed to decode a live object or a snapshot');
      const schemaFile = opts.schema;
      const schema = loadSchema(schemaFile, schemaOptions(opts));
      // The target is parsed once, here: `posix:ring` and `posix:/ring` are the same object.
      const target = targetText ? parseTarget(targetText, 'shm') : undefined;
      let source: ByteSource & { close?(): void };
      // The process whose namespace holds the object (--namespace), else ours.
      const pid = opts.namespace !== undefined ? namespacePid(opts.namespace) : undefined;
      if (opts.file) source = new BufferSource(readRegularFile(opts.file, 'snapshot', SNAPSHOT_LIMIT));
      else if (opts.namespace !== undefined) {
        // Another namespace's segment is read whole from a thread that entered it, then decoded here.
        if (pid === undefined) throw new UserError('--namespace takes a process id');
        if (target?.kind !== 'shm') throw new UserError('--namespace decodes System V segments (shm:ID)');
        const st = await nsShmStat(pid, target.id);
        if (!st) throw new UserError(`no segment ${target.id} in the IPC namespace of process ${pid}`);
        if (st.size > 1 << 30) throw new UserError(`segment ${target.id} is ${st.size} bytes: --namespace decodes at most 1 GiB`);
        source = new BufferSource(await nsShmRead(pid, target.id, 0, st.size));
      } else source = await openObject(target!);
      let type = opts.type ? findType(schema, opts.type) : target && opts.namespace === undefined ? boundSegment(schema, target, source as ShmHandle) : undefined;
      if (opts.type && !type) {
        const names = schema.structs.map((s) => s.name).filter((n) => !n.startsWith('('));
        throw new UserError(`no type "${opts.type}" in ${schemaFile}${names.length ? ` (it has ${names.join(', ')})` : ''}`);
      }
      type ??= defaultSegment(schema);
      if (!type) throw new UserError(`${schemaFile} has no segment declaration: name the type with --type`);
      // A layout the engine refuses (`ms_struct`, `scalar_storage_order`) is never decoded as another.
      if (type.k === 'struct' && type.refused) throw new UserError(`${type.name} has no layout: ${type.refused}`);
      // Errors in declarations the type does not use are reported, not a refusal; the type's own
      // errors travel with the fields they affect (the layout stops there).
      const mine = typeErrors(schema, type);
      const others = schema.diagnostics.filter((d) => d.severity === 'error' && !mine.includes(d));
      for (const d of [...mine, ...others].slice(0, 20)) process.stderr.write(`${esc(formatDiagnostic(schemaFile, d))}\n`);
      if (others.length) process.stderr.write(`${esc(`shmscope: note: ${others.length} error${others.length === 1 ? '' : 's'} in declarations ${type.name} does not use (run shmscope check --schema ${schemaFile})`)}\n`);
      const limits = decodeLimits(opts);

      try {
        // Who owns a decoded mutex (process, thread name, alive) comes from one thread scan, for a
        // live object only: the TIDs in a snapshot are those of the time it was taken.
        // Both in one scope: the mappers of this object (of the namespace --namespace names, else
        // ours), and the owners' TIDs counted in their PID namespace.
        const scope = new Scope();
        const views = target ? await processViews(target, scope, pid).catch(() => []) : [];
        const threads = target && usesPrimitives(type) ? await ownerLookup(views, scope) : undefined;
        // A live object: values equal to an address of some process's mapping of it are flagged.
        let pointers: ((v: bigint) => string | undefined) | undefined;
        if (target) {
          const size = source.size;
          const what = target.kind === 'posix-shm' ? 'object' : 'segment';
          if (views.length) pointers = (v) => pointerNote(v, views, size, what);
        }
        await printDecode(schema, type, source, { json: opts.json, ...limits, options: { threads, pointers } });
      } finally {
        source.close?.();
      }
    });
}

interface DecodeCommandOptions {
  schema?: string;
  type?: string;
  json?: boolean;
  maxElements?: string;
  maxValues?: string;
  at: string;
  include?: string[];
  define?: string[];
}

/**
 * Prints a decode as the tree or, with `json`, DESIGN.md §5 JSON (`extra` leads the JSON object).
 * Throws CutShort, once everything allowed is written, when a limit left something out.
 */
async function printDecode(schema: Schema, type: Type, source: ByteSource, opts: DecodeLimits & { json?: boolean; extra?: { [k: string]: JsonValue }; options?: Parameters<typeof decode>[3] }): Promise<void> {
  const options = { ...opts.options, maxWork: opts.maxValues };
  if (opts.json) {
    const r = decodeJson(schema, type, source, { ...options, maxArrayElements: opts.maxElements });
    await stdout.json({ ...opts.extra, ...r.json });
    const cut = cutShort(r.cut, r.budgetSpent);
    if (cut) throw cut;
    return;
  }
  const r = decode(schema, type, source, options);
  const lines: string[] = [];
  const checks: CheckResult[] = [];
  const diags = [...r.diagnostics];
  if (r.root) printTree(r.root, opts.maxElements, lines, checks, diags);
  const spent = r.root ? budgetSpent(r.root) : undefined;
  const seen = new Set<string>();
  for (const l of lines) await stdout.line(l);
  const n = countChecks(checks);
  if (checks.length) await stdout.line(`checks: ${n.ok} passed, ${n.failed} failed${n.unknown ? `, ${n.unknown} unknown` : ''}`);
  for (const d of diags) {
    const line = esc(`${d.severity}: ${d.message}`);
    if (!seen.has(line)) await stdout.line(line);
    seen.add(line);
  }
  // The tree shows the first elements of each array by design (it says how many more); only the
  // values budget cuts it short.
  const cut = cutShort([], spent);
  if (cut) throw cut;
}

/** `decode FILE.shmrec --at …`: one frame of a recording, through its schema (or --schema). */
async function decodeRecorded(file: string, opts: DecodeCommandOptions): Promise<void> {
  const { recording, close } = openForCommand(file);
  try {
    const dec = decoderFor(recording, opts);
    if (!dec.schema) throw new UserError(`${file} carries no schema: give --schema FILE.shms`);
    if (!dec.type) throw new UserError(opts.type ? `no type "${opts.type}" in the schema` : 'the schema has no segment declaration: name the type with --type');
    let index: number;
    try {
      index = parsePosition(recording, opts.at);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    let frame: ReturnType<typeof recording.seek>;
    try {
      frame = recording.seek(index);
    } catch (e) {
      // A damaged record is the file's fault, as replay says it: a user error, not a bug.
      if (e instanceof RecordingError) throw new UserError(`${file}: ${e.message}`);
      throw e;
    }
    const time = new Date(recording.header.startMs + frame.timeMs).toISOString();
    const limits = decodeLimits(opts);
    if (!opts.json) await stdout.line(`frame ${index} at ${(frame.timeMs / 1000).toFixed(3)} s (${time})${frame.torn ? ', torn' : ''}${frame.sems.length ? `, semaphores ${frame.sems.join(' ')}` : ''}`);
    const extra: { [k: string]: JsonValue } = { frame: index, t: Number(frame.timeMs.toFixed(3)), time, torn: frame.torn, ...(frame.sems.length ? { sems: frame.sems } : {}) };
    await printDecode(dec.schema, dec.type, new BufferSource(recording.objectBytes(frame)), { json: opts.json, ...limits, extra: { recording: extra } });
  } finally {
    close();
  }
}
