// The editor side of the .shms language: starts dist/server.js through vscode-languageclient, and
// the "Import C Header as Schema…" command, which runs `shmscope import` (dist/cli.js) in a child
// process: one implementation with the CLI, and a big header never blocks the extension host.
import { fork } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommand } from '../platform/register';
import { reportError } from '../platform/log';
import type { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { readConfig, SECTION } from '../platform/config';
import { importProgramCommand } from '../commands/import-program';

let client: LanguageClient | undefined;
let cliPath = '';

const inlayHintsSetting = () => vscode.workspace.getConfiguration('shmscope').get<boolean>('schema.inlayHints', true);

/** `shmscope.schema.includePath`, relative folders resolved against the first workspace folder. */
export function schemaIncludePath(): string[] {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return readConfig(vscode.workspace.getConfiguration(SECTION)).schemaIncludePath.map((d) => (path.isAbsolute(d) || !root ? d : path.join(root, d)));
}

/**
 * The language client, made when the first `.shms` document opens: vscode-languageclient is half
 * of the extension's bundle and about a second of loading on a busy machine, which every window
 * would otherwise pay before the explorer's first rows.
 */
async function makeClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const { LanguageClient: Client, TransportKind } = await import('vscode-languageclient/node');
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'shms' }],
    synchronize: { configurationSection: 'shmscope' },
    initializationOptions: { inlayHints: inlayHintsSetting(), includePath: schemaIncludePath() },
  };
  return new Client('shmscope.schema', 'Shared Memory Schema', serverOptions, clientOptions);
}

/**
 * Registers the import command, and starts the language server when the first `.shms` document
 * opens (a window that never shows one never pays for the server's process, nor for its client's code).
 */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  cliPath = context.asAbsolutePath(path.join('dist', 'cli.js'));
  registerCommand(context, 'shmscope.importProgram', 'Import Types from a Program', (input?: string, types?: string[], to?: vscode.Uri) =>
    importProgramCommand(typeof input === 'string' ? input : undefined, Array.isArray(types) ? types.filter((t) => typeof t === 'string') : undefined, to instanceof vscode.Uri ? to : undefined));
  registerCommand(context, 'shmscope.importHeader', 'Import C Header as Schema', (uri?: vscode.Uri, to?: vscode.Uri) => importHeaderCommand(uri, to instanceof vscode.Uri ? to : undefined));
  context.subscriptions.push({ dispose: () => void client?.stop() });
  let started: Promise<void> | undefined;
  const isSchema = (d: vscode.TextDocument) => d.languageId === 'shms';
  const start = () => (started ??= makeClient(context).then((c) => {
    client = c;
    return c.start();
  }));
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument((d) => {
    if (isSchema(d)) start().catch((e) => reportError('starting the schema language server', e));
  }));
  if (vscode.workspace.textDocuments.some(isSchema)) await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

interface ImportReport {
  output: string | null;
  types: number;
  defines: number;
  skipped: string[];
  diagnostics: string[];
}

/**
 * Runs `shmscope import` in a child process; rejects with its one-line error. With --keep-going:
 * the header's errors come back in the report, which the command shows beside the written schema.
 */
function runImport(header: string, output: string, token: vscode.CancellationToken): Promise<ImportReport> {
  const cpp = readConfig(vscode.workspace.getConfiguration(SECTION)).schemaCpp;
  return runCliJson<ImportReport>(['import', header, '-o', output, '--json', '--keep-going', ...schemaIncludePath().flatMap((d) => ['-I', d]), ...(cpp ? ['--cpp', cpp] : [])], token);
}

/**
 * Runs the CLI (dist/cli.js) in a child process with `--json` among `args`, so big inputs never
 * block the extension host; resolves with its report, rejects with its one-line error.
 */
export function runCliJson<T>(args: string[], token: vscode.CancellationToken): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const cancel = token.onCancellationRequested(() => child.kill());
    child.on('error', (e) => {
      cancel.dispose();
      reject(e);
    });
    child.on('exit', (code, signal) => {
      cancel.dispose();
      if (token.isCancellationRequested) return reject(new vscode.CancellationError());
      if (code !== 0) return reject(new Error(err.trim().split('\n').at(-1)?.replace(/^shmscope: /, '') || `shmscope ${args[0]} failed (${signal ?? `exit ${code}`})`));
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`shmscope ${args[0]} gave no report`));
      }
    });
  });
}

/**
 * Writes a .shms beside a C header (or where the user says) and reports what was skipped. Scripts
 * and tests may pass the header and the target and skip both dialogs.
 */
async function importHeaderCommand(uri?: vscode.Uri, to?: vscode.Uri): Promise<void> {
  const header = uri ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'C headers': ['h', 'hpp', 'hh'] }, openLabel: 'Import' }))?.[0];
  if (!header) return;
  const target = to ?? await vscode.window.showSaveDialog({
    defaultUri: header.with({ path: header.path.replace(/\.(h|hpp|hh)$/i, '') + '.shms' }),
    filters: { 'Offset schema': ['shms'] },
    saveLabel: 'Save Schema',
  });
  if (!target) return;
  let result: ImportReport;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Importing ${path.basename(header.fsPath)}`, cancellable: true },
      (_p, token) => runImport(header.fsPath, target.fsPath, token),
    );
  } catch (e) {
    if (e instanceof vscode.CancellationError) return;
    // Reported by the command wrapper: logged, and shown with Show Log.
    throw new Error(`cannot import ${header.fsPath}: ${(e as Error).message}`, { cause: e });
  }
  await vscode.window.showTextDocument(target);
  const notes = [...result.skipped, ...result.diagnostics];
  if (notes.length === 0) {
    void vscode.window.showInformationMessage(`Imported ${path.basename(header.fsPath)} into ${path.basename(target.fsPath)}.`);
    return;
  }
  // The command is done once the schema is open; the details wait for the user, not the command.
  void vscode.window
    .showInformationMessage(
      `Imported ${path.basename(header.fsPath)}: ${result.types} type declaration(s), ${result.defines} #define(s); skipped ${result.skipped.length} item(s) that are not types or numeric #defines${result.diagnostics.length ? `, ${result.diagnostics.length} problem(s)` : ''}.`,
      'Show Details',
    )
    .then(async (choice) => {
      if (choice !== 'Show Details') return;
      const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: `Skipped while importing ${header.fsPath}:\n${notes.map((n) => `  ${n}`).join('\n')}\n` });
      await vscode.window.showTextDocument(doc, { preview: true });
    });
}
