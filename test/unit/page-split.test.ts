// The inspector page in two bundles (scripts/split-page.mjs): the part inlined into the HTML holds
// the grid's first paint and none of the side panel, Find or timeline; the lazily loaded rest holds
// no copy of any module the first part has, and reaches the first part's own instances (one
// class, one module state) through its registry — run here on a small fixture in a VM context.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
// @ts-expect-error: a plain ES module of the build, without types
import { REGISTRY, splitPage } from '../../scripts/split-page.mjs';

type Meta = { inputs: Record<string, unknown>; outputs: Record<string, { bytes: number }> };
type Split = { entry: Meta; rest: Meta; shared: string[] };
const split = splitPage as (e: typeof esbuild, o: object) => Promise<Split>;
const ROOT = path.resolve(__dirname, '..', '..');
const files = (m: Meta) => Object.keys(m.inputs).filter((f) => !f.startsWith('entry-module:') && !f.endsWith('.css'));

describe('the inspector page, split in two bundles', () => {
  const dirs: string[] = [];
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('the inlined part paints the grid; the rest has the side panel, Find and the timeline, and no module twice', async () => {
    const r = await split(esbuild, {
      root: ROOT, entry: 'webview-ui/src/main.ts', rest: 'webview-ui/src/rest.ts', out: 'dist/webview/main.js', restOut: 'dist/webview/rest.js',
      options: { write: false, minify: true, target: 'es2022', logLevel: 'silent' },
    });
    const main = new Set(files(r.entry));
    const rest = new Set(files(r.rest));
    for (const f of ['webview-ui/src/main.ts', 'webview-ui/src/grid.ts', 'webview-ui/src/reader.ts', 'webview-ui/src/view.ts', 'webview-ui/src/bars.ts', 'webview-ui/src/input.ts']) assert.ok(main.has(f), `${f} is in the first paint's bundle`);
    for (const f of ['webview-ui/src/structure.ts', 'webview-ui/src/find.ts', 'webview-ui/src/datapanel.ts', 'webview-ui/src/timeline.ts', 'webview-ui/src/splitter.ts', 'webview-ui/src/bookmarks.ts', 'extension/src/shared/inspector/datainspector.ts']) {
      assert.ok(rest.has(f), `${f} is in the rest`);
      assert.ok(!main.has(f), `${f} is not parsed before the first paint`);
    }
    assert.deepEqual([...rest].filter((f) => main.has(f)), [], 'no module is in both bundles');
    assert.ok(r.shared.includes('extension/src/shared/protocol.ts') && r.shared.includes('webview-ui/src/notes.ts'), `the rest takes main's modules from it: ${r.shared.join(', ')}`);
    for (const k of r.shared) assert.ok(main.has(k), `${k}, which the rest takes from main, is main's`);
  });

  it('the rest uses the first part\'s instances: one class, one module state', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-split-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'counter.ts'), 'export let count = 0;\nexport class Thing {}\nexport function bump(): number { return ++count; }\n');
    writeFileSync(path.join(dir, 'only-rest.ts'), 'export const restOnly = "rest";\n');
    writeFileSync(path.join(dir, 'entry.ts'), 'import { bump, Thing } from "./counter";\nbump();\n(globalThis as any).made = new Thing();\n');
    writeFileSync(path.join(dir, 'rest.ts'), 'import { bump, count, Thing } from "./counter";\nimport { restOnly } from "./only-rest";\nbump();\n(globalThis as any).seen = { count, same: (globalThis as any).made instanceof Thing, restOnly };\n');
    const r = await split(esbuild, { root: dir, entry: 'entry.ts', rest: 'rest.ts', out: 'out/entry.js', restOut: 'out/rest.js', options: { write: false, logLevel: 'silent' } });
    assert.deepEqual(r.shared, ['counter.ts']);
    // Built again, written to the fixture's folder; both scripts run in order in one global.
    await split(esbuild, { root: dir, entry: 'entry.ts', rest: 'rest.ts', out: 'out/entry.js', restOut: 'out/rest.js', options: { logLevel: 'silent' } });
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(path.join(dir, 'out', 'entry.js'), 'utf8'), ctx);
    assert.ok(REGISTRY in ctx, 'the first part registers its modules');
    vm.runInContext(readFileSync(path.join(dir, 'out', 'rest.js'), 'utf8'), ctx);
    assert.deepEqual({ ...(ctx as { seen: object }).seen }, { count: 2, same: true, restOnly: 'rest' }, 'one counter bumped twice, one class');
    assert.doesNotMatch(readFileSync(path.join(dir, 'out', 'rest.js'), 'utf8'), /count\s*=\s*0/, 'the rest holds no copy of the module');
  });
});
