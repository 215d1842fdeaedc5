/// <reference types="mocha" />
// In the extension host of a real workbench: Start/Stop Recording on a live tab (the seqlock of the
// bound schema, the segment's own semaphore set riding along), the recording's editor and its
// timeline commands (step, go to, next change of a field, next failing check), and a live Watch
// plot that gains points at the refresh rate. The page-driven side is test/editor/ui/recording.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import * as ipc from '../../../extension/src/ipc';
import { openRecording } from '../../../extension/src/record';
import { freshKey } from '../../helpers/ipc';
import { ringBytes } from '../../helpers/schema-ring';
import { untilWithin } from '../../helpers/wait';

interface ReplayState { frame: number; frames: number; timeMs: number; playing: boolean; speed: number; torn: boolean }

const until = untilWithin(20_000);
const created: ipc.Target[] = [];
let dir = '';

suite('recording, replay and Watch', () => {
  let key = 0;
  let target = '';
  let handle: ipc.ShmHandle;
  let file = '';

  suiteSetup(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-rec-host-'));
    key = freshKey();
    const bytes = ringBytes(8, { head: 10n, tail: 5n });
    const t = { kind: 'shm' as const, id: ipc.createShm({ key, size: bytes.length, mode: 0o600 }) };
    created.push(t);
    created.push({ kind: 'sem', id: ipc.createSemSet({ key, nsems: 2, mode: 0o600, values: [3, 5] }) });
    handle = ipc.openShm(t, { readWrite: true });
    handle.write(0, bytes);
    target = ipc.formatTarget(t);
    const text = readFileSync(path.join(vscode.extensions.getExtension('shmscope.shmscope')!.extensionPath, 'test', 'fixtures', 'schema', 'ring.shms'), 'utf8').replace(/ for key 0x[0-9A-Fa-f]+/, '');
    writeFileSync(path.join(dir, 'ring.shms'), text);
    file = path.join(dir, 'live.shmrec');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    try { handle.close(); } catch { /* closed */ }
    for (const t of created.splice(0)) { try { if (ipc.exists(t)) ipc.remove(t); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });

  test('records a live tab under its schema\'s seqlock, with the segment\'s semaphores', async () => {
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    await vscode.commands.executeCommand('shmscope.inspector.bindSchema', path.join(dir, 'ring.shms'), 'Ring');
    const started = await vscode.commands.executeCommand<{ file: string; seqlock?: string; semaphores?: string }>('shmscope.inspector.startRecording', file);
    assert.equal(started.seqlock, 'hdr.seq');
    assert.match(started.semaphores ?? '', /^sem:\d+$/);
    // Frames with a moving head (written under the seqlock), and one with a wrong crc.
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    const write = (at: number, v: bigint, size: 4 | 8) => {
      if (size === 4) dv.setUint32(0, Number(v), true);
      else dv.setBigUint64(0, v, true);
      handle.write(at, b.subarray(0, size));
    };
    let seq = 4n;
    const crc = new DataView(handle.read(36, 4).slice().buffer).getUint32(0, true);
    for (let head = 11n; head <= 14n; head++) {
      const frames = (await vscode.commands.executeCommand<{ frames: number }>('shmscope.inspector.recordingState')).frames;
      write(32, ++seq, 4);
      write(16, head, 8);
      write(24, head - 5n, 8);
      write(36, BigInt(head === 13n ? crc ^ 1 : crc), 4);
      write(32, ++seq, 4);
      await until('the recorder takes a frame of it', async () => (await vscode.commands.executeCommand<{ frames: number }>('shmscope.inspector.recordingState')).frames > frames + 1);
    }
    const stopped = await vscode.commands.executeCommand<{ file: string; frames: number; torn: number }>('shmscope.inspector.stopRecording');
    assert.equal(stopped.file, file);
    assert.equal(stopped.torn, 0);
    const { recording, file: fh } = openRecording(file);
    try {
      assert.equal(recording.frameCount, stopped.frames);
      assert.deepEqual(recording.seek(0).sems, [3, 5]);
      assert.equal(recording.header.schema?.type, 'Ring');
    } finally {
      fh.close();
    }
  });

  test('opens the recording and moves its timeline: step, go to, next change, next failing check', async () => {
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'shmscope.recording');
    const s0 = await until('the replay is open', async () => vscode.commands.executeCommand<ReplayState | undefined>('shmscope.replay.state'));
    assert.equal(s0.frame, 0);
    const st = await vscode.commands.executeCommand<ReplayState>('shmscope.replay.stepForward', 2);
    assert.equal(st.frame, 2);
    await vscode.commands.executeCommand('shmscope.replay.goTo', '#0');
    // The recording's own schema is bound: select hdr.head, then look for its next change.
    const inspector = await until('the replay tab is an inspector with the schema', async () => {
      const s = await vscode.commands.executeCommand<{ schema?: { label: string }; ready: boolean }>('shmscope.inspector.state');
      return s?.ready && s.schema ? s : undefined;
    });
    assert.match(inspector.schema!.label, /ring\.shms · Ring/);
    await vscode.commands.executeCommand('shmscope.inspector.goToOffset', 'hdr.head');
    await until('the page selects head', async () => (await vscode.commands.executeCommand<{ view?: { selection: { offset: number } } }>('shmscope.inspector.state'))?.view?.selection.offset === 16);
    const { recording, file: fh } = openRecording(file);
    const headAt = (i: number) => Buffer.from(recording.seek(i).window).readBigUInt64LE(16);
    try {
      const changed = await vscode.commands.executeCommand<ReplayState>('shmscope.replay.nextChange');
      assert.ok(changed.frame > 0);
      assert.notEqual(headAt(changed.frame), headAt(changed.frame - 1), 'head changes at the frame found');
      for (let i = 1; i < changed.frame; i++) assert.equal(headAt(i), headAt(0), 'and not before');
      const failing = await vscode.commands.executeCommand<ReplayState>('shmscope.replay.nextFailure');
      assert.equal(headAt(failing.frame), 13n, 'the frame with the wrong crc');
    } finally {
      fh.close();
    }
  });

  test('Watch in a live tab gains points at the refresh rate', async () => {
    await vscode.commands.executeCommand('shmscope.openInspector', target);
    await until('the live tab is active', async () => (await vscode.commands.executeCommand<{ target: string }>('shmscope.inspector.state'))?.target === target);
    assert.deepEqual(await vscode.commands.executeCommand('shmscope.watch', 'hdr.head sem[1]'), { paths: ['hdr.head', 'sem[1]'], live: true });
    await until('the live plot has 3 points', async () => {
      const plots = await vscode.commands.executeCommand<{ title: string; points: number }[]>('shmscope.watch.state');
      return plots.some((p) => p.title === 'Watch: hdr.head, sem[1]' && p.points >= 3);
    });
  });
});
