// What a hostile user can put in /dev/shm, seen from the real workbench: a semaphore file of
// garbage, a FIFO, a symlink to /etc/shadow and a socket; then a semaphore file truncated while
// Semaphore Wait… waits on it. The explorer still lists, the wait ends with an error (in the
// Shared Memory log and the notification centre: toasts do not show under the smoke-test
// driver), and the extension host is the same process at the end. The workbench runs in
// namespaces of its own (privateNamespace) with a fresh /dev/shm, where the test plants all of
// it (through /proc/<pid>/root, and nsenter for the objects): nothing touches the machine's
// /dev/shm, and everything goes with the namespace when the workbench stops, even on failure or
// an interrupt.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { extensionHostPid, failureStep, namespacePid, nsenter, promptFromContextMenu, openWorkbench, palette, type OpenWorkbench, ROOT, treeRow } from './driver';
import { untilWithin } from '../../helpers/wait';

const WAIT = 30_000;
const tag = `shmscope-hostile-${process.pid}`;
const obj = `/${tag}-obj`;
const sem = `/${tag}-wait`;
let opened: OpenWorkbench | undefined;
let page: Page;
/** The workbench's /dev/shm, seen from here. */
let shm = '';
const server = createServer();
const step = failureStep('hostile', { page: () => page, workbench: () => opened?.wb });
const until = untilWithin(WAIT);
const row = (label: string) => treeRow(page, label);


function findLog(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      const f = findLog(p);
      if (f) return f;
    } else if (name === 'Shared Memory.log') return p;
  }
  return undefined;
}

describe('a hostile /dev/shm in the workbench', () => {
  before(async () => {
    opened = await openWorkbench({ root: ROOT, folder: path.join(ROOT, 'test', 'editor', 'workspace'), privateNamespace: true });
    page = opened.page;
    const inside = await until('code-server in its namespaces', () => namespacePid(opened!.wb.pid));
    shm = `/proc/${inside}/root/dev/shm`;
    writeFileSync(`${shm}/sem.${tag}-garbage`, Buffer.alloc(32, 0xff));
    assert.equal(spawnSync('mkfifo', [`${shm}/${tag}-fifo`]).status, 0);
    symlinkSync('/etc/shadow', `${shm}/${tag}-link`);
    server.listen(`${shm}/${tag}-sock`);
    await once(server, 'listening');
    // The objects as a program in there makes them (shm_open, sem_open).
    const make = `const ipc = require('./extension/src/ipc'); ipc.createPosixShm({ name: '${obj}', size: 4096 }); ipc.createPosixSem({ name: '${sem}', value: 0 });`;
    const made = spawnSync('nsenter', [...nsenter(inside, ROOT).slice(1), process.execPath, '--import', 'tsx', '-e', make], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    await page.locator('.activitybar .action-item a[aria-label^="Shared Memory"]').click();
  });

  after(async () => {
    server.close();
    // Everything planted goes with the workbench's namespace (its /dev/shm is a tmpfs of its own).
    await opened?.close();
  });

  it('lists around the entries that are not objects, survives a semaphore truncated during a wait', () => step('wait', async () => {
    const hostPid = await until('the extension host', () => extensionHostPid(opened!.wb.pid));
    await palette(page, 'Refresh', WAIT);
    await row(obj).waitFor({ timeout: WAIT });
    // The garbage semaphore is listed, its value unreadable; the FIFO, link and socket are not objects.
    const garbage = row(`/${tag}-garbage`);
    await garbage.waitFor({ timeout: WAIT });
    assert.match(await garbage.innerText(), /value: EINVAL/);
    for (const name of [`/${tag}-fifo`, `/${tag}-link`, `/${tag}-sock`]) assert.equal(await row(name).count(), 0, `${name} is not listed`);
    assert.equal(readlinkSync(`${shm}/${tag}-link`), '/etc/shadow');

    await promptFromContextMenu(page, sem, 'Semaphore Wait…', 'timeout', WAIT);
    const input = page.locator('.quick-input-widget');
    await input.locator('input').fill('120000');
    await page.keyboard.press('Enter');
    await page.locator('.statusbar-item', { hasText: `Waiting on ${sem}` }).waitFor({ timeout: WAIT });
    const file = `${shm}/sem.${sem.slice(1)}`;
    await until('the extension host waits on the semaphore', () => readFileSync(file).readUInt32LE(4) > 0);
    truncateSync(file, 0);
    await page.locator('.statusbar-item', { hasText: `Waiting on ${sem}` }).waitFor({ state: 'detached', timeout: WAIT });
    const sentence = `POSIX semaphore ${sem} was truncated while it was being waited on`;
    const alt = `POSIX semaphore ${sem} is 0 bytes, too small for a semaphore`;
    const log = await until('the failed wait in Shared Memory.log', () => {
      const f = findLog(opened!.wb.logsDir);
      const t = f ? readFileSync(f, 'utf8') : '';
      return t.includes(sentence) || t.includes(alt) ? t : undefined;
    });
    assert.match(log, /\[error\] Semaphore Wait/);
    // The error notification is in the notification centre.
    await page.keyboard.press('Escape');
    await palette(page, 'Refresh', WAIT);
    await page.keyboard.press('F1');
    await input.locator('input').fill('>Notifications: Show Notifications');
    await input.locator('.monaco-list-row', { hasText: 'Show Notifications' }).first().waitFor({ timeout: WAIT });
    await page.keyboard.press('Enter');
    await page.locator('.notifications-center', { hasText: `POSIX semaphore ${sem}` }).first().waitFor({ timeout: WAIT });

    // The explorer still lists, and it is the same extension host.
    await row(obj).waitFor({ timeout: WAIT });
    assert.equal(extensionHostPid(opened!.wb.pid), hostPid, 'the extension host is the process it was');
  }));
});
