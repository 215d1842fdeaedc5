// The inspector in a real workbench (code-server + chromium), driven the way a person uses it:
// the command palette's quick pick, the hex grid inside the webview, Ctrl+G, Find, typing, Ctrl+Z.
// The segments are made here with known patterns and removed in after(), even on failure.
// Screenshots of a failing step land in .test-artifacts/inspector-*.png.
//   node --import tsx --test test/editor/ui/inspector.test.ts   (or node test/editor/run.mjs --only ui)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { untilWithin } from '../../helpers/wait';
import { failureStep, inspectorFrame, openWorkbench, type OpenWorkbench, palette as paletteOf, reloadWindow, ROOT, STARTUP_MS } from './driver';

const GiB = 2 ** 30;
const WAIT = 30_000;

const created: ipc.Target[] = [];
const handles: ipc.ShmHandle[] = [];
let opened: OpenWorkbench | undefined;
let page: Page;
let workspace: string | undefined;

/** The byte the tests put at each offset of a segment. */
const patternByte = (o: number) => (o * 7 + (o >> 8)) & 0xff;
const hex = (b: number) => b.toString(16).padStart(2, '0');
const rowText = (offset: number, bytes: number[]) => `${offset.toString(16).padStart(8, '0')}${bytes.map(hex).join('')}`;

function makeSegment(size: number, fill: [number, number][]) {
  const id = ipc.createShm({ key: 0, size, mode: 0o600 });
  created.push({ kind: 'shm', id });
  const h = ipc.openShm({ kind: 'shm', id }, { readWrite: true });
  handles.push(h);
  for (const [offset, length] of fill) {
    h.write(offset, Uint8Array.from({ length }, (_, i) => patternByte(offset + i)));
  }
  return { id, h };
}

const frame = () => inspectorFrame(page);


const step = failureStep('inspector', { page: () => page, workbench: () => opened?.wb });

const palette = (title: string, pick?: string) => paletteOf(page, title, WAIT, pick);

async function openInspector(id: number, readWrite = false) {
  await palette(readWrite ? 'Open Read-Write…' : 'Open Inspector', `id ${id}`);
  if (readWrite) {
    const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Open Read-Write' });
    await confirm.waitFor({ timeout: WAIT });
    await confirm.click();
  }
  await page.locator('.tab.active', { hasText: `segment ${id}` }).waitFor({ timeout: WAIT });
  await frame().locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
}

const until = untilWithin(WAIT);

describe('inspector in the workbench', { timeout: 600_000 }, () => {
  let big: ReturnType<typeof makeSegment>;
  let small: ReturnType<typeof makeSegment>;

  before(async () => {
    big = makeSegment(GiB, [[0, 4096], [GiB - 4096, 4096]]);
    big.h.write(0x2000_0000, new TextEncoder().encode('needle-in-a-gigabyte'));
    small = makeSegment(65536, [[0, 65536]]);
    workspace = mkdtempSync(path.join(os.tmpdir(), 'shmscope-insp-ws-'));
    opened = await openWorkbench({ root: ROOT, folder: workspace, settings: { 'shmscope.inspector.refreshMs': 200 }, width: 1600 });
    page = opened.page;
  });

  after(async () => {
    await opened?.close();
    for (const h of handles) { try { h.close(); } catch { /* closed */ } }
    for (const t of created) { try { if (ipc.exists(t)) ipc.remove(t); } catch { /* gone */ } }
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('shows the right bytes at the right offsets for a 1 GiB segment', () => step('open', async () => {
    await openInspector(big.id);
    const f = frame();
    for (const off of [0, 16, 0x100]) {
      const want = rowText(off, Array.from({ length: 16 }, (_, i) => patternByte(off + i)));
      assert.equal(((await f.locator(`.row[data-offset="${off}"]`).textContent()) ?? '').slice(0, want.length), want);
    }
    assert.match((await f.locator('#status-size').textContent()) ?? '', /1073741824 bytes/);
    assert.equal(await f.locator('#mode').textContent(), 'read-only');
    assert.ok((await f.locator('.rows .row').count()) < 200, 'the DOM holds only the visible rows');
    assert.equal(await f.locator('body').getAttribute('data-first-from'), 'html', 'the first rows came with the page, before any message');
    // The page's rest (side panel, Find, timeline) is a second script, loaded after the first paint.
    await f.locator('#data-inspector').waitFor({ state: 'attached', timeout: WAIT });
    assert.ok(Number(await f.locator('body').getAttribute('data-rest-at')) >= Number(await f.locator('body').getAttribute('data-first-paint-at')), 'the rest came after the first paint');
    assert.equal(await f.locator('script[src*="rest.js"]').count(), 1, 'the rest is a script of its own');
  }));

  it('goes to an offset near the end with Ctrl+G', () => step('goto', async () => {
    const f = frame();
    await f.locator('#grid').click();
    // The Go to bar is an overlay: opening and closing it leaves the grid's size (and rows) alone.
    const gridHeight = () => f.locator('#grid').evaluate((g) => (g as unknown as { clientHeight: number }).clientHeight);
    const heightBefore = await gridHeight();
    await page.keyboard.press('Control+g');
    await f.locator('#goto-input').waitFor({ state: 'visible', timeout: WAIT });
    assert.equal(await gridHeight(), heightBefore, 'the open Go to bar does not shrink the grid');
    await f.locator('#goto-input').fill('0x3ffffff0');
    // The target's rows are read while it is typed: Enter paints them from bytes the page has.
    const body = f.locator('body');
    await until('the target\'s rows are read ahead', async () => {
      const at = Number(await body.getAttribute('data-ahead-offset'));
      return at > GiB - 16 * 200 && at < GiB - 16;
    });
    const paintsAhead = Number((await body.getAttribute('data-paints-ahead')) ?? 0);
    await f.locator('#goto-input').press('Enter');
    await until('the jump is painted from the bytes read ahead', async () => Number((await body.getAttribute('data-paints-ahead')) ?? 0) > paintsAhead);
    const off = GiB - 16;
    const row = f.locator(`.row[data-offset="${off}"]`);
    await row.waitFor({ timeout: WAIT });
    const want = rowText(off, Array.from({ length: 16 }, (_, i) => patternByte(off + i)));
    await until('the last row shows its bytes', async () => ((await row.textContent()) ?? '').startsWith(want));
    assert.match((await f.locator('#status-cursor').textContent()) ?? '', /0x3ffffff0/);
    assert.equal(await f.locator('#goto-bar').isHidden(), true, 'Enter closes the Go to bar');
    assert.equal(await gridHeight(), heightBefore, 'closing the Go to bar does not grow the grid');
  }));

  it('finds text in the middle of the segment', () => step('find', async () => {
    const f = frame();
    await page.keyboard.press('Control+Home');
    // Find is an overlay too: opening it, searching with it open and closing it leave the grid's size alone.
    const gridHeight = () => f.locator('#grid').evaluate((g) => (g as unknown as { clientHeight: number }).clientHeight);
    const heightBefore = await gridHeight();
    await page.keyboard.press('Control+f');
    await f.locator('#find-input').waitFor({ state: 'visible', timeout: WAIT });
    assert.equal(await gridHeight(), heightBefore, 'the open Find bar does not shrink the grid');
    await f.locator('#find-kind').selectOption('text');
    await f.locator('#find-input').fill('needle-in');
    await f.locator('#find-input').press('Enter');
    await until('the match is found', async () => /found at 0x20000000/.test((await f.locator('#find-message').textContent()) ?? ''));
    const match = f.locator('.row[data-offset="536870912"]');
    await match.waitFor({ timeout: WAIT });
    assert.match((await f.locator('#status-selection').textContent()) ?? '', /Selection 9 bytes/);
    assert.equal(await gridHeight(), heightBefore, 'the grid keeps its size while Find shows a match');
    // The match is shown below the overlay, not under it.
    const barBottom = await f.locator('#find-bar').evaluate((b) => (b as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect().bottom);
    const matchTop = await match.evaluate((r) => (r as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top);
    assert.ok(matchTop >= barBottom, `the match's row (top ${matchTop}) is below the Find bar (bottom ${barBottom})`);
    await f.locator('#find-input').press('Escape');
    await f.locator('#find-bar').waitFor({ state: 'hidden', timeout: WAIT });
    assert.equal(await gridHeight(), heightBefore, 'closing the Find bar does not grow the grid');
  }));

  it('highlights a byte changed by another process after the next refresh', () => step('change', async () => {
    const f = frame();
    const off = 0x2000_0000 + 3;
    big.h.write(off, new Uint8Array([0xee]));
    const cell = f.locator(`.hex span[data-offset="${off}"]`);
    await until('the changed byte is highlighted', async () => /\bchg\b/.test((await cell.getAttribute('class')) ?? ''));
    assert.equal(await cell.textContent(), 'ee');
  }));

  it('refuses edits in a read-only tab', () => step('readonly', async () => {
    const f = frame();
    const off = 0x2000_0000 + 20;
    await f.locator(`.hex span[data-offset="${off}"]`).click();
    await page.keyboard.type('ab');
    await until('the refusal is shown', async () => /read-only/.test((await f.locator('#status-message').textContent()) ?? ''));
    assert.equal(big.h.read(off, 1)[0], 0);
  }));

  it('writes typed bytes in a read-write tab, and undo restores them', () => step('readwrite', async () => {
    await openInspector(small.id, true);
    const f = frame();
    assert.equal(await f.locator('#mode').textContent(), 'read-write');
    const off = 0x12;
    await f.locator(`.hex span[data-offset="${off}"]`).click();
    await page.keyboard.type('ab');
    await until('the byte reaches the segment', () => small.h.read(off, 1)[0] === 0xab);
    await page.keyboard.press('Control+z');
    await until('undo restores it', () => small.h.read(off, 1)[0] === patternByte(off));
    await until('the grid shows the restored byte', async () => (await f.locator(`.hex span[data-offset="${off}"]`).textContent()) === hex(patternByte(off)));
  }));

  it('shows a banner when the segment is removed, and the host keeps working', () => step('removed', async () => {
    await page.locator('.tab', { hasText: `segment ${big.id}` }).click();
    const f = frame();
    await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    ipc.remove({ kind: 'shm', id: big.id });
    await f.locator('#banner').waitFor({ state: 'visible', timeout: WAIT });
    assert.match((await f.locator('#banner').textContent()) ?? '', /was removed/);
    assert.ok(((await f.locator('.row[data-offset="536870912"]').textContent()) ?? '').startsWith('20000000'), 'the last bytes stay visible');
    // The extension host still answers: another inspector opens and paints.
    await page.locator('.tab', { hasText: `segment ${small.id}` }).click();
    await openInspector(small.id);
  }));

  it('inspector tabs survive a window reload: a live object reopens, a removed one says so', () => step('reload', async () => {
    // A POSIX object's name goes at once when it is unlinked, whoever still has it open.
    const name = `/shmscope-reload-${process.pid}-${Date.now().toString(36)}`;
    ipc.createPosixShm({ name, size: 4096, mode: 0o600 });
    created.push({ kind: 'posix-shm', name });
    await palette('Open Inspector', name);
    await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: WAIT });
    await frame().locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    ipc.remove({ kind: 'posix-shm', name });
    const reloadedAt = Date.now();
    await reloadWindow(page, WAIT);
    await page.locator('.tab', { hasText: `segment ${small.id}` }).first().click();
    const f = frame();
    // The reloaded window's extension host starts and restores the tab: a start, bounded as one.
    await f.locator('body[data-painted="true"]').waitFor({ timeout: STARTUP_MS });
    await until('the page is the reloaded window\'s', async () => Number(await f.locator('body').getAttribute('data-script-at')) >= reloadedAt);
    const want = rowText(0, Array.from({ length: 16 }, (_, i) => patternByte(i)));
    await until('the restored tab shows its bytes', async () => ((await f.locator('.row[data-offset="0"]').textContent()) ?? '').startsWith(want));
    assert.equal(await f.locator('#mode').textContent(), 'read-only', 'a restored tab is read-only until asked again');
    await page.locator('.tab', { hasText: name }).first().click();
    await until('the removed object\'s tab says so', async () => /no longer exists/.test((await frame().locator('#restore-problem').textContent({ timeout: 2000 }).catch(() => '')) ?? ''));
  }));
});
