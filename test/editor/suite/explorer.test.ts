/// <reference types="mocha" />
// In the extension host of a real workbench: the explorer lists what the test creates, refreshes,
// and its commands act on real kernel objects. Every object is removed in teardown, even on failure.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ShmscopeApi } from '../../../extension/src/extension';
import type { Node } from '../../../extension/src/explorer';
import * as ipc from '../../../extension/src/ipc';
import type { Target } from '../../../extension/src/ipc/target';
import { untilWithin } from '../../helpers/wait';

const EXT_ID = 'shmscope.shmscope';
let api: ShmscopeApi;
const created: Target[] = [];
const tag = `shmscope-edt-${process.pid}`;
let keySeq = 0;
/** Keys unlikely to clash with anything on the machine: 0x5ExxPPPP by pid. */
const freshKey = () => (0x5e000000 | ((++keySeq & 0xff) << 16) | (process.pid & 0xffff)) >>> 0;

function track<T extends Target>(t: T): T {
  created.push(t);
  return t;
}

const until = untilWithin(15_000);

/**
 * Every object item of the tree as the view shows it, in its kind's group: not the Leftovers
 * group, which repeats the objects whose verdict is `leftover` (in the tests' namespace, where
 * every process can be read, a fresh object nobody opens is one).
 */
function items(): { node: Node; item: vscode.TreeItem; group: string }[] {
  const out: { node: Node; item: vscode.TreeItem; group: string }[] = [];
  for (const g of api.explorer.getChildren()) {
    if (g.type !== 'group' || g.group.id === 'leftovers') continue;
    for (const node of api.explorer.getChildren(g)) {
      if (node.type === 'object') out.push({ node, item: api.explorer.getTreeItem(node), group: g.group.label });
    }
  }
  return out;
}

const labelOf = (i: vscode.TreeItem) => (typeof i.label === 'string' ? i.label : i.label?.label ?? '');
const find = (label: string) => items().find((x) => labelOf(x.item) === label);

suiteSetup(async () => {
  const ext = vscode.extensions.getExtension<ShmscopeApi>(EXT_ID);
  assert.ok(ext, `${EXT_ID} is loaded`);
  api = await ext.activate();
  await vscode.commands.executeCommand('workbench.view.extension.shmscope');
});

teardown(() => {
  for (const t of created.splice(0)) {
    try { if (ipc.exists(t)) ipc.remove(t); } catch { /* already gone */ }
  }
});

suite('Explorer', () => {
  test('shows objects of every kind in their groups, with labels, descriptions and context values', async () => {
    const shmKey = freshKey();
    const shmId = ipc.createShm({ key: shmKey, size: 8192, mode: 0o640 });
    track({ kind: 'shm', id: shmId });
    const semId = ipc.createSemSet({ key: 0, nsems: 2, values: [3, 0] });
    track({ kind: 'sem', id: semId });
    const msgId = ipc.createMsgQueue({ key: 0 });
    track({ kind: 'msg', id: msgId });
    ipc.msgSend(msgId, 1, new TextEncoder().encode('hello'));
    ipc.createPosixShm({ name: `/${tag}-obj`, size: 100 });
    track({ kind: 'posix-shm', name: `/${tag}-obj` });
    // One page of it in memory (its tooltip's memory, below).
    const h = ipc.openShm({ kind: 'posix-shm', name: `/${tag}-obj` }, { readWrite: true });
    try {
      h.write(0, new Uint8Array([1]));
    } finally {
      h.close();
    }

    ipc.createPosixSem({ name: `/${tag}-sem`, value: 4 });
    track({ kind: 'posix-sem', name: `/${tag}-sem` });

    await vscode.commands.executeCommand('shmscope.refresh');
    const shm = find(`key 0x${shmKey.toString(16).padStart(8, '0')} · id ${shmId}`);
    assert.ok(shm, 'the segment is listed');
    assert.equal(shm.group, 'System V Segments');
    assert.match(String(shm.item.description), /^8 KiB · 0 attached · .*root$/);
    assert.match(shm.item.contextValue ?? '', /^shm/);
    assert.ok(shm.item.tooltip instanceof vscode.MarkdownString && /\| mode \| 0640 \|/.test(shm.item.tooltip.value));

    const sem = find(`private · id ${semId}`);
    assert.ok(sem && sem.group === 'System V Semaphore Sets', 'the semaphore set is listed');
    assert.equal(sem.item.description, '2 sems · [3, 0] · root');
    assert.equal(sem.item.contextValue, 'sem');
    const msg = items().find((x) => x.group === 'Message Queues' && labelOf(x.item) === `private · id ${msgId}`);
    assert.ok(msg, 'the queue is listed');
    assert.equal(msg.item.description, '1 msg · 5 B · root');
    const pshm = find(`/${tag}-obj`);
    assert.ok(pshm && pshm.group === 'POSIX Shared Memory' && pshm.item.contextValue === 'posix-shm');
    // Its memory is read only when it is hovered (resolveTreeItem): one page written, nobody maps it.
    assert.doesNotMatch((pshm.item.tooltip as vscode.MarkdownString).value, /\*\*Memory\*\*/, 'not read before it is hovered');
    const hovered = await api.explorer.resolveTreeItem(pshm.item, pshm.node, new vscode.CancellationTokenSource().token);
    assert.match((hovered.tooltip as vscode.MarkdownString).value, /\n\n\*\*Memory\*\* resident 4 KiB · swapped \? · PSS \?$/);
    const psem = find(`/${tag}-sem`);
    assert.ok(psem && psem.group === 'POSIX Semaphores');
    assert.equal(psem.item.description, 'value 4 · root');

    // Other IPC namespaces (containers) get groups of their own between these; not counted here.
    const groups = api.explorer.getChildren().filter((g) => g.type !== 'namespace' && !(g.type === 'group' && g.group.id === 'leftovers')).map((g) => (g.type === 'group' ? g.group.label : g.type));
    assert.deepEqual(groups, ['System V Segments', 'POSIX Shared Memory', 'memfd Objects', 'Shared Anonymous Memory', 'Shared File Mappings', 'Kernel-Shared Rings', 'System V Semaphore Sets', 'POSIX Semaphores', 'Message Queues', 'Limits']);
    // POSIX Shared Memory's description ends with our /dev/shm's use.
    const posix = api.explorer.getChildren().find((g) => g.type === 'group' && g.group.id === 'posix-shm')!;
    assert.match(String(api.explorer.getTreeItem(posix).description), / · \/dev\/shm \S+ \S+ of \S+ \S+ \([\d.]+ %\)$/);
    const limits = api.explorer.getChildren().find((g) => g.type === 'group' && g.group.id === 'limits')!;
    assert.ok(api.explorer.getChildren(limits).some((n) => n.type === 'limit' && n.limit.name === 'shmmni'));
  });

  test('refresh picks up a new and a removed object; /dev/shm changes refresh on their own', async () => {
    const id = ipc.createShm({ key: 0, size: 4096 });
    const t = track({ kind: 'shm', id } as const);
    await vscode.commands.executeCommand('shmscope.refresh');
    assert.ok(find(`private · id ${id}`), 'new segment shown after Refresh');
    ipc.remove(t);
    await vscode.commands.executeCommand('shmscope.refresh');
    assert.equal(find(`private · id ${id}`), undefined, 'removed segment gone after Refresh');

    // No Refresh here: the /dev/shm watcher must notice.
    const name = `/${tag}-watch`;
    const seen = new Promise<void>((resolve) => {
      const sub = api.explorer.onDidRefresh((l) => { if (l.posixShm.some((r) => r.name === name)) { sub.dispose(); resolve(); } });
    });
    ipc.createPosixShm({ name, size: 64 });
    track({ kind: 'posix-shm', name });
    await Promise.race([seen, new Promise((_, rej) => setTimeout(() => rej(new Error('no refresh after a /dev/shm change within 10 s')), 10_000))]);
    assert.ok(find(name));
  });

  test('the periodic refresh (shmscope.refreshIntervalMs) shows a new segment without a Refresh', async () => {
    // The one test of the timer: every other editor test runs with it off (test/editor/run.mjs,
    // test/editor/ui/driver.ts). A System V segment does not touch /dev/shm, so only the timer
    // can bring it into the tree.
    const cfg = vscode.workspace.getConfiguration('shmscope');
    await cfg.update('refreshIntervalMs', 0, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('shmscope.refresh');
    const id = ipc.createShm({ key: 0, size: 4096 });
    track({ kind: 'shm', id });
    assert.equal(find(`private · id ${id}`), undefined, 'not shown before any refresh');
    try {
      await cfg.update('refreshIntervalMs', 200, vscode.ConfigurationTarget.Global);
      await until(`segment ${id} shown by the timer`, () => find(`private · id ${id}`));
    } finally {
      await cfg.update('refreshIntervalMs', 0, vscode.ConfigurationTarget.Global);
    }
  });

  test('filter by text and Clear Filter', async () => {
    const id = ipc.createShm({ key: 0, size: 4096 });
    track({ kind: 'shm', id });
    const other = ipc.createSemSet({ key: 0, nsems: 1 });
    track({ kind: 'sem', id: other });
    await vscode.commands.executeCommand('shmscope.refresh');
    try {
      await vscode.commands.executeCommand('shmscope.filter', `id ${id}`);
      // Only what matches the text: our segment, never the set; other objects whose text holds
      // "id N" (a ring's "pid N…" of any process on the machine) may match too.
      const shown = items().map((x) => labelOf(x.item));
      assert.ok(shown.includes(`private · id ${id}`), shown.join('\n'));
      assert.ok(!find(`private · id ${other}`), 'the set is filtered out');
    } finally {
      await vscode.commands.executeCommand('shmscope.clearFilter');
    }
    assert.ok(find(`private · id ${other}`));
  });
});

suite('Commands', () => {
  test('Create Segment makes one with the key, size and mode given', async () => {
    const key = freshKey();
    const id = await vscode.commands.executeCommand<number>('shmscope.createSegment', { key, size: 12288, mode: 0o644 });
    assert.equal(typeof id, 'number');
    track({ kind: 'shm', id });
    const rec = (await ipc.list()).shm.find((r) => r.id === id);
    assert.ok(rec);
    assert.equal(rec.key, key);
    assert.equal(rec.size, 12288);
    assert.equal(rec.mode, 0o644);
    assert.ok(find(`key 0x${key.toString(16).padStart(8, '0')} · id ${id}`), 'shown without a manual refresh');
  });

  test('Copy Key, Copy Id and Copy Metrics put the values on the clipboard', async () => {
    const key = freshKey();
    const id = ipc.createShm({ key, size: 4096 });
    track({ kind: 'shm', id });
    await vscode.commands.executeCommand('shmscope.refresh');
    const node = find(`key 0x${key.toString(16).padStart(8, '0')} · id ${id}`)!.node;
    await vscode.commands.executeCommand('shmscope.copyKey', node);
    assert.equal(await vscode.env.clipboard.readText(), `0x${key.toString(16).padStart(8, '0')}`);
    await vscode.commands.executeCommand('shmscope.copyId', node);
    assert.equal(await vscode.env.clipboard.readText(), String(id));
    // Copy Metrics (Prometheus): this machine's exposition, that segment counted.
    await vscode.commands.executeCommand('shmscope.copyMetrics');
    const metrics = await vscode.env.clipboard.readText();
    assert.match(metrics, /^# HELP shmscope_objects /m);
    assert.ok(Number(/^shmscope_objects\{kind="shm"\} (\d+)$/m.exec(metrics)?.[1]) >= 1, metrics.slice(0, 400));
  });

  test('Semaphore Post and Set Value change the value shown', async () => {
    const id = ipc.createSemSet({ key: 0, nsems: 2, values: [0, 0] });
    track({ kind: 'sem', id });
    await vscode.commands.executeCommand('shmscope.refresh');
    const node = find(`private · id ${id}`)!.node;
    assert.equal(await vscode.commands.executeCommand('shmscope.semaphore.post', node, { num: 1 }), true);
    assert.equal(find(`private · id ${id}`)!.item.description, '2 sems · [0, 1] · root');
    await vscode.commands.executeCommand('shmscope.semaphore.setValue', `sem:${id}`, { num: 0, value: 7 });
    assert.equal(find(`private · id ${id}`)!.item.description, '2 sems · [7, 1] · root');
    assert.deepEqual(ipc.semGet(id).values, [7, 1]);
    const name = `/${tag}-post`;
    ipc.createPosixSem({ name, value: 0 });
    track({ kind: 'posix-sem', name });
    await vscode.commands.executeCommand('shmscope.semaphore.post', `psem:${name}`);
    // Its value; nobody holds it open: marked a leftover where every process can be read (the
    // tests' namespace), not where some cannot (a busy machine's).
    assert.match(String(find(name)!.item.description), /^value 1 · root(?: · leftover)?$/);
  });

  test('a Wait on a zero semaphore can be cancelled, and times out', async () => {
    const id = ipc.createSemSet({ key: 0, nsems: 1, values: [0] });
    track({ kind: 'sem', id });
    const started = Date.now();
    const waiting = vscode.commands.executeCommand<string>('shmscope.semaphore.wait', `sem:${id}`, { num: 0, timeoutMs: 120_000 });
    await until('the wait to block in the kernel (ncnt 1)', () => ipc.semGet(id).ncnt[0] === 1);
    const n = await vscode.commands.executeCommand<number>('shmscope.semaphore.cancelWait');
    assert.equal(n, 1);
    assert.equal(await waiting, 'cancelled');
    assert.ok(Date.now() - started < 60_000);
    assert.equal(ipc.semGet(id).ncnt[0], 0, 'no waiter left behind');

    const t0 = Date.now();
    assert.equal(await vscode.commands.executeCommand('shmscope.semaphore.wait', `sem:${id}`, { num: 0, timeoutMs: 400 }), 'timeout');
    assert.ok(Date.now() - t0 >= 390, 'waited the timeout');
    assert.ok(api.recentLog().some((l) => l.includes(`semaphore 0 of set ${id}: timeout`)));

    ipc.semPost(id, 0);
    assert.equal(await vscode.commands.executeCommand('shmscope.semaphore.wait', `sem:${id}`, { num: 0, timeoutMs: 1000 }), 'acquired');
    assert.equal(ipc.semGet(id).values[0], 0);
  });

  test('Show Semaphore Details opens a read-only document; Peek Messages opens the bytes read-only in the inspector, consuming nothing', async () => {
    const semId = ipc.createSemSet({ key: 0, nsems: 2, values: [5, 6] });
    track({ kind: 'sem', id: semId });
    const details = await vscode.commands.executeCommand<string>('shmscope.semaphore.showDetails', `sem:${semId}`);
    assert.match(details, /^\s+1\s+6\s+0\s+0/m);
    assert.equal(vscode.window.activeTextEditor?.document.uri.scheme, 'shmscope-text');

    const msgId = ipc.createMsgQueue({ key: 0 });
    track({ kind: 'msg', id: msgId });
    ipc.msgSend(msgId, 3, new TextEncoder().encode('first'));
    ipc.msgSend(msgId, 9, new TextEncoder().encode('second message'));
    const listed = await vscode.commands.executeCommand('shmscope.peekMessages', `msg:${msgId}`, { index: 1 });
    assert.deepEqual(listed, [{ type: 3, size: 5 }, { type: 9, size: 14 }]);
    const state = await vscode.commands.executeCommand<{ size: number; readOnly: boolean } | undefined>('shmscope.inspector.state', `msg:${msgId}#1`);
    assert.ok(state, 'an inspector tab shows message 1');
    assert.equal(state.size, 14);
    assert.equal(state.readOnly, true);
    assert.equal((await ipc.list()).msg.find((r) => r.id === msgId)?.messages, 2, 'both messages still queued');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors'); // the tabs this test opened
  });

  test('the log records a permission error (an object of another user)', async function () {
    if (process.geteuid?.() !== 0) this.skip(); // needs root to act as another user
    const id = ipc.createSemSet({ key: 0, nsems: 1, values: [0], mode: 0o600 });
    track({ kind: 'sem', id });
    process.seteuid!(65534); // nobody: the set is root's, mode 0600
    let result: unknown;
    try {
      result = await vscode.commands.executeCommand('shmscope.semaphore.post', `sem:${id}`, { num: 0 });
    } finally {
      process.seteuid!(0);
    }
    assert.equal(result, undefined, 'the command reports instead of throwing');
    const line = api.recentLog().find((l) => l.includes('EACCES') && l.includes(`set ${id}`));
    assert.ok(line, `log has an EACCES line for set ${id}: ${api.recentLog().slice(-3).join(' | ')}`);
    assert.match(line, /^\[error\] Semaphore Post: semop failed with EACCES \(errno 13\): /);
    // …and the real LogOutputChannel wrote it to its file.
    const file = path.join(api.logUri.fsPath, 'Shared Memory.log');
    const text = await until(`the line in ${file}`, () => {
      const t = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return t.includes(`semop failed with EACCES`) && t.includes(`set ${id}`) ? t : undefined;
    });
    assert.match(text, /\[error\] Semaphore Post: semop failed with EACCES/);
    assert.equal(ipc.semGet(id).values[0], 0, 'value unchanged');
  });

  test('the extension host survives an object removed between listing and acting', async () => {
    const semId = ipc.createSemSet({ key: 0, nsems: 1 });
    const msgId = ipc.createMsgQueue({ key: 0 });
    await vscode.commands.executeCommand('shmscope.refresh');
    const semNode = find(`private · id ${semId}`)!.node;
    ipc.remove({ kind: 'sem', id: semId });
    ipc.remove({ kind: 'msg', id: msgId });
    const before = api.recentLog().length;
    assert.equal(await vscode.commands.executeCommand('shmscope.semaphore.post', semNode), undefined);
    assert.equal(await vscode.commands.executeCommand('shmscope.peekMessages', `msg:${msgId}`, { index: 0 }), undefined);
    assert.equal(await vscode.commands.executeCommand('shmscope.semaphore.showDetails', semNode), undefined);
    const errors = api.recentLog().slice(before).filter((l) => l.startsWith('[error]'));
    assert.ok(errors.length >= 2, `failures logged: ${errors.join(' | ')}`);
    assert.ok(errors.every((l) => /E(INVAL|IDRM|NOENT)/.test(l)), errors.join(' | '));
    await vscode.commands.executeCommand('shmscope.refresh');
    assert.equal(find(`private · id ${semId}`), undefined);
    assert.ok(vscode.extensions.getExtension(EXT_ID)?.isActive);
  });
});

suite('Waits view', () => {
  test('watches the schema files the shmscope.schemas setting names outside the workspace (no search per scan)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-edt-schemas-'));
    const file = path.join(dir, 'outside.shms');
    const segment = (name: string, key: string) => `segment ${name} for key ${key} { uint32_t head @ 0; };\n`;
    const config = vscode.workspace.getConfiguration('shmscope');
    writeFileSync(file, segment('One', '0x5e5e0001'));
    try {
      await config.update('schemas', { 'key:0x5e5e0001': file }, vscode.ConfigurationTarget.Global);
      const names = async () => {
        await api.waits.refresh();
        return (api.waits.schemasInUse ?? []).flatMap((s) => s.segments.map((t) => t.name)).sort().join(',');
      };
      await until('the setting\'s schema is read', async () => (await names()).includes('One'));
      // Changed on disk, outside the workspace: the watcher makes the next scan read it again.
      writeFileSync(file, segment('One', '0x5e5e0001') + segment('Two', '0x5e5e0002'));
      await until('the changed schema is read again', async () => (await names()).includes('One,Two'));
    } finally {
      await config.update('schemas', undefined, vscode.ConfigurationTarget.Global);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
