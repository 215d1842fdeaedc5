#!/usr/bin/env node
// `npm run demo`: shmscope on live data (DESIGN.md §6). Builds the project, compiles the sample
// producer and consumer (demo/*.c) with the system C compiler into out/demo/, starts them, and
// opens an editor on demo/workspace: desktop VS Code when `code` is on the PATH, else the browser
// workbench of scripts/editor/workbench.mjs, whose URL it prints on its own line.
// Ctrl+C (SIGINT) or SIGTERM stops every process it started and removes every object the demo
// created, within 10 seconds, even when the producer could not clean up after itself.
//
//   node scripts/demo.mjs [--no-open] [--no-editor]
//     --no-open    serve the workbench but launch no browser or desktop editor
//     --no-editor  no editor at all: only the producer and consumer (used by the tests)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const workspace = path.join(root, 'demo', 'workspace');
const outDir = path.join(root, 'out', 'demo');
const cli = path.join(root, 'dist', 'cli.js');

/** What the demo creates; demo/ring.h says the same in C. */
const DEMO = {
  key: 0x52494e47,
  posixShm: '/shmscope-demo',
  posixSem: '/shmscope-demo',
};

const KNOWN_FLAGS = new Set(['--no-open', '--no-editor']);
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!KNOWN_FLAGS.has(a)) {
    console.error(`shmscope demo: unknown option ${a} (known: ${[...KNOWN_FLAGS].join(', ')})`);
    process.exit(2);
  }
}
const noOpen = args.has('--no-open');
const noEditor = args.has('--no-editor');

const say = (line) => console.log(`shmscope demo: ${line}`);
const fail = (line) => {
  console.error(`shmscope demo: ${line}`);
  process.exit(1);
};

// ---------------------------------------------------------------------------------------------
// What exists now, read from the kernel's own tables (cheap, no native code).

/** Rows of /proc/sysvipc/{shm,sem,msg} with this key: [{ id, cpid? }]. */
function sysvWithKey(kind, key) {
  let text;
  try {
    text = readFileSync(`/proc/sysvipc/${kind}`, 'utf8');
  } catch {
    return [];
  }
  const [head = '', ...rows] = text.trim().split('\n');
  const cols = head.trim().split(/\s+/);
  const idCol = cols.indexOf(kind === 'shm' ? 'shmid' : kind === 'sem' ? 'semid' : 'msqid');
  const cpidCol = cols.indexOf('cpid');
  return rows
    .map((r) => r.trim().split(/\s+/))
    .filter((f) => Number(f[0]) >>> 0 === key)
    .map((f) => ({ id: Number(f[idCol]), cpid: cpidCol >= 0 ? Number(f[cpidCol]) : 0 }));
}

/** Every object of the demo that exists now, as shmscope targets. */
function demoObjects() {
  const found = [];
  for (const kind of ['shm', 'sem', 'msg']) {
    for (const row of sysvWithKey(kind, DEMO.key)) found.push({ target: `${kind}:${row.id}`, cpid: row.cpid });
  }
  if (existsSync(`/dev/shm${DEMO.posixShm}`)) found.push({ target: `posix:${DEMO.posixShm}` });
  if (existsSync(`/dev/shm/sem.${DEMO.posixSem.slice(1)}`)) found.push({ target: `psem:${DEMO.posixSem}` });
  return found;
}

const alive = (pid) => pid > 0 && existsSync(`/proc/${pid}`);

/**
 * Removes whatever of the demo is left: POSIX objects by unlinking their files (what shm_unlink
 * and sem_unlink do on Linux), System V objects with the shmscope CLI, in parallel so a full
 * cleanup stays well under a second. Resolves with what it could not remove.
 */
async function removeLeftovers() {
  const failed = [];
  const posixFiles = { [`posix:${DEMO.posixShm}`]: `/dev/shm${DEMO.posixShm}`, [`psem:${DEMO.posixSem}`]: `/dev/shm/sem.${DEMO.posixSem.slice(1)}` };
  await Promise.all(
    demoObjects().map(({ target }) => {
      const file = posixFiles[target];
      if (file) {
        try {
          unlinkSync(file);
        } catch (e) {
          if (e.code !== 'ENOENT') failed.push(`${target}: ${e.message}`);
        }
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [cli, 'rm', target, '--yes'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('error', (e) => (err += e.message));
        child.on('close', (code) => {
          if (code !== 0 && demoObjects().some((o) => o.target === target)) failed.push(`${target}: ${err.trim()}`);
          resolve();
        });
      });
    }),
  );
  return failed;
}

// ---------------------------------------------------------------------------------------------
// Build.

/** Runs a build step quietly; its output is shown only when it fails. */
function run(what, cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) fail(`${what} could not start: ${r.error.message}`);
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}${r.stderr}`);
    fail(`${what} failed (exit ${r.status ?? r.signal})`);
  }
  if (r.stderr.includes('warning:')) process.stderr.write(r.stderr);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Children we started, stopped on the way out. */
const children = [];
let stopping = false;
/** True once the demo's key and names are this run's to create and remove. */
let owner = false;
let workbench; // { url, pid, stop(), exited } from startWorkbench
let workbenchStarting; // its promise, while code-server starts

// Installed first, so a signal at any point runs the same bounded shutdown. (During a synchronous
// step, like the build, it runs when that step ends.) A second Ctrl+C changes nothing.
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));

say('building (node scripts/build.mjs)');
run('the build', process.execPath, [path.join(root, 'scripts', 'build.mjs')]);

const cc = process.env.CC || onPath('cc') || onPath('gcc') || onPath('clang');
if (!cc) fail('no C compiler found (cc, gcc or clang); install one (Debian: apt-get install gcc)');
mkdirSync(outDir, { recursive: true });
for (const name of ['producer', 'consumer']) {
  const flags = ['-std=c11', '-O2', '-Wall', '-Wextra', '-pthread'];
  run(`compiling demo/${name}.c`, cc, [...flags, '-o', path.join(outDir, name), path.join(root, 'demo', `${name}.c`)]);
}

// A previous demo killed with SIGKILL (or a power cut) leaves its objects behind. Remove them if
// their creator is gone; refuse if another demo is running.
const existing = demoObjects();
if (existing.length > 0) {
  const running = existing.find((o) => o.cpid && alive(o.cpid));
  if (running) fail(`another demo is running (pid ${running.cpid} created ${running.target}); stop it first`);
  say(`removing leftovers of an earlier demo: ${existing.map((o) => o.target).join(', ')}`);
  const failed = await removeLeftovers();
  if (failed.length) fail(`could not remove leftovers:\n  ${failed.join('\n  ')}`);
}
owner = true;

// ---------------------------------------------------------------------------------------------
// Run.

function start(name, argv, opts = {}) {
  const child = spawn(path.join(outDir, name), argv, { cwd: outDir, stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    // Ctrl+C in a terminal signals the whole process group: the producer then stops (exit 0)
    // before or after our own handler runs. Anything else is a failure worth saying.
    if (code === 0) {
      say(`${name} stopped`);
      void shutdown(0);
    } else {
      say(`${name} exited unexpectedly (${signal ?? `exit ${code}`}); stopping`);
      void shutdown(1);
    }
  });
  return child;
}

/** Resolves with the producer's "ready" line; rejects if it exits first or takes over 10 s. */
function waitForReady(child) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the producer did not report ready within 10 s')), 10_000);
    const onData = (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.startsWith('ready'));
      if (line) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining so the producer never blocks on a full pipe
        resolve(line);
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error('the producer exited before it was ready (see its message above)'));
    });
  });
}

const exited = (child) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));

const within = (ms, promise) => {
  let timer;
  return Promise.race([
    promise.then(() => true),
    new Promise((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** Stops everything in at most ~7 s: editor, consumer and producer at once, then removes what is left. */
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping');
  const stopWorkbench = async () => {
    // A workbench still starting is waited for (it listens within about a second), then stopped.
    if (!workbench && workbenchStarting) await within(5000, workbenchStarting.then((wb) => (workbench = wb)).catch(() => {}));
    if (!workbench) return;
    // Its stop() sends SIGTERM to code-server's process group and SIGKILL after 5 s.
    if (!(await within(6000, Promise.resolve(workbench.stop()).catch(() => {})))) {
      try {
        process.kill(-workbench.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  // SIGTERM lets the producer remove its own objects; SIGKILL only if it does not exit in time.
  const stopChild = async ({ name, child }) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await within(2500, exited(child)))) {
      say(`${name} did not stop; killing it`);
      child.kill('SIGKILL');
      await within(1000, exited(child));
    }
  };
  await Promise.all([stopWorkbench(), ...children.map(stopChild)]);
  // Only objects this run may own: leftovers of another running demo were refused at start.
  const failed = owner ? await removeLeftovers() : [];
  if (failed.length) {
    console.error(`shmscope demo: could not remove:\n  ${failed.join('\n  ')}`);
    code = 1;
  } else if (owner) {
    say('everything it created is removed');
  }
  process.exit(code);
}

/** Opens a URL in the user's browser, only when there is a display or a BROWSER to ask. */
function openBrowser(url) {
  const browser = process.env.BROWSER;
  const opener = browser || (process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? onPath('xdg-open') : undefined);
  if (!opener) return;
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => say(`could not start ${opener}; open the URL yourself`));
  child.unref();
}

/** The editor on demo/workspace: desktop VS Code, or the browser workbench (served, URL printed). */
async function openEditor() {
  const code = onPath('code');
  if (code && !noOpen) {
    say(`opening VS Code: code --extensionDevelopmentPath=${root} ${workspace}`);
    // `code` hands the window to the running VS Code and returns; the window is the user's to close.
    const child = spawn(code, [`--extensionDevelopmentPath=${root}`, workspace], { stdio: 'ignore', detached: true });
    child.on('error', (e) => say(`could not start VS Code: ${e.message}`));
    child.unref();
    return;
  }
  const module = path.join(root, 'scripts', 'editor', 'workbench.mjs');
  if (!existsSync(module)) {
    say('the browser workbench (scripts/editor/workbench.mjs) is not in this checkout; the objects are live anyway:');
    say(`try: node ${path.relative(process.cwd(), cli) || cli} list`);
    return;
  }
  say('starting the browser workbench (the first run installs it into ~/.cache/shmscope: a few minutes)');
  const { startWorkbench } = await import(pathToFileURL(module).href);
  // Installed (linked), not the development path: that needs the test driver's option, which hides
  // every notification toast; the demo is a user's first contact and behaves as a normal window.
  workbenchStarting = startWorkbench({ folder: workspace, extensionLink: root });
  workbench = await workbenchStarting;
  if (stopping) return;
  // On its own line, so scripts and people can pick it up.
  console.log(`shmscope demo: open ${workbench.url}`);
  if (!noOpen) openBrowser(workbench.url);
  workbench.exited.then(({ code: c, signal }) => {
    if (!stopping) {
      say(`the workbench exited (${signal ?? `exit ${c}`}); stopping`);
      void shutdown(1);
    }
  });
}

async function main() {
  const producer = start('producer', []);
  try {
    say(`producer ${await waitForReady(producer)}`);
  } catch (e) {
    if (stopping) return; // a signal stopped it while it started
    say(e.message);
    return shutdown(1);
  }
  if (stopping) return;
  const consumer = start('consumer', []);
  consumer.stdout.resume(); // its progress lines are not shown; the editor shows the same, live
  say(`producer pid ${producer.pid} writes the ring (key 0x52494e47) at 10 Hz; consumer pid ${consumer.pid} reads it`);

  if (!noEditor) {
    try {
      await openEditor();
    } catch (e) {
      say(`the editor did not start: ${e.message}`);
      return shutdown(1);
    }
  }
  if (stopping) return;
  say('running; press Ctrl+C to stop and remove everything it created');
}

await main();
