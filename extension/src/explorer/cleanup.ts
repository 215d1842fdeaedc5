// Clean Up Leftovers…: a modal lists exactly the leftovers the explorer shows (its filter applies)
// and the bytes they free; only after the user confirms, each is checked again against a fresh
// listing (still there, same identity, still `leftover`) and removed, in another namespace too.
// An object `in use` or `unknown` is never removed. Progress with Cancel; every step in the log.
import * as vscode from 'vscode';
import { cleanupPrompt } from '../analysis/leftovers';
import { removeLeftover } from '../analysis/usage';
import { registerCommand } from '../platform/register';
import { log } from '../platform/log';
import type { ExplorerProvider } from './index';
import { formatSize, leftoverName, objectId } from './model';

/** What a clean-up did: the objects removed, the bytes freed, those skipped or failed with why. */
export interface CleanupResult {
  removed: string[];
  freed: number;
  skipped: string[];
  cancelled: boolean;
}

export function activate(context: vscode.ExtensionContext, provider: ExplorerProvider, units: () => 'binary' | 'bytes'): void {
  registerCommand(context, 'shmscope.cleanUpLeftovers', 'Clean Up Leftovers', async (): Promise<CleanupResult> => {
    const result: CleanupResult = { removed: [], freed: 0, skipped: [], cancelled: false };
    const size = (b: number) => formatSize(b, units());
    await vscode.window.withProgress({ location: { viewId: 'shmscope.explorer' }, title: 'Looking for leftovers' }, () => provider.refresh());
    const list = provider.visibleLeftovers();
    if (list.length === 0) {
      void vscode.window.showInformationMessage(provider.filter.text || provider.filter.onlyMine
        ? 'No leftovers match the filter.' : 'No leftovers: every object is in use, or whether it is could not be told.');
      return result;
    }
    const { message, detail } = cleanupPrompt(list, leftoverName, size);
    const button = `Remove ${list.length} ${list.length === 1 ? 'Object' : 'Objects'}`;
    const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, button);
    if (choice !== button) {
      result.cancelled = true;
      return result;
    }
    log.info(`clean up: removing ${list.length} leftover(s): ${list.map((c) => leftoverName(c.record)).join(', ')}`);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Removing leftovers', cancellable: true }, async (progress, token) => {
      // Time passed while the modal was open: judge again on a fresh listing.
      await provider.refresh();
      const now = new Map(provider.allLeftovers.map((c) => [objectId(c.record), c]));
      for (const c of list) {
        const name = leftoverName(c.record);
        if (token.isCancellationRequested) {
          result.cancelled = true;
          result.skipped.push(`${name}: cancelled`);
          continue;
        }
        progress.report({ message: name, increment: 100 / list.length });
        const fresh = now.get(objectId(c.record));
        if (!fresh) {
          result.skipped.push(`${name}: no longer a leftover`);
          log.info(`clean up: kept ${name}: it is gone or no longer a leftover`);
          continue;
        }
        try {
          const why = await removeLeftover(fresh.record);
          if (why !== null) throw new Error(why);
          result.removed.push(name);
          result.freed += fresh.bytes;
          log.info(`clean up: removed ${name} (${fresh.bytes} bytes): ${fresh.verdict.reasons.join('; ')}`);
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          result.skipped.push(`${name}: ${why}`);
          log.warn(`clean up: could not remove ${name}: ${why}`);
        }
      }
    });
    await provider.refresh();
    const summary = `Removed ${result.removed.length} ${result.removed.length === 1 ? 'leftover' : 'leftovers'}, freeing ${size(result.freed)}`
      + (result.skipped.length ? `; ${result.skipped.length} kept (see the log)` : '') + '.';
    log.info(`clean up: ${summary}`);
    void vscode.window.showInformationMessage(summary);
    return result;
  });
}
