// What a hostile local user can put in /dev/shm, or do to an object while shmscope uses it, run
// against the real CLI (the same addon code the extension host runs). Every case: the CLI never
// exits 2 or by a signal, ends within its bound, and says one true line.
import './namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { binding } from '../../extension/src/ipc/native';
import { CLI, Created, ensureBuilt, until } from '../helpers/ipc';

const made = new Created();
before(() => ensureBuilt());
after(() => made.removeAll());

const BOUND_MS = 20_000;
const SHM = '/dev/shm';

/** Runs the CLI with a bound; optionally as nobody, or with stdout going to a file. */
function run(args: string[], opts: { asNobody?: boolean; stdoutFile?: string } = {}): SpawnSyncReturns<string> {
  const cmd = opts.asNobody ? 'setpriv' : process.execPath;
  const argv = opts.asNobody ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, ...args] : [CLI, ...args];
  const fd = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : undefined;
  try {
    return spawnSync(cmd, argv, { encoding: 'utf8', timeout: BOUND_MS, stdio: ['ignore', fd ?? 'pipe', 'pipe'] });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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

function ok(r: SpawnSyncReturns<string>): string {
  assert.equal(r.signal, null, `ended by ${r.signal} (stderr: ${r.stderr})`);
  assert.equal(r.status, 0, `exit status (stderr: ${r.stderr})`);
  return r.stdout;
}

let n = 0;
/** A name for a file of /dev/shm made by hand (the private tmpfs is removed with the namespace). */
const fresh = (label: string) => `${label}${process.pid}x${n++}`;

const SCHEMA = path.join(SHM, 'hostile-schema.shms');
writeFileSync(SCHEMA, 'struct Word { uint32_t w; };\nsegment Any for key 0x1 { uint32_t first @ 0; };\nsegment Ring for posix "/ring" { uint32_t ring_word @ 0; uint8_t none[0] @ 4; };\n');

describe('POSIX named semaphores under attack', () => {
  it('a semaphore file truncated while `sem wait` waits on it: an error naming it, not SIGBUS', async () => {
    const name = `/${fresh('trunc')}`;
    ipc.createPosixSem({ name, value: 0, mode: 0o666 });
    made.track({ kind: 'posix-sem', name });
    const file = `${SHM}/sem.${name.slice(1)}`;
    const child = spawn(process.execPath, [CLI, 'sem', `psem:${name}`, 'wait', '--timeout', String(BOUND_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // The waiter registers itself in the high half of the semaphore's data word.
    await until('the CLI waits on the semaphore', () => readFileSync(file).readUInt32LE(4) > 0);
    truncateSync(file, 0);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, null, `ended by ${signal}`);
    assert.equal(code, 1, stderr);
    assert.match(stderr.trim(), new RegExp(`^shmscope: .*POSIX semaphore ${name} (was truncated|is 0 bytes, too small)`));
  });

  it('a semaphore file resized between 0 and 32 bytes while it is listed: never SIGBUS', async () => {
    const file = `${SHM}/sem.${fresh('resize')}`;
    writeFileSync(file, Buffer.alloc(32));
    chmodSync(file, 0o666);
    const resizer = spawn('python3', ['-c', `import os,random\nfd=os.open(${JSON.stringify(file)},os.O_RDWR)\nwhile True: os.ftruncate(fd, random.randint(0,32))`], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 300; i++) await ipc.list(['posix-sem']);
      for (let i = 0; i < 5; i++) ok(run(['list', '--kind', 'posix-sem']));
    } finally {
      resizer.kill();
    }
  });

  it('a semaphore file of garbage: post, wait and get say so and exit 1 (glibc never sees it)', () => {
    const name = fresh('garbage');
    writeFileSync(`${SHM}/sem.${name}`, Buffer.alloc(32, 0xff));
    for (const args of [['post'], ['wait', '--timeout', '100'], ['get']]) {
      userError(run(['sem', `psem:/${name}`, ...args]), new RegExp(`POSIX semaphore /${name} does not hold a valid semaphore`));
    }
    const listed = JSON.parse(ok(run(['list', '--kind', 'posix-sem', '--json']))).posixSem.find((s: { name: string }) => s.name === `/${name}`);
    assert.equal(listed.value, null);
    assert.equal(listed.unreadable, 'EINVAL');
  });

  it('the SIGBUS guard catches only its own faults: a SIGBUS sent with kill() keeps its default action', () => {
    const script = `const b = require(${JSON.stringify(path.join(__dirname, '..', '..', 'native', 'build', 'Release', 'shmscope.node'))});
      const s = new b.PosixSem('/${fresh('guard')}', true, true, 0o600, 1); s.tryWait(); s.close();
      process.kill(process.pid, 'SIGBUS'); setTimeout(() => process.exit(0), 10000);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: BOUND_MS });
    assert.equal(r.signal, 'SIGBUS', `status ${r.status}, stderr ${r.stderr}`);
  });

  it('a semaphore file too short says how short, not only "does not exist"', () => {
    const name = fresh('short');
    writeFileSync(`${SHM}/sem.${name}`, Buffer.alloc(5));
    userError(run(['sem', `psem:/${name}`, 'get']), new RegExp(`POSIX semaphore /${name} is 5 bytes, too small for a semaphore`));
  });
});

describe('entries of /dev/shm that are not objects', () => {
  const fifo = fresh('fifo');
  const link = fresh('link');
  const dir = fresh('dir');
  const sock = fresh('sock');
  const server = createServer();
  before(async () => {
    assert.equal(spawnSync('mkfifo', [`${SHM}/${fifo}`]).status, 0);
    symlinkSync('/etc/shadow', `${SHM}/${link}`);
    mkdirSync(`${SHM}/${dir}`);
    server.listen(`${SHM}/${sock}`);
    await once(server, 'listening');
  });
  after(() => server.close());

  it('a FIFO: dump and decode refuse it at once, saying what it is', () => {
    userError(run(['dump', `posix:/${fifo}`]), new RegExp(`POSIX shared memory /${fifo} is not a shared memory object: it is a FIFO`));
    userError(run(['decode', `posix:/${fifo}`, '--schema', SCHEMA, '--type', 'Word']), /is not a shared memory object: it is a FIFO/);
    userError(run(['check', '--schema', `${SHM}/${fifo}`]), /it is a FIFO \(named pipe\), not a regular file/);
  });

  it('a symlink to /etc/shadow is never listed as a root-owned object, and opening it says where it points', () => {
    const doc = JSON.parse(ok(run(['list', '--json'])));
    assert.ok(!doc.posixShm.some((s: { name: string }) => s.name === `/${link}`), 'the link is not an object');
    assert.ok(doc.notes.includes(`/dev/shm/${link} is not a shared memory object (a symbolic link to /etc/shadow): left out`), doc.notes.join('\n'));
    assert.ok(doc.notes.some((t: string) => t.startsWith(`/dev/shm/${fifo} is not a shared memory object (a FIFO`)));
    assert.ok(doc.notes.some((t: string) => t.startsWith(`/dev/shm/${dir} is not a shared memory object (a directory`)));
    assert.ok(doc.notes.some((t: string) => t.startsWith(`/dev/shm/${sock} is not a shared memory object (a socket`)));
    const text = ok(run(['list', '--kind', 'posix-shm']));
    assert.doesNotMatch(text, new RegExp(`^/${link}\\s`, 'm'));
    assert.match(text, new RegExp(`note: /dev/shm/${link} is not a shared memory object \\(a symbolic link to /etc/shadow\\)`));
    userError(run(['dump', `posix:/${link}`]), new RegExp(`POSIX shared memory /${link} is not a shared memory object: it is a symbolic link to /etc/shadow`));
  });

  it('df and gc --yes: none of them is an object, a candidate or removed, and nothing is followed', () => {
    const df = JSON.parse(ok(run(['df', '--json']))) as { mounts: { path: string; namespace: unknown; objects: { name: string }[] }[] };
    const ours = df.mounts.find((m) => m.path === '/dev/shm' && m.namespace === null)!;
    for (const n of [fifo, link, dir, sock]) assert.ok(!ours.objects.some((o) => o.name === `/${n}`), `df lists /${n} as an object`);
    const shadow = readFileSync('/etc/shadow');
    const gc = run(['gc', '--json', '--yes']);
    assert.equal(gc.signal, null);
    assert.ok(gc.status === 0 || gc.status === 4, `gc exit ${gc.status}: ${gc.stderr}`);
    const doc = JSON.parse(gc.stdout) as { candidates: { name: string }[] };
    for (const n of [fifo, link, dir, sock]) {
      assert.ok(!doc.candidates.some((c) => c.name === `/${n}`), `gc offers /${n}`);
      assert.equal(spawnSync('test', ['-e', `${SHM}/${n}`]).status === 0 || spawnSync('test', ['-L', `${SHM}/${n}`]).status === 0, true, `${n} is still there`);
    }
    assert.deepEqual(readFileSync('/etc/shadow'), shadow, 'the link\'s target is untouched');
  });

  it('a name with terminal escapes and a newline cannot colour the terminal or forge a row', () => {
    const evil = `evil${process.pid}\x1b[31mRED\x1b[0m\nfake-row`;
    writeFileSync(`${SHM}/${evil}`, 'x');
    const text = ok(run(['list', '--kind', 'posix-shm']));
    assert.ok(!text.includes('\x1b'), 'no escape character reaches the terminal');
    assert.doesNotMatch(text, /^fake-row/m);
    assert.ok(text.includes(`/evil${process.pid}\\x1b[31mRED\\x1b[0m\\nfake-row`), text);
    userError(run(['dump', `posix:/${evil}`, '--offset', '5']), /--offset 5 is past the end/);
    assert.ok(!run(['dump', `posix:/${evil}`, '--offset', '5']).stderr.includes('\x1b'));
  });
});

describe('inputs that never end, outputs that cannot be written', () => {
  it('check --schema /dev/zero and decode --file /dev/zero refuse at once', () => {
    userError(run(['check', '--schema', '/dev/zero']), /cannot read the schema \/dev\/zero: it is a character device, not a regular file/);
    userError(run(['decode', '--file', '/dev/zero', '--schema', SCHEMA, '--type', 'Word']), /cannot read the snapshot \/dev\/zero: it is a character device/);
  });

  it('list, list --json and dump to /dev/full: one line, exit 1', () => {
    const t = made.posixShm(1 << 16, 'full');
    for (const args of [['list'], ['list', '--json'], ['dump', ipc.formatTarget(t)], ['dump', ipc.formatTarget(t), '--format', 'raw']]) {
      userError(run(args, { stdoutFile: '/dev/full' }), /cannot write the output: no space left on the device \(ENOSPC\)/);
    }
  });
});

describe('wrong or unsafe answers', () => {
  it('peek of a queue that does not exist, decode of a malformed key: user errors', () => {
    userError(run(['peek', 'msg:12345']), /message queue 12345 does not exist/);
    userError(run(['decode', 'key:0xZZ', '--schema', SCHEMA]), /"0xZZ" is not a key/);
    userError(run(['decode', 'key:1.5', '--schema', SCHEMA]), /"1\.5" is not a key/);
  });

  it('decode posix:ring decodes the segment declared for posix "/ring"; an empty array prints []', () => {
    ipc.createPosixShm({ name: '/ring', size: 64, mode: 0o600 });
    made.track({ kind: 'posix-shm', name: '/ring' });
    for (const target of ['posix:ring', 'posix:/ring']) {
      const text = ok(run(['decode', target, '--schema', SCHEMA]));
      assert.match(text, /ring_word: uint32_t = 0/, text);
      assert.match(text, /none: uint8_t\[0\] = \[\]$/m, text);
    }
  });

  it('a count of 2^63 is reported as 2^63, not as the largest safe integer', () => {
    const schema = `${SHM}/count.shms`;
    writeFileSync(schema, 'struct H { uint64_t n; };\nsegment S for key 0x1 { H h @ 0; uint8_t data[h.n] @ 8; };\n');
    const snap = `${SHM}/count.bin`;
    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64LE(1n << 63n);
    writeFileSync(snap, bytes);
    const text = ok(run(['decode', '--file', snap, '--schema', schema]));
    assert.match(text, /error: array count 9223372036854775808 \(h\.n\) runs past the end of the data: 8 elements fit/);
    assert.doesNotMatch(text, /9007199254740991/);
  });

  it('sem post, set and wait need only write permission (mode 0602), as the kernel does', () => {
    const set = made.track({ kind: 'sem', id: ipc.createSemSet({ key: 0, nsems: 2, mode: 0o602, values: [0, 0] }) });
    ok(run(['sem', `sem:${set.id}`, 'post', '1'], { asNobody: true }));
    ok(run(['sem', `sem:${set.id}`, 'set', '0', '5'], { asNobody: true }));
    ok(run(['sem', `sem:${set.id}`, 'wait', '0', '--timeout', '1000'], { asNobody: true }));
    userError(run(['sem', `sem:${set.id}`, 'post', '2'], { asNobody: true }), /has 2 semaphore\(s\): NUM must be below 2/);
    userError(run(['sem', `sem:${set.id}`, 'get'], { asNobody: true }), /permission denied reading semaphore set/);
    assert.deepEqual(ipc.semGet(set.id).values, [4, 1]);
  });

  it('semSetAll and semOp refuse a wrong length and non-integers, in TypeScript and in C++', () => {
    const set = made.sem(3, [0, 0, 0]);
    const raw = binding();
    assert.throws(() => raw.semSetAll(set.id, [1]), /has 3 semaphore\(s\), got 1 value/);
    assert.throws(() => raw.semSetAll(set.id, [1, 2, 3, 4]), /got 4 value/);
    assert.throws(() => raw.semSetAll(set.id, [1, 2.5, 3]), /values\[1\] must be an integer/);
    for (const op of [Number.NaN, 1.7, Number.POSITIVE_INFINITY]) {
      assert.throws(() => raw.semOp(set.id, [{ num: 0, op }]), /ops\[0\]\.op must be an integer/);
      assert.throws(() => raw.semOp(set.id, [{ num: op, op: 1 }]), /ops\[0\]\.num must be an integer/);
    }
    assert.throws(() => ipc.semPost(set.id, 0, 1.7), (e: Error) => e instanceof ipc.IpcError && /count 1\.7 is not an integer/.test(e.message));
    assert.throws(() => ipc.createSemSet({ key: 0, nsems: 3, values: [1] }), /needs 3 initial value\(s\), not 1/);
    assert.deepEqual(ipc.semGet(set.id).values, [0, 0, 0]);
  });

  it('text list marks a removed segment that is still attached', () => {
    const t = made.shm(4096);
    const h = made.hold(ipc.openShm(t));
    ipc.remove(t);
    const row = ok(run(['list', '--kind', 'shm'])).split('\n').find((l) => new RegExp(`\\s${t.id}\\s`).test(l));
    assert.match(row ?? '', /\(removed: goes when the last process detaches\)/);
    h.close();
  });

  it('a POSIX object shrunk during a dump: "shrank", not a range error', async () => {
    const t = made.posixShm(8 << 20, 'shrink');
    const child = spawn(process.execPath, [CLI, 'dump', ipc.formatTarget(t), '--format', 'raw'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.pause();
    // The first chunk is out; the CLI now waits for the pipe to drain.
    await once(child.stdout, 'readable');
    const w = ipc.openShm(t, { readWrite: true });
    truncateSync(`${SHM}${t.name}`, 4096);
    w.close();
    child.stdout.resume();
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, null);
    assert.equal(code, 1, stderr);
    assert.match(stderr.trim(), new RegExp(`^shmscope: POSIX shared memory ${t.name} shrank to 4096 bytes while it was being dumped`));
  });
});
