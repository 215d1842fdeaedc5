// The packaged extension: `npm run package` makes a .vsix holding the bundles and the addon and
// nothing else; code-server installs it into a fresh workbench (as a user would) and its explorer
// lists a segment made here. No development path: this is the shipped artifact.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { launchBrowser, startWorkbench, type Workbench } from '../../../scripts/editor/workbench.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ARTIFACTS = path.join(ROOT, '.test-artifacts', 'editor');
let wb: Workbench | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let tmp = '';
let segment: number | undefined;

/** Every file under dir, relative to it. */
function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, base) : [path.relative(base, p)];
  });
}

describe('the packaged .vsix', () => {
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'shmscope-vsix-'));
  });
  after(async () => {
    if (segment !== undefined) { try { ipc.remove({ kind: 'shm', id: segment }); } catch { /* gone */ } }
    await browser?.close().catch(() => {});
    await wb?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('installs into a fresh workbench and its explorer works', async () => {
    const vsix = path.join(tmp, 'shmscope.vsix');
    // The editor runner has just built; package what it built.
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--no-build', '--out', vsix], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}${r.stderr}`);
    assert.ok(existsSync(vsix));

    segment = ipc.createShm({ key: 0, size: 4096 });
    wb = await startWorkbench({ folder: path.join(ROOT, 'test', 'editor', 'workspace'), vsix: [vsix], smokeTestDriver: false });
    const installed = readdirSync(path.join(wb.runDir, 'extensions')).find((d) => d.startsWith('shmscope.shmscope-'));
    assert.ok(installed, 'code-server installed the extension');
    const shipped = files(path.join(wb.runDir, 'extensions', installed));
    assert.ok(shipped.includes('dist/extension.js'), shipped.join(', '));
    assert.ok(shipped.includes('native/build/Release/shmscope.node'), shipped.join(', '));
    const unexpected = shipped.filter((f) => !/^(package\.json|readme\.md|README\.md|LICENSE(\.txt)?|\.vsixmanifest|dist\/(extension|server)\.js|dist\/webview\/[^/]+\.(js|css)|native\/build\/Release\/shmscope\.node|extension\/resources\/[^/]+)$/i.test(f));
    assert.deepEqual(unexpected, [], 'nothing but the allow-list ships');

    browser = await launchBrowser(wb.runDir);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(wb.url);
      await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: 90_000 });
      const row = page.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: `private · id ${segment}` }) });
      await row.waitFor({ timeout: 60_000 });
      assert.match((await row.locator('.label-description').textContent()) ?? '', /^4 KiB · 0 attached/);
    } catch (e) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = path.join(ARTIFACTS, 'package-failure.png');
      await page.screenshot({ path: shot }).catch(() => {});
      console.log(`screenshot of the failure: ${shot}`);
      throw e;
    }
  });
});
