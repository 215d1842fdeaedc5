#!/usr/bin/env node
// `npm run test:electron`: the in-host suites (test/editor/suite) in desktop VS Code downloaded by
// @vscode/test-electron, for machines that can reach the VS Code update service (and have a
// display, or xvfb-run). Offline it fails at once with one line instead of hanging on a download.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleSuites } from './suites.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROBE = 'https://update.code.visualstudio.com/api/releases/stable';

/** Whether the update service answers within a few seconds (DNS included). */
function reachable(ms = 5000) {
  return new Promise((resolve) => {
    let req;
    const timer = setTimeout(() => { req?.destroy(); resolve(false); }, ms);
    req = https.get(PROBE, { timeout: ms }, (res) => {
      res.resume();
      clearTimeout(timer);
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('error', () => { clearTimeout(timer); resolve(false); });
  });
}

if (!(await reachable())) {
  console.error('test:electron: cannot reach update.code.visualstudio.com to download VS Code (offline?); run `npm test` for the code-server editor tests instead');
  process.exit(1);
}
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
const { index } = await bundleSuites();
const results = path.join(root, '.test-artifacts', 'editor', 'electron-results.jsonl');
rmSync(results, { force: true });
const { runTests } = await import('@vscode/test-electron');
let code = 0;
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: index,
    launchArgs: [path.join(root, 'test', 'editor', 'workspace'), '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { SHMSCOPE_TEST_RESULTS: results, SHMSCOPE_TEST: '1' },
  });
} catch (e) {
  console.error(`test:electron: ${e instanceof Error ? e.message : e}`);
  code = 1;
}
if (existsSync(results)) {
  for (const l of readFileSync(results, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(l);
    console.log(`  ${r.state === 'passed' ? 'ok  ' : 'FAIL'} ${r.title}${r.error ? `\n       ${r.error}` : ''}`);
  }
}
process.exit(code);
