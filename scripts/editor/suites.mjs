// Bundles the in-host test suites (test/editor/suite/*.test.ts and the mocha runner index.ts) to
// out/editor-suite/, loadable through extensionTestsPath by code-server or desktop VS Code.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Returns the folder, the runner's path and the number of test files bundled. Concurrent runs in
 * one checkout pass their own `outdir` so that one never deletes the other's bundle; `files`: only
 * these test files (names in test/editor/suite/) instead of all.
 */
export async function bundleSuites({ outdir = path.join(root, 'out', 'editor-suite'), files: only } = {}) {
  const dir = path.join(root, 'test', 'editor', 'suite');
  const files = readdirSync(dir).filter((f) => (f.endsWith('.test.ts') && (!only || only.includes(f))) || f === 'index.ts');
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: files.map((f) => path.join(dir, f)),
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return { outdir, index: path.join(outdir, 'index.js'), count: files.filter((f) => f !== 'index.ts').length };
}
