// The editor side of the .shms language: starts dist/server.js through vscode-languageclient, and
// the "Import C Header as Schema…" command (pure engine, no server needed).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommand } from '../commands/register';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { importHeader } from '../shared/schema';

let client: LanguageClient | undefined;

const inlayHintsSetting = () => vscode.workspace.getConfiguration('shmscope').get<boolean>('schema.inlayHints', true);

/** Starts the language server and registers the import command. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'shms' }],
    synchronize: { configurationSection: 'shmscope' },
    initializationOptions: { inlayHints: inlayHintsSetting() },
  };
  client = new LanguageClient('shmscope.schema', 'Shared Memory Schema', serverOptions, clientOptions);
  registerCommand(context, 'shmscope.importHeader', 'Import C Header as Schema', (uri?: vscode.Uri) => importHeaderCommand(uri));
  context.subscriptions.push({ dispose: () => void client?.stop() });
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

/** Writes a .shms beside a C header (or where the user says) and reports what was skipped. */
async function importHeaderCommand(uri?: vscode.Uri): Promise<void> {
  const header = uri ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'C headers': ['h', 'hpp', 'hh'] }, openLabel: 'Import' }))?.[0];
  if (!header) return;
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(header));
  } catch (e) {
    throw new Error(`cannot read ${header.fsPath}: ${(e as Error).message}`, { cause: e });
  }
  const result = importHeader(text, path.basename(header.fsPath));
  const target = await vscode.window.showSaveDialog({
    defaultUri: header.with({ path: header.path.replace(/\.(h|hpp|hh)$/i, '') + '.shms' }),
    filters: { 'Offset schema': ['shms'] },
    saveLabel: 'Save Schema',
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(result.text));
  await vscode.window.showTextDocument(target);
  const notes = [...result.skipped, ...result.diagnostics];
  if (notes.length === 0) {
    void vscode.window.showInformationMessage(`Imported ${path.basename(header.fsPath)} into ${path.basename(target.fsPath)}.`);
    return;
  }
  const choice = await vscode.window.showInformationMessage(
    `Imported ${path.basename(header.fsPath)}; skipped ${result.skipped.length} item(s) that are not types or numeric #defines${result.diagnostics.length ? `, ${result.diagnostics.length} problem(s)` : ''}.`,
    'Show Details',
  );
  if (choice === 'Show Details') {
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: `Skipped while importing ${header.fsPath}:\n${notes.map((n) => `  ${n}`).join('\n')}\n` });
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}
