#!/usr/bin/env node
// `npm run package`: builds everything, then the .vsix with @vscode/vsce. What goes in is the
// allow-list in .vscodeignore: the bundles (dist/: the extension, the language server, the command
// line the extension runs for Import C Header as Schema…, the pages), the built addon,
// package.json, README, LICENSE.
// Dependencies are bundled by esbuild, so none ship as node_modules.
//   node scripts/package.mjs [--out FILE.vsix] [--no-build]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const outIdx = argv.indexOf('--out');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.resolve(outIdx >= 0 && argv[outIdx + 1] ? argv[outIdx + 1] : path.join(root, `${pkg.name}-${pkg.version}.vsix`));

function run(args, what) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`package: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

if (!argv.includes('--no-build')) run([path.join(root, 'scripts', 'build.mjs')], 'build');
for (const f of ['dist/extension.js', 'dist/cli.js', 'dist/cli-main.js', 'dist/cli-import.js', 'native/build/Release/shmscope.node']) {
  if (!existsSync(path.join(root, f))) {
    console.error(`package: ${f} is missing; the build did not produce it`);
    process.exit(1);
  }
}
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
run([vsce, 'package', '--no-dependencies', '--no-update-package-json', '--out', out], 'vsce package');
console.log(`package: ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)`);
