// The surface added after the first hostile suite, under the same attack: header import, recordings
// (record, replay, decode --at), regions opened by target (file:, memfd:, anon:) and --namespace.
// Each case plants what any local user could (a FIFO, a symlink, /dev/zero, garbage, a file cut
// short or removed mid-use) inside a private IPC and mount namespace, and asserts the CLI ends by
// itself within its bound, never by a signal or a bug status, with one true line.
import './namespace';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { CLI, Created, ensureBuilt } from '../helpers/ipc';

const made = new Created();
before(() => ensureBuilt());
after(() => made.removeAll());

const BOUND_MS = 20_000;
const DIR = '/dev/shm/hostile-new';
mkdirSync(DIR, { recursive: true });

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: BOUND_MS, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Exit 1 by itself (no signal, no bug status, within the bound) with one line matching `pattern`. */
function userError(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.equal(r.signal, null, `ended by ${r.signal} (stderr: ${r.stderr})`);
  assert.equal(r.error, undefined, `did not end within ${BOUND_MS} ms`);
  assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^shmscope: /);
  assert.match(lines[0]!, pattern);
}

function fifo(name: string): string {
  const p = path.join(DIR, name);
  rmSync(p, { force: true });
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, 'mkfifo');
  return p;
}

function link(name: string, to: string): string {
  const p = path.join(DIR, name);
  rmSync(p, { force: true });
  symlinkSync(to, p);
  return p;
}

describe('header import under attack', () => {
  // A header is the user's own input, named by them, and system headers are often reached through
  // links (asm → asm-generic): a link is followed, but only to a regular file of bounded size.
  it('a FIFO and /dev/zero as the header, or a link to one: refused at once, saying what it is', () => {
    userError(run(['import', fifo('h.fifo')]), /fifo|FIFO|not a regular file/i);
    userError(run(['import', '/dev/zero']), /not a regular file|device/i);
    userError(run(['import', link('h.lnk', path.join(DIR, 'h.fifo'))]), /fifo|FIFO|not a regular file/i);
  });

  it('a FIFO reached through #include: a diagnostic, never a hang', () => {
    const dir = path.join(DIR, 'inc');
    mkdirSync(dir, { recursive: true });
    rmSync(path.join(dir, 'trap.h'), { force: true });
    assert.equal(spawnSync('mkfifo', [path.join(dir, 'trap.h')]).status, 0);
    const header = path.join(dir, 'main.h');
    writeFileSync(header, '#include "trap.h"\nstruct S { int a; };\n');
    const r = run(['import', header]);
    assert.equal(r.signal, null);
    assert.equal(r.error, undefined, 'ended within its bound');
    assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /trap\.h/);
  });
});

describe('recordings under attack', () => {
  it('replay and decode --at of a FIFO, /dev/zero, garbage and a symlink: one line, exit 1', () => {
    const garbage = path.join(DIR, 'garbage.shmrec');
    writeFileSync(garbage, Buffer.from('SHMREC01\xff\xff\xff\xffnot json at all', 'latin1'));
    for (const f of [fifo('r.shmrec'), '/dev/zero', garbage, link('l.shmrec', '/etc/shadow')]) {
      userError(run(['replay', f]), /./);
      userError(run(['decode', f, '--at', '#0']), /./);
    }
  });

  it('a recording cut short mid-frame still replays up to its last whole frame', () => {
    const name = `/rec${process.pid}`;
    ipc.createPosixShm({ name, size: 4096 });
    made.track({ kind: 'posix-shm', name });
    const out = path.join(DIR, 'cut.shmrec');
    const rec = run(['record', `posix:${name}`, '--hz', '50', '--duration', '300ms', '-o', out]);
    assert.equal(rec.status, 0, rec.stderr);
    truncateSync(out, statSync(out).size - 7);
    const r = run(['replay', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.trim().split('\n').length >= 1, 'at least the first frame');
    const schema = path.join(DIR, 'word.shms');
    writeFileSync(schema, 'struct W { uint32_t w; };\n');
    userError(run(['decode', out, '--at', '#999999', '--schema', schema, '--type', 'W']), /frame|#999999/);
  });

  it('record of a FIFO or a symlink planted as a POSIX name: refused, saying what it is', () => {
    fifo('../recfifo');
    userError(run(['record', 'posix:/recfifo', '--duration', '100ms', '-o', path.join(DIR, 'x.shmrec')]), /not a shared memory object|fifo|FIFO/i);
    link('../reclink', '/etc/shadow');
    userError(run(['record', 'posix:/reclink', '--duration', '100ms', '-o', path.join(DIR, 'y.shmrec')]), /not a shared memory object|link/i);
  });
});

describe('regions opened by target under attack', () => {
  it('file: targets that are a FIFO, a symlink or a device: refused, never opened blocking', () => {
    userError(run(['dump', `file:${fifo('d.fifo')}`, '--length', '16']), /fifo|FIFO|not a regular file/i);
    userError(run(['dump', `file:${link('d.lnk', '/etc/shadow')}`, '--length', '16']), /link|not a regular file/i);
    userError(run(['dump', 'file:/dev/zero', '--length', '16']), /not a regular file|device|not mapped/i);
  });

  it('a mapped file shrunk to nothing: an empty dump or one true line, never SIGBUS', () => {
    const f = path.join(DIR, 'shrunk.bin');
    writeFileSync(f, Buffer.alloc(8192, 0xab));
    truncateSync(f, 0);
    const r = run(['dump', `file:${f}`, '--length', '64']);
    assert.equal(r.signal, null);
    assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  });

  it('memfd: and anon: inodes that nothing maps, and malformed region targets: user errors', () => {
    userError(run(['dump', 'memfd:999999999']), /memfd|no /i);
    userError(run(['dump', 'anon:999999999']), /anon|no /i);
    userError(run(['dump', 'memfd:abc']), /target|memfd/i);
    userError(run(['dump', 'file:relative/path']), /absolute|target/i);
  });

  it('--namespace of a process that does not exist or is not a number: user errors', () => {
    userError(run(['list', '--namespace', '999999999']), /no process has that id/);
    userError(run(['list', '--namespace', 'abc']), /namespace|pid|number/i);
  });
});

describe('reading our own files stays bounded', () => {
  it('waits --schema of a FIFO or /dev/zero: refused at once', () => {
    userError(run(['waits', '--schema', fifo('w.shms')]), /fifo|FIFO|not a regular file/i);
    userError(run(['waits', '--schema', '/dev/zero']), /not a regular file|device/i);
    assert.ok(readFileSync('/proc/self/status', 'utf8').length > 0);
  });
});
