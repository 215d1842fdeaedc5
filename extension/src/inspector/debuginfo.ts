// Bind Schema… "From the attached process's debug information…": the processes that map (or hold
// open) the tab's object, of our own namespaces, asked for their types by `shmscope import pid:N
// --list-types` in child processes while the pick is open (so the entry can say whether any has
// debug information before it is chosen); then the process, the type at offset 0 (a quick pick
// that searches), where to write the .shms, and the import itself, each long step with Cancel.
import * as vscode from 'vscode';
import { askSchemaFile, holdersOfTab, programTypes, writeProgramTypes } from '../commands/import-program';
import { log } from '../platform/log';

/** Processes asked at most (a region mapped by hundreds of workers is mostly one program). */
const MAX_PROCESSES = 8;
/** Processes asked at once (each is a CLI child reading DWARF). */
const AT_ONCE = 2;

/** A process mapping the object whose executable or libraries have debug information. */
export interface DebugProcess {
  pid: number;
  command: string;
  types: string[];
}

/** What the look-up found: the processes with types, or (when none) why, as a clause. */
export interface DebugInfo {
  found: DebugProcess[];
  why?: string;
}

/** A look-up under way; `cancel` ends its children (the result then rejects with a CancellationError). */
export interface DebugInfoCheck {
  readonly result: Promise<DebugInfo>;
  readonly settled: () => boolean;
  cancel(): void;
}

/** Starts asking the processes that map `target` (an inspector tab's target text) for their types. */
export function checkDebugInfo(target: string): DebugInfoCheck {
  const source = new vscode.CancellationTokenSource();
  let settled = false;
  const run = async (): Promise<DebugInfo> => {
    const holders = await holdersOfTab(target);
    if (!holders.length) return { found: [], why: 'no process of ours maps it or holds it open' };
    const queue = holders.slice(0, MAX_PROCESSES);
    const found: DebugProcess[] = [];
    const worker = async () => {
      for (let h = queue.shift(); h; h = queue.shift()) {
        if (source.token.isCancellationRequested) throw new vscode.CancellationError();
        try {
          const types = await programTypes(`pid:${h.pid}`, source.token);
          if (types.length) found.push({ pid: h.pid, command: h.command, types });
        } catch (e) {
          if (e instanceof vscode.CancellationError) throw e;
          log.info(`debug information of pid ${h.pid} (${h.command}), which maps ${target}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
    found.sort((a, b) => a.pid - b.pid);
    if (found.length) return { found };
    const asked = Math.min(holders.length, MAX_PROCESSES);
    return { found, why: `${asked === 1 ? 'the process' : `none of the ${asked} processes`} mapping it ${asked === 1 ? 'has no' : 'has'} debug information (build it with -g)` };
  };
  const result = run().finally(() => {
    settled = true;
    source.dispose();
  });
  // Nobody may await it (the user picks a file instead): its failure is logged, not unhandled.
  result.catch((e: unknown) => {
    if (!(e instanceof vscode.CancellationError)) log.warn(`debug information of the processes mapping ${target}: ${(e as Error).message}`);
  });
  return { result, settled: () => settled, cancel: () => source.cancel() };
}

/** What the Bind Schema entry says while and after the look-up runs. */
export function debugInfoDescription(info: DebugInfo | undefined): string {
  if (!info) return 'looking for debug information in the processes mapping it…';
  if (!info.found.length) return `unavailable: ${info.why ?? 'no debug information'}`;
  const [one] = info.found;
  return info.found.length === 1 && one ? `${one.command} (pid ${one.pid}): ${one.types.length} type(s)` : `${info.found.length} processes with debug information`;
}

/**
 * The rest of Bind Schema… once its debug-information entry is chosen: the process, the type, the
 * file; the schema is written by `shmscope import pid:N --type T -o FILE`. Undefined when the user
 * stops (or nothing has debug information, which a notification says).
 */
export async function bindFromDebugInfo(title: string, check: DebugInfoCheck): Promise<{ file: vscode.Uri; type: string } | undefined> {
  let info: DebugInfo;
  try {
    info = check.settled()
      ? await check.result
      : await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Reading the debug information of the processes mapping ${title}`, cancellable: true },
          (_p, token) => {
            token.onCancellationRequested(() => check.cancel());
            return check.result;
          },
        );
  } catch (e) {
    if (e instanceof vscode.CancellationError) return undefined;
    throw new Error(`cannot read the debug information of the processes mapping ${title}: ${(e as Error).message}`, { cause: e });
  }
  if (!info.found.length) {
    void vscode.window.showInformationMessage(`No schema from debug information for ${title}: ${info.why ?? 'none found'}.`);
    return undefined;
  }
  let proc = info.found[0]!;
  if (info.found.length > 1) {
    const pick = await vscode.window.showQuickPick(
      info.found.map((p) => ({ label: `$(server-process) ${p.command || '?'}`, description: `pid ${p.pid}`, detail: `${p.types.length} type(s) in its debug information`, p })),
      { title: `Bind Schema to ${title}: which process's debug information?`, ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    proc = pick.p;
  }
  const program = `pid:${proc.pid}`;
  const type = await vscode.window.showQuickPick(proc.types.map((n): vscode.QuickPickItem => ({ label: n })), {
    title: `Bind Schema to ${title}: which type of ${proc.command || `pid ${proc.pid}`} lies at offset 0?`,
    placeHolder: 'type to search',
    ignoreFocusOut: true,
  });
  if (!type) return undefined;
  const file = await askSchemaFile([type.label], program);
  if (!file) return undefined;
  const report = await writeProgramTypes(program, [type.label], file);
  if (!report) return undefined;
  const name = report.roots?.[type.label];
  if (!name) throw new Error(`${type.label} of pid ${proc.pid} is not a type of its own in the schema written to ${vscode.workspace.asRelativePath(file)}`);
  log.info(`inspector ${title}: ${type.label} of pid ${proc.pid} (${proc.command}) imported into ${file.fsPath} as ${name}`);
  return { file, type: name };
}
