// 200 random faults — truncate, remove, chmod, garbage, resize between 0 and 32 bytes — against
// objects that the explorer (listing), an inspector (reads and status polls) and two waits (a
// POSIX semaphore, a System V set) use at the same time, all in this process as in the extension
// host. Nothing may crash (a SIGBUS would end this process and the test), nothing may hang (every
// loop must come round again), and every error must be an IpcError that names its object.
import './namespace';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { setImmediate as tick } from 'node:timers/promises';
import { after, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { InspectorSession, type SessionHost } from '../../extension/src/inspector/session';
import type { Envelope } from '../../extension/src/shared/channel';
import { Created } from '../helpers/ipc';
import { untilWithin } from '../helpers/wait';

const made = new Created();
after(() => made.removeAll());

/** A small seeded generator, so that a failing run can be repeated (the seed is in the message). */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

it('200 random faults against objects in use by the explorer, an inspector and waits', async () => {
  const seed = Number(process.env.SHMSCOPE_STRESS_SEED ?? Date.now() % 1e9);
  const rand = prng(seed);
  const shmName = `/stress-shm-${process.pid}`;
  const semName = `/stress-sem-${process.pid}`;
  const shmFile = `/dev/shm${shmName}`;
  const semFile = `/dev/shm/sem.${semName.slice(1)}`;
  const make = {
    shm: () => ipc.createPosixShm({ name: shmName, size: 65536, mode: 0o666 }),
    sem: () => ipc.createPosixSem({ name: semName, value: 0, mode: 0o666 }),
  };
  make.shm();
  make.sem();
  made.track({ kind: 'posix-shm', name: shmName });
  made.track({ kind: 'posix-sem', name: semName });
  const set = made.sem(1, [0]);

  const errors: { who: string; error: unknown }[] = [];
  const rounds = { explorer: 0, inspector: 0, psemWait: 0, semWait: 0 };
  let done = false;
  // Each user does a few operations per fault, then waits for the next fault (an event, not a
  // time), so that a fast loop cannot starve the others of the event loop.
  let fault = 0;
  let nextFault!: () => void;
  let faulted = new Promise<void>((r) => (nextFault = r));
  const paced = async (who: keyof typeof rounds, op: () => Promise<void>) => {
    while (!done) {
      const at = fault;
      for (let k = 0; k < 3 && !done; k++) {
        await op();
        rounds[who]++;
      }
      if (fault === at && !done) await faulted;
    }
  };

  // The explorer: list everything, again and again.
  const explorer = paced('explorer', async () => {
    try {
      const l = await ipc.list();
      for (const s of l.posixSem) if (s.name === semName && s.unreadable) assert.match(s.unreadable, /^E[A-Z]+$/);
    } catch (error) {
      errors.push({ who: 'explorer', error });
    }
  });

  // An inspector on the POSIX object: reads of its first bytes and status polls.
  const posted: Envelope[] = [];
  const host: SessionHost = { post: (m) => posted.push(m), writeClipboard: () => Promise.resolve(), action: () => Promise.resolve(), log: () => {} };
  const session = new InspectorSession(ipc.openShm({ kind: 'posix-shm', name: shmName }), { target: `posix:${shmName}`, title: shmName, bytesPerRow: 16, refreshMs: 100 }, host);
  made.hold({ close: () => session.dispose() });
  await session.handle({ t: 'note', method: 'ready', params: {} });
  let requestId = 0;
  const inspector = paced('inspector', async () => {
    try {
      await session.handle({ t: 'req', id: ++requestId, method: 'read', params: { offset: rand(65536), length: 4096 } });
      session.pollStatus();
    } catch (error) {
      errors.push({ who: 'inspector', error });
    }
    await tick();
  });

  // Waits: a POSIX semaphore (posted now and then, so some waits succeed) and a System V set.
  const psemWaiter = paced('psemWait', async () => {
    try {
      if (rand(3) === 0) ipc.psemPost(semName);
      await ipc.psemWait(semName, { timeoutMs: 20 });
    } catch (error) {
      if (!(error instanceof ipc.IpcError && error.code === 'ETIMEDOUT')) errors.push({ who: 'psemWait', error });
    }
    await tick();
  });
  const semWaiter = paced('semWait', async () => {
    try {
      await ipc.semWait(set.id, 0, { timeoutMs: 20 });
    } catch (error) {
      if (!(error instanceof ipc.IpcError && error.code === 'ETIMEDOUT')) errors.push({ who: 'semWait', error });
    }
    await tick();
  });

  // The faults, each after every user has come round at least once since the last one.
  const faults: string[] = [];
  const until = untilWithin(20_000);
  let explorerSeen = 0;
  for (let i = 0; i < 200; i++) {
    const file = rand(2) === 0 ? shmFile : semFile;
    const kind = ['truncate', 'remove', 'chmod', 'garbage', 'resize'][rand(5)]!;
    faults.push(`${kind} ${file}`);
    try {
      if (!existsSync(file)) (file === shmFile ? make.shm : make.sem)();
      switch (kind) {
        case 'truncate': truncateSync(file, rand(2) ? 0 : rand(65536)); break;
        case 'remove': unlinkSync(file); break;
        case 'chmod': chmodSync(file, [0, 0o400, 0o666][rand(3)]!); break;
        case 'garbage': writeFileSync(file, Buffer.from(Array.from({ length: 32 }, () => rand(256)))); break;
        case 'resize': truncateSync(file, rand(33)); break;
      }
      if (rand(4) === 0) ipc.semSetValue(set.id, 0, rand(2));
    } catch (e) {
      assert.fail(`the fault itself failed (${kind} ${file}): ${(e as Error).message}`);
    }
    const seen = { ...rounds };
    fault++;
    nextFault();
    faulted = new Promise<void>((r) => (nextFault = r));
    // A listing (a /proc scan) costs far more than a read or a wait: the explorer lists all along,
    // and must have come round again at every fourth fault.
    await until(`every user comes round after fault ${i} (${kind} ${file}; seed ${seed})`, () =>
      (i % 4 !== 3 || rounds.explorer > explorerSeen) && rounds.inspector > seen.inspector && rounds.psemWait > seen.psemWait && rounds.semWait > seen.semWait);
    if (i % 4 === 3) explorerSeen = rounds.explorer;
  }
  process.stderr.write(`stress: ${JSON.stringify(rounds)} rounds, ${errors.length} errors\n`);
  done = true;
  nextFault();
  await Promise.all([explorer, inspector, psemWaiter, semWaiter]);

  // Every error is an IpcError naming its object; the inspector's error replies name it too.
  for (const { who, error } of errors) {
    assert.ok(error instanceof ipc.IpcError, `${who}: not an IpcError (seed ${seed}): ${(error as Error)?.stack ?? String(error)}`);
    const name = who === 'psemWait' ? semName : who === 'semWait' ? `semaphore set ${set.id}` : who === 'inspector' ? shmName : '';
    assert.ok(error.message.includes(name), `${who}: "${error.message}" does not name ${name} (seed ${seed})`);
  }
  const replies = posted.filter((m) => m.t === 'err');
  for (const r of replies) assert.ok(r.t === 'err' && r.message.includes(shmName), `inspector reply "${r.t === 'err' ? r.message : ''}" does not name ${shmName}`);
  // The faults did reach the users: some waits and some reads failed.
  assert.ok(errors.some((e) => e.who === 'psemWait'), `no wait saw a fault (seed ${seed})`);
  const statuses = posted.flatMap((m) => (m.t === 'note' && m.method === 'status' ? [m.params as { problem?: string }] : []));
  assert.ok(statuses.length > 0, `the inspector saw no size change or removal (seed ${seed})`);
  for (const m of statuses) assert.ok(m.problem?.includes(shmName), `status "${m.problem ?? ''}" does not name ${shmName}`);
});
