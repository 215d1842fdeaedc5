// shmscope peek TARGET [--index I] [--json]: a System V queue's messages, without consuming them.
import type { Command } from 'commander';
import { msgCount, msgPeek, parseTarget, type Target } from '../../ipc';
import { hexdumpLines } from '../../shared/hexdump';
import { UserError } from '../errors';
import { num, table } from '../format';
import * as stdout from '../output';

function queue(text: string): Target & { kind: 'msg' } {
  const t = parseTarget(text, 'msg');
  if (t.kind === 'posix-mq') {
    throw new UserError('a POSIX message queue cannot be read without consuming its messages: only System V queues can be peeked');
  }
  if (t.kind !== 'msg') throw new UserError(`${text} is not a message queue: use msg:ID or key:0xKEY`);
  return t;
}

const preview = (data: Uint8Array) =>
  Array.from(data.subarray(0, 24), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');

export function register(program: Command): void {
  program
    .command('peek')
    .description('show the messages of a System V message queue without consuming them (msgrcv MSG_COPY)')
    .argument('<target>', 'msg:ID or key:0xKEY')
    .option('--index <i>', 'one message: 0 is the oldest')
    .option('--json', 'print JSON; message bytes as base64')
    .action(async (targetText: string, opts: { index?: string; json?: boolean }) => {
      const t = queue(targetText);
      if (opts.index !== undefined) {
        const index = num('--index', opts.index, 0x7fffffff);
        const m = msgPeek(t.id, index);
        if (opts.json) {
          await stdout.line(JSON.stringify({ index, type: m.type, size: m.data.length, data: Buffer.from(m.data).toString('base64') }));
        } else {
          await stdout.line(`message ${index}: type ${m.type}, ${m.data.length} bytes`);
          if (m.data.length > 0) await stdout.line(hexdumpLines(m.data).join('\n'));
        }
        return;
      }
      const count = msgCount(t.id);
      const messages = [];
      for (let i = 0; i < count; i++) {
        try {
          messages.push({ index: i, ...msgPeek(t.id, i) });
        } catch (e) {
          if ((e as { code?: string }).code === 'ENOMSG') break; // consumed meanwhile
          throw e;
        }
      }
      if (opts.json) {
        const out = messages.map((m) => ({ index: m.index, type: m.type, size: m.data.length, data: Buffer.from(m.data).toString('base64') }));
        await stdout.json(out);
      } else {
        await stdout.line(table(['INDEX', 'TYPE', 'SIZE', 'START'], messages.map((m) => [m.index, m.type, m.data.length, preview(m.data)])));
      }
    });
}
