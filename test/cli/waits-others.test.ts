// waits beyond IPC objects, on real hangs between two C processes (test/fixtures/waits/hangs.c,
// built here with -g): a reader of a pipe whose write end only its peer holds, a Unix socket
// reader whose peer is silent, a process-shared mutex held by a sleeping peer, and four threads of
// one process each asleep for its own time. One set of
// fixtures for the file: `--all` names each wait, its system call and wait channel, and the other
// end's process; without --all a line counts them; `--fail-on stuck` decides in one scan; `--stacks`
// shows the holder's stack naming the fixture's function. The fixtures are killed even on failure.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { euStackFrames, gdbFrames, scanWaits, type WaitsReport } from '../../extension/src/analysis';
import { untoldStuck, waitsText } from '../../extension/src/cli/commands/waits';
import { cli, ensureBuilt, ROOT, until } from '../helpers/ipc';

const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-hangs-'));
const exe = path.join(tmp, 'hangs');
const children: ChildProcess[] = [];
const fixture: Record<'pipe' | 'socket' | 'mutex' | 'sleep', { waiter: number; peer: number }> = { pipe: { waiter: 0, peer: 0 }, socket: { waiter: 0, peer: 0 }, mutex: { waiter: 0, peer: 0 }, sleep: { waiter: 0, peer: 0 } };

async function start(mode: 'pipe' | 'socket' | 'mutex' | 'sleep'): Promise<void> {
  const child = spawn(exe, [mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^ready (\d+) (\d+)$/.exec(line);
    if (m) {
      fixture[mode] = { waiter: Number(m[1]), peer: Number(m[2]) };
      return;
    }
  }
  throw new Error(`hangs ${mode} exited before it was ready`);
}

before(async () => {
  ensureBuilt();
  const cc = spawnSync('cc', ['-std=gnu11', '-g', '-O0', '-pthread', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'waits', 'hangs.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  await Promise.all([start('pipe'), start('socket'), start('mutex'), start('sleep')]);
});

after(async () => {
  // The peers die with their parent (PR_SET_PDEATHSIG).
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : Promise.resolve())));
  rmSync(tmp, { recursive: true, force: true });
});

/** One scan with --all once the kernel shows the waiters blocked where expected. */
const settled = () =>
  until('the pipe, socket, mutex and sleep waiters are blocked', async () => {
    const r = await scanWaits({ all: true });
    const pipe = r.others?.find((o) => o.pid === fixture.pipe.waiter && o.kind === 'pipe' && o.peers.length);
    const socket = r.others?.find((o) => o.pid === fixture.socket.waiter && o.kind === 'socket' && o.peers.length);
    const mutex = r.waits.find((w) => w.pid === fixture.mutex.waiter);
    const sleeps = r.others?.filter((o) => o.pid === fixture.sleep.waiter && o.syscall.endsWith('nanosleep')).length;
    return pipe && socket && mutex && sleeps === 4 ? r : undefined;
  });

describe('waits: every blocked thread', () => {
  let r: WaitsReport;
  before(async () => {
    r = await settled();
  });

  it('names a pipe reader, its call and wait channel, and the process holding the write end', () => {
    const o = r.others!.find((x) => x.pid === fixture.pipe.waiter)!;
    assert.equal(o.syscall, 'read');
    assert.match(o.wchan, /pipe/);
    assert.equal(o.state, 'S');
    assert.match(o.on, /^pipe \d+ \(fd 3, read\)$/);
    // The write end is the peer's fd 4 alone: the waiter closed its own.
    assert.deepEqual(o.peers.map((p) => ({ pid: p.pid, fd: p.fd, end: p.end })), [{ pid: fixture.pipe.peer, fd: 4, end: 'write' }]);
    assert.match(o.peers[0]!.command ?? '', /hangs pipe/);
    assert.equal(typeof o.blockedMs, 'number');
  });

  it('names a Unix socket reader and its peer process, from the kernel\'s socket diagnostics', () => {
    const o = r.others!.find((x) => x.pid === fixture.socket.waiter)!;
    assert.match(o.syscall, /^recv/);
    assert.match(o.wchan, /unix/);
    assert.match(o.on, /^socket \d+ \(fd 3, read\), peer socket \d+$/);
    assert.deepEqual(o.peers.map((p) => ({ pid: p.pid, fd: p.fd })), [{ pid: fixture.socket.peer, fd: 4 }]);
  });

  it('says each sleeping thread\'s own request, read from its process\'s memory', () => {
    // Read together (one request per thread of the process): each must land on its own thread.
    const sleeps = r.others!.filter((x) => x.pid === fixture.sleep.waiter);
    assert.deepEqual(sleeps.map((x) => [x.kind, x.on]).sort(), [
      ['sleep', 'sleep of 1000 s'],
      ['sleep', 'sleep of 1001.5 s'],
      ['sleep', 'sleep of 1002 s'],
      ['sleep', 'sleep until 2100-01-01T00:00:00.000Z'],
    ]);
    assert.equal(sleeps.find((x) => x.tid === fixture.sleep.waiter)?.on, 'sleep of 1000 s', 'the main thread\'s own');
    assert.ok(sleeps.every((x) => x.wchan === '' && x.state === 'S' && typeof x.blockedMs === 'number'));
  });

  it('says what each peer itself waits on (a signal) and keeps the IPC wait out of the others', () => {
    for (const mode of ['pipe', 'socket', 'mutex'] as const) {
      const peer = r.others!.find((x) => x.pid === fixture[mode].peer);
      assert.deepEqual([peer?.syscall, peer?.kind], ['pause', 'signal'], mode);
      assert.equal(peer?.wchan, '', `${mode}: a signal wait's channel is not read (the call says it)`);
    }
    assert.equal(r.others!.some((x) => x.pid === fixture.mutex.waiter), false);
    assert.ok(r.others!.every((x) => x.pid !== process.pid), 'the scanning process is not among them');
  });

  it('tells how long each wait has lasted in one scan; the held mutex names its holder', () => {
    assert.equal(r.blockedTimes, true);
    const w = r.waits.find((x) => x.pid === fixture.mutex.waiter)!;
    assert.equal(w.op, 'mutex lock');
    assert.deepEqual(w.heldBy.map((h) => h.pid), [fixture.mutex.peer]);
    assert.equal(typeof w.blockedMs, 'number');
  });

  it('without --all counts the other blocked threads in one line', async () => {
    const plain = await scanWaits();
    assert.deepEqual(plain.others, []);
    assert.ok((plain.otherBlocked ?? 0) >= 6, `${plain.otherBlocked} other blocked threads`);
    assert.match(waitsText(plain), /^\d+ other threads are blocked outside IPC objects .*: waits --all shows them$/m);
  });

  it('waits --all --json carries the others array; the text has its table', () => {
    // Every blocked thread of the machine: many megabytes on a busy one.
    const big = { maxBuffer: 256 << 20 };
    const res = cli(['waits', '--all', '--json'], big);
    assert.equal(res.status, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as { others: { pid: number; kind: string; peers: { pid: number }[] }[]; blockedTimes: boolean };
    assert.equal(doc.blockedTimes, true);
    assert.deepEqual(doc.others.find((o) => o.pid === fixture.pipe.waiter)?.peers.map((p) => p.pid), [fixture.pipe.peer]);
    const text = cli(['waits', '--all'], big);
    assert.match(text.stdout, /^Other blocked threads \(\d+\)$/m);
    assert.match(text.stdout, new RegExp(`^\\s*${fixture.socket.waiter}\\s+${fixture.socket.waiter}\\s+.*recvfrom\\s+unix.*socket \\d+ \\(fd 3, read\\), peer socket \\d+\\s+${fixture.socket.peer} .* fd 4$`, 'm'));
  });

  it('--fail-on stuck decides in one scan, by how long the waiter has been blocked', async () => {
    await until('the mutex waiter has been blocked 50 ms', async () => ((await scanWaits()).waits.find((w) => w.pid === fixture.mutex.waiter)?.blockedMs ?? 0) >= 50 || undefined);
    const stuck = cli(['waits', '--fail-on', 'stuck', '--stuck-after', '50']);
    assert.equal(stuck.status, 3, stuck.stderr);
    assert.match(stuck.stdout, /mutex lock \(stuck\)/);
    const fresh = cli(['waits', '--fail-on', 'stuck', '--stuck-after', '3600000']);
    assert.equal(fresh.status, 0, fresh.stderr);
  });

  it('a wait whose blocked time is not told cannot pass --fail-on stuck silently', () => {
    const w = r.waits.find((x) => x.pid === fixture.mutex.waiter)!;
    assert.deepEqual(untoldStuck({ ...r, waits: [w] }), []);
    assert.deepEqual(untoldStuck({ ...r, waits: [{ ...w, blockedMs: null }] }).length, 1);
  });

  it('names a peer that waits on nothing itself (stopped): its command read after the peer search', async () => {
    const peer = fixture.pipe.peer;
    process.kill(peer, 'SIGSTOP');
    try {
      await until('the pipe peer is stopped', () => (/\) T /.test(readFileSync(`/proc/${peer}/stat`, 'latin1')) || undefined));
      const s = await scanWaits({ all: true });
      assert.equal(s.others!.some((x) => x.pid === peer), false, 'a stopped peer is no blocked thread');
      const o = s.others!.find((x) => x.pid === fixture.pipe.waiter)!;
      assert.deepEqual(o.peers.map((p) => p.pid), [peer]);
      assert.match(o.peers[0]!.command ?? '', /hangs pipe/);
    } finally {
      process.kill(peer, 'SIGCONT');
    }
  });

  it('waits --stacks shows the holder\'s kernel and user stacks, naming the fixture\'s function', () => {
    const res = cli(['waits', '--stacks']);
    assert.equal(res.status, 0, res.stderr);
    const at = res.stdout.indexOf(`stack of thread ${fixture.mutex.peer} (pid ${fixture.mutex.peer})`);
    assert.ok(at >= 0, res.stdout);
    const block = res.stdout.slice(at).split('\nstack of thread')[0]!;
    assert.match(block, /^ {2}kernel:\n {4}__do_sys_pause/m);
    assert.match(block, /^ {2}user \((eu-stack|gdb)\):$/m);
    assert.match(block, /^ {4}#\d+ .*hold_mutex_forever/m);
    assert.match(block, /^ {4}#\d+ .*main/m);
  });
});

describe('stack parsers', () => {
  it('take one thread\'s frames from eu-stack and gdb output', () => {
    const eu = 'PID 10 - process\nTID 10:\n#0  0x00007f pause\n#1  0x000055 hold\nTID 11:\n#0  0x1 other\n';
    assert.deepEqual(euStackFrames(eu, 10), ['#0 0x00007f pause', '#1 0x000055 hold']);
    assert.deepEqual(euStackFrames(eu, 11), ['#0 0x1 other']);
    assert.equal(euStackFrames(eu, 12), undefined);
    const gdb = 'Thread 2 (Thread 0x7f (LWP 11) "a"):\n#0  0x1 in other ()\n\nThread 1 (Thread 0x7e (LWP 10) "a"):\n#0  0x2 in pause ()\n#1  0x3 in hold () at x.c:3\n';
    assert.deepEqual(gdbFrames(gdb, 10), ['#0 0x2 in pause ()', '#1 0x3 in hold () at x.c:3']);
    assert.deepEqual(gdbFrames(gdb, 11), ['#0 0x1 in other ()']);
  });
});
