// PostgreSQL's own waits from its shared memory alone, against the real server: one PostgreSQL 15
// cluster for the whole file, in an IPC, mount and pid namespace of the test's own (everything dies
// with it). Each case blocks sessions for real (a row lock, LOCK TABLE, an advisory lock, a chain of
// three) and compares `shmscope waits --json` with pg_stat_activity, pg_locks and
// pg_blocking_pids() read by psql just before and just after it: the blocked state does not move
// while the holder keeps its transaction open, so both reads are of the same instant. Also: the
// shipped schema is what `shmscope import` makes of the server's headers, and its layouts are the
// C compiler's.
import { reexecInNamespaces } from '../helpers/private-ns';

reexecInNamespaces(
  'SHMSCOPE_PGWAITS_NAMESPACE',
  { name: 'shmscope-pgwaits', shmSize: '64m', pid: true },
  'the PostgreSQL waits tests need their own IPC, mount and pid namespace',
);

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { cli, ensureBuilt, ROOT, until } from '../helpers/ipc';
import { Cluster, PG, type Session } from '../helpers/postgres';
import { ensureHeaders, importSchema, includeDir, namesFile, namesText, schemaFile, WRAPPER } from '../../scripts/postgres-schema';
import { layoutFor, postgresClusters } from '../../extension/src/analysis/postgres';

interface PgWaitJson {
  waitEventType: string;
  waitEvent: string;
  state: string | null;
  lock?: Record<string, string | number> & { mode: string };
  blockedBy: number[];
  postmaster: number;
  nsPid?: number;
  nsBlockedBy?: number[];
}
interface WaitJson { pid: number; tid: number; command: string; syscall: string; object: { target: string | null; kind: string }; path: string | null; op: string; heldBy: { pid: number; nsTid?: number; state?: string }[]; postgres?: PgWaitJson }
interface Report { waits: WaitJson[]; notes: string[] }

let pg: Cluster;
const sessions: Session[] = [];

before(async () => {
  ensureBuilt();
  pg = await Cluster.start(54331);
  pg.query('create table t (id int primary key, v int); insert into t values (1, 0), (2, 0);');
});

after(async () => {
  await pg?.stop();
});

// A case that fails leaves its sessions in a transaction or a lock wait, and the next case would
// wait on them: every case's backends are ended when it ends, however it ended.
afterEach(() => {
  const pids = sessions.splice(0).map((s) => s.pid).filter((p) => p > 0);
  if (pids.length && pg) pg.query(`select pg_terminate_backend(pid) from pg_stat_activity where pid in (${pids.join(', ')})`);
});

async function session(): Promise<Session> {
  const s = await pg.session();
  sessions.push(s);
  return s;
}

/** What PostgreSQL itself says of the waiting backends: wait event, the lock asked for (pg_locks), pg_blocking_pids. */
function pgSays(): Map<number, { event: string; lock: Record<string, string>; blockedBy: number[] }> {
  const cols = ['locktype', 'database', 'relation', 'page', 'tuple', 'virtualxid', 'transactionid', 'classid', 'objid', 'objsubid', 'mode'];
  const rows = pg.query(
    `select a.pid, a.wait_event_type || '/' || a.wait_event, array_to_string(pg_blocking_pids(a.pid), ','), ${cols.map((c) => `coalesce(l.${c}::text, '')`).join(', ')}
     from pg_stat_activity a join pg_locks l on l.pid = a.pid and not l.granted where a.wait_event_type = 'Lock' order by a.pid`,
  );
  return new Map(rows.map((r) => [Number(r[0]), {
    event: r[1]!,
    blockedBy: r[2] ? r[2].split(',').map(Number).sort((a, b) => a - b) : [],
    lock: Object.fromEntries(cols.map((c, i) => [c, r[3 + i]!]).filter(([, v]) => v !== '')),
  }]));
}

/** shmscope's PostgreSQL waits in pg_locks' terms, compared with PostgreSQL's own answer read around it. */
function compare(waiting: number[]): Report {
  const before = pgSays();
  const r = cli(['waits', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const after = pgSays();
  assert.deepEqual(after, before, 'PostgreSQL\'s answer did not move while shmscope read');
  assert.deepEqual([...before.keys()], [...waiting].sort((a, b) => a - b), 'the sessions that should wait do');
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(report.notes, []);
  const mine = report.waits.filter((w) => w.postgres?.waitEventType === 'Lock');
  assert.deepEqual(mine.map((w) => w.pid).sort((a, b) => a - b), [...before.keys()], 'every lock wait is there, and no other');
  for (const w of mine) {
    const p = before.get(w.pid)!;
    const got = w.postgres!;
    assert.equal(`${got.waitEventType}/${got.waitEvent}`, p.event, `pid ${w.pid}'s wait event`);
    assert.equal(w.path, p.event);
    const { mode, ...tag } = got.lock!;
    assert.deepEqual(Object.fromEntries(Object.entries({ ...tag, mode }).map(([k, v]) => [k, String(v)])), p.lock, `pid ${w.pid}'s lock as pg_locks shows it`);
    assert.deepEqual(got.blockedBy, p.blockedBy, `pid ${w.pid}: pg_blocking_pids`);
    assert.deepEqual(w.heldBy.map((h) => h.pid).sort((a, b) => a - b), p.blockedBy, 'the blockers are the wait\'s holders (the graph\'s edges)');
    assert.equal(w.tid, w.pid);
    assert.match(w.object.target ?? '', /^anon:\d+$/, 'the lock is in the server\'s main region');
    assert.match(w.syscall, /^epoll_wait|^epoll_pwait/, 'a lock wait sleeps on the latch');
  }
  return report;
}

async function blocked(s: Session, sql: string): Promise<void> {
  s.send(sql);
  // The same view compare() reads: the wait event and the lock asked for in pg_locks (the two are
  // not set in one instant, so waiting for the first alone could compare before the second).
  await until(`pid ${s.pid} waits for a lock`, () => pgSays().has(s.pid), 30_000);
}

describe('PostgreSQL waits from its shared memory alone', () => {
  it('the shipped schema is what shmscope import makes of the server\'s headers, with the C compiler\'s layouts', () => {
    assert.ok(ensureHeaders(15), 'postgresql-server-dev-15 is installed (the test installs it as root with apt)');
    const text = importSchema(15);
    assert.equal(readFileSync(schemaFile(15), 'utf8'), text, `schemas/postgresql-15.shms is not what shmscope import makes of ${WRAPPER}: run node --import tsx scripts/postgres-schema.ts`);
    assert.equal(readFileSync(namesFile(15), 'utf8'), namesText(15, text), 'the names table is not what the headers give');
    // Every size and offset the decoder reads, against gcc's sizeof and offsetof of the same headers.
    const L = layoutFor(15)!;
    const checks: [string, number][] = [
      ['sizeof(PGShmemHeader)', L.header.size], ['offsetof(PGShmemHeader, index)', L.header.index], ['sizeof(struct HASHHDR)', L.hash.size],
      ['offsetof(struct HASHHDR, max_bucket)', L.hash.maxBucket], ['offsetof(struct HASHHDR, sshift)', L.hash.sshift], ['sizeof(ShmemIndexEnt)', L.entry.size],
      ['offsetof(ShmemIndexEnt, location)', L.entry.location], ['sizeof(PROC_HDR)', L.procHeader.size], ['offsetof(PROC_HDR, allProcCount)', L.procHeader.allProcCount],
      ['sizeof(PGPROC)', L.proc.size], ['offsetof(PGPROC, sem)', L.proc.sem], ['offsetof(PGPROC, pid)', L.proc.pid], ['offsetof(PGPROC, waitLock)', L.proc.waitLock],
      ['offsetof(PGPROC, waitLockMode)', L.proc.waitLockMode], ['offsetof(PGPROC, wait_event_info)', L.proc.waitEventInfo], ['offsetof(PGPROC, lockGroupLeader)', L.proc.lockGroupLeader],
      ['sizeof(LOCK)', L.lock.size], ['offsetof(LOCK, procLocks)', L.lock.procLocks], ['offsetof(LOCK, waitProcs)', L.lock.waitProcs], ['sizeof(PROCLOCK)', L.procLock.size],
      ['offsetof(PROCLOCK, tag.myProc)', L.procLock.myProc], ['offsetof(PROCLOCK, holdMask)', L.procLock.holdMask], ['offsetof(PROCLOCK, lockLink)', L.procLock.lockLink],
      ['offsetof(LOCKTAG, locktag_field4)', L.tag.field4], ['offsetof(LOCKTAG, locktag_type)', L.tag.type],
    ];
    const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-pglayout-'));
    try {
      writeFileSync(path.join(dir, 'l.c'), `#include "${path.join(ROOT, WRAPPER)}"\n#include <stddef.h>\n#undef printf\nint printf(const char *, ...);\nint main(void) {\n${checks.map(([e]) => `  printf("%zu\\n", (size_t)${e});`).join('\n')}\n  return 0;\n}\n`);
      const cc = spawnSync('cc', ['-I', includeDir(15), '-o', path.join(dir, 'l'), path.join(dir, 'l.c')], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      const got = spawnSync(path.join(dir, 'l'), { encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
      assert.deepEqual(checks.map(([e, v]) => `${e} = ${v}`), checks.map(([e], i) => `${e} = ${got[i]}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a row lock: session B\'s UPDATE waits for A\'s transaction (Lock/transactionid), blocked by A, labelled "UPDATE waiting"', async () => {
    const [a, b] = [await session(), await session()];
    await a.run('begin; update t set v = 1 where id = 1;');
    await blocked(b, 'update t set v = 2 where id = 1;');
    const r = compare([b.pid]);
    const w = r.waits.find((x) => x.pid === b.pid)!;
    assert.equal(w.postgres!.waitEvent, 'transactionid');
    assert.deepEqual(w.postgres!.blockedBy, [a.pid]);
    assert.equal(w.postgres!.state, 'UPDATE waiting');
    assert.equal(w.heldBy[0]!.state, 'idle in transaction');
    const text = cli(['waits']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${b.pid} +${b.pid} +postgres: UPDATE waiting .*Lock/transactionid +PostgreSQL ShareLock on transactionid \\d+ +${a.pid}/${a.pid} postgres: idle in transaction`));
    await a.run('rollback;');
    await b.run('select 1;');
  });

  it('LOCK TABLE: a SELECT waits for the table (Lock/relation, AccessShareLock), blocked by the session holding ACCESS EXCLUSIVE', async () => {
    const [a, b] = [await session(), await session()];
    await a.run('begin; lock table t in access exclusive mode;');
    await blocked(b, 'select count(*) from t;');
    const w = compare([b.pid]).waits.find((x) => x.pid === b.pid)!;
    assert.deepEqual([w.postgres!.waitEvent, w.postgres!.lock!.mode, w.postgres!.blockedBy], ['relation', 'AccessShareLock', [a.pid]]);
    await a.run('rollback;');
    await b.run('select 1;');
  });

  it('an advisory lock: pg_advisory_lock(42) waits (Lock/advisory) for the session that holds it', async () => {
    const [a, b] = [await session(), await session()];
    await a.run('select pg_advisory_lock(42);');
    await blocked(b, 'select pg_advisory_lock(42);');
    const w = compare([b.pid]).waits.find((x) => x.pid === b.pid)!;
    assert.deepEqual([w.postgres!.waitEvent, w.postgres!.lock!.objid, w.postgres!.blockedBy], ['advisory', 42, [a.pid]]);
    await a.run('select pg_advisory_unlock(42);');
    await b.run('select pg_advisory_unlock(42);');
  });

  it('a chain of three: C waits for the row\'s tuple lock held by B, B for A\'s transaction; edges C → B → A', async () => {
    const [a, b, c] = [await session(), await session(), await session()];
    await a.run('begin; update t set v = 10 where id = 2;');
    await blocked(b, 'update t set v = 20 where id = 2;');
    await blocked(c, 'update t set v = 30 where id = 2;');
    const r = compare([b.pid, c.pid]);
    const by = (pid: number) => r.waits.find((x) => x.pid === pid)!;
    assert.deepEqual([by(b.pid).postgres!.waitEvent, by(b.pid).heldBy.map((h) => h.pid)], ['transactionid', [a.pid]]);
    assert.deepEqual([by(c.pid).postgres!.waitEvent, by(c.pid).heldBy.map((h) => h.pid)], ['tuple', [b.pid]]);
    await a.run('rollback;');
    await b.run('select 1;');
    await c.run('select 1;');
  });

  it('a server in a container (its own PID, IPC and mount namespace): the row lock wait and its blocker by our pids, the server\'s own in nsPid, as pg_blocking_pids says inside', async () => {
    const box = await Cluster.start(54332, [], { container: true });
    try {
      box.query('create table t (id int primary key, v int); insert into t values (1, 0);');
      const [a, b] = [await box.session(), await box.session()];
      await a.run('begin; update t set v = 1 where id = 1;');
      b.send('update t set v = 2 where id = 1;');
      await until(`pid ${b.pid} waits for a lock`, () => box.query(`select wait_event_type from pg_stat_activity where pid = ${b.pid}`)[0]?.[0] === 'Lock', 30_000);
      const inside = () => box.query(`select array_to_string(pg_blocking_pids(${b.pid}), ',')`)[0]![0]!.split(',').map(Number);
      const blockersBefore = inside();
      const r = cli(['waits', '--json']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(inside(), blockersBefore, 'PostgreSQL\'s answer did not move while shmscope read');
      assert.deepEqual(blockersBefore, [a.pid]);
      const [hostA, hostB] = [box.hostPid(a.pid), box.hostPid(b.pid)];
      assert.ok(hostA && hostB && hostA !== a.pid && hostB !== b.pid, `the sessions' backends count other pids here (${hostA}, ${hostB}) than inside (${a.pid}, ${b.pid})`);
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(report.notes, [], 'the container\'s server is read (its version from its data directory), with nothing unexplained');
      const mine = report.waits.filter((w) => w.postgres?.waitEventType === 'Lock');
      assert.deepEqual(mine.map((w) => w.pid), [hostB], 'the one lock wait is the blocked backend, by our pid (never a process of ours named by the container\'s number)');
      const w = mine[0]!;
      assert.deepEqual([w.tid, w.postgres!.nsPid, w.postgres!.waitEvent, w.postgres!.state], [hostB, b.pid, 'transactionid', 'UPDATE waiting']);
      assert.deepEqual(w.postgres!.nsBlockedBy, blockersBefore, 'pg_blocking_pids as the server counts pids');
      assert.deepEqual(w.postgres!.blockedBy, [hostA], 'and as we do');
      assert.deepEqual(w.heldBy.map((h) => [h.pid, h.nsTid, h.state]), [[hostA, a.pid, 'idle in transaction']], 'the edge to the holder, by our pid');
      const postmaster = Number(readFileSync(path.join(box.dir, 'data', 'postmaster.pid'), 'latin1').split('\n')[0]);
      assert.equal(w.postgres!.postmaster, box.hostPid(postmaster), 'the postmaster by our pid');
      await a.run('rollback;');
      await b.run('select 1;');
    } finally {
      await box.stop();
    }
  });

  it('pgbench with contention: the region changes under every read, and each scan still answers: lock waits on pgbench\'s rows, blocked by pgbench backends', async () => {
    const conn = ['-h', pg.socket, '-p', String(pg.port), '-U', 'postgres'];
    const init = spawnSync(`${PG}/pgbench`, [...conn, '-i', '-s', '1', '-q', 'postgres'], { encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    // Eight clients on one branch row: at any moment most wait for another's transaction.
    const bench = spawn(`${PG}/pgbench`, [...conn, '-n', '-c', '8', '-j', '2', '-T', '300', 'postgres'], { stdio: 'ignore', detached: true });
    pg.children.push(bench);
    try {
      let seen: WaitJson[] = [];
      await until('a scan shows pgbench backends waiting for each other', () => {
        const r = cli(['waits', '--json']);
        assert.equal(r.status, 0, r.stderr);
        const report = JSON.parse(r.stdout) as Report;
        // A lock changing twice while read is said in a note of its own; anything else is not expected.
        for (const n of report.notes) assert.match(n, /^PostgreSQL 15 \(postmaster pid \d+\): pid \d+'s lock: /, n);
        seen = report.waits.filter((w) => w.postgres?.waitEventType === 'Lock');
        return seen.some((w) => w.heldBy.length > 0);
      }, 120_000);
      const clients = new Set(pg.query(`select pid from pg_stat_activity where application_name = 'pgbench'`).map((r) => Number(r[0])));
      for (const w of seen) {
        assert.ok(clients.has(w.pid), `pid ${w.pid} is a pgbench backend`);
        assert.match(w.postgres!.waitEvent, /^(transactionid|tuple|extend)$/);
        for (const h of w.heldBy) assert.ok(clients.has(h.pid), `its blocker ${h.pid} is one too`);
      }
    } finally {
      process.kill(-bench.pid!, 'SIGKILL');
    }
  });
  it('the main region found by one scan is opened again by the next without a search while it is that object; a server that made its shared memory anew (a backend killed) is found anew, never read stale', async () => {
    const serverPids = () => [...pg.query('select pid from pg_stat_activity').map((r) => Number(r[0])), Number(readFileSync(path.join(pg.dir, 'data', 'postmaster.pid'), 'latin1').split('\n')[0])];
    const victim = await session();
    const [first] = await postgresClusters(serverPids(), 10_000);
    assert.ok(first && first.backends.some((b) => b.pid === victim.pid), 'the server and its backend are read');
    const [again] = await postgresClusters(serverPids(), 10_000);
    // (psql's own backend of serverPids() comes and goes: the session's stays.)
    assert.deepEqual([again?.inode, again?.backends.some((b) => b.pid === victim.pid)], [first.inode, true], 'the same region, read again');
    // A backend killed with -9: the postmaster ends the others and makes its shared memory anew.
    process.kill(victim.pid, 'SIGKILL');
    await until('the server has restarted its shared memory and accepts connections again', () => spawnSync(`${PG}/pg_isready`, ['-q', '-h', pg.socket, '-p', String(pg.port)]).status === 0 && spawnSync(`${PG}/psql`, ['-h', pg.socket, '-p', String(pg.port), '-U', 'postgres', '-X', '-c', 'select 1']).status === 0, 60_000);
    const fresh = await session();
    const [after] = await postgresClusters(serverPids(), 10_000);
    assert.ok(after, 'the server is still found');
    assert.notEqual(after.inode, first.inode, 'its new region, not the one an earlier scan found');
    assert.ok(after.backends.some((b) => b.pid === fresh.pid) && !after.backends.some((b) => b.pid === victim.pid), 'read from the new region: the new session\'s backend is there, the killed one is not');
    assert.deepEqual(after.notes, []);
  });
});
