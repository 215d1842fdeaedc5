// The Shared Memory explorer as a person sees it, in a real workbench (code-server + chromium):
// the activity bar entry, the groups and items, the context menu's Remove… with its modal
// confirmations (and a second one while a process is attached), the inline Post action, and Clean
// Up Leftovers… (a modal listing exactly the leftover planted here; the in-use object stays).
// The first rows: System V and POSIX objects show while the scan of every process is still held (the
// extension host's test hook SHMSCOPE_TEST_HOLD_SCAN), then the scan fills in under the same rows.
// A screenshot of the explorer is always kept (.test-artifacts/editor/explorer.png); a failing
// step keeps one named after it. Objects are made here and removed in after(), even on failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import type { Target } from '../../../extension/src/ipc/target';
import { chooseFromContextMenu, clickExplorerAction, failureStep, openWorkbench, type OpenWorkbench, revealTreeRow, ROOT, screenshot, treeRow } from './driver';
import { stopAllRegions } from '../../helpers/regions';
import { untilWithin } from '../../helpers/wait';

const WAIT = 30_000;
const tag = `shmscope-ui-${process.pid}`;
const created: Target[] = [];
const handles: ipc.ShmHandle[] = [];
let opened: OpenWorkbench | undefined;
let page: Page;
/** While this file exists, the extension host's scans of every process wait (test mode's hook, ipc/regions.ts). */
const holdDir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-ui-hold-'));
const hold = path.join(holdDir, 'hold');

const step = failureStep('explorer', { page: () => page, workbench: () => opened?.wb });

/** A row of the explorer tree with this exact label. */
const row = (label: string) => treeRow(page, label);

async function command(title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: WAIT });
  await input.fill(`>Shared Memory: ${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: WAIT });
  await page.keyboard.press('Enter');
}

const until = untilWithin(WAIT);

/** Right-click a row, choose a context-menu entry. */
const contextMenu = (label: string, entry: string) => chooseFromContextMenu(page, label, entry, WAIT);

const dialog = () => page.locator('.monaco-dialog-box');
const dialogButton = (text: string) => dialog().locator('.monaco-button', { hasText: new RegExp(`^${text}$`) });

describe('explorer in the workbench', () => {
  let keyedId = 0;
  const key = (0x5f000000 | (process.pid & 0xffff)) >>> 0;
  const keyLabel = `key 0x${key.toString(16).padStart(8, '0')}`;

  before(async () => {
    keyedId = ipc.createShm({ key, size: 65536, mode: 0o600 });
    created.push({ kind: 'shm', id: keyedId });
    const semId = ipc.createSemSet({ key: 0, nsems: 1, values: [0] });
    created.push({ kind: 'sem', id: semId });
    ipc.createPosixShm({ name: `/${tag}`, size: 4096 });
    created.push({ kind: 'posix-shm', name: `/${tag}` });
    writeFileSync(hold, '');
    process.env.SHMSCOPE_TEST_HOLD_SCAN = hold; // the workbench, and so its extension host, inherits it
    opened = await openWorkbench({ root: ROOT, folder: path.join(ROOT, 'test', 'editor', 'workspace') });
    delete process.env.SHMSCOPE_TEST_HOLD_SCAN;
    page = opened.page;
  });

  after(async () => {
    rmSync(holdDir, { recursive: true, force: true });
    await stopAllRegions();
    for (const h of handles.splice(0)) { try { h.close(); } catch { /* closed */ } }
    for (const t of created.splice(0)) { try { if (ipc.exists(t)) ipc.remove(t); } catch { /* gone */ } }
    await opened?.close();
  });

  it('shows System V and POSIX objects while the processes are still being scanned, then fills in the rest under the same rows', () => step('first-rows', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: 60_000 });
    const label = `${keyLabel} · id ${keyedId}`;
    // The scan of every process cannot end while the hold is in place: these rows come without it.
    await row(label).waitFor({ timeout: 60_000 });
    await row(`/${tag}`).waitFor({ timeout: WAIT });
    const description = (g: string) => row(g).locator('.label-description').textContent();
    for (const g of ['memfd Objects', 'Shared Anonymous Memory', 'Shared File Mappings', 'Kernel-Shared Rings']) {
      assert.equal(await description(g), 'Scanning processes…', `${g} says it is being scanned`);
    }
    assert.equal(await description('System V Segments') !== 'Scanning processes…', true);
    const progress = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header[aria-label*="Objects"]') }).locator('.monaco-progress-container.active');
    await until('the view\'s progress bar while the scan runs', async () => (await progress.count()) > 0);
    assert.match((await row(`/${tag}`).locator('.label-description').textContent()) ?? '', /^4 KiB · root$/, 'no mapping count before the scan');
    // A group selected and collapsed now stays so when the scan's listing replaces this one (its
    // id is the same). (A click on an object would open it: its default action.)
    const queues = row('Message Queues');
    await queues.click();
    await until('Message Queues selected and collapsed', async () => await queues.getAttribute('aria-selected') === 'true' && await queues.getAttribute('aria-expanded') === 'false');
    rmSync(hold);
    await until('the region groups count what the scan found', async () => /^\d+$/.test((await description('memfd Objects')) ?? ''));
    assert.equal(await queues.getAttribute('aria-selected'), 'true', 'the selection survives the scan');
    assert.equal(await queues.getAttribute('aria-expanded'), 'false', 'the collapsed group stays collapsed');
    await queues.click(); // as it was
    assert.match((await row(`/${tag}`).locator('.label-description').textContent()) ?? '', /^4 KiB · 0 mapping · root$/, 'the scan counts the mappings');
    await until('the progress bar to go', async () => (await progress.count()) === 0);
  }));

  it('shows the Shared Memory view with its groups and the objects made here', () => step('view', async () => {
    rmSync(hold, { force: true }); // this test alone: the scan goes on
    // The view shows (when this test runs alone too: a second click would close the side bar).
    if (!(await page.locator('.pane-header[aria-label*="Objects"]').isVisible())) await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: 60_000 });
    await row(`${keyLabel} · id ${keyedId}`).waitFor({ timeout: 60_000 });
    await row(`/${tag}`).waitFor({ timeout: WAIT });
    const desc = await row(`${keyLabel} · id ${keyedId}`).locator('.label-description').textContent();
    assert.match(desc ?? '', /^64 KiB · 0 attached · .*root$/);
    // Each group, revealed as a keyboard user reaches it: the tree draws only the rows in its
    // viewport, and Limits comes last, after a group per other namespace (many on some machines).
    for (const g of ['System V Segments', 'POSIX Shared Memory', 'System V Semaphore Sets', 'POSIX Semaphores', 'Message Queues', 'Limits']) {
      await revealTreeRow(page, g, WAIT);
    }
    await revealTreeRow(page, 'System V Segments', WAIT); // back at the top, where the next tests act
    await row(`${keyLabel} · id ${keyedId}`).waitFor({ timeout: WAIT });
    assert.equal(await page.locator('.pane-header[aria-label*="Objects"] .action-label[aria-label="Refresh"]').count() > 0
      || await page.locator('.action-label[aria-label="Refresh"]').count() > 0, true, 'Refresh in the title bar');
    const file = await screenshot(page, 'explorer');
    console.log(`explorer screenshot: ${file}`);
  }));

  it('Remove… asks first, and removes only after confirmation', () => step('remove', async () => {
    const label = `${keyLabel} · id ${keyedId}`;
    await contextMenu(label, 'Remove…');
    await dialog().waitFor({ timeout: WAIT });
    const text = await dialog().textContent();
    assert.match(text ?? '', new RegExp(`Remove segment ${keyedId}`));
    assert.match(text ?? '', /No process is attached/);
    await dialogButton('Cancel').click();
    await dialog().waitFor({ state: 'hidden', timeout: WAIT });
    assert.ok(ipc.exists({ kind: 'shm', id: keyedId }), 'Cancel keeps the segment');

    await contextMenu(label, 'Remove…');
    await dialogButton('Remove').click();
    await until('the segment to go', () => !ipc.exists({ kind: 'shm', id: keyedId }));
    await row(label).waitFor({ state: 'detached', timeout: WAIT });
  }));

  it('Remove… asks a second time while a process is attached', () => step('remove-attached', async () => {
    const id = ipc.createShm({ key: 0, size: 4096 });
    created.push({ kind: 'shm', id });
    handles.push(ipc.openShm({ kind: 'shm', id })); // this test process attaches: nattch 1
    await command('Refresh');
    const label = `private · id ${id}`;
    await row(label).waitFor({ timeout: WAIT });
    await contextMenu(label, 'Remove…');
    await dialog().waitFor({ timeout: WAIT });
    assert.match((await dialog().textContent()) ?? '', /1 process is attached/);
    await dialogButton('Remove').click();
    await dialogButton('Remove Anyway').waitFor({ timeout: WAIT });
    assert.match((await dialog().textContent()) ?? '', /in use by 1 process/);
    assert.ok(!(await ipc.list()).shm.find((r) => r.id === id)?.removed, 'not removed before the second answer');
    await dialogButton('Remove Anyway').click();
    await until('the segment to be marked removed', async () => (await ipc.list()).shm.find((r) => r.id === id)?.removed !== false);
  }));

  it('the inline Post action changes the value shown', () => step('post', async () => {
    const semId = (created.find((t) => t.kind === 'sem') as { id: number }).id;
    const label = `private · id ${semId}`;
    // Selected and pointed at, as a person does: a selected row keeps its inline actions even when
    // a refresh redraws the tree under the pointer.
    await row(label).click();
    await row(label).hover();
    await row(label).locator('.action-label[aria-label="Semaphore Post"]').click({ timeout: WAIT });
    await row(label).locator('.label-description', { hasText: '[1]' }).waitFor({ timeout: WAIT });
    assert.equal(ipc.semGet(semId).values[0], 1);
  }));

  it('Clean Up Leftovers… lists exactly the leftover, removes only it after confirmation, and keeps the object in use', () => step('cleanup', async () => {
    // Two segments of keys this test alone uses: one whose creator (a Python process) exited with
    // nothing attached, a leftover; one this test process created and still runs, in use. (A POSIX
    // object's verdict needs every process read; here the sandbox's own init is not readable even
    // by root, so POSIX verdicts are covered by the CLI tests in a pid namespace of their own.)
    const prefix = `5e${(process.pid & 0xffff).toString(16).padStart(4, '0')}`;
    const leftKey = parseInt(`${prefix}01`, 16);
    const made = spawnSync('python3', ['-c', `import ctypes; print(ctypes.CDLL(None).shmget(${leftKey}, 8192, 0o1600))`], { encoding: 'utf8' });
    const leftId = Number(made.stdout.trim());
    assert.ok(made.status === 0 && leftId >= 0, `shmget in a process that exits: ${made.stderr}`);
    const usedId = ipc.createShm({ key: parseInt(`${prefix}02`, 16), size: 4096, mode: 0o600 });
    created.push({ kind: 'shm', id: leftId }, { kind: 'shm', id: usedId });
    const left = `shm:${leftId}`;
    const used = `shm:${usedId}`;
    // The view shows (when this test runs alone too).
    if (!(await page.locator('.pane-header[aria-label*="Objects"]').isVisible())) await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: 60_000 });
    // The filter keeps the candidates to this test's own objects (other programs' leftovers stay).
    const filtered = page.locator('.pane-header[aria-label*="Objects"] .description', { hasText: `0x${prefix}` });
    for (let attempt = 1; ; attempt++) {
      await clickExplorerAction(page, 'Filter', WAIT);
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: WAIT });
      await input.fill(`0x${prefix}`);
      await input.press('Enter');
      try {
        await filtered.waitFor({ timeout: 10_000 });
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
        await page.keyboard.press('Escape');
      }
    }
    await command('Refresh');
    // In the side bar only: the palette keeps its rows (Clean Up Leftovers…) in the page once closed.
    const group = page.locator('.part.sidebar .monaco-list-row', { has: page.locator('.label-name', { hasText: /^Leftovers$/ }) });
    await until('the Leftovers group counts the one leftover', async () => (await group.locator('.label-description').textContent().catch(() => '')) === '1');
    await command('Clean Up Leftovers…');
    await dialog().waitFor({ timeout: WAIT });
    let text = (await dialog().textContent()) ?? '';
    assert.match(text, /Remove 1 leftover, freeing 8 KiB\?/);
    assert.ok(text.includes(`${left} (8 KiB): created by pid ${made.pid}, exited`), text);
    assert.ok(!new RegExp(`${used}\\b`).test(text), 'the object in use is not offered');
    await dialogButton('Cancel').click();
    await dialog().waitFor({ state: 'hidden', timeout: WAIT });
    assert.ok(ipc.exists({ kind: 'shm', id: leftId }), 'Cancel keeps the leftover');

    await command('Clean Up Leftovers…');
    await dialog().waitFor({ timeout: WAIT });
    text = (await dialog().textContent()) ?? '';
    assert.ok(text.includes(`${left} (8 KiB)`) && !new RegExp(`${used}\\b`).test(text), text);
    await dialogButton('Remove 1 Object').click();
    await until('the leftover to go', () => !ipc.exists({ kind: 'shm', id: leftId }));
    assert.ok(ipc.exists({ kind: 'shm', id: usedId }), 'the object in use stays');
    // The listing after a removal enters every container on the machine: it may take a while here.
    await untilWithin(3 * WAIT)('the Leftovers group to be empty', async () => (await group.count()) === 0);
    await row(`key 0x${prefix}02`).waitFor({ timeout: WAIT });
    await clickExplorerAction(page, 'Clear Filter', WAIT);
  }));
});
