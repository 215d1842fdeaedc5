// The packaged extension: `npm run package` makes a .vsix holding the bundles and the addon and
// nothing else; code-server installs it into a fresh workbench (as a user would) and its explorer
// lists a segment made here. No development path and no smoke-test driver, so notifications show:
// the wait's progress notification cancels with its Cancel button, and an error notification's
// "Show Log" opens the log. Import C Header as Schema… runs the command line the .vsix ships
// (dist/cli.js and the bundles it loads), the inspector paints, Start Recording records, and the
// Waits view and its graph show a process blocked on a set, as they do from the checkout.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
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
import { freshKey } from '../../helpers/ipc';
import { untilWithin } from '../../helpers/wait';

const WAIT = 30_000;
/**
 * The tree changes only when a step refreshes it: neither the explorer's timer nor the /dev/shm
 * watcher (the browser itself keeps writing /dev/shm) may re-list it between a step's removal of
 * an object and its menu on that object's row.
 */
const SETTINGS = { 'shmscope.refreshIntervalMs': 0, 'shmscope.watchDevShm': false, 'shmscope.waits.refreshMs': 0 };
let wb: Workbench | undefined;
let browser: Browser | undefined;
let page: Page;
let tmp = '';
/** The installed extension's folder (under the workbench's extensions). */
let installedDir = '';
const created: Target[] = [];
/** Processes a step started, ended in after() even when it failed. */
const children: ChildProcess[] = [];
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

/** The explorer's label of a keyed System V object. */
const keyedLabel = (key: number, id: number) => `key 0x${key.toString(16).padStart(8, '0')} · id ${id}`;

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
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : Promise.resolve())));
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
    installedDir = path.join(wb.runDir, 'extensions', installed);
    const shipped = files(installedDir);
    assert.ok(shipped.includes('dist/extension.js'), shipped.join(', '));
    assert.ok(shipped.includes('native/build/Release/shmscope.node'), shipped.join(', '));
    // What each feature below needs beyond the extension's bundle and the addon (.vscodeignore
    // names the same): Import C Header as Schema… forks the command line, with the bundle of the
    // command it runs; the inspector (and Start Recording, which records what it shows) its page;
    // the Waits view's Wait-for Graph its page; PostgreSQL waits its layouts and names.
    const needs: Record<string, string[]> = {
      'Import C Header as Schema…': ['dist/cli.js', 'dist/cli-main.js', 'dist/cli-import.js'],
      'the inspector and Start Recording': ['dist/webview/main.js', 'dist/webview/main.css', 'dist/webview/rest.js'],
      'the Waits view and its graph': ['dist/webview/graph.js', 'dist/webview/graph.css'],
      'PostgreSQL waits read from its shared memory': ['schemas/postgresql-15.shms', 'schemas/postgresql-15.names.json'],
    };
    for (const [what, list] of Object.entries(needs)) for (const f of list) assert.ok(shipped.includes(f), `${what} needs ${f}: ${shipped.join(', ')}`);
    // Import Types from a Program… runs `shmscope import PROGRAM`, which loads the DWARF reader (when it was built).
    const allowed = /^(package\.json|readme\.md|LICENSE(\.txt)?|\.vsixmanifest|dist\/(extension|server|cli|cli-[a-z]+)\.js|dist\/webview\/[^/]+\.(js|css)|native\/build\/Release\/shmscope(_dwarf)?\.node|extension\/(resources|syntaxes)\/[^/]+|extension\/language-configuration\.json|schemas\/[^/]+\.(shms|names\.json))$/i;
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

  it('the Waits view shows a process blocked on a set made here, and the Wait-for Graph draws it', () => step('waits', async () => {
    assert.ok(page, 'the workbench is up');
    const id = ipc.createSemSet({ key: 0, nsems: 1, values: [0] });
    created.push({ kind: 'sem', id });
    // The shipped command line waits on it (as a script on the machine would).
    const waiter = spawn(process.execPath, [path.join(installedDir, 'dist', 'cli.js'), 'sem', `sem:${id}`, 'wait', '0', '--timeout', '10m'], { stdio: 'ignore' });
    children.push(waiter);
    await until('the waiter blocks in the kernel (ncnt 1)', () => ipc.semGet(id).ncnt[0] === 1);
    await palette(page, 'Refresh Waits', WAIT);
    const header = page.locator('.pane-header', { hasText: 'Waits' }).first();
    await header.waitFor({ timeout: WAIT });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const wait = row(`sem:${id} sem[0]`);
    await wait.waitFor({ timeout: WAIT });
    assert.match((await wait.locator('.label-description').textContent()) ?? '', /^tid \d+ · semtimedop 0:-1/);
    await row(`pid ${waiter.pid}`).waitFor({ timeout: WAIT });
    await palette(page, 'Show Wait-for Graph', WAIT);
    await inspectorFrame(page).locator('svg .node.object', { hasText: `sem:${id}` }).first().waitFor({ timeout: WAIT });
    waiter.kill('SIGKILL');
    await once(waiter, 'exit');
    await until('the waiter left (ncnt 0)', () => ipc.semGet(id).ncnt[0] === 0);
  }));

  it('a Semaphore Wait shows a progress notification whose Cancel ends the wait', () => step('wait-cancel', async () => {
    assert.ok(page, 'the workbench is up');
    // Keyed, so that its row's label is its own: in a fresh IPC namespace a private set and a
    // private segment can both be "private · id 1".
    const key = freshKey();
    const id = ipc.createSemSet({ key, nsems: 1, values: [0] });
    created.push({ kind: 'sem', id });
    await refresh();
    await contextMenu(keyedLabel(key, id), 'Semaphore Wait…');
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
    const key = freshKey();
    const id = ipc.createMsgQueue({ key });
    created.push({ kind: 'msg', id });
    await refresh();
    const label = keyedLabel(key, id);
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
