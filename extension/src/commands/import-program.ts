// "Import Types from a Program…": a program, library or debug file (or a process attached to the
// open inspector's object), then its types from a quick pick that searches, written as a schema by
// `shmscope import PROGRAM --type …` in a child process, as Import C Header as Schema… does. The
// inspector's Bind Schema… (inspector/debuginfo.ts) writes its schema through the same steps.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { list } from '../ipc';
import { holdersOfTarget, type ObjectHolder } from '../analysis/verdict';
import { InspectorPanel } from '../inspector/panel';
import { runCliJson } from '../lsp/client';

export interface ProgramImportReport {
  output: string | null;
  types: number;
  /** Each type asked for → its name in the schema written. */
  roots?: Record<string, string>;
  skipped: string[];
  diagnostics: string[];
}

/**
 * The processes that map (or hold open) the object an inspector tab shows, from the listing of our
 * own namespaces: their pids are ours to read, never another namespace's object's.
 */
export async function holdersOfTab(target: string): Promise<ObjectHolder[]> {
  return holdersOfTarget(await list(['shm', 'posix-shm', 'memfd', 'anon', 'file']), target);
}

/** How a message names what is read: `process 4242` or the file's name. */
export const programLabel = (program: string) => (program.startsWith('pid:') ? `process ${program.slice(4)}` : path.basename(program));

/** The names of every type in a program's (or `pid:N`'s) debug information, by the CLI in a child. */
export function programTypes(program: string, token: vscode.CancellationToken): Promise<string[]> {
  return runCliJson<{ types: string[] }>(['import', program, '--list-types', '--json'], token).then((r) => r.types);
}

/** Asks where to write a schema, proposing NAME.shms in the workspace folder. */
export async function askSchemaFile(names: string[], program: string): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const base = (names.length === 1 ? names[0]!.split('::').pop()!.replace(/[^A-Za-z0-9_]+/g, '_') : path.basename(program).replace(/[^A-Za-z0-9_.-]+/g, '_')) || 'types';
  return vscode.window.showSaveDialog({
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${base}.shms`) } : {}),
    filters: { 'Offset schema': ['shms'] },
    saveLabel: 'Save Schema',
  });
}

/** Writes the named types (and what they use) to `target`, with progress and Cancel; undefined when cancelled. */
export async function writeProgramTypes(program: string, names: string[], target: vscode.Uri): Promise<ProgramImportReport | undefined> {
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Importing ${names.length} type(s) from ${programLabel(program)}`, cancellable: true },
      (_p, token) => runCliJson<ProgramImportReport>(['import', program, ...names.flatMap((n) => ['--type', n]), '-o', target.fsPath, '--json'], token),
    );
  } catch (e) {
    if (e instanceof vscode.CancellationError) return undefined;
    // Reported by the command wrapper: logged, and shown with Show Log.
    throw new Error(`cannot import from ${program}: ${(e as Error).message}`, { cause: e });
  }
}

/** The processes attached to the object of the focused (or last focused) inspector. */
async function attachedProcesses(): Promise<{ pid: number; command: string; target: string }[]> {
  const target = InspectorPanel.active()?.options.target;
  if (!target) return [];
  return (await holdersOfTab(target)).map((h) => ({ pid: h.pid, command: h.command, target }));
}

/** The program to read: a process attached to the open object, or a file browsed to. */
async function pickInput(): Promise<string | undefined> {
  const procs = await attachedProcesses().catch(() => []);
  const browse = { label: '$(file-binary) Browse for a program, library or debug file…', input: '' };
  const items = [
    ...procs.map((p) => ({ label: `$(server-process) ${p.command || '?'}`, description: `pid ${p.pid}, attached to ${p.target}`, input: `pid:${p.pid}` })),
    browse,
  ];
  const pick = items.length === 1 ? browse : await vscode.window.showQuickPick(items, { placeHolder: 'Import types from the debug information of…' });
  if (!pick) return undefined;
  if (pick.input) return pick.input;
  const file = (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Read Types' }))?.[0];
  return file?.fsPath;
}

/**
 * Imports types from a program's debug information into a .shms. Scripts and tests may pass the
 * input (a path or `pid:N`), the type names and the target file, skipping the dialogs.
 */
export async function importProgramCommand(input?: string, types?: string[], to?: vscode.Uri): Promise<void> {
  const program = input ?? (await pickInput());
  if (!program) return;
  const label = programLabel(program);
  let names = types;
  if (!names?.length) {
    let all: string[];
    try {
      all = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Reading the types of ${label}`, cancellable: true },
        (_p, token) => programTypes(program, token),
      );
    } catch (e) {
      if (e instanceof vscode.CancellationError) return;
      throw new Error(`cannot read the types of ${program}: ${(e as Error).message}`, { cause: e });
    }
    if (!all.length) throw new Error(`${program} has no types in its debug information`);
    const picked = await vscode.window.showQuickPick(all.map((n): vscode.QuickPickItem => ({ label: n })), {
      canPickMany: true,
      matchOnDescription: true,
      placeHolder: `Types of ${label} to import (with every type they use); type to search`,
    });
    names = picked?.map((p) => p.label);
    if (!names?.length) return;
  }
  const target = to ?? (await askSchemaFile(names, program));
  if (!target) return;
  const result = await writeProgramTypes(program, names, target);
  if (!result) return;
  await vscode.window.showTextDocument(target);
  const notes = [...result.skipped, ...result.diagnostics];
  void vscode.window.showInformationMessage(`Imported ${result.types} type declaration(s) from ${label} into ${path.basename(target.fsPath)}${notes.length ? ` (${notes.join('; ')})` : ''}.`);
}
