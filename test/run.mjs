#!/usr/bin/env node
// The one test command: lint, type-check, unit, native, CLI, hostile and editor tests, then a leak
// check. Ends with `N passed, N failed`.
// Every suite that makes kernel objects (native, cli, hostile, editor) runs in an IPC and mount
// namespace of its own, with a fresh tmpfs on /dev/shm (and a fresh mqueue on /dev/mqueue): what is
// left there when the suite ends is the suite's own leak, and nothing another program creates on the
// machine meanwhile can be blamed on the run (nor can the run touch the machine's objects). Without
// `unshare` (not root), suites run in the machine's namespace and the check falls back to comparing
// it before and after, which an unrelated program's objects can fail. The hostile suite also makes a
// namespace of its own inside (test/hostile/namespace.ts).
// Every suite also runs with a temporary folder of the run's own (TMPDIR): whatever a test leaves
// in it (a PostgreSQL cluster's folder, a workspace, a workbench's run folder) fails the leak
// check too, and is then removed; another program's files in /tmp are never blamed.
// Each test has a deadline (SHMSCOPE_TEST_TIMEOUT_MS, default 5 min; a test may ask for more in
// its options): a hung test fails with its name instead of hanging the run.
//   node test/run.mjs [--only lint,types,unit,native,cli,hostile,editor] [--skip editor] [--files a.test.ts,b.test.ts]
// (--files: run only these files of the chosen suites, each in its suite's namespace.)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canUnshare, namespaceArgv, notRootNote } from '../scripts/namespace.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const pick = (flag) => {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] ? new Set(argv[i + 1].split(',')) : undefined;
};
const only = pick('--only');
const skip = pick('--skip') ?? new Set();
const chosenFiles = pick('--files');
/** Per-test deadline for node's runner (ms). */
const TEST_TIMEOUT_MS = Number(process.env.SHMSCOPE_TEST_TIMEOUT_MS) > 0 ? Number(process.env.SHMSCOPE_TEST_TIMEOUT_MS) : 5 * 60_000;
const wanted = (suite) => (!only || only.has(suite)) && !skip.has(suite);

/** Everything a test could leave behind: System V objects and POSIX names. */
function ipcState() {
  const lines = (file) => {
    try {
      return readFileSync(file, 'utf8').trim().split('\n').slice(1)
        .map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
    } catch { return []; }
  };
  const names = (dir) => { try { return readdirSync(dir); } catch { return []; } };
  return new Set([
    ...lines('/proc/sysvipc/shm').map((l) => `shm ${l}`),
    ...lines('/proc/sysvipc/sem').map((l) => `sem ${l}`),
    ...lines('/proc/sysvipc/msg').map((l) => `msg ${l}`),
    ...names('/dev/shm').map((n) => `/dev/shm/${n}`),
    ...names('/dev/mqueue').map((n) => `/dev/mqueue/${n}`),
  ]);
}

/**
 * Tools' own caches in a temporary folder are no leak: tsx's (tsx-<uid>) and V8's compile cache,
 * which the CLI turns on (node-compile-cache).
 */
const TOOL_CACHES = [/^tsx-\d+$/, /^node-compile-cache$/];
/** What tests left in a temporary folder (tools' caches aside). */
function leftIn(dir) {
  try {
    return readdirSync(dir).filter((n) => !TOOL_CACHES.some((re) => re.test(n))).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

// `node test/run.mjs --probe FILE [DIR]`: writes this namespace's objects, and what is left in the
// temporary folder DIR, to FILE (run inside a suite's namespace after the suite, by `inNamespace`
// and test/editor/run.mjs).
if (argv[0] === '--probe') {
  writeFileSync(argv[1], JSON.stringify([...ipcState(), ...(argv[2] ? leftIn(argv[2]).map((f) => `tmp: ${f}`) : [])]));
  process.exit(0);
}

const files = (dir) => {
  if (chosenFiles) return [...chosenFiles];
  const abs = path.join(root, 'test', dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join('test', dir, f));
};

/**
 * The run's temporary folder, TMPDIR of every suite (1777 as /tmp: a test's server may run as
 * another user, PostgreSQL's). A short name: a workbench puts a socket some 75 characters deep in
 * it, and a socket's path has at most 107. Removed at the end, and on SIGINT/SIGTERM/SIGHUP.
 */
const runTmp = mkdtempSync(path.join(os.tmpdir(), 'shmt-'));
chmodSync(runTmp, 0o1777);
process.env.TMPDIR = runTmp;
const removeRunTmp = () => rmSync(runTmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(signal, () => {
    removeRunTmp();
    process.exit(128 + number);
  });
}

/** What the run's tests left in its temporary folder. */
const tmpLeftovers = () => leftIn(runTmp);

const artifacts = path.join(root, '.test-artifacts');
mkdirSync(artifacts, { recursive: true });

/** Whether suites can run in namespaces of their own (root, util-linux's unshare). */
const namespaces = canUnshare();
if (!namespaces) console.log(`note: ${notRootNote('suites run in the machine\'s IPC namespace')}`);

/**
 * The command that runs `cmd args` in a fresh IPC and mount namespace, then writes what is left in
 * that namespace to `probe` (JSON); its exit status is the command's.
 */
function inNamespace(cmd, args, probe) {
  if (!namespaces) return { cmd, args };
  const [bin, ...rest] = namespaceArgv([cmd, ...args], { name: 'shmscope-test', mqueue: true, probe: [process.execPath, fileURLToPath(import.meta.url), '--probe', probe] });
  return { cmd: bin, args: rest };
}

/** Per-suite leaks found in the suites' own namespaces. */
const leaks = [];
function readProbe(label, probe) {
  if (!namespaces) return;
  if (!existsSync(probe)) {
    leaks.push(`${label}: the suite's namespace could not be examined`);
    return;
  }
  for (const x of JSON.parse(readFileSync(probe, 'utf8'))) leaks.push(`${label}: ${x}`);
  rmSync(probe, { force: true });
}

/** Runs node's test runner over files; counts come from its TAP stream. */
function nodeTests(label, list) {
  return new Promise((resolve) => {
    if (list.length === 0) return resolve({ passed: 0, failed: 0 });
    const tap = path.join(artifacts, `${label}.tap`);
    rmSync(tap, { force: true });
    console.log(`\n=== ${label}: ${list.length} file(s)`);
    const probe = path.join(artifacts, `${label}-left.json`);
    rmSync(probe, { force: true });
    const run = inNamespace(process.execPath, [
      '--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${TEST_TIMEOUT_MS}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...list,
    ], probe);
    const child = spawn(run.cmd, run.args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SHMSCOPE_TEST: '1' } });
    child.on('exit', (code) => {
      readProbe(label, probe);
      const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
      const num = (k) => Number(/^# (\w+) (\d+)$/m.exec(text.split('\n').filter((l) => l.startsWith(`# ${k} `)).pop() ?? '')?.[2] ?? 0);
      let passed = num('pass');
      let failed = num('fail') + num('cancelled');
      if (code !== 0 && failed === 0) failed = 1; // the runner itself failed
      resolve({ passed, failed });
    });
  });
}

/** `npm run lint` (ESLint with typescript-eslint's type-checked rules): one result, clean or not. */
function lint() {
  console.log('\n=== lint');
  const bin = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');
  const r = spawnSync(process.execPath, [bin, '--max-warnings', '0', '.'], { cwd: root, stdio: 'inherit' });
  console.log(r.status === 0 ? 'lint: clean' : 'lint: FAILED');
  return r.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

/**
 * `tsc --noEmit` over every TypeScript project (`npm run typecheck`): tests run through tsx, which
 * strips types without checking them, so without this step a type error passes every test.
 */
function typecheck() {
  console.log('\n=== types');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  let ok = true;
  for (const project of ['.', 'webview-ui']) {
    const r = spawnSync(process.execPath, [tsc, '-p', project, '--noEmit'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      ok = false;
      console.log(`types: tsc -p ${project} FAILED`);
    }
  }
  if (ok) console.log('types: clean');
  return ok ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

/**
 * `npm run build` once, before every suite that runs what it builds: each test file then only
 * checks that dist/ and the addon are there (SHMSCOPE_BUILT, test/helpers/ipc.ts ensureBuilt), so
 * no file rebuilds under another, and the editor tests skip their own build.
 */
function build() {
  console.log('\n=== build');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  console.log(r.status === 0 ? 'build: done' : 'build: FAILED');
  return r.status === 0;
}

const before = ipcState();
const results = [];
if (wanted('lint')) results.push(lint());
if (wanted('types')) results.push(typecheck());
if (['unit', 'native', 'cli', 'hostile', 'editor'].some(wanted)) {
  if (build()) process.env.SHMSCOPE_BUILT = '1';
  else results.push({ passed: 0, failed: 1 }); // each file then tries the build itself and says why it failed
}
for (const suite of ['unit', 'native', 'cli', 'hostile']) {
  if (wanted(suite)) results.push(await nodeTests(suite, files(suite)));
}
if (wanted('editor') && existsSync(path.join(root, 'test', 'editor', 'run.mjs'))) {
  console.log('\n=== editor');
  const probe = path.join(artifacts, 'editor-left.json');
  rmSync(probe, { force: true });
  const run = inNamespace(process.execPath, [path.join(root, 'test', 'editor', 'run.mjs'), ...(process.env.SHMSCOPE_BUILT === '1' ? ['--no-build'] : [])], probe);
  const r = spawnSync(run.cmd, run.args, { cwd: root, stdio: 'inherit', env: process.env });
  readProbe('editor', probe);
  const summary = path.join(artifacts, 'editor-summary.json');
  if (existsSync(summary)) results.push(JSON.parse(readFileSync(summary, 'utf8')));
  else results.push({ passed: 0, failed: 1 });
  if (r.status !== 0 && results.at(-1).failed === 0) results.at(-1).failed = 1;
}

// A run must leave every IPC namespace as it found it: each suite's own (checked as it ended) and,
// without namespaces, the machine's; and its temporary folder empty.
for (const f of tmpLeftovers()) leaks.push(`tmp: ${f}`);
removeRunTmp();
const after = ipcState();
const appeared = [...after].filter((x) => !before.has(x));
if (!namespaces) leaks.push(...appeared);
else if (appeared.length > 0) {
  // Not the run's: its suites made their objects in namespaces of their own.
  console.log(`\nnote: ${appeared.length} object(s) appeared in the machine's namespace during the run (other programs'): ${appeared.slice(0, 5).join(', ')}${appeared.length > 5 ? ', …' : ''}`);
}
const leak = { passed: 1, failed: 0 };
if (leaks.length > 0) {
  leak.passed = 0;
  leak.failed = 1;
  console.log(`\nleak check FAILED: the tests left ${leaks.length} object(s) or file(s) behind:`);
  for (const l of leaks) console.log(`  ${l}`);
} else {
  console.log(namespaces ? '\nleak check: every suite left its namespace and the run\'s temporary folder empty' : '\nleak check: ipcs, /dev/shm and the run\'s temporary folder are as the run found them');
}
results.push(leak);

const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
