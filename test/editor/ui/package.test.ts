// The packaged extension: `npm run package` makes a .vsix holding the bundles and the addon and
// nothing else; code-server installs it into a fresh workbench (as a user would) and its explorer
// lists a segment made here. No development path and no smoke-test driver, so notifications show:
// the wait's progress notification cancels with its Cancel button, and an error notification's
// "Show Log" opens the log. Import C Header as Schema… runs the command line the .vsix ships
// (dist/cli.js and the bundles it loads), as it does from the checkout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import type { Target } from '../../../extension/src/ipc/target';
import { openRecording } from '../../../extension/src/record';
import { launchBrowser, startWorkbench, type Workbench } from '../../../scripts/editor/workbench.mjs';
import { chooseFromContextMenu, clickExplorerAction, failureStep, inspectorFrame, loadWorkbench, palette, ROOT, STARTUP_MS, treeRow } from './driver';
import { untilWithin } from '../../helpers/wait';

const WAIT = 30_000;
/**
 * The tree changes only when a step refreshes it: neither the explorer's timer nor the /dev/shm
 * watcher (the browser itself keeps writing /dev/shm) may re-list it between a step's removal of
 * an object and its menu on that object's row.
 */
const SETTINGS = { 'shmscope.refreshIntervalMs': 0, 'shmscope.watchDevShm': false };
let wb: Workbench | undefined;
let browser: Browser | undefined;
let page: Page;
let tmp = '';
const created: Target[] = [];
/** Files a step made where the workbench proposed them (the workspace folder). */
const made: string[] = [];

/** Every file under dir, relative to it. */
function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, base) : [path.relative(base, p)];
  });
}

const step = failureStep('package', { page: () => page, workbench: () => wb });

const row = (label: string) => treeRow(page, label);

const until = untilWithin(WAIT);

const contextMenu = (label: string, entry: string) => chooseFromContextMenu(page, label, entry, WAIT);

async function refresh(): Promise<void> {
  await clickExplorerAction(page, 'Refresh', WAIT);
}

describe('the packaged .vsix', () => {
  let vsix = '';
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'shmscope-vsix-'));
    vsix = path.join(tmp, 'shmscope.vsix');
  });
  after(async () => {
    for (const t of created.splice(0)) { try { if (ipc.exists(t)) ipc.remove(t); } catch { /* gone */ } }
    await browser?.close().catch(() => {});
    await wb?.stop();
    rmSync(tmp, { recursive: true, force: true });
    for (const f of made) rmSync(f, { force: true });
  });

  it('holds only the allow-list, installs into a fresh workbench, and its explorer works', () => step('install', async () => {
    // The editor runner has just built; package what it built.
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--no-build', '--out', vsix], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}${r.stderr}`);
    assert.ok(existsSync(vsix));

    const segment = ipc.createShm({ key: 0, size: 4096 });
    created.push({ kind: 'shm', id: segment });
    wb = await startWorkbench({ folder: path.join(ROOT, 'test', 'editor', 'workspace'), vsix: [vsix], smokeTestDriver: false, settings: SETTINGS });
    const installed = readdirSync(path.join(wb.runDir, 'extensions')).find((d) => d.startsWith('shmscope.shmscope-'));
    assert.ok(installed, 'code-server installed the extension');
    const shipped = files(path.join(wb.runDir, 'extensions', installed));
    assert.ok(shipped.includes('dist/extension.js'), shipped.join(', '));
    assert.ok(shipped.includes('native/build/Release/shmscope.node'), shipped.join(', '));
    // The command line Import C Header as Schema… forks, with the bundle of the command it runs.
    for (const f of ['dist/cli.js', 'dist/cli-main.js', 'dist/cli-import.js']) assert.ok(shipped.includes(f), `${f} ships: ${shipped.join(', ')}`);
    // Import Types from a Program… runs `shmscope import PROGRAM`, which loads the DWARF reader (when it was built).
    const allowed = /^(package\.json|readme\.md|LICENSE(\.txt)?|\.vsixmanifest|dist\/(extension|server|cli|cli-[a-z]+)\.js|dist\/webview\/[^/]+\.(js|css)|native\/build\/Release\/shmscope(_dwarf)?\.node|extension\/(resources|syntaxes)\/[^/]+|extension\/language-configuration\.json|schemas\/[^/]+\.shms)$/i;
    assert.deepEqual(shipped.filter((f) => !allowed.test(f)), [], 'nothing but the allow-list ships');

    browser = await launchBrowser(wb.runDir);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await loadWorkbench(page, wb.url);
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: STARTUP_MS });
    await row(`private · id ${segment}`).waitFor({ timeout: 60_000 });
    assert.match((await row(`private · id ${segment}`).locator('.label-description').textContent()) ?? '', /^4 KiB · 0 attached/);
  }));

  it('Import C Header as Schema… writes the schema through the shipped command line', () => step('import', async () => {
    assert.ok(page, 'the workbench is up');
    const header = path.join(tmp, 'wire.h');
    writeFileSync(header, '#include <stdint.h>\n#define SLOTS 16\nstruct wire { uint8_t kind; uint32_t value; } __attribute__((packed));\n');
    const target = path.join(tmp, 'wire.shms');
    await palette(page, 'Import C Header as Schema…', WAIT);
    // The workbench's file dialogs are its simple ones (a quick input): type the path, and once the
    // dialog lists the file (it may still be filling in its own folder), Enter.
    const input = page.locator('.quick-input-widget input');
    await until('the open dialog takes the header', async () => {
      await input.fill(header, { timeout: 5_000 });
      const listed = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'wire.h' }).first().waitFor({ timeout: 5_000 }).then(() => true, () => false);
      if (!listed || (await input.inputValue()) !== header) return false;
      await input.press('Enter');
      return until('the save dialog', async () => (await input.inputValue().catch(() => '')).endsWith('.shms'), 5_000).then(() => true, () => false);
    });
    // The save dialog proposes the schema beside the header.
    assert.equal(await input.inputValue(), target);
    await input.press('Enter');
    await until('the schema is written', () => existsSync(target));
    const text = readFileSync(target, 'utf8');
    assert.match(text, /#define SLOTS 16/);
    assert.match(text, /struct wire/);
    await page.locator('.notification-toast', { hasText: 'Imported wire.h into wire.shms' }).first().waitFor({ timeout: WAIT });
  }));

  it('Open Inspector paints a segment\'s bytes (the page bundles ship)', () => step('inspector', async () => {
    assert.ok(page, 'the workbench is up');
    const id = ipc.createShm({ key: 0, size: 4096 });
    created.push({ kind: 'shm', id });
    const h = ipc.openShm({ kind: 'shm', id }, { readWrite: true });
    h.write(0, new TextEncoder().encode('shmscope'));
    h.close();
    await refresh();
    await contextMenu(`private · id ${id}`, 'Open Inspector');
    await page.locator('.tab.active', { hasText: `segment ${id}` }).waitFor({ timeout: WAIT });
    const f = inspectorFrame(page);
    await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    assert.match((await f.locator('.row[data-offset="0"]').textContent()) ?? '', /^0+73686d73636f7065(00)+shmscope/);
  }));

  it('Start Recording records the inspected segment until Stop Recording', () => step('record', async () => {
    assert.ok(page, 'the workbench is up');
    await palette(page, 'Inspector: Start Recording…', WAIT);
    const input = page.locator('.quick-input-widget input');
    await until('the save dialog proposes a .shmrec', async () => /\.shmrec$/.test(await input.inputValue().catch(() => '')));
    const file = await input.inputValue();
    made.push(file);
    await input.press('Enter');
    const frames = () => {
      try {
        const r = openRecording(file);
        r.file.close();
        return r.recording.frameCount;
      } catch {
        return 0;
      }
    };
    await until('two frames are on disk', () => frames() >= 2);
    await palette(page, 'Inspector: Stop Recording', WAIT);
    await page.locator('.statusbar-item[id$="shmscope.recording"]').waitFor({ state: 'hidden', timeout: WAIT });
    const { recording, file: fh } = openRecording(file);
    fh.close();
    assert.ok(recording.frameCount >= 2);
    assert.equal(recording.partialTail, 0, 'no half-written record at the end');
  }));

  it('a Semaphore Wait shows a progress notification whose Cancel ends the wait', () => step('wait-cancel', async () => {
    assert.ok(page, 'the workbench is up');
    const id = ipc.createSemSet({ key: 0, nsems: 1, values: [0] });
    created.push({ kind: 'sem', id });
    await refresh();
    await contextMenu(`private · id ${id}`, 'Semaphore Wait…');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'timeout' }).waitFor({ timeout: WAIT });
    await page.locator('.quick-input-widget input').fill('120000');
    await page.keyboard.press('Enter');
    const toast = page.locator('.notification-toast', { hasText: `Waiting on semaphore 0 of set ${id}` });
    await toast.waitFor({ timeout: WAIT });
    await until('the wait to block (ncnt 1)', () => ipc.semGet(id).ncnt[0] === 1);
    await toast.hover();
    await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await until('the waiter to leave (ncnt 0)', () => ipc.semGet(id).ncnt[0] === 0);
    await page.locator('.notification-toast', { hasText: 'cancelled' }).first().waitFor({ timeout: WAIT });
  }));

  it('an error notification offers Show Log, which opens the Shared Memory log', () => step('show-log', async () => {
    assert.ok(page, 'the workbench is up');
    const id = ipc.createMsgQueue({ key: 0 });
    created.push({ kind: 'msg', id });
    await refresh();
    const label = `private · id ${id}`;
    await row(label).waitFor({ timeout: WAIT });
    ipc.remove({ kind: 'msg', id });
    await contextMenu(label, 'Peek Messages');
    const toast = page.locator('.notification-toast', { hasText: `message queue ${id} no longer exists` });
    await toast.waitFor({ timeout: WAIT });
    await toast.hover();
    await toast.locator('.monaco-button', { hasText: 'Show Log' }).click();
    await page.locator('.part.panel', { hasText: `Peek Messages: msgctl failed with ENOENT: message queue ${id} no longer exists` }).waitFor({ timeout: WAIT });
  }));
});
