// memfd objects, shared anonymous regions and another IPC namespace in a real workbench
// (code-server + chromium), as a person sees them: their explorer groups, a memfd and an anonymous
// region opened from the context menu into the hex grid, and a namespace's own group with its
// private segment. The C fixture makes them; after() ends every fixture, even on failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { untilWithin } from '../../helpers/wait';
import { buildRegions, Fixture, pattern, startRegions, stopAllRegions, type Ready } from '../../helpers/regions';
import { chooseFromContextMenu, clickExplorerAction, failureStep, inspectorFrame, openWorkbench, type OpenWorkbench, ROOT, screenshot, treeRow } from './driver';

const WAIT = 30_000;
const until = untilWithin(WAIT);
let opened: OpenWorkbench | undefined;
let page: Page;
let dir = '';
let nested: Fixture | undefined;
const step = failureStep('regions', { page: () => page, workbench: () => opened?.wb });
const row = (label: string) => treeRow(page, label);
const hex = (b: number) => b.toString(16).padStart(2, '0');
/** Collapses every group (the title bar's Collapse All), then expands the one row given. */
async function only(groupRow: ReturnType<typeof row>): Promise<void> {
  await clickExplorerAction(page, 'Collapse All', WAIT);
  await groupRow.waitFor({ timeout: WAIT });
  await groupRow.click();
  await page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await groupRow.elementHandle(), { timeout: WAIT });
}
/** The title bar's Filter…: the machine's own browsers hold many memfds, so rows are found by name. */
async function filter(text: string): Promise<void> {
  await clickExplorerAction(page, 'Filter', WAIT);
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: WAIT });
  await input.fill(text);
  await input.press('Enter');
}
/**
 * The row of the program group `program` under the one expanded kind group, expanded: the memfd,
 * anonymous and file groups list their regions under the programs that hold them.
 */
async function expandProgram(program: string): Promise<ReturnType<typeof row>> {
  const r = page.locator('.monaco-list-row[aria-level="2"]', { has: page.locator('.label-name', { hasText: new RegExp(`^${program}$`) }) }).first();
  await r.waitFor({ timeout: WAIT });
  if ((await r.getAttribute('aria-expanded')) !== 'true') await r.click();
  await page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await r.elementHandle(), { timeout: WAIT });
  return r;
}
const firstRow = () => `00000000${[...pattern(16)].map(hex).join('')}`;

describe('memfd, anonymous and namespace groups in the workbench', () => {
  const name = `shmscope-ui-${process.pid}`;
  let memfd: Ready;
  let anon: Ready;
  let anonIno = 0;
  let inner: Ready;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-ui-regions-'));
    const owner = startRegions(['memfd', name, '8192', path.join(dir, 'm.sock')]);
    memfd = await owner.ready();
    const recv = startRegions(['recv', path.join(dir, 'm.sock')]);
    await recv.ready();
    anon = await startRegions(['anon', '16384']).ready();
    anonIno = (await ipc.scanRegions()).anon.find((r) => r.attachedBy.some((a) => a.pid === anon.pid))!.id;
    const bin = buildRegions();
    nested = new Fixture(spawn('unshare', ['--ipc', '--mount', '--fork', 'sh', '-c', `mount -t tmpfs none /dev/shm && exec ${bin} sysv 4096`], { stdio: ['pipe', 'pipe', 'pipe'] }));
    inner = await nested.ready();
    opened = await openWorkbench({ root: ROOT, folder: path.join(ROOT, 'test', 'editor', 'workspace'), settings: { 'shmscope.inspector.refreshMs': 200 } });
    page = opened.page;
  });

  after(async () => {
    await opened?.close();
    await nested?.stop();
    await stopAllRegions();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the memfd, anonymous and file groups with the fixture\'s items', () => step('groups', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: 60_000 });
    for (const g of ['memfd Objects', 'Shared Anonymous Memory', 'Shared File Mappings']) await row(g).waitFor({ timeout: 60_000 });
    await filter(name);
    await only(row('memfd Objects'));
    // Grouped by the program that holds it, with what that program holds (the filter keeps ours).
    const program = await expandProgram('regions');
    assert.equal(await program.locator('.label-description').textContent(), '1 memfd, 8 KiB');
    await row(`${name} · ino ${memfd.ino}`).waitFor({ timeout: WAIT });
    const desc = await row(`${name} · ino ${memfd.ino}`).locator('.label-description').textContent();
    assert.equal(desc, '8 KiB · 3 processes · 3 fds · root');
  }));

  it('opens the memfd in the inspector from its context menu, showing its bytes', () => step('memfd', async () => {
    await chooseFromContextMenu(page, `${name} · ino ${memfd.ino}`, 'Open Inspector', WAIT);
    await page.locator('.tab.active', { hasText: `memfd ${memfd.ino}` }).waitFor({ timeout: WAIT });
    const f = inspectorFrame(page);
    await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    const text = (await f.locator('.row[data-offset="0"]').textContent()) ?? '';
    assert.equal(text.slice(0, firstRow().length), firstRow());
    assert.match((await f.locator('#status-size').textContent()) ?? '', /8192 bytes/);
  }));

  it('opens the anonymous region the same way', () => step('anon', async () => {
    await filter(`ino ${anonIno}`);
    await only(row('Shared Anonymous Memory'));
    await expandProgram('regions');
    await row(`regions · ino ${anonIno}`).waitFor({ timeout: WAIT });
    await chooseFromContextMenu(page, `regions · ino ${anonIno}`, 'Open Inspector', WAIT);
    await page.locator('.tab.active', { hasText: `anonymous region ${anonIno}` }).waitFor({ timeout: WAIT });
    const f = inspectorFrame(page);
    await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    const text = (await f.locator('.row[data-offset="0"]').textContent()) ?? '';
    assert.equal(text.slice(0, firstRow().length), firstRow());
    assert.match((await f.locator('#status-size').textContent()) ?? '', /16384 bytes/);
  }));

  it('two memfds of one name and two anonymous regions are rows of their own; a click opens the right inode', () => step('identity', async () => {
    const twin = await startRegions(['memfd', name, '12288', path.join(dir, 'twin.sock')]).ready();
    const other = await startRegions(['anon', '32768']).ready();
    const scan = await ipc.scanRegions();
    const otherIno = scan.anon.find((r) => r.attachedBy.some((a) => a.pid === other.pid))!.id;
    assert.notEqual(twin.ino, memfd.ino);
    await clickExplorerAction(page, 'Refresh', WAIT);
    await filter(name);
    // A filter hides the groups with no match, as VS Code's own trees do.
    await row('memfd Objects').waitFor({ timeout: WAIT });
    await until('only the memfd group is left', async () => (await row('System V Segments').count()) === 0 && (await row('Limits').count()) === 0);
    await only(row('memfd Objects'));
    // One program holding both memfds: one group row with both counted.
    const program = await expandProgram('regions');
    await until('the program counts both memfds', async () => (await program.locator('.label-description').textContent()) === '2 memfd, 20 KiB');
    const opens = async (label: string, tab: string, size: number) => {
      const r = row(label);
      await r.waitFor({ timeout: WAIT });
      await r.click(); // the default action, as the Explorer opens a file
      await page.locator('.tab.active', { hasText: new RegExp(`${tab}$`) }).waitFor({ timeout: WAIT });
      const f = inspectorFrame(page);
      await until(`${tab} shows ${size} bytes`, async () => new RegExp(`\\b${size} bytes`).test((await f.locator('#status-size').textContent().catch(() => '')) ?? ''));
    };
    await opens(`${name} · ino ${memfd.ino}`, `memfd ${memfd.ino}`, 8192);
    await opens(`${name} · ino ${twin.ino}`, `memfd ${twin.ino}`, 12288);
    await opens(`${name} · ino ${memfd.ino}`, `memfd ${memfd.ino}`, 8192);
    await filter('regions · ino');
    await only(row('Shared Anonymous Memory'));
    await expandProgram('regions');
    await opens(`regions · ino ${anonIno}`, `anonymous region ${anonIno}`, 16384);
    await opens(`regions · ino ${otherIno}`, `anonymous region ${otherIno}`, 32768);
    await opens(`regions · ino ${anonIno}`, `anonymous region ${anonIno}`, 16384);
  }));

  it('shows another IPC namespace as a group of its own holding its private segment', () => step('namespace', async () => {
    await clickExplorerAction(page, 'Clear Filter', WAIT);
    // One group at a time: the machine's own browsers fill the memfd and file groups.
    const ipcIno = /\[(\d+)\]/.exec(readlinkSync(`/proc/${inner.pid}/ns/ipc`))![1]!;
    const ns = page.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^Namespace / }), hasText: `ipc ${ipcIno}` }).first();
    await only(ns);
    await row(`private · id ${inner.id}`).waitFor({ timeout: WAIT });
    const file = await screenshot(page, 'regions');
    console.log(`regions screenshot: ${file}`);
  }));
});
