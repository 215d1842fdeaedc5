// The structure view in a real workbench: a segment holding the DESIGN.md §4 ring, a workspace
// whose ring.shms declares `segment Ring for key <its key>`, and a person who opens it, reads the
// checks, expands the header, clicks fields and bytes, goes to a field by name, watches a value
// change live, edits the schema, edits a field in a read-write tab, and bookmarks a range that is
// still there after the tab is closed and opened again; in a narrow editor group the side panel
// moves under the grid.
// Screenshots of a failing step land in .test-artifacts/editor/structure-*.png.
//   node --import tsx --test test/editor/ui/structure.test.ts
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { freshKey } from '../../helpers/ipc';
import { ringBytes } from '../../helpers/schema-ring';
import { untilWithin } from '../../helpers/wait';
import { failureStep, focusWorkbench, inspectorFrame, openWorkbench, type OpenWorkbench, palette as paletteOf, ROOT } from './driver';

const WAIT = 30_000;
const until = untilWithin(WAIT);

let opened: OpenWorkbench | undefined;
let page: Page;
let workspace = '';
let target: ipc.Target & { kind: 'shm' };
let handle: ipc.ShmHandle | undefined;
let privateSeg: ipc.Target | undefined;
let writer: ChildProcess | undefined;
let writerDir = '';
const posixName = `/shmscope-dwarf-${process.pid}`;
const key = freshKey();

const frame = () => inspectorFrame(page);
const palette = (title: string, pick?: string) => paletteOf(page, title, WAIT, pick);
const text = async (sel: string) => (await frame().locator(sel).first().textContent()) ?? '';
const row = (p: string) => frame().locator(`.trow[data-path="${p}"]`);

const step = failureStep('structure', { page: () => page });

async function openTab(readWrite = false) {
  await palette(readWrite ? 'Open Read-Write…' : 'Open Inspector', `id ${target.id}`);
  if (readWrite) {
    const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Open Read-Write' });
    await confirm.waitFor({ timeout: WAIT });
    await confirm.click();
  }
  await page.locator('.tab.active', { hasText: `segment ${target.id}` }).waitFor({ timeout: WAIT });
  await frame().locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
}

describe('structure view in the workbench', { timeout: 600_000 }, () => {
  const schemaFile = () => path.join(workspace, 'ring.shms');

  before(async () => {
    const bytes = ringBytes(8, { head: 10n, tail: 5n });
    const id = ipc.createShm({ key, size: bytes.length, mode: 0o600 });
    target = { kind: 'shm', id };
    handle = ipc.openShm(target, { readWrite: true });
    handle.write(0, bytes);
    workspace = mkdtempSync(path.join(os.tmpdir(), 'shmscope-struct-ws-'));
    const fixture = readFileSync(path.join(ROOT, 'test', 'fixtures', 'schema', 'ring.shms'), 'utf8');
    writeFileSync(schemaFile(), fixture.replace(/for key 0x[0-9A-Fa-f]+/, `for key 0x${(key >>> 0).toString(16)}`));
    opened = await openWorkbench({ root: ROOT, folder: workspace, settings: { 'shmscope.inspector.refreshMs': 200 }, width: 1700, height: 950 });
    page = opened.page;
  });

  after(async () => {
    await opened?.close();
    try { handle?.close(); } catch { /* closed */ }
    try { if (target && ipc.exists(target)) ipc.remove(target); } catch { /* gone */ }
    try { if (privateSeg && ipc.exists(privateSeg)) ipc.remove(privateSeg); } catch { /* gone */ }
    if (writer && writer.exitCode === null && writer.signalCode === null) {
      writer.kill('SIGKILL');
      await once(writer, 'exit');
    }
    try { if (ipc.exists({ kind: 'posix-shm', name: posixName })) ipc.remove({ kind: 'posix-shm', name: posixName }); } catch { /* gone */ }
    if (writerDir) rmSync(writerDir, { recursive: true, force: true });
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('binds the schema whose segment names the key, and shows the checks', () => step('bind', async () => {
    await openTab();
    const f = frame();
    await f.locator('#structure').waitFor({ state: 'visible', timeout: WAIT });
    assert.equal(await text('#structure-title'), 'Structure · ring.shms · Ring');
    await until('the checks are summed', async () => /✓ 5 ok/.test(await text('#structure-summary')));
    assert.deepEqual(await f.locator('.trow:not([hidden]) .name').allTextContents(), ['hdr', 'slots']);
  }));

  it('expands the header: names, offsets, types, values and check icons', () => step('expand', async () => {
    const f = frame();
    await row('hdr').locator('.twisty').click();
    await row('hdr.magic').waitFor({ timeout: WAIT });
    assert.equal(await row('hdr.magic').locator('.toff').textContent(), '0x0');
    assert.equal(await row('hdr.magic').locator('.ttype').textContent(), 'uint32_t');
    assert.equal(await row('hdr.magic').locator('.check.ok').count(), 1);
    assert.equal(await row('hdr.head').locator('.tval').textContent(), '10');
    assert.equal(await row('hdr.state').locator('.tval').textContent(), 'STOPPED');
    assert.equal(await row('hdr').getAttribute('aria-expanded'), 'true');
    // The grid tints each field and marks the ring's head (slot 2) and tail (slot 5).
    assert.match((await f.locator('.hex span[data-offset="0"]').getAttribute('class')) ?? '', /\bt\d\b/);
    assert.match((await f.locator(`.hex span[data-offset="${64 + 2 * 64}"]`).getAttribute('class')) ?? '', /\brh\b/);
    assert.match((await f.locator(`.hex span[data-offset="${64 + 5 * 64}"]`).getAttribute('class')) ?? '', /\brt\b/);
    assert.match((await f.locator(`.hex span[data-offset="${64 + 6 * 64}"]`).getAttribute('class')) ?? '', /\brv\b/);
  }));

  it('selects a field\'s bytes from the tree, and names the field under the mouse', () => step('select', async () => {
    const f = frame();
    await row('hdr.head').locator('.name').click();
    await until('the 8 bytes of head are selected', async () => /Selection 8 bytes/.test(await text('#status-selection')));
    assert.match(await text('#status-cursor'), /0x17/);
    await page.keyboard.press('Control+c');
    await until('Ctrl+C in the tree copies the field and its value', async () => /copied hdr\.head = 10/.test(await text('#status-message')));
    await f.locator('.hex span[data-offset="37"]').hover();
    await until('hovering a byte names its field', async () => /hdr\.crc \(uint32_t, 4 bytes at 0x24\)/.test(await text('#status-field')));
    // Clicking a byte selects its field in the tree.
    await f.locator('.hex span[data-offset="9"]').click();
    await until('the tree follows the cursor', async () => (await row('hdr.capacity').getAttribute('aria-selected')) === 'true');
  }));

  it('goes to a field by name with Ctrl+G', () => step('goto', async () => {
    const f = frame();
    await page.keyboard.press('Control+g');
    await f.locator('#goto-input').fill('slots[3].text');
    await f.locator('#goto-input').press('Enter');
    const at = 64 + 3 * 64 + 12;
    await until('the cursor lands on the field', async () => new RegExp(`0x${(at + 51).toString(16)}\\b`).test(await text('#status-cursor')));
    assert.match(await text('#status-selection'), /Selection 52 bytes/);
    await until('its row is shown and selected', async () => (await row('slots[3].text').getAttribute('aria-selected')) === 'true');
    assert.equal(await row('slots[3].text').locator('.tval').textContent(), '"msg 3"');
  }));

  it('refreshes values and checks live', () => step('live', async () => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, 11n, true);
    handle!.write(16, new Uint8Array(dv.buffer));
    await until('head shows the new value', async () => (await row('hdr.head').locator('.tval').textContent()) === '11');
    handle!.write(0, new Uint8Array([1, 2, 3, 4]));
    await until('the failed expect is counted', async () => /✗ 1 failed/.test(await text('#structure-summary')));
    assert.equal(await row('hdr.magic').locator('.check.failed').count(), 1);
    handle!.write(0, new Uint8Array([0x52, 0x49, 0x4e, 0x47]));
    await until('and cleared when the value is right again', async () => /✓ 5 ok/.test(await text('#structure-summary')));
  }));

  it('re-binds when the schema file changes', () => step('rebind', async () => {
    const before = readFileSync(schemaFile(), 'utf8');
    writeFileSync(schemaFile(), before.replace('uint16_t flags;', 'uint16_t mode_bits;'));
    await row('hdr.mode_bits').waitFor({ timeout: WAIT });
    assert.equal(await row('hdr.flags').count(), 0);
    writeFileSync(schemaFile(), before);
    await row('hdr.flags').waitFor({ timeout: WAIT });
  }));

  it('edits a field value in a read-write tab, in its width and byte order', () => step('edit', async () => {
    await openTab(true);
    const f = frame();
    const flagsBefore = handle!.read(6, 2).join();
    await row('hdr.flags').waitFor({ timeout: WAIT });
    await row('hdr.flags').locator('.tval').dblclick();
    const input = f.locator('#field-edit');
    await input.waitFor({ timeout: WAIT });
    await input.fill('0x1234');
    await input.press('Enter');
    await until('the value reaches the segment', () => handle!.read(6, 2).join() === '52,18');
    await until('the tree shows it', async () => (await row('hdr.flags').locator('.tval').textContent()) === '4660');
    await row('hdr.version').locator('.tval').dblclick();
    await input.fill('70000');
    await input.press('Enter');
    await until('an out-of-range value is refused with a reason', async () => /70000 does not fit in uint16_t/.test(await text('#status-message')));
    await input.press('Escape');
    assert.equal(handle!.read(4, 2).join(), '3,0');
    // The data inspector reads a selected field from its first byte (the cursor is on its last).
    await row('hdr.flags').locator('.name').click();
    await until('flags is selected', async () => /Selection 2 bytes/.test(await text('#status-selection')));
    const uint16 = f.locator('#data-inspector tr', { has: f.locator('th', { hasText: /^uint16 LE$/ }) }).locator('td');
    await until('the data inspector shows flags as uint16', async () => (await uint16.textContent()) === '4660');
    // Ctrl+Z with the structure tree focused undoes the field edit.
    await page.keyboard.press('Control+z');
    await until('the edit is undone in the segment', () => handle!.read(6, 2).join() === flagsBefore);
  }));

  it('Tab leaves the grid for the structure tree and the data inspector, Shift+Tab comes back', () => step('tab', async () => {
    const f = frame();
    const focused = () => f.locator('body').evaluate<string, undefined>(`(() => { const a = document.activeElement; return a?.closest('#data-inspector') ? 'data-inspector' : a?.id ?? ''; })()`);
    await f.locator('.hex span[data-offset="9"]').click();
    assert.equal(await focused(), 'grid');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'grid', 'the first Tab goes to the ASCII column');
    // Then out of the grid: the splitter, the structure tree, …, the data inspector.
    const seen: string[] = [];
    for (let i = 0; i < 20 && seen.at(-1) !== 'data-inspector'; i++) {
      await page.keyboard.press('Tab');
      seen.push(await focused());
    }
    assert.equal(seen.at(-1), 'data-inspector', `Tab reached ${seen.join(' → ')}`);
    assert.ok(seen.indexOf('structure-tree') >= 0 && seen.indexOf('structure-tree') <= 1, `Tab reached ${seen.join(' → ')}`);
    assert.ok(!seen.includes('grid'), `Tab reached ${seen.join(' → ')}`);
    assert.ok(!seen.includes('scroller'), `the grid's hidden scroll bar is not a Tab stop: ${seen.join(' → ')}`);
    await f.locator('.hex span[data-offset="9"]').click();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'grid', 'Shift+Tab from the ASCII column returns to the hex column');
  }));

  it('tints fields and marks the ring with colours the theme defines', () => step('colours', async () => {
    // Evaluated in the page (this file is compiled without the DOM library).
    const probe = `(() => {
      const cs = (sel) => getComputedStyle(document.querySelector(sel));
      return {
        chart: getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue').trim(),
        tint: cs('.hex span[data-offset="1"]').backgroundColor,
        head: cs('.hex span[data-offset="${64 + 3 * 64 + 1}"]').boxShadow, // head is 11 since the live test: slot 3
      };
    })()`;
    const c = await frame().locator('body').evaluate<{ chart: string; tint: string; head: string }, undefined>(probe);
    assert.notEqual(c.chart, '', 'the workbench gives the page its chart colours');
    assert.notEqual(c.tint, 'rgba(0, 0, 0, 0)', "a field's bytes are tinted");
    assert.match(c.head, /inset/, 'the head slot is marked');
  }));

  it('lets the side panel be resized from the splitter, by keyboard and by dragging', () => step('splitter', async () => {
    const f = frame();
    const width = async () => (await f.locator('.side').boundingBox())!.width;
    const w0 = await width();
    await f.locator('#splitter').press('ArrowLeft');
    await f.locator('#splitter').press('ArrowLeft');
    await until('two arrow presses widen it by 48 px', async () => Math.abs((await width()) - (w0 + 48)) < 2);
    const box = (await f.locator('#splitter').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 200);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 100, box.y + 200, { steps: 5 });
    await page.mouse.up();
    await until('dragging right narrows it by 100 px', async () => Math.abs((await width()) - (w0 + 48 - 100)) < 4);
    // The grid keeps its rows: the hex view re-measures, nothing is lost.
    assert.ok((await f.locator('.rows .row:not([hidden])').count()) > 10);
  }));

  it('reflows in a narrow editor group: the side panel moves under the grid, full width', () => step('narrow', async () => {
    const f = frame();
    const layout = async (title: string) => {
      await focusWorkbench(page);
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.fill(`>View: ${title}`, { timeout: 5_000 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: WAIT });
      await input.press('Enter');
    };
    const boxes = async () => ({ body: (await f.locator('body').boundingBox())!, grid: (await f.locator('.grid').boundingBox())!, side: (await f.locator('.side').boundingBox())! });
    const wide = await boxes();
    assert.ok(wide.side.x >= wide.grid.x + wide.grid.width - 1, 'side by side in a wide group');
    // Three columns: the inspector's group is a third of the editor area (under 640 px here).
    await layout('Three Columns Editor Layout');
    try {
      await until('the page is narrow', async () => (await boxes()).body.width < 640);
      const narrow = await until('the side panel is under the grid', async () => {
        const b = await boxes();
        return b.side.y >= b.grid.y + b.grid.height - 1 ? b : undefined;
      });
      assert.ok(narrow.side.width >= narrow.body.width - 2, `the side panel takes the full width (${narrow.side.width} of ${narrow.body.width})`);
      assert.ok(narrow.grid.width >= narrow.body.width - 20, 'so does the grid');
      assert.equal(await f.locator('#splitter').isVisible(), false, 'the splitter, which sizes widths, steps aside');
      await until('the grid, re-measured, shows its rows', async () => (await f.locator('.rows .row:not([hidden])').count()) > 3);
      assert.ok(await f.locator('#data-inspector').isVisible(), 'the side panel shows its data inspector');
    } finally {
      await layout('Single Column Editor Layout');
    }
    await until('side by side again', async () => {
      const b = await boxes();
      return b.body.width > 640 && b.side.x >= b.grid.x + b.grid.width - 1;
    });
  }));

  it('keeps bookmarks per object across closing and reopening the tab', () => step('bookmark', async () => {
    const f = frame();
    await row('hdr.capacity').locator('.name').click();
    await until('capacity is selected', async () => /Selection 4 bytes/.test(await text('#status-selection')));
    await palette('Inspector: Add Bookmark…');
    const input = page.locator('.quick-input-widget input');
    await until('the name is offered from the field', async () => (await input.inputValue()) === 'hdr.capacity');
    await input.fill('slot count');
    await input.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'green' }).first().waitFor({ timeout: WAIT });
    await input.fill('green');
    await input.press('Enter');
    await f.locator('#bookmark-list li', { hasText: 'slot count' }).waitFor({ timeout: WAIT });
    await until('its bytes are framed', async () => /\bbm-green\b/.test((await f.locator('.hex span[data-offset="8"]').getAttribute('class')) ?? ''));
    await page.locator('.tab.active', { hasText: `segment ${target.id}` }).hover();
    await page.locator('.tab.active .tab-actions .action-label').first().click();
    await until('the tab is closed', async () => (await page.locator('.tab', { hasText: `segment ${target.id}` }).count()) === 0);
    await openTab();
    await frame().locator('#bookmark-list li', { hasText: 'slot count' }).waitFor({ timeout: WAIT });
    await frame().locator('#bookmark-list .bm-go', { hasText: 'slot count' }).click();
    await until('the bookmark selects its bytes', async () => /Selection 4 bytes/.test(await text('#status-selection')) && /0xb\b/.test(await text('#status-cursor')));
  }));
  it('binds a schema by hand from the toolbar: a workspace file, then the type', () => step('bind-by-hand', async () => {
    const bytes = ringBytes(4);
    const id = ipc.createShm({ key: 0, size: bytes.length, mode: 0o600 });
    privateSeg = { kind: 'shm', id };
    const h = ipc.openShm(privateSeg, { readWrite: true });
    h.write(0, bytes);
    h.close();
    await palette('Open Inspector', `id ${id}`);
    await page.locator('.tab.active', { hasText: `segment ${id}` }).waitFor({ timeout: WAIT });
    const f = frame();
    await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    assert.equal(await f.locator('#structure').isVisible(), false, 'a private segment binds nothing by itself');
    await f.locator('#bind-schema').click();
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'ring.shms' }).first().waitFor({ timeout: WAIT });
    await input.fill('ring.shms');
    await input.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'which type lies at offset 0' }).waitFor({ timeout: WAIT });
    await input.fill('Ring');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'segment for key' }).first().waitFor({ timeout: WAIT });
    await input.press('Enter');
    await until('the tab decodes with it', async () => (await text('#structure-title')) === 'Structure · ring.shms · Ring');
    await until('and its checks hold', async () => /✓ 5 ok/.test(await text('#structure-summary')));
  }));

  it('binds from the debug information of the process that maps the object: the process\'s own struct, its values', () => step('bind-debuginfo', async () => {
    // A C program built with -g maps a POSIX object and writes a struct telemetry at offset 0.
    writerDir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-dwarf-'));
    const exe = path.join(writerDir, 'posix');
    execFileSync('cc', ['-g', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'dwarf', 'posix.c')]);
    writer = spawn(exe, [posixName], { stdio: ['pipe', 'pipe', 'inherit'] });
    const ready = await Promise.race([once(writer.stdout!, 'data').then(([b]) => String(b)), once(writer, 'exit').then(([code]) => `exited with ${String(code)}`)]);
    assert.equal(ready, 'ready\n');
    await palette('Open Inspector', posixName);
    await page.locator('.tab.active', { hasText: `POSIX shared memory ${posixName}` }).waitFor({ timeout: WAIT });
    const f = frame();
    await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
    assert.equal(await f.locator('#structure').isVisible(), false, 'nothing in the workspace declares it');
    await f.locator('#bind-schema').click();
    const input = page.locator('.quick-input-widget input');
    const entry = page.locator('.quick-input-list .monaco-list-row', { hasText: "From the attached process's debug information" }).first();
    await entry.waitFor({ timeout: WAIT });
    await input.fill('debug information');
    // The entry names the process that has it once the look-up ends.
    await until('the entry names the process and counts its types', async () => /\(pid \d+\): \d+ type\(s\)/.test((await entry.textContent()) ?? ''));
    assert.match((await entry.textContent()) ?? '', new RegExp(`pid ${writer.pid}\\b`));
    await input.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'lies at offset 0' }).waitFor({ timeout: WAIT });
    await input.fill('telemetry');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'telemetry' }).first().waitFor({ timeout: WAIT });
    await input.press('Enter');
    // The save dialog (the workbench's own, a quick input) proposes the schema in the workspace.
    const target = path.join(workspace, 'telemetry.shms');
    await until('the save dialog proposes telemetry.shms', async () => (await input.inputValue().catch(() => '')) === target);
    await input.press('Enter');
    await until('the tab decodes with the imported struct', async () => (await text('#structure-title')) === 'Structure · telemetry.shms · telemetry');
    assert.ok(existsSync(target));
    const values: Record<string, string> = { magic: '1413827653', version: '3', temp: '-40', volts: '3.25', name: '"probe-7"', flags: '5', mode: '17', state: 'ST_RUN', count: '123456789' };
    for (const [name, value] of Object.entries(values)) {
      await until(`${name} shows ${value}`, async () => (await row(name).locator('.tval').textContent().catch(() => '')) === value);
    }
    assert.equal(await row('volts').locator('.toff').textContent(), '0x8');
    assert.equal(await row('count').locator('.toff').textContent(), '0x20');
    writer.stdin!.end();
    await once(writer, 'exit');
  }));
});
