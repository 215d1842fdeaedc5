#!/usr/bin/env node
// The editor tests in a real VS Code (code-server) driven by the system chromium:
//   1. in-host suites (test/editor/suite/*.test.ts, mocha, run inside the extension host through
//      extensionTestsPath; one workbench for all of them);
//   2. page-driven tests (test/editor/ui/*.test.ts, node:test + playwright-core; each file starts
//      its own workbench).
// Writes .test-artifacts/editor-summary.json {"passed":N,"failed":N} and per-test lines; on a
// failure keeps a screenshot and the extension host log under .test-artifacts/editor/.
// Each of the two runs in an IPC and mount namespace of its own (testNamespaces below), with a
// fresh /dev/shm, /dev/mqueue and temporary folder (a tmpfs on TMPDIR, as root): what they make
// dies with it, however the run ends (an interrupt, a killed test file); what is left in it when
// they end is their leak, and fails the run. They also run in a pid namespace of their own (with
// its own /proc), which the kernel empties when the run ends, even by a SIGKILL of this runner: no
// code-server or Chromium of theirs outlives it. The in-host suites' run is this runner again, in
// there (--only host, SHMSCOPE_EDITOR_HOST_SUMMARY naming the file its counts go to).
//   node test/editor/run.mjs [--no-build] [--only host|ui] [--grep TEXT] [--files a.test.ts,b.test.ts]
// (--files: these test files, those in test/editor/suite/ instead of all the in-host suites, the
// others instead of test/editor/ui/*.test.ts; not under TMPDIR, which their namespace covers with
// its own tmpfs.)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEditorEnv } from '../../scripts/editor/env.mjs';
import { bundleSuites } from '../../scripts/editor/suites.mjs';
import { endWorkbenchesOnInterrupt, launchBrowser, onInterrupt, startWorkbench } from '../../scripts/editor/workbench.mjs';
import { canKillWithParent, canUnshare, namespaceArgv, notRootNote } from '../../scripts/namespace.mjs';

endWorkbenchesOnInterrupt();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (flag) => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
const only = opt('--only');
const grep = opt('--grep');
const chosenFiles = opt('--files')?.split(',').map((f) => path.resolve(f));
const suiteDir = path.join(root, 'test', 'editor', 'suite');
const isSuiteFile = (f) => path.dirname(f) === suiteDir;
const artifacts = path.join(root, '.test-artifacts');
const editorArtifacts = path.join(artifacts, 'editor');
// Inside the tests' namespaces (the in-host suites' run, started by this runner): its counts go to
// the file its parent reads.
const inHostNamespace = process.env.SHMSCOPE_EDITOR_HOST_SUMMARY !== undefined;
// A name per run: several engineers (or CI jobs) may run this in one checkout at once; inside the
// namespace the pids are the namespace's own (the same small numbers in every run): the parent's.
const runId = process.env.SHMSCOPE_EDITOR_RUN_ID ?? String(process.pid);
const summaryFile = inHostNamespace ? process.env.SHMSCOPE_EDITOR_HOST_SUMMARY : path.join(artifacts, 'editor-summary.json');
const t0 = Date.now();
const secs = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

mkdirSync(editorArtifacts, { recursive: true });
rmSync(summaryFile, { force: true });
const results = { passed: 0, failed: 0 };
const writeSummary = () => writeFileSync(summaryFile, `${JSON.stringify(results)}\n`);
writeSummary();

/** Copies every extension host / server log of a run into the artifacts. */
export function keepLogs(logsDir, dest) {
  if (!existsSync(logsDir)) return [];
  const kept = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.log')) {
        const out = path.join(dest, path.relative(logsDir, p));
        mkdirSync(path.dirname(out), { recursive: true });
        cpSync(p, out);
        kept.push(out);
      }
    }
  };
  walk(logsDir);
  return kept;
}

async function build() {
  if (!argv.includes('--no-build')) {
    const t = Date.now();
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('build failed');
    console.log(`editor: build ${secs(t)}`);
  }
}

/**
 * The tests' namespaces, one home for the in-host suites and the page-driven tests: an IPC and
 * mount namespace with a fresh /dev/shm, /dev/mqueue and temporary folder (a tmpfs on TMPDIR), and
 * a pid namespace whose first process (the shell below) the kernel kills when `unshare` ends
 * (--kill-child), `unshare` being killed when this runner ends (setpriv --pdeathsig): however the
 * run ends, a SIGKILL of this runner included, the kernel ends every process in it (code-server,
 * its extension hosts, Chromium), reparented or not. --mount-proc: /proc there shows their
 * processes only, with the pids they see themselves by. After the command, test/run.mjs --probe
 * lists what is left in there to `probe`. Returns the command and its environment (`wrap`), or
 * the command itself (and a note) where there are no such namespaces (not root).
 */
function testNamespaces(label, probe) {
  const namespaces = canUnshare();
  const pidNamespace = canKillWithParent();
  if (!namespaces) console.log(`note: ${notRootNote(`the ${label} run in this IPC namespace`)}`);
  else if (!pidNamespace) console.log(`note: no \`unshare --pid\` or \`setpriv --pdeathsig\` here: a process of the ${label} that outlives them is not ended with the run`);
  const inNamespaces = (command) => namespaceArgv(command, {
    name: 'shmscope-editor',
    mqueue: true,
    // Their temporary folder too (workbenches' run folders, browsers' profiles, workspaces).
    tmpDir: os.tmpdir(),
    pid: pidNamespace ? 'kill-with-parent' : false,
    probe: [process.execPath, path.join(root, 'test', 'run.mjs'), '--probe', probe, os.tmpdir()],
  });
  return {
    namespaces,
    wrap: (cmd, args) => {
      if (!namespaces) return [cmd, args, {}];
      const [bin, ...rest] = inNamespaces([cmd, ...args]);
      return [bin, rest, {}];
    },
    /** What the command left in the namespaces (a list; empty: nothing), or undefined without them. */
    left: () => {
      if (!namespaces) return undefined;
      const left = existsSync(probe) ? JSON.parse(readFileSync(probe, 'utf8')) : ['(the namespace could not be examined)'];
      rmSync(probe, { force: true });
      return left;
    },
  };
}

/**
 * The in-host suites in the tests' namespaces: this runner again, in there (--only host), so that
 * code-server, its extension host, Chromium, the tests and the objects they make all live there and
 * die with it; what they leave fails the run.
 */
function runHostSuitesInNamespaces() {
  const probe = path.join(editorArtifacts, `host-left-${process.pid}.json`);
  const childSummary = path.join(editorArtifacts, `host-summary-${process.pid}.json`);
  rmSync(probe, { force: true });
  rmSync(childSummary, { force: true });
  const ns = testNamespaces('in-host suites', probe);
  if (!ns.namespaces) return runHostSuites();
  const [bin, args, env] = ns.wrap(process.execPath, [
    fileURLToPath(import.meta.url), '--no-build', '--only', 'host',
    ...(grep ? ['--grep', grep] : []),
    ...(chosenFiles ? ['--files', chosenFiles.join(',')] : []),
  ]);
  const hostEnv = { ...process.env, ...env, SHMSCOPE_EDITOR_HOST_SUMMARY: childSummary, SHMSCOPE_EDITOR_RUN_ID: runId };
  delete hostEnv.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    // A group of its own, so that an interrupt of this runner reaches it (which ends its workbench).
    const child = spawn(bin, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: hostEnv, detached: true });
    onInterrupt((signal) => { try { process.kill(-child.pid, signal); } catch { /* gone */ } });
    child.on('exit', (code) => {
      const counts = existsSync(childSummary) ? JSON.parse(readFileSync(childSummary, 'utf8')) : { passed: 0, failed: 0 };
      rmSync(childSummary, { force: true });
      results.passed += counts.passed;
      results.failed += counts.failed === 0 && code !== 0 ? 1 : counts.failed;
      const left = ns.left();
      if (left.length > 0) {
        results.failed++;
        console.log(`  FAIL host › the in-host suites left ${left.length} object(s) or file(s) in their namespace: ${left.join(', ')}`);
      }
      writeSummary();
      resolve();
    });
  });
}

async function runHostSuites() {
  // Per-run names: several engineers (or CI jobs) may run this in one checkout at once.
  const chosenSuites = chosenFiles?.filter(isSuiteFile);
  const { outdir, count } = await bundleSuites({
    outdir: path.join(root, 'out', `editor-suite-${runId}`),
    ...(chosenSuites?.length ? { files: chosenSuites.map((f) => path.basename(f)) } : {}),
  });
  if (count === 0) return;
  const resultsFile = path.join(editorArtifacts, `host-results-${runId}.jsonl`);
  rmSync(resultsFile, { force: true });
  const t = Date.now();
  const wb = await startWorkbench({
    folder: path.join(root, 'test', 'editor', 'workspace'),
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(outdir, 'index.js'),
    // The explorer's timer re-lists under the tests' feet; the one test of the timer turns it on.
    // The Waits view's would re-scan every thread every 2 s whenever the container shows.
    settings: { 'shmscope.refreshIntervalMs': 0, 'shmscope.waits.refreshMs': 0 },
    extensionEnvironment: { SHMSCOPE_TEST_RESULTS: resultsFile, SHMSCOPE_TEST: '1', ...(grep ? { SHMSCOPE_TEST_GREP: grep } : {}) },
  });
  const browser = await launchBrowser(wb.runDir);
  let exitCode;
  let page;
  try {
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const exited = new Promise((resolve) => page.exposeFunction('codeAutomationExit', (code) => { resolve(code); }));
    // Navigation ends when the server answers, not at the page's load event (its scripts took more
    // than Playwright's default 30 s to load beside a busy loop per core); the suite's end is awaited below.
    await page.goto(wb.url, { waitUntil: 'commit', timeout: 5 * 60_000 });
    // The suite ends through codeAutomationExit; a dead server or a hung host must not hang CI.
    // A hung host is one whose suite stops making progress: the deadline is per test (as for the
    // other suites, SHMSCOPE_TEST_TIMEOUT_MS, default 5 min), counted from the last result it
    // wrote, not one figure for the whole suite (which a loaded machine ran past, 28 tests in).
    const perTestMs = Number(process.env.SHMSCOPE_TEST_TIMEOUT_MS) > 0 ? Number(process.env.SHMSCOPE_TEST_TIMEOUT_MS) : 5 * 60_000;
    const deadline = new Promise((resolve) => {
      let size = -1;
      let since = Date.now();
      const tick = setInterval(() => {
        const now = existsSync(resultsFile) ? statSync(resultsFile).size : 0;
        if (now !== size) {
          size = now;
          since = Date.now();
        } else if (Date.now() - since > perTestMs) {
          clearInterval(tick);
          resolve(`timeout: no test ended for ${perTestMs / 60_000} min`);
        }
      }, 1000);
      tick.unref();
    });
    const serverGone = wb.exited.then(({ code, signal }) => `code-server exited (${code ?? signal})`);
    exitCode = await Promise.race([exited, deadline, serverGone]);
  } finally {
    const lines = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
    for (const r of lines) {
      console.log(`  ${r.state === 'passed' ? 'ok  ' : 'FAIL'} host › ${r.title}${r.ms !== undefined ? ` (${r.ms} ms)` : ''}`);
      if (r.state !== 'passed') console.log(`       ${String(r.error).split('\n').join('\n       ')}`);
      results[r.state === 'passed' ? 'passed' : 'failed']++;
    }
    const bad = exitCode !== 0 || lines.some((r) => r.state !== 'passed') || lines.length === 0;
    if (bad) {
      if (lines.length === 0 || (exitCode !== 0 && !lines.some((r) => r.state !== 'passed'))) {
        results.failed++;
        console.log(`  FAIL host › the suite did not complete (exit ${exitCode})`);
      }
      const dest = path.join(editorArtifacts, 'host');
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      if (page) await page.screenshot({ path: path.join(dest, 'screenshot.png') }).catch(() => {});
      keepLogs(wb.logsDir, path.join(dest, 'logs'));
      console.log(`  artifacts: ${dest} (screenshot.png, logs/ with the extension host log)`);
    }
    await browser.close().catch(() => {});
    await wb.stop();
    rmSync(outdir, { recursive: true, force: true });
    if (!bad) rmSync(resultsFile, { force: true });
    writeSummary();
    console.log(`editor: in-host suites ${secs(t)}`);
  }
}

function runUiTests() {
  const dir = path.join(root, 'test', 'editor', 'ui');
  const files = chosenFiles?.filter((f) => !isSuiteFile(f)) ?? (existsSync(dir) ? readdirSync(dir).filter((f) => /\.test\.(ts|mjs)$/.test(f)).sort().map((f) => path.join(dir, f)) : []);
  if (files.length === 0) return Promise.resolve();
  const tap = path.join(editorArtifacts, `ui-${process.pid}.tap`);
  rmSync(tap, { force: true });
  const probe = path.join(editorArtifacts, `ui-left-${process.pid}.json`);
  rmSync(probe, { force: true });
  const t = Date.now();
  const ns = testNamespaces('page-driven tests', probe);
  return new Promise((resolve) => {
    const [bin, args, nsEnv] = ns.wrap(process.execPath, [
      // A per-test deadline (a page test drives a whole workbench: 10 min unless
      // SHMSCOPE_TEST_TIMEOUT_MS says otherwise): a hung test fails by name, the run goes on.
      '--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${Number(process.env.SHMSCOPE_TEST_TIMEOUT_MS) > 0 ? Number(process.env.SHMSCOPE_TEST_TIMEOUT_MS) : 10 * 60_000}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...(grep ? [`--test-name-pattern=${grep}`] : []),
      ...files,
    ]);
    // Not a nested run of the test runner when this script itself runs under one (a test of it):
    // node --test would skip every file.
    const uiEnv = { ...process.env, SHMSCOPE_TEST: '1', ...nsEnv };
    delete uiEnv.NODE_TEST_CONTEXT;
    const child = spawn(bin, args, {
      cwd: root, stdio: ['ignore', 'inherit', 'inherit'],
      env: uiEnv,
      // A group of its own, so an interrupt of this runner reaches every test file's process, and each
      // of those ends the workbench it started (scripts/editor/workbench.mjs).
      detached: true,
    });
    onInterrupt((signal) => { try { process.kill(-child.pid, signal); } catch { /* gone */ } });
    child.on('exit', (code) => {
      const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
      const num = (k) => Number(/^# \w+ (\d+)$/.exec(text.split('\n').filter((l) => l.startsWith(`# ${k} `)).pop() ?? '')?.[1] ?? 0);
      results.passed += num('pass');
      const failed = num('fail') + num('cancelled');
      results.failed += failed === 0 && code !== 0 ? 1 : failed;
      const left = ns.left();
      if (left) {
        if (left.length > 0) {
          results.failed++;
          console.log(`  FAIL ui › the page-driven tests left ${left.length} object(s) or file(s) in their namespace: ${left.join(', ')}`);
        }
      }
      if (code === 0) rmSync(tap, { force: true });
      writeSummary();
      console.log(`editor: page-driven tests ${secs(t)}`);
      resolve();
    });
  });
}

try {
  await build();
  const t = Date.now();
  if (!inHostNamespace) {
    ensureEditorEnv();
    console.log(`editor: environment ${secs(t)}`);
  }
  if (only !== 'ui') await (inHostNamespace ? runHostSuites() : runHostSuitesInNamespaces());
  if (only !== 'host') await runUiTests();
} catch (e) {
  results.failed++;
  console.log(`editor: FAILED: ${e instanceof Error ? e.stack : e}`);
}
writeSummary();
if (!inHostNamespace) console.log(`editor: ${results.passed} passed, ${results.failed} failed in ${secs(t0)}`);
process.exit(results.failed === 0 ? 0 : 1);
