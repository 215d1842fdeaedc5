// Editors that VS Code manages: a `.shmsnap` file opens in the inspector as a read-only custom
// editor (double-click, or Open With), and inspector tabs survive a window reload (a webview
// panel serializer): the tab reopens its object if it still exists, read-only, and says plainly
// when it does not. What the page saved of itself is untrusted: only a target text is taken from it.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import * as ipc from '../ipc';
import { log } from '../platform/log';
import { liveOptions, SNAPSHOT_PREFIX, snapshotOptions } from './index';
import { InspectorPanel, VIEW_TYPE } from './panel';

/** The custom editor of .shmsnap files (package.json contributes.customEditors). */
export const SNAPSHOT_EDITOR = 'shmscope.snapshot';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page with one sentence and no script, for a tab whose object cannot be shown. */
export function messageHtml(title: string, sentence: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>${escape(title)}</title>
</head>
<body>
<p role="alert" id="restore-problem">${escape(sentence)}</p>
</body>
</html>`;
}

/** Shows a sentence instead of an inspector in `panel`. */
function explain(panel: vscode.WebviewPanel, title: string, sentence: string): void {
  panel.webview.options = { enableScripts: false, localResourceRoots: [] };
  panel.title = title;
  panel.webview.html = messageHtml(title, sentence);
  log.info(`inspector: ${title}: ${sentence}`);
}

/** The target text a restored tab's saved state names, if it is one. */
export function savedTarget(state: unknown): string | undefined {
  const t = (state as { target?: unknown } | null | undefined)?.target;
  return typeof t === 'string' && t.length > 0 && t.length <= 4096 ? t : undefined;
}

/** Reopens what a tab showed before the window reloaded, in the panel VS Code restored. */
export async function restore(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
  const text = savedTarget(state);
  if (!text) return explain(panel, 'Inspector', 'This inspector tab could not be restored: it did not say what it showed. Open the object again from the Shared Memory view.');
  // Only a tab that said it showed a snapshot reopens one; a `file:` tab was a live file region.
  if (text.startsWith(SNAPSHOT_PREFIX)) {
    const path = text.slice(SNAPSHOT_PREFIX.length);
    if (!existsSync(path)) return explain(panel, path.split('/').pop() ?? path, `The snapshot ${path} no longer exists, so this tab cannot show it again.`);
    try {
      InspectorPanel.attach(context, panel, snapshotOptions(path));
    } catch (e) {
      explain(panel, path.split('/').pop() ?? path, `The snapshot ${path} cannot be shown: ${(e as Error).message}`);
    }
    return;
  }
  let target: ipc.Target;
  try {
    target = ipc.parseTarget(text);
  } catch {
    // A peeked message (msg:ID#N) was a copy taken at the time: there is nothing to reopen.
    return explain(panel, 'Inspector', `${text} was a copy of bytes taken when it was opened (a peeked message): peek the queue again to see it.`);
  }
  const title = ipc.describeTarget(target);
  const bytes = target.kind === 'shm' || target.kind === 'posix-shm' || target.kind === 'memfd' || target.kind === 'anon' || target.kind === 'file';
  if (!bytes || !ipc.exists(target)) {
    return explain(panel, title, `${title} no longer exists: it was removed while the window reloaded. Open another object from the Shared Memory view.`);
  }
  try {
    // Read-only whatever it was: writing again is a choice the user confirms each time.
    // A memfd or anonymous region is found again through /proc, or the error says it is gone.
    InspectorPanel.attach(context, panel, liveOptions(target, await ipc.openObject(target, { readWrite: false })));
  } catch (e) {
    explain(panel, title, `${title} cannot be opened again: ${(e as Error).message}`);
  }
}

/** .shmsnap files open here: each in an inspector tab, read-only. */
class SnapshotEditor implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly context: vscode.ExtensionContext) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const path = document.uri.fsPath;
    try {
      InspectorPanel.attach(this.context, panel, snapshotOptions(path, `editor:${path}`));
    } catch (e) {
      explain(panel, path.split('/').pop() ?? path, `${path} cannot be shown as a snapshot: ${(e as Error).message}`);
    }
  }
}

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(SNAPSHOT_EDITOR, new SnapshotEditor(context), { webviewOptions: { retainContextWhenHidden: true }, supportsMultipleEditorsPerDocument: false }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, { deserializeWebviewPanel: (panel, state) => restore(context, panel, state) }),
  );
}
