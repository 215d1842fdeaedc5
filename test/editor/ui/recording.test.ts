// Recording and replay in a real workbench: a ring segment whose head a writer in this test moves
// under its seqlock, recorded from the inspector (Start Recording, the status bar counting frames,
// Stop Recording), the .shmrec opened in its editor, scrubbed with the keyboard (the page shows each
// frame's head as the recording holds it), and hdr.head plotted in a Watch panel whose cursor
// follows the timeline (asked from the tree row's context menu); Alt+PageDown with the tree focused
// finds the next change of the selected field without paging the tree; Go to Frame or Time refuses a time past the end. The plot's screenshot is kept as .test-artifacts/editor/recording-plot.png.
//   node --import tsx --test test/editor/ui/recording.test.ts
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { openRecording } from '../../../extension/src/record';
import { freshKey } from '../../helpers/ipc';
import { ringBytes } from '../../helpers/schema-ring';
import { untilWithin } from '../../helpers/wait';
import { failureStep, openWorkbench, type OpenWorkbench, palette as paletteOf, quickOpen, ROOT, screenshot } from './driver';

const WAIT = 30_000;
const until = untilWithin(WAIT);

let opened: OpenWorkbench | undefined;
let page: Page;
let workspace = '';
let target: ipc.Target & { kind: 'shm' };
let handle: ipc.ShmHandle | undefined;
let writer: ReturnType<typeof setInterval> | undefined;
let recordingFile = '';
const key = freshKey();

const palette = (title: string, pick?: string) => paletteOf(page, title, WAIT, pick);
const step = failureStep('recording', { page: () => page });

/** The inner frame of the webview that holds `selector` (the inspector's grid, or the plot). */
async function frameWith(selector: string): Promise<Frame> {
  return until(`a webview shows ${selector}`, async () => {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      // Hidden tabs keep their webviews: only a visible one counts.
      if (await f.locator(selector).first().isVisible().catch(() => false)) return f;
    }
    return undefined;
  });
}

// A status bar item's element id ends with the item's id (the workbench puts the extension's id before it).
const statusItem = (id: string) => page.locator(`.statusbar-item[id$="${id}"]`);
const statusText = async (id: string) => (await statusItem(id).textContent().catch(() => '')) ?? '';

/** The head a writer in this test advances, under the seqlock, with tail 5 behind (the ring check holds). */
function startWriter() {
  let head = 10n;
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  writer = setInterval(() => {
    const seq = new DataView(handle!.read(32, 4).slice().buffer).getUint32(0, true);
    dv.setUint32(0, seq + 1, true);
    handle!.write(32, b.subarray(0, 4));
    head += 1n;
    dv.setBigUint64(0, head, true);
    handle!.write(16, b);
    dv.setBigUint64(0, head - 5n, true);
    handle!.write(24, b);
    dv.setUint32(0, seq + 2, true);
    handle!.write(32, b.subarray(0, 4));
  }, 40);
}

describe('recording, replay and Watch in the workbench', { timeout: 600_000 }, () => {
  before(async () => {
    const bytes = ringBytes(8, { head: 10n, tail: 5n });
    target = { kind: 'shm', id: ipc.createShm({ key, size: bytes.length, mode: 0o600 }) };
    handle = ipc.openShm(target, { readWrite: true });
    handle.write(0, bytes);
    workspace = mkdtempSync(path.join(os.tmpdir(), 'shmscope-rec-ws-'));
    const fixture = readFileSync(path.join(ROOT, 'test', 'fixtures', 'schema', 'ring.shms'), 'utf8');
    writeFileSync(path.join(workspace, 'ring.shms'), fixture.replace(/for key 0x[0-9A-Fa-f]+/, `for key 0x${(key >>> 0).toString(16)}`));
    opened = await openWorkbench({ root: ROOT, folder: workspace, settings: { 'shmscope.inspector.refreshMs': 200, 'shmscope.recording.hz': 20 }, width: 1700, height: 950 });
    page = opened.page;
  });

  after(async () => {
    if (writer) clearInterval(writer);
    await opened?.close();
    try { handle?.close(); } catch { /* closed */ }
    try { if (target && ipc.exists(target)) ipc.remove(target); } catch { /* gone */ }
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('records the live inspector: the status bar counts frames until Stop Recording', () => step('record', async () => {
    await palette('Open Inspector', `id ${target.id}`);
    const grid = await frameWith('body[data-painted="true"]');
    await until('the schema is bound', async () => /Ring/.test((await grid.locator('#structure-title').textContent().catch(() => '')) ?? ''));
    startWriter();
    await palette('Inspector: Start Recording…');
    // The save dialog (the workbench's own, a quick input) proposes a file in the workspace.
    const input = page.locator('.quick-input-widget input');
    await until('the save dialog proposes a .shmrec', async () => /\.shmrec$/.test(await input.inputValue().catch(() => '')));
    await input.press('Enter');
    await until('the status bar counts 20 frames', async () => {
      const m = /(\d+) frames/.exec(await statusText('shmscope.recording'));
      return m !== null && Number(m[1]) >= 20;
    });
    assert.match(await statusText('shmscope.recording'), /\d+:\d\d · [\d.]+ (B|KiB) · \d+ frames/);
    await palette('Inspector: Stop Recording');
    await statusItem('shmscope.recording').waitFor({ state: 'hidden', timeout: WAIT });
    clearInterval(writer);
    writer = undefined;
    recordingFile = path.join(workspace, readdirSync(workspace).find((f) => f.endsWith('.shmrec'))!);
    assert.ok(existsSync(recordingFile));
    const { recording, file } = openRecording(recordingFile);
    assert.ok(recording.frameCount >= 20, `${recording.frameCount} frames in the file`);
    assert.equal(recording.header.seqlock?.path, 'hdr.seq', 'the bound schema\'s seqlock made the frames consistent');
    // A frame is torn only when the writer was preempted mid-update for the frame's whole budget
    // (load decides how often); every frame not flagged torn must be one consistent generation.
    assert.ok(recording.tornCount < recording.frameCount, 'some frame held a stable generation');
    for (let i = 0; i < recording.frameCount; i++) {
      if (recording.isTorn(i)) continue;
      const bytes = recording.objectBytes(recording.seek(i));
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assert.equal(dv.getUint32(32, true) % 2, 0, `frame ${i}: no write in progress`);
      assert.equal(dv.getBigUint64(16, true) - dv.getBigUint64(24, true), 5n, `frame ${i}: head and tail of one generation`);
    }
    file.close();
  }));

  it('opens the recording in its editor and scrubs it with the keyboard', () => step('scrub', async () => {
    await quickOpen(page, path.basename(recordingFile), WAIT);
    await page.locator('.tab.active', { hasText: path.basename(recordingFile) }).waitFor({ timeout: WAIT });
    await until('the timeline is at frame 0', async () => /#0 \/ \d+/.test(await statusText('shmscope.replay')));
    const { recording, file } = openRecording(recordingFile);
    const headAt = (i: number) => Number(Buffer.from(recording.seek(i).window).readBigUInt64LE(16));
    try {
      // The live tab keeps its webview too: the replay's page names the recording in its grid's label.
      const grid = await frameWith('[aria-label*=".shmrec"]');
      const row = (p: string) => grid.locator(`.trow[data-path="${p}"]`);
      await until('the tree shows the recording\'s schema', async () => (await row('hdr').count()) > 0);
      await row('hdr').locator('.twisty').click();
      await until('frame 0 shows its head', async () => (await row('hdr.head').locator('.tval').textContent()) === String(headAt(0)));
      // Keys: the focus is in the page (the click above); Alt+Right reaches the workbench's keybinding.
      const moves = 12;
      for (let i = 0; i < moves; i++) await page.keyboard.press('Alt+ArrowRight');
      await until(`the timeline is at frame ${moves}`, async () => new RegExp(`#${moves} / `).test(await statusText('shmscope.replay')));
      await until(`frame ${moves} shows its head`, async () => (await row('hdr.head').locator('.tval').textContent()) === String(headAt(moves)));
      assert.notEqual(headAt(moves), headAt(0), 'the head moved while recording');
      await page.keyboard.press('Alt+ArrowLeft');
      await until('one step back', async () => new RegExp(`#${moves - 1} / `).test(await statusText('shmscope.replay')));
      await until(`frame ${moves - 1} shows its head`, async () => (await row('hdr.head').locator('.tval').textContent()) === String(headAt(moves - 1)));
      // The page's own timeline bar: its slider scrubs with the arrow keys.
      await grid.locator('#timeline-slider').focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await until(`the slider moved the timeline to frame ${moves + 1}`, async () => new RegExp(`#${moves + 1} / `).test(await statusText('shmscope.replay')));
      await until('the bar says where it is', async () => new RegExp(`^#${moves + 1} / ${recording.frameCount - 1} · `).test((await grid.locator('#timeline-label').textContent()) ?? ''));
      await until(`frame ${moves + 1} shows its head`, async () => (await row('hdr.head').locator('.tval').textContent()) === String(headAt(moves + 1)));
      await grid.locator('#timeline-back').click();
      await until('the bar steps back', async () => new RegExp(`#${moves} / `).test(await statusText('shmscope.replay')));
      await grid.locator('#timeline-back').click();

      // Go to Frame or Time… reads the one duration grammar: a time past the end is refused with
      // the recording's span (not taken as its last frame), a frame's own time lands on it.
      await palette('Replay: Go to Frame or Time…');
      const box = page.locator('.quick-input-widget');
      await box.locator('.quick-input-title', { hasText: 'Go to Frame or Time' }).waitFor({ timeout: WAIT });
      await box.locator('input').fill('10m');
      await box.getByText(/10m is past the end of the recording, which spans 0 to /).first().waitFor({ timeout: WAIT });
      await box.locator('input').fill(`${recording.seek(3).timeMs}ms`);
      await page.keyboard.press('Enter');
      await until('Go to lands on frame 3', async () => /#3 \/ /.test(await statusText('shmscope.replay')));
      // Back where the keys left it (the plot below starts there), by frame number.
      await palette('Replay: Go to Frame or Time…');
      await box.locator('.quick-input-title', { hasText: 'Go to Frame or Time' }).waitFor({ timeout: WAIT });
      await box.locator('input').fill(`#${moves - 1}`);
      await page.keyboard.press('Enter');
      await until(`Go to lands on frame ${moves - 1}`, async () => new RegExp(`#${moves - 1} / `).test(await statusText('shmscope.replay')));
    } finally {
      file.close();
    }
  }));

  it('plots hdr.head in a Watch panel whose cursor follows the timeline', () => step('plot', async () => {
    // The structure view's context menu on the row: Watch.
    const replayPage = await frameWith('[aria-label*=".shmrec"]');
    await replayPage.locator('.trow[data-path="hdr.head"] .name').click({ button: 'right' });
    const item = page.locator('.context-view .action-item', { hasText: 'Watch' }).first();
    await item.waitFor({ state: 'visible', timeout: WAIT });
    await item.hover();
    await page.locator('.context-view .action-item.focused', { hasText: 'Watch' }).first().waitFor({ timeout: WAIT });
    await page.keyboard.press('Enter');
    const plot = await frameWith('#plot canvas');
    const { recording, file } = openRecording(recordingFile);
    try {
      await until('every frame is a point', async () => (await plot.locator('body').getAttribute('data-points')) === String(recording.frameCount));
      const cursorAt = async () => Number(await plot.locator('body').getAttribute('data-cursor-t'));
      const cursorX = async () => Number(await plot.locator('body').getAttribute('data-cursor-x'));
      const t0 = await cursorAt();
      assert.ok(Math.abs(t0 - recording.times[11]! / 1000) < 1e-6, `the cursor sits at frame 11 (${t0} s)`);
      const x0 = await cursorX();
      // Back in the inspector: steps move the plot's cursor with them.
      const grid = await frameWith('[aria-label*=".shmrec"]');
      await grid.locator('.trow[data-path="hdr.head"] .name').click();
      for (let i = 0; i < 5; i++) await page.keyboard.press('Alt+ArrowRight');
      await until('the cursor follows to frame 16', async () => Math.abs((await cursorAt()) - recording.times[16]! / 1000) < 1e-6);
      await until('the cursor line moved right', async () => (await cursorX()) > x0);

      // Alt+PageDown with the structure tree focused: the next frame where hdr.head changes, and the
      // tree keeps hdr.head selected (it does not page as well, which would move what is followed).
      const headAt = (i: number) => Buffer.from(recording.objectBytes(recording.seek(i))).readBigUInt64LE(16);
      let next = 17;
      while (next < recording.frameCount && headAt(next) === headAt(16)) next++;
      assert.ok(next < recording.frameCount, 'hdr.head changes after frame 16');
      assert.equal(await grid.locator('.trow.selected').getAttribute('data-path'), 'hdr.head');
      await page.keyboard.press('Alt+PageDown');
      await until(`Alt+PageDown lands on frame ${next}, where hdr.head next changes`, async () => new RegExp(`#${next} / `).test(await statusText('shmscope.replay')));
      assert.equal(await grid.locator('.trow.selected').getAttribute('data-path'), 'hdr.head', 'the tree did not page');
      await until('the row shows the new head', async () => (await grid.locator('.trow[data-path="hdr.head"] .tval').textContent()) === String(headAt(next)));
      const shot = await screenshot(page, 'recording-plot');
      console.log(`plot screenshot: ${shot}`);
    } finally {
      file.close();
    }
  }));
});
