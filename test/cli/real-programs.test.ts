// Program knowledge against more real programs than PostgreSQL and Python's shared_memory
// (test/cli/programs.test.ts), in one namespace of this file's own (IPC, mount and pid, with its own
// /proc and a 256 MiB /dev/shm): LMDB (a C program of the test's, with a reader slot of a killed
// process and a writer blocked on the writer lock), Boost.Interprocess (a managed segment and an
// interprocess_mutex one process holds while another waits), a Python multiprocessing.Lock a child
// blocks on, JACK's server on its dummy driver with a client (live, then killed with -9),
// PulseAudio's memfd pool, headless Chromium's memfd regions, and two Fast-DDS participants (the
// discovery server of fastdds-tools), one killed with -9. Each is Debian's, installed on first use
// with apt (test-only packages, named in the README). Everything dies with the namespaces.
import { reexecInNamespaces } from '../helpers/private-ns';

reexecInNamespaces(
  'SHMSCOPE_REAL_PROGRAMS_NAMESPACE',
  { name: 'shmscope-real-programs', shmSize: '256m', pid: true },
  'the real-program tests need their own IPC, mount and pid namespace',
);

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { groupByProgram } from '../../extension/src/analysis/programs';
import type { RegionRecord } from '../../extension/src/ipc/types';
import { cli, ensureBuilt, ROOT } from '../helpers/ipc';
import { untilWithin } from '../helpers/wait';

const until = untilWithin(60_000);
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'programs');
const OUT = path.join(ROOT, '.test-artifacts', 'fixtures');

/** The Debian packages of these programs, each for the files it gives (installed when missing, as root with apt). */
const PACKAGES: [pkg: string, file: string][] = [
  ['liblmdb-dev', '/usr/include/lmdb.h'],
  ['lmdb-utils', '/usr/bin/mdb_stat'],
  ['libboost-dev', '/usr/include/boost/interprocess/managed_shared_memory.hpp'],
  ['jackd2', '/usr/bin/jackd'],
  ['pulseaudio', '/usr/bin/pulseaudio'],
  ['fastdds-tools', '/usr/bin/fast-discovery-server'],
  ['chromium', '/usr/bin/chromium'],
];

function ensurePackages(): void {
  const missing = PACKAGES.filter(([, f]) => !existsSync(f)).map(([p]) => p);
  if (!missing.length || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...a: string[]) => spawnSync('apt-get', a, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  if (!apt('install', '-y', '-q', '--no-install-recommends', ...missing) && apt('update', '-q')) apt('install', '-y', '-q', '--no-install-recommends', ...missing);
}

/** Compiles a fixture, unless its binary is newer than its source (Boost's headers take seconds to compile). */
function compile(compiler: string, src: string, out: string, libs: string[], std: string): string {
  const bin = path.join(OUT, out);
  const source = path.join(FIXTURES, src);
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(source).mtimeMs) return bin;
  const r = spawnSync(compiler, [std, '-O0', '-Wall', '-Wextra', '-Werror', '-o', bin, source, ...libs], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${compiler} ${src}: ${r.stderr}`);
  return bin;
}

interface Holder { pid: number; command: string }
interface Rec { name?: string; path?: string; key?: number; kind: string; verdict: string; reasons: string[]; owner?: string; attachedBy?: Holder[]; fdHolders?: Holder[] }
interface Listing { posixShm: Rec[]; posixSem: Rec[]; sem: Rec[]; memfd: Rec[]; file: Rec[] }
interface Wait {
  pid: number; tid: number; object: { kind: string; target: string | null; name: string | null }; offset: number | null; op: string;
  heldBy: { pid: number | null; alive: boolean }[]; meaning?: { program: string; owner: string; says: string; advice?: string }; advice?: string;
}

function json<T>(args: string[]): T {
  const r = cli(args, { maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `shmscope ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
const list = () => json<Listing>(['list', '--json']);
const waits = () => json<{ waits: Wait[] }>(['waits', '--json']).waits;

/** A started program: its process (a group of its own, killed whole), and its JSON lines as they come. */
class Program {
  readonly lines: Record<string, unknown>[] = [];
  readonly exited: Promise<void>;
  constructor(readonly child: ChildProcess) {
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* not a fixture's line */
      }
    });
    this.exited = new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  }
  get pid(): number {
    return this.child.pid!;
  }
  /** The n-th JSON line (from 0), once printed. */
  line<T>(n = 0): Promise<T> {
    return until(`pid ${this.pid} prints line ${n + 1}`, () => this.lines[n] as T | undefined);
  }
  async kill(): Promise<void> {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* ended */
    }
    await this.exited;
  }
}

const programs: Program[] = [];
function start(cmd: string, args: string[], opts: SpawnOptions = {}): Program {
  const p = new Program(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'], detached: true, ...opts }));
  programs.push(p);
  return p;
}

let dir: string;
let lmdb: string;
let boost: string;

before(() => {
  ensureBuilt();
  ensurePackages();
  mkdirSync(OUT, { recursive: true });
  lmdb = compile('cc', 'lmdb-env.c', 'lmdb-env', ['-llmdb'], '-std=c11');
  boost = compile('c++', 'boost-mutex.cpp', 'boost-mutex', ['-lpthread', '-lrt'], '-std=c++17');
  dir = mkdtempSync(path.join(tmpdir(), 'shmscope-programs-'));
});

after(async () => {
  await Promise.all(programs.map((p) => p.kill()));
  rmSync(dir, { recursive: true, force: true });
});

describe('program knowledge on more real programs', () => {
  it('LMDB: its lock file and data file named, a reader slot of a dead pid said in LMDB\'s terms until mdb_stat -rr clears it, a writer blocked on the writer lock', async () => {
    const env = path.join(dir, 'lmdb');
    mkdirSync(env);
    const reader = start(lmdb, [env, 'read']);
    await reader.line();
    const dead = start(lmdb, [env, 'read']);
    await dead.line();
    await dead.kill();
    const writer = start(lmdb, [env, 'write']);
    await writer.line(1);
    const blocked = start(lmdb, [env, 'write']);
    await blocked.line();
    // LMDB's own tool lists the dead process's slot beside the live reader's.
    const readers = spawnSync('mdb_stat', ['-r', env], { encoding: 'utf8' }).stdout;
    assert.match(readers, new RegExp(`^\\s*${dead.pid}\\s`, 'm'), readers);

    const lockPath = path.join(env, 'lock.mdb');
    const l = list();
    const lock = l.file.find((r) => r.path === lockPath)!;
    assert.ok(lock, 'lock.mdb is listed');
    assert.equal(lock.owner, `LMDB lock table of ${env}`);
    assert.equal(lock.verdict, 'in use');
    const said = lock.reasons.filter((r) => r.startsWith('LMDB reader slot'));
    assert.equal(said.length, 1, lock.reasons.join('; '));
    assert.match(said[0]!, new RegExp(`^LMDB reader slot 1 belongs to pid ${dead.pid}, which is dead: .*mdb_reader_check \\(or \`mdb_stat -rr ${env.replace(/[.]/g, '\\.')}\`\\) clears it$`));
    assert.equal(l.file.find((r) => r.path === path.join(env, 'data.mdb'))?.owner, `LMDB database ${env}`);

    const w = await until('the second writer blocks on the writer lock', () => waits().find((x) => x.pid === blocked.pid));
    assert.equal(w.object.target, `file:${lockPath}`);
    assert.equal(w.offset, 64, 'MDB_txninfo\'s mti_wmutex');
    assert.deepEqual(w.heldBy.map((h) => [h.pid, h.alive]), [[writer.pid, true]]);
    assert.equal(w.meaning?.program, 'LMDB');
    assert.match(w.meaning.says, new RegExp(`^LMDB's writer lock of .*mti_wmutex.*: held by pid ${writer.pid} \\(lmdb-env\\)$`));
    assert.match(w.advice!, /one write transaction at a time/);

    // LMDB's own remedy clears the slot; we say nothing of it then.
    // (mdb_stat exits 1 after printing the table when asked no database: its words are the answer.)
    assert.match(spawnSync('mdb_stat', ['-rr', env], { encoding: 'utf8' }).stdout, /^\s*1 stale readers cleared\.$/m);
    const cleared = list().file.find((r) => r.path === lockPath)!;
    assert.deepEqual(cleared.reasons.filter((r) => r.startsWith('LMDB reader slot')), []);
    await Promise.all([reader, writer, blocked].map((p) => p.kill()));
  });

  it('Boost.Interprocess: a managed segment named by its header, a thread blocked on an interprocess_mutex named in Boost\'s terms with its holder', async () => {
    const name = `shmscope-boost-${process.pid}`;
    const holder = start(boost, [name, 'hold']);
    const { offset } = await holder.line<{ offset: number }>();
    const waiter = start(boost, [name, 'wait']);
    await waiter.line();
    const seg = list().posixShm.find((r) => r.name === `/${name}`)!;
    assert.equal(seg.owner, `Boost.Interprocess managed segment /${name}`);
    assert.equal(seg.verdict, 'in use');
    const w = await until('the waiter blocks on the mutex', () => waits().find((x) => x.pid === waiter.pid));
    assert.equal(w.object.target, `posix:/${name}`);
    assert.equal(w.offset, offset);
    assert.deepEqual(w.heldBy.map((h) => h.pid), [holder.pid]);
    assert.equal(w.meaning?.program, 'Boost.Interprocess');
    assert.equal(w.meaning.says, `a boost::interprocess::interprocess_mutex at 0x${offset.toString(16)} of managed segment /${name}: held by pid ${holder.pid} (boost-mutex)`);
    assert.match(w.advice!, /interprocess_mutex is not robust/);
    await Promise.all([holder, waiter].map((p) => p.kill()));
  });

  it('Boost.Interprocess: a thread waiting on an interprocess_condition in a managed segment is named in Boost\'s terms, at the condition, with no holder', async () => {
    const name = `shmscope-boostcond-${process.pid}`;
    const waiter = start(boost, [name, 'cond']);
    const { condition } = await waiter.line<{ condition: number }>();
    const w = await until('the waiter blocks on the condition', () => waits().find((x) => x.pid === waiter.pid));
    assert.equal(w.object.target, `posix:/${name}`);
    // glibc's condvar waits on one of its two signal words, 40 or 44 bytes from its start.
    assert.ok(w.offset !== null && (w.offset === condition + 40 || w.offset === condition + 44), `the futex word (offset ${w.offset}) is the condition's (at ${condition})`);
    assert.match(w.op, /^condvar/);
    assert.deepEqual(w.heldBy, [], 'a condition has no holder');
    assert.equal(w.meaning?.program, 'Boost.Interprocess');
    // ({offset} is the waited word's, as for every wait.)
    assert.equal(w.meaning.says, `a boost::interprocess::interprocess_condition at 0x${w.offset.toString(16)} of managed segment /${name}: it waits for notify_one or notify_all`);
    await waiter.kill();
  });

  it('Python multiprocessing: a child blocked in Lock.acquire() is named a SemLock wait, with the kernel\'s silence on its holder said', async () => {
    const py = start('python3', [path.join(FIXTURES, 'python-lock.py')]);
    const { child } = await py.line<{ child: number }>();
    const w = await until('the child blocks in acquire()', () => waits().find((x) => x.pid === child));
    assert.equal(w.object.kind, 'posix-sem');
    assert.equal(w.op, 'sem_t sem wait');
    assert.deepEqual(w.heldBy, [], 'a semaphore has no owner');
    assert.equal(w.meaning?.program, 'Python');
    assert.match(w.meaning.says, /^a Python multiprocessing Lock, RLock, Semaphore or Condition \(a SemLock.*\): acquire\(\) waits until another process calls release\(\)$/);
    assert.match(w.advice!, /records no owner, so the kernel cannot name who holds it/);
    await py.kill();
  });

  it('JACK on its dummy driver: the server\'s objects and its client\'s semaphore named and in use, the client\'s wait named; after kill -9, leftovers', async () => {
    const jackEnv = { ...process.env, JACK_NO_AUDIO_RESERVATION: '1', JACK_NO_START_SERVER: '1' };
    const jackd = start('jackd', ['-p', '16', '--no-realtime', '-d', 'dummy', '-r', '48000', '-p', '256'], { env: jackEnv });
    await until('jackd answers', () => spawnSync('jack_lsp', [], { env: jackEnv, stdio: 'ignore' }).status === 0);
    const client = start('jack_simple_client', [], { env: jackEnv });
    const sem = '/jack_sem.0_default_jack_simple_client';
    await until('the client has its semaphore', () => list().posixShm.some((r) => r.name === sem));
    const l = list();
    const jack = l.posixShm.filter((r) => r.name!.startsWith('/jack'));
    for (const r of jack) {
      assert.equal(r.verdict, 'in use', `${r.name}: ${r.reasons.join('; ')}`);
      assert.match(r.owner ?? '', /^JACK /, r.name);
    }
    assert.equal(l.posixShm.find((r) => r.name === sem)?.owner, 'JACK server "default" semaphore of client jack_simple_client');
    assert.ok(jack.some((r) => r.owner === 'JACK shared memory registry'), 'the registry');
    assert.ok(jack.some((r) => /^JACK server shared memory \/jack-0-\d+ of uid 0$/.test(r.owner!)), 'the server\'s segments');
    const registryLock = l.sem.find((r) => r.key === 0x282929)!;
    assert.deepEqual([registryLock.owner, registryLock.verdict], ['JACK shared memory registry lock', 'in use']);
    assert.ok(l.file.some((r) => r.path?.startsWith('/dev/shm/jack_db-0/') && r.owner?.startsWith('JACK metadata database')), 'its metadata database files');

    // The client's process thread waits on its semaphore between cycles (woken every 5 ms).
    const w = await until('the client waits on its semaphore', () => waits().find((x) => x.pid === client.pid && x.object.target === `posix:${sem}`));
    assert.equal(w.meaning?.says, 'JACK client "jack_simple_client" of server "default" waits for the server to wake it for its next process cycle (its jack_sem futex)');

    await Promise.all([jackd, client].map((p) => p.kill()));
    const gone = await until('nothing maps JACK\'s objects', () => {
      const x = list();
      return x.posixShm.filter((r) => r.name!.startsWith('/jack')).every((r) => r.verdict !== 'in use') && x;
    });
    for (const r of gone.posixShm.filter((x) => x.name!.startsWith('/jack'))) {
      assert.equal(r.verdict, 'leftover', `${r.name}: ${r.reasons.join('; ')}`);
      assert.match(r.owner ?? '', /^JACK /);
    }
    assert.equal(gone.sem.find((r) => r.key === 0x282929)?.verdict, 'leftover');
  });

  it('PulseAudio: its memfd pool is named as PulseAudio\'s', async () => {
    const home = path.join(dir, 'pulse');
    mkdirSync(path.join(home, 'run'), { recursive: true, mode: 0o700 });
    const pa = start('pulseaudio', ['--daemonize=no', '--exit-idle-time=-1', '-n', '-L', 'module-null-sink', '--use-pid-file=no', '--disable-shm=no'], {
      env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') },
    });
    const pool = await until('PulseAudio maps its pool', () => list().memfd.find((r) => r.name === 'pulseaudio' && r.attachedBy?.some((a) => a.pid === pa.pid)));
    assert.equal(pool.owner, `PulseAudio memory pool of pid ${pa.pid} (pulseaudio)`);
    assert.equal(pool.verdict, 'in use');
    await pa.kill();
  });

  it('headless Chromium: its memfd regions are named as Chromium\'s and grouped under one program, not a flat list', async () => {
    // Its temporary files (org.chromium.Chromium.*, left when it is killed) in the test's folder too.
    const tmp = path.join(dir, 'chromium-tmp');
    mkdirSync(tmp, { recursive: true });
    const chromium = start('chromium', ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${path.join(dir, 'chromium')}`, 'about:blank'], { env: { ...process.env, TMPDIR: tmp } });
    const isChromium = (r: Rec) => (r.attachedBy ?? []).some((a) => /(^|\/)chromium /.test(a.command));
    const regions = await until('Chromium shares memfd regions between its processes', () => {
      const m = list().memfd.filter(isChromium);
      return m.length >= 2 && m;
    });
    for (const r of regions) assert.match(r.owner ?? '', /^Chromium shared memory region of pid \d+ \(chromium\)$/, r.name);
    const groups = groupByProgram(regions as unknown as RegionRecord[]);
    assert.deepEqual(groups.map((g) => [g.program, g.counts.memfd]), [['chromium', regions.length]]);
    assert.ok(groups[0]!.pids.includes(chromium.pid));
    await chromium.kill();
  });

  it('Fast-DDS: a live participant\'s port segments, locks and port mutex are in use and named; a killed one\'s are leftovers, and gc --yes removes exactly those', async () => {
    const live = start('fast-discovery-server', ['-i', '0']);
    const livePort = await until('the live participant maps its port segment', () => list().posixShm.find((r) => /^\/fastrtps_port\d+$/.test(r.name!) && r.attachedBy?.some((a) => a.pid === live.pid)));
    const killed = start('fast-discovery-server', ['-i', '1', '-p', '11812']);
    await until('the second participant maps its port segment', () => list().posixShm.some((r) => /^\/fastrtps_port\d+$/.test(r.name!) && r.attachedBy?.some((a) => a.pid === killed.pid)));
    await killed.kill();
    const l = list();
    const fast = [...l.posixShm, ...l.posixSem].filter((r) => r.name!.startsWith('/fastrtps_'));
    for (const r of fast) assert.match(r.owner ?? '', /^Fast-DDS /, `${r.name} is Fast-DDS's (its segments are Boost.Interprocess managed segments)`);
    const port = livePort.name!.slice('/fastrtps_port'.length);
    const mutex = l.posixSem.find((r) => r.name === `/fastrtps_port${port}_mutex`)!;
    assert.equal(mutex.verdict, 'in use', mutex.reasons.join('; '));
    assert.match(mutex.reasons.join('; '), new RegExp(`Fast-DDS uses it with /fastrtps_port${port}, which is mapped by pid ${live.pid}`));
    const inUse = fast.filter((r) => r.verdict === 'in use').map((r) => r.name!).sort();
    const leftovers = fast.filter((r) => r.verdict === 'leftover').map((r) => r.name!).sort();
    assert.equal(inUse.length + leftovers.length, fast.length, 'every one is in use or a leftover');
    for (const suffix of ['', '_el']) assert.ok(inUse.includes(`/fastrtps_port${port}${suffix}`), `the live port ${port}${suffix}`);
    assert.ok(leftovers.some((n) => /^\/fastrtps_port\d+$/.test(n)) && leftovers.some((n) => /^\/fastrtps_port\d+_el$/.test(n)) && leftovers.some((n) => /^\/fastrtps_port\d+_mutex$/.test(n)), `the killed one's port: ${leftovers.join(', ')}`);
    const done = json<{ candidates: { name: string; error: string | null }[] }>(['gc', '--json', '--yes', '--kind', 'posix-shm', 'posix-sem']);
    assert.ok(done.candidates.every((c) => c.error === null));
    const after = list();
    assert.deepEqual([...after.posixShm, ...after.posixSem].filter((r) => r.name!.startsWith('/fastrtps_')).map((r) => r.name!).sort(), inUse, 'only the live participant\'s are left');
    await live.kill();
  });
});
