// Helpers for tests that create real kernel objects: unique keys and names, and a register of
// everything created so that `after()` removes it even when a test failed half-way.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ipc from '../../extension/src/ipc';
import { untilWithin } from './wait';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/** A System V key no object uses now. */
export function freshKey(): number {
  const used = new Set<number>();
  for (const kind of ['shm', 'sem', 'msg'] as const) {
    for (const line of readFileSync(`/proc/sysvipc/${kind}`, 'utf8').split('\n').slice(1)) {
      const k = Number(line.trim().split(/\s+/)[0]);
      if (line.trim()) used.add(k >>> 0);
    }
  }
  for (;;) {
    const key = (0x53480000 | randomInt(0x10000)) >>> 0;
    if (!used.has(key)) return key;
  }
}

/** A POSIX name unique to this test run. */
export function freshName(label: string): string {
  return `/shmscope-test-${label}-${process.pid}-${randomInt(1e9)}`;
}

/** Everything a test file created; `removeAll()` in after() removes what is still there. */
export class Created {
  private readonly targets: ipc.Target[] = [];
  private readonly handles: { close(): void }[] = [];

  track<T extends ipc.Target>(t: T): T {
    this.targets.push(t);
    return t;
  }
  hold<H extends { close(): void }>(h: H): H {
    this.handles.push(h);
    return h;
  }
  shm(size: number, opts: { key?: number; mode?: number } = {}): ipc.Target & { kind: 'shm' } {
    const id = ipc.createShm({ key: opts.key ?? 0, size, mode: opts.mode ?? 0o600 });
    return this.track({ kind: 'shm', id });
  }
  sem(nsems: number, values?: number[], key = 0): ipc.Target & { kind: 'sem' } {
    const id = ipc.createSemSet({ key, nsems, mode: 0o600, values });
    return this.track({ kind: 'sem', id });
  }
  msg(key = 0): ipc.Target & { kind: 'msg' } {
    return this.track({ kind: 'msg', id: ipc.createMsgQueue({ key, mode: 0o600 }) });
  }
  posixShm(size: number, label = 'shm'): ipc.Target & { kind: 'posix-shm' } {
    const name = freshName(label);
    ipc.createPosixShm({ name, size, mode: 0o600 });
    return this.track({ kind: 'posix-shm', name });
  }
  posixSem(value: number, label = 'sem'): ipc.Target & { kind: 'posix-sem' } {
    const name = freshName(label);
    ipc.createPosixSem({ name, value, mode: 0o600 });
    return this.track({ kind: 'posix-sem', name });
  }
  removeAll(): void {
    for (const h of this.handles.splice(0)) {
      try {
        h.close();
      } catch {
        /* already closed */
      }
    }
    for (const t of this.targets.splice(0)) {
      if (ipc.exists(t)) {
        try {
          ipc.remove(t);
        } catch {
          /* removed by the test */
        }
      }
    }
  }
}

/**
 * Runs the built CLI and returns its status and output. Its output may be large (a listing of a
 * machine where other programs hold thousands of memfds is over spawnSync's default 1 MiB, which
 * kills the child: status null), so the buffer is 256 MiB unless asked otherwise.
 */
export function cli(args: string[], opts: { input?: string; asNobody?: boolean; env?: Record<string, string>; maxBuffer?: number } = {}): SpawnSyncReturns<string> {
  const cmd = opts.asNobody ? 'setpriv' : process.execPath;
  const argv = opts.asNobody
    ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, ...args]
    : [CLI, ...args];
  return spawnSync(cmd, argv, { encoding: 'utf8', input: opts.input, timeout: 60_000, maxBuffer: opts.maxBuffer ?? 256 << 20, ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) });
}

/** Runs the built CLI as raw bytes (for --format raw). */
export function cliBytes(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Starts the CLI without waiting, for waits that a test interrupts. */
export function cliAsync(args: string[]) {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export const until = untilWithin(10_000);

/** What a test that runs the CLI or the addon needs built. */
const BUILT = [CLI, path.join(ROOT, 'native', 'build', 'Release', 'shmscope.node')];

/**
 * Builds dist/ (and the addon, incrementally) once per test process. Under `npm test` the build
 * happened once before every suite (SHMSCOPE_BUILT=1): a file then only checks that it is there,
 * and never rewrites dist/ under a test that runs it. A file run alone builds, and two at once
 * take turns (scripts/build.mjs holds a lock).
 */
let built = false;
export function ensureBuilt(): void {
  if (built) return;
  if (process.env.SHMSCOPE_BUILT === '1') {
    const missing = BUILT.filter((f) => !existsSync(f));
    if (missing.length) throw new Error(`not built (${missing.join(', ')}): run npm run build`);
  } else {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
  }
  built = true;
}
