// The Waits view and the Wait-for Graph in a real workbench, on a real AB–BA deadlock: two C
// processes (test/fixtures/waits/waiters.c) each hold one process-shared mutex of a System V
// segment and block on the other's. The view must name both waits by field (a workspace schema
// binds the segment), their holders and the deadlock; the explorer must count the waiters; the
// graph must draw the cycle in the error colour; a wait opens the inspector at its offset.
// Screenshots of the view and of the graph are always kept (.test-artifacts/editor/waits*.png).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as ipc from '../../../extension/src/ipc';
import { scanWaits } from '../../../extension/src/analysis';
import { untilWithin } from '../../helpers/wait';
import { failureStep, inspectorFrame, openWorkbench, palette, ROOT, screenshot, treeRow, type OpenWorkbench } from './driver';

const WAIT = 30_000;
const until = untilWithin(WAIT);
const tmp = mkdtempSync(path.join(tmpdir(), 'shmscope-ui-waits-'));
const children: ChildProcess[] = [];
let opened: OpenWorkbench | undefined;
let page: Page;
let shmId = 0;
/** Not made yet: -1 (in the tests' IPC namespace of their own the first set made is id 0). */
let semId = -1;
let selfSemId = -1;
let exe = '';
const key = (0x57000000 | (process.pid & 0xffff)) >>> 0;
const step = failureStep('waits', { page: () => page, workbench: () => opened?.wb });

async function start(exe: string, ...args: string[]): Promise<{ pid: number; tid: number; child: ChildProcess }> {
  const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^ready (\d+) (\d+)$/.exec(line);
    if (m) return { pid: Number(m[1]), tid: Number(m[2]), child };
  }
  throw new Error(`${args.join(' ')} exited before it was ready`);
}

describe('Waits view and Wait-for Graph in the workbench', () => {
  let ab = { pid: 0, tid: 0 };
  let ba = { pid: 0, tid: 0 };

  before(async () => {
    exe = path.join(tmp, 'waiters');
    const cc = spawnSync('cc', ['-std=gnu11', '-pthread', '-o', exe, path.join(ROOT, 'test', 'fixtures', 'waits', 'waiters.c'), '-lrt'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    shmId = ipc.createShm({ key, size: 4096, mode: 0o600 });
    assert.equal(spawnSync(exe, ['init', String(shmId)]).status, 0);
    const folder = path.join(tmp, 'workspace');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'locks.shms'), `struct Locks { pthread_mutex_t a; pthread_mutex_t b; pthread_barrier_t both; pthread_mutex_t plain;
  pthread_mutex_t robust; pthread_cond_t cv; pthread_mutex_t cvm; uint64_t self_ptr; };
segment W for key 0x${key.toString(16)} { Locks locks @ 0; };
`);
    [ab, ba] = await Promise.all([start(exe, 'ab', String(shmId)), start(exe, 'ba', String(shmId))]);
    await until('both threads block in the kernel', async () => {
      const r = await scanWaits();
      return r.waits.some((w) => w.tid === ab.tid) && r.waits.some((w) => w.tid === ba.tid);
    });
    opened = await openWorkbench({ root: ROOT, folder, settings: { 'shmscope.waits.refreshMs': 1000 } });
    page = opened.page;
  });

  after(async () => {
    await opened?.close();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : Promise.resolve())));
    try {
      if (ipc.exists({ kind: 'shm', id: shmId })) ipc.remove({ kind: 'shm', id: shmId });
      if (semId >= 0 && ipc.exists({ kind: 'sem', id: semId })) ipc.remove({ kind: 'sem', id: semId });
      if (selfSemId >= 0 && ipc.exists({ kind: 'sem', id: selfSemId })) ipc.remove({ kind: 'sem', id: selfSemId });
    } catch {
      /* gone */
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows each blocked process, the field it waits on, its holder and the deadlock', () => step('view', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click({ timeout: 60_000 });
    const header = page.locator('.pane-header', { hasText: 'Waits' }).first();
    await header.waitFor({ timeout: WAIT });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const waitA = treeRow(page, `shm:${shmId} locks.a`);
    const waitB = treeRow(page, `shm:${shmId} locks.b`);
    await waitA.waitFor({ timeout: 60_000 });
    await waitB.waitFor({ timeout: WAIT });
    assert.match((await waitB.locator('.label-description').textContent()) ?? '', new RegExp(`^tid ${ab.tid} · mutex lock · deadlock$`));
    assert.match((await waitA.locator('.label-description').textContent()) ?? '', new RegExp(`^tid ${ba.tid} · mutex lock · deadlock$`));
    await treeRow(page, `pid ${ab.pid}`).waitFor({ timeout: WAIT });
    await treeRow(page, `held by pid ${ba.pid}`).waitFor({ timeout: WAIT });
    await treeRow(page, `held by pid ${ab.pid}`).waitFor({ timeout: WAIT });
    // Every other blocked thread (pipes, sockets, event loops, sleeps) is one group after the processes, collapsed.
    const others = treeRow(page, 'Other waits');
    await others.waitFor({ timeout: WAIT });
    assert.match((await others.locator('.label-description').textContent()) ?? '', /^\d+ threads? blocked outside IPC objects$/);
    assert.equal(await others.getAttribute('aria-expanded'), 'false');
    // The explorer's segment counts its waiters.
    const seg = treeRow(page, `key 0x${key.toString(16).padStart(8, '0')} · id ${shmId}`);
    await until('the explorer counts the waiters', async () => /· 2 waiting$/.test((await seg.locator('.label-description').textContent().catch(() => '')) ?? ''));
    console.log(`waits view screenshot: ${await screenshot(page, 'waits')}`);
  }));

  it('draws the Wait-for Graph with the cycle in the error colour', () => step('graph', async () => {
    await palette(page, 'Show Wait-for Graph', WAIT);
    const f = inspectorFrame(page);
    await f.locator('svg .node').first().waitFor({ timeout: 60_000 });
    // Other programs on the machine may wait too: look at ours only.
    const ours = (sel: string, text: string) => f.locator(sel, { hasText: text });
    await until('both threads are marked as in a deadlock', async () =>
      (await ours('.node.thread.deadlock', `pid ${ab.pid} · tid ${ab.tid}`).count()) === 1 && (await ours('.node.thread.deadlock', `pid ${ba.pid} · tid ${ba.tid}`).count()) === 1);
    assert.equal(await ours('.node.object', `shm:${shmId} locks.a`).count(), 1);
    assert.equal(await ours('.node.object', `shm:${shmId} locks.b`).count(), 1);
    assert.ok((await f.locator('.edge.cycle').count()) >= 4, 'two waits and two holds on the cycle');
    assert.match((await f.locator('#summary').textContent()) ?? '', /^\d+ waits · [1-9]\d* deadlocks?/);
    // The cycle's colour is the theme's error colour, not a literal (evaluated in the page: this
    // file is compiled without the DOM library).
    const probe = `(() => {
      const error = getComputedStyle(document.documentElement).getPropertyValue('--vscode-errorForeground').trim();
      const s = document.createElement('span');
      s.style.color = error;
      document.body.append(s);
      const resolved = getComputedStyle(s).color;
      s.remove();
      return { error, resolved, stroke: getComputedStyle(document.querySelector('.edge.cycle path')).stroke };
    })()`;
    const c = await f.locator('body').evaluate<{ error: string; resolved: string; stroke: string }, undefined>(probe);
    assert.notEqual(c.error, '', 'the theme defines errorForeground');
    assert.equal(c.stroke, c.resolved);
    console.log(`wait-for graph screenshot: ${await screenshot(page, 'waits-graph')}`);
  }));

  it('shows a wait on a lock whose owner died, and a consumer on semaphore 1 of a set of 2', () => step('dead-and-sem', async () => {
    const holder = await start(exe, 'hold', String(shmId));
    const gone = once(holder.child, 'exit');
    holder.child.kill('SIGKILL');
    await gone;
    const waiter = await start(exe, 'wait-plain', String(shmId));
    semId = ipc.createSemSet({ key: 0, nsems: 2, values: [3, 0], mode: 0o600 });
    const consumer = await start(exe, 'semop', String(semId), '1');
    const plain = treeRow(page, `shm:${shmId} locks.plain`);
    await plain.waitFor({ timeout: 60_000 });
    await until('the wait on the dead owner is marked', async () => /^tid \d+ · mutex lock · the holder is dead$/.test((await plain.locator('.label-description').textContent()) ?? ''));
    assert.match((await plain.locator('.label-description').textContent()) ?? '', new RegExp(`^tid ${waiter.tid} `));
    await treeRow(page, `held by pid ? · tid ${holder.tid} (dead)`).waitFor({ timeout: WAIT });
    const sem = treeRow(page, `sem:${semId} sem[1]`);
    await sem.waitFor({ timeout: WAIT });
    assert.match((await sem.locator('.label-description').textContent()) ?? '', new RegExp(`^tid ${consumer.tid} · semtimedop 1:-1`));
    // A semaphore has no owner: this process set it last, shown as a hint.
    const hint = treeRow(page, `last changed by pid ${process.pid}`);
    await hint.waitFor({ timeout: WAIT });
    assert.equal(await hint.locator('.label-description').textContent(), 'a hint');
    assert.equal(await treeRow(page, `held by pid ${process.pid}`).count(), 0);
    console.log(`waits view screenshot (dead owner, semaphore): ${await screenshot(page, 'waits-dead-sem')}`);
  }));

  it('a consumer that changed its semaphore last is no deadlock (the demo\'s consumer), in the view and the graph', () => step('sem-self', async () => {
    selfSemId = ipc.createSemSet({ key: 0, nsems: 1, values: [0], mode: 0o600 });
    const consumer = await start(exe, 'semop', String(selfSemId), '0', 'self');
    const row = treeRow(page, `sem:${selfSemId} sem[0]`);
    await row.waitFor({ timeout: 60_000 });
    const hint = treeRow(page, `last changed by pid ${consumer.pid}`);
    await hint.waitFor({ timeout: WAIT });
    assert.equal(await hint.locator('.label-description').textContent(), 'this process · a hint');
    assert.equal(await row.locator('.label-description').textContent(), `tid ${consumer.tid} · semtimedop 0:-1`);
    assert.equal(await row.locator('.codicon-error').count(), 0);
    const message = (await page.locator('.pane-body .message', { hasText: 'Deadlock' }).allTextContents()).join(' ');
    assert.doesNotMatch(message, new RegExp(`\\b${consumer.pid}/${consumer.tid}\\b`));
    await palette(page, 'Show Wait-for Graph', WAIT);
    const f = inspectorFrame(page);
    const node = f.locator('.node.thread', { hasText: `pid ${consumer.pid} · tid ${consumer.tid}` });
    await node.first().waitFor({ timeout: 60_000 });
    assert.equal(await f.locator('.node.thread.deadlock', { hasText: `pid ${consumer.pid} · tid ${consumer.tid}` }).count(), 0);
    assert.equal(await f.locator('.node.object.dead', { hasText: `sem:${selfSemId}` }).count(), 0);
  }));

  it('opens the inspector at the waited field from an object of the graph', () => step('goto', async () => {
    const f = inspectorFrame(page);
    await f.locator('.node.object.open', { hasText: `locks.b` }).first().click();
    const insp = inspectorFrame(page);
    // The waited word (locks.b's lock, offset 0x28) is selected: 4 bytes, the cursor on its last.
    await until('the inspector selects locks.b', async () => {
      const cursor = /0x([0-9a-f]+)/.exec((await insp.locator('#status-cursor').textContent().catch(() => '')) ?? '');
      const sel = (await insp.locator('#status-selection').textContent().catch(() => '')) ?? '';
      return cursor !== null && parseInt(cursor[1]!, 16) >= 0x28 && parseInt(cursor[1]!, 16) <= 0x2b && /Selection 4 bytes/.test(sel);
    });
  }));
});
