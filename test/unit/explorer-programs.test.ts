// The explorer's answers that need no kernel object: regions grouped by owning program and
// container, read-only mappings of ordinary files told apart, and /dev/shm mounts (found in a
// mountinfo text, their use in percent, the warning threshold). Records are built here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanupPrompt, findLeftovers } from '../../extension/src/analysis/leftovers';
import { listingFacts } from '../../extension/src/analysis/verdict';
import { containerLookup, groupByProgram, isReadOnlyFileMapping, ownerOf, programName } from '../../extension/src/analysis/programs';
import { formatSize, leftoverId, leftoverTooltip, mountBrief, mountDescription, mountLabel, mountTooltip, mountWarns, programDescription, programId, programLabel, programTooltip } from '../../extension/src/explorer/model';
import { devShmMounts, ownDevShm, usedPercent, type MountUse } from '../../extension/src/ipc/mounts';
import type { AnonRecord, FileRecord, Listing, MemfdRecord, PosixShmRecord, RegionMapping, RingRecord, ShmRecord } from '../../extension/src/ipc/types';

const map = (pid: number, command: string, writable = true): RegionMapping => ({ pid, command, address: '0x7f0000000000', length: 4096, offset: 0, writable });
const common = { key: 0, uid: 1000, user: 'ann', gid: 1000, mode: 0o600, dev: 1, statKnown: true };
let ino = 100;
const memfd = (size: number, maps: RegionMapping[], fds: { pid: number; command: string }[] = []): MemfdRecord =>
  ({ ...common, kind: 'memfd', id: ino++, name: 'buf', size, attachedBy: maps, fdHolders: fds.map((f, i) => ({ ...f, fd: 3 + i })) });
const anon = (size: number, maps: RegionMapping[]): AnonRecord => ({ ...common, kind: 'anon', id: ino++, name: 'dev/zero', size, attachedBy: maps });
const file = (path: string, maps: RegionMapping[], deleted = false): FileRecord => ({ ...common, kind: 'file', id: ino++, path, deleted, size: 4096, attachedBy: maps });

test('program names are the last component of the command\'s first word', () => {
  assert.equal(programName('/usr/lib/chromium/chromium --type=renderer --lang=en'), 'chromium');
  assert.equal(programName('postgres: checkpointer'), 'postgres:');
  assert.equal(programName('./regions memfd x 8192'), 'regions');
  assert.equal(programName(''), '?');
  assert.equal(programName('?'), '?');
});

test('a region\'s owner is its oldest process with a known command, whether it maps it or only holds an fd', () => {
  assert.deepEqual(ownerOf(memfd(10, [map(300, '/usr/bin/worker')], [{ pid: 200, command: '/usr/bin/parent' }])), { pid: 200, program: 'parent' });
  assert.deepEqual(ownerOf(memfd(10, [map(100, '?'), map(150, 'python3 x.py')])), { pid: 150, program: 'python3' });
  assert.equal(ownerOf(memfd(10, [])), undefined);
});

test('regions group by program and container, biggest first, with counts per kind, bytes and pids', () => {
  const chrome = (pid: number) => map(pid, '/usr/lib/chromium/chromium --type=renderer');
  const mib = 1024 * 1024;
  const regions = [
    memfd(100 * mib, [chrome(10), chrome(11)]),
    memfd(200 * mib, [chrome(12)], [{ pid: 13, command: '/usr/lib/chromium/chromium' }]),
    memfd(10 * mib, [chrome(10)]),
    anon(4096, [map(20, 'postgres: main'), map(21, 'postgres: walwriter')]),
    memfd(8192, [map(30, '/usr/bin/python3 app.py')]),
    memfd(16384, [map(40, '/usr/bin/python3 app.py')]),
    memfd(4096, []),
  ];
  // pid 40 runs in a container (another IPC namespace).
  const containerOf = (pid: number) => (pid === 40 ? { label: 'web-1', ipc: 4026532301 } : undefined);
  const groups = groupByProgram(regions, containerOf);
  assert.deepEqual(groups.map((g) => [g.program, g.container ?? null, g.records.length, g.bytes]), [
    ['chromium', null, 3, 310 * mib],
    ['python3', 'web-1', 1, 16384],
    ['python3', null, 1, 8192],
    ['?', null, 1, 4096],
    ['postgres:', null, 1, 4096],
  ]);
  const c = groups[0]!;
  assert.deepEqual(c.counts, { memfd: 3, anon: 0, file: 0, ring: 0 });
  assert.deepEqual(c.pids, [10, 11, 12, 13]);
  assert.deepEqual(c.records.map((r) => r.size), [200 * mib, 100 * mib, 10 * mib], 'biggest first');
  assert.equal(programLabel(c), 'chromium');
  assert.equal(programDescription(c), '3 memfd, 310 MiB');
  assert.equal(programDescription(groups[4]!), '1 anonymous, 4 KiB');
  assert.equal(programLabel(groups[1]!), 'python3 · container web-1');
  // Identity: the same program in two namespaces are two rows; kinds keep their own rows too.
  const ids = groups.map((g) => programId('memfd', g));
  assert.equal(new Set(ids).size, ids.length);
  assert.notEqual(programId('memfd', c), programId('anon', c));
  assert.match(programTooltip(c), /\| processes \| 10, 11, 12, 13 \|/);
  assert.match(programTooltip(groups[1]!), /\| container \| web\\-1 \|/);
  // A program name from anyone's command line: control characters are shown escaped.
  assert.equal(programLabel(groupByProgram([memfd(1, [map(5, 'evil\x1b[31m')])])[0]!), 'evil\\x1b[31m');
});

test('kernel-shared rings group by program too, and the editor\'s own records form groups of their own, last', () => {
  const ring = (pid: number, command: string, part = 'SQ/CQ rings'): RingRecord =>
    ({ ...common, kind: 'ring', id: ino++, subkind: 'io_uring', part, pid, command, fd: 12, address: `0x7f00${pid}000`, size: 8192, attachedBy: [map(pid, command)] });
  // 7 and 8 are the editor (its node), 50 a node program of the user's, 60 a database.
  const editor = new Set([7, 8]);
  const rings = [ring(7, '/opt/code-server/lib/node server-main'), ring(7, '/opt/code-server/lib/node server-main', 'SQEs'), ring(8, '/opt/code-server/lib/node pty-host'),
    ring(50, 'node app.js'), ring(60, '/usr/sbin/postgres'), ring(60, '/usr/sbin/postgres', 'SQEs')];
  const groups = groupByProgram(rings, () => undefined, editor);
  assert.deepEqual(groups.map((g) => [programLabel(g), g.records.length, g.pids]), [
    ['postgres', 2, [60]],
    ['node', 1, [50]],
    ['node · this editor', 3, [7, 8]],
  ]);
  assert.equal(programDescription(groups[0]!), '2 ring mappings, 16 KiB');
  assert.deepEqual(groups[2]!.counts, { memfd: 0, anon: 0, file: 0, ring: 3 });
  assert.notEqual(programId('ring', groups[1]!), programId('ring', groups[2]!), 'the user\'s node and the editor\'s are two rows');
  assert.match(programTooltip(groups[2]!), /this editor's own processes/);
  // Without the editor's pids, one node group.
  assert.deepEqual(groupByProgram(rings).map((g) => g.program), ['node', 'postgres']);
});

test('only read-only maps of ordinary files are kept out of the way', () => {
  assert.equal(isReadOnlyFileMapping(file('/usr/lib/locale/C.utf8/gconv-modules.cache', [map(1, 'bash', false), map(2, 'ls', false)])), true);
  assert.equal(isReadOnlyFileMapping(file('/var/lib/app/lock.mdb', [map(1, 'app', false), map(2, 'app', true)])), false, 'one writer makes it shared memory');
  assert.equal(isReadOnlyFileMapping(file('/tmp/gone', [map(1, 'app', false)], true)), false, 'a deleted file is a hidden buffer');
  assert.equal(isReadOnlyFileMapping(file('/dev/shm/ring', [map(1, 'app', false)])), false);
  assert.equal(isReadOnlyFileMapping(memfd(10, [map(1, 'app', false)])), false);
});

test('a pid\'s container is the listing\'s namespace of its IPC namespace inode, read once per pid', () => {
  const listing = { namespaces: [{ namespace: { ipc: 77, pid: 500, label: 'db-1' } }] } as unknown as Listing;
  const reads: number[] = [];
  const lookup = containerLookup(listing, (pid) => { reads.push(pid); return pid === 501 ? 77 : pid === 502 ? 1 : undefined; });
  assert.deepEqual(lookup(501), { label: 'db-1', ipc: 77 });
  assert.equal(lookup(502), undefined);
  assert.equal(lookup(503), undefined);
  assert.deepEqual(lookup(501), { label: 'db-1', ipc: 77 });
  assert.deepEqual(reads, [501, 502, 503]);
  assert.equal(containerLookup({ namespaces: [] } as unknown as Listing, () => assert.fail('no namespaces: nothing to read'))(1), undefined);
});

test('/dev/shm mounts: the listing\'s figures (one row per filesystem), percent used, the warning threshold', () => {
  const kib = 1024;
  const space = (device: string, size: number, free: number) => ({ size, free, available: free, type: 'tmpfs', device });
  const ns = (ipc: number, devShm?: ReturnType<typeof space>) => ({ namespace: { ipc, pid: ipc * 10, label: `c${ipc}` }, shm: [], sem: [], msg: [], posixShm: [], unlisted: null, ...(devShm ? { devShm } : {}) });
  const rows = devShmMounts({ devShm: space('0:22', 1024 * kib, 1000 * kib), namespaces: [ns(7, space('0:22', 1024 * kib, 1000 * kib)), ns(8, space('0:40', 64 * kib, 16 * kib)), ns(9)] });
  assert.deepEqual(rows.map((m) => [m.namespace?.ipc ?? null, m.device, m.fstype, m.size, m.used, m.available]), [
    [null, '0:22', 'tmpfs', 1024 * kib, 24 * kib, 1000 * kib],
    [8, '0:40', 'tmpfs', 64 * kib, 48 * kib, 16 * kib],
  ], 'ours, then a namespace\'s own; one that sees ours (same device) or was not listed is no row');
  assert.deepEqual([...ownDevShm(rows)], [8]);
  assert.deepEqual(devShmMounts({}), [], 'a listing without /dev/shm figures has no rows');
  const mib = 1024 * 1024;
  const full: MountUse = { path: '/dev/shm', namespace: { ipc: 9, pid: 42, label: 'web-1' }, fstype: 'tmpfs', device: '0:40', size: 64 * mib, used: 58 * mib, available: 6 * mib };
  assert.equal(usedPercent(full), 90.6);
  assert.equal(mountWarns(full, 80), true);
  assert.equal(mountWarns(full, 95), false);
  assert.equal(mountLabel(full), '/dev/shm · container web-1');
  assert.equal(mountDescription(full), '58 MiB of 64 MiB (90.6 %) · 6 MiB free');
  assert.equal(mountBrief(full), '/dev/shm 58 MiB of 64 MiB (90.6 %)');
  assert.match(mountTooltip(full, 80), /above the warning threshold of 80 %/);
  assert.doesNotMatch(mountTooltip(full, 95), /threshold/);
  const fuse: MountUse = { path: '/dev/shm', namespace: null, fstype: 'fuse', device: '0:50', size: null, used: null, available: null, why: 'fuse: not asked' };
  assert.equal(usedPercent(fuse), null);
  assert.equal(mountWarns(fuse, 1), false);
  assert.equal(mountLabel(fuse), '/dev/shm');
  assert.equal(mountDescription(fuse), 'fuse · fuse: not asked');
  assert.equal(mountBrief(fuse), '/dev/shm fuse, size unknown');
  // Only a namespace listed with a /dev/shm row of its own has POSIX objects of its own.
  assert.deepEqual([...ownDevShm([fuse, full])], [9]);
});

test('Clean Up\'s candidates are exactly the leftovers of the one verdict, biggest first, with the bytes they free', () => {
  const posix = (name: string, size: number, attachedBy: { pid: number; command: string }[] = [], fdHolders: { pid: number; command: string; fd: number }[] = []): PosixShmRecord =>
    ({ kind: 'posix-shm', id: ino++, key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600, name, mtime: null, size, attachedBy, fdHolders });
  const shm = (id: number, cpid: number, nattch: number): ShmRecord => ({
    kind: 'shm', id, key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600, cuid: 0, cgid: 0, ctime: null, size: 65536, nattch, cpid, lpid: cpid,
    atime: null, dtime: null, removed: false, attachedBy: [], hiddenAttachers: nattch, orphan: nattch === 0,
  });
  const listing: Listing = {
    shm: [shm(1, 4242, 0), shm(2, 77, 0), shm(3, 4242, 1)], sem: [], msg: [],
    posixShm: [posix('/gone', 4096), posix('/mapped', 8192, [{ pid: 77, command: 'app' }]), posix('/held', 8192, [], [{ pid: 78, command: 'app', fd: 5 }])],
    posixSem: [], posixMq: [], memfd: [memfd(1 << 20, [])], anon: [], file: [], ring: [], unreadableProcesses: 0, notes: [], fdTablesRead: true,
  };
  const facts = listingFacts(listing, { alive: (pid) => pid === 77 || pid === 78 });
  const list = findLeftovers(listing, facts);
  assert.deepEqual(list.map((c) => [c.record.kind, c.record.id, c.bytes]), [['shm', 1, 65536], ['posix-shm', listing.posixShm[0]!.id, 4096]]);
  assert.ok(list.every((c) => c.verdict.verdict === 'leftover' && c.verdict.reasons.length > 0));
  // A filter narrows them; the in-use ones (mapped, held by an fd, a live creator, attached) never come.
  assert.deepEqual(findLeftovers(listing, facts, (r) => r.kind === 'posix-shm').map((c) => c.record.kind), ['posix-shm']);
  // Processes we could not read make POSIX objects unknown: not candidates.
  const blind = listingFacts({ ...listing, unreadableProcesses: 2 }, { alive: (pid) => pid === 77 || pid === 78 });
  assert.deepEqual(findLeftovers({ ...listing, unreadableProcesses: 2 }, blind).map((c) => c.record.kind), ['shm']);
  const p = cleanupPrompt(list, (r) => ('name' in r ? `posix:${r.name}` : `shm:${r.id}`), (b) => formatSize(b));
  assert.equal(p.message, 'Remove 2 leftovers, freeing 68 KiB?');
  const lines = p.detail.split('\n');
  assert.match(lines[0]!, /^shm:1 \(64 KiB\): created by pid 4242, exited; /);
  assert.match(lines[1]!, /^posix:\/gone \(4 KiB\): no process maps it or holds it open/);
  assert.equal(cleanupPrompt(list, () => 'x', String, 1).detail.split('\n')[1], '… and 1 more (the log lists them all)');
  assert.equal(leftoverId(listing.shm[0]!), `leftovers/${'shm:nsown:id1'}`);
  assert.match(leftoverTooltip(list[1]!), /^\*\*Leftover\*\*: Clean Up Leftovers… removes it\n\n- no process maps it or holds it open/);
});
