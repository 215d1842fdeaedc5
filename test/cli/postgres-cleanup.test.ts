// A PostgreSQL cluster of the tests (test/helpers/postgres.ts) leaves no folder and no server
// behind, however its owner ends: interrupted (SIGTERM), exiting on an error with no after() run,
// or killed outright (SIGKILL: the next cluster's start sweeps it). The owners run with a
// temporary folder of this test's own, which must be empty at the end. The file runs in an IPC
// and mount namespace of its own (PostgreSQL makes a System V segment and POSIX objects there).
import { reexecInNamespaces } from '../helpers/private-ns';

reexecInNamespaces(
  'SHMSCOPE_PGCLEANUP_NAMESPACE',
  { name: 'shmscope-pgcleanup', shmSize: '64m' },
  'the PostgreSQL clean-up tests need their own IPC and mount namespace',
);

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { ROOT } from '../helpers/ipc';
import { ensurePostgres } from '../helpers/postgres';
import { untilWithin } from '../helpers/wait';

const until = untilWithin(120_000);
const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-pgcleanup-'));
chmodSync(tmp, 0o1777);

/** Processes whose command line names `dir` (a cluster's postgres, its runuser). */
function processesOf(dir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir);
    } catch {
      return false;
    }
  });
}

/** Starts an owner (test/helpers/postgres-owner.ts) with TMPDIR=tmp; resolves with its cluster's folder once up. */
async function owner(port: number, mode?: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'helpers', 'postgres-owner.ts'), String(port), ...(mode ? [mode] : [])], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const line = await new Promise<string | undefined>((resolve) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(() => resolve(undefined));
  });
  assert.ok(line, `the owner started its cluster: ${stderr}`);
  const { dir } = JSON.parse(line) as { dir: string };
  assert.ok(existsSync(path.join(dir, 'data', 'postmaster.pid')), 'the cluster runs in its folder');
  assert.ok(processesOf(dir).length > 0, 'its server runs');
  return { child, dir, exited, stderr: () => stderr };
}

after(() => {
  for (const pid of processesOf(tmp)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* ended */
    }
  }
  rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

describe('a test cluster\'s folder and server', { timeout: 10 * 60_000 }, () => {
  it('go when the owner is interrupted, exits on an error, or is killed outright (swept by the next start)', async () => {
    ensurePostgres();
    const a = await owner(54361);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 143, a.stderr());
    await until('no process of the interrupted owner\'s cluster', () => processesOf(a.dir).length === 0);
    assert.equal(existsSync(a.dir), false, 'the interrupted owner removed its cluster\'s folder');

    const b = await owner(54362);
    b.child.kill('SIGKILL');
    await b.exited;
    assert.ok(existsSync(b.dir), 'a SIGKILL leaves the folder (no handler runs) until the next start');

    const c = await owner(54363, '--throw');
    c.child.stdin.write('fail\n');
    assert.equal(await c.exited, 1, c.stderr());
    assert.match(c.stderr(), /failed with the cluster up/);
    await until('no process of the killed or failed owners\' clusters', () => processesOf(b.dir).length + processesOf(c.dir).length === 0);
    assert.equal(existsSync(b.dir), false, 'the next start swept the killed owner\'s folder');
    assert.equal(existsSync(c.dir), false, 'the failed owner removed its folder as it exited');
    assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('shmscope-pg-')), [], 'no cluster folder is left in the owners\' temporary folder');
  });
});
