// Commands on any object: copy its key, id or name, create a segment, remove an object, and run
// the demo. Each takes a tree node from a menu, or a target ("shm:5", a Target) plus options from a
// script or a test, and asks only for what it was not given.
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { cliTarget, objectLabel } from '../explorer/model';
import * as ipc from '../ipc';
import { hexKey } from '../ipc/target';
import { log } from '../platform/log';
import { namespacedRecord, recordOf, targetFromArg, type CommandDeps } from './common';
import { removeNamespaced } from './namespaces';
import { parseSize } from './parse';
import { ask, numberIn } from '../platform/prompt';
import { registerCommand as register } from '../platform/register';

/** What Run the Demo needs, said when the extension was installed without them. */
export const DEMO_NEEDS = 'Run the Demo needs a checkout of shmscope (its demo/ C programs, scripts/demo.mjs and the built CLI), Node.js 20 or later and a C compiler (cc, gcc or clang). ' +
  'The installed extension ships none of them: clone shmscope, run `npm install` and `npm run demo` there; it starts the demo\'s producer and consumer and opens a window on them.';

export function activate(context: vscode.ExtensionContext, { provider }: CommandDeps): void {
  const copy = async (text: string, what: string): Promise<string> => {
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage(`Copied ${what} ${text}`, 3000);
    return text;
  };

  register(context, 'shmscope.copyKey', 'Copy Key', async (arg: unknown) => {
    // Another namespace's object has its key on its record (its ids repeat ours: not looked up).
    const ns = namespacedRecord(arg);
    if (ns && 'key' in ns && !('name' in ns)) return copy(hexKey(ns.key), 'key');
    const r = await recordOf(provider, targetFromArg(arg));
    if (!r || 'name' in r) throw new ipc.IpcError('EINVAL', 0, 'copy', 'only System V objects have a key');
    return copy(hexKey(r.key), 'key');
  });
  register(context, 'shmscope.copyId', 'Copy Id', async (arg: unknown) => {
    const t = targetFromArg(arg);
    if ('name' in t) throw new ipc.IpcError('EINVAL', 0, 'copy', 'POSIX objects have a name, not an id');
    if ('path' in t) throw new ipc.IpcError('EINVAL', 0, 'copy', 'a shared file has a path, not an id');
    if (t.kind === 'ring') throw new ipc.IpcError('EINVAL', 0, 'copy', 'a ring is named by its process and address, not an id');
    return copy(String(t.id), 'id');
  });
  register(context, 'shmscope.copyName', 'Copy Name', async (arg: unknown) => {
    const t = targetFromArg(arg);
    // A memfd is named by what its program gave memfd_create, an unlinked object by the name it had; the record has it.
    const rec = t.kind === 'memfd' || t.kind === 'unlinked' ? await recordOf(provider, t) : undefined;
    return copy('name' in t ? t.name : 'path' in t ? t.path : rec && 'name' in rec ? rec.name : ipc.formatTarget(t), 'name');
  });

  register(context, 'shmscope.copyTarget', 'Copy Target', async (arg: unknown) => {
    const r = namespacedRecord(arg) ?? (await recordOf(provider, targetFromArg(arg)));
    return copy(r ? cliTarget(r) : ipc.formatTarget(targetFromArg(arg)), 'target');
  });

  // The Prometheus exposition of this machine, as `shmscope metrics` prints it (to paste into a
  // ticket, or to try an alert's expression against).
  register(context, 'shmscope.copyMetrics', 'Copy Metrics (Prometheus)', async () => {
    const text = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Shared Memory: scanning for metrics' }, async () => (await import('../analysis/metrics')).metricsText());
    await vscode.env.clipboard.writeText(text);
    const series = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
    vscode.window.setStatusBarMessage(`Copied the metrics of this machine (${series} series)`, 3000);
    return text;
  });

  register(context, 'shmscope.createSegment', 'Create Segment', async (opts?: { key?: number; size?: number; mode?: number }) => {
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

  register(context, 'shmscope.remove', 'Remove', async (arg: unknown) => {
    const ns = namespacedRecord(arg);
    if (ns) return removeNamespaced(provider, ns);
    const t = targetFromArg(arg);
    const r = await recordOf(provider, t, true);
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

  register(context, 'shmscope.runDemo', 'Run the Demo', async () => {
    // The demo lives in the project's checkout. From inside an editor it runs only the producer and
    // consumer (--no-editor: this window is the editor) and opens the demo's schema beside them.
    const schema = path.join(context.extensionPath, 'demo', 'workspace', 'ring.shms');
    if (!existsSync(schema) || !existsSync(path.join(context.extensionPath, 'scripts', 'demo.mjs'))) {
      // The installed extension ships no C sources nor scripts: say what the demo needs.
      void vscode.window.showInformationMessage(DEMO_NEEDS);
      return false;
    }
    const term = vscode.window.createTerminal({ name: 'shmscope demo', cwd: context.extensionPath });
    term.show();
    term.sendText('npm run demo -- --no-editor');
    await vscode.window.showTextDocument(vscode.Uri.file(schema), { preview: false, preserveFocus: true });
    return true;
  });

}
