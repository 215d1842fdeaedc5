// memfd objects, shared anonymous regions and shared file mappings, made by a C fixture the way real
// programs make them: listed exactly (sizes, pids, addresses), read back exactly, decoded through
// a schema, refreshed live, and gone from the list when their last holder exits.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { binding } from '../../extension/src/ipc/native';
import { compileSchema, decodeJson, segmentFor } from '../../extension/src/shared/schema';
import { cli, cliBytes, ensureBuilt, until } from '../helpers/ipc';
import { pattern, startRegions, stopAllRegions, type Fixture } from '../helpers/regions';

const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-regions-'));
const held: { close(): void }[] = [];
before(() => ensureBuilt());
after(async () => {
  for (const h of held.splice(0)) h.close();
  await stopAllRegions();
  rmSync(dir, { recursive: true, force: true });
});

const hold = <H extends { close(): void }>(h: H): H => {
  held.push(h);
  return h;
};

const isIpcError = (code: string, re?: RegExp) => (e: unknown) => e instanceof ipc.IpcError && e.code === code && (!re || re.test(e.message));

async function regionsNow() {
  return ipc.list(['memfd', 'anon', 'file']);
}

describe('memfd objects', () => {
  const name = `shmscope-test-${process.pid}-${randomInt(1e9)}`;
  const size = 12288;
  let owner: Fixture;
  let receiver: Fixture;
  let ready: { pid: number; child?: number; addr?: string; ino?: number; fd?: number };
  let recvReady: { pid: number; fd?: number };

  before(async () => {
    const sock = path.join(dir, 'memfd.sock');
    owner = startRegions(['memfd', name, String(size), sock]);
    ready = await owner.ready();
    receiver = startRegions(['recv', sock]);
    recvReady = await receiver.ready();
    await owner.line('sent');
  });

  it('lists one entry: its name, size, inode, both mappers at their address and every fd holder', async () => {
    const l = await regionsNow();
    const hits = l.memfd.filter((r) => r.name === name);
    assert.equal(hits.length, 1, 'one entry per (device, inode)');
    const r = hits[0]!;
    assert.equal(r.id, ready.ino);
    assert.equal(r.size, size);
    assert.equal(r.statKnown, true);
    assert.equal(r.user, 'root');
    assert.deepEqual(r.attachedBy.map((a) => [a.pid, a.address, a.length, a.offset, a.writable]), [
      [ready.pid, ready.addr, size, 0, true],
      [ready.child, ready.addr, size, 0, true],
    ].sort((a, b) => Number(a[0]) - Number(b[0])));
    assert.deepEqual(r.fdHolders.map((h) => [h.pid, h.fd]), [[ready.pid, ready.fd], [ready.child, ready.fd], [recvReady.pid, recvReady.fd]].sort((a, b) => a[0]! - b[0]!));
    assert.match(r.fdHolders.find((h) => h.pid === recvReady.pid)!.command, /regions recv/);
  });

  it('prints it in list --json with the documented fields', () => {
    const r = cli(['list', '--kind', 'memfd', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { memfd: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(j), ['memfd', 'unreadableProcesses', 'notes']);
    const e = j.memfd.find((x) => x.name === name)!;
    for (const k of ['kind', 'id', 'dev', 'name', 'size', 'uid', 'user', 'mode', 'attachedBy', 'fdHolders']) assert.ok(k in e, k);
    assert.equal(e.kind, 'memfd');
  });

  it('finds the same asking the kernel for a shared mapping first as reading every maps text', async () => {
    // The owner and its child map the memfd; the receiver maps nothing shared but holds an fd of
    // it (its maps text is skipped, its fd table still read); kthreadd has no memory at all.
    const pids = [ready.pid, ready.child!, recvReady.pid, 2].sort((a, b) => a - b);
    const raw = binding();
    assert.ok(raw._testMapsQuery, 'test mode exports the switch');
    let text: Awaited<ReturnType<typeof raw.scanShared>>;
    try {
      raw._testMapsQuery(false);
      text = await raw.scanShared(pids, 10_000);
    } finally {
      raw._testMapsQuery(true);
    }
    const query = await raw.scanShared(pids, 10_000);
    assert.deepEqual(query, text);
    const region = query.regions.findIndex((r) => r.ino === ready.ino);
    assert.ok(region >= 0, 'the memfd is found');
    const mappers = new Set<number>();
    for (let i = 0; i + 6 < query.maps.length; i += 7) if (query.maps[i] === region) mappers.add(query.maps[i + 1]!);
    assert.deepEqual([...mappers].sort((a, b) => a - b), [ready.pid, ready.child!].sort((a, b) => a - b));
    const holders = new Set<number>();
    for (let i = 0; i + 2 < query.fds.length; i += 3) if (query.fds[i] === region) holders.add(query.fds[i + 1]!);
    assert.ok(holders.has(recvReady.pid), 'the receiver holds it without mapping it');
  });

  it('dumps exactly the bytes written, reads live changes, and decodes through a bound schema', async () => {
    const out = cliBytes(['dump', `memfd:${ready.ino}`, '--format', 'raw']);
    assert.equal(out.status, 0, out.stderr);
    assert.ok(out.stdout.equals(pattern(size)), 'the dump is the fixture pattern');
    const h = hold(await ipc.openObject({ kind: 'memfd', id: ready.ino! }));
    assert.match((h as ipc.RegionHandle).via, /^\/proc\/\d+\/fd\/\d+$/, 'a holder\'s fd first');
    assert.equal(h.readOnly, true);
    assert.equal(h.size, size);
    await owner.poke(100, 0xee);
    assert.equal(h.read(100, 1)[0], 0xee, 'a write through the owner mapping is seen at once');
    assert.throws(() => h.write(0, new Uint8Array([1])), isIpcError('EROFS'));
    const schema = compileSchema(`struct H { char magic[8]; uint32_t n; };\nsegment S for memfd "${name}" { H h @ 0; };`);
    const id = ipc.schemaIdentity({ kind: 'memfd', id: ready.ino! }, h);
    assert.deepEqual(id, { kind: 'memfd', value: name });
    const seg = segmentFor(schema, id);
    assert.ok(seg, 'segment … for memfd "NAME" binds it');
    const json = decodeJson(schema, seg, h).json as { h: { magic: string; n: number } };
    assert.deepEqual(json.h, { magic: 'SHMSCOPE', n: 42 });
  });

  it('opens read-write when asked and writes through to the owner', async () => {
    const rw = hold(await ipc.openObject({ kind: 'memfd', id: ready.ino! }, { readWrite: true }));
    rw.write(200, new Uint8Array([0x5a]));
    const again = hold(await ipc.openObject(`memfd:${ready.ino}`));
    assert.equal(again.read(200, 1)[0], 0x5a);
  });

  it('vanishes from the list when its last holder exits, and an open handle says removed', async () => {
    const h = hold(await ipc.openObject({ kind: 'memfd', id: ready.ino! })) as ipc.RegionHandle;
    await owner.stop(); // the owner and its forked child
    let l = await regionsNow();
    const left = l.memfd.find((r) => r.id === ready.ino);
    assert.ok(left, 'the receiver still holds an fd');
    assert.deepEqual(left.attachedBy, []);
    assert.deepEqual(left.fdHolders.map((x) => x.pid), [recvReady.pid]);
    assert.equal(await h.recheck(), true);
    await receiver.stop();
    l = await regionsNow();
    assert.equal(l.memfd.find((r) => r.id === ready.ino), undefined);
    assert.equal(await h.recheck(), false, 'no process holds it any more');
    await until('status says removed', () => h.status().removed);
    assert.equal(h.read(0, 8).toString(), 'SHMSCOPE', 'our fd keeps the last bytes readable');
  });
});

describe('shared anonymous regions', () => {
  const size = 65536;
  let f: Fixture;
  let ready: { pid: number; child?: number; addr?: string };
  let ino = 0;

  before(async () => {
    f = startRegions(['anon', String(size)]);
    ready = await f.ready();
  });

  it('lists the region once with the parent and its forked child at the same address', async () => {
    const l = await regionsNow();
    const r = l.anon.find((x) => x.attachedBy.some((a) => a.pid === ready.pid));
    assert.ok(r, 'listed');
    ino = r.id;
    assert.equal(r.name, 'dev/zero');
    assert.equal(r.size, size);
    assert.deepEqual(r.attachedBy.map((a) => [a.pid, a.address, a.length]), [[ready.pid, ready.addr, size], [ready.child, ready.addr, size]]);
    assert.equal(l.anon.filter((x) => x.id === ino).length, 1);
  });

  it('dumps the exact bytes and sees live writes', async () => {
    const out = cliBytes(['dump', `anon:${ino}`, '--format', 'raw']);
    assert.equal(out.status, 0, out.stderr);
    assert.ok(out.stdout.equals(pattern(size)));
    const h = hold(await ipc.openObject({ kind: 'anon', id: ino }));
    assert.match((h as ipc.RegionHandle).via, /^\/proc\/\d+\/map_files\/[0-9a-f]+-[0-9a-f]+$/, 'as root: map_files');
    await f.poke(65535, 0x11);
    assert.equal(h.read(65535, 1)[0], 0x11);
    assert.deepEqual(ipc.schemaIdentity({ kind: 'anon', id: ino }, h)?.kind, 'anon');
    const schema = compileSchema(`segment S for anon of "regions" { char magic[8] @ 0; };`);
    assert.ok(segmentFor(schema, ipc.schemaIdentity({ kind: 'anon', id: ino }, h)!), 'anon of "COMMAND" matches the program base name');
    // Bound by content: the region's first bytes are "SHMSCOPE" then 0x2a.
    const file = path.join(dir, 'magic.shms');
    writeFileSync(file, 'segment Other for key 0x1234 { uint8_t x @ 0; };\nsegment Head for magic "SHMSCOPE" { char tag[8] @ 0; uint8_t v @ 8; };\n');
    const r = cli(['decode', `anon:${ino}`, '--schema', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { tag: 'SHMSCOPE', v: 0x2a, checks: [], diagnostics: [] });
  });

  it('without CAP_SYS_ADMIN (map_files refused), reads through /proc/PID/mem of a process of the same user', async () => {
    const mine = startRegions(['anon', '8192'], ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups']);
    const r = await mine.ready();
    const l = await regionsNow();
    const rec = l.anon.find((x) => x.attachedBy.some((a) => a.pid === r.pid))!;
    const out = spawnBytes(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', 'SHMSCOPE_DEBUG=1', process.execPath, path.join(__dirname, '..', '..', 'dist', 'cli.js'), 'dump', `anon:${rec.id}`, '--format', 'raw']);
    assert.equal(out.status, 0, out.stderr);
    assert.ok(out.stdout.equals(pattern(8192)));
    assert.match(out.stderr, new RegExp(`reading through /proc/${r.pid}/mem`), 'map_files was refused (no CAP_SYS_ADMIN): /proc/PID/mem was next');
    // Another user's region is not even visible to nobody: its maps are not readable.
    const other = cli(['dump', `anon:${ino}`], { asNobody: true });
    assert.equal(other.status, 1);
    assert.match(other.stderr, /does not exist: no process maps or holds it \(or it is in one of the \d+ processes whose maps we may not read\)/);
    await mine.stop();
  });

  it('vanishes when the last process exits', async () => {
    const h = hold(await ipc.openObject({ kind: 'anon', id: ino })) as ipc.RegionHandle;
    await f.stop();
    assert.equal((await regionsNow()).anon.find((x) => x.id === ino), undefined);
    assert.equal(await h.recheck(), false);
  });
});

function spawnBytes(argv: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { timeout: 60_000, maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('shared file mappings', () => {
  const size = 8192;
  let file: string;
  let f: Fixture;
  let ready: { pid: number; child?: number; addr?: string; ino?: number };

  before(async () => {
    file = path.join(dir, 'lock.mdb');
    f = startRegions(['file', file, String(size)]);
    ready = await f.ready();
  });

  it('lists the file with its size, mode and both processes', async () => {
    const r = (await regionsNow()).file.find((x) => x.path === file);
    assert.ok(r);
    assert.equal(r.id, ready.ino);
    assert.equal(r.size, size);
    assert.equal(r.mode, 0o640);
    assert.equal(r.deleted, false);
    assert.deepEqual(r.attachedBy.map((a) => [a.pid, a.address]), [[ready.pid, ready.addr], [ready.child, ready.addr]]);
    const text = cli(['list', '--kind', 'file']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+root\\s+0640\\s+8\\.0 KiB\\s+${ready.pid}@${ready.addr}`));
  });

  it('dumps exactly, and a file truncated while open gives a range error or a short read, never SIGBUS', async () => {
    const out = cliBytes(['dump', `file:${file}`, '--format', 'raw']);
    assert.equal(out.status, 0, out.stderr);
    assert.ok(out.stdout.equals(pattern(size)));
    const victim = path.join(dir, 'victim.bin');
    writeFileSync(victim, pattern(size));
    const h = hold(await ipc.openObject({ kind: 'file', path: victim }));
    assert.equal(h.size, size);
    truncateSync(victim, 100);
    assert.throws(() => h.read(0, size), isIpcError('ERANGE'));
    const buf = new Uint8Array(size);
    assert.equal(h.readInto(buf, 0), 100, 'a short read of what is left');
    assert.equal(h.status().size, 100);
  });

  it('refuses a FIFO at once (no blocking open) and a symlink planted in place of a file', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(ipc.openObject({ kind: 'file', path: fifo }), isIpcError('EINVAL', /not a regular file/));
    const link = path.join(dir, 'link');
    symlinkSync(file, link);
    await assert.rejects(ipc.openObject({ kind: 'file', path: link }), isIpcError('ELOOP', /symbolic link/));
    assert.throws(() => ipc.parseTarget('file:relative/path'), isIpcError('EINVAL'));
  });

  it('lists a file in a subfolder of /dev/shm (POSIX shm lists only top-level names)', async () => {
    const sub = `/dev/shm/shmscope-test-${process.pid}-${randomInt(1e9)}`;
    mkdirSync(sub);
    try {
      const g = startRegions(['file', `${sub}/cache`, '4096']);
      const r = await g.ready();
      const l = await ipc.list(['file', 'posix-shm']);
      assert.ok(l.file.some((x) => x.path === `${sub}/cache` && x.attachedBy.some((a) => a.pid === r.pid)));
      assert.ok(!l.posixShm.some((x) => x.name.includes('shmscope-test')), 'not a POSIX object');
      await g.stop();
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it('vanishes when both processes exit', async () => {
    await f.stop();
    assert.equal((await regionsNow()).file.find((x) => x.path === file), undefined);
  });
});

describe('when every way in is refused', () => {
  it('the error names each missing privilege: the fds, CAP_SYS_ADMIN for map_files, ptrace for mem', async () => {
    // The refusals are made here: as root every way would work. The scan is the addon's own, of
    // one fixture; only the opens are refused, as they are for a user without those privileges.
    const f = startRegions(['memfd', `refused-${randomInt(1e9)}`, '4096', path.join(dir, 'refused.sock')]);
    const r = await f.ready();
    const raw = binding() as unknown as { RegionFile: unknown };
    const real = raw.RegionFile;
    const tried: string[] = [];
    raw.RegionFile = function RegionFile(p: string) {
      tried.push(p);
      throw Object.assign(new Error(`open: Operation not permitted (${p})`), { code: p.endsWith('/mem') ? 'EACCES' : 'EPERM', errno: 1, syscall: 'open' });
    };
    try {
      await assert.rejects(ipc.openObject({ kind: 'memfd', id: r.ino! }), (e: unknown) => {
        assert.ok(e instanceof ipc.IpcError);
        assert.equal(e.code, 'EACCES');
        assert.match(e.message, new RegExp(`^permission denied opening memfd ${r.ino}: it needs access to the fds of process ${r.pid}`));
        assert.match(e.message, /CAP_SYS_ADMIN \(for \/proc\/PID\/map_files\)/);
        assert.match(e.message, new RegExp(`ptrace access to process ${r.pid} \\(for /proc/${r.pid}/mem\\)`));
        return true;
      });
      assert.deepEqual(tried.map((p) => p.replace(/[0-9a-f]+-[0-9a-f]+$/, 'RANGE').replace(/\d+/g, 'N')).filter((p, i, a) => a.indexOf(p) === i),
        ['/proc/N/fd/N', '/proc/N/map_files/RANGE', '/proc/N/mem'], 'least privilege first');
    } finally {
      raw.RegionFile = real;
      await f.stop();
    }
  });
});

describe('hostile /proc', () => {
  it('a scan survives processes that exit while it runs', async () => {
    // Short-lived processes keep appearing and ending during the scans.
    const churn = spawn('sh', ['-c', 'while :; do /bin/true & /bin/true & wait; done'], { stdio: 'ignore' });
    try {
      const g = startRegions(['anon', '4096']);
      const r = await g.ready();
      for (let i = 0; i < 10; i++) {
        const l = await ipc.scanRegions();
        assert.ok(l.anon.some((x) => x.attachedBy.some((a) => a.pid === r.pid)));
      }
      await g.stop();
    } finally {
      churn.kill('SIGKILL');
    }
  });

  it('a scan answers by its budget with what it read, naming the processes it did not reach', async () => {
    // How many processes a 1 ms budget reaches, and how fast, depends on the machine's load (the
    // bench measures scans); what holds on any machine is that no process is silently dropped: each
    // of ours is either listed or named as not reached, never both.
    const many = Array.from({ length: 50 }, () => startRegions(['anon', '4096']));
    try {
      const pids = await Promise.all(many.map(async (f) => (await f.ready()).pid));
      const raw = await binding().scanShared(undefined, 1);
      const listed = new Set(Array.from({ length: raw.processes.length / 3 }, (_, i) => raw.processes[i * 3]!));
      assert.ok(raw.slow.every((p) => !listed.has(p)), 'a slow process is not also listed');
      const slow = new Set(raw.slow);
      for (const pid of pids) assert.ok(listed.has(pid) !== slow.has(pid), `pid ${pid} is either listed or named as not reached`);
      const full = await binding().scanShared(undefined, 60_000);
      assert.deepEqual(full.slow, []);
      const all = new Set(Array.from({ length: full.processes.length / 3 }, (_, i) => full.processes[i * 3]!));
      for (const pid of pids) assert.ok(all.has(pid), `pid ${pid} listed without a tight budget`);
    } finally {
      await Promise.all(many.map((f) => f.stop()));
    }
  });

  it('escapes control characters in names shown as text', async () => {
    const name = `evil\x1b[31m\n${randomInt(1e9)}`;
    const g = startRegions(['memfd', name, '4096', path.join(dir, 'evil.sock')]);
    await g.ready();
    const recv = startRegions(['recv', path.join(dir, 'evil.sock')]);
    await recv.ready();
    const text = cli(['list', '--kind', 'memfd']);
    assert.equal(text.status, 0, text.stderr);
    assert.ok(!text.stdout.includes('\x1b'), 'no escape character reaches the terminal');
    assert.match(text.stdout, /evil\\x1b\[31m/);
    await recv.stop();
    await g.stop();
  });
});
