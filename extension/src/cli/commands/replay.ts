// shmscope replay FILE.shmrec [--json | --csv FIELD…] [--schema S.shms [--type T]]
import type { Command } from 'commander';
import { openRecording } from '../../record';
import { changedRanges, fieldValue, FrameDecoder, RecordingError, type Recording } from '../../shared/record';
import type { CheckResult, JsonValue } from '../../shared/schema';
import { escapeControl as esc } from '../../shared/escape';
import { CutShort, UserError } from '../errors';
import { cutShort, decodeLimits, limitOptions } from '../limits';
import * as stdout from '../output';
import { size } from '../format';
import { loadSchema } from './decode';
import { schemaOptions, withSchemaOptions } from '../schema-options';

const write = (text: string) => stdout.write(text);

/** Opens a recording for a command; a file that is not one is a user error. */
export function openForCommand(file: string): { recording: Recording; close: () => void } {
  try {
    const { recording, file: f } = openRecording(file);
    return { recording, close: () => f.close() };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof RecordingError) throw new UserError(`${file}: ${e.message}`);
    if (code === 'ENOENT') throw new UserError(`cannot read ${file}: no such file`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`cannot read ${file}: permission denied`);
    if (typeof code === 'string') throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
    throw e;
  }
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A CSV cell: numbers as they are, text quoted when it needs to be. */
function cell(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '';
  const s = esc(typeof v === 'object' ? JSON.stringify(v) : String(v));
  return /[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The decoder for a command: the recording's own schema, or --schema over it. */
export function decoderFor(recording: Recording, opts: { schema?: string; type?: string; include?: string[]; define?: string[] }): FrameDecoder {
  if (opts.schema) {
    const schema = loadSchema(opts.schema, schemaOptions(opts));
    if (schema.diagnostics.some((d) => d.severity === 'error')) throw new UserError(`the schema ${opts.schema} has errors (run shmscope check --schema ${opts.schema})`);
    return new FrameDecoder(recording, { schema, type: opts.type });
  }
  return new FrameDecoder(recording);
}

export function register(program: Command): void {
  limitOptions(withSchemaOptions(program
    .command('replay')))
    .description('print a recording frame by frame: a summary, JSONL (--json) or chosen fields as CSV (--csv)')
    .argument('<file>', 'the recording (FILE.shmrec)')
    .option('--json', 'one decoded frame per line (JSONL)')
    .option('--csv <fields...>', 'these fields as CSV, one row per frame (hdr.head, slots[3].len, sem[0])')
    .option('--schema <file>', 'decode through this schema instead of the one the recording carries')
    .option('--type <name>', 'the schema type to decode')
    .action(async (file: string, opts: { json?: boolean; csv?: string[]; schema?: string; type?: string; include?: string[]; define?: string[]; maxElements?: string; maxValues?: string }) => {
      if (opts.json && opts.csv) throw new UserError('give --json or --csv, not both');
      const limits = decodeLimits({ ...opts, json: true });
      const decodeOptions = { maxArrayElements: limits.maxElements, maxWork: limits.maxValues };
      // The first frame a limit cut short: said once, after every frame is written (exit 4).
      let cut: ReturnType<typeof cutShort>;
      const { recording: rec, close } = openForCommand(file);
      try {
        const dec = decoderFor(rec, opts);
        const h = rec.header;
        if (opts.csv && !dec.type) throw new UserError(`${file} carries no schema: give --schema to name fields`);
        if (!opts.json && !opts.csv) {
          // The header comes from the file: its texts are escaped before they reach a terminal.
          await write(`${esc(h.title)} (${esc(h.target)}) on ${esc(h.host)}, from ${esc(h.start)}: ${rec.frameCount} frames over ${(rec.durationMs / 1000).toFixed(1)} s at ${h.hz} Hz, ${size(h.size)} per frame${h.seqlock ? `, seqlock ${esc(h.seqlock.path)}` : ''}${h.semaphores ? `, semaphores of ${esc(h.semaphores.target)}` : ''}${h.schema ? `, schema ${esc(h.schema.file)}${h.schema.type ? `#${esc(h.schema.type)}` : ''}` : ''}\n`);
          if (rec.framesLeftOut) await write(`more than ${rec.frameCount} frames: only the first ${rec.frameCount} are read\n`);
          if (rec.tornCount) await write(`${rec.tornCount} torn frame${rec.tornCount === 1 ? '' : 's'} (no stable seqlock generation within the frame's budget)\n`);
        }
        if (opts.csv) await write(`${['frame', 't_ms', ...opts.csv].map(cell).join(',')}\n`);
        let prev: Uint8Array | undefined;
        for (let i = 0; i < rec.frameCount; i++) {
          const d = opts.json || opts.csv || dec.type ? dec.decode(i, decodeOptions) : { frame: rec.seek(i), checks: [] as CheckResult[] };
          if (!cut && 'cut' in d) {
            const c = cutShort(d.cut ?? [], d.budgetSpent);
            if (c) cut = new CutShort(`frame ${i}: ${c.message}`);
          }
          const f = d.frame;
          const t = Number(f.timeMs.toFixed(3));
          if (opts.csv) {
            await write(`${[i, t, ...opts.csv.map((p) => fieldValue(d, p))].map(cell).join(',')}\n`);
            continue;
          }
          const ranges = prev ? changedRanges(prev, f.window) : [{ offset: 0, length: f.window.length }];
          prev = f.window.slice();
          // Window positions to object offsets (the window is the recorded ranges end to end).
          const toObject = (p: number) => {
            let base = 0;
            for (const r of h.ranges) {
              if (p < base + r.length) return r.offset + (p - base);
              base += r.length;
            }
            return p;
          };
          if (opts.json) {
            const line: { [k: string]: JsonValue } = { frame: i, t, time: new Date(h.startMs + f.timeMs).toISOString(), torn: f.torn };
            if (f.short) line.short = true;
            if (h.semaphores) line.sems = f.sems;
            if (d.json) line.decoded = d.json;
            else line.changes = ranges.map((r) => ({ offset: toObject(r.offset), hex: hex(f.window.subarray(r.offset, r.offset + r.length)) }));
            await write(`${JSON.stringify(line)}\n`);
            continue;
          }
          const failed = d.checks.filter((c) => c.ok === false).map((c) => `${c.kind} ${c.path}`);
          const changed = ranges.reduce((a, r) => a + r.length, 0);
          await write(`#${i}  ${(f.timeMs / 1000).toFixed(3)} s  ${changed} byte${changed === 1 ? '' : 's'} changed in ${ranges.length} range${ranges.length === 1 ? '' : 's'}${f.torn ? '  TORN' : ''}${h.semaphores ? `  sems ${f.sems.join(' ')}` : ''}${failed.length ? `  ✗ ${esc(failed.join(', '))}` : ''}\n`);
        }
        if (cut) throw cut;
      } catch (e) {
        if (e instanceof RecordingError) throw new UserError(`${file}: ${e.message}`);
        throw e;
      } finally {
        close();
      }
    });
}
