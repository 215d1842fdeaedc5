// The explorer's welcome view on an empty machine, in a real workbench (code-server + chromium):
// code-server runs in IPC, mount and pid namespaces of its own with a fresh /dev/shm, so it sees
// no object of the machine's and no process but its own. Its own processes map and hold regions
// (its caches, its buffers, its rings); those are the editor's, not the user's: the welcome view
// shows. A program of the user's started in there (a shared anonymous region) and a POSIX object
// each take it away; when they go, it comes back. Everything goes with the namespace in after().
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Listing } from '../../../extension/src/ipc/types';
import { startRegions, stopAllRegions } from '../../helpers/regions';
import { untilWithin } from '../../helpers/wait';
import { failureStep, namespacePid, nsenter, openWorkbench, palette, type OpenWorkbench, ROOT, treeRow } from './driver';

const WAIT = 30_000;
const until = untilWithin(WAIT);
let opened: OpenWorkbench | undefined;
let page: Page;
const step = failureStep('welcome', { page: () => page, workbench: () => opened?.wb });

describe('the welcome view on an empty machine', () => {
  let inside = 0;

  before(async () => {
    opened = await openWorkbench({ root: ROOT, folder: path.join(ROOT, 'test', 'editor', 'workspace'), privateNamespace: true });
    page = opened.page;
    inside = await until('code-server in its namespaces', () => namespacePid(opened!.wb.pid));
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click();
  });

  after(async () => {
    await stopAllRegions();
    await opened?.close();
  });

  it('shows with only the editor\'s own regions; a program\'s region or a POSIX object takes it away', () => step('welcome', async () => {
    const welcome = page.locator('.welcome-view-content', { hasText: 'No shared memory segments' });
    await welcome.waitFor({ timeout: 90_000 });
    assert.equal(await welcome.locator('a, .monaco-button', { hasText: 'Run the Demo' }).count(), 1);
    // Not empty for the CLI: the editor's processes hold regions or rings of their own in there.
    const cli = spawnSync(nsenter(inside)[0]!, [...nsenter(inside).slice(1), process.execPath, path.join(ROOT, 'dist', 'cli.js'), 'list', '--json'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const listing = JSON.parse(cli.stdout) as Listing;
    const regions = listing.memfd.length + listing.anon.length + listing.file.length + listing.ring.length;
    assert.ok(regions > 0, 'the editor maps regions of its own, which the welcome view leaves aside');
    assert.equal(listing.shm.length + listing.posixShm.length, 0);

    // A program of the user's in there: its shared anonymous region is an object.
    const fixture = startRegions(['anon', '16384'], nsenter(inside));
    await fixture.ready();
    await palette(page, 'Refresh', WAIT);
    await treeRow(page, 'Shared Anonymous Memory').waitFor({ timeout: WAIT });
    assert.equal(await welcome.count(), 0);
    await fixture.stop();
    await palette(page, 'Refresh', WAIT);
    await welcome.waitFor({ timeout: WAIT });

    // A POSIX object made in its /dev/shm.
    const made = spawnSync(nsenter(inside)[0]!, [...nsenter(inside).slice(1), 'sh', '-c', 'head -c 4096 /dev/zero > /dev/shm/shmscope-welcome'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    await palette(page, 'Refresh', WAIT);
    await treeRow(page, '/shmscope-welcome').waitFor({ timeout: WAIT });
    assert.equal(await welcome.count(), 0);
  }));
});
