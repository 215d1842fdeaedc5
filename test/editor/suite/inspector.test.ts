/// <reference types="mocha" />
// In the extension host of a real workbench: the inspector's commands with target arguments (as
// keybindings and other extensions call them), one tab per object, read-write sessions, snapshot
// to a file, compare with the changed object, and reopening a snapshot. The page's own behaviour is
// driven in test/editor/ui/inspector.test.ts. Objects and files are removed in teardown.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import * as ipc from '../../../extension/src/ipc';
import { decodeSnapshot } from '../../../extension/src/shared/inspector/snapshot';
import { untilWithin } from '../../helpers/wait';

interface InspectorState {
  target: string;
  size: number;
  readOnly: boolean;
  removed: boolean;
  ready: boolean;
  stats: { reads: number; readBytes: number; dropped: number };
  canUndo: boolean;
}

const created: ipc.Target[] = [];
const handles: ipc.ShmHandle[] = [];
let dir = '';

const until = untilWithin(20_000);

const state = (key?: string) => vscode.commands.executeCommand<InspectorState | undefined>('shmscope.inspector.state', key);

/** Inspector tabs open in the window. */
function inspectorTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('shmscope.inspector'));
}

function segment(size: number): { target: ipc.Target & { kind: 'shm' }; h: ipc.ShmHandle } {
  const id = ipc.createShm({ key: 0, size, mode: 0o600 });
  const target = { kind: 'shm' as const, id };
  created.push(target);
  const h = ipc.openShm(target, { readWrite: true });
  handles.push(h);
  return { target, h };
}

suite('inspector commands', () => {
  suiteSetup(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-insp-'));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const h of handles.splice(0)) { try { h.close(); } catch { /* closed */ } }
    for (const t of created.splice(0)) { try { if (ipc.exists(t)) ipc.remove(t); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });

  test('opens one tab per object, reused when opened again, and the page reads from it', async () => {
    const { target, h } = segment(8192);
    h.write(0, new TextEncoder().encode('hello inspector'));
    const key = ipc.formatTarget(target);
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.openInspector', key), { target: key });
    const s = await until('the page reads', async () => { const st = await state(key); return st && st.stats.reads > 0 ? st : undefined; });
    assert.equal(s.readOnly, true);
    assert.equal(s.size, 8192);
    await vscode.commands.executeCommand('shmscope.openInspector', key);
    await vscode.commands.executeCommand('shmscope.openInspector', { kind: 'shm', id: target.id, size: 8192 }); // a record, as the explorer passes
    // Other suites' inspector tabs (a peeked message) may still be appearing: count this object's.
    assert.equal(inspectorTabs().filter((t) => t.label === `segment ${target.id}`).length, 1, 'one tab for the object');
  });

  test('read-write opens (confirmed by argument) in the same single tab, marked read-write', async () => {
    const { target } = segment(4096);
    const key = ipc.formatTarget(target);
    await vscode.commands.executeCommand('shmscope.openInspector', key);
    await until('read-only tab ready', async () => (await state(key))?.ready);
    await vscode.commands.executeCommand('shmscope.openInspectorReadWrite', key, { confirmed: true });
    const s = await until('read-write tab ready', async () => { const st = await state(key); return st?.ready && !st.readOnly ? st : undefined; });
    assert.equal(s.readOnly, false);
    await until('the tab is titled read-write', () => inspectorTabs().some((t) => t.label === `segment ${target.id} (read-write)`));
    assert.equal(inspectorTabs().filter((t) => t.label.startsWith(`segment ${target.id}`)).length, 1);
  });

  test('refuses targets that hold no bytes, and the host goes on', async () => {
    const sem = ipc.createSemSet({ key: 0, nsems: 1, values: [0] });
    created.push({ kind: 'sem', id: sem });
    const r = await vscode.commands.executeCommand('shmscope.openInspector', `sem:${sem}`);
    assert.equal(r, undefined);
    assert.equal(inspectorTabs().some((t) => t.label.includes(`${sem}`) && t.label.startsWith('semaphore')), false);
  });

  test('snapshots to a .shmsnap, compares with the changed object, and reopens the snapshot', async () => {
    const { target, h } = segment(3 * 65536);
    const key = ipc.formatTarget(target);
    h.write(100, new Uint8Array([1, 2, 3, 4]));
    await vscode.commands.executeCommand('shmscope.openInspector', key);
    await until('tab ready', async () => (await state(key))?.ready);
    const file = path.join(dir, 'seg.shmsnap');
    assert.equal(await vscode.commands.executeCommand('shmscope.inspector.snapshot', file), file);
    const snap = decodeSnapshot(new Uint8Array(readFileSync(file)));
    assert.equal(snap.header.target, key);
    assert.equal(snap.header.size, 3 * 65536);
    assert.deepEqual([...snap.bytes.subarray(100, 104)], [1, 2, 3, 4]);
    h.write(101, new Uint8Array([9]));
    h.write(70_000, new Uint8Array([7, 7]));
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.inspector.compareSnapshot', file), { ranges: 2, truncated: false });
    await vscode.commands.executeCommand('shmscope.openSnapshot', file);
    const s = await until('snapshot tab ready', async () => { const st = await state(`snapshot:${file}`); return st?.ready ? st : undefined; });
    assert.equal(s.readOnly, true);
    assert.equal(s.size, 3 * 65536);
  });

  test('a .shmsnap file opens in the inspector as a read-only custom editor (Open With, as a double-click does)', async () => {
    const { target, h } = segment(4096);
    const key = ipc.formatTarget(target);
    h.write(0, new TextEncoder().encode('from the file'));
    await vscode.commands.executeCommand('shmscope.openInspector', key);
    await until('tab ready', async () => (await state(key))?.ready);
    const file = path.join(dir, 'editor.shmsnap');
    assert.equal(await vscode.commands.executeCommand('shmscope.inspector.snapshot', file), file);
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'shmscope.snapshot');
    const s = await until('the custom editor\'s page reads', async () => { const st = await state(`editor:${file}`); return st?.ready && st.stats.reads > 0 ? st : undefined; });
    assert.equal(s.readOnly, true);
    assert.equal(s.size, 4096);
    assert.equal(s.target, `snapshot:${file}`);
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === file);
    assert.ok(tab, 'VS Code manages the tab as the file\'s editor');
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'shmscope.snapshot');
  });
});
