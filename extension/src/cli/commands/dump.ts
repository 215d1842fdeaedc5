// shmscope dump TARGET [--offset N] [--length N] [--format hex|raw]
import type { Command } from 'commander';
import { describeTarget, namespacePid, nsShmRead, nsShmStat, openObject, parseTarget } from '../../ipc';
import { hexdumpLines, offsetDigits } from '../../shared/hexdump';
import { UserError } from '../errors';
import { num } from '../format';
import { write } from '../output';

const CHUNK = 1 << 20;

/** A segment of another IPC namespace as dump reads it: its size, and chunks copied by a thread inside it. */
async function namespaceHandle(pid: number, target: ReturnType<typeof parseTarget>) {
  if (target.kind !== 'shm') throw new UserError('--namespace dumps System V segments (shm:ID)');
  const id = target.id;
  const st = await nsShmStat(pid, id);
  if (!st) throw new UserError(`no segment ${id} in the IPC namespace of process ${pid}`);
  return {
    size: st.size,
    readInto: async (view: Uint8Array, at: number) => {
      const bytes = await nsShmRead(pid, id, at, Math.min(view.length, st.size - at));
      view.set(bytes);
      return bytes.length;
    },
    close: () => {},
  };
}

export function register(program: Command): void {
  program
    .command('dump')
    .description('print the bytes of a segment, POSIX shared memory object, memfd, shared anonymous region or shared file')
    .argument('<target>', 'shm:ID, key:0xKEY, posix:/NAME, memfd:INODE, anon:INODE or file:/PATH')
    .option('--namespace <pid>', 'a segment (shm:ID) of the IPC namespace of process PID (a container)')
    .option('--offset <n>', 'first byte (decimal or 0x hex)', '0')
    .option('--length <n>', 'number of bytes (default: to the end)')
    .option('--format <format>', 'hex or raw (exactly the bytes)', 'hex')
    .action(async (targetText: string, opts: { offset: string; length?: string; format: string; namespace?: string }) => {
      if (opts.format !== 'hex' && opts.format !== 'raw') throw new UserError(`--format must be hex or raw, not "${opts.format}"`);
      const target = parseTarget(targetText, 'shm');
      const handle = opts.namespace === undefined ? await openObject(target) : await namespaceHandle(namespacePid(opts.namespace), target);
      // Which way a region was reached (its fd, map_files, /proc/PID/mem): for SHMSCOPE_DEBUG only.
      if (process.env.SHMSCOPE_DEBUG && 'via' in handle) process.stderr.write(`shmscope: reading through ${String(handle.via)}\n`);
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
            got = await handle.readInto(view, at);
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
