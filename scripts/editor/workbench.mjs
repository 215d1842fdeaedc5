// A real VS Code workbench served by code-server on a loopback port, with our extension loaded from
// the checkout (development path). Used by the editor tests and the demo.
//
//   const wb = await startWorkbench({ folder, extensionDevelopmentPath });
//   // open wb.url in a browser …
//   await wb.stop();
//
// Every run gets throw-away user-data, extensions, XDG and TMPDIR folders under one run folder, and
// nothing reaches the network: no gallery (EXTENSIONS_GALLERY='{}'), no updates, no telemetry.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureEditorEnv } from './env.mjs';
import { namespaceArgv } from '../namespace.mjs';

/** User settings that keep the workbench quiet and offline. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'window.commandCenter': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Environment for a child that must keep its files inside `runDir` (code-server, chromium). */
export function isolatedEnv(runDir, extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k.startsWith('npm_')) delete env[k];
  const dirs = { XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', TMPDIR: 'tmp' };
  for (const [k, sub] of Object.entries(dirs)) {
    env[k] = path.join(runDir, sub);
    mkdirSync(env[k], { recursive: true });
  }
  return { ...env, ...extra };
}

/**
 * Installs a .vsix into an extensions folder with code-server (the way a user would).
 * Returns code-server's output; throws when it fails.
 */
export function installVsix(vsix, extensionsDir, runDir) {
  const editor = ensureEditorEnv();
  const r = spawnSync(editor.node, [editor.codeServerEntry, '--extensions-dir', extensionsDir,
    '--user-data-dir', path.join(runDir, 'user-data'), '--install-extension', vsix],
  { env: isolatedEnv(runDir, { EXTENSIONS_GALLERY: '{}' }), encoding: 'utf8', timeout: 120_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (${r.status ?? r.signal}): ${out}`);
  return out;
}

/**
 * Starts code-server and resolves once it serves HTTP.
 * @param {object} o
 * @param {string} o.folder workspace folder to open
 * @param {string} [o.extensionDevelopmentPath] load this extension from source (a checkout)
 * @param {string} [o.extensionTestsPath] a module exporting `run(): Promise<void>`, run in the extension host
 * @param {Record<string,string>} [o.extensionEnvironment] environment for the extension host (with the above)
 * @param {number} [o.port] fixed port (default: a free one)
 * @param {string[]} [o.vsix] install these .vsix files into the throw-away extensions folder first
 * @param {string} [o.extensionLink] install this checkout as an ordinary extension (a link in the
 *   throw-away extensions folder): a normal window, with notification toasts, as the demo needs
 * @param {boolean} [o.smokeTestDriver] enable the driver option (needed for the development path and
 *   in-host tests; it hides notification toasts). Default: true when either path is given.
 * @param {Record<string,unknown>} [o.settings] extra user settings
 * @param {boolean} [o.keepRunDir] keep the run folder after stop (debugging)
 * @param {boolean} [o.privateNamespace] run code-server (and so its extension hosts) in IPC, mount
 *   and pid namespaces of its own with a fresh /dev/shm and its own /proc (as root): it sees no
 *   object of the machine's, and no process but its own and what is started in there
 * @param {(line: string) => void} [o.onOutput] code-server's output, line by line
 * @returns {Promise<{url: string, port: number, runDir: string, logsDir: string, pid: number, stop: () => Promise<void>, saveLogs: (dest: string) => string | undefined}>}
 */
export async function startWorkbench(o) {
  const editor = ensureEditorEnv();
  const port = o.port ?? (await freePort());
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-wb-'));
  const userData = path.join(runDir, 'user-data');
  const extensionsDir = path.join(runDir, 'extensions');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...(o.settings ?? {}) }, null, 2));
  for (const vsix of o.vsix ?? []) installVsix(vsix, extensionsDir, runDir);
  if (o.extensionLink) {
    // An empty extensions folder picks up a folder named publisher.name-version (no extensions.json yet).
    const manifest = JSON.parse(readFileSync(path.join(o.extensionLink, 'package.json'), 'utf8'));
    symlinkSync(path.resolve(o.extensionLink), path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`), 'dir');
  }

  const driver = o.smokeTestDriver ?? Boolean(o.extensionDevelopmentPath || o.extensionTestsPath);
  const args = [
    editor.codeServerEntry,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', userData,
    '--extensions-dir', extensionsDir,
    ...(driver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    o.folder,
  ];
  // unshare --fork: code-server is pid 1 of its namespace, and every process of it goes when it does.
  const [bin, ...argv] = o.privateNamespace ? namespaceArgv([editor.node, ...args], { name: 'shmscope-wb', shmSize: '64m', pid: true }) : [editor.node, ...args];
  const child = spawn(bin, argv, {
    cwd: runDir,
    detached: true, // own process group: stop() ends code-server and every extension host it forked
    stdio: ['ignore', 'pipe', 'pipe'],
    env: isolatedEnv(runDir, { EXTENSIONS_GALLERY: '{}', ...(o.env ?? {}) }),
  });
  liveGroups.set(child.pid, o.keepRunDir ? undefined : runDir);
  let exited = false;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => { exited = true; resolve({ code, signal }); }));

  const stop = async () => {
    if (!exited) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exitPromise;
      clearTimeout(t);
    }
    // Extension hosts may outlive the server for a moment: end the group for good.
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    liveGroups.delete(child.pid);
    if (!o.keepRunDir) rmSync(runDir, { recursive: true, force: true });
  };

  // Ready when code-server says it listens; fail fast when it exits first.
  let output = '';
  await new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${output}`)), 60_000);
    const onData = (buf) => {
      const text = buf.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) o.onOutput?.(line);
      if (/HTTP server listening on/.test(output)) { clearTimeout(deadline); resolve(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exitPromise.then(({ code, signal }) => { clearTimeout(deadline); reject(new Error(`code-server exited (${code ?? signal}) before listening:\n${output}`)); });
  }).catch(async (e) => { await stop(); throw e; });

  const authority = `127.0.0.1:${port}`;
  const payload = [];
  if (o.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', `vscode-remote://${authority}${path.resolve(o.extensionDevelopmentPath)}`]);
  if (o.extensionTestsPath) payload.push(['extensionTestsPath', `vscode-remote://${authority}${path.resolve(o.extensionTestsPath)}`]);
  if (o.extensionEnvironment) payload.push(['extensionEnvironment', JSON.stringify(o.extensionEnvironment)]);
  const query = new URLSearchParams({ folder: path.resolve(o.folder) });
  if (payload.length) query.set('payload', JSON.stringify(payload));
  const url = `http://${authority}/?${query.toString()}`;
  const logsDir = path.join(userData, 'logs');
  /** Copies the server and extension host logs to `dest` (for a failing test); returns dest or undefined. */
  const saveLogs = (dest) => {
    if (!existsSync(logsDir)) return undefined;
    mkdirSync(dest, { recursive: true });
    cpSync(logsDir, dest, { recursive: true });
    return dest;
  };
  return { url, port, runDir, logsDir, pid: child.pid, stop, saveLogs, exited: exitPromise };
}

/**
 * Launches the system chromium (headless by default) with its files inside `runDir`.
 * Returns playwright-core's Browser.
 */
/**
 * Workbenches this process started and has not stopped (their process groups). A test process that is
 * interrupted (Ctrl+C, a SIGTERM from `npm test`'s caller, a timeout's kill) ends them before it goes
 * (`endWorkbenchesOnInterrupt`): code-server runs in a group of its own, so nothing else would, and it
 * would run on unseen; their run folders are removed with them. Any process ends those still up
 * when it exits.
 * `onInterrupt` adds what else must end then (run.mjs: the page-driven tests' runner).
 */
const liveGroups = new Map(); // process group → its run folder (removed with it), unless kept
const interruptHooks = [];
export function onInterrupt(hook) { interruptHooks.push(hook); }
function endGroups() {
  for (const pid of liveGroups.keys()) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
  // Their run folders too (a process killed a moment ago may still hold a file: rmSync retries).
  for (const dir of liveGroups.values()) if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  liveGroups.clear();
}
process.on('exit', endGroups);
let interruptsHandled = false;
/**
 * For test processes: on SIGINT, SIGTERM or SIGHUP, run the hooks, end every workbench still up and exit
 * 128+N. Opt-in, because a program with its own orderly stop (the demo removes its objects, then exits 0)
 * must keep it.
 */
export function endWorkbenchesOnInterrupt() {
  if (interruptsHandled) return;
  interruptsHandled = true;
  for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
    process.once(signal, () => {
      for (const hook of interruptHooks) { try { hook(signal); } catch { /* best effort */ } }
      endGroups();
      process.exit(128 + number);
    });
  }
}

export async function launchBrowser(runDir, { headless = true } = {}) {
  const { chromium } = await import('playwright-core');
  const editor = ensureEditorEnv();
  return chromium.launch({
    executablePath: editor.chromium,
    headless,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    env: isolatedEnv(runDir),
  });
}
