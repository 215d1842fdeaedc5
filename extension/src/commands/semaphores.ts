// Semaphore commands: post, set a value, wait (progress with Cancel, also from the status bar,
// bounded by a timeout), cancel the waits, and show a set's details.
import * as vscode from 'vscode';
import { readConfig, SECTION } from '../platform/config';
import * as ipc from '../ipc';
import { hexKey } from '../ipc/target';
import type { SemRecord } from '../ipc/types';
import { log } from '../platform/log';
import { DURATION_FORMS, parseDuration } from '../shared/time';
import { targetFromArg, type CommandDeps } from './common';
import { ask, numberIn } from '../platform/prompt';
import { registerCommand as register } from '../platform/register';
import { TextProvider } from './texts';

/** Active semaphore waits, shown in the status bar; clicking it cancels them. */
class Waits implements vscode.Disposable {
  private readonly active = new Map<number, { label: string; abort: AbortController }>();
  private next = 1;
  readonly item = vscode.window.createStatusBarItem('shmscope.wait', vscode.StatusBarAlignment.Left, 100);
  constructor() {
    this.item.name = 'Shared Memory: Semaphore Wait';
    this.item.command = 'shmscope.semaphore.cancelWait';
  }
  add(label: string, abort: AbortController): () => void {
    const id = this.next++;
    this.active.set(id, { label, abort });
    this.update();
    return () => {
      this.active.delete(id);
      this.update();
    };
  }
  cancelAll(): number {
    const n = this.active.size;
    for (const w of this.active.values()) w.abort.abort();
    return n;
  }
  private update(): void {
    const labels = [...this.active.values()].map((w) => w.label);
    if (labels.length === 0) {
      this.item.hide();
      return;
    }
    this.item.text = `$(sync~spin) Waiting on ${labels.length === 1 ? labels[0] : `${labels.length} semaphores`}`;
    this.item.tooltip = `${labels.join('\n')}\nClick to cancel`;
    this.item.accessibilityInformation = { label: `Waiting on ${labels.join(', ')}. Activate to cancel.` };
    this.item.show();
  }
  dispose(): void {
    this.cancelAll();
    this.item.dispose();
  }
}

export function activate(context: vscode.ExtensionContext, { provider }: CommandDeps): void {
  const texts = new TextProvider();
  const waits = new Waits();
  const config = () => readConfig(vscode.workspace.getConfiguration(SECTION));
  context.subscriptions.push(waits, vscode.workspace.registerTextDocumentContentProvider(TextProvider.scheme, texts));

  /** Which semaphore of a set: given, the only one, or picked showing each value. */
  const pickSemNum = async (rec: SemRecord, num: number | undefined, title: string): Promise<number | undefined> => {
    if (num !== undefined) return num;
    if (rec.nsems === 1) return 0;
    const pick = await vscode.window.showQuickPick(
      Array.from({ length: rec.nsems }, (_, i) => ({
        label: `#${i}`,
        description: `value ${rec.values[i] ?? '?'}`,
        detail: `ncnt ${rec.ncnt[i] ?? '?'}, zcnt ${rec.zcnt[i] ?? '?'}, last pid ${rec.pids[i] ?? '?'}`,
        num: i,
      })),
      { title, placeHolder: 'Semaphore number' },
    );
    return pick?.num;
  };

  register(context, 'shmscope.semaphore.post', 'Semaphore Post', async (arg: unknown, opts?: { num?: number; count?: number }) => {
    const t = targetFromArg(arg);
    if (t.kind === 'posix-sem') {
      ipc.psemPost(t.name);
      log.info(`posted ${t.name}`);
    } else if (t.kind === 'sem') {
      // With a number given, go straight to semop: no read permission is needed to post.
      const num = opts?.num ?? await pickSemNum(ipc.semGet(t.id), undefined, `Post to semaphore set ${t.id}`);
      if (num === undefined) return undefined;
      ipc.semPost(t.id, num, opts?.count ?? 1);
      log.info(`posted semaphore ${num} of set ${t.id}`);
    } else throw new ipc.IpcError('EINVAL', 0, 'post', `${ipc.describeTarget(t)} is not a semaphore`);
    await provider.refresh();
    return true;
  });

  register(context, 'shmscope.semaphore.setValue', 'Semaphore Set Value', async (arg: unknown, opts?: { num?: number; value?: number }) => {
    const t = targetFromArg(arg);
    if (t.kind !== 'sem') throw new ipc.IpcError('EINVAL', 0, 'semctl', 'only System V semaphores can be set (a POSIX semaphore can only be posted or waited on)');
    const rec = ipc.semGet(t.id);
    const num = await pickSemNum(rec, opts?.num, `Set a value in semaphore set ${t.id}`);
    if (num === undefined) return undefined;
    const value = opts?.value ?? await ask({
      title: `Set semaphore ${num} of set ${t.id}`,
      prompt: 'New value, 0 to 32767',
      value: String(rec.values[num] ?? 0),
      parse: numberIn(0, 32767),
      invalid: 'a number from 0 to 32767',
    });
    if (value === undefined) return undefined;
    ipc.semSetValue(t.id, num, value);
    log.info(`set semaphore ${num} of set ${t.id} to ${value}`);
    await provider.refresh();
    return true;
  });

  register(context, 'shmscope.semaphore.wait', 'Semaphore Wait', async (arg: unknown, opts?: { num?: number; timeoutMs?: number }) => {
    const t = targetFromArg(arg);
    if (t.kind !== 'sem' && t.kind !== 'posix-sem') throw new ipc.IpcError('EINVAL', 0, 'wait', `${ipc.describeTarget(t)} is not a semaphore`);
    let num = 0;
    if (t.kind === 'sem') {
      const picked = await pickSemNum(ipc.semGet(t.id), opts?.num, `Wait on semaphore set ${t.id}`);
      if (picked === undefined) return undefined;
      num = picked;
    }
    const timeoutMs = opts?.timeoutMs ?? await ask({
      title: 'Semaphore Wait: timeout',
      prompt: 'Give up after this long (500ms, 30s, 5m; a bare number is milliseconds)',
      value: String(config().semaphoreWaitTimeoutMs),
      parse: (v) => {
        const ms = parseDuration(v, 'ms');
        return ms !== undefined && ms <= 86_400_000 ? Math.ceil(ms) : undefined;
      },
      invalid: `a duration like ${DURATION_FORMS} (a bare number is milliseconds), at most 24h`,
    });
    if (timeoutMs === undefined) return undefined;
    const label = t.kind === 'sem' ? `semaphore ${num} of set ${t.id}` : t.name;
    const abort = new AbortController();
    const done = waits.add(label, abort);
    log.info(`waiting on ${label} for up to ${timeoutMs} ms`);
    void provider.refresh(); // ncnt now counts us
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Waiting on ${label}`, cancellable: true },
        async (_progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          if (t.kind === 'sem') await ipc.semWait(t.id, num, { timeoutMs, signal: abort.signal });
          else await ipc.psemWait(t.name, { timeoutMs, signal: abort.signal });
        },
      );
      log.info(`acquired ${label}`);
      void vscode.window.showInformationMessage(`Acquired ${label}.`);
      return 'acquired';
    } catch (e) {
      if (e instanceof ipc.IpcError && (e.code === 'ETIMEDOUT' || e.code === 'ECANCELED')) {
        const outcome = e.code === 'ETIMEDOUT' ? 'timeout' : 'cancelled';
        log.info(`wait on ${label}: ${outcome} (${e.message})`);
        void vscode.window.showWarningMessage(e.message);
        return outcome;
      }
      throw e;
    } finally {
      done();
      void provider.refresh();
    }
  });

  register(context, 'shmscope.semaphore.cancelWait', 'Cancel Semaphore Wait', () => waits.cancelAll());

  register(context, 'shmscope.semaphore.showDetails', 'Show Semaphore Details', async (arg: unknown) => {
    const t = targetFromArg(arg);
    let text: string;
    if (t.kind === 'sem') {
      const r = ipc.semGet(t.id);
      const rows = r.values.map((v, i) =>
        `${String(i).padStart(4)}  ${String(v).padStart(6)}  ${String(r.ncnt[i] ?? '?').padStart(5)}  ${String(r.zcnt[i] ?? '?').padStart(5)}  ${r.pids[i] ?? '?'}`);
      text = [
        `Semaphore set ${r.id}  key ${hexKey(r.key)}  owner ${r.user} (uid ${r.uid})  mode 0${r.mode.toString(8)}`,
        `last operation ${r.otime ?? 'never'}  last change ${r.ctime ?? '—'}`,
        '',
        '   #   value   ncnt   zcnt  last pid',
        ...rows,
        '',
        'ncnt: processes waiting for the value to grow; zcnt: processes waiting for it to reach zero.',
      ].join('\n');
    } else if (t.kind === 'posix-sem') {
      text = `POSIX semaphore ${t.name}\nvalue ${ipc.psemValue(t.name)}\n`;
    } else throw new ipc.IpcError('EINVAL', 0, 'details', `${ipc.describeTarget(t)} is not a semaphore`);
    await texts.show(`${ipc.formatTarget(t).replace(/[:/]/g, '-')}-details.txt`, text);
    return text;
  });

}
