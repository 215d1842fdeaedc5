/// <reference types="mocha" />
// In the extension host of a real workbench: memfd objects, shared anonymous regions and another
// IPC namespace, made by the C fixture, appear in their explorer groups, open in the inspector
// through the same commands as a segment, and show as removed when their last process exits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ShmscopeApi } from '../../../extension/src/extension';
import type { Node } from '../../../extension/src/explorer';
import { decodeSnapshot } from '../../../extension/src/shared/inspector/snapshot';
import { untilWithin } from '../../helpers/wait';
import { Fixture, startRegions, stopAllRegions, buildRegions } from '../../helpers/regions';

interface InspectorState { target: string; size: number; readOnly: boolean; removed: boolean; ready: boolean; stats: { reads: number } }

const until = untilWithin(20_000);
const state = (key: string) => vscode.commands.executeCommand<InspectorState | undefined>('shmscope.inspector.state', key);
const labelOf = (i: vscode.TreeItem) => (typeof i.label === 'string' ? i.label : i.label?.label ?? '');
let api: ShmscopeApi;
let dir = '';
let nested: Fixture | undefined;

/** The object items under `parent`, through the program groups of the region kinds. */
function objects(parent: Node): { node: Node; item: vscode.TreeItem }[] {
  return api.explorer.getChildren(parent).flatMap((n) => (n.type === 'program' ? api.explorer.getChildren(n) : [n]))
    .filter((n) => n.type === 'object').map((node) => ({ node, item: api.explorer.getTreeItem(node) }));
}
function group(label: string): Node | undefined {
  return api.explorer.getChildren().find((g) => g.type === 'group' && g.group.label === label);
}

suite('memfd, anonymous and namespace groups', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<ShmscopeApi>('shmscope.shmscope');
    assert.ok(ext);
    api = await ext.activate();
    dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-edt-regions-'));
    buildRegions();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await nested?.stop();
    await stopAllRegions();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a memfd shared with another process is one item; it opens in the inspector and shows removed when its holders exit', async () => {
    const name = `shmscope-edt-${process.pid}`;
    const owner = startRegions(['memfd', name, '12288', path.join(dir, 'm.sock')]);
    const ready = await owner.ready();
    const recv = startRegions(['recv', path.join(dir, 'm.sock')]);
    await recv.ready();
    await vscode.commands.executeCommand('shmscope.refresh');
    const g = group('memfd Objects');
    assert.ok(g, 'the memfd group is shown');
    const item = objects(g).find((o) => labelOf(o.item) === `${name} · ino ${ready.ino}`);
    assert.ok(item, 'listed under its name and inode');
    assert.equal(item.item.contextValue, 'memfd');
    assert.match(String(item.item.description), /^12 KiB · 3 processes · 3 fds · root$/);
    const key = `memfd:${ready.ino}`;
    await vscode.commands.executeCommand('shmscope.openInspector', item.node);
    const s = await until('the memfd tab reads', async () => { const st = await state(key); return st && st.stats.reads > 0 ? st : undefined; });
    assert.equal(s.size, 12288);
    assert.equal(s.readOnly, true);
    assert.equal(s.removed, false);
    // Snapshots name it by its target, like any other object's.
    const file = path.join(dir, 'memfd.shmsnap');
    assert.equal(await vscode.commands.executeCommand('shmscope.inspector.snapshot', file), file);
    const snap = decodeSnapshot(new Uint8Array(readFileSync(file)));
    assert.equal(snap.header.target, key);
    assert.equal(snap.header.size, 12288);
    assert.equal(Buffer.from(snap.bytes.subarray(0, 8)).toString('latin1'), 'SHMSCOPE');
    await recv.stop();
    await owner.stop();
    await until('the tab says removed', async () => (await state(key))?.removed);
  });

  test('a shared anonymous region is listed by its program and opens in the inspector', async () => {
    const f = startRegions(['anon', '65536']);
    const ready = await f.ready();
    await vscode.commands.executeCommand('shmscope.refresh');
    const g = group('Shared Anonymous Memory');
    assert.ok(g);
    const item = objects(g).find((o) => o.node.type === 'object' && o.node.record.kind === 'anon' && o.node.record.attachedBy.some((a) => a.pid === ready.pid));
    assert.ok(item, 'listed');
    assert.match(labelOf(item.item), /regions · ino \d+$/);
    assert.match(String(item.item.description), /^64 KiB · 2 processes · root$/);
    const rec = (item.node as Extract<Node, { type: 'object' }>).record;
    await vscode.commands.executeCommand('shmscope.openInspector', item.node);
    const s = await until('the anon tab reads', async () => { const st = await state(`anon:${rec.id}`); return st && st.stats.reads > 0 ? st : undefined; });
    assert.equal(s.size, 65536);
    await f.stop();
    await until('the tab says removed', async () => (await state(`anon:${rec.id}`))?.removed);
  });

  test('a process in another IPC namespace gets a group of its own with its private segment', async () => {
    const bin = buildRegions();
    nested = new Fixture(spawn('unshare', ['--ipc', '--mount', '--fork', 'sh', '-c', `mount -t tmpfs none /dev/shm && exec ${bin} sysv 4096`], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const ready = await nested.ready();
    await vscode.commands.executeCommand('shmscope.refresh');
    const ns = await until('the namespace group', () => api.explorer.getChildren().find((n) => n.type === 'namespace' && n.ns.shm.some((s) => s.attachedBy.some((a) => a.pid === ready.pid))));
    const item = api.explorer.getTreeItem(ns);
    assert.match(labelOf(item), /^Namespace /);
    // Its own /dev/shm (the tmpfs mounted above), with its use.
    assert.match(String(item.description), /^ipc \d+ · pid \d+ · 3 · \/dev\/shm \S+ \S+ of \S+ \S+ \([\d.]+ %\)$/);
    const kids = objects(ns);
    assert.deepEqual(kids.map((k) => [labelOf(k.item), k.item.contextValue]), [
      [`private · id ${ready.id}`, 'ns.shm'], [`private · id ${ready.sem}`, 'ns.sem'], [`private · id ${ready.msg}`, 'ns.msg'],
    ]);
    // Open Inspector never takes it for our segment of the same id; its own command copies it.
    assert.equal(await vscode.commands.executeCommand('shmscope.openInspector', kids[0]!.node), undefined);
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.namespace.openCopy', kids[0]!.node), { bytes: 4096 });
    const nsRef = (ns as Extract<Node, { type: 'namespace' }>).ns.namespace;
    const copy = await until('the copy tab reads', async () => { const st = await state(`ns:${nsRef.ipc}:shm:${ready.id}`); return st?.ready ? st : undefined; });
    assert.equal(copy.size, 4096);
    assert.equal(copy.readOnly, true);
    const roots = api.explorer.getChildren();
    const last = roots.at(-1);
    assert.ok(last?.type === 'group' && last.group.id === 'limits', 'Limits stays last');
    await nested.stop();
    nested = undefined;
    await vscode.commands.executeCommand('shmscope.refresh');
    assert.equal(api.explorer.getChildren().some((n) => n.type === 'namespace' && n.ns.namespace.ipc === (ns as Extract<Node, { type: 'namespace' }>).ns.namespace.ipc), false, 'gone with its processes');
  });
});
