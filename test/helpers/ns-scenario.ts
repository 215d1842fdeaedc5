// Runs inside a private IPC + mount namespace (test/native/namespaces.test.ts starts it under
// `unshare`), which plays the host: it makes a private segment there, starts a process in a second,
// nested IPC + mount namespace attached to its own private segment with the same id, and prints
// what the façade and the CLI say about both as one JSON line. Everything it makes dies with the
// namespaces.
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import * as ipc from '../../extension/src/ipc';
import { CLI } from './ipc';
import { buildRegions, Fixture } from './regions';
import { untilWithin } from './wait';

/** Each wait of the scenario ends well inside the test's own 240 s guard. */
const until = untilWithin(60_000);

async function main() {
  const hostId = ipc.createShm({ key: 0, size: 4096, mode: 0o600 });
  const host = ipc.openShm({ kind: 'shm', id: hostId }, { readWrite: true });
  host.write(0, Buffer.from('HOSTSEG!'));
  const bin = buildRegions();
  const inner = new Fixture(
    spawn('unshare', ['--ipc', '--mount', '--fork', 'sh', '-c', `mount -t tmpfs none /dev/shm && exec 3<&0 && { ${bin} file /dev/shm/inner-obj 4096 <&3 >/dev/null & } && exec ${bin} sysv 4096 3<&-`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  try {
    const ready = await inner.ready();
    // The inner /dev/shm object is mapped by a second fixture (and its child): wait until both show.
    await until('both mappers of the inner /dev/shm object show', async () => {
      const l = await ipc.list(['shm'], { namespaces: ready.pid });
      return (l.namespaces?.[0]?.posixShm[0]?.attachedBy.length ?? 0) >= 2;
    });
    // A listing whose scan reached every process of the scenario's two namespaces within its
    // budget: on a loaded machine (load average 19) one scan can run out of its 2 s and leave one
    // of them out, which the listing says (`slow`, or the nested namespace unlisted with
    // ETIMEDOUT); then it is asked again. The machine's own processes may stay slow: no assertion
    // is about them.
    const ipcOf = (pid: number) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/ipc`);
      } catch {
        return undefined; // gone
      }
    };
    const ours = new Set([ipcOf(process.pid), ipcOf(ready.pid)]);
    const listing = await until('a listing that read every process of the scenario in time', async () => {
      const l = await ipc.list(undefined, { namespaces: 'all' });
      const reached = (l.slow ?? []).every((pid) => !ours.has(ipcOf(pid))) && (l.namespaces ?? []).every((n) => `ipc:[${n.namespace.ipc}]` !== ipcOf(ready.pid) || n.unlisted !== 'ETIMEDOUT');
      return reached ? l : undefined;
    });
    const nsBytes = Buffer.from(await ipc.nsShmRead(ready.pid, ready.id!, 0, 12)).toString('latin1');
    const dump = spawnSync(process.execPath, [CLI, 'dump', `shm:${ready.id}`, '--namespace', String(ready.pid), '--format', 'raw'], { encoding: 'latin1' });
    const listText = spawnSync(process.execPath, [CLI, 'list', '--namespace', String(ready.pid)], { encoding: 'utf8' });
    const rmNo = spawnSync(process.execPath, [CLI, 'rm', `shm:${ready.id}`, '--namespace', String(ready.pid)], { encoding: 'utf8' });
    const rm = spawnSync(process.execPath, [CLI, 'rm', `shm:${ready.id}`, '--namespace', String(ready.pid), '--yes'], { encoding: 'utf8' });
    const ns = ['--namespace', String(ready.pid)];
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const semBefore = run(['sem', `sem:${ready.sem}`, 'get', '--json', ...ns]);
    const semPost = run(['sem', `sem:${ready.sem}`, 'post', '1', ...ns]);
    const semSet = run(['sem', `sem:${ready.sem}`, 'set', '0', '9', ...ns]);
    const semAfter = run(['sem', `sem:${ready.sem}`, 'get', '--json', ...ns]);
    const semWait = run(['sem', `sem:${ready.sem}`, 'wait', ...ns]);
    const peek = run(['peek', `msg:${ready.msg}`, '--json', ...ns]);
    const peekAgain = run(['peek', `msg:${ready.msg}`, '--index', '0', '--json', ...ns]);
    const after = await ipc.list(['shm'], { namespaces: ready.pid });
    const innerIpc = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${ready.pid}/ns/ipc`))![1]);
    process.stdout.write(
      `${JSON.stringify({
        self: process.pid,
        hostId,
        inner: ready,
        shm: listing.shm,
        innerIpc,
        namespaces: listing.namespaces,
        nsBytes,
        dump: { status: dump.status, head: dump.stdout.slice(0, 12), stderr: dump.stderr },
        listText: { status: listText.status, stdout: listText.stdout, stderr: listText.stderr },
        rmNo: { status: rmNo.status, stderr: rmNo.stderr },
        rm: { status: rm.status, stderr: rm.stderr },
        sem: { before: semBefore.stdout, post: semPost.status, set: semSet.status, after: semAfter.stdout, errors: semBefore.stderr + semPost.stderr + semSet.stderr, wait: { status: semWait.status, stderr: semWait.stderr } },
        peek: { status: peek.status, stdout: peek.stdout, stderr: peek.stderr, again: peekAgain.stdout },
        msgAfter: after.namespaces?.[0]?.msg.map((m) => m.messages) ?? null,
        afterRm: after.namespaces?.[0]?.shm.map((s) => ({ id: s.id, removed: s.removed })) ?? null,
      })}\n`,
    );
  } finally {
    await inner.stop();
    host.close();
    ipc.remove({ kind: 'shm', id: hostId });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
