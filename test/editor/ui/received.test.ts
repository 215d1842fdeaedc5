// Files a repository or a person hands over, opened in the real workbench: a FIFO named
// x.shmsnap double-clicked in the Explorer, and a
// snapshot tab whose file became a FIFO before the window reloads (tab restore shares the reader).
// Before, each parked the extension host's main thread in open(2) for good. Now each tab says what
// the file is, the extension host is the process it was, and it answers a command within 2 s.
// Everything is removed in after(), even on failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { encodeSnapshotHeader } from '../../../extension/src/shared/inspector/snapshot';
import { extensionHostPid, failureStep, focusWorkbench, openWorkbench, type OpenWorkbench, palette, reloadWindow, ROOT, STARTUP_MS } from './driver';
import { untilWithin } from '../../helpers/wait';

const WAIT = 30_000;
/** How soon the extension host must answer a command while (and after) it meets such a file. */
const ANSWER_MS = 2_000;
/** The first answer of a window's extension host includes activating the extension (a start: slow on a busy machine). */
const ACTIVATE_MS = STARTUP_MS;
const tag = `shmscope-received-${process.pid}`;
const workspace = path.join('/tmp', tag);
const obj = `/${tag}-obj`;
let opened: OpenWorkbench | undefined;
let page: Page;
const step = failureStep('received', { page: () => page, workbench: () => opened?.wb });
const until = untilWithin(WAIT);


function fifo(p: string): void {
  rmSync(p, { force: true });
  assert.equal(spawnSync('mkfifo', [p]).status, 0, 'mkfifo');
}

/** A command that needs the extension host: its quick pick (listing `obj`) shows within `timeout`. */
async function hostAnswers(timeout = ANSWER_MS): Promise<void> {
  await palette(page, 'Open Inspector', WAIT);
  // The palette closes and the host's own quick pick opens: only a host that runs can show it.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: obj }).first().waitFor({ timeout });
  await page.keyboard.press('Escape');
}

/** Double-clicks FILE in the Explorer (it opens with its default editor, ours for .shmsnap). */
async function doubleClick(name: string): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press('Control+Shift+E');
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: WAIT });
  await row.dblclick();
}

/** The sentence a tab shows instead of an inspector (its page has no script: no ready marker). */
async function tabSentence(): Promise<string> {
  const f = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  return (await f.locator('#restore-problem').textContent({ timeout: 2_000 }).catch(() => '')) ?? '';
}

describe('received files in the workbench', () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    fifo(path.join(workspace, 'x.shmsnap'));
    const bytes = new Uint8Array(256).map((_, i) => i);
    writeFileSync(path.join(workspace, 'good.shmsnap'), Buffer.concat([encodeSnapshotHeader({ version: 1, target: 'key:0x1', title: 'good', size: bytes.length, time: new Date(0).toISOString() }), bytes]));
    ipc.createPosixShm({ name: obj, size: 4096, mode: 0o600 });
    opened = await openWorkbench({ root: ROOT, folder: workspace, settings: { 'shmscope.refreshIntervalMs': 0 } });
    page = opened.page;
  });

  after(async () => {
    await opened?.close();
    try { if (ipc.exists({ kind: 'posix-shm', name: obj })) ipc.remove({ kind: 'posix-shm', name: obj }); } catch { /* gone */ }
    rmSync(workspace, { recursive: true, force: true });
  });

  it('a FIFO named x.shmsnap opens as a tab that says what it is; the host answers within 2 s', () => step('fifo', async () => {
    const hostPid = await until('the extension host', () => extensionHostPid(opened!.wb.pid));
    await hostAnswers(ACTIVATE_MS); // the first answer includes activating the extension
    await hostAnswers();
    await doubleClick('x.shmsnap');
    await page.locator('.tab.active', { hasText: 'x.shmsnap' }).waitFor({ timeout: WAIT });
    await until('the tab says it is a FIFO', async () => /cannot be shown as a snapshot: it is a FIFO \(named pipe\), not a regular file/.test(await tabSentence()));
    await hostAnswers();
    assert.equal(extensionHostPid(opened!.wb.pid), hostPid, 'the extension host is the process it was');
  }));

  it('a snapshot tab whose file became a FIFO is restored after a reload as a sentence, not a hang', () => step('restore', async () => {
    const before = extensionHostPid(opened!.wb.pid);
    await doubleClick('good.shmsnap');
    await page.locator('.tab.active', { hasText: 'good.shmsnap' }).waitFor({ timeout: WAIT });
    const f = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
    await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    fifo(path.join(workspace, 'good.shmsnap'));
    await reloadWindow(page, WAIT);
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').waitFor({ timeout: STARTUP_MS });
    // The reloaded window has an extension host of its own (the old one ends).
    const reloadedPid = await untilWithin(STARTUP_MS)('the reloaded window\'s extension host', () => {
      const p = extensionHostPid(opened!.wb.pid);
      return p !== undefined && p !== before ? p : undefined;
    });
    await hostAnswers(ACTIVATE_MS);
    await page.locator('.tab', { hasText: 'good.shmsnap' }).first().click();
    await until('the restored tab says it is a FIFO', async () => /cannot be shown as a snapshot: it is a FIFO \(named pipe\), not a regular file/.test(await tabSentence()));
    await hostAnswers();
    assert.equal(extensionHostPid(opened!.wb.pid), reloadedPid, 'the reloaded window\'s extension host is the process it was');
  }));
});
