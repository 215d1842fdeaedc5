// IPC namespaces (containers): a process in another namespace attached to its own private segment
// with the same id as one of ours is never shown attached to ours, and `list --namespace`, `dump
// --namespace` and `rm --namespace` reach that namespace's objects from a thread that entered it.
// The whole scenario runs in a private IPC + mount namespace of its own (test/helpers/ns-scenario.ts),
// so it cannot touch, or leak into, the machine's real tables.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { NamespaceListing, ShmRecord } from '../../extension/src/ipc';
import { cli, ensureBuilt, ROOT, until } from '../helpers/ipc';
import { buildRegions } from '../helpers/regions';

interface Result {
  self: number;
  hostId: number;
  inner: { pid: number; id: number; size: number };
  shm: ShmRecord[];
  innerIpc: number;
  namespaces: NamespaceListing[];
  nsBytes: string;
  dump: { status: number; head: string; stderr: string };
  listText: { status: number; stdout: string; stderr: string };
  rmNo: { status: number; stderr: string };
  rm: { status: number; stderr: string };
  afterRm: { id: number; removed: boolean }[] | null;
  sem: { before: string; post: number; set: number; after: string; errors: string; wait: { status: number; stderr: string } };
  peek: { status: number; stdout: string; stderr: string; again: string };
  msgAfter: number[] | null;
}

let r: Result;
before(() => {
  ensureBuilt();
  buildRegions();
  const script = path.join(ROOT, 'test', 'helpers', 'ns-scenario.ts');
  const run = spawnSync('unshare', ['--ipc', '--mount', '--fork', 'sh', '-c', `mount -t tmpfs none /dev/shm && exec "${process.execPath}" --import tsx "${script}"`], {
    // A guard against a hung scenario only: its own waits end within 60 s each.
    cwd: ROOT, encoding: 'utf8', timeout: 240_000,
  });
  assert.equal(run.status, 0, `the scenario failed:\n${run.stderr}`);
  r = JSON.parse(run.stdout.trim().split('\n').pop()!) as Result;
});

describe('IPC namespaces', () => {
  it('gives the nested namespace\'s private segment the same id as ours (the case that used to mix them up)', () => {
    assert.equal(r.inner.id, r.hostId);
  });

  it('never shows a process of another namespace attached to our segment of the same id', () => {
    const ours = r.shm.find((s) => s.id === r.hostId)!;
    assert.ok(ours, 'our segment is listed');
    assert.deepEqual(ours.attachedBy.map((a) => a.pid), [r.self]);
    assert.equal(ours.nattch, 1);
    assert.equal(ours.hiddenAttachers, 0);
  });

  it('lists the other namespace apart, with its own segment and its own attached process', () => {
    // From inside the scenario's namespace the machine's own namespace is "another" one too.
    const ns = r.namespaces.find((n) => n.namespace.ipc === r.innerIpc)!;
    assert.ok(ns, 'the nested namespace is listed');
    assert.ok(r.namespaces.every((n) => n.shm.every((s) => s.namespace.ipc === n.namespace.ipc)));
    assert.equal(ns.unlisted, null);
    assert.ok(ns.namespace.ipc > 0);
    assert.match(ns.namespace.label, /unshare|regions/, 'labelled by its first process (no hostname of its own)');
    const seg = ns.shm.find((s) => s.id === r.inner.id)!;
    assert.equal(seg.size, 4096);
    assert.deepEqual(seg.attachedBy.map((a) => a.pid), [r.inner.pid]);
    assert.deepEqual(seg.namespace, ns.namespace);
    assert.deepEqual(ns.posixShm.map((p) => p.name), ['/inner-obj'], 'its own /dev/shm, through /proc/PID/root');
    const mappers = ns.posixShm[0]!.attachedBy;
    assert.equal(mappers.length, 2, 'the fixture that maps it and its child, both in that mount namespace');
    assert.ok(mappers.every((a) => /regions file \/dev\/shm\/inner-obj/.test(a.command)));
    assert.ok(!r.shm.some((s) => s.attachedBy.some((a) => mappers.some((m) => m.pid === a.pid))), 'and attached to nothing of ours');
  });

  it('reads the other namespace\'s segment from a thread that entered it (façade and dump --namespace)', () => {
    assert.equal(r.nsBytes, 'SHMSCOPE*\0\0\0');
    assert.equal(r.dump.status, 0, r.dump.stderr);
    assert.equal(r.dump.head, 'SHMSCOPE*\0\0\0');
  });

  it('list --namespace PID prints only that namespace\'s objects beside ours', () => {
    assert.equal(r.listText.status, 0, r.listText.stderr);
    assert.match(r.listText.stdout, /Namespace .* \(ipc \d+, pid \d+\)/);
    assert.equal(r.listText.stdout.match(/^Namespace /gm)?.length, 1);
  });

  it('rm --namespace refuses without --yes, then marks the segment removed inside that namespace only', () => {
    assert.equal(r.rmNo.status, 1);
    assert.match(r.rmNo.stderr, /refusing to remove shm:\d+ of the IPC namespace of process \d+ without --yes/);
    assert.equal(r.rm.status, 0, r.rm.stderr);
    assert.deepEqual(r.afterRm, [{ id: r.inner.id, removed: true }]);
    assert.ok(r.shm.some((s) => s.id === r.hostId && !s.removed), 'ours untouched');
  });

  it('sem --namespace reads, posts and sets a set inside that namespace; wait is refused with a reason', () => {
    assert.equal(r.sem.errors, '');
    assert.deepEqual(JSON.parse(r.sem.before).values, [3, 0]);
    assert.equal(r.sem.post, 0);
    assert.equal(r.sem.set, 0);
    assert.deepEqual(JSON.parse(r.sem.after).values, [9, 1]);
    assert.equal(r.sem.wait.status, 1);
    assert.match(r.sem.wait.stderr, /wait is not available with --namespace/);
  });

  it('peek --namespace copies the queue\'s message and leaves it there', () => {
    assert.equal(r.peek.status, 0, r.peek.stderr);
    const msgs = JSON.parse(r.peek.stdout) as { type: number; data: string }[];
    assert.deepEqual(msgs.map((m) => [m.type, Buffer.from(m.data, 'base64').toString('latin1')]), [[7, 'hello-ns\0']]);
    assert.equal(JSON.parse(r.peek.again).type, 7);
    assert.deepEqual(r.msgAfter, [1], 'nothing consumed');
  });

  it('without CAP_SYS_ADMIN another namespace is counted, not listed, and says why', async () => {
    // nobody owns a user namespace with a new IPC namespace: it may see the process, not enter it.
    const holder = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'unshare', '--user', '--map-root-user', '--ipc', 'sleep', '120'], { stdio: 'ignore' });
    try {
      await until('the process is in its namespace', () => {
        try {
          return readlinkSync(`/proc/${holder.pid}/ns/ipc`) !== readlinkSync('/proc/self/ns/ipc');
        } catch {
          return false;
        }
      });
      type Doc = { namespaces: { namespace: { pid: number }; unlisted: string | null; shm: unknown[] }[]; notes: string[] };
      // The namespaces are found by the scan of every process, which a loaded machine can make run
      // out of its budget before it reaches the holder (then the listing says so in a note and the
      // list is asked again).
      const j = await until('a listing whose scan reached the holder', () => {
        const out = cli(['list', '--namespace', 'all', '--kind', 'shm', '--json'], { asNobody: true });
        assert.equal(out.status, 0, out.stderr);
        const doc = JSON.parse(out.stdout) as Doc;
        return doc.namespaces.some((n) => n.namespace.pid === holder.pid) || !doc.notes.some((n) => /did not answer within/.test(n)) ? doc : undefined;
      }, 60_000);
      const ns = j.namespaces.find((n) => n.namespace.pid === holder.pid);
      assert.ok(ns, 'its namespace is there');
      assert.equal(ns.unlisted, 'EPERM');
      assert.deepEqual(ns.shm, []);
      assert.ok(j.notes.some((n) => /counted, not listed: entering one needs CAP_SYS_ADMIN/.test(n)));
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
