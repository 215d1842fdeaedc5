// The explorer's commands: copy, create, remove, semaphore post / wait / set / details, and peek
// (a peeked message opens read-only in the inspector).
// Each takes a tree node from a menu, or a target ("sem:5", a Target) plus options from a script or a
// test, asks only for what it was not given, and reports a failure through reportError.
import { existsSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { readConfig, SECTION } from '../config';
import type { ExplorerProvider, Node } from '../explorer';
import { hexKey, objectLabel, targetOf } from '../explorer/model';
import * as ipc from '../ipc';
import { escapeControl } from '../shared/escape';
import type { Target } from '../ipc/target';
import type { IpcRecord, NamespaceRef, SemRecord } from '../ipc/types';
import { openBytes } from '../inspector';
import { log, reportError } from '../log';
import { parseSize } from './parse';

type Arg = Node | Target | string | undefined;

/**
 * Asks for one value: the text is checked as it is typed by the same `parse` that turns it into
 * the value. Undefined when the prompt is dismissed. A half-answered prompt must not vanish when
 * focus moves, hence ignoreFocusOut.
 */
async function ask<T>(o: { title: string; prompt: string; value?: string; placeHolder?: string; parse: (text: string) => T | undefined; invalid: string }): Promise<T | undefined> {
  const text = await vscode.window.showInputBox({
    ignoreFocusOut: true,
    title: o.title,
    prompt: o.prompt,
    ...(o.value !== undefined ? { value: o.value } : {}),
    ...(o.placeHolder !== undefined ? { placeHolder: o.placeHolder } : {}),
    validateInput: (v) => (o.parse(v) === undefined ? o.invalid : undefined),
  });
  return text === undefined ? undefined : o.parse(text);
}

/** A number from `min` to `max` (decimal or 0x hex), or undefined. */
const numberIn = (min: number, max: number) => (v: string): number | undefined => {
  const n = ipc.parseNumber(v);
  return n !== undefined && n >= min && n <= max ? n : undefined;
};

/** The object a command argument names. */
export function targetFromArg(arg: Arg): Target {
  if (typeof arg === 'string') return ipc.parseTarget(arg);
  if (arg && 'type' in arg && arg.type === 'object') return targetOf(arg.record);
  if (arg && 'kind' in arg) return arg;
  throw new ipc.IpcError('EINVAL', 0, 'command', 'select an object in the Shared Memory explorer first');
}

/** Read-only text documents (peeked messages, semaphore details) under one scheme. */
class TextProvider implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'shmscope-text';
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }
  async show(name: string, text: string): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: TextProvider.scheme, path: `/${name}` });
    this.texts.set(uri.path, text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(doc, { preview: true });
  }
}

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

export interface CommandDeps {
  provider: ExplorerProvider;
}

export function activate(context: vscode.ExtensionContext, { provider }: CommandDeps): void {
  const texts = new TextProvider();
  const waits = new Waits();
  const config = () => readConfig(vscode.workspace.getConfiguration(SECTION));
  context.subscriptions.push(waits, vscode.workspace.registerTextDocumentContentProvider(TextProvider.scheme, texts));

  /** Registers a command whose failures are reported, never thrown at the caller. */
  const register = <A extends unknown[], R>(id: string, what: string, fn: (...args: A) => Promise<R> | R) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: A): Promise<R | undefined> => {
      try {
        return await fn(...args);
      } catch (e) {
        reportError(what, e);
        return undefined;
      }
    }));

  /** The freshest record for a target: the last listing, else a new one. */
  const recordOf = async (t: Target, fresh = false): Promise<IpcRecord | undefined> => {
    const find = (l: ipc.Listing | undefined) => {
      if (!l) return undefined;
      const all: IpcRecord[] = [...l.shm, ...l.sem, ...l.msg, ...l.posixShm, ...l.posixSem, ...l.posixMq, ...l.memfd, ...l.anon, ...l.file];
      const want = ipc.formatTarget(t);
      return all.find((r) => r.kind === t.kind && ipc.formatTarget(targetOf(r)) === want);
    };
    if (fresh) return find(await ipc.list());
    return find(provider.listing) ?? find(await ipc.list());
  };

  const copy = async (text: string, what: string): Promise<string> => {
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage(`Copied ${what} ${text}`, 3000);
    return text;
  };

  /** The record of another namespace's tree item (its ids repeat ours: it is never looked up by target). */
  const namespaced = (arg: Arg): (IpcRecord & { namespace: NamespaceRef }) | undefined =>
    arg && typeof arg === 'object' && 'type' in arg && arg.type === 'object' && 'namespace' in arg.record
      ? (arg.record as IpcRecord & { namespace: NamespaceRef }) : undefined;

  /** Remove… on an object of another namespace: named with its namespace, removed from inside it. */
  const removeNamespaced = async (r: IpcRecord & { namespace: NamespaceRef }): Promise<boolean> => {
    const where = `in namespace ${escapeControl(r.namespace.label)} (ipc ${r.namespace.ipc})`;
    const name = `${ipc.describeTarget(targetOf(r))} ${where}`;
    const attached = r.kind === 'shm' ? r.nattch : 0;
    const ok = await vscode.window.showWarningMessage(`Remove ${name}?`, { modal: true, detail: attached ? `${attached} process(es) of that namespace are attached.` : 'No process is attached.' }, 'Remove');
    if (ok !== 'Remove') return false;
    if (r.kind === 'shm' || r.kind === 'sem' || r.kind === 'msg') await ipc.nsRemove(r.namespace.pid, r.kind, r.id);
    else if (r.kind === 'posix-shm') {
      const file = `/proc/${r.namespace.pid}/root/dev/shm${r.name}`;
      const st = await lstat(file).catch(() => undefined);
      if (!st?.isFile() || st.ino !== r.id) throw new ipc.IpcError('ENOENT', 0, 'remove', `${name} no longer exists`);
      await unlink(file);
    } else throw new ipc.IpcError('EINVAL', 0, 'remove', `${name} cannot be removed`);
    log.info(`removed ${name}`);
    await provider.refresh();
    return true;
  };

  /** Another namespace's segment, copied whole by a thread that entered it, in a read-only tab (not live). */
  register('shmscope.namespace.openCopy', 'Open a Copy in the Inspector', async (arg: Arg) => {
    const r = namespaced(arg);
    if (!r || r.kind !== 'shm') throw new ipc.IpcError('EINVAL', 0, 'open', 'select a segment of another namespace in the Shared Memory explorer first');
    const MAX = 256 << 20;
    if (r.size > MAX) throw new ipc.IpcError('EFBIG', 0, 'open', `segment ${r.id} of namespace ${escapeControl(r.namespace.label)} is ${r.size} bytes: a copy holds at most ${MAX}`);
    const bytes = await ipc.nsShmRead(r.namespace.pid, r.id, 0, r.size);
    const title = `segment ${r.id} in ${escapeControl(r.namespace.label).slice(0, 40)} (copy)`;
    openBytes(`ns:${r.namespace.ipc}:shm:${r.id}`, title, bytes);
    log.info(`opened a copy of segment ${r.id} of IPC namespace ${r.namespace.ipc} (${bytes.length} bytes)`);
    return { bytes: bytes.length };
  });

  register('shmscope.copyKey', 'Copy Key', async (arg: Arg) => {
    const ns = namespaced(arg);
    if (ns && 'key' in ns && !('name' in ns)) return copy(hexKey(ns.key), 'key');
    const r = await recordOf(targetFromArg(arg));
    if (!r || 'name' in r) throw new ipc.IpcError('EINVAL', 0, 'copy', 'only System V objects have a key');
    return copy(hexKey(r.key), 'key');
  });
  register('shmscope.copyId', 'Copy Id', async (arg: Arg) => {
    const t = targetFromArg(arg);
    if ('name' in t) throw new ipc.IpcError('EINVAL', 0, 'copy', 'POSIX objects have a name, not an id');
    if ('path' in t) throw new ipc.IpcError('EINVAL', 0, 'copy', 'a shared file has a path, not an id');
    return copy(String(t.id), 'id');
  });
  register('shmscope.copyName', 'Copy Name', async (arg: Arg) => {
    const t = targetFromArg(arg);
    // A memfd is named by what its program gave memfd_create; the record has it.
    const rec = t.kind === 'memfd' ? await recordOf(t) : undefined;
    return copy('name' in t ? t.name : 'path' in t ? t.path : rec && 'name' in rec ? rec.name : ipc.formatTarget(t), 'name');
  });

  register('shmscope.createSegment', 'Create Segment', async (opts?: { key?: number; size?: number; mode?: number }) => {
    const key = opts?.key ?? await ask({
      title: 'Create Segment (1/3): key',
      prompt: 'System V key in hex or decimal; empty or 0 for a private segment (IPC_PRIVATE)',
      placeHolder: '0x52494e47',
      parse: (v) => (v.trim() === '' ? 0 : numberIn(0, 0xffffffff)(v)),
      invalid: 'a number from 0 to 0xffffffff',
    });
    if (key === undefined) return undefined;
    const size = opts?.size ?? await ask({
      title: 'Create Segment (2/3): size',
      prompt: 'Size in bytes; K, M and G suffixes multiply by 1024',
      value: '4096',
      parse: parseSize,
      invalid: 'a size such as 4096, 0x1000, 64K or 1M',
    });
    if (size === undefined) return undefined;
    const mode = opts?.mode ?? await ask({
      title: 'Create Segment (3/3): permissions',
      prompt: 'Permission bits in octal',
      value: '600',
      parse: (v) => (/^0?[0-7]{3}$/.test(v.trim()) ? parseInt(v.trim(), 8) : undefined),
      invalid: 'three octal digits such as 600 or 644',
    });
    if (mode === undefined) return undefined;
    const id = ipc.createShm({ key, size, mode });
    log.info(`created segment ${id} (key ${hexKey(key)}, ${size} bytes, mode 0${mode.toString(8)})`);
    await provider.refresh();
    return id;
  });

  register('shmscope.remove', 'Remove', async (arg: Arg) => {
    const ns = namespaced(arg);
    if (ns) return removeNamespaced(ns);
    const t = targetFromArg(arg);
    const r = await recordOf(t, true);
    if (!r) throw new ipc.IpcError('ENOENT', 0, 'remove', `${ipc.describeTarget(t)} no longer exists`);
    const name = `${ipc.describeTarget(t)}${'name' in r ? '' : ` (${objectLabel(r)})`}`;
    const attached = r.kind === 'shm' ? r.nattch : r.kind === 'posix-shm' || r.kind === 'posix-sem' ? r.attachedBy.length : 0;
    const who = r.kind === 'shm' || r.kind === 'posix-shm' || r.kind === 'posix-sem'
      ? r.attachedBy.map((a) => `${a.pid} ${a.command}`).slice(0, 5).join(', ') : '';
    const detail = attached > 0
      ? `${attached} process${attached === 1 ? ' is' : 'es are'} attached${who ? ` (${who})` : ''}.`
      : 'No process is attached.';
    const ok = await vscode.window.showWarningMessage(`Remove ${name}?`, { modal: true, detail }, 'Remove');
    if (ok !== 'Remove') return false;
    if (attached > 0) {
      const again = await vscode.window.showWarningMessage(
        `${name} is in use by ${attached} process${attached === 1 ? '' : 'es'}. Remove it anyway?`,
        { modal: true, detail: r.kind === 'shm' ? 'The segment is marked for removal and goes when the last process detaches.' : 'Processes that have it open keep it until they close it.' },
        'Remove Anyway');
      if (again !== 'Remove Anyway') return false;
    }
    ipc.remove(t);
    log.info(`removed ${name}`);
    await provider.refresh();
    return true;
  });

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

  register('shmscope.semaphore.post', 'Semaphore Post', async (arg: Arg, opts?: { num?: number; count?: number }) => {
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

  register('shmscope.semaphore.setValue', 'Semaphore Set Value', async (arg: Arg, opts?: { num?: number; value?: number }) => {
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

  register('shmscope.semaphore.wait', 'Semaphore Wait', async (arg: Arg, opts?: { num?: number; timeoutMs?: number }) => {
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
      prompt: 'Give up after this many milliseconds',
      value: String(config().semaphoreWaitTimeoutMs),
      parse: numberIn(0, 86_400_000),
      invalid: 'milliseconds, 0 to 86400000',
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

  register('shmscope.runDemo', 'Run the Demo', async () => {
    // The demo lives in the project's checkout. From inside an editor it runs only the producer and
    // consumer (--no-editor: this window is the editor) and opens the demo's schema beside them.
    const schema = path.join(context.extensionPath, 'demo', 'workspace', 'ring.shms');
    if (!existsSync(schema)) {
      void vscode.window.showInformationMessage('The demo runs from a checkout of shmscope: `npm run demo` there.');
      return false;
    }
    const term = vscode.window.createTerminal({ name: 'shmscope demo', cwd: context.extensionPath });
    term.show();
    term.sendText('npm run demo -- --no-editor');
    await vscode.window.showTextDocument(vscode.Uri.file(schema), { preview: false, preserveFocus: true });
    return true;
  });

  register('shmscope.semaphore.cancelWait', 'Cancel Semaphore Wait', () => waits.cancelAll());

  register('shmscope.semaphore.showDetails', 'Show Semaphore Details', async (arg: Arg) => {
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

  register('shmscope.peekMessages', 'Peek Messages', async (arg: Arg, opts?: { index?: number }) => {
    const t = targetFromArg(arg);
    if (t.kind === 'posix-mq') {
      void vscode.window.showInformationMessage(`${t.name}: a POSIX queue cannot be read without consuming its messages, so it is not peeked.`);
      return undefined;
    }
    if (t.kind !== 'msg') throw new ipc.IpcError('EINVAL', 0, 'peek', `${ipc.describeTarget(t)} is not a message queue`);
    const rec = await recordOf(t, true);
    if (!rec || rec.kind !== 'msg') throw new ipc.IpcError('ENOENT', 0, 'msgctl', `message queue ${t.id} no longer exists`);
    const count = rec.messages;
    if (count === 0) {
      void vscode.window.showInformationMessage(`Message queue ${t.id} is empty.`);
      return [];
    }
    const max = Math.min(count, config().peekMaxMessages);
    const messages = Array.from({ length: max }, (_, i) => ({ index: i, ...ipc.msgPeek(t.id, i) }));
    let index = opts?.index;
    if (index === undefined) {
      const preview = (d: Uint8Array) => Array.from(d.subarray(0, 24), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      const pick = await vscode.window.showQuickPick(
        messages.map((m) => ({ label: `#${m.index}`, description: `type ${m.type} · ${m.data.length} bytes`, detail: preview(m.data), index: m.index })),
        { title: `Messages in queue ${t.id} (not consumed)${count > max ? ` — first ${max} of ${count}` : ''}`, placeHolder: 'Open a message’s bytes' },
      );
      if (!pick) return messages.map((m) => ({ type: m.type, size: m.data.length }));
      index = pick.index;
    }
    const m = messages[index];
    if (!m) throw new ipc.IpcError('ENOMSG', 0, 'msgrcv', `queue ${t.id} has no message ${index}`);
    // The message's bytes open read-only in the inspector (hex grid, data inspector, Copy As).
    openBytes(`msg:${t.id}#${index}`, `Queue ${t.id} · message ${index} (type ${m.type}, not consumed)`, m.data);
    return messages.map((x) => ({ type: x.type, size: x.data.length }));
  });
}
