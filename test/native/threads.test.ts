// The native thread scanner on a busy machine: threads that start and end while it reads /proc
// are skipped, never an error; what it may not read (as another user) is counted, not guessed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { binding } from '../../extension/src/ipc/native';
import { cli, ensureBuilt } from '../helpers/ipc';

const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-threads-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(() => ensureBuilt());

// Creates and joins short-lived threads as fast as it can, after saying "ready".
const CHURN = `#include <pthread.h>
#include <stdio.h>
static void *nothing(void *a) { return a; }
int main(void) {
  printf("ready\\n"); fflush(stdout);
  for (;;) { pthread_t t[16]; for (int i = 0; i < 16; i++) pthread_create(&t[i], 0, nothing, 0); for (int i = 0; i < 16; i++) pthread_join(t[i], 0); }
}`;

describe('thread scanner', () => {
  it('survives threads that end mid-scan and reports the ones that stay with their state', async () => {
    const src = path.join(tmp, 'churn.c');
    writeFileSync(src, CHURN);
    const exe = path.join(tmp, 'churn');
    assert.equal(spawnSync('cc', ['-O2', '-pthread', '-o', exe, src]).status, 0);
    const child = spawn(exe, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      for await (const line of createInterface({ input: child.stdout })) if (line === 'ready') break;
      let sawChurner = 0;
      for (let i = 0; i < 30; i++) {
        // A deadline no load reaches: this test is about churn, not speed.
        const r = await binding().scanThreads(600_000);
        assert.ok(r.threads.length > 0);
        for (const t of r.threads) {
          assert.ok(Number.isInteger(t.pid) && t.pid > 0 && Number.isInteger(t.tid) && t.tid > 0);
          assert.equal(typeof t.comm, 'string');
          assert.equal(t.state.length, 1);
        }
        if (r.threads.some((t) => t.pid === child.pid)) sawChurner++;
      }
      assert.equal(sawChurner, 30, 'the main thread of the churning process is always seen');
      const self = (await binding().scanThreads(600_000)).threads.find((t) => t.tid === process.pid);
      assert.ok(self && self.pid === process.pid, 'this process is listed by its own pid');
    } finally {
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    }
  });

  it('answers by its deadline with what it has read, naming the processes it did not get to', async () => {
    // How much a 1 ms deadline reads depends on the machine and its load (the bench measures scans);
    // what holds on any machine: a process named as not read is not listed, and without a tight
    // deadline the scan is complete.
    const r = await binding().scanThreads(1);
    assert.ok(r.slow.every((p) => Number.isInteger(p) && p > 0));
    const read = new Set(r.threads.map((t) => t.pid));
    assert.ok(r.slow.every((p) => !read.has(p)), 'a slow process is not also listed');
    const full = await binding().scanThreads(600_000);
    assert.deepEqual([full.complete, full.slow], [true, []]);
    assert.ok(full.threads.some((t) => t.tid === process.pid));
  });

  it('counts the threads another user may not read, and still answers', () => {
    const r = cli(['waits', '--json'], { asNobody: true });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.ok(doc.unreadable > 0, `unreadable ${doc.unreadable}`);
    assert.ok(Array.isArray(doc.waits));
  });
});
