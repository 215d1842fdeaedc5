// The recorder on real objects through the façade: a POSIX object that shrinks while it is
// recorded gives frames flagged short (zeros past its new end), never a crash; a System V segment
// removed while recorded stays readable until the recording ends (it is still attached).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { openRecording, startRecording } from '../../extension/src/record';
import { Created, until } from '../helpers/ipc';

const made = new Created();
const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-rec-native-'));
after(() => {
  made.removeAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('recording real objects', () => {
  it('a POSIX object that shrinks while recorded: later frames are flagged short, zeros past its end', async () => {
    const t = made.posixShm(4096, 'rec');
    const rw = made.hold(ipc.openShm(t, { readWrite: true }));
    rw.write(0, new Uint8Array(4096).fill(0xab));
    const file = path.join(dir, 'posix.shmrec');
    let frames = 0;
    const live = await startRecording({ target: t, hz: 200, output: file }, { onFrame: (s) => void (frames = s.frames) });
    await until('two whole frames', () => frames >= 2);
    truncateSync(`/dev/shm${t.name}`, 100);
    const at = frames;
    await until('two frames after the cut', () => frames >= at + 2);
    live.stop();
    const s = await live.done;
    assert.ok(s.short >= 2, `${s.short} short frames`);
    const { recording, file: fh } = openRecording(file);
    try {
      const first = recording.seek(0);
      assert.equal(first.short, false);
      assert.equal(first.window[4095], 0xab);
      const last = recording.seek(recording.frameCount - 1);
      assert.equal(last.short, true);
      assert.equal(last.window[99], 0xab);
      assert.equal(last.window[100], 0, 'past the new end: zeros');
    } finally {
      fh.close();
    }
  });

  it('a segment removed while recorded goes on being read until the recording stops', async () => {
    const t = made.shm(256);
    const file = path.join(dir, 'removed.shmrec');
    let frames = 0;
    const live = await startRecording({ target: t, hz: 200, output: file }, { onFrame: (s) => void (frames = s.frames) });
    await until('a frame', () => frames >= 1);
    ipc.remove(t);
    const at = frames;
    await until('frames after the removal', () => frames >= at + 2);
    live.stop();
    const s = await live.done;
    assert.equal(s.short, 0);
    assert.ok(!ipc.exists(t), 'gone once the recording let go of it');
  });
});
