// shmscope record TARGET [--hz N] [--duration D] [--range OFF:LEN]… [--schema S.shms [--type T]] [--sem TARGET | --no-sem] -o FILE.shmrec
import type { Command } from 'commander';
import { openObject, parseTarget } from '../../ipc';
import { semaphoresOf, startRecording } from '../../record';
import { parseRange, type RecordedRange } from '../../shared/record';
import { escapeControl as esc } from '../../shared/escape';
import { findType, formatDiagnostic } from '../../shared/schema';
import { UserError } from '../errors';
import { readRegularFile, SCHEMA_LIMIT } from '../input';
import { duration, size } from '../format';
import { loadSchema } from './decode';
import { schemaOptions, withSchemaOptions } from '../schema-options';

export function register(program: Command): void {
  withSchemaOptions(program
    .command('record'))
    .description('record a segment or POSIX shared memory object over time into a .shmrec (Ctrl+C ends it)')
    .argument('<target>', 'shm:ID, key:0xKEY or posix:/NAME')
    .requiredOption('-o, --output <file>', 'the recording to write (FILE.shmrec)')
    .option('--hz <n>', 'frames per second (0.1 to 1000)', '10')
    .option('--duration <d>', 'stop after this long (10s, 500ms, 5m, 1h; default: until Ctrl+C)')
    .option('--range <off:len>', 'record only these bytes (repeatable; decimal or 0x hex)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--schema <file>', 'the .shms schema whose [[seqlock]] makes each frame consistent (kept in the recording)')
    .option('--type <name>', 'the schema type the object holds (default: the schema\'s segment)')
    .option('--sem <target>', 'a semaphore set (sem:ID, key:0xKEY) or psem:/NAME whose values ride along (default: the set with the segment\'s key)')
    .option('--no-sem', 'record no semaphore values')
    .action(async (targetText: string, opts: { output: string; hz: string; duration?: string; range: string[]; schema?: string; type?: string; sem?: string | boolean; include?: string[]; define?: string[] }) => {
      const hz = Number(opts.hz);
      if (!Number.isFinite(hz) || hz < 0.1 || hz > 1000) throw new UserError(`--hz must be a number from 0.1 to 1000, not "${opts.hz}"`);
      const durationMs = opts.duration === undefined ? undefined : duration('--duration', opts.duration);
      const ranges: RecordedRange[] = opts.range.map((r) => {
        const got = parseRange(r);
        if (!got) throw new UserError(`--range must be OFF:LEN (like 0x40:1024), not "${r}"`);
        return got;
      });
      let schema;
      if (opts.schema) {
        const s = loadSchema(opts.schema, schemaOptions(opts));
        const errs = s.diagnostics.filter((d) => d.severity === 'error');
        if (errs.length) {
          for (const d of errs.slice(0, 20)) process.stderr.write(`${esc(formatDiagnostic(opts.schema, d))}\n`);
          throw new UserError(`the schema ${opts.schema} has ${errs.length} error${errs.length === 1 ? '' : 's'} (run shmscope check --schema ${opts.schema})`);
        }
        if (opts.type && !findType(s, opts.type)) throw new UserError(`no type "${opts.type}" in ${opts.schema}`);
        schema = { schema: s, file: opts.schema, text: readRegularFile(opts.schema, 'schema', SCHEMA_LIMIT).toString('utf8'), type: opts.type };
      } else if (opts.type) throw new UserError('--type needs --schema');
      const target = parseTarget(targetText, 'shm');
      const sem = typeof opts.sem === 'string' ? opts.sem : opts.sem === false ? undefined : semaphoresOf(target);
      // What only /proc reaches (regions, unlinked objects, rings) is found and opened first.
      const viaProc = target.kind === 'memfd' || target.kind === 'anon' || target.kind === 'file' || target.kind === 'unlinked' || target.kind === 'ring';
      const handle = viaProc ? await openObject(target) : undefined;
      const live = startRecording({ target, hz, ranges, schema, semaphores: sem, output: opts.output, handle }, { durationMs });
      const onSigint = () => live.stop();
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      const what = `${live.header.title}, ${size(live.header.size)} per frame at ${hz} Hz${live.header.seqlock ? `, under the seqlock ${live.header.seqlock.path}` : ''}${live.header.semaphores ? `, with ${live.header.semaphores.target}` : ''}`;
      process.stderr.write(`shmscope: recording ${what} to ${opts.output}${durationMs ? '' : ' (Ctrl+C ends it)'}\n`);
      try {
        const s = await live.done;
        const secs = (live.elapsedMs() / 1000).toFixed(1);
        process.stderr.write(`shmscope: recorded ${s.frames} frame${s.frames === 1 ? '' : 's'} in ${secs} s (${size(s.bytes)}; ${s.torn} torn, ${s.missed} missed) to ${opts.output}\n`);
      } finally {
        process.removeListener('SIGINT', onSigint);
        process.removeListener('SIGTERM', onSigint);
      }
    });
}
