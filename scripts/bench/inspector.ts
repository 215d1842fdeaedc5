// Inspector benchmark (issue 5), measured in a real workbench (code-server + chromium): prints one
// JSON line with inspector.firstPaintMs, inspector.jumpMs and inspector.refreshCpu. The figures come
// from timestamps taken where things happen, not from this driver's clock: the host stamps the
// Open Inspector command's handler (when the pick answered; it travels in init as openedAt), the
// page stamps the Enter key's event time, when bytes arrive, when rows are rendered and at the
// next animation frame (body data-* attributes, all on the machine's wall clock). The workbench's
// share (until its webview frame got our content, from its own performance marks) is reported
// beside ours. Creates and removes its own segments.
//   node --import tsx scripts/bench/inspector.ts
import { readdirSync, readFileSync } from 'node:fs';
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
  const warmId = ipc.createShm({ key: 0, size: GiB, mode: 0o600 });
  created.push({ kind: 'shm', id: warmId });
  const smallId = ipc.createShm({ key: 0, size: 65536, mode: 0o600 });
  created.push({ kind: 'shm', id: smallId });
  let wb: Workbench | undefined;
  let browser: Browser | undefined;
  try {
    wb = await startWorkbench({ folder: path.join(root, 'test', 'editor', 'workspace'), extensionDevelopmentPath: root, settings: { 'shmscope.inspector.refreshMs': 100, 'shmscope.refreshIntervalMs': 0 } });
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
    log(`cold breakdown: webview content ${coldHost?.content} ms, its service worker ready ${coldHost?.worker} ms, script ${Number(coldSet.scriptAt) - Number(coldSet.openedAt)} ms, init ${Number(coldSet.initAt) - Number(coldSet.openedAt)} ms, paint ${cold} ms after the command (the palette's Enter was ${Number(coldSet.openedAt) - coldT0} ms before it, on the driver's clock)`);
    const warmT0 = await open(page, warmId);
    await page.locator('.tab.active', { hasText: `segment ${warmId}` }).waitFor({ timeout: WAIT });
    await frame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    const warmSet = await dataset(page);
    const warm = Number(warmSet.firstPaintAt) - Number(warmSet.openedAt);
    const warmHost = await webviewHostMarks(page, Number(warmSet.openedAt));
    log(`warm breakdown: webview content ${warmHost?.content} ms, its service worker ready ${warmHost?.worker} ms, script ${Number(warmSet.scriptAt) - Number(warmSet.openedAt)} ms, init ${Number(warmSet.initAt) - Number(warmSet.openedAt)} ms, paint ${warm} ms after the command (the palette's Enter was ${Number(warmSet.openedAt) - warmT0} ms before it)`);
    log(`first paint: cold ${cold} ms, warm ${warm} ms`);

    // Go to Offset: paused, so the only read is the jump's.
    const f = frame(page);
    await f.locator('#pause').click();
    const jumps: { total: number; afterBytes: number }[] = [];
    for (const target of [GiB - 16, GiB / 2, 0x1234_5670, GiB - 4096, 16]) {
      await f.locator('#grid').click();
      await page.keyboard.press('Control+g');
      await f.locator('#goto-input').fill(`0x${target.toString(16)}`);
      const before = Number((await dataset(page)).inputAt ?? 0);
      await f.locator('#goto-input').press('Enter');
      await until('the page stamps the Enter', async () => Number((await dataset(page)).inputAt ?? 0) > before);
      const t0 = Number((await dataset(page)).inputAt);
      const hexTarget = `0x${target.toString(16)} `;
      await until(`the jump to 0x${target.toString(16)} is rendered`, async () => {
        const d = await dataset(page);
        const at = Number(d.renderedOffset);
        return Number(d.renderedAt) >= t0 && at <= target && target < at + 4096 && Number(d.framedAt) >= Number(d.renderedAt)
          && ((await f.locator('#status-cursor').textContent()) ?? '').includes(hexTarget);
      });
      const d = await dataset(page);
      const row = await f.locator(`.row[data-offset="${target - (target % 16)}"]`).count();
      if (row !== 1) throw new Error(`row of 0x${target.toString(16)} not shown`);
      jumps.push({ total: Number(d.framedAt) - t0, afterBytes: Number(d.framedAt) - Number(d.bytesAt) });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const jumpTotal = median(jumps.map((j) => j.total));
    const jumpAfterBytes = median(jumps.map((j) => j.afterBytes));
    log(`jumps: ${JSON.stringify(jumps)}`);

    // Webview memory: heap at first paint of the 1 GiB tab against after scrolling through it.
    const heap = () => f.locator('body').evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
    const heap0 = await heap();
    for (let i = 1; i <= 100; i++) {
      const before = (await dataset(page)).renderedAt;
      await f.locator('#scroller').evaluate((el: unknown, frac: number) => {
        const box = el as { scrollTop: number; scrollHeight: number; clientHeight: number };
        box.scrollTop = frac * (box.scrollHeight - box.clientHeight);
      }, i / 100);
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
    try {
      const command = async (title: string) => {
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget input');
        await input.fill(`>${title}`);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: title.split(': ')[1] }).first().waitFor({ timeout: WAIT });
        await input.press('Enter');
      };
      await command('View: Close All Editors');
      await until('every tab is closed', async () => (await page.locator('.tab').count()) === 0);
      await Promise.all([page.waitForEvent('load', { timeout: WAIT }), command('Developer: Reload Window')]);
      await page.locator('.monaco-workbench').waitFor({ timeout: WAIT });
      await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').waitFor({ timeout: WAIT });
      const reloadT0 = await open(page, bigId);
      await page.locator('.tab.active', { hasText: `segment ${bigId}` }).waitFor({ timeout: WAIT });
      await frame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
      const reloadSet = await dataset(page);
      const opened = Number(reloadSet.openedAt);
      const host = await webviewHostMarks(page, opened);
      reload = { value: Number(reloadSet.firstPaintAt) - opened, ours: Number(reloadSet.firstPaintAt) - Number(reloadSet.scriptAt), content: host?.content, script: Number(reloadSet.scriptAt) - opened };
      log(`reloaded-window breakdown: webview content ${host?.content} ms, script ${reload.script} ms, paint ${reload.value} ms after the command (the palette's Enter was ${opened - reloadT0} ms before it)`);
    } catch (e) {
      const logs = wb.saveLogs(path.join(root, '.test-artifacts', 'bench-inspector-logs'));
      reload = `the reloaded window could not be measured (${(e instanceof Error ? e.message : String(e)).split('\n')[0]}${logs ? `; its logs: ${logs}` : ''})`;
      log(reload);
    }
    const warmOurs = Number(warmSet.firstPaintAt) - Number(warmSet.scriptAt);
    const firstPaint = typeof reload === 'string'
      ? { value: warm, goal: '< 200', detail: `Open Inspector's handler (host clock) to the first rows of a 1 GiB segment painted (page clock), a second tab: the workbench handed the webview its content at ${warmHost?.content ?? '?'} ms, so ours is ${warmOurs} ms from our script; ${reload}; the first webview of a fresh browser profile: ${cold} ms (its service worker was ready only at ${coldHost?.worker ?? '?'} ms)` }
      : { value: reload.value, goal: '< 200', detail: `Open Inspector's handler (host clock) to the first rows of a 1 GiB segment painted (page clock), first inspector of a reloaded window; the workbench's share: it handed the webview its content at ${reload.content ?? '?'} ms and our script ran at ${reload.script} ms, so ours is ${reload.ours} ms; a second tab: ${warm} ms (ours ${warmOurs} ms); the first webview of a fresh browser profile: ${cold} ms (its service worker was ready only at ${coldHost?.worker ?? '?'} ms)` };

    process.stdout.write(`${JSON.stringify({
      'inspector.firstPaintMs': firstPaint,
      'inspector.jumpMs': { value: jumpTotal, goal: '<= 50, and one frame after the bytes', detail: `Go to Offset: the Enter key's event time to the next frame showing the new rows (both page clock), median of ${jumps.length}; bytes arrival to that frame: ${jumpAfterBytes} ms` },
      'inspector.webviewHeapRatio': { value: heap0 > 0 ? Number((heap1 / heap0).toFixed(3)) : 'n/a', goal: '< 2', detail: `webview JS heap after 100 scroll positions across 1 GiB / at first paint (${heap0} -> ${heap1} bytes; ${domRows} row elements)` },
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
