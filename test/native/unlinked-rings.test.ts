// Objects that have no name any more and memory the kernel shares, made by real software in an IPC
// and mount namespace of the test's own: Python multiprocessing's semaphores (unlinked at once), a
// SharedMemory its owner unlinked, a /dev/shm file held only by an fd, and a C fixture's io_uring,
// PACKET_MMAP, AF_XDP and perf rings. Each is listed in its kind with its holders, reached by the
// target `list --json` gives it, dumped, decoded and recorded; and every entry of a listing has a
// target the other commands take.
import '../hostile/namespace';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { contextValue, GROUPS, objectId, objectLabel, records } from '../../extension/src/explorer/model';
import { cli, cliBytes, Created, ensureBuilt, ROOT } from '../helpers/ipc';

const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-unlinked-'));
const created = new Created();
const children: ChildProcessWithoutNullStreams[] = [];
let mountedMqueue = false;

/** Starts a fixture with a pipe on stdin (it ends when that closes) and resolves its JSON line. */
function start(cmd: string, args: string[]): Promise<Record<string, unknown>> {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => process.stderr.write(`[${path.basename(args[0] ?? cmd)}] ${d}`));
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', (l) => resolve(JSON.parse(l) as Record<string, unknown>));
    proc.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before its ready line`)));
  });
}

let py: { pid: number; shm: string; fdOnly: string; fdOnlyFd: number; memfdIno: number; file: string; tricky: string };
type Ring = { fd: number; addr: string; length: number } | { skip: string };
let rings: Record<string, Ring> & { pid: number; io_uring_sq_off: Record<string, number>; io_uring_cq_off: Record<string, number>; io_uring_entries: number[] };

before(async () => {
  ensureBuilt();
  // Our namespace's own queues (the one mounted at /dev/mqueue belongs to the namespace that mounted it).
  if (existsSync('/dev/mqueue')) mountedMqueue = spawnSync('mount', ['-t', 'mqueue', 'shmscope-unlinked', '/dev/mqueue']).status === 0;
  const exe = path.join(dir, 'rings');
  const cc = spawnSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'rings', 'rings.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  [py, rings] = (await Promise.all([start('python3', [path.join(ROOT, 'test', 'fixtures', 'unlinked', 'holders.py'), dir]), start(exe, [])])) as [typeof py, typeof rings];
});

after(async () => {
  for (const c of children) {
    c.stdin.end();
    if (c.exitCode === null) await new Promise((r) => c.once('exit', r));
  }
  created.removeAll();
  if (mountedMqueue) spawnSync('umount', ['/dev/mqueue']);
  rmSync(dir, { recursive: true, force: true });
});

const held = (r: { attachedBy: { pid: number }[] }, pid: number) => r.attachedBy.some((a) => a.pid === pid);

describe('POSIX objects unlinked while held (Python multiprocessing, SharedMemory)', () => {
  it('are listed in their kind, marked unlinked, with their holder, size or value, and a target', async () => {
    const l = await ipc.list(['posix-shm', 'posix-sem']);
    const sems = l.posixSem.filter((r) => held(r, py.pid));
    assert.equal(sems.length, 2, 'the Lock and the Semaphore');
    assert.deepEqual(sems.map((r) => r.value).sort(), [1, 3]);
    for (const r of sems) {
      assert.equal(r.unlinked, true);
      assert.match(r.name, /^\/\w+$/);
      assert.equal(r.unreadable, null);
      assert.ok(r.mappings!.some((m) => m.pid === py.pid && m.writable));
    }
    const shm = l.posixShm.find((r) => r.name === `/${py.shm}`)!;
    assert.ok(shm, 'the SharedMemory unlinked by its owner');
    assert.equal(shm.unlinked, true);
    assert.equal(shm.size, 8192);
    assert.deepEqual(shm.attachedBy.map((a) => a.pid), [py.pid]);
    const fdOnly = l.posixShm.find((r) => r.name === `/${py.fdOnly}`)!;
    assert.ok(fdOnly, 'a /dev/shm file only an fd holds');
    assert.deepEqual(fdOnly.fdHolders!.map((h) => [h.pid, h.fd]), [[py.pid, py.fdOnlyFd]]);
    assert.deepEqual(fdOnly.mappings, []);
    const tricky = l.posixShm.find((r) => r.name === `/${py.tricky}`)!;
    assert.ok(tricky, 'a live object named "x (deleted)" is listed by its name');
    assert.equal(tricky.unlinked, undefined);
    assert.deepEqual(tricky.attachedBy.map((a) => a.pid), [py.pid]);
    assert.ok(!l.posixShm.some((r) => r.unlinked && r.id === tricky.id), 'and not as unlinked');

    const text = cli(['list', '--kind', 'posix-sem']);
    assert.equal(text.status, 0, text.stderr);
    for (const r of sems) assert.match(text.stdout, new RegExp(`${r.name} \\(unlinked\\) psem:@${r.id}`));
    const json = JSON.parse(cli(['list', '--kind', 'posix-shm', '--json']).stdout) as { posixShm: Record<string, unknown>[] };
    const e = json.posixShm.find((x) => x.name === `/${py.shm}`)!;
    assert.equal(e.unlinked, true);
    assert.equal(e.target, `posix:@${shm.id}`);
  });

  it('are dumped, decoded, recorded and opened by that target (a live object of the same name stays apart)', async () => {
    const l = await ipc.list(['posix-shm', 'posix-sem']);
    const shm = l.posixShm.find((r) => r.name === `/${py.shm}` && r.unlinked)!;
    const fdOnly = l.posixShm.find((r) => r.name === `/${py.fdOnly}`)!;
    const lock = l.posixSem.find((r) => held(r, py.pid) && r.value === 1)!;
    const raw = (t: string) => {
      const r = cliBytes(['dump', t, '--length', '4', '--format', 'raw']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.toString('latin1');
    };
    assert.equal(raw(`posix:@${shm.id}`), 'ABCD');
    assert.equal(raw(`posix:@${fdOnly.id}`), 'FDON', 'through the holder fd');
    // A live object that takes the name again is another object: its own bytes, its own target.
    ipc.createPosixShm({ name: `/${py.shm}`, size: 4096, mode: 0o600 });
    created.track({ kind: 'posix-shm', name: `/${py.shm}` });
    const live = ipc.openShm(`posix:/${py.shm}`, { readWrite: true });
    live.write(0, Buffer.from('LIVE'));
    live.close();
    assert.equal(raw(`posix:/${py.shm}`), 'LIVE');
    assert.equal(raw(`posix:@${shm.id}`), 'ABCD');
    const both = (await ipc.list(['posix-shm'])).posixShm.filter((r) => r.name === `/${py.shm}`);
    assert.equal(both.length, 2);
    assert.equal(new Set(both.map(objectId)).size, 2, 'explorer tree ids stay the full identity');

    const schema = path.join(dir, 'tag.shms');
    writeFileSync(schema, 'struct Tag { char text[4]; };\nsegment S { Tag tag @ 0; };\nsegment Sem { sem_t s @ 0; };\n');
    const d = cli(['decode', `posix:@${shm.id}`, '--schema', schema, '--type', 'S', '--json']);
    assert.equal(d.status, 0, d.stderr);
    assert.equal((JSON.parse(d.stdout) as { tag: { text: string } }).tag.text, 'ABCD');
    const get = cli(['sem', `psem:@${lock.id}`, 'get']);
    assert.equal(get.status, 0, get.stderr);
    assert.equal(get.stdout.trim(), '1');
    const post = cli(['sem', `psem:@${lock.id}`, 'post']);
    assert.equal(post.status, 1);
    assert.match(post.stderr, /unlinked: it has no name to open, so only get reads it/);
    const s = cli(['decode', `psem:@${lock.id}`, '--schema', schema, '--type', 'Sem', '--json']);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /"value": 1\b/);

    const rec = path.join(dir, 'unlinked.shmrec');
    const r = cli(['record', `posix:@${shm.id}`, '-o', rec, '--hz', '50', '--duration', '200ms']);
    assert.equal(r.status, 0, r.stderr);
    const at = cliBytes(['decode', rec, '--at', '#0', '--schema', schema, '--type', 'S', '--json']);
    assert.equal(at.status, 0, at.stderr);
    assert.equal((JSON.parse(at.stdout.toString()) as { tag: { text: string } }).tag.text, 'ABCD');

    const h = await ipc.openObject(`posix:@${shm.id}`);
    try {
      assert.equal(Buffer.from(h.read(0, 4)).toString(), 'ABCD');
      assert.equal(h.status().removed, false);
    } finally {
      h.close();
    }
    assert.equal(ipc.formatTarget(ipc.parseTarget(`psem:@${lock.id}`)), `psem:@${lock.id}`);
    assert.deepEqual(ipc.parseTarget('posix:/@12'), { kind: 'posix-shm', name: '/@12' }, 'a name is always a name');
    assert.throws(() => ipc.parseTarget('mq:@12'), /never by an inode/);
    assert.throws(() => ipc.parseTarget('posix:@x'), /not @INODE/);
    assert.throws(() => ipc.parseTarget('ring:12'), /not PID@0xADDRESS/);
  });

  it('show in the explorer in their kind\'s group, marked unlinked', async () => {
    const l = await ipc.list();
    const group = GROUPS.find((g) => g.id === 'posix-sem')!;
    const rows = group.kinds.flatMap((k) => records(l, k)).filter((r) => held(r as { attachedBy: { pid: number }[] }, py.pid));
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.match(objectLabel(r), / \(unlinked\)$/);
      assert.equal(contextValue(r), 'posix-sem.unlinked');
    }
  });
});

describe('kernel-shared rings (io_uring, PACKET_MMAP, AF_XDP, perf)', () => {
  const ringOf = (l: ipc.Listing, name: string) => {
    const r = rings[name] as { addr: string };
    return l.ring.find((x) => x.pid === rings.pid && x.address === r.addr);
  };

  it('are listed with their kind, part, process, fd and size', async (t) => {
    const l = await ipc.list(['ring']);
    const want: [string, ipc.RingSubkind, string][] = [
      ['io_uring', 'io_uring', 'SQ/CQ rings'],
      ['io_uring_sqes', 'io_uring', 'SQEs'],
      ['packet', 'packet', 'RX/TX ring'],
      ['xdp', 'xdp', 'RX ring'],
      ['perf', 'perf', 'metadata and data pages'],
    ];
    for (const [name, subkind, part] of want) {
      const f = rings[name]!;
      if ('skip' in f) {
        t.diagnostic(`${name}: not set up here (${f.skip})`);
        assert.notEqual(name, 'io_uring', 'io_uring is needed for the rest');
        continue;
      }
      const r = ringOf(l, name);
      assert.ok(r, `${name} listed`);
      assert.equal(r.subkind, subkind);
      assert.equal(r.part, part);
      assert.equal(r.fd, f.fd);
      assert.equal(r.size, Math.ceil(f.length / 4096) * 4096);
      assert.equal(ipc.formatTarget(ipc.targetOf(r)!), `ring:${rings.pid}@${f.addr}`);
    }
    const text = cli(['list', '--kind', 'ring']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`ring:${rings.pid}@${(rings.io_uring as { addr: string }).addr} +io_uring +SQ/CQ rings`));
  });

  it('an io_uring decodes with the kernel\'s own header (schemas/io_uring.shms): the offsets the kernel gave its creator, one CQE', () => {
    // What io_uring_setup told the fixture is what the shipped schema declares.
    assert.deepEqual(rings.io_uring_sq_off, { head: 0, tail: 4, ring_mask: 16, ring_entries: 24, array: rings.io_uring_sq_off.array });
    assert.deepEqual(rings.io_uring_cq_off, { head: 8, tail: 12, cqes: 64 });
    const schema = path.join(ROOT, 'schemas', 'io_uring.shms');
    const io = rings.io_uring as { addr: string };
    const d = cli(['decode', `ring:${rings.pid}@${io.addr}`, '--schema', schema, '--type', 'IoUringRings', '--json']);
    assert.equal(d.status, 0, d.stderr);
    const j = JSON.parse(d.stdout) as { hdr: Record<string, unknown> & { sq: { head: number; tail: number }; cq: { head: number; tail: number } }; cqes: { user_data: number; res: number }[] };
    assert.deepEqual([j.hdr.sq_ring_entries, j.hdr.cq_ring_entries], rings.io_uring_entries);
    assert.deepEqual([j.hdr.sq_ring_mask, j.hdr.cq_ring_mask], rings.io_uring_entries.map((n) => n - 1));
    assert.deepEqual([j.hdr.sq.tail, j.hdr.cq.tail], [1, 1]);
    assert.deepEqual([j.cqes[0]!.user_data, j.cqes[0]!.res], [0x5348534d, 0]);
    const sq = rings.io_uring_sqes as { addr: string };
    const s = cli(['decode', `ring:${rings.pid}@${sq.addr}`, '--schema', schema, '--type', 'IoUringSqes', '--json']);
    assert.equal(s.status, 0, s.stderr);
    const sqe = (JSON.parse(s.stdout) as { sqes: { opcode: number; user_data: number }[] }).sqes[0]!;
    assert.deepEqual([sqe.opcode, sqe.user_data], [0, 0x5348534d]);
  });

  it('open read-only even in a read-write session, are never written, and record', async () => {
    const io = rings.io_uring as { addr: string };
    const rec = path.join(dir, 'ring.shmrec');
    const r = cli(['record', `ring:${rings.pid}@${io.addr}`, '-o', rec, '--hz', '50', '--duration', '200ms']);
    assert.equal(r.status, 0, r.stderr);
    const at = cli(['decode', rec, '--at', '#0', '--schema', path.join(ROOT, 'schemas', 'io_uring.shms'), '--type', 'IoUringRings', '--json']);
    assert.equal(at.status, 0, at.stderr);
    assert.equal((JSON.parse(at.stdout) as { hdr: { cq: { tail: number } } }).hdr.cq.tail, 1);
    const h = await ipc.openObject(`ring:${rings.pid}@${io.addr}`, { readWrite: true });
    try {
      assert.equal(h.readOnly, true);
      const before = Buffer.from(h.read(0, 64));
      assert.throws(() => h.write(0, new Uint8Array(4)), (e: unknown) => e instanceof ipc.IpcError && e.code === 'EROFS');
      assert.deepEqual(Buffer.from(h.read(0, 64)), before);
    } finally {
      h.close();
    }
  });

  it('packet and AF_XDP rings dump; perf pages dump or are refused saying why', (t) => {
    for (const name of ['packet', 'xdp', 'perf']) {
      const f = rings[name]!;
      if ('skip' in f) {
        t.diagnostic(`${name}: skipped: ${f.skip}`);
        continue;
      }
      const r = cliBytes(['dump', `ring:${rings.pid}@${f.addr}`, '--format', 'raw']);
      if (name === 'perf' && r.status === 1) {
        assert.match(r.stderr, /perf metadata and data pages .* raw page frames, which \/proc\/\d+\/mem cannot read/);
        continue;
      }
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout.length, Math.ceil(f.length / 4096) * 4096);
    }
  });
});

describe('every list --json entry has a target the other commands take', () => {
  it('System V, POSIX (live and unlinked), psem, mq, memfd, anon, file and ring: each dumped or read by its target', () => {
    created.shm(4096);
    created.sem(2, [1, 2]);
    created.msg();
    created.posixShm(4096);
    created.posixSem(2);
    if (mountedMqueue) {
      const name = `/shmscope-unlinked-${process.pid}`;
      ipc.createPosixMq({ name, maxMessages: 4, messageSize: 64, mode: 0o600 });
      created.track({ kind: 'posix-mq', name });
    }
    const r = cli(['list', '--json'], { maxBuffer: 256 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    // Regions and rings of other processes on the machine come and go: only our fixtures' are ours.
    const ours = new Set([py.pid, rings.pid]);
    const mine = (e: Record<string, unknown>) => {
      if (['shm', 'sem', 'msg', 'posix-shm', 'posix-sem', 'posix-mq'].includes(e.kind as string)) return true;
      return (e.attachedBy as { pid: number }[]).some((a) => ours.has(a.pid));
    };
    const seen = new Set<string>();
    for (const key of ['shm', 'sem', 'msg', 'posixShm', 'posixSem', 'posixMq', 'memfd', 'anon', 'file', 'ring']) {
      for (const e of (j[key] as Record<string, unknown>[]).filter(mine)) {
        const target = e.target as string;
        assert.equal(typeof target, 'string', `${key} entry without a target`);
        assert.deepEqual(ipc.targetOf(e), ipc.parseTarget(target), `${target} names its entry`);
        const cmd =
          e.kind === 'sem' || e.kind === 'posix-sem' ? ['sem', target, 'get']
          : e.kind === 'msg' ? ['peek', target]
          : ['dump', target, '--length', '16'];
        if (e.kind === 'ring' && e.subkind === 'perf') continue; // may be unreadable: the ring test says so
        // A POSIX queue is read only by receiving (which consumes): its target is checked above, and
        // the command that takes it must say so rather than fail to parse it.
        if (e.kind === 'posix-mq') {
          const out = cli(['peek', target]);
          assert.match(out.stderr, /cannot be read without consuming its messages/, `peek ${target}: ${out.stderr}`);
          seen.add('posix-mq');
          continue;
        }
        const out = cli(cmd);
        assert.equal(out.status, 0, `${cmd.join(' ')}: ${out.stderr}`);
        seen.add(e.unlinked ? `${e.kind as string}/unlinked` : (e.kind as string));
        if (e.kind === 'posix-sem' && e.unlinked) {
          const d = cli(['dump', target, '--length', '8']);
          assert.equal(d.status, 0, `dump ${target}: ${d.stderr}`);
        }
      }
    }
    const want = ['shm', 'sem', 'msg', 'posix-shm', 'posix-sem', 'posix-shm/unlinked', 'posix-sem/unlinked', 'memfd', 'anon', 'file', 'ring'];
    if (mountedMqueue) want.push('posix-mq');
    assert.deepEqual([...seen].sort(), want.sort());
    assert.ok((j.memfd as { id: number }[]).some((e) => e.id === py.memfdIno));
    assert.ok((j.file as { path: string }[]).some((e) => e.path === py.file));
  });
});
