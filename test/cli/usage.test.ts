// `shmscope df`, `gc`, `limits` and the verdicts of `list --json`, on real objects in namespaces of
// the test's own (IPC, mount and pid, with its own /proc: only its own processes are there to read):
// a POSIX object held only by an open descriptor, one mapped, one nobody holds; a System V segment
// whose creator exited and one whose creator runs; and a "container" (a nested IPC + mount
// namespace) whose 64 MiB /dev/shm is filled past 90 % by a file nobody holds. Everything dies with
// the namespaces.
import { reexecInNamespaces } from '../helpers/private-ns';

reexecInNamespaces(
  'SHMSCOPE_USAGE_NAMESPACE',
  { name: 'shmscope-usage', shmSize: '256m', mqueue: 'create', pid: true },
  'the df/gc tests need their own IPC, mount and pid namespace',
);

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { cli, ensureBuilt, ROOT } from '../helpers/ipc';

const HOLDER = path.join(ROOT, 'test', 'fixtures', 'usage', 'holder.py');
const CONTAINER_FILL = 61_000_000; // of a 64 MiB tmpfs: 90.9 %
const children: ChildProcess[] = [];

/** Starts a process and resolves with its first line of output, parsed as JSON when it is. */
async function start(cmd: string, args: string[]): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited (${code}) before it was ready`)));
  });
  return { child, ready: first.startsWith('{') ? (JSON.parse(first) as Record<string, unknown>) : { line: first } };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

let fdHolder: number;
let mapper: number;
let liveSysv: number;
let deadSysv: number;
let container: number;
let mqHolder: number;

before(async () => {
  ensureBuilt();
  fdHolder = (await start('python3', [HOLDER, 'fd', 'u-fdonly', '65536'])).ready.pid as number;
  mapper = (await start('python3', [HOLDER, 'map', 'u-mapped', '131072'])).ready.pid as number;
  liveSysv = (await start('python3', [HOLDER, 'sysv', '8192'])).ready.id as number;
  const dead = await start('python3', [HOLDER, 'sysv-exit', '16384']);
  deadSysv = dead.ready.id as number;
  await exited(dead.child); // reaped: its pid is gone, not a zombie
  writeFileSync('/dev/shm/u-left', Buffer.alloc(4096, 1));
  mqHolder = (await start('python3', [HOLDER, 'mq', '/u-mq-held'])).ready.pid as number;
  const mqDead = await start('python3', [HOLDER, 'mq-exit', '/u-mq-left']);
  await exited(mqDead.child);
  const c = await start('unshare', ['--ipc', '--mount', '--fork', 'sh', '-c',
    `mount -t tmpfs -o size=64m shmscope-container /dev/shm && head -c ${CONTAINER_FILL} /dev/zero > /dev/shm/fill && echo ready && exec cat`]);
  assert.equal(c.ready.line, 'ready');
  container = c.child.pid!;
  // A second container whose /dev/shm is not a tmpfs (ramfs): not listed, so not measured.
  const odd = await start('unshare', ['--ipc', '--mount', '--fork', 'sh', '-c', 'mount -t ramfs shmscope-ramfs /dev/shm && echo ready && exec cat']);
  assert.equal(odd.ready.line, 'ready');
});

after(async () => {
  for (const c of children) c.stdin?.end();
  await Promise.all(children.map(exited));
});

interface Obj { target: string; name: string; size: number; resident: number | null; holders: { pid: number; how: string }[]; verdict: string; reasons: string[] }
interface Mount { path: string; namespace: { pid: number; label: string } | null; size: number; used: number; available: number; percent: number; objects: Obj[] }

function json<T>(args: string[]): T {
  const r = cli(args);
  assert.equal(r.status, 0, `shmscope ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('verdicts, df, gc and limits on real objects', () => {
  it('list --json: an object held only by an open descriptor is in use and names its holder; one nobody holds is a leftover', () => {
    const l = json<{ posixShm: (Obj & { fdHolders: { pid: number; fd: number }[] })[]; shm: (Obj & { id: number; locked: boolean })[] }>(['list', '--json']);
    const fdOnly = l.posixShm.find((r) => r.name === '/u-fdonly')!;
    assert.equal(fdOnly.verdict, 'in use', fdOnly.reasons.join('; '));
    assert.deepEqual(fdOnly.fdHolders.map((h) => h.pid), [fdHolder]);
    assert.match(fdOnly.reasons.join('; '), new RegExp(`held open \\(a descriptor, not mapped\\) by pid ${fdHolder} \\(python3\\)`));
    assert.equal(l.posixShm.find((r) => r.name === '/u-mapped')!.verdict, 'in use');
    const left = l.posixShm.find((r) => r.name === '/u-left')!;
    assert.equal(left.verdict, 'leftover', left.reasons.join('; '));
    assert.match(left.reasons.join('; '), /no process maps it or holds it open/);
    const dead = l.shm.find((r) => r.id === deadSysv)!;
    assert.equal(dead.verdict, 'leftover');
    assert.match(dead.reasons[0]!, /^created by pid \d+, exited$/);
    assert.equal(l.shm.find((r) => r.id === liveSysv)!.verdict, 'in use');
    assert.equal(dead.locked, false);
    const mq = json<{ posixMq: (Obj & { fdHolders: { pid: number }[] })[] }>(['list', '--json']).posixMq;
    const held = mq.find((r) => r.name === '/u-mq-held')!;
    assert.equal(held.verdict, 'in use', held.reasons.join('; '));
    assert.deepEqual(held.fdHolders.map((h) => h.pid), [mqHolder]);
    assert.equal(mq.find((r) => r.name === '/u-mq-left')!.verdict, 'leftover');
    // Asked for queues alone, no process is read: whether one is held is not known.
    assert.equal(json<{ posixMq: Obj[] }>(['list', '--json', '--kind', 'posix-mq']).posixMq.find((r) => r.name === '/u-mq-left')!.verdict, 'unknown');
  });

  it('list --json --memory: resident, swapped and PSS bytes per object, from its mapper\'s smaps', () => {
    const l = json<{ posixShm: { name: string; resident: number | null; swapped: number | null; pss: number | null }[] }>(['list', '--json', '--memory', '--kind', 'posix-shm']);
    const mapped = l.posixShm.find((r) => r.name === '/u-mapped')!;
    assert.deepEqual([mapped.resident, mapped.swapped, mapped.pss], [131072, 0, 131072]);
    const fdOnly = l.posixShm.find((r) => r.name === '/u-fdonly')!;
    assert.deepEqual([fdOnly.resident, fdOnly.pss], [0, null], 'nobody maps it: its file\'s pages, no PSS');
  });

  it('rm names a POSIX object\'s descriptor holders before it removes anything', () => {
    const r = cli(['rm', 'posix:/u-fdonly']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`holders: pid ${fdHolder} \\(an open descriptor\\)`));
    assert.ok(existsSync('/dev/shm/u-fdonly'));
  });

  it('df --json: our /dev/shm and the container\'s own, sizes and use, objects biggest first with memory, holders and verdicts', () => {
    const df = json<{ mounts: Mount[]; sysv: { segments: number; bytes: number; objects: Obj[] } }>(['df', '--json', '--namespace', 'all']);
    const ours = df.mounts.find((m) => m.path === '/dev/shm' && m.namespace === null)!;
    assert.equal(ours.size, 256 * 1024 * 1024);
    // Biggest first by the memory they take: the descriptor-only object was sized, never written.
    assert.deepEqual(ours.objects.map((o) => [o.name, o.resident]), [['/u-mapped', 131072], ['/u-left', 4096], ['/u-fdonly', 0]]);
    const mapped = ours.objects[0]!;
    assert.equal(mapped.resident, 131072, 'every page of the mapped object is resident in its mapper');
    assert.deepEqual(mapped.holders.map((h) => [h.pid, h.how]), [[mapper, 'map']]);
    assert.deepEqual(ours.objects[2]!.holders.map((h) => [h.pid, h.how]), [[fdHolder, 'fd']]);
    const theirs = df.mounts.find((m) => m.namespace !== null)!;
    assert.ok(theirs, 'the container\'s /dev/shm is listed');
    assert.ok(theirs.namespace!.pid > 0);
    assert.equal(theirs.size, 64 * 1024 * 1024);
    assert.ok(theirs.percent >= 90 && theirs.percent < 92, `percent ${theirs.percent}`);
    assert.equal(theirs.objects[0]!.name, '/fill');
    assert.equal(theirs.objects[0]!.size, CONTAINER_FILL);
    assert.equal(theirs.objects[0]!.verdict, 'leftover');
    assert.equal(df.sysv.segments, 2);
    assert.equal(df.sysv.bytes, 8192 + 16384);
    assert.deepEqual(df.sysv.objects.map((o) => o.verdict).sort(), ['in use', 'leftover']);
  });

  it('df --fail-over: past the threshold exits 3 with one line naming the mount and what fills it; under it, 4 while a container\'s /dev/shm could not be measured, else 0', () => {
    const r = cli(['df', '--namespace', 'all', '--fail-over', '80']);
    assert.equal(r.status, 3, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^shmscope: \/dev\/shm of container .* \(pid \d+\) is 9\d\.\d % full, over 80 %: \/fill 58 MiB \(leftover\)/);
    const incomplete = cli(['df', '--namespace', 'all', '--fail-over', '95']);
    assert.equal(incomplete.status, 4, incomplete.stderr);
    assert.match(incomplete.stderr, /^shmscope: no mount is over 95 %, but the \/dev\/shm of 1 container\(s\) could not be measured \(.*its \/dev\/shm is not a tmpfs\)\n$/);
    assert.equal(cli(['df', '--fail-over', '95']).status, 0, 'our own namespace only: complete, and under the threshold');
    assert.equal(cli(['df', '--fail-over', 'lots']).status, 1);
  });

  it('limits --json: each limit with its use', () => {
    const l = json<{ limits: { name: string; value: number | string; used: number | null }[] }>(['limits', '--json']);
    assert.equal(l.limits.find((x) => x.name === 'shmmni')!.used, 2);
    assert.equal(l.limits.find((x) => x.name === '/dev/shm')!.value, 256 * 1024 * 1024);
  });

  it('gc: a dry run lists exactly the leftovers; --yes removes exactly those, in the container too, and leaves every object in use', () => {
    const dry = json<{ candidates: { target: string; size: number; namespace: unknown }[]; freed?: number }>(['gc', '--json', '--namespace', 'all']);
    assert.deepEqual(dry.candidates.map((c) => c.target), ['posix:/fill', `shm:${deadSysv}`, 'posix:/u-left', 'mq:/u-mq-left']);
    assert.equal(dry.freed, undefined);
    assert.ok(existsSync('/dev/shm/u-left'), 'a dry run removes nothing');
    const onlyShm = json<{ candidates: { target: string }[] }>(['gc', '--json', '--kind', 'shm']);
    assert.deepEqual(onlyShm.candidates.map((c) => c.target), [`shm:${deadSysv}`]);
    const done = json<{ candidates: { target: string; error: string | null }[]; freed: number }>(['gc', '--json', '--yes', '--namespace', 'all']);
    assert.deepEqual(done.candidates.map((c) => c.error), [null, null, null, null]);
    assert.equal(done.freed, CONTAINER_FILL + 16384 + 4096);
    assert.ok(!existsSync('/dev/shm/u-left'));
    for (const name of ['u-fdonly', 'u-mapped']) assert.ok(existsSync(`/dev/shm/${name}`), `${name} is in use and stays`);
    assert.ok(existsSync('/dev/mqueue/u-mq-held') && !existsSync('/dev/mqueue/u-mq-left'));
    const after = json<{ mounts: Mount[]; sysv: { objects: Obj[] } }>(['df', '--json', '--namespace', String(container)]);
    assert.deepEqual(after.sysv.objects.map((o) => o.target), [`shm:${liveSysv}`]);
    assert.deepEqual(after.mounts.find((m) => m.namespace !== null)!.objects, []);
    assert.deepEqual(json<{ candidates: unknown[] }>(['gc', '--json', '--namespace', 'all']).candidates, []);
  });
});
