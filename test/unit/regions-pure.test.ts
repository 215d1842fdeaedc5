// The pure parts of memfd / anonymous / file regions and namespaces: targets, grouping the native
// scan's flat rows into records, matching attachments within our namespaces, escaping names, the
// schema's new bindings and the explorer's labels. No kernel objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUPS, isEmpty, objectDescription, objectId, objectLabel, objectTooltip } from '../../extension/src/explorer/model';
import { targetOf } from '../../extension/src/ipc/target';
import * as ipc from '../../extension/src/ipc';
import type { Listing, ShmRecord } from '../../extension/src/ipc/types';
import type { RawSharedScan } from '../../extension/src/ipc/native';
import { ancestry, editorProcesses, emptyScan, parentOfStat, type ProcessLink } from '../../extension/src/ipc/procfs';
import { buildRegions } from '../../extension/src/ipc/regions';
import { withinOwnNamespaces } from '../../extension/src/ipc/namespaces';
import { compileSchema, segmentFor } from '../../extension/src/shared/schema';

const isIpcError = (code: string) => (e: unknown) => e instanceof ipc.IpcError && e.code === code;

test('targets name regions by inode or absolute path, and round-trip', () => {
  assert.deepEqual(ipc.parseTarget('memfd:123'), { kind: 'memfd', id: 123 });
  assert.deepEqual(ipc.parseTarget('anon:0x10'), { kind: 'anon', id: 16 });
  assert.deepEqual(ipc.parseTarget('file:/var/lib/app/lock.mdb'), { kind: 'file', path: '/var/lib/app/lock.mdb' });
  for (const bad of ['memfd:0', 'memfd:x', 'anon:', 'file:relative', 'file:/a/../etc/shadow']) assert.throws(() => ipc.parseTarget(bad), isIpcError('EINVAL'), bad);
  for (const t of ['memfd:5', 'anon:7', 'file:/x/y']) assert.equal(ipc.formatTarget(ipc.parseTarget(t)), t);
  assert.equal(ipc.describeTarget({ kind: 'file', path: '/tmp/a\nb' }), 'file /tmp/a\\nb');
  assert.equal(ipc.describeTarget({ kind: 'anon', id: 7 }), 'anonymous region 7');
});

const raw = (over: Partial<RawSharedScan> = {}): RawSharedScan => ({
  regions: [
    { kind: 'memfd', dev: 1, ino: 10, name: 'frames', deleted: false, statKnown: true, size: 8192, uid: 0, gid: 0, mode: 0o777 },
    { kind: 'anon', dev: 1, ino: 11, name: 'dev/zero', deleted: false, statKnown: false, size: 4096, uid: 0, gid: 0, mode: 0 },
    { kind: 'memfd', dev: 1, ino: 12, name: 'only-ours', deleted: false, statKnown: true, size: 4096, uid: 0, gid: 0, mode: 0o777 },
  ],
  // region, pid, start hi, start lo, length, offset, writable
  maps: Float64Array.from([0, 200, 0x7f, 0x1000, 8192, 0, 1, 0, 100, 0x7f, 0x2000, 8192, 0, 0, 0, 100, 0, 0x5000, 4096, 0, 1, 1, 300, 0x1, 0, 4096, 0, 1]),
  fds: Float64Array.from([0, 100, 3, 0, process.pid, 9, 2, process.pid, 10]),
  sysv: Float64Array.from([100, 5, 100, 5, 400, 5]),
  devShm: [100, 'ring', 400, 'ring'],
  processes: Float64Array.from([100, 1, 2, 200, 1, 2, 300, 1, 2, 400, 9, 8]),
  commands: [100, './producer', 200, './worker', 300, 'postgres: main', 400, 'other'],
  unreadable: 3,
  slow: [],
  self: { ipc: 1, mnt: 2 },
  ...over,
});

test('the scan\'s flat rows become records sorted by pid then address; our own fds are not holders', () => {
  const s = buildRegions(raw(), () => 'root');
  assert.equal(s.memfd.length, 1, 'a region held only by our own fd is not listed');
  const m = s.memfd[0]!;
  assert.deepEqual(m.attachedBy.map((a) => [a.pid, a.address, a.writable]), [[100, '0x5000', true], [100, '0x7f00002000', false], [200, '0x7f00001000', true]]);
  assert.deepEqual(m.fdHolders.map((h) => [h.pid, h.fd, h.command]), [[100, 3, './producer']]);
  assert.equal(s.anon[0]!.attachedBy[0]!.address, '0x100000000');
  assert.equal(s.anon[0]!.user, '?', 'no stat: owner unknown');
  assert.deepEqual([...s.maps.sysv.get(5)!], [100, 400]);
  assert.equal(s.maps.sysvMappings.get(5), 3);
  assert.deepEqual(s.maps.devShm.get('ring'), [100, 400]);
  assert.equal(s.maps.commands.get(400), 'other');
});

test('attachments of processes in other namespaces are dropped, and the mapping count follows', () => {
  const s = buildRegions(raw(), () => 'root');
  const scan = withinOwnNamespaces(s.maps, s);
  assert.deepEqual(scan.sysv.get(5), [100], 'pid 400 is in IPC namespace 9, not ours (1)');
  assert.equal(scan.sysvMappings.get(5), 2);
  assert.deepEqual(scan.devShm.get('ring'), [100], 'pid 400 is in mount namespace 8, not ours (2)');
  const none = withinOwnNamespaces(emptyScan(), s);
  assert.equal(none.sysv.size, 0);
});

test('schemas bind memfd "NAME", file "/path" and anon of "COMMAND"', () => {
  const schema = compileSchema('segment A for memfd "frames" { int x @ 0; };\nsegment B for file "/var/lib/x" { int y @ 0; };\nsegment C for anon of "postgres" { int z @ 0; };');
  assert.deepEqual(schema.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(segmentFor(schema, { kind: 'memfd', value: 'frames' })?.name, 'A');
  assert.equal(segmentFor(schema, { kind: 'file', value: '/var/lib/x' })?.name, 'B');
  assert.equal(segmentFor(schema, { kind: 'anon', value: '/usr/lib/postgresql/bin/postgres -D /data' })?.name, 'C');
  assert.equal(segmentFor(schema, { kind: 'anon', value: 'postgresql' }), undefined);
  const bad = compileSchema('segment D for file "relative" { int x @ 0; };');
  assert.match(bad.diagnostics.map((d) => d.message).join('\n'), /absolute path/);
  const unknown = compileSchema('segment E for socket "x" { int x @ 0; };');
  assert.match(unknown.diagnostics.map((d) => d.message).join('\n'), /expected key, id, posix, memfd, file, anon or magic/);
});

test('bind by content: segment … for magic and [[magic]] bind an unnamed memfd or anonymous region by its first bytes', () => {
  const schema = compileSchema([
    'segment Named for memfd "frames" { int x @ 0; };',
    'segment Ring for magic 0x52494E47 { uint32_t magic @ 0; uint32_t n @ 4; };',
    'segment Text for magic "SHMSCOPE" { char tag[8] @ 0; };',
    'struct Frame [[magic(0xCAFE)]] { uint16_t magic; uint16_t len; };',
  ].join('\n'));
  assert.deepEqual(schema.diagnostics.filter((d) => d.severity === 'error'), []);
  const head = (...b: number[]) => Uint8Array.from(b);
  // 0x52494E47 is the little-endian bytes 47 4e 49 52 ("GNIR").
  assert.equal(segmentFor(schema, { kind: 'memfd', value: 'other' }, head(0x47, 0x4e, 0x49, 0x52, 9, 0, 0, 0))?.name, 'Ring');
  assert.equal(segmentFor(schema, { kind: 'anon', value: 'prog' }, new TextEncoder().encode('SHMSCOPE*'))?.name, 'Text');
  assert.equal(segmentFor(schema, { kind: 'anon', value: 'prog' }, head(0xfe, 0xca, 4, 0))?.name, 'Frame');
  assert.equal(segmentFor(schema, { kind: 'memfd', value: 'other' }, head(0x52, 0x49, 0x4e, 0x47)), undefined, 'big-endian bytes do not match');
  assert.equal(segmentFor(schema, { kind: 'memfd', value: 'other' }, head(0x47, 0x4e)), undefined, 'too short');
  // A name binding wins; System V and POSIX objects are never bound by content.
  assert.equal(segmentFor(schema, { kind: 'memfd', value: 'frames' }, head(0x47, 0x4e, 0x49, 0x52))?.name, 'Named');
  assert.equal(segmentFor(schema, { kind: 'posix', value: '/x' }, head(0x47, 0x4e, 0x49, 0x52)), undefined);
  const bad = compileSchema('segment A for magic -1 { int x @ 0; };\nstruct B [[magic]] { int y; };');
  assert.equal(bad.diagnostics.filter((d) => d.severity === 'error').length, 2);
});

test('the explorer labels regions as users know them, with escaped names', () => {
  const s = buildRegions(raw(), () => 'root');
  const m = s.memfd[0]!;
  assert.equal(objectLabel(m), 'frames · ino 10');
  assert.equal(objectDescription(m), '8 KiB · 2 processes · 1 fd · root');
  assert.deepEqual(targetOf(m), { kind: 'memfd', id: 10 });
  assert.equal(objectLabel(s.anon[0]!), 'postgres: · ino 11');
  assert.match(objectTooltip(s.anon[0]!), /from its mappings/);
  const evil = { ...m, name: 'x\x1b]0;pwned\x07' };
  assert.equal(objectLabel(evil), 'x\\x1b]0;pwned\\x07 · ino 10');
  // Collapsed at first: Leftovers (listed in their kinds' groups too) and what a desktop has hundreds of.
  assert.deepEqual(GROUPS.filter((g) => g.collapsed).map((g) => g.id), ['leftovers', 'memfd', 'anon', 'file', 'ring']);
});

test('every explorer row id is its object\'s full identity: memfds of one name and anonymous regions differ', () => {
  const s = buildRegions(raw(), () => 'root');
  const m = s.memfd[0]!;
  const a = s.anon[0]!;
  const ids = [
    objectId(m), objectId({ ...m, id: m.id + 100 }), objectId({ ...m, dev: m.dev + 1 }),
    objectId(a), objectId({ ...a, id: a.id + 1 }), objectId({ ...a, kind: 'memfd', fdHolders: [] }),
    objectId({ ...m, kind: 'file', path: '/x', deleted: false }),
  ];
  assert.equal(new Set(ids).size, ids.length, ids.join(' '));
  assert.equal(objectId(m), `memfd:nsown:dev${m.dev}:ino${m.id}`);
  // The same System V id in another IPC namespace is another object.
  const shm = { kind: 'shm', id: 3, key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600, cuid: 0, cgid: 0, ctime: null, size: 1, nattch: 0, cpid: 1, lpid: 1, atime: null, dtime: null, removed: false, attachedBy: [], hiddenAttachers: 0, orphan: false } as ShmRecord;
  assert.notEqual(objectId(shm), objectId({ ...shm, namespace: { ipc: 4026532301, pid: 9, label: 'web-1' } } as ShmRecord));
});

test('the welcome view: regions that only the editor itself maps or holds are no objects of the user\'s', () => {
  const s = buildRegions(raw(), () => 'root');
  const listing: Listing = { shm: [], sem: [], msg: [], posixShm: [], posixSem: [], posixMq: [], memfd: [], anon: [], file: [], ring: [], unreadableProcesses: 0, notes: [] };
  assert.equal(isEmpty(listing), true);
  const file = { ...s.memfd[0]!, kind: 'file' as const, path: '/root/.cache/editor/state.vscdb', deleted: false, fdHolders: undefined };
  const pids = new Set(file.attachedBy.map((a) => a.pid));
  assert.equal(isEmpty({ ...listing, file: [file] }), false);
  assert.equal(isEmpty({ ...listing, file: [file] }, pids), true, 'the editor\'s own cache mapping');
  assert.equal(isEmpty({ ...listing, memfd: [s.memfd[0]!] }, new Set([...pids].slice(0, 1))), false, 'another process holds it too');
  // The editor's processes: this one and its ancestors, read from /proc/PID/stat.
  assert.equal(parentOfStat('42 (a) b) c) S 17 42 42 0'), 17, 'a command with parentheses and spaces');
  const mine = ancestry(process.pid);
  assert.ok(mine.has(process.pid) && mine.has(process.ppid) && !mine.has(1));
});

test('the editor\'s processes: the outermost ancestor running our executable and what runs it below, not its terminals\' programs', () => {
  // A code-server in a pid namespace: 1 server, 5 server-main, 7 extension host (us), 12 a language
  // server it forked, 8 pty host,
  // 9 its shell, 10 a node program the user started in that shell, 11 a renderer-like child of 5;
  // 20 another program's node beside the editor, 30 the editor's launcher script.
  const node = '/opt/code-server/lib/node';
  const table: Record<number, ProcessLink> = {
    30: { ppid: 0, exe: '/usr/bin/sh' },
    1: { ppid: 30, exe: node }, 5: { ppid: 1, exe: node }, 7: { ppid: 5, exe: node }, 8: { ppid: 5, exe: node },
    9: { ppid: 8, exe: '/usr/bin/bash' }, 10: { ppid: 9, exe: node }, 11: { ppid: 5, exe: node }, 20: { ppid: 30, exe: node }, 12: { ppid: 7, exe: node },
    40: { ppid: 1, exe: undefined },
  };
  const link = (pid: number): ProcessLink => table[pid] ?? { ppid: undefined, exe: undefined };
  const pids = () => Object.keys(table).map(Number);
  assert.deepEqual([...editorProcesses(7, link, pids)].sort((a, b) => a - b), [1, 5, 7, 8, 11, 12]);
  // Our executable unreadable: only our ancestry, as before.
  assert.deepEqual([...editorProcesses(7, (p) => (p === 7 ? { ppid: 5, exe: undefined } : link(p)), pids)].sort((a, b) => a - b), [...ancestry(7)].sort((a, b) => a - b));
  // This very process is among its own editor's, read from /proc.
  assert.ok(editorProcesses(process.pid).has(process.pid));
});

test('a limit the kernel leaves open (shmmax = 2^64 - 2^24 - 1) reads "no limit", not a rounded number', async () => {
  const { limitValue } = await import('../../extension/src/ipc/limits');
  const { limitDescription } = await import('../../extension/src/explorer/model');
  assert.equal(limitValue(Number('18446744073692774399')), 'no limit');
  assert.equal(limitValue(32000), 32000);
  assert.equal(limitDescription({ name: 'shmmax', value: 'no limit', used: null, description: '' }), 'no limit');
  assert.equal(limitDescription({ name: 'shmall', value: 'no limit', used: 12, description: '' }), '12 used, no limit');
  assert.equal(limitDescription({ name: 'shmmni', value: 4096, used: 3, description: '' }), '3 of 4,096');
});

test('tooltips give times on the user\'s clock; Copy Target gives the CLI\'s name of every object', async () => {
  const { localTime, cliTarget } = await import('../../extension/src/explorer/model');
  assert.equal(localTime('2026-12-04T18:09:02.000Z', 60), '2026-12-04 19:09:02 (UTC+01:00)');
  assert.equal(localTime('2026-12-04T00:30:00.000Z', -330), '2026-12-03 19:00:00 (UTC-05:30)');
  assert.equal(localTime('not a time', 0), 'not a time');
  const s = buildRegions(raw(), () => 'root');
  assert.equal(cliTarget(s.memfd[0]!), 'memfd:10');
  assert.equal(cliTarget(s.anon[0]!), 'anon:11');
  const shm = { kind: 'shm', id: 3, key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600, cuid: 0, cgid: 0, ctime: '2026-12-04T18:09:02.000Z', size: 1, nattch: 0, cpid: 1, lpid: 1, atime: null, dtime: null, removed: false, attachedBy: [], hiddenAttachers: 0, orphan: false } as unknown as ShmRecord;
  assert.equal(cliTarget(shm), 'shm:3');
  assert.equal(cliTarget({ ...shm, namespace: { ipc: 4026532301, pid: 5100, label: 'web-1' } } as ShmRecord), '--namespace 5100 shm:3');
  assert.match(objectTooltip(shm), /changed \| 2026\\-12\\-04 \d\d:09:02 \\\(UTC\\[+-]\d\d:\d\d\\\)/, 'escaped for Markdown');
});

test('unlinked POSIX objects and rings: grouped into their kinds, with targets that round-trip', () => {
  const s = buildRegions(raw({
    regions: [
      { kind: 'posix', dev: 30, ino: 40, name: 'sem.mp-abc', deleted: true, statKnown: true, size: 32, uid: 0, gid: 0, mode: 0o600 },
      { kind: 'posix', dev: 30, ino: 41, name: 'psm_1', deleted: true, statKnown: true, size: 8192, uid: 0, gid: 0, mode: 0o600 },
      { kind: 'ring', dev: 16, ino: 50, name: 'anon_inode:[io_uring]', deleted: false, statKnown: false, size: 0, uid: 0, gid: 0, mode: 0 },
      { kind: 'ring', dev: 9, ino: 51, name: 'socket:[51]', deleted: false, statKnown: false, size: 0, uid: 0, gid: 0, mode: 0 },
    ],
    maps: Float64Array.from([0, 100, 0, 0x1000, 4096, 0, 1, 2, 100, 0, 0x2000, 4096, 0, 1, 2, 100, 0, 0x3000, 4096, 0x10000000, 1, 3, 100, 0, 0x4000, 4096, 0x100000000, 1]),
    fds: Float64Array.from([1, 200, 7, 2, 100, 3]),
  }), () => 'root');
  assert.deepEqual(s.posixSem.map((r) => [r.name, r.id, r.unlinked, r.attachedBy.map((a) => a.pid)]), [['/mp-abc', 40, true, [100]]]);
  assert.deepEqual(s.posixShm.map((r) => [r.name, r.size, r.attachedBy.map((a) => a.pid), r.fdHolders!.map((h) => h.fd)]), [['/psm_1', 8192, [200], [7]]], 'held by an fd only');
  assert.deepEqual(s.ring.map((r) => [r.subkind, r.part, r.pid, r.fd, r.address]), [
    ['io_uring', 'SQ/CQ rings', 100, 3, '0x2000'],
    ['io_uring', 'SQEs', 100, 3, '0x3000'],
    ['xdp', 'fill ring', 100, null, '0x4000'],
  ]);
  const targets = [...s.posixSem, ...s.posixShm, ...s.ring].map((r) => ipc.formatTarget(targetOf(r)!));
  assert.deepEqual(targets, ['psem:@40', 'posix:@41', 'ring:100@0x2000', 'ring:100@0x3000', 'ring:100@0x4000']);
  for (const t of targets) assert.equal(ipc.formatTarget(ipc.parseTarget(t)), t);
  assert.deepEqual(ipc.parseTarget('ring:100@0x0002000'), { kind: 'ring', pid: 100, address: '0x2000' });
  assert.deepEqual(ipc.parseTarget('posix:/@41'), { kind: 'posix-shm', name: '/@41' }, 'a name starts with /: never an inode');
  for (const bad of ['posix:@0', 'psem:@x', 'mq:@4', 'ring:0@0x1', 'ring:12', 'ring:1@2000']) assert.throws(() => ipc.parseTarget(bad), isIpcError('EINVAL'), bad);
  const ids = [...s.posixSem, ...s.posixShm, ...s.ring].map(objectId);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(objectLabel(s.posixShm[0]!), '/psm_1 (unlinked)');
  assert.equal(objectLabel(s.ring[0]!), 'io_uring SQ/CQ rings · pid 100 fd 3');
  assert.match(objectDescription(s.posixSem[0]!), /unlinked · psem:@40/);
  assert.match(objectTooltip(s.ring[1]!), /read-only/);
});
