// The shmscope command line, run as a user would run it, on real objects the tests create.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { cli, cliAsync, cliBytes, CLI, Created, ensureBuilt, freshKey, until } from '../helpers/ipc';

const made = new Created();
before(() => ensureBuilt());
after(() => made.removeAll());

/** An expected failure: exit 1, one line on stderr, no stack trace. */
function assertUserError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^shmscope: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe('shmscope list', () => {
  it('--json has the documented shape for every kind', () => {
    const key = freshKey();
    const shm = made.shm(4096, { key });
    const sem = made.sem(2, [1, 7]);
    const msg = made.msg();
    ipc.msgSend(msg.id, 3, Buffer.from('abc'));
    const pshm = made.posixShm(100);
    const psem = made.posixSem(4);
    const r = cli(['list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    for (const k of ['shm', 'sem', 'msg', 'posixShm', 'posixSem', 'posixMq']) assert.ok(Array.isArray(doc[k]), k);

    const s = doc.shm.find((x: { id: number }) => x.id === shm.id);
    assert.equal(s.key, key);
    assert.equal(typeof s.key, 'number');
    assert.equal(s.size, 4096);
    assert.equal(s.mode, 0o600);
    assert.equal(s.user, 'root');
    for (const f of ['uid', 'nattch', 'cpid', 'lpid']) assert.equal(typeof s[f], 'number', f);
    assert.deepEqual(s.attachedBy, []);
    assert.ok(s.ctime === null || !Number.isNaN(Date.parse(s.ctime)));

    const se = doc.sem.find((x: { id: number }) => x.id === sem.id);
    assert.deepEqual(se.values, [1, 7]);
    assert.equal(se.nsems, 2);
    assert.deepEqual(se.ncnt, [0, 0]);
    assert.deepEqual(se.zcnt, [0, 0]);
    assert.equal(se.pids.length, 2);

    const m = doc.msg.find((x: { id: number }) => x.id === msg.id);
    assert.equal(m.messages, 1);
    assert.equal(m.bytes, 3);
    assert.equal(m.qbytes, Number(readFileSync('/proc/sys/kernel/msgmnb', 'utf8')), 'a new queue holds msgmnb bytes');
    assert.equal(m.lspid, process.pid);
    assert.equal(m.lrpid, 0);

    const p = doc.posixShm.find((x: { name: string }) => x.name === pshm.name);
    assert.equal(p.size, 100);
    assert.equal(p.name[0], '/');
    assert.equal(doc.posixSem.find((x: { name: string }) => x.name === psem.name).value, 4);
  });

  it('as another user: lists everything, says which values it may not read', () => {
    const sem = made.sem(1, [2]);
    const shm = made.shm(4096, { mode: 0o600 });
    const r = cli(['list', '--json'], { asNobody: true });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.ok(doc.shm.some((x: { id: number }) => x.id === shm.id), 'segments of others are listed');
    const se = doc.sem.find((x: { id: number }) => x.id === sem.id);
    assert.equal(se.unreadable, 'EACCES');
    assert.deepEqual(se.values, []);
    assert.ok(doc.unreadableProcesses > 0, 'root processes are counted, not guessed');
  });

  it('--kind narrows the listing; a bad kind is a one-line error', () => {
    const r = cli(['list', '--kind', 'sem', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(Object.keys(JSON.parse(r.stdout)).filter((k) => !['notes', 'unreadableProcesses'].includes(k)), ['sem']);
    assertUserError(cli(['list', '--kind', 'disk']), /--kind must be one of shm, sem, msg/);
  });

  it('prints a readable table', () => {
    const key = freshKey();
    made.shm(1536, { key });
    const r = cli(['list', '--kind', 'shm']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`0x${key.toString(16).padStart(8, '0')}\\s+\\d+\\s+root\\s+0600\\s+1\\.5 KiB`));
  });
});

describe('shmscope dump', () => {
  it('prints hex lines at the right offsets, and exactly the bytes with --format raw', () => {
    const t = made.shm(4096);
    const h = made.hold(ipc.openShm(t, { readWrite: true }));
    const pattern = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff));
    h.write(0, pattern);
    const r = cli(['dump', `shm:${t.id}`, '--offset', '0x100', '--length', '20']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      '00000100  00 07 0e 15 1c 23 2a 31  38 3f 46 4d 54 5b 62 69  |.....#*18?FMT[bi|',
      '00000110  70 77 7e 85                                       |pw~.|',
    ]);
    const raw = cliBytes(['dump', `shm:${t.id}`, '--format', 'raw']);
    assert.equal(raw.status, 0, raw.stderr);
    assert.ok(raw.stdout.equals(pattern));
    const part = cliBytes(['dump', `shm:${t.id}`, '--format', 'raw', '--offset', '4000']);
    assert.ok(part.stdout.equals(pattern.subarray(4000)));
  });

  it('reads POSIX objects and keys too', () => {
    const p = made.posixShm(32);
    made.hold(ipc.openShm(p, { readWrite: true })).write(0, Buffer.from('posix!'));
    assert.equal(cliBytes(['dump', `posix:${p.name}`, '--format', 'raw', '--length', '6']).stdout.toString(), 'posix!');
    const key = freshKey();
    made.shm(16, { key });
    assert.equal(cliBytes(['dump', `key:0x${key.toString(16)}`, '--format', 'raw']).stdout.length, 16);
  });

  it('says what is wrong in one line', () => {
    const t = made.shm(4096);
    assertUserError(cli(['dump', `shm:${t.id}`, '--offset', '4000', '--length', '200']), /goes past the end \(the object has 4096 bytes\)/);
    assertUserError(cli(['dump', 'shm:2147483000']), /segment 2147483000 does not exist/);
    assertUserError(cli(['dump', 'shm:banana']), /"banana" is not an id/);
    assertUserError(cli(['dump', `shm:${t.id}`, '--format', 'octal']), /--format must be hex or raw/);
    assertUserError(cli(['dump', `sem:${made.sem(1).id}`]), /holds no bytes to read/);
  });

  it('refuses a segment of another user: permission denied, with mode and owner', () => {
    const t = made.shm(4096, { mode: 0o600 });
    assertUserError(cli(['dump', `shm:${t.id}`], { asNobody: true }), new RegExp(`permission denied attaching segment ${t.id} \\(mode 0600, owner root\\)`));
  });
});

describe('shmscope sem', () => {
  it('gets, sets, posts and waits', () => {
    const t = made.sem(2, [0, 3]);
    let r = cli(['sem', `sem:${t.id}`, 'get', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).values, [0, 3]);
    assert.equal(cli(['sem', `sem:${t.id}`, 'set', '0', '5']).status, 0);
    assert.equal(cli(['sem', `sem:${t.id}`, 'post', '1']).status, 0);
    assert.deepEqual(ipc.semGet(t.id).values, [5, 4]);
    r = cli(['sem', `sem:${t.id}`, 'wait', '1', '--timeout', '1000']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(ipc.semGet(t.id).values, [5, 3]);
    r = cli(['sem', `sem:${t.id}`, 'get']);
    assert.match(r.stdout, /NUM\s+VALUE\s+NCNT\s+ZCNT\s+LAST PID/);
  });

  it('a wait that times out is a one-line error', () => {
    const t = made.sem(1, [0]);
    assertUserError(cli(['sem', `sem:${t.id}`, 'wait', '--timeout', '150']), new RegExp(`timed out after 150 ms waiting on semaphore 0 of semaphore set ${t.id}`));
  });

  it('Ctrl+C cancels a wait and leaves no waiter behind', async () => {
    const t = made.sem(1, [0]);
    const child = cliAsync(['sem', `sem:${t.id}`, 'wait', '--timeout', '60000']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await until('the CLI waits in the kernel', () => ipc.semGet(t.id).ncnt[0] === 1);
    child.kill('SIGINT');
    const [status] = await once(child, 'exit');
    assert.equal(status, 130);
    assert.match(stderr, /wait cancelled/);
    assert.equal(ipc.semGet(t.id).ncnt[0], 0);
  });

  it('refuses another user\'s semaphore: permission denied, with mode and owner', () => {
    const t = made.sem(1, [0]);
    assertUserError(cli(['sem', `sem:${t.id}`, 'get'], { asNobody: true }), new RegExp(`permission denied reading semaphore set ${t.id} \\(mode 0600, owner root\\)`));
    assertUserError(cli(['sem', `sem:${t.id}`, 'post'], { asNobody: true }), /permission denied/);
    assert.equal(ipc.semGet(t.id).values[0], 0, 'nothing changed');
  });

  it('works on POSIX named semaphores', () => {
    const p = made.posixSem(0);
    assert.equal(cli(['sem', `psem:${p.name}`, 'post']).status, 0);
    assert.equal(cli(['sem', `psem:${p.name}`, 'get']).stdout.trim(), '1');
    assert.equal(cli(['sem', `psem:${p.name}`, 'wait', '--timeout', '100']).status, 0);
    assertUserError(cli(['sem', `psem:${p.name}`, 'wait', '--timeout', '100']), /timed out after 100 ms/);
    assertUserError(cli(['sem', `psem:${p.name}`, 'set', '0', '3']), /cannot be set/);
  });

  it('checks the semaphore number and operation', () => {
    const t = made.sem(2, [0, 0]);
    assertUserError(cli(['sem', `sem:${t.id}`, 'post', '2']), /has 2 semaphore\(s\): NUM must be below 2/);
    assertUserError(cli(['sem', `sem:${t.id}`, 'jump']), /unknown operation "jump"/);
    assertUserError(cli(['sem', `shm:${made.shm(16).id}`, 'get']), /is not a semaphore/);
  });
});

describe('shmscope peek', () => {
  it('shows messages without consuming them', () => {
    const q = made.msg();
    ipc.msgSend(q.id, 5, Buffer.from('hello queue'));
    ipc.msgSend(q.id, 9, Buffer.from([0, 1, 2]));
    const r = cli(['peek', `msg:${q.id}`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const msgs = JSON.parse(r.stdout);
    assert.deepEqual(msgs.map((m: { type: number }) => m.type), [5, 9]);
    assert.equal(Buffer.from(msgs[0].data, 'base64').toString(), 'hello queue');
    const one = cli(['peek', `msg:${q.id}`, '--index', '1']);
    assert.match(one.stdout, /message 1: type 9, 3 bytes/);
    assert.equal(ipc.msgPeek(q.id, 1).type, 9, 'the queue still holds both');
    const table = cli(['peek', `msg:${q.id}`]);
    assert.match(table.stdout, /0\s+5\s+11\s+hello queue/);
    assertUserError(cli(['peek', `msg:${q.id}`, '--index', '2']), /has no such message/);
    assertUserError(cli(['peek', 'mq:/jobs']), /cannot be read without consuming/);
  });
});

describe('shmscope rm', () => {
  it('refuses without --yes, names who is attached, removes with it', () => {
    const t = made.shm(4096);
    made.hold(ipc.openShm(t));
    assertUserError(cli(['rm', `shm:${t.id}`]), new RegExp(`refusing to remove segment ${t.id} \\(it has 1 attachment\\(s\\) by pid ${process.pid}\\) without --yes`));
    assert.ok(ipc.exists(t));
    const r = cli(['rm', `shm:${t.id}`, '--yes']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /disappears when the last one detaches/);
    assert.equal(made.hold(ipc.openShm({ kind: 'shm', id: t.id })).status().removed, true);
  });

  it('removes every kind', () => {
    const targets = [made.sem(1), made.msg(), made.posixShm(8), made.posixSem(0)];
    for (const t of targets) {
      const r = cli(['rm', ipc.formatTarget(t), '--yes']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(ipc.exists(t), false, ipc.formatTarget(t));
    }
    assertUserError(cli(['rm', 'posix:/shmscope-never-made', '--yes']), /does not exist/);
  });
});

describe('usage', () => {
  it('unknown commands and missing arguments exit 1', () => {
    assert.equal(cli(['frobnicate']).status, 1);
    assert.equal(cli(['dump']).status, 1);
    assert.equal(cli(['--help']).status, 0);
  });
});

describe('nothing runs away', () => {
  /** Starts the CLI with its stdout a pipe that this process never reads (but keeps open). */
  function unread(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    child.stdout.pause();
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    return once(child, 'exit').then(([code]) => {
      child.stdout.destroy();
      return { status: code as number | null, stderr };
    });
  }

  it('a dump whose stdout nobody reads ends at its deadline (--deadline, or SHMSCOPE_DEADLINE), with one line', async () => {
    // 16 MiB of raw bytes cannot fit in a pipe: without the deadline the dump would wait forever.
    const t = made.posixShm(16 << 20, 'deadline');
    assertUserError(await unread(['dump', ipc.formatTarget(t), '--format', 'raw', '--deadline', '1s']), /^shmscope: dump did not finish within 1s; gave up \(--deadline/);
    assertUserError(await unread(['dump', ipc.formatTarget(t), '--format', 'raw'], { SHMSCOPE_DEADLINE: '500ms' }), /dump did not finish within 500ms/);
  });

  it('a reader that closes the pipe early ends the command with status 0', () => {
    const t = made.posixShm(16 << 20, 'epipe');
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" dump ${ipc.formatTarget(t)} --format raw | head -c 100 >/dev/null`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('a standard output every write fails with EBADF ends the command with one line and status 1, on every write path', () => {
    // Node reopens a closed fd 1 on /dev/null at start, so `>&-` cannot make EBADF; a descriptor
    // open only for reading can: the kernel answers each write(2) on it with EBADF.
    const t = made.posixShm(4 << 20, 'ebadf');
    const readOnly = openSync('/dev/null', 'r');
    try {
      const run = (args: string[], stderr: 'pipe' | number = 'pipe') =>
        spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', readOnly, stderr], encoding: 'utf8', timeout: 60_000 });
      // A line (--version), a JSON document, and raw bytes streamed in chunks (4 MiB).
      for (const args of [['--version'], ['list', '--kind', 'sem', '--json'], ['dump', ipc.formatTarget(t), '--format', 'raw']]) {
        const r = run(args);
        assert.equal(r.error, undefined, `${args.join(' ')} ended`);
        assertUserError(r, /^shmscope: cannot write the output: standard output is closed \(EBADF\)$/);
      }
      // With standard error unwritable too, nothing can be said: the command still ends, status 1.
      const r = run(['dump', ipc.formatTarget(t), '--format', 'raw'], readOnly);
      assert.equal(r.error, undefined, 'it ended');
      assert.equal(r.status, 1);
    } finally {
      closeSync(readOnly);
    }
  });

  it('--deadline takes a duration or 0 (none); anything else is a one-line error', () => {
    assertUserError(cli(['list', '--kind', 'sem', '--deadline', 'soon']), /--deadline must be a duration like 500ms, 12.5s, 5m, 1h or 1m30s \(a bare number is seconds\), or 0 for none, not "soon"/);
    assertUserError(cli(['list', '--kind', 'sem'], { env: { SHMSCOPE_DEADLINE: '-3' } }), /SHMSCOPE_DEADLINE must be a duration/);
    const r = cli(['list', '--kind', 'sem', '--deadline', '0']);
    assert.equal(r.status, 0, r.stderr);
  });
});
