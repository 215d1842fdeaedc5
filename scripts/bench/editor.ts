// The editor as a user meets it (issue 25), in a real workbench (code-server + chromium): prints one
// JSON line with the time from a command to its painted content, for the first explorer rows after
// Developer: Reload Window, Open Inspector, opening a recording, and Show Wait-for Graph; first on
// a quiet machine, then beside a CPU hog (`sh -c 'while :; do :; done'` per core, started here and
// always killed). Times are on this driver's clock, from the Enter that runs the command to the
// first poll (every 10 ms) that sees the content. The workbench is the page-driven tests' (one
// start-up: test/editor/ui/driver.ts over scripts/editor/workbench.mjs). Makes its own segment
// and recording and removes them.
//   node --import tsx scripts/bench/editor.ts      (or npm run bench -- --only editor)
// SHMSCOPE_BENCH_EDITOR_ROUNDS=N sets the rounds per condition (default 3);
// SHMSCOPE_BENCH_EDITOR_PARTS=explorer,inspector,recording,graph which of the four each round measures
// (default all; the inspector opened before the recording is what Quick Open's last list shows first).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import * as ipc from '../../extension/src/ipc';
import { focusWorkbench, openWorkbench, type OpenWorkbench, quickOpenReady } from '../../test/editor/ui/driver';

const root = path.resolve(__dirname, '..', '..');
const WAIT = 180_000;
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

/** Polls `probe` every 10 ms until it holds; the time it first held (Date.now()). */
async function until(what: string, probe: () => boolean | Promise<boolean>, ms = WAIT): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    if (await Promise.resolve().then(probe).catch(() => false)) return Date.now();
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A visible webview frame that holds `selector`, or undefined. */
async function frameWith(page: Page, selector: string): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f === page.mainFrame()) continue;
    if (await f.locator(selector).first().isVisible().catch(() => false)) return f;
  }
  return undefined;
}

/** Types `>text` into the command palette and waits for its row; returns the input (Enter runs it). */
async function command(page: Page, text: string, row: string) {
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.fill(`>${text}`, { timeout: WAIT });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout: WAIT });
  return input;
}

/** The four figures of one round, in ms, or why one could not be measured. */
interface Round { explorer: number | string; inspector: number | string; recording: number | string; graph: number | string }

/** Runs one measurement; a failure becomes its reason (one line), so the other figures still count. */
async function measured(page: Page, what: string, fn: () => Promise<number>, wb?: OpenWorkbench['wb']): Promise<number | string> {
  try {
    return await fn();
  } catch (e) {
    const why = `${what}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
    log(why);
    // The extension host's logs (its timings: activation, listing, a replay's index), to find why.
    const dir = path.join(root, '.test-artifacts', 'bench-editor', `${what.replace(/\W+/g, '-')}-${Date.now()}`);
    const logs = wb?.saveLogs(dir);
    if (logs) log(`extension host logs: ${logs}`);
    await page.screenshot({ path: path.join(dir, 'page.png') }).then(() => log(`screenshot: ${path.join(dir, 'page.png')}`), () => undefined);
    await page.keyboard.press('Escape').catch(() => undefined);
    return why;
  }
}

/** The parts each round measures (SHMSCOPE_BENCH_EDITOR_PARTS); the others are reported as skipped. */
const parts = new Set((process.env.SHMSCOPE_BENCH_EDITOR_PARTS || 'explorer,inspector,recording,graph').split(',').map((p) => p.trim()));
const part = async (name: keyof Round, fn: () => Promise<number | string>): Promise<number | string> => (parts.has(name) ? fn() : 'skipped');

async function round(o: OpenWorkbench, segment: number, recording: string, n: number): Promise<Round> {
  const page = o.page;
  // 1. Developer: Reload Window → the explorer's first group row painted.
  const explorer = await part('explorer', () => measured(page, 'explorer after a reload', async () => {
    const reload = await command(page, 'Developer: Reload Window', 'Reload Window');
    const t1 = Date.now();
    await Promise.all([page.waitForEvent('load', { timeout: WAIT }), reload.press('Enter')]);
    const explorerRow = page.locator('.pane-body .monaco-list-row', { has: page.locator('.label-name', { hasText: 'System V Segments' }) }).first();
    return (await until('the explorer\'s first rows', () => explorerRow.isVisible())) - t1;
  }, o.wb));

  // 2. Open Inspector on a segment → its first rows painted.
  const inspector = await part('inspector', () => measured(page, 'Open Inspector', async () => {
    const inspect = await command(page, 'Shared Memory: Open Inspector', 'Open Inspector');
    await inspect.press('Enter');
    await inspect.fill(`id ${segment}`);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: `id ${segment}` }).first().waitFor({ timeout: WAIT });
    const t2 = Date.now();
    await inspect.press('Enter');
    // Every tab was closed at the end of the last round: the one painted page is this inspector's.
    return (await until('the inspector painted', async () => (await frameWith(page, 'body[data-painted="true"] #grid')) !== undefined)) - t2;
  }, o.wb));

  // 3. Quick Open of the .shmrec → the replay's first rows painted.
  const replay = await part('recording', () => measured(page, 'opening the recording', async () => {
    // Once the row Enter opens is the recording (not the last list's focused row, an inspector).
    const quick = await quickOpenReady(page, path.basename(recording), WAIT);
    const t3 = Date.now();
    await quick.press('Enter');
    return (await until('the replay painted', async () => (await frameWith(page, 'body[data-painted="true"] [aria-label*=".shmrec"]')) !== undefined)) - t3;
  }, o.wb));

  // 4. Show Wait-for Graph → the graph (or its "no thread is blocked") drawn.
  const graph = await part('graph', () => measured(page, 'Show Wait-for Graph', async () => {
    const graphCommand = await command(page, 'Shared Memory: Show Wait-for Graph', 'Show Wait-for Graph');
    const t4 = Date.now();
    await graphCommand.press('Enter');
    return (await until('the graph drawn', async () => (await frameWith(page, '#stage svg, #stage #empty')) !== undefined)) - t4;
  }, o.wb));

  // Close every tab, so the next round opens each anew (the reload would restore them instead).
  const close = await command(page, 'View: Close All Editors', 'Close All Editors');
  await close.press('Enter');
  await until('every tab is closed', async () => (await page.locator('.tab').count()) === 0);
  const r = { explorer, inspector, recording: replay, graph };
  log(`round ${n}: ${JSON.stringify(r)}`);
  return r;
}

/** One hog per core, in a process group of its own; `stop` kills the group. */
function startHogs(): { stop: () => void } {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < os.availableParallelism(); i++) hogs.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: true }));
  return {
    stop: () => {
      for (const h of hogs) {
        try { process.kill(-h.pid!, 'SIGKILL'); } catch { /* gone */ }
      }
    },
  };
}

/** The median of the figures measured ('n/a' when none was). */
const median = (xs: (number | string)[]): number | string => {
  const ns = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  return ns.length ? ns[Math.floor(ns.length / 2)]! : 'n/a';
};

async function main(): Promise<void> {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'shmscope-bench-editor-'));
  const segment = ipc.createShm({ key: 0, size: 1 << 20, mode: 0o600 });
  const recording = path.join(workspace, 'bench.shmrec');
  let o: OpenWorkbench | undefined;
  let hogs: { stop: () => void } | undefined;
  try {
    const rec = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'record', `shm:${segment}`, '-o', recording, '--hz', '50', '--duration', '2s'], { encoding: 'utf8' });
    if (rec.status !== 0) throw new Error(`shmscope record failed: ${rec.stderr}`);
    o = await openWorkbench({ root, folder: workspace, width: 1600, height: 1000 });
    o.page.setDefaultTimeout(WAIT);
    o.page.setDefaultNavigationTimeout(WAIT);
    await o.page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click();
    // A first round warms the browser profile (its webview service worker) and is not counted.
    await round(o, segment, recording, 0);
    // Rounds per condition: SHMSCOPE_BENCH_EDITOR_ROUNDS (default 3; each reloads the window).
    const rounds = Number(process.env.SHMSCOPE_BENCH_EDITOR_ROUNDS) > 0 ? Number(process.env.SHMSCOPE_BENCH_EDITOR_ROUNDS) : 3;
    const quiet: Round[] = [];
    for (let i = 1; i <= rounds; i++) quiet.push(await round(o, segment, recording, i));
    hogs = startHogs();
    const loaded: Round[] = [];
    for (let i = 1; i <= rounds; i++) loaded.push(await round(o, segment, recording, rounds + i));
    hogs.stop();
    hogs = undefined;
    const figure = (k: keyof Round, what: string) => ({
      value: median(quiet.map((r) => r[k])),
      goal: 'report',
      detail: `${what}: ms from the command's Enter to painted content, median of ${rounds} on a quiet machine; beside a CPU hog on each of ${os.availableParallelism()} cores: ${median(loaded.map((r) => r[k]))} ms (runs: quiet ${quiet.map((r) => r[k]).join(', ')}; hog ${loaded.map((r) => r[k]).join(', ')})`,
    });
    process.stdout.write(`${JSON.stringify({
      'editor.explorerAfterReloadMs': figure('explorer', 'Developer: Reload Window to the explorer\'s first group row'),
      'editor.openInspectorMs': figure('inspector', 'Open Inspector (1 MiB segment) to its first rows'),
      'editor.openRecordingMs': figure('recording', 'Quick Open of a 2 s .shmrec to the replay\'s first rows'),
      'editor.waitGraphMs': figure('graph', 'Show Wait-for Graph to the graph drawn'),
    })}\n`);
  } finally {
    hogs?.stop();
    // Every round's extension host logs (activation, first rows, the scan, replay index times).
    const logs = o?.wb.saveLogs(path.join(root, '.test-artifacts', 'bench-editor', 'last'));
    if (logs) log(`extension host logs: ${logs}`);
    await o?.close();
    try { ipc.remove({ kind: 'shm', id: segment }); } catch { /* gone */ }
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
