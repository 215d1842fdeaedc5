#!/usr/bin/env node
// The one test command: lint, unit, native, CLI, hostile and editor tests, then a leak check of
// every IPC namespace the tests touch. Ends with `N passed, N failed`. The hostile suite runs in
// an IPC and mount namespace of its own (test/hostile/namespace.ts), so it cannot leak into this one.
//   node test/run.mjs [--only lint,unit,native,cli,hostile,editor] [--skip editor]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const pick = (flag) => {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] ? new Set(argv[i + 1].split(',')) : undefined;
};
const only = pick('--only');
const skip = pick('--skip') ?? new Set();
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

const files = (dir) => {
  const abs = path.join(root, 'test', dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join('test', dir, f));
};

const artifacts = path.join(root, '.test-artifacts');
mkdirSync(artifacts, { recursive: true });

/** Runs node's test runner over files; counts come from its TAP stream. */
function nodeTests(label, list) {
  return new Promise((resolve) => {
    if (list.length === 0) return resolve({ passed: 0, failed: 0 });
    const tap = path.join(artifacts, `${label}.tap`);
    rmSync(tap, { force: true });
    console.log(`\n=== ${label}: ${list.length} file(s)`);
    const child = spawn(process.execPath, [
      '--import', 'tsx', '--test', '--test-concurrency=1',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...list,
    ], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SHMSCOPE_TEST: '1' } });
    child.on('exit', (code) => {
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

const before = ipcState();
const results = [];
if (wanted('lint')) results.push(lint());
for (const suite of ['unit', 'native', 'cli', 'hostile']) {
  if (wanted(suite)) results.push(await nodeTests(suite, files(suite)));
}
if (wanted('editor') && existsSync(path.join(root, 'test', 'editor', 'run.mjs'))) {
  console.log('\n=== editor');
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'editor', 'run.mjs')], { cwd: root, stdio: 'inherit' });
  const summary = path.join(artifacts, 'editor-summary.json');
  if (existsSync(summary)) results.push(JSON.parse(readFileSync(summary, 'utf8')));
  else results.push({ passed: 0, failed: 1 });
  if (r.status !== 0 && results.at(-1).failed === 0) results.at(-1).failed = 1;
}

// A run must leave every IPC namespace as it found it.
const after = ipcState();
const leaked = [...after].filter((x) => !before.has(x));
const leak = { passed: 1, failed: 0 };
if (leaked.length > 0) {
  leak.passed = 0;
  leak.failed = 1;
  console.log(`\nleak check FAILED: the tests left ${leaked.length} object(s) behind:`);
  for (const l of leaked) console.log(`  ${l}`);
} else {
  console.log('\nleak check: ipcs and /dev/shm are as the run found them');
}
results.push(leak);

const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
