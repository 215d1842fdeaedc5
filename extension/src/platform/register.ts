// The one way a command is registered: whichever feature owns it, a failure is logged (what was
// asked, the errno name, the sentence) and shown with a "Show Log" button (log.ts reportError), a
// cancellation is logged and not shown as an error, and nothing is thrown into the workbench.
import * as vscode from 'vscode';
import { log, reportError } from './log';

/** Whether a failure is the user (or a timeout they chose) stopping the command, not an error. */
const isCancel = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === 'ECANCELED';

/**
 * Registers command `id` (its title `what` names it in messages) in `context.subscriptions`.
 * Resolves to the body's result, or undefined when it failed.
 */
export function registerCommand<A extends unknown[], R>(context: vscode.ExtensionContext, id: string, what: string, body: (...args: A) => Promise<R> | R): void {
  context.subscriptions.push(wrapCommand(id, what, body));
}

/** The same wrapper as registerCommand, returned for a feature that gathers its own disposables. */
export function wrapCommand<A extends unknown[], R>(id: string, what: string, body: (...args: A) => Promise<R> | R): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: A): Promise<R | undefined> => {
    try {
      return await body(...args);
    } catch (e) {
      if (isCancel(e)) log.info(`${what}: cancelled (${e instanceof Error ? e.message : String(e)})`);
      else reportError(what, e);
      return undefined;
    }
  });
}
