// The "Shared Memory" log channel, and the one way an operation's failure reaches the user: the log
// gets what was asked, the errno name and the sentence; the user gets the sentence with "Show Log".
import * as vscode from 'vscode';
import { IpcError } from '../ipc';

let channel: vscode.LogOutputChannel | undefined;
/** The last lines logged, newest last: the editor tests read them through the extension's API. */
const recent: string[] = [];
const RECENT_MAX = 200;

function remember(level: string, line: string): void {
  recent.push(`[${level}] ${line}`);
  if (recent.length > RECENT_MAX) recent.splice(0, recent.length - RECENT_MAX);
}

export function activate(context: vscode.ExtensionContext): vscode.LogOutputChannel {
  channel = vscode.window.createOutputChannel('Shared Memory', { log: true });
  // The one command not registered through register.ts: that wrapper reports failures
  // through this log, and showing the log cannot fail.
  context.subscriptions.push(channel, vscode.commands.registerCommand('shmscope.showLog', () => channel?.show(true)));
  return channel;
}

/** The extension's log, as features write to it. */
export type Log = Pick<typeof log, 'info' | 'warn' | 'error'>;

export const log = {
  info(line: string): void {
    remember('info', line);
    channel?.info(line);
  },
  warn(line: string): void {
    remember('warning', line);
    channel?.warn(line);
  },
  error(line: string): void {
    remember('error', line);
    channel?.error(line);
  },
  recent(): readonly string[] {
    return recent;
  },
};

/** "semop on semaphore set 5 failed: EACCES (errno 13): <sentence>" */
export function describeFailure(what: string, e: unknown): string {
  if (e instanceof IpcError) {
    const detail = e.detail ? ` [${e.detail}]` : '';
    return `${what}: ${e.syscall} failed with ${e.code}${e.errno ? ` (errno ${e.errno})` : ''}: ${e.message}${detail}`;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return `${what}: ${err.message}${err.stack ? `\n${err.stack}` : ''}`;
}

/** The sentence a user sees for a failure. */
export function userMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Logs a failure of `what` (e.g. "Post semaphore set 5 #0") and shows an error notification with
 * a "Show Log" action. Never throws and does not wait for the notification.
 */
export function reportError(what: string, e: unknown): void {
  log.error(describeFailure(what, e));
  void vscode.window.showErrorMessage(`${what}: ${userMessage(e)}`, 'Show Log').then((pick) => {
    if (pick === 'Show Log') channel?.show(true);
  });
}
