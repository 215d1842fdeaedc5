// shmscope dump TARGET [--offset N] [--length N] [--format hex|raw]
import type { Command } from 'commander';
import { describeTarget, openShm, parseTarget } from '../../ipc';
import { hexdumpLines, offsetDigits } from '../../shared/hexdump';
import { UserError } from '../errors';
import { num } from '../format';
import { write } from '../output';

const CHUNK = 1 << 20;

export function register(program: Command): void {
  program
    .command('dump')
    .description('print the bytes of a segment or POSIX shared memory object')
    .argument('<target>', 'shm:ID, key:0xKEY or posix:/NAME')
    .option('--offset <n>', 'first byte (decimal or 0x hex)', '0')
    .option('--length <n>', 'number of bytes (default: to the end)')
    .option('--format <format>', 'hex or raw (exactly the bytes)', 'hex')
    .action(async (targetText: string, opts: { offset: string; length?: string; format: string }) => {
      if (opts.format !== 'hex' && opts.format !== 'raw') throw new UserError(`--format must be hex or raw, not "${opts.format}"`);
      const target = parseTarget(targetText, 'shm');
      const handle = openShm(target);
      try {
        const total = handle.size;
        const offset = num('--offset', opts.offset);
        if (offset > total) throw new UserError(`--offset ${offset} is past the end (the object has ${total} bytes)`);
        const length = opts.length === undefined ? total - offset : num('--length', opts.length);
        if (offset + length > total) {
          throw new UserError(`--offset ${offset} --length ${length} goes past the end (the object has ${total} bytes)`);
        }
        const digits = offsetDigits(offset + length);
        const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, length)));
        for (let at = offset; at < offset + length; ) {
          const want = Math.min(buf.length, offset + length - at);
          const view = want === buf.length ? buf : buf.subarray(0, want);
          let got = 0;
          try {
            got = handle.readInto(view, at);
          } catch (e) {
            // Past the end now: the object shrank (a POSIX object can be truncated by anyone who may write it).
            if ((e as { code?: string }).code !== 'ERANGE') throw e;
          }
          if (got === 0) throw new UserError(`${describeTarget(target)} shrank to ${handle.size} bytes while it was being dumped (at byte ${at} of ${offset + length})`);
          const bytes = view.subarray(0, got);
          await write(opts.format === 'raw' ? bytes.slice() : `${hexdumpLines(bytes, at, 16, digits).join('\n')}\n`);
          at += got;
        }
      } finally {
        handle.close();
      }
    });
}
