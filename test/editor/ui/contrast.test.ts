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
import { failureStep, focusWorkbench, inspectorFrame, openWorkbench, type OpenWorkbench, palette, ROOT, screenshot } from './driver';

const WAIT = 30_000;
const until = untilWithin(WAIT);
let opened: OpenWorkbench | undefined;
let page: Page;
let target: ipc.Target | undefined;
const step = failureStep('contrast', { page: () => page, workbench: () => opened?.wb });

/** The byte kinds a person meets: the grid's classes on one span. */
const KINDS = ['', 'zero', 'sel', 'chg-3', 'chg-2', 'chg-1', 'sel chg-3', 'sel chg-2', 'zero chg-3', 't0', 't2 alt', 't3 sel', 't4 chg-3', 't1 sel chg-3', 'cur', 'zero sel'];

/** The themes (their setting ids), the kind the webview is told, and the theme picker's label. */
const THEMES: [string, string, string][] = [
  ['Default Dark Modern', 'vscode-dark', 'Dark Modern'],
  ['Default Light Modern', 'vscode-light', 'Light Modern'],
  ['Default High Contrast', 'vscode-high-contrast', 'Dark High Contrast'],
  ['Default High Contrast Light', 'vscode-high-contrast-light', 'Light High Contrast'],
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

/**
 * Preferences: Color Theme, as a person picks a theme (it sets workbench.colorTheme): the row
 * whose label is exactly `theme`, as the picker names it ("Dark High Contrast").
 */
async function chooseTheme(theme: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = (label: string | RegExp) => page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      await focusWorkbench(page);
      await page.keyboard.press('F1');
      await input.fill('>Preferences: Color Theme', { timeout: WAIT });
      await row(/^Preferences: Color Theme$/).click({ timeout: WAIT });
      await page.locator('.quick-input-widget input[placeholder^="Select Color Theme"]').waitFor({ timeout: WAIT });
      await input.fill(theme, { timeout: WAIT });
      await row(new RegExp(`^${theme}$`)).click({ timeout: WAIT });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

describe('contrast of the grid in the default and high-contrast themes', () => {
  before(async () => {
    const id = ipc.createShm({ key: 0, size: 4096, mode: 0o600 });
    target = { kind: 'shm', id };
    // One workbench and one inspector for every theme: the theme changes under them, as a person
    // changes it (Preferences: Color Theme, which sets workbench.colorTheme).
    opened = await openWorkbench({ root: ROOT, folder: path.join(ROOT, 'test', 'editor', 'workspace'), settings: { 'workbench.colorTheme': THEMES[0]![0] } });
    page = opened.page;
    await palette(page, 'Open Inspector', WAIT, `id ${id}`);
    await inspectorFrame(page).locator('body[data-painted="true"]').waitFor({ timeout: WAIT });
  });

  after(async () => {
    await opened?.close();
    try {
      if (target && ipc.exists(target)) ipc.remove(target);
    } catch {
      /* gone */
    }
  });

  for (const [theme, kind, label] of THEMES) {
    it(`every kind of byte reads at 4.5:1 or more in ${theme}`, () => step(kind, async () => {
      await chooseTheme(label);
      const f = inspectorFrame(page);
      await until(`the page is in ${theme}`, async () => (await f.locator('body').getAttribute('data-vscode-theme-kind')) === kind);
      const probe = await f.locator('body').evaluate<{ kind: string; out: { cls: string; fg: number[]; bg: number[]; ratio: number }[] }, undefined>(PROBE);
      console.log(`${theme}: ${probe.out.map((p) => `${p.cls || 'plain'} ${p.ratio}`).join(', ')}`);
      const failures = probe.out.filter((p) => p.ratio < 4.5).map((p) => `"${p.cls || 'plain'}" ${p.ratio}:1 (text rgb(${p.fg.join(',')}) on rgb(${p.bg.join(',')}))`);
      if (failures.length) console.log(`contrast screenshot: ${await screenshot(page, `contrast-${kind}`)}`);
      assert.deepEqual(failures, []);
    }));
  }
});
