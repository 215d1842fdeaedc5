// "Import Types from a Program…": a program, library or debug file (or a process attached to the
// open inspector's object), then its types from a quick pick that searches, written as a schema by
// `shmscope import PROGRAM --type …` in a child process, as Import C Header as Schema… does.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatTarget, list, targetOf } from '../ipc';
import { InspectorPanel } from '../inspector/panel';
import { runCliJson } from '../lsp/client';

interface ProgramImportReport {
  output: string | null;
  types: number;
  skipped: string[];
  diagnostics: string[];
}

/** The processes attached to the object of the focused (or last focused) inspector. */
async function attachedProcesses(): Promise<{ pid: number; command: string; target: string }[]> {
  const target = InspectorPanel.active()?.options.target;
  if (!target) return [];
  const listing = await list();
  for (const objects of Object.values(listing)) {
    if (!Array.isArray(objects)) continue;
    for (const o of objects as unknown[]) {
      const t = targetOf(o);
      if (!t || formatTarget(t) !== target) continue;
      const by = (o as { attachedBy?: { pid: number; command: string }[] }).attachedBy ?? [];
      return by.map((a) => ({ ...a, target }));
    }
  }
  return [];
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
  const label = program.startsWith('pid:') ? `process ${program.slice(4)}` : path.basename(program);
  let names = types;
  if (!names?.length) {
    let all: { types: string[] };
    try {
      all = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Reading the types of ${label}`, cancellable: true },
        (_p, token) => runCliJson<{ types: string[] }>(['import', program, '--list-types', '--json'], token),
      );
    } catch (e) {
      if (e instanceof vscode.CancellationError) return;
      throw new Error(`cannot read the types of ${program}: ${(e as Error).message}`, { cause: e });
    }
    if (!all.types.length) throw new Error(`${program} has no types in its debug information`);
    const picked = await vscode.window.showQuickPick(all.types.map((n): vscode.QuickPickItem => ({ label: n })), {
      canPickMany: true,
      matchOnDescription: true,
      placeHolder: `Types of ${label} to import (with every type they use); type to search`,
    });
    names = picked?.map((p) => p.label);
    if (!names?.length) return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const base = (names.length === 1 ? names[0]!.split('::').pop()!.replace(/[^A-Za-z0-9_]+/g, '_') : path.basename(program).replace(/[^A-Za-z0-9_.-]+/g, '_')) || 'types';
  const target = to ?? await vscode.window.showSaveDialog({
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${base}.shms`) } : {}),
    filters: { 'Offset schema': ['shms'] },
    saveLabel: 'Save Schema',
  });
  if (!target) return;
  let result: ProgramImportReport;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Importing ${names.length} type(s) from ${label}`, cancellable: true },
      (_p, token) => runCliJson<ProgramImportReport>(['import', program, ...names.flatMap((n) => ['--type', n]), '-o', target.fsPath, '--json'], token),
    );
  } catch (e) {
    if (e instanceof vscode.CancellationError) return;
    // Reported by the command wrapper: logged, and shown with Show Log.
    throw new Error(`cannot import from ${program}: ${(e as Error).message}`, { cause: e });
  }
  await vscode.window.showTextDocument(target);
  const notes = [...result.skipped, ...result.diagnostics];
  void vscode.window.showInformationMessage(`Imported ${result.types} type declaration(s) from ${label} into ${path.basename(target.fsPath)}${notes.length ? ` (${notes.join('; ')})` : ''}.`);
}
