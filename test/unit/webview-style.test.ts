// The inspector page takes every colour from the workbench's theme: its stylesheet names colours
// only through --vscode-* variables (or variables of its own that hold one), so light, dark and
// high-contrast themes all apply without a colour of ours in the way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';

const css = readFileSync(path.join(import.meta.dirname, '..', '..', 'webview-ui', 'src', 'style.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

it('uses no literal colour: every colour comes from a --vscode-* variable', () => {
  // Variable names and class names may spell colours (--vscode-charts-red, .bm-red); values may not.
  const values = css.replace(/--[\w-]+/g, '').replace(/\.[\w-]+/g, '').replace(/[\w-]+\s*:/g, '');
  const literal = values.match(/#[0-9a-f]{3,8}\b|\b(rgba?|hsla?|hwb|lab|lch|oklch|color)\(|\b(red|green|blue|white|black|gr[ae]y|orange|yellow|purple|cyan|magenta)\b/gi) ?? [];
  assert.deepEqual(literal, []);
  for (const v of css.match(/var\(--[\w-]+/g) ?? []) {
    assert.ok(/^var\(--(vscode-|tint|bm|row-height)/.test(v), `${v} is a theme variable or one of ours holding one`);
  }
});

it('the Watch plot page also takes every colour from the theme, and overrides uPlot\'s two fixed ones', () => {
  const plot = readFileSync(path.join(import.meta.dirname, '..', '..', 'webview-ui', 'src', 'plot.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const values = plot.replace(/--[\w-]+/g, '').replace(/\.[\w-]+/g, '').replace(/[\w-]+\s*:/g, '');
  assert.deepEqual(values.match(/#[0-9a-f]{3,8}\b|\b(rgba?|hsla?|hwb|lab|lch|oklch|color)\(|\b(red|green|blue|white|black|gr[ae]y|orange|yellow|purple|cyan|magenta)\b/gi) ?? [], []);
  for (const v of plot.match(/var\(--[\w-]+/g) ?? []) assert.match(v, /^var\(--vscode-/);
  // uPlot's stylesheet colours its hover cursor (#607D8B) and selection (rgba): both are overridden.
  assert.match(plot, /\.u-cursor-x[^{]*\{[^}]*border-right-color: var\(--vscode-/);
  assert.match(plot, /\.u-select\s*\{[^}]*background: var\(--vscode-/);
});
