// Message queue commands: Peek Messages reads a queue's messages without consuming them
// (msgrcv with MSG_COPY); the chosen message opens read-only in the inspector.
import * as vscode from 'vscode';
import { readConfig, SECTION } from '../platform/config';
import * as ipc from '../ipc';
import { openBytes } from '../inspector';
import { recordOf, targetFromArg, type CommandDeps } from './common';
import { registerCommand as register } from '../platform/register';

export function activate(context: vscode.ExtensionContext, { provider }: CommandDeps): void {
  const config = () => readConfig(vscode.workspace.getConfiguration(SECTION));
  register(context, 'shmscope.peekMessages', 'Peek Messages', async (arg: unknown, opts?: { index?: number }) => {
    const t = targetFromArg(arg);
    if (t.kind === 'posix-mq') {
      void vscode.window.showInformationMessage(`${t.name}: a POSIX queue cannot be read without consuming its messages, so it is not peeked.`);
      return undefined;
    }
    if (t.kind !== 'msg') throw new ipc.IpcError('EINVAL', 0, 'peek', `${ipc.describeTarget(t)} is not a message queue`);
    const rec = await recordOf(provider, t, true);
    if (!rec || rec.kind !== 'msg') throw new ipc.IpcError('ENOENT', 0, 'msgctl', `message queue ${t.id} no longer exists`);
    const count = rec.messages;
    if (count === 0) {
      void vscode.window.showInformationMessage(`Message queue ${t.id} is empty.`);
      return [];
    }
    const max = Math.min(count, config().peekMaxMessages);
    const messages = Array.from({ length: max }, (_, i) => ({ index: i, ...ipc.msgPeek(t.id, i) }));
    let index = opts?.index;
    if (index === undefined) {
      const preview = (d: Uint8Array) => Array.from(d.subarray(0, 24), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      const pick = await vscode.window.showQuickPick(
        messages.map((m) => ({ label: `#${m.index}`, description: `type ${m.type} · ${m.data.length} bytes`, detail: preview(m.data), index: m.index })),
        { title: `Messages in queue ${t.id} (not consumed)${count > max ? ` — first ${max} of ${count}` : ''}`, placeHolder: 'Open a message’s bytes' },
      );
      if (!pick) return messages.map((m) => ({ type: m.type, size: m.data.length }));
      index = pick.index;
    }
    const m = messages[index];
    if (!m) throw new ipc.IpcError('ENOMSG', 0, 'msgrcv', `queue ${t.id} has no message ${index}`);
    // The message's bytes open read-only in the inspector (hex grid, data inspector, Copy As).
    openBytes(`msg:${t.id}#${index}`, `Queue ${t.id} · message ${index} (type ${m.type}, not consumed)`, m.data);
    return messages.map((x) => ({ type: x.type, size: x.data.length }));
  });
}
