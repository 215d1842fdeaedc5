// Inspector benchmark (issue 5), measured in a real workbench (code-server + chromium): prints one
// JSON line with inspector.firstPaintMs, inspector.jumpMs and inspector.refreshCpu. The figures come
// from timestamps taken where things happen, not from this driver's clock: the host stamps the
// Open Inspector command's handler (when the pick answered; it travels in init as openedAt), the
// page stamps the Enter key's event time, when bytes arrive, when rows are rendered and at the
// next animation frame, and the first render and frame that showed a new offset (a jump's rows;
// the jump's own read repaints them later) (body data-* attributes, all on the machine's wall
// clock). The workbench's
// share (until its webview frame got our content, from its own performance marks) is reported
// beside ours. Creates and removes its own segments.
// The workbench's floor is measured in the same run, in the same workbench, the same way: a
// minimal webview of a tiny extension this bench writes to a temporary folder and links beside
// ours (never part of the .vsix). Its command stamps the host clock and opens a panel whose HTML
// carries one row; its page paints that row (open-to-paint), and answers an Enter in its input
// with one message to its host, whose reply (a binary window) it paints (round trip + one frame).
// Ours is reported beside it as ratios. Our host's share ends when it hands the page's HTML to
// the workbench (handedAt, in init).
//   node --import tsx scripts/bench/inspector.ts
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import * as ipc from '../../extension/src/ipc';
import { launchBrowser, startWorkbench, type Workbench } from '../editor/workbench.mjs';

const root = path.resolve(__dirname, '..', '..');
const GiB = 2 ** 30;
const WAIT = 60_000;
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const created: ipc.Target[] = [];

const frame = (page: Page) => page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
const dataset = async (page: Page): Promise<Record<string, string | undefined>> => frame(page).locator('body').evaluate((b) => ({ ...(b as unknown as { dataset: Record<string, string | undefined> }).dataset }));

async function until(what: string, probe: () => boolean | Promise<boolean>, ms = WAIT): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The part of a page's document the focus checks read (this file has no DOM types). */
interface FocusDocument {
  hasFocus(): boolean;
  activeElement: { id?: string } | null;
}

/** A screenshot of the workbench and a line with the active page's marks, for a step that went wrong. */
async function evidence(page: Page, name: string): Promise<void> {
  const file = path.join(root, '.test-artifacts', `bench-inspector-${name}.png`);
  mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file }).catch(() => {});
  const focus = await frame(page).locator('body').evaluate((b) => {
    const d = (b as unknown as { ownerDocument: FocusDocument }).ownerDocument;
    return `${d.hasFocus() ? 'focused' : 'not focused'}, active element #${d.activeElement?.id ?? '?'}`;
  }).catch(() => '?');
  log(`${name}: screenshot ${file}; the page ${focus}; marks ${JSON.stringify(await dataset(page).catch(() => ({})))}`);
}

/** Whether `input` (in the active webview) has the keyboard: its frame is focused and it is the active element. */
async function hasKeyboard(page: Page, id: string): Promise<boolean> {
  return frame(page).locator(`#${id}`).evaluate((i) => {
    const d = (i as unknown as { ownerDocument: FocusDocument }).ownerDocument;
    return d.hasFocus() && d.activeElement === i;
  }).catch(() => false);
}

/**
 * Presses Enter in input `id` of the active webview once it has the keyboard, and returns the
 * page's stamp of that Enter (`inputAt`, the key event's time). Keys go to whatever has focus in
 * the workbench: under load the workbench may still be moving focus when the driver types (a run
 * once lost its Enter for 60 s), so focus is awaited first, and an Enter the page did not stamp
 * within 15 s is pressed again, with a screenshot and the page's state in the log.
 */
async function enterInto(page: Page, id: string, step: string): Promise<number> {
  const f = frame(page);
  const before = Number((await dataset(page)).inputAt ?? 0);
  for (let attempt = 1; ; attempt++) {
    await until(`#${id} has the keyboard (${step})`, async () => {
      if (await hasKeyboard(page, id)) return true;
      await f.locator(`#${id}`).focus().catch(() => {});
      return false;
    });
    await page.keyboard.press('Enter');
    const stamped = await until(`the page stamps the Enter (${step})`, async () => Number((await dataset(page)).inputAt ?? 0) > before, 15_000).then(() => true, () => false);
    if (stamped) return Number((await dataset(page)).inputAt);
    await evidence(page, `enter-${step.replace(/[^a-z0-9]+/gi, '-')}-${attempt}`);
    if (attempt >= 3) throw new Error(`the Enter pressed into #${id} never reached the page (${step}, ${attempt} tries)`);
  }
}

/** Opens "Shared Memory: Open Inspector" for segment `id`; returns Date.now() at the final Enter. */
async function open(page: Page, id: number): Promise<number> {
  const input = page.locator('.quick-input-widget input');
  // The palette lists the commands registered when it opened: right after a reload our extension
  // may not be registered yet, so ask again until the command is there.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: WAIT });
    await input.fill('>Shared Memory: Open Inspector');
    const found = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Inspector' }).first().waitFor({ timeout: 5_000 }).then(() => true, () => false);
    if (found) break;
    if (attempt >= 12) throw new Error('the palette never listed Shared Memory: Open Inspector');
    await page.keyboard.press('Escape');
  }
  await input.press('Enter');
  await input.fill(`id ${id}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: `id ${id}` }).first().waitFor({ timeout: WAIT });
  const t0 = Date.now();
  await input.press('Enter');
  return t0;
}

/**
 * When the workbench's webview host frame (pre/index.html) opened after `t0` got the page's
 * content and when its service worker was ready (its own performance marks), in ms after `t0`:
 * the part of the first paint that is the workbench's, not the page's.
 */
async function webviewHostMarks(page: Page, t0: number): Promise<{ content: number; worker: number } | undefined> {
  for (const fr of page.frames().filter((x) => x.url().includes('/webview/browser/pre/index.html'))) {
    const marks = await fr.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((e) => [e.name.replace(/^webview\/index\.html\//, ''), performance.timeOrigin + e.startTime]))).catch((): Record<string, number> => ({}));
    const content = marks['content/started'];
    const worker = marks['content/workerReady'];
    if (content !== undefined && worker !== undefined && content >= t0) return { content: Math.round(content - t0), worker: Math.round(worker - t0) };
  }
  return undefined;
}

/** The floor's command, as the palette lists it. */
const FLOOR_COMMAND = 'Webview Floor: Open Floor';
/** Bytes the floor's host answers a read with: about what our page reads for one screen. */
const FLOOR_READ = 1024;

/**
 * Writes the floor extension (package.json, extension.js) to a new folder and returns it. The
 * least a webview can do in this workbench: the command's handler stamps the host clock, creates a
 * panel and gives it HTML with one row of bytes inlined (script by nonce, as ours); its page
 * paints the row, and answers an Enter in its input with a `read` message whose reply (a
 * Uint8Array) it paints. The page stamps the same body data-* marks as ours.
 */
function writeFloorExtension(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-floor-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'webview-floor', publisher: 'shmscope-bench', version: '0.0.1', engines: { vscode: '^1.80.0' },
    main: './extension.js', activationEvents: ['onStartupFinished'],
    contributes: { commands: [{ command: 'shmscopeFloor.open', title: 'Open Floor', category: 'Webview Floor' }] },
  }));
  const page = `
const vscode = acquireVsCodeApi();
const d = document.body.dataset;
d.scriptAt = String(Date.now());
const meta = document.querySelector('meta[name="floor-init"]');
d.openedAt = meta.dataset.openedAt;
const row = document.getElementById('row');
const input = document.getElementById('goto-input');
function paint(offset, bytes, arrived) {
  row.dataset.offset = String(offset);
  row.textContent = offset.toString(16).padStart(8, '0') + '  ' + Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  d.bytesAt = String(arrived);
  d.renderedAt = String(Date.now());
  d.renderedOffset = String(offset);
  requestAnimationFrame(() => { d.framedAt = String(Date.now()); });
  if (!d.painted) { d.painted = 'true'; d.firstPaintAt = d.renderedAt; }
}
const bin = atob(meta.content);
paint(0, Uint8Array.from(bin, (c) => c.charCodeAt(0)), Date.now());
input.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  d.inputAt = String(Math.round(performance.timeOrigin + e.timeStamp));
  vscode.postMessage({ t: 'read', offset: Number(input.value), length: ${FLOOR_READ} });
});
window.addEventListener('message', (e) => {
  const m = e.data;
  if (m && m.t === 'bytes' && m.bytes instanceof Uint8Array) paint(m.offset, m.bytes, Date.now());
});`;
  writeFileSync(path.join(dir, 'extension.js'), `'use strict';
const vscode = require('vscode');
const crypto = require('node:crypto');
const PAGE = ${JSON.stringify(page)};
let n = 0;
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('shmscopeFloor.open', () => {
    const openedAt = Date.now();
    const panel = vscode.window.createWebviewPanel('shmscopeFloor', 'Webview Floor ' + (++n), vscode.ViewColumn.Active, { enableScripts: true, retainContextWhenHidden: true });
    const nonce = crypto.randomBytes(18).toString('base64');
    const first = Buffer.from(Uint8Array.from({ length: 16 }, (_, i) => i)).toString('base64');
    panel.webview.onDidReceiveMessage((m) => {
      if (m && m.t === 'read' && Number.isSafeInteger(m.offset) && Number.isSafeInteger(m.length) && m.length > 0 && m.length <= ${FLOOR_READ}) {
        void panel.webview.postMessage({ t: 'bytes', offset: m.offset, bytes: new Uint8Array(m.length) });
      }
    });
    panel.webview.html = '<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">'
      + '<meta http-equiv="Content-Security-Policy" content="default-src \\'none\\'; script-src \\'nonce-' + nonce + '\\'; style-src \\'nonce-' + nonce + '\\'">'
      + '<meta name="floor-init" data-opened-at="' + openedAt + '" content="' + first + '">'
      + '<style nonce="' + nonce + '">body { font-family: monospace; }</style><title>Floor</title></head>'
      + '<body><input id="goto-input" type="text"><div id="row" class="row"></div>'
      + '<script nonce="' + nonce + '">' + PAGE + '</' + 'script></body></html>';
  }));
};
exports.deactivate = () => undefined;
`);
  return dir;
}

/** Opens a floor tab through the palette; resolves when its row is painted, with its marks. */
async function openFloor(page: Page): Promise<Record<string, string | undefined>> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: WAIT });
    await input.fill(`>${FLOOR_COMMAND}`);
    const found = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Floor' }).first().waitFor({ timeout: 5_000 }).then(() => true, () => false);
    if (found) break;
    if (attempt >= 12) throw new Error(`the palette never listed ${FLOOR_COMMAND}`);
    await page.keyboard.press('Escape');
  }
  const tabs = await page.locator('.tab', { hasText: 'Webview Floor' }).count();
  await input.press('Enter');
  await until('a new floor tab', async () => (await page.locator('.tab', { hasText: 'Webview Floor' }).count()) > tabs);
  await page.locator('.tab.active', { hasText: 'Webview Floor' }).waitFor({ timeout: WAIT });
  await frame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
  return dataset(page);
}

/** The floor's open-to-paint of the marks `openFloor` returned. */
const floorPaint = (d: Record<string, string | undefined>) => Number(d.firstPaintAt) - Number(d.openedAt);

/** The floor's round trip + one frame, Enter's event time to the frame after its reply was painted (the active floor tab). */
async function floorJump(page: Page, target: number): Promise<number> {
  const f = frame(page);
  await f.locator('#goto-input').click();
  await f.locator('#goto-input').fill(String(target));
  const t0 = await enterInto(page, 'goto-input', `floor jump to ${target}`);
  await until('the floor paints its reply', async () => {
    const d = await dataset(page);
    return Number(d.renderedAt) >= t0 && Number(d.renderedOffset) === target && Number(d.framedAt) >= Number(d.renderedAt);
  });
  const d = await dataset(page);
  return Number(d.framedAt) - t0;
}

/** Closes every editor tab (through the palette, as a person would). */
async function closeAllEditors(page: Page): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.fill('>View: Close All Editors');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Close All Editors' }).first().waitFor({ timeout: WAIT });
  await input.press('Enter');
  await until('every tab is closed', async () => (await page.locator('.tab').count()) === 0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : 'n/a');

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
}

/** The extension host that code-server (process group `pgid`) runs for the window. */
function extensionHostPid(pgid: number): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (pgrp === pgid && /extensionHost/.test(cmd)) return Number(d);
    } catch {
      /* gone */
    }
  }
  throw new Error('no extension host process found');
}

async function main(): Promise<void> {
  const bigId = ipc.createShm({ key: 0, size: GiB, mode: 0o600 });
  created.push({ kind: 'shm', id: bigId });
  const warmIds = [0, 1, 2].map(() => {
    const id = ipc.createShm({ key: 0, size: GiB, mode: 0o600 });
    created.push({ kind: 'shm', id });
    return id;
  });
  const smallId = ipc.createShm({ key: 0, size: 65536, mode: 0o600 });
  created.push({ kind: 'shm', id: smallId });
  let wb: Workbench | undefined;
  let browser: Browser | undefined;
  const floorDir = writeFloorExtension();
  try {
    wb = await startWorkbench({ folder: path.join(root, 'test', 'editor', 'workspace'), extensionDevelopmentPath: root, extensionLink: floorDir, settings: { 'shmscope.inspector.refreshMs': 100, 'shmscope.refreshIntervalMs': 0 } });
    browser = await launchBrowser(wb.runDir);
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    // Every wait, the page load and reloads included, gets the same bound (Playwright's own default
    // of 30 s once cost a loaded run all four figures at the first page load).
    page.setDefaultTimeout(WAIT);
    page.setDefaultNavigationTimeout(WAIT);
    await page.goto(wb.url, { timeout: WAIT });
    await page.locator('.monaco-workbench').waitFor({ timeout: WAIT });
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').waitFor({ timeout: WAIT });

    // First paint: cold (first webview of the window) and warm (a second segment).
    const coldT0 = await open(page, bigId);
    await frame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    const coldSet = await dataset(page);
    const cold = Number(coldSet.firstPaintAt) - Number(coldSet.openedAt);
    const coldHost = await webviewHostMarks(page, Number(coldSet.openedAt));
    log(`cold breakdown: our host handed the HTML at ${Number(coldSet.handedAt) - Number(coldSet.openedAt)} ms, webview content ${coldHost?.content} ms, its service worker ready ${coldHost?.worker} ms, script ${Number(coldSet.scriptAt) - Number(coldSet.openedAt)} ms, init ${Number(coldSet.initAt) - Number(coldSet.openedAt)} ms, paint ${cold} ms after the command (the palette's Enter was ${Number(coldSet.openedAt) - coldT0} ms before it, on the driver's clock)`);
    // Warm: the floor and ours alternately, each a new tab of a window that has shown webviews.
    const warms: number[] = [];
    const warmScripts: number[] = [];
    const floorWarms: number[] = [];
    let warmSet: Record<string, string | undefined> = {};
    let warmHost: Awaited<ReturnType<typeof webviewHostMarks>>;
    for (const warmId of warmIds) {
      const floorSet = await openFloor(page);
      floorWarms.push(floorPaint(floorSet));
      log(`floor (a new tab): script ${Number(floorSet.scriptAt) - Number(floorSet.openedAt)} ms, paint ${floorPaint(floorSet)} ms after its command`);
      const warmT0 = await open(page, warmId);
      await page.locator('.tab.active', { hasText: `segment ${warmId}` }).waitFor({ timeout: WAIT });
      await frame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
      warmSet = await dataset(page);
      const warm = Number(warmSet.firstPaintAt) - Number(warmSet.openedAt);
      warms.push(warm);
      warmScripts.push(Number(warmSet.firstPaintAt) - Number(warmSet.scriptAt));
      warmHost = await webviewHostMarks(page, Number(warmSet.openedAt));
      log(`warm breakdown: our host handed the HTML at ${Number(warmSet.handedAt) - Number(warmSet.openedAt)} ms, webview content ${warmHost?.content} ms, its service worker ready ${warmHost?.worker} ms, script ${Number(warmSet.scriptAt) - Number(warmSet.openedAt)} ms, init ${Number(warmSet.initAt) - Number(warmSet.openedAt)} ms, paint ${warm} ms after the command (the palette's Enter was ${Number(warmSet.openedAt) - warmT0} ms before it)`);
    }
    const warm = median(warms);
    const floorWarm = median(floorWarms);
    log(`first paint: cold ${cold} ms, warm ${JSON.stringify(warms)} (median ${warm}) ms; the floor ${JSON.stringify(floorWarms)} (median ${floorWarm}) ms`);

    // Go to Offset: paused, so the only reads are the jump's. Two ways of entering the target: as
    // the driver does it (filled at once, Enter right after: the read ahead of the target is still
    // travelling) and as a person types it (Enter after the page has read the target's rows ahead,
    // which it does while the target is typed; a person takes longer than that round trip).
    const f = frame(page);
    await f.locator('#pause').click();
    const jumpOnce = async (target: number, typed: boolean) => {
      // Ctrl+G reaches the page only when its frame has the keyboard: the bar is open once its
      // input has it (else the grid is focused again and Ctrl+G pressed again).
      for (let attempt = 1; ; attempt++) {
        await f.locator('#grid').click();
        await page.keyboard.press('Control+g');
        const open = await until('the Go to bar\'s input has the keyboard', () => hasKeyboard(page, 'goto-input'), 15_000).then(() => true, () => false);
        if (open) break;
        await evidence(page, `goto-open-${attempt}`);
        if (attempt >= 3) throw new Error(`Ctrl+G never opened the Go to bar with the keyboard in it (${attempt} tries)`);
      }
      await f.locator('#goto-input').fill(`0x${target.toString(16)}`);
      if (typed) {
        await until(`the rows of 0x${target.toString(16)} are read ahead`, async () => {
          const ahead = Number((await dataset(page)).aheadOffset ?? -1);
          return ahead >= 0 && ahead <= target && target - ahead < 8192;
        });
      }
      const t0 = await enterInto(page, 'goto-input', `${typed ? 'typed' : 'filled'} jump to 0x${target.toString(16)}`);
      const hexTarget = `0x${target.toString(16)} `;
      // The first frame that showed the target's rows (shownAt/shownFramedAt: the read that
      // follows the jump paints the same rows again, later, and moves renderedAt/framedAt).
      await until(`the jump to 0x${target.toString(16)} is rendered`, async () => {
        const d = await dataset(page);
        const at = Number(d.renderedOffset);
        return Number(d.shownAt) >= t0 && at <= target && target < at + 4096 && Number(d.shownFramedAt) >= Number(d.shownAt)
          && ((await f.locator('#status-cursor').textContent()) ?? '').includes(hexTarget);
      });
      const d = await dataset(page);
      const row = await f.locator(`.row[data-offset="${target - (target % 16)}"]`).count();
      if (row !== 1) throw new Error(`row of 0x${target.toString(16)} not shown`);
      return { total: Number(d.shownFramedAt) - t0, afterBytes: Number(d.shownFramedAt) - Math.max(t0, Number(d.shownBytesAt)) };
    };
    const jumps: { total: number; afterBytes: number }[] = [];
    const typedJumps: number[] = [];
    const typedTargets = [GiB / 4 + 0x100, GiB - 65536, 0x0765_4320, (3 * GiB) / 4, 0x10000];
    for (const [i, target] of [GiB - 16, GiB / 2, 0x1234_5670, GiB - 4096, 16].entries()) {
      jumps.push(await jumpOnce(target, false));
      typedJumps.push((await jumpOnce(typedTargets[i]!, true)).total);
    }
    const jumpTotal = median(jumps.map((j) => j.total));
    const jumpAfterBytes = median(jumps.map((j) => j.afterBytes));
    const jumpTyped = median(typedJumps);
    log(`jumps, filled: ${JSON.stringify(jumps)}; typed: ${JSON.stringify(typedJumps)}`);

    // The floor's round trip + one frame: a new floor tab, the same targets.
    await openFloor(page);
    const floorJumps: number[] = [];
    for (const target of [GiB - 16, GiB / 2, 0x1234_5670, GiB - 4096, 16]) floorJumps.push(await floorJump(page, target));
    const floorJumpMs = median(floorJumps);
    log(`floor round trips + one frame: ${JSON.stringify(floorJumps)}`);
    // Back to our 1 GiB tab for the heap figure.
    await page.locator('.tab', { hasText: `segment ${warmIds[warmIds.length - 1]}` }).click();
    await page.locator('.tab.active', { hasText: `segment ${warmIds[warmIds.length - 1]}` }).waitFor({ timeout: WAIT });

    // Webview memory: heap at first paint of the 1 GiB tab against after scrolling through it.
    const heap = () => f.locator('body').evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
    const heap0 = await heap();
    // SHMSCOPE_BENCH_INSPECTOR_SCROLLS (default 100) shortens this for a run under a CPU hog,
    // where each scroll position takes seconds.
    const scrolls = Number(process.env.SHMSCOPE_BENCH_INSPECTOR_SCROLLS) > 0 ? Math.floor(Number(process.env.SHMSCOPE_BENCH_INSPECTOR_SCROLLS)) : 100;
    for (let i = 1; i <= scrolls; i++) {
      const before = (await dataset(page)).renderedAt;
      await f.locator('#scroller').evaluate((el: unknown, frac: number) => {
        const box = el as { scrollTop: number; scrollHeight: number; clientHeight: number };
        box.scrollTop = frac * (box.scrollHeight - box.clientHeight);
      }, i / scrolls);
      await until('the scrolled rows are rendered', async () => (await dataset(page)).renderedAt !== before, 10_000).catch(() => undefined);
    }
    const heap1 = await heap();
    const domRows = await f.locator('.rows .row').count();
    log(`webview heap: ${heap0} bytes at first paint, ${heap1} after scrolling through 1 GiB (${domRows} row elements)`);

    // Live refresh at 10 Hz: extension host CPU while one inspector refreshes, against idle.
    const pid = extensionHostPid(wb.pid);
    await open(page, smallId);
    await page.locator('.tab.active', { hasText: `segment ${smallId}` }).waitFor({ timeout: WAIT });
    await frame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    const windowBytes = await frame(page).locator('.rows .row:not([hidden])').count() * 16;
    const measure = async (ms: number) => {
      const c0 = cpuSeconds(pid);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      return (cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000);
    };
    const live = await measure(10_000);
    await frame(page).locator('#pause').click();
    const idle = await measure(10_000);
    log(`extension host CPU: live ${(live * 100).toFixed(2)} %, paused ${(idle * 100).toFixed(2)} % (window ${windowBytes} bytes)`);

    // First paint as users meet it: the first inspector of a window whose browser has served
    // webviews before (the workbench's service worker installed), i.e. after a window reload.
    // The tabs are closed first (open, they would be restored by the reload, not opened), and the
    // window reloads as a person reloads it (Developer: Reload Window: the workbench saves its state first).
    // If the reloaded window cannot be measured, the second tab's figure stands in, and says so.
    let reload: { value: number; ours: number; content: number | undefined; script: number } | string;
    const reloadWindow = async () => {
      await closeAllEditors(page);
      await Promise.all([page.waitForEvent('load', { timeout: WAIT }), (async () => {
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget input');
        await input.fill('>Developer: Reload Window');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reload Window' }).first().waitFor({ timeout: WAIT });
        await input.press('Enter');
      })()]);
      await page.locator('.monaco-workbench').waitFor({ timeout: WAIT });
      await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').waitFor({ timeout: WAIT });
    };
    try {
      await reloadWindow();
      const reloadT0 = await open(page, bigId);
      await page.locator('.tab.active', { hasText: `segment ${bigId}` }).waitFor({ timeout: WAIT });
      await frame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
      const reloadSet = await dataset(page);
      const opened = Number(reloadSet.openedAt);
      const host = await webviewHostMarks(page, opened);
      reload = { value: Number(reloadSet.firstPaintAt) - opened, ours: Number(reloadSet.firstPaintAt) - Number(reloadSet.scriptAt), content: host?.content, script: Number(reloadSet.scriptAt) - opened };
      log(`reloaded-window breakdown: our host handed the HTML at ${Number(reloadSet.handedAt) - opened} ms, webview content ${host?.content} ms, script ${reload.script} ms, paint ${reload.value} ms after the command (the palette's Enter was ${opened - reloadT0} ms before it)`);
    } catch (e) {
      const logs = wb.saveLogs(path.join(root, '.test-artifacts', 'bench-inspector-logs'));
      reload = `the reloaded window could not be measured (${(e instanceof Error ? e.message : String(e)).split('\n')[0]}${logs ? `; its logs: ${logs}` : ''})`;
      log(reload);
    }
    // The floor's first webview of a reloaded window: the same situation, a reload of its own.
    let floorReload: number | undefined;
    if (typeof reload !== 'string') {
      try {
        await reloadWindow();
        const d = await openFloor(page);
        floorReload = floorPaint(d);
        const host = await webviewHostMarks(page, Number(d.openedAt));
        log(`floor, reloaded window: webview content ${host?.content} ms, script ${Number(d.scriptAt) - Number(d.openedAt)} ms, paint ${floorReload} ms after its command`);
      } catch (e) {
        log(`the floor's reloaded window could not be measured (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
      }
    }
    const warmOurs = median(warmScripts);
    const floorText = `the floor (a minimal webview in the same workbench, same clocks): ${floorReload !== undefined ? `${floorReload} ms as the first webview of a reloaded window, ` : ''}${floorWarm} ms as a new tab (median of ${floorWarms.length})`;
    const firstPaint = typeof reload === 'string'
      ? { value: warm, goal: '< 200', detail: `Open Inspector's handler (host clock) to the first rows of a 1 GiB segment painted (page clock), a new tab (median of ${warms.length}): the workbench handed the last one's webview its content at ${warmHost?.content ?? '?'} ms, ours is ${warmOurs} ms from our script; ${reload}; the first webview of a fresh browser profile: ${cold} ms (its service worker was ready only at ${coldHost?.worker ?? '?'} ms); ${floorText}` }
      : { value: reload.value, goal: '< 200', detail: `Open Inspector's handler (host clock) to the first rows of a 1 GiB segment painted (page clock), first inspector of a reloaded window; the workbench's share: it handed the webview its content at ${reload.content ?? '?'} ms and our script ran at ${reload.script} ms, so ours is ${reload.ours} ms; a new tab: ${warm} ms (median of ${warms.length}; ours ${warmOurs} ms from our script); the first webview of a fresh browser profile: ${cold} ms (its service worker was ready only at ${coldHost?.worker ?? '?'} ms); ${floorText}` };
    const reloadRatio = typeof reload !== 'string' && floorReload !== undefined ? ratio(reload.value, floorReload) : undefined;
    const firstPaintVsFloor = {
      value: reloadRatio ?? ratio(warm, floorWarm),
      goal: '<= 1.3',
      detail: reloadRatio !== undefined
        ? `ours ÷ the floor's open-to-paint, first webview of a reloaded window (${typeof reload !== 'string' ? reload.value : '?'} ms vs ${floorReload} ms); as a new tab ${ratio(warm, floorWarm)} (${warm} ms vs ${floorWarm} ms, medians of ${warms.length})`
        : `ours ÷ the floor's open-to-paint as a new tab (${warm} ms vs ${floorWarm} ms, medians of ${warms.length}); the reloaded windows could not both be measured`,
    };

    process.stdout.write(`${JSON.stringify({
      'inspector.firstPaintMs': firstPaint,
      'inspector.firstPaintVsFloor': firstPaintVsFloor,
      'inspector.jumpMs': { value: jumpTyped, goal: '<= 50', detail: `Go to Offset: the Enter key's event time to the next frame showing the new rows (both page clock), median of ${typedJumps.length}, the target typed (Enter after the page read its rows ahead); filled and Enter at once (the read ahead still travelling): ${jumpTotal} ms, median of ${jumps.length}, bytes arrival (or the Enter, when they were read ahead before it) to that frame ${jumpAfterBytes} ms; the floor's round trip + one frame: ${floorJumpMs} ms` },
      'inspector.jumpVsFloor': { value: ratio(jumpTyped, floorJumpMs), goal: '<= 1.3', detail: `ours ÷ the floor's message round trip + one frame (Enter's event time to the frame after the reply was painted, median of ${floorJumps.length}: ${JSON.stringify(floorJumps)} ms), the target typed: ${JSON.stringify(typedJumps)} ms; filled and Enter at once: ${ratio(jumpTotal, floorJumpMs)} (${JSON.stringify(jumps.map((j) => j.total))} ms)` },
      'inspector.webviewHeapRatio': { value: heap0 > 0 ? Number((heap1 / heap0).toFixed(3)) : 'n/a', goal: '< 2', detail: `webview JS heap after ${scrolls} scroll positions across 1 GiB / at first paint (${heap0} -> ${heap1} bytes; ${domRows} row elements)` },
      'inspector.refreshCpu': { value: Number(live.toFixed(4)), goal: '< 0.05', detail: `extension host CPU share (1 = one core) with one inspector refreshing at 10 Hz (${windowBytes}-byte visible window, 64 KiB segment), an upper bound: the same host paused uses ${idle.toFixed(4)}, so the refresh's own share is about ${Math.max(0, live - idle).toFixed(4)}` },
    })}\n`);
  } catch (e) {
    const page = browser?.contexts()[0]?.pages()[0];
    if (page) {
      await page.screenshot({ path: path.join(root, '.test-artifacts', 'bench-inspector-failure.png') }).catch(() => {});
      const logs = wb?.saveLogs(path.join(root, '.test-artifacts', 'bench-inspector-logs'));
      if (logs) log(`workbench logs: ${logs}`);
      log(`page state: ${JSON.stringify(await dataset(page).catch(() => ({})))} cursor ${await frame(page).locator('#status-cursor').textContent().catch(() => '?')} goto ${await frame(page).locator('#goto-message').textContent().catch(() => '?')}`);
    }
    throw e;
  } finally {
    await browser?.close().catch(() => {});
    await wb?.stop().catch(() => {});
    rmSync(floorDir, { recursive: true, force: true });
    for (const t of created) {
      try {
        if (ipc.exists(t)) ipc.remove(t);
      } catch {
        /* gone */
      }
    }
  }
}

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
