// Wiring only: each feature module has its own activate(context, deps).
import * as vscode from 'vscode';
import * as commands from './commands';
import * as explorer from './explorer';
import * as inspector from './inspector';
import * as logging from './platform/log';
import * as schemaLanguage from './lsp/client';
import * as waits from './waits';
import { log } from './platform/log';

/** What the extension returns from activate: used by the editor tests and other extensions. */
export interface ShmscopeApi {
  /** Re-list objects now; resolves when the tree has the new listing. */
  refresh(): Promise<void>;
  /** The explorer's provider (tree nodes and items, exactly as the view shows them). */
  explorer: explorer.ExplorerProvider;
  /** The Waits view's provider (its last scan and tree, exactly as the view shows them). */
  waits: waits.WaitsProvider;
  /** The last lines of the "Shared Memory" log. */
  recentLog(): readonly string[];
  /** The folder of this extension's log files ("Shared Memory.log" is the channel's). */
  logUri: vscode.Uri;
}

export function activate(context: vscode.ExtensionContext): ShmscopeApi {
  try {
    // What each feature's activation costs, in the log: the path before the explorer's first rows.
    let mark = performance.now();
    const took: string[] = [];
    const timed = <T>(what: string, f: () => T): T => {
      const r = f();
      const now = performance.now();
      took.push(`${what} ${Math.round(now - mark)}`);
      mark = now;
      return r;
    };
    timed('logging', () => logging.activate(context));
    timed('inspector', () => inspector.activate(context));
    const { provider } = timed('explorer', () => explorer.activate(context));
    timed('commands', () => commands.activate(context, { provider }));
    const { provider: waitsProvider } = timed('waits', () => waits.activate(context, { explorer: provider }));
    timed('schema language', () => void schemaLanguage.activate(context).catch((e) => logging.reportError('starting the schema language server', e)));
    log.info(`activated (ms: ${took.join(', ')})`);
    return { refresh: () => provider.refresh(), explorer: provider, waits: waitsProvider, recentLog: () => log.recent(), logUri: context.logUri };
  } catch (e) {
    void vscode.window.showErrorMessage(`Shared Memory failed to start: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

export function deactivate(): Thenable<void> | undefined {
  // The language server is a child process: stop it cleanly; everything else is a disposable.
  return schemaLanguage.deactivate();
}
