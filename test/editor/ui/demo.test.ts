// `npm run demo -- --no-open` as a user meets it: the printed URL opens a workbench whose Shared
// Memory explorer shows the demo's live objects, and the inspector opens on the ring segment.
// Screenshots are kept (.test-artifacts/editor/demo-explorer.png, demo-inspector.png). SIGINT then
// stops everything and leaves no object behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { launchBrowser } from '../../../scripts/editor/workbench.mjs';
import { chooseFromContextMenu, failureStep, loadWorkbench, palette, ROOT, screenshot } from './driver';
import { untilWithin } from '../../helpers/wait';

const WAIT = 60_000;
const KEY = 0x52494e47;
const NAME = '/shmscope-demo';

let demo: ChildProcess | undefined;
let output = '';
let browser: Browser | undefined;
let page: Page;
let browserDir: string | undefined;

/** Demo objects that exist now, read from the kernel's tables. */
function demoObjects(): ipc.Target[] {
  const found: ipc.Target[] = [];
  for (const kind of ['shm', 'sem', 'msg'] as const) {
    for (const l of readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n').slice(1)) {
      const f = l.trim().split(/\s+/);
      if (Number(f[0]) >>> 0 === KEY) found.push({ kind, id: Number(f[1]) });
    }
  }
  if (existsSync(`/dev/shm${NAME}`)) found.push({ kind: 'posix-shm', name: NAME });
  if (existsSync(`/dev/shm/sem.${NAME.slice(1)}`)) found.push({ kind: 'posix-sem', name: NAME });
  return found;
}

const until = untilWithin(WAIT);


const step = failureStep('demo-failed', { page: () => page, extra: () => `demo output:\n${output}` });

const row = (label: string) => page.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();

describe('the demo in the workbench', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    assert.deepEqual(demoObjects(), [], 'no demo is running on this machine (stop it before running the tests)');
    demo = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs'), '--no-open'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (d) => (output += d));
    demo.stderr!.on('data', (d) => (output += d));
    await until(`the demo prints its URL (output so far:\n${output})`,
      () => /^shmscope demo: open http\S+$/m.test(output) || demo!.exitCode !== null, 14 * 60_000);
    const url = /^shmscope demo: open (\S+)$/m.exec(output)?.[1];
    assert.ok(url, output);
    browserDir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-demo-browser-'));
    browser = await launchBrowser(browserDir);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await loadWorkbench(page, url);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGINT');
      await until('the demo exits', () => demo!.exitCode !== null || demo!.signalCode !== null, 10_000).catch(() => demo!.kill('SIGKILL'));
    }
    // Only a demo this file started is ours to clean up (never a user's demo that was running).
    if (demo) {
      for (const t of demoObjects()) {
        try {
          ipc.remove(t);
        } catch {
          /* gone meanwhile */
        }
      }
    }
    if (browserDir) rmSync(browserDir, { recursive: true, force: true });
  });

  it('the explorer shows every demo object', () => step('explorer', async () => {
    const shm = demoObjects().find((t) => t.kind === 'shm');
    assert.ok(shm?.kind === 'shm', output);
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: WAIT });
    await row(`key 0x52494e47 · id ${shm.id}`).waitFor({ timeout: WAIT });
    await row(NAME).first().waitFor({ timeout: WAIT });
    for (const kind of ['sem', 'msg'] as const) {
      const t = demoObjects().find((x) => x.kind === kind);
      assert.ok(t && t.kind === kind);
      await row(`key 0x52494e47 · id ${t.id}`).waitFor({ timeout: WAIT });
    }
    console.log(`demo explorer screenshot: ${await screenshot(page, 'demo-explorer')}`);
  }));

  it('Open Inspector on the ring shows its bytes, decoded by the workspace\'s ring.shms with every check passing live', () => step('inspector', async () => {
    const shm = demoObjects().find((t) => t.kind === 'shm');
    assert.ok(shm?.kind === 'shm');
    await chooseFromContextMenu(page, `key 0x52494e47 · id ${shm.id}`, 'Open Inspector', WAIT);
    const frame = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
    await frame.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    // The magic's bytes in the ASCII column: 52 49 4e 47 is "RING".
    await until('the ASCII column shows RING', async () => /RING/.test((await frame.locator('body').textContent()) ?? ''));
    // ring.shms says `segment Ring for key 0x52494E47`: the structure view binds by itself.
    await until('the structure view binds ring.shms', async () => /ring\.shms · Ring/.test((await frame.locator('#structure-title').textContent()) ?? ''));
    // The producer rewrites the ring at 10 Hz under its seqlock: expect, seqlock, checksum and ring
    // checks hold on every refresh, not just once (a torn read would fail the crc).
    const body = frame.locator('body');
    let seen = 0;
    let last = '';
    await until('five refreshes of the tree, each with 5 checks ok', async () => {
      const d = await body.evaluate((b: { getAttribute(n: string): string | null }) => ({ at: b.getAttribute('data-tree-at') ?? '', checks: b.getAttribute('data-checks') ?? '' }));
      if (d.at === last || d.checks === '') return false;
      last = d.at;
      assert.deepEqual(JSON.parse(d.checks), { ok: 5, failed: 0, unknown: 0 }, `checks at refresh ${seen + 1}`);
      return ++seen >= 5;
    });
    console.log(`demo inspector screenshot: ${await screenshot(page, 'demo-inspector')}`);
  }));

  it('is a normal window: notification toasts show (the test driver\'s option is off)', () => step('toasts', async () => {
    assert.doesNotMatch(await page.title(), /Extension Development Host/);
    // The ring's read-only tab is active: Undo Write has nothing to undo and says so in a toast.
    await palette(page, 'Inspector: Undo Write', WAIT);
    await page.locator('.notification-toast', { hasText: 'Nothing to undo in this inspector.' }).waitFor({ state: 'visible', timeout: WAIT });
    console.log(`demo toast screenshot: ${await screenshot(page, 'demo-toast')}`);
  }));

  it('SIGINT stops the demo and the workbench and removes every object within 10 s', () => step('stop', async () => {
    const t0 = Date.now();
    demo!.kill('SIGINT');
    await until('the demo exits', () => demo!.exitCode !== null || demo!.signalCode !== null, 10_000);
    assert.equal(demo!.exitCode, 0, output);
    assert.deepEqual(demoObjects(), []);
    assert.ok(Date.now() - t0 < 10_000);
    const url = /^shmscope demo: open (\S+)$/m.exec(output)![1]!;
    await assert.rejects(fetch(url), 'the workbench no longer listens');
  }));
});
