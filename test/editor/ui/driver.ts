// What the page-driven tests share: finding a tree row as a person reads it, and choosing a
// context-menu entry.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { parentOfStat } from '../../../extension/src/ipc/procfs';
import { endWorkbenchesOnInterrupt, launchBrowser, startWorkbench, type Workbench } from '../../../scripts/editor/workbench.mjs';

// An interrupted test file (Ctrl+C, run.mjs passing on a SIGTERM) ends the workbench it started.
endWorkbenchesOnInterrupt();

/** The checkout, and where page-driven tests keep screenshots and logs. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ARTIFACTS = path.join(ROOT, '.test-artifacts', 'editor');

/** Saves a screenshot of the page as ARTIFACTS/<name>.png (never fails the test); returns its path. */
export async function screenshot(page: Page | undefined, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page?.screenshot({ path: file }).catch(() => {});
  return file;
}

/**
 * A test file's `step(name, fn)`: runs fn; on a failure keeps a screenshot
 * (`<prefix>-<name>.png`), the extension host logs when there is a workbench, and prints `extra()`
 * (a demo's output, say), then rethrows.
 */
export function failureStep(prefix: string, o: { page: () => Page | undefined; workbench?: () => Workbench | undefined; extra?: () => string }) {
  return async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      const base = `${prefix}-${name.replace(/\W+/g, '-')}`;
      console.log(`screenshot of the failure: ${await screenshot(o.page(), base)}`);
      const logs = o.workbench?.()?.saveLogs(path.join(ARTIFACTS, `${base}-logs`));
      if (logs) console.log(`extension host log: ${logs}`);
      const extra = o.extra?.();
      if (extra) console.log(extra);
      throw e;
    }
  };
}

/**
 * How long a workbench may take to draw before a test calls it hung. Not an expectation: it draws
 * in 5–10 s on an idle machine, but beside a busy loop per core and other work (load average 25–30
 * on 2 cores) its ~10 MB of scripts took more than Playwright's default 30 s to load.
 */
export const STARTUP_MS = 5 * 60_000;

/**
 * Opens the workbench at `url` and waits until it is drawn. Navigation ends when the server has
 * answered (not at the page's `load` event, which waits for every script and font it pulls in);
 * the workbench's own element then says it is up.
 */
export async function loadWorkbench(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'commit', timeout: STARTUP_MS });
  await page.locator('.monaco-workbench').waitFor({ timeout: STARTUP_MS });
}

/** A workbench (code-server) with this checkout as the extension under development, and a page on it. */
export interface OpenWorkbench {
  wb: Workbench;
  browser: Browser;
  page: Page;
  /** Closes the browser and stops the workbench; safe to call on a half-opened one. */
  close(): Promise<void>;
}

/**
 * Starts a workbench on `folder` with `settings`, opens it in the system chromium at `width`
 * (height 900+), and waits until the Shared Memory view container is registered (the palette
 * lists what is registered when it opens). One home for what every page-driven test file needs.
 * The explorer's periodic refresh is off unless `settings` turns it on: a tree re-drawn every 5 s
 * under an open context menu or a hover makes a page-driven test flaky on a busy machine (the
 * timer itself is tested in the extension host, test/editor/suite/explorer.test.ts). So is the
 * Waits view's (it shares the Shared Memory container, so it is visible whenever the explorer is,
 * and would scan every thread of the machine on the extension host every 2 s under each test);
 * its view still scans once when it shows, and waits.test.ts turns the timer on.
 */
export async function openWorkbench(o: { root: string; folder: string; settings?: Record<string, unknown>; width?: number; height?: number; privateNamespace?: boolean }): Promise<OpenWorkbench> {
  let wb: Workbench | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close().catch(() => {});
    await wb?.stop().catch(() => {});
  };
  try {
    wb = await startWorkbench({ folder: o.folder, extensionDevelopmentPath: o.root, settings: { 'shmscope.refreshIntervalMs': 0, 'shmscope.waits.refreshMs': 0, ...o.settings }, keepRunDir: process.env.SHMSCOPE_KEEP_RUN === '1', privateNamespace: o.privateNamespace });
    browser = await launchBrowser(wb.runDir);
    const page = await browser.newPage({ viewport: { width: o.width ?? 1400, height: o.height ?? 900 } });
    await loadWorkbench(page, wb.url);
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').waitFor({ timeout: STARTUP_MS });
    return { wb, browser, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The explorer row whose label is `label`. */
export const treeRow = (page: Page, label: string) =>
  page.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();

/**
 * The explorer row `label`, scrolled into view the way a keyboard user reaches it: the tree is a
 * virtual list that draws only the rows in its viewport (a short Objects pane, or many namespace
 * groups, push Limits out of it), so the tree gets the focus and is walked from its first row a
 * page at a time (Home, Page Down: focus only, nothing is selected or opened) until the row shows.
 * Walked again while the focus still moves or the listing may still come, within `timeout`.
 */
export async function revealTreeRow(page: Page, label: string, timeout: number): Promise<Locator> {
  const row = treeRow(page, label);
  const tree = page.locator('.pane', { has: page.locator('.pane-header[aria-label*="Objects"]') }).locator('.monaco-list').first();
  const focused = () => tree.locator('.monaco-list-row.focused').first().getAttribute('data-index', { timeout: 1_000 }).catch(() => null);
  const end = Date.now() + timeout;
  while (!(await row.isVisible())) {
    if (Date.now() > end) throw new Error(`the explorer row "${label}" did not show within ${timeout} ms`);
    await tree.focus({ timeout: Math.max(1, end - Date.now()) });
    await page.keyboard.press('Home');
    for (let last = await focused(); !(await row.isVisible());) {
      await page.keyboard.press('PageDown');
      const now = await focused();
      if (now === last) break; // the end of the list: walk again (the row may be on its way)
      last = now;
    }
    if (!(await row.isVisible())) await row.waitFor({ timeout: Math.max(1, Math.min(1_000, end - Date.now())) }).catch(() => undefined);
  }
  return row;
}

/**
 * Moves the mouse off the workbench and waits until no hover card is showing: a tree item's
 * tooltip (a group's, say) can lie over the next rows and take the click meant for them.
 */
export async function dismissHovers(page: Page): Promise<void> {
  await page.mouse.move(0, 0);
  await page.locator('.context-view .hover-contents, .workbench-hover-container').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
}

/**
 * The explorer's title action `label` (Refresh, Filter…, Clear Filter). The container holds more
 * than one view (Objects and Waits), so VS Code puts each view's actions in its own pane header
 * and shows them while the pointer is over it, as a person would see them.
 */
export function explorerAction(page: Page, label: string) {
  return page.locator('.pane-header[aria-label*="Objects"] .action-label').and(page.locator(`[aria-label^="${label}"]`));
}

/** Points at the explorer's pane header, then clicks its title action `label`. */
export async function clickExplorerAction(page: Page, label: string, timeout: number): Promise<void> {
  await page.locator('.pane-header[aria-label*="Objects"]').hover({ timeout });
  await explorerAction(page, label).click({ timeout });
}

/**
 * Right-clicks the row `label` and chooses `entry` from its context menu, as a keyboard user
 * does: point at the entry until the menu marks it focused, then Enter. (VS Code's menus act on
 * mouse-up and ignore one that comes too soon after they open, which an instant synthetic click
 * sometimes is: the menu then stays open and nothing runs.)
 */
export async function chooseFromContextMenu(page: Page, label: string, entry: string, timeout: number): Promise<void> {
  await dismissHovers(page);
  await treeRow(page, label).click({ button: 'right' });
  const item = page.locator('.context-view .action-item', { hasText: entry }).first();
  await item.waitFor({ state: 'visible', timeout });
  await item.hover();
  await page.locator('.context-view .action-item.focused', { hasText: entry }).first().waitFor({ timeout });
  await page.keyboard.press('Enter');
}

/**
 * Chooses `entry` from the row's context menu and waits for the prompt titled `title`. The
 * workbench now and then drops a menu choice (seen after a cancelled wait): the menu is then
 * asked again, up to three times, as a person would.
 */
export async function promptFromContextMenu(page: Page, label: string, entry: string, title: string, timeout: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await chooseFromContextMenu(page, label, entry, timeout);
    try {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 10_000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

/** The inspector page inside the visible webview. */
export const inspectorFrame = (page: Page) => page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');

/**
 * A workbench started with `privateNamespace`: code-server in there, the child of `unshare` (pid 1
 * of its pid namespace), once it has started; `nsenter(pid)` runs a command in its IPC, mount and
 * pid namespaces, and `/proc/<pid>/root/dev/shm` is its /dev/shm seen from outside.
 */
export function namespacePid(unshare: number): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (parentOfStat(readFileSync(`/proc/${d}/stat`, 'latin1')) === unshare) return Number(d);
    } catch { /* ended meanwhile */ }
  }
  return undefined;
}

/** The command prefix that runs a program in the namespaces of `pid` (see namespacePid), in `wd` (default /). */
export const nsenter = (pid: number, wd?: string): string[] => ['nsenter', '-t', String(pid), '-m', '-i', '-p', ...(wd ? [`--wd=${wd}`] : []), '--'];

/** The workbench's extension host: the process of its group whose command line says so. */
export function extensionHostPid(group: number): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== group) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('extensionHost')) return Number(d);
    } catch { /* ended meanwhile */ }
  }
  return undefined;
}

/**
 * Developer: Reload Window, as a person does: the workbench saves its state (the open tabs and
 * what each page saved of itself) before it reloads, which a browser reload does not wait for.
 * Returns once the reloaded workbench is drawn (a reload is a start: STARTUP_MS bounds it, and
 * a caller waiting for what the new extension host restores should allow as much).
 */
export async function reloadWindow(page: Page, timeout: number): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.fill('>Developer: Reload Window', { timeout: 5_000 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reload Window' }).first().waitFor({ timeout });
  await Promise.all([page.waitForEvent('domcontentloaded', { timeout: STARTUP_MS }), input.press('Enter')]);
  await page.locator('.monaco-workbench').waitFor({ timeout: STARTUP_MS });
}

/**
 * Quick Open (Ctrl+P) with the workspace file `name` typed, once the row Enter opens (the list's
 * focused row) is that file; returns its input, for the Enter. Quick Open shows its last list (the
 * recently opened files, the first of them focused) until the search for what was typed answers,
 * so a row of that name may be there before the search is done without being the one Enter opens:
 * Enter then opened the focused one (an inspector), and the file was never asked for (a bench
 * round waited 180 s for its replay).
 */
export async function quickOpenReady(page: Page, name: string, timeout: number): Promise<Locator> {
  await focusWorkbench(page);
  await page.keyboard.press('Control+p');
  const input = page.locator('.quick-input-widget input');
  await input.fill(name, { timeout });
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).first().waitFor({ timeout });
  return input;
}

/** Quick Open of the workspace file `name` (see quickOpenReady); returns once Quick Open has closed on it. */
export async function quickOpen(page: Page, name: string, timeout: number): Promise<void> {
  await (await quickOpenReady(page, name, timeout)).press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
}

/** Gives the keyboard to the workbench (the side bar's title), not to a webview's iframe. */
export async function focusWorkbench(page: Page): Promise<void> {
  await page.locator('.part.sidebar .title-label').first().click({ timeout: 5_000 }).catch(() => undefined);
}

/**
 * Runs "Shared Memory: <title>" from the palette and, with `pick`, chooses that entry of the quick
 * pick the command shows. A palette opened while a webview's iframe held the focus can stay inert;
 * then it is closed and the whole step asked again (at most three times, so only commands that
 * are safe to ask twice up to their quick pick belong here).
 */
export async function palette(page: Page, title: string, timeout: number, pick?: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = (text: string) => page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      await focusWorkbench(page);
      await page.keyboard.press('F1');
      await input.fill(`>Shared Memory: ${title}`, { timeout: 5_000 });
      await row(title).waitFor({ timeout });
      await input.press('Enter');
      if (pick !== undefined) {
        await input.fill(pick, { timeout: 5_000 });
        await row(pick).waitFor({ timeout });
        await input.press('Enter');
      }
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
}
