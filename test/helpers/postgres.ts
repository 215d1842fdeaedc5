// A PostgreSQL 15 cluster from Debian for the tests that need the real server: installed on first
// use (as root, with apt) so that a fresh machine runs them, initialised in a folder of the test and
// run as the postgres user on a socket folder of its own; and psql sessions that stay open (a
// transaction that holds a lock while another session waits for it).
// A cluster's folder (shmscope-pg-* in the temporary folder) goes on every path: `stop`, a start
// that fails half-way, the process's exit (another test of the file failed and after() never got
// there), and SIGINT/SIGTERM/SIGHUP (an interrupted test run, a bench stopped at a random moment);
// a folder whose owner was killed outright (SIGKILL) is swept, its server ended, by the next start.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { until } from './ipc';

export const PG = '/usr/lib/postgresql/15/bin';

/** Installs a Debian package when `probe` is missing (as root, with apt; `apt-get update` once if needed). */
export function aptEnsure(probe: string, pkg: string): void {
  if (existsSync(probe) || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...a: string[]) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...a], { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  if (!apt('install', '-y', '-q', '--no-install-recommends', pkg) && apt('update', '-q')) apt('install', '-y', '-q', '--no-install-recommends', pkg);
}

/** PostgreSQL 15 from Debian, installed on first use as the build installs libdw. */
export function ensurePostgres(): void {
  aptEnsure(`${PG}/postgres`, 'postgresql-15');
}

/** Clusters of this process not stopped yet. */
const live = new Set<Cluster>();

/** Field `n` (1-based, as in proc(5)) of a process's stat, or undefined once it is gone. */
function statField(pid: number, n: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ')[n - 3];
  } catch {
    return undefined;
  }
}
/**
 * This process for good, as an owner file says it: its pid, start time and pid namespace (a pid
 * names a process only in its namespace; another's owners are never judged).
 */
const identity = (pid: number) => `${pid} ${statField(pid, 22)} ${readlinkSync('/proc/self/ns/pid')}`;

/** Ends a cluster's processes (each in a group of its own) and removes its folder; synchronous, for exit and signal paths. */
function discard(dir: string, groups: number[]): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* ended */
    }
  }
  // A backend killed a moment ago may still hold a file open: rmSync retries.
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

function discardLive(): void {
  for (const c of live) discard(c.dir, c.children.map((ch) => ch.pid!).filter(Boolean));
  live.clear();
}

let exitHandled = false;
/** Ends this process's clusters when it exits or is interrupted; a signal then has its usual effect. */
function handleExit(): void {
  if (exitHandled) return;
  exitHandled = true;
  process.on('exit', discardLive);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      discardLive();
      // Nobody else handles it: end as without this handler (an exit, since a process that is
      // pid 1 of a namespace ignores a signal it has no handler for).
      if (process.listenerCount(signal) === 0) process.exit(128 + constants.signals[signal]);
    };
    process.once(signal, onSignal);
  }
}

/**
 * Folders of clusters whose owner is gone (killed with SIGKILL, which no handler sees): their
 * server is ended (the pid in postmaster.pid, when it is still that folder's postgres) and the
 * folder removed.
 */
function sweep(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => n.startsWith('shmscope-pg-'));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(parent, name);
    let owner: string;
    try {
      owner = readFileSync(path.join(dir, 'owner'), 'utf8').trim();
    } catch {
      continue; // not one of ours, or still being made
    }
    const [pid, , ns] = owner.split(' ');
    if (ns !== readlinkSync('/proc/self/ns/pid') || owner === identity(Number(pid))) continue; // another namespace's, or its owner runs
    // Its server: the postmaster in postmaster.pid when it is still this folder's, and its group
    // (runuser, the postmaster and its backends).
    const groups: number[] = [];
    try {
      const pm = Number(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pm > 0 && readFileSync(`/proc/${pm}/cmdline`, 'latin1').includes(dir)) {
        const pgid = Number(statField(pm, 5));
        if (pgid > 0 && pgid !== Number(statField(process.pid, 5))) groups.push(pgid);
        else process.kill(pm, 'SIGKILL');
      }
    } catch {
      /* no server */
    }
    discard(dir, groups);
  }
}

const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

export interface ClusterOptions {
  /**
   * Run the server as a container would: in a PID, IPC and mount namespace of its own (unshare),
   * so the pids it stores and reports (pg_backend_pid(), pg_blocking_pids()) are that namespace's.
   * `postmaster` is then unshare; `hostPid` turns the server's pids into ours.
   */
  container?: boolean;
}

/** A running cluster: its folder, postmaster and socket; `stop` shuts it down (fast, else -9) and removes the folder. */
export class Cluster {
  readonly children: ChildProcess[] = [];
  private constructor(readonly dir: string, readonly port: number, readonly container: boolean) {}

  /** The server (runuser, then postgres; unshare first for a container), once started. */
  get postmaster(): ChildProcess {
    return this.children[0]!;
  }

  /** Starts a cluster in a new folder of the temporary folder (TMPDIR: a test run's or a bench's own). */
  static async start(port: number, settings: string[] = [], options: ClusterOptions = {}): Promise<Cluster> {
    ensurePostgres();
    sweep(tmpdir());
    handleExit();
    const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-pg-'));
    const container = options.container === true;
    const c = new Cluster(dir, port, container);
    live.add(c);
    try {
      writeFileSync(path.join(dir, 'owner'), `${identity(process.pid)}\n`);
      mkdirSync(path.join(dir, 'sock'));
      const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const [uid, gid] = [id('-u'), id('-g')];
      assert.ok(uid > 0, 'the postgres user exists (the postgresql-15 package makes it)');
      // The postgres user must reach its folder (a run's or a bench's temporary folder is 1777, as /tmp).
      assert.ok((statSync(path.dirname(dir)).mode & 0o001) !== 0, `${path.dirname(dir)} lets the postgres user through (o+x)`);
      chownSync(dir, uid, gid);
      chownSync(path.join(dir, 'sock'), uid, gid);
      const init = spawnSync('runuser', ['-u', 'postgres', '--', `${PG}/initdb`, '-D', path.join(dir, 'data'), '-A', 'trust', '--no-sync', '-U', 'postgres'], { encoding: 'utf8' });
      assert.equal(init.status, 0, init.stderr);
      const args = ['-D', path.join(dir, 'data'), '-k', path.join(dir, 'sock'), '-p', String(port), '-c', 'listen_addresses=', ...settings.flatMap((s) => ['-c', s])];
      const run = ['runuser', '-u', 'postgres', '--', `${PG}/postgres`, ...args];
      const [cmd, ...argv] = container ? ['unshare', '--pid', '--ipc', '--mount', '--fork', '--mount-proc', ...run] : run;
      c.children.push(spawn(cmd!, argv, { stdio: ['ignore', 'ignore', 'ignore'], detached: true }));
      await until('PostgreSQL listens on its socket', () => existsSync(path.join(dir, 'sock', `.s.PGSQL.${port}`)), 60_000);
      await until('PostgreSQL accepts connections', () => spawnSync(`${PG}/pg_isready`, ['-q', '-h', c.socket, '-p', String(port)]).status === 0, 60_000);
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  get socket(): string {
    return path.join(this.dir, 'sock');
  }

  /**
   * A pid as the server counts it → ours: the process of the server's PID namespace whose NSpid
   * ends with it (the same number when the server is not in a container); undefined when none is.
   */
  hostPid(pid: number): number | undefined {
    if (!this.container) return pid;
    const ns = (p: number | string) => {
      try {
        return readlinkSync(`/proc/${p}/ns/pid`);
      } catch {
        return undefined;
      }
    };
    // The namespace's first process is unshare's child.
    const first = readFileSync(`/proc/${this.postmaster.pid}/task/${this.postmaster.pid}/children`, 'latin1').trim().split(/\s+/)[0];
    const theirs = first ? ns(first) : undefined;
    if (!theirs) return undefined;
    for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const ids = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${p}/status`, 'latin1'))?.[1]?.trim().split(/\s+/).map(Number);
        if (ids && ids[ids.length - 1] === pid && ids.length > 1 && ns(p) === theirs) return Number(p);
      } catch {
        // ended meanwhile
      }
    }
    return undefined;
  }

  /** One query's rows (unaligned, tab-separated, no headers) on a connection of its own. */
  query(sql: string): string[][] {
    const r = spawnSync(`${PG}/psql`, ['-h', this.socket, '-p', String(this.port), '-U', 'postgres', '-X', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
    assert.equal(r.status, 0, `psql ${sql}: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => l.length).map((l) => l.split('\t'));
  }

  /** A psql session that stays open: `run` sends SQL and resolves when it has been done (`send` does not wait). */
  async session(): Promise<Session> {
    const child = spawn(`${PG}/psql`, ['-h', this.socket, '-p', String(this.port), '-U', 'postgres', '-X', '-A', '-t', '-q'], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.children.push(child);
    const s = new Session(child);
    s.pid = Number((await s.run('select pg_backend_pid();'))[0]);
    return s;
  }

  async stop(): Promise<void> {
    // A fast shutdown first (SIGINT to the server's group: the postmaster ends the sessions and
    // removes its System V segment and /dev/shm DSM segments, which matters where the server runs
    // in our namespaces, as the bench's does); whatever is left after 10 s is killed.
    try {
      process.kill(-this.postmaster.pid!, 'SIGINT');
      await Promise.race([exited(this.postmaster), new Promise((r) => setTimeout(r, 10_000).unref())]);
    } catch {
      /* ended */
    }
    for (const c of this.children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* ended */
      }
    }
    await Promise.all(this.children.map(exited));
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    live.delete(this);
  }
}

export class Session {
  /** Its backend's pid. */
  pid = 0;
  private lines: string[] = [];
  private waiting: { mark: string; resolve: (lines: string[]) => void } | undefined;
  private n = 0;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (this.waiting && line === this.waiting.mark) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(this.lines.splice(0));
      } else this.lines.push(line);
    });
  }

  /** Sends SQL without waiting (a statement that blocks). */
  send(sql: string): void {
    this.child.stdin!.write(`${sql}\n`);
  }

  /** Sends SQL and waits for it to be done: its output lines. */
  run(sql: string): Promise<string[]> {
    const mark = `--done ${++this.n}--`;
    const p = new Promise<string[]>((resolve, reject) => {
      this.waiting = { mark, resolve };
      this.child.once('exit', () => reject(new Error(`psql exited before ${sql}`)));
    });
    this.child.stdin!.write(`${sql}\n\\echo '${mark}'\n`);
    return p;
  }
}
