// The analysis layer's pure side: the scope model (whose namespaces, which TIDs), the views of one
// object among two namespaces' mappings, container names from cgroup paths, NSpid, and the one
// schema-binding resolver that decode, waits and the inspector share.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveBinding } from '../../extension/src/analysis/binding';
import { Scope, type HostThread, type ScopeReader } from '../../extension/src/analysis/scope';
import { mappersInScope } from '../../extension/src/analysis/views';
import { containerOfCgroup, parseNsPid } from '../../extension/src/ipc/namespaces';
import { addressToOffset, pointerNote, type ProcessView } from '../../extension/src/shared/address';
import { buildWaitGraph } from '../../extension/src/shared/waitgraph';
import { compileSchema, lockState } from '../../extension/src/shared/schema';
import type { Wait } from '../../extension/src/analysis/waits';
import { whereText, waitersByTarget, waiterKey } from '../../extension/src/waits/model';
import { namespaceDescription } from '../../extension/src/explorer/model';
import { waitsText } from '../../extension/src/cli/commands/waits';

// The host: us (pid 100) and a kernel thread 22; a container (IPC, mount and PID namespaces of
// its own) whose process is host pid 600 (its pid 1), with a second thread host 601 (its TID 22).
const HOST = { ipc: 10, mnt: 20, pid: 30, uts: 40 };
const CONTAINER = { ipc: 11, mnt: 21, pid: 31, uts: 41 };
const nsOf: Record<number, typeof HOST | undefined> = { 100: HOST, 22: HOST, 700: HOST, 600: CONTAINER };
const nsPids: Record<string, number[]> = { '600/600': [600, 1], '600/601': [601, 22], '100/100': [100], '22/22': [22] };
const reads: string[] = [];
const reader: ScopeReader = {
  namespaces: (pid) => nsOf[pid],
  nsPids: (pid, tid) => {
    reads.push(`${pid}/${tid}`);
    return nsPids[`${pid}/${tid}`];
  },
};
const threads: HostThread[] = [
  { pid: 22, tid: 22, comm: 'cpuhp/1', alive: true },
  { pid: 100, tid: 100, comm: 'shmscope', alive: true },
  { pid: 600, tid: 600, comm: 'app', alive: true },
  { pid: 600, tid: 601, comm: 'holder', alive: true },
];
const host = (tid: number) => {
  const t = threads.find((x) => x.tid === tid);
  return t ? { pid: t.pid, name: t.comm, alive: t.alive } : undefined;
};

describe('the scope of an answer', () => {
  test('namespaces compared per process; one we cannot read counts as ours', () => {
    const s = new Scope(reader, 100);
    assert.deepEqual(s.self, HOST);
    assert.deepEqual([s.sameIpc(700), s.sameIpc(600), s.sameMnt(600), s.samePid(600)], [true, false, false, false]);
    assert.equal(s.foreignIpc(600), 11);
    assert.equal(s.foreignIpc(700), undefined);
    assert.equal(s.sameIpc(999), true, 'unreadable namespaces are never split from ours');
    assert.equal(s.sameIpc(700, 600), false, 'compared with the namespace of process 600');
    assert.equal(s.sameIpc(600, 600), true);
  });

  test('a TID read from a container\'s memory is its own thread, translated through NSpid, never our TID 22', () => {
    const s = new Scope(reader, 100);
    reads.length = 0;
    const inContainer = s.lookupFor(600, threads, host);
    assert.deepEqual(inContainer(22), { pid: 600, tid: 601, name: 'holder', alive: true });
    assert.deepEqual(inContainer(1), { pid: 600, tid: 600, name: 'app', alive: true });
    assert.equal(inContainer(7), undefined, 'no thread 7 in the container: its owner is gone');
    assert.deepEqual(reads.sort(), ['600/600', '600/601'], 'only the container\'s threads are read');
    assert.deepEqual(s.lookupFor(100, threads, host)(22), { pid: 22, name: 'cpuhp/1', alive: true }, 'ours: TIDs as they are');
    // A mutex locked by the container's TID 22 decodes as held by that live thread.
    const mutex = new Uint8Array(40);
    const dv = new DataView(mutex.buffer);
    dv.setUint32(0, 2, true);
    dv.setInt32(8, 22, true);
    dv.setInt32(16, 128, true); // PTHREAD_MUTEX_PSHARED
    const st = lockState('mutex', mutex, inContainer);
    assert.deepEqual([st.owner, st.ownerPid, st.ownerName, st.ownerAlive], [22, 600, 'holder', true]);
    assert.match(st.text, /TID 22 \(host TID 601, pid 600, holder\)/);
  });

  test('pointer notes and Go to Offset by address use only the mappings of this object (two namespaces map a segment with the same id)', () => {
    const s = new Scope(reader, 100);
    const views: ProcessView[] = [
      { pid: 600, start: 0x7f0000000000n, end: 0x7f0000001000n, offset: 0n }, // the container's segment with our id
      { pid: 700, start: 0x7e0000000000n, end: 0x7e0000001000n, offset: 0n },
    ];
    const pids = mappersInScope('shm', views.map((v) => v.pid), s);
    assert.deepEqual(pids, [700]);
    const ours = views.filter((v) => pids.includes(v.pid));
    assert.equal(pointerNote(0x7f0000000040n, views, 4096), 'pointer into this segment as mapped by pid 600; offset 0x40', 'unscoped, the other segment is taken for ours');
    assert.equal(pointerNote(0x7f0000000040n, ours, 4096), undefined);
    assert.equal(pointerNote(0x7e0000000040n, ours, 4096), 'pointer into this segment as mapped by pid 700; offset 0x40');
    assert.deepEqual(addressToOffset(0x7f0000000040n, 600, ours, 4096), { ok: false, message: 'pid 600 does not map this object' });
    assert.deepEqual(addressToOffset(0x7e0000000080n, 700, ours, 4096), { ok: true, offset: 0x80 });
    // The container's own object: its mappers, not ours.
    assert.deepEqual(mappersInScope('shm', [600, 700], s, 600), [600]);
    assert.deepEqual(mappersInScope('posix-shm', [600, 700, 100], s), [700, 100]);
  });

  test('a container\'s waits are keyed, named and drawn apart from ours', () => {
    const ns = { ipc: 11, pid: 600, label: 'web-1' };
    const w = (o: Partial<Wait>): Wait => ({
      pid: 600, tid: 600, command: 'app', thread: 'app', syscall: 'semop', object: { target: 'sem:0', kind: 'sem', id: 0, name: null }, offset: null, path: 'sem[0]',
      op: 'semop 0:-1', since: null, heldBy: [], lastChangedBy: [], stuck: false, ownerDied: false, ...o,
    });
    const theirs = w({ object: { target: 'sem:0', kind: 'sem', id: 0, name: null, namespace: ns } });
    const ours = w({ pid: 700, tid: 700 });
    assert.deepEqual([...waitersByTarget({ waits: [theirs], deadlocks: [], unreadable: 0, slow: [] })], [['ipc 11 sem:0', { count: 1, alarm: false }]]);
    assert.equal(waiterKey('sem:0'), 'sem:0');
    assert.equal(whereText(theirs), 'sem:0 [web-1] sem[0]');
    const g = buildWaitGraph([theirs, ours], []);
    const objects = g.nodes.filter((n) => n.kind === 'object');
    assert.deepEqual(objects.map((n) => [n.label, n.target]), [['sem:0 sem[0] [web-1]', undefined], ['sem:0 sem[0]', 'sem:0']]);
  });
});

describe('containers named as their users name them', () => {
  const id = 'f3a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d';
  test('Docker, containerd, CRI-O, Podman, Kubernetes, nspawn, a systemd unit; the root cgroup is none', () => {
    assert.equal(containerOfCgroup(`0::/system.slice/docker-${id}.scope\n`), 'docker f3a1b2c3d4e5');
    assert.equal(containerOfCgroup(`12:pids:/docker/${id}\n1:name=systemd:/docker/${id}\n`), 'docker f3a1b2c3d4e5');
    assert.equal(containerOfCgroup(`0::/system.slice/containerd.service/ns/${id}`), 'containerd f3a1b2c3d4e5');
    assert.equal(containerOfCgroup(`0::/machine.slice/libpod-${id}.scope/container`), 'podman f3a1b2c3d4e5');
    assert.equal(containerOfCgroup(`0::/crio-${id}.scope`), 'cri-o f3a1b2c3d4e5');
    assert.equal(
      containerOfCgroup(`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-${id}.scope`),
      'pod 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 container f3a1b2c3d4e5',
    );
    assert.equal(containerOfCgroup(`0::/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/${id}`), 'pod 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 container f3a1b2c3d4e5');
    assert.equal(containerOfCgroup('0::/machine.slice/systemd-nspawn@web.service/payload'), 'machine web');
    assert.equal(containerOfCgroup('0::/machine.slice/machine-web\\x2d1.scope/payload'), 'machine web-1');
    assert.equal(containerOfCgroup('0::/system.slice/postgresql@16-main.service'), 'unit postgresql@16-main.service');
    assert.equal(containerOfCgroup('0::/\n'), undefined);
    assert.equal(containerOfCgroup('0::/user.slice/user-1000.slice/session-3.scope'), undefined, 'a login session is no container');
    assert.equal(containerOfCgroup('0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-terminal.scope'), 'unit app-gnome-terminal.scope');
    assert.equal(containerOfCgroup('0::/init.scope'), undefined);
    assert.equal(containerOfCgroup('garbage\0\n'), undefined);
  });

  test('the explorer\'s namespace group says the container beside its hostname', () => {
    const ns = { namespace: { ipc: 11, pid: 600, label: 'web-1', hostname: 'web-1', container: 'docker f3a1b2c3d4e5' }, shm: [], sem: [], msg: [], posixShm: [], unlisted: null };
    assert.equal(namespaceDescription(ns), 'docker f3a1b2c3d4e5 · ipc 11 · pid 600 · 0');
    assert.equal(namespaceDescription({ ...ns, namespace: { ipc: 11, pid: 600, label: 'docker f3a1b2c3d4e5', container: 'docker f3a1b2c3d4e5' } }), 'ipc 11 · pid 600 · 0');
  });

  test('waits as root never advises running as root', () => {
    const text = waitsText({ waits: [], deadlocks: [], unreadable: 2, slow: [] });
    if (process.getuid?.() === 0) assert.match(text, /^2 threads could not be read \(they ended during the scan, or the kernel refused their \/proc files\)$/m);
    else assert.match(text, /run as their owner or root/);
  });

  test('NSpid: our id first, the innermost last', () => {
    assert.deepEqual(parseNsPid('Name:\tapp\nNSpid:\t601\t22\nNStgid:\t600\t1\n'), [601, 22]);
    assert.deepEqual(parseNsPid('NSpid:\t100\n'), [100]);
    assert.equal(parseNsPid('Name:\tapp\n'), undefined);
  });
});

describe('one binding resolver', () => {
  const lmdb = compileSchema('segment Lock for file "/srv/db/lock.mdb" { uint32_t magic @ 0; };');
  const pg = compileSchema('segment Sems for anon of "postgres" { uint32_t n @ 0; };');
  const keyed = compileSchema('segment ById for id 7 { uint32_t a @ 0; };\nsegment ByKey for key 0x1234 { uint32_t b @ 0; };');
  const magic = compileSchema('segment Ring for magic 0x52494e47 { uint32_t m @ 0; };');
  test('for id on a keyed segment, for file, anon of "program", for magic; the first schema that binds wins', () => {
    assert.equal(resolveBinding([keyed], { shmId: 7, identity: { kind: 'key', value: 0x1234 } })?.segment.name, 'ById', 'by id first, though it has a key');
    assert.equal(resolveBinding([keyed], { shmId: 8, identity: { kind: 'key', value: 0x1234 } })?.segment.name, 'ByKey');
    assert.equal(resolveBinding([keyed, lmdb], { identity: { kind: 'file', value: '/srv/db/lock.mdb' } })?.segment.name, 'Lock');
    assert.equal(resolveBinding([lmdb, pg], { identity: { kind: 'anon', value: '/usr/lib/postgresql/16/bin/postgres -D /data' } })?.schema, pg);
    assert.equal(resolveBinding([magic], { identity: { kind: 'memfd', value: 'x' }, head: Uint8Array.of(0x47, 0x4e, 0x49, 0x52) })?.segment.name, 'Ring');
    assert.equal(resolveBinding([lmdb, pg, keyed], { identity: { kind: 'posix', value: '/other' } }), undefined);
  });
});
