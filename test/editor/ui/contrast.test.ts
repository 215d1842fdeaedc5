// Contrast in the inspector's grid, as the theme draws it: in Dark Modern, Light Modern and both
// high-contrast themes, every kind of byte (plain, zero, selected, changed, selected and changed,
// over field tints, the cursor) has text at WCAG AA contrast (4.5:1) or more against what lies
// under it. The colours are the computed ones: probe bytes with the grid's own classes are painted
// into the page, and their text and background colours composited over the editor's background
// on a canvas, so translucent tints and color-mix() count as the eye sees them.
//   node --import tsx --test test/editor/ui/contrast.test.ts
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { untilWithin } from '../../helpers/wait';
import { failureStep, inspectorFrame, openWorkbench, type OpenWorkbench, palette, ROOT, screenshot } from './driver';

const WAIT = 30_000;
const until = untilWithin(WAIT);
let opened: OpenWorkbench | undefined;
let page: Page;
let target: ipc.Target | undefined;
const step = failureStep('contrast', { page: () => page, workbench: () => opened?.wb });

/** The byte kinds a person meets: the grid's classes on one span. */
const KINDS = ['', 'zero', 'sel', 'chg-3', 'chg-2', 'chg-1', 'sel chg-3', 'sel chg-2', 'zero chg-3', 't0', 't2 alt', 't3 sel', 't4 chg-3', 't1 sel chg-3', 'cur', 'zero sel'];

/** The themes (their setting ids) and the kind the webview is told. */
const THEMES: [string, string][] = [
  ['Default Dark Modern', 'vscode-dark'],
  ['Default Light Modern', 'vscode-light'],
  ['Default High Contrast', 'vscode-high-contrast'],
  ['Default High Contrast Light', 'vscode-high-contrast-light'],
];

/** In the page: contrast of each probe's text with its composited background. */
const PROBE = `((kinds) => {
  const hex = document.querySelector('.grid .row[data-offset] .hex');
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const paint = (colours) => {
    ctx.globalCompositeOperation = 'source-over';
    ctx.clearRect(0, 0, 1, 1);
    for (const c of colours) { ctx.fillStyle = c; ctx.fillRect(0, 0, 1, 1); }
    return [...ctx.getImageData(0, 0, 1, 1).data.slice(0, 3)];
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const out = [];
  for (const cls of kinds) {
    const s = document.createElement('span');
    s.className = cls;
    s.textContent = 'ab';
    hex.append(s);
    // Backgrounds from the page down to the byte, each over the one before.
    const chain = [];
    for (let e = s; e; e = e.parentElement) chain.unshift(getComputedStyle(e).backgroundColor);
    const editorBg = getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-background').trim();
    const bg = paint([editorBg, ...chain]);
    const fg = paint([\`rgb(\${bg.join(',')})\`, getComputedStyle(s).color]);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({ cls, fg, bg, ratio: Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100 });
    s.remove();
  }
  return { kind: document.body.className, out };
})(${JSON.stringify(KINDS)})`;

describe('contrast of the grid in the default and high-contrast themes', () => {
  before(() => {
    const id = ipc.createShm({ key: 0, size: 4096, mode: 0o600 });
    target = { kind: 'shm', id };
  });

  after(async () => {
    await opened?.close();
    try {
      if (target && ipc.exists(target)) ipc.remove(target);
    } catch {
      /* gone */
    }
  });

  // One workbench per theme, started in it (the theme as a user's setting).
  for (const [theme, kind] of THEMES) {
    it(`every kind of byte reads at 4.5:1 or more in ${theme}`, () => step(kind, async () => {
      opened = await openWorkbench({ root: ROOT, folder: path.join(ROOT, 'test', 'editor', 'workspace'), settings: { 'shmscope.refreshIntervalMs': 0, 'workbench.colorTheme': theme } });
      page = opened.page;
      try {
        await palette(page, 'Open Inspector', WAIT, `id ${target!.kind === 'shm' ? target.id : ''}`);
        const f = inspectorFrame(page);
        await f.locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
        await until(`the page is in ${theme}`, async () => (await f.locator('body').getAttribute('data-vscode-theme-kind')) === kind);
        const probe = await f.locator('body').evaluate<{ kind: string; out: { cls: string; fg: number[]; bg: number[]; ratio: number }[] }, undefined>(PROBE);
        console.log(`${theme}: ${probe.out.map((p) => `${p.cls || 'plain'} ${p.ratio}`).join(', ')}`);
        const failures = probe.out.filter((p) => p.ratio < 4.5).map((p) => `"${p.cls || 'plain'}" ${p.ratio}:1 (text rgb(${p.fg.join(',')}) on rgb(${p.bg.join(',')}))`);
        if (failures.length) console.log(`contrast screenshot: ${await screenshot(page, `contrast-${kind}`)}`);
        assert.deepEqual(failures, []);
      } finally {
        await opened.close();
        opened = undefined;
      }
    }));
  }
});
