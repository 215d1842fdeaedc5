#!/usr/bin/env node
// One build for everything: the native addon (node-gyp, incremental) and the TypeScript bundles
// (esbuild, one per runtime). `npm install` runs it through `prepare`.
//   node scripts/build.mjs [--no-native] [--watch]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { splitPage } from './split-page.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

/** Every bundle the project ships. An entry whose source does not exist yet is skipped. */
export const bundles = [
  { name: 'extension host', entry: 'extension/src/extension.ts', out: 'dist/extension.js', platform: 'node', external: ['vscode'] },
  // The executable is a few lines that turn on the compile cache and load the command line beside it.
  { name: 'command line', entry: 'extension/src/cli/bin.ts', out: 'dist/cli.js', platform: 'node', banner: '#!/usr/bin/env node' },
  { name: 'command line commands', entry: 'extension/src/cli/main.ts', out: 'dist/cli-main.js', platform: 'node', define: { SHMSCOPE_BUNDLED: 'true' } },
  // One bundle per command, loaded by dist/cli-main.js when that command runs: a call parses only
  // what its command needs (`list --kind sem` neither the schema engine nor the language server).
  ...['list', 'df', 'gc', 'limits', 'dump', 'sem', 'peek', 'rm', 'decode', 'record', 'replay', 'check', 'import', 'waits', 'metrics', 'lsp'].map((c) => (
    { name: `command ${c}`, entry: `extension/src/cli/commands/${c}.ts`, out: `dist/cli-${c}.js`, platform: 'node' })),
  { name: 'language server', entry: 'extension/src/lsp/server.ts', out: 'dist/server.js', platform: 'node' },
  // Two bundles (scripts/split-page.mjs): the grid's first paint, inlined into the page's HTML,
  // and the rest (side panel, Find, timeline), which the page loads after its first frame.
  { name: 'inspector page', entry: 'webview-ui/src/main.ts', out: 'dist/webview/main.js', rest: 'webview-ui/src/rest.ts', restOut: 'dist/webview/rest.js', platform: 'browser' },
  { name: 'watch plot page', entry: 'webview-ui/src/plot.ts', out: 'dist/webview/plot.js', platform: 'browser' },
  { name: 'wait-for graph page', entry: 'webview-ui/src/graph.ts', out: 'dist/webview/graph.js', platform: 'browser' },
];

/** elfutils' libdw header: its presence decides whether native/ builds the DWARF reader. */
const LIBDW_HEADER = '/usr/include/elfutils/libdw.h';
const LIBDW_HINT = 'install elfutils\' libdw headers (apt-get install libdw-dev), then npm run build';

function nodeDir() {
  // node-gyp must never download headers (there is no network): use the running Node's own.
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const guess = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(guess, 'include', 'node', 'node_api.h')) ? guess : undefined;
}

/** elfutils' eu-stack: the unwinder of `waits --stacks` and Show Holder's Stack. */
const EU_STACK = '/usr/bin/eu-stack';

/**
 * The DWARF reader needs libdw's headers, and holders' stacks elfutils' eu-stack. As root on a
 * Debian machine (a fresh CI machine, the README's two commands) they are installed with apt, as
 * the editor tests install chromium; elsewhere the reader is skipped with one line and `shmscope
 * import PROGRAM` says what to install, and a stack says no unwinder is there.
 */
function ensureLibdw() {
  const missing = [...(existsSync(LIBDW_HEADER) ? [] : ['libdw-dev']), ...(existsSync(EU_STACK) ? [] : ['elfutils'])];
  if (!missing.length || process.env.SHMSCOPE_NO_APT || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  console.log(`build: installing ${missing.join(' ')} (elfutils: the DWARF reader, holders' stacks): apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...a) => spawnSync('apt-get', a, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  if (!apt('install', '-y', '-q', '--no-install-recommends', ...missing)) apt('update', '-q') && apt('install', '-y', '-q', '--no-install-recommends', ...missing);
}

function buildNative() {
  ensureLibdw();
  const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const cwd = path.join(root, 'native');
  const dir = nodeDir();
  const common = dir ? [`--nodedir=${dir}`] : [];
  const run = (verb) => {
    const r = spawnSync(process.execPath, [gyp, verb, ...common, '--jobs=max'], { cwd, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`node-gyp ${verb} failed (exit ${r.status})`);
  };
  // Configure again when binding.gyp changed (a new target) or the optional DWARF reader's libdw
  // appeared since the last configure.
  const makefile = path.join(cwd, 'build', 'Makefile');
  const stale = !existsSync(path.join(cwd, 'build', 'config.gypi')) || !existsSync(makefile) ||
    statSync(path.join(cwd, 'binding.gyp')).mtimeMs > statSync(makefile).mtimeMs ||
    (existsSync(LIBDW_HEADER) && !existsSync(path.join(cwd, 'build', 'shmscope_dwarf.target.mk')));
  if (stale) run('configure');
  if (!existsSync(LIBDW_HEADER)) console.log(`build: the DWARF reader (shmscope import PROGRAM) is skipped: ${LIBDW_HINT}`);
  run('build');
}

/** esbuild's options for bundle `b`. */
function optionsOf(b) {
  return {
    bundle: true,
    platform: b.platform,
    format: b.platform === 'browser' ? 'iife' : 'cjs',
    target: b.platform === 'browser' ? 'es2022' : 'node20',
    external: b.external ?? [],
    banner: b.banner ? { js: b.banner } : undefined,
    define: b.define,
    sourcemap: true,
    // The pages are minified: the inspector's is inlined into its HTML, which the workbench
    // hands through two frames and the page parses before its first paint (the source maps
    // keep them debuggable). The Node bundles stay readable.
    minify: b.platform === 'browser',
    logLevel: 'warning',
  };
}

/** A page in two bundles (`rest` set): built by splitPage, again on every change when watching. */
async function buildSplit(b) {
  const build = () => splitPage(esbuild, { root, entry: b.entry, rest: b.rest, out: b.out, restOut: b.restOut, options: optionsOf(b) });
  if (!args.has('--watch')) return void (await build());
  const rebuild = {
    name: 'split-page',
    setup: (x) => x.onEnd(async () => {
      try {
        await build();
      } catch (e) {
        console.error(`esbuild: ${b.name}: ${e.message}`);
      }
    }),
  };
  const ctx = await esbuild.context({ ...optionsOf(b), entryPoints: [path.join(root, b.entry), path.join(root, b.rest)], outdir: path.join(root, 'dist', '.watch'), write: false, plugins: [rebuild] });
  await ctx.watch();
}

async function buildBundles() {
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  const todo = bundles.filter((b) => existsSync(path.join(root, b.entry)));
  const split = todo.filter((b) => b.rest);
  const contexts = await Promise.all(
    todo.filter((b) => !b.rest).map((b) =>
      esbuild.context({ ...optionsOf(b), entryPoints: [path.join(root, b.entry)], outfile: path.join(root, b.out) }),
    ),
  );
  const outs = todo.flatMap((b) => (b.rest ? [b.out, b.restOut] : [b.out]));
  if (args.has('--watch')) {
    await Promise.all([...contexts.map((c) => c.watch()), ...split.map(buildSplit)]);
    console.log('esbuild: watching', outs.join(', '));
    return;
  }
  await Promise.all([...contexts.map((c) => c.rebuild()), ...split.map(buildSplit)]);
  await Promise.all(contexts.map((c) => c.dispose()));
  console.log('esbuild:', outs.join(', '));
}

/** Whether process `pid` still runs. */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * One build at a time in a checkout: two at once (two test files' `ensureBuilt`, a test beside
 * `npm run build`) would run node-gyp's make twice over native/build and esbuild twice over dist/,
 * each reading the other's half-written files. The lock is a file holding its builder's pid, made
 * with O_EXCL; a later build waits until it is gone, and takes over one whose builder died.
 */
async function withBuildLock(fn) {
  const lock = path.join(root, '.build.lock');
  let said = false;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (!(holder > 0) || !alive(holder)) {
        rmSync(lock, { force: true }); // its builder is gone: take it over
        continue;
      }
      if (!said) console.log(`build: waiting for the build of process ${holder} to end`);
      said = true;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const release = () => {
    try {
      if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock, { force: true });
    } catch { /* already gone */ }
  };
  process.on('exit', release);
  try {
    await fn();
  } finally {
    release();
  }
}

if (args.has('--watch')) {
  if (!args.has('--no-native')) buildNative();
  await buildBundles();
} else {
  await withBuildLock(async () => {
    if (!args.has('--no-native')) buildNative();
    await buildBundles();
  });
}
