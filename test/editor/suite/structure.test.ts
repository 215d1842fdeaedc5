/// <reference types="mocha" />
// In the extension host of a real workbench: how a schema gets bound to an inspector tab (the
// `shmscope.schemas` setting, Bind Schema with arguments, remembered per object, unbinding),
// Go to Offset with a field name, and bookmarks kept per object across closing the tab. The page's
// tree, tints and editing are driven in test/editor/ui/structure.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import * as ipc from '../../../extension/src/ipc';
import { freshKey } from '../../helpers/ipc';
import { ringBytes } from '../../helpers/schema-ring';
import { untilWithin } from '../../helpers/wait';

interface State {
  ready: boolean;
  view?: { cursor: number; selection: { offset: number; length: number } };
  schema?: { label: string; how: string; rows: number; summary: { ok: number; failed: number; unknown: number } };
  bookmarks: { name: string; offset: number; length: number; color: string }[];
}

const until = untilWithin(20_000);
const created: ipc.Target[] = [];
let dir = '';
let schemaFile = '';

const state = (key: string) => vscode.commands.executeCommand<State | undefined>('shmscope.inspector.state', key);

function ringSegment(key: number): string {
  const bytes = ringBytes(8, { head: 10n, tail: 5n });
  const id = ipc.createShm({ key, size: bytes.length, mode: 0o600 });
  const t = { kind: 'shm' as const, id };
  created.push(t);
  const h = ipc.openShm(t, { readWrite: true });
  h.write(0, bytes);
  h.close();
  return ipc.formatTarget(t);
}

async function closeTab(label: string): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.label.startsWith(label));
  await vscode.window.tabGroups.close(tabs);
}

suite('structure view: binding, Go to by name, bookmarks', () => {
  suiteSetup(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-struct-'));
    schemaFile = path.join(dir, 'ring.shms');
    // No `segment … for` here: these tests bind through the setting and by hand.
    const text = readFileSync(path.join(vscode.extensions.getExtension('shmscope.shmscope')!.extensionPath, 'test', 'fixtures', 'schema', 'ring.shms'), 'utf8').replace(/ for key 0x[0-9A-Fa-f]+/, '');
    writeFileSync(schemaFile, text);
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('shmscope').update('schemas', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const t of created.splice(0)) { try { if (ipc.exists(t)) ipc.remove(t); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });

  test('binds the schema the shmscope.schemas setting names for the key', async () => {
    const key = freshKey();
    const target = ringSegment(key);
    const keyText = `key:0x${(key >>> 0).toString(16).padStart(8, '0')}`;
    await vscode.workspace.getConfiguration('shmscope').update('schemas', { [keyText]: `${schemaFile}#Ring` }, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    const s = await until('the schema is bound', async () => (await state(target))?.schema);
    assert.equal(s.label, 'ring.shms · Ring');
    assert.equal(s.how, `shmscope.schemas["${keyText}"]`);
    assert.deepEqual([s.summary.ok, s.summary.failed, s.rows], [5, 0, 2]);
    // Removing the entry unbinds the open tab.
    await vscode.workspace.getConfiguration('shmscope').update('schemas', undefined, vscode.ConfigurationTarget.Global);
    await until('the binding goes with the setting', async () => (await state(target))?.schema === undefined);
  });

  test('binds by hand, remembers it for the object, and unbinds', async () => {
    const target = ringSegment(0);
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    await until('the tab is ready', async () => (await state(target))?.ready);
    assert.equal((await state(target))?.schema, undefined, 'nothing binds an IPC_PRIVATE segment by itself');
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.inspector.bindSchema', schemaFile, 'Ring'), { bound: 'ring.shms · Ring' });
    assert.equal((await state(target))?.schema?.how, 'bound by hand');
    await closeTab(`segment ${target.slice(4)}`);
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    const again = await until('reopened and bound again', async () => (await state(target))?.schema);
    assert.equal(again.how, 'bound by hand');
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.inspector.bindSchema', ''), { bound: undefined });
    await closeTab(`segment ${target.slice(4)}`);
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    await until('reopened', async () => (await state(target))?.ready);
    assert.equal((await state(target))?.schema, undefined, 'unbinding is remembered too');
  });

  test('goes to a field by name from the command, and the page selects its bytes', async () => {
    const target = ringSegment(0);
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    await until('ready', async () => (await state(target))?.ready);
    await vscode.commands.executeCommand('shmscope.inspector.bindSchema', schemaFile, 'Ring');
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.inspector.goToOffset', 'hdr.tail'), { offset: 24, length: 8, path: 'hdr.tail' });
    await until('the page selects tail', async () => {
      const v = (await state(target))?.view;
      return v?.selection.offset === 24 && v.selection.length === 8;
    });
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.inspector.goToOffset', 'slot_size'), { offset: 12, length: 4, path: 'hdr.slot_size' });
    // A name that is not there: the command reports it (shown to the user), nothing moves.
    assert.equal(await vscode.commands.executeCommand('shmscope.inspector.goToOffset', 'no_such_field'), undefined);
  });

  test('keeps bookmarks per object across closing its tab', async () => {
    const key = freshKey();
    const target = ringSegment(key);
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    await until('ready', async () => (await state(target))?.ready);
    const list = await vscode.commands.executeCommand('shmscope.inspector.addBookmark', { name: 'the ring', offset: 64, length: 512, color: 'purple' });
    assert.deepEqual(list, [{ name: 'the ring', offset: 64, length: 512, color: 'purple' }]);
    // Clamped to the object: a bookmark cannot reach past its end.
    await vscode.commands.executeCommand('shmscope.inspector.addBookmark', { name: 'tail end', offset: 600, length: 100, color: 'nope' });
    await closeTab(`segment ${target.slice(4)}`);
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    const s = await until('reopened', async () => { const st = await state(target); return st?.ready ? st : undefined; });
    assert.deepEqual(s.bookmarks, [
      { name: 'the ring', offset: 64, length: 512, color: 'purple' },
      { name: 'tail end', offset: 591, length: 1, color: 'blue' },
    ]);
  });
});
