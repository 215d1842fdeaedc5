// The explorer's commands through what a person uses: the command palette and its input boxes
// (Create Segment…), the title bar filter, the context menu's Semaphore Wait… with its status bar
// entry that cancels it, Peek Messages' quick pick, and the log. Objects are made here and removed
// in after(), even on failure; a failing step keeps a screenshot under .test-artifacts/editor/.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import type { Target } from '../../../extension/src/ipc/target';
import { chooseFromContextMenu, clickExplorerAction, promptFromContextMenu, explorerAction, failureStep, openWorkbench, type OpenWorkbench, ROOT, treeRow } from './driver';
import { untilWithin } from '../../helpers/wait';

const WAIT = 30_000;
const created: Target[] = [];
let opened: OpenWorkbench | undefined;
let page: Page;

const step = failureStep('commands', { page: () => page, workbench: () => opened?.wb });

const row = (label: string) => treeRow(page, label);
const quickInput = () => page.locator('.quick-input-widget');

const until = untilWithin(WAIT);

async function palette(title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = quickInput().locator('input');
  await input.waitFor({ state: 'visible', timeout: WAIT });
  await input.fill(`>Shared Memory: ${title}`);
  await quickInput().locator('.monaco-list-row', { hasText: title }).first().waitFor({ timeout: WAIT });
  await page.keyboard.press('Enter');
}

/** Answers the input box whose title contains `title`. */
async function answer(title: string, text: string): Promise<void> {
  await quickInput().locator('.quick-input-title', { hasText: title }).waitFor({ timeout: WAIT });
  await quickInput().locator('input').fill(text);
  await page.keyboard.press('Enter');
}

const contextMenu = (label: string, entry: string) => chooseFromContextMenu(page, label, entry, WAIT);

/**
 * Chooses a context-menu entry that opens a prompt titled `title`, asking again (at most three
 * times) when the prompt does not come up: a menu entry chosen right after another prompt closed
 * is now and then dropped by the workbench, and asking for a prompt twice is harmless.
 */
const promptFrom = (label: string, entry: string, title: string) => promptFromContextMenu(page, label, entry, title, WAIT);

function findLog(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      const f = findLog(p);
      if (f) return f;
    } else if (name === 'Shared Memory.log') return p;
  }
  return undefined;
}

/**
 * A key of its own for each object a test acts on through its row: the workbench runs in an IPC
 * namespace of its own, where a segment, a set and a queue can all have id 1, so "private · id 1"
 * would name more than one row.
 */
let keys = 0;
function keyed(): { key: number; label: (id: number) => string } {
  const key = (0x5e000000 | ((process.pid & 0xfff) << 8) | ++keys) >>> 0;
  return { key, label: (id) => `key 0x${key.toString(16).padStart(8, '0')} · id ${id}` };
}

describe('explorer commands in the workbench', () => {
  before(async () => {
    opened = await openWorkbench({ root: ROOT, folder: path.join(ROOT, 'test', 'editor', 'workspace') });
    page = opened.page;
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click();
  });

  after(async () => {
    for (const t of created.splice(0)) { try { if (ipc.exists(t)) ipc.remove(t); } catch { /* gone */ } }
    await opened?.close();
  });

  it('Create Segment… asks for key, size and mode, and makes the segment', () => step('create', async () => {
    const key = (0x5d000000 | (process.pid & 0xffff)) >>> 0;
    const keyHex = `0x${key.toString(16)}`;
    const before = new Set((await ipc.list()).shm.map((r) => r.id));
    await palette('Create Segment…');
    await answer('key', keyHex);
    await answer('size', '64K');
    await answer('permissions', '640');
    const rec = await until('the new segment', async () => (await ipc.list()).shm.find((r) => !before.has(r.id) && r.key === key));
    created.push({ kind: 'shm', id: rec.id });
    assert.equal(rec.size, 65536);
    assert.equal(rec.mode, 0o640);
    await row(`key 0x${key.toString(16).padStart(8, '0')} · id ${rec.id}`).waitFor({ timeout: WAIT });
  }));

  it('the title bar filter narrows the tree, and Clear Filter shows only while one is set', () => step('filter', async () => {
    const id = ipc.createShm({ key: 0, size: 4096 });
    created.push({ kind: 'shm', id });
    const other = ipc.createSemSet({ key: 0, nsems: 1 });
    created.push({ kind: 'sem', id: other });
    await palette('Refresh');
    await row(`private · id ${other}`).waitFor({ timeout: WAIT });
    await clickExplorerAction(page, 'Filter', WAIT);
    await answer('Filter Shared Memory', `id ${id}`);
    await row(`private · id ${other}`).waitFor({ state: 'detached', timeout: WAIT });
    await row(`private · id ${id}`).waitFor({ timeout: WAIT });
    // Clear Filter appears in the title bar only while a filter is set (context key shmscope.filtered).
    await clickExplorerAction(page, 'Clear Filter', WAIT);
    await row(`private · id ${other}`).waitFor({ timeout: WAIT });
    await explorerAction(page, 'Clear Filter').waitFor({ state: 'detached', timeout: WAIT });
  }));

  it('Semaphore Wait… shows a status bar entry that cancels the wait; a short wait times out', () => step('wait', async () => {
    const k = keyed();
    const id = ipc.createSemSet({ key: k.key, nsems: 1, values: [0] });
    created.push({ kind: 'sem', id });
    await palette('Refresh');
    const label = k.label(id);
    await promptFrom(label, 'Semaphore Wait…', 'timeout');
    await answer('timeout', '120000');
    const status = page.locator('.statusbar-item', { hasText: `Waiting on semaphore 0 of set ${id}` });
    await status.waitFor({ timeout: WAIT });
    await until('ncnt 1', () => ipc.semGet(id).ncnt[0] === 1);
    await status.locator('a, .statusbar-item-label').first().click();
    await status.waitFor({ state: 'detached', timeout: WAIT });
    await until('the waiter to leave', () => ipc.semGet(id).ncnt[0] === 0);

    await promptFrom(label, 'Semaphore Wait…', 'timeout');
    const t0 = Date.now();
    await answer('timeout', '0.6s'); // the duration grammar (a bare number is milliseconds, as above)
    await status.waitFor({ timeout: WAIT });
    await status.waitFor({ state: 'detached', timeout: WAIT });
    assert.ok(Date.now() - t0 >= 550, 'the wait lasted its timeout');
    assert.equal(ipc.semGet(id).values[0], 0);
  }));

  it('Peek Messages lists messages in a quick pick and opens one in the inspector without consuming it', () => step('peek', async () => {
    const k = keyed();
    const id = ipc.createMsgQueue({ key: k.key });
    created.push({ kind: 'msg', id });
    ipc.msgSend(id, 3, new TextEncoder().encode('alpha'));
    ipc.msgSend(id, 4, new TextEncoder().encode('bravo-charlie'));
    await palette('Refresh');
    // The pick's title says the command ran (a menu choice the workbench dropped is asked again).
    await promptFrom(k.label(id), 'Peek Messages', `Messages in queue ${id}`);
    await quickInput().locator('.monaco-list-row', { hasText: 'type 4 · 13 bytes' }).waitFor({ timeout: WAIT });
    await quickInput().locator('.monaco-list-row', { hasText: 'type 4 · 13 bytes' }).click();
    // The message's 13 bytes show in the inspector's hex grid (its first row, with the ASCII column).
    const grid = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
    await grid.locator('.row[data-offset="0"]', { hasText: 'bravo-charlie' }).waitFor({ timeout: WAIT });
    assert.equal((await ipc.list()).msg.find((r) => r.id === id)?.messages, 2);
  }));

  it('a failure is written to the Shared Memory log with its errno name', () => step('log', async () => {
    const k = keyed();
    const id = ipc.createMsgQueue({ key: k.key });
    created.push({ kind: 'msg', id });
    await palette('Refresh');
    const label = k.label(id);
    await row(label).waitFor({ timeout: WAIT });
    ipc.remove({ kind: 'msg', id }); // gone between listing and acting
    await contextMenu(label, 'Peek Messages');
    const text = await until('the failure in Shared Memory.log', () => {
      const f = findLog(opened!.wb.logsDir);
      const t = f ? readFileSync(f, 'utf8') : '';
      return t.includes(`message queue ${id} no longer exists`) ? t : undefined;
    });
    assert.match(text, new RegExp(`\\[error\\] Peek Messages: msgctl failed with ENOENT: message queue ${id} no longer exists`));
    await palette('Show Log');
    await page.locator('.output-view, .panel', { hasText: `message queue ${id} no longer exists` }).first().waitFor({ timeout: WAIT });
  }));
});
