// Recording benchmark (issue 15). Three figures, each beside its goal:
//  - record.cpuAt100Hz: the CPU (user+system, this whole process) of recording a 64 KiB System
//    V segment at 100 Hz for 5 s while three 64-byte slots change per frame (written by this
//    process through a read-write handle, so their cost is included), ÷ the wall time;
//  - record.demoRingHourMB: the size of a 1-hour recording of the demo ring at 100 Hz,
//    extrapolated from 10 s of the demo's own producer and consumer (a private instance built
//    here with a key of its own): the bytes after the first key frame per second × 3600, plus
//    the key frames an hour holds;
//  - record.seekMs: the slowest of 300 seeks to random frames (each from its key frame) in a
//    synthetic 1-hour, 100 Hz recording of the demo ring's layout (360 000 frames), through the
//    file reader; the index build on open is in the detail.
// Prints one JSON line; creates and removes its objects and files.
//   node --import tsx scripts/bench/record.ts
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ipc from '../../extension/src/ipc';
import { openRecording, startRecording } from '../../extension/src/record';
import { Recorder } from '../../extension/src/shared/record';

const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-bench-rec-'));
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

async function cpuAt100Hz() {
  const SIZE = 64 << 10;
  const t = { kind: 'shm' as const, id: ipc.createShm({ key: 0, size: SIZE }) };
  const rw = ipc.openShm(t, { readWrite: true });
  try {
    const slot = new Uint8Array(64);
    let n = 0;
    const live = await startRecording({ target: t, hz: 100, output: path.join(dir, 'cpu.shmrec') }, {
      durationMs: 5000,
      onFrame: () => {
        for (let k = 0; k < 3; k++) {
          slot.fill(n & 0xff);
          rw.write(64 + ((n * 3 + k) % 1000) * 64, slot);
        }
        n++;
      },
    });
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const s = await live.done;
    const c = process.cpuUsage(c0);
    const wall = performance.now() - w0;
    const share = (c.user + c.system) / 1000 / wall;
    // Baseline: the same writes on the same 100 Hz timer for as long, without recording.
    const b0 = process.cpuUsage();
    const bw0 = performance.now();
    await new Promise<void>((resolve) => {
      let k = 0;
      const tick = () => {
        for (let j = 0; j < 3; j++) rw.write(64 + ((k * 3 + j) % 1000) * 64, slot.fill(k & 0xff));
        if (++k >= s.frames) return resolve();
        setTimeout(tick, 10);
      };
      tick();
    });
    const b = process.cpuUsage(b0);
    const idle = (b.user + b.system) / 1000 / (performance.now() - bw0);
    return { share, idle, frames: s.frames, missed: s.missed, bytes: s.bytes, wall };
  } finally {
    rw.close();
    ipc.remove(t);
  }
}

async function demoRingHour() {
  const key = (0x53480000 | randomInt(0x10000)) >>> 0;
  const name = `/shmscope-bench-${process.pid}`;
  const defs = [`-DRING_KEY=0x${key.toString(16)}`, `-DDEMO_POSIX_NAME="${name}"`];
  const exe = (n: string) => {
    const out = path.join(dir, n);
    const r = spawnSync('cc', ['-std=c11', '-O2', '-pthread', ...defs, '-o', out, path.join(root, 'demo', `${n}.c`)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc ${n}.c: ${r.stderr}`);
    return out;
  };
  const producer = spawn(exe('producer'), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const consumer = exe('consumer');
  const stopped = (c: ReturnType<typeof spawn>) => new Promise((r) => (c.exitCode !== null ? r(0) : c.on('exit', r)));
  let cons: ReturnType<typeof spawn> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let text = '';
      producer.stdout.on('data', (d) => {
        text += d;
        if (text.includes('ready')) resolve();
      });
      producer.on('exit', () => reject(new Error('the producer exited')));
    });
    cons = spawn(consumer, [], { stdio: 'ignore' });
    const file = path.join(dir, 'demo.shmrec');
    const schemaFile = path.join(root, 'demo', 'workspace', 'ring.shms');
    const { compileSchema } = await import('../../extension/src/shared/schema');
    const text = (await import('node:fs')).readFileSync(schemaFile, 'utf8');
    const live = await startRecording({ target: ipc.resolveKey(key, 'shm'), hz: 100, output: file, schema: { schema: compileSchema(text, schemaFile), file: schemaFile, text } }, { durationMs: 10_000 });
    const s = await live.done;
    const { recording, file: fh } = openRecording(file);
    const seconds = recording.durationMs / 1000;
    fh.close();
    const total = statSync(file).size;
    const keyBytes = 4096 + 20 + 8;
    const perSecond = (total - keyBytes - 2048) / seconds;
    const keysPerHour = (3600 * 100) / 4096;
    const hourMB = (perSecond * 3600 + keysPerHour * keyBytes) / 1e6;
    return { hourMB, seconds, frames: s.frames, torn: s.torn, total };
  } finally {
    cons?.kill('SIGTERM');
    producer.kill('SIGTERM');
    await Promise.all([stopped(producer), cons ? stopped(cons) : undefined]);
  }
}

async function seek() {
  const FRAMES = 3600 * 100;
  const file = path.join(dir, 'hour.shmrec');
  const fd = openSync(file, 'w');
  const mem = new Uint8Array(4096);
  const dv = new DataView(mem.buffer);
  dv.setUint32(0, 0x474e4952, true);
  let clock = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const all = Buffer.concat(pending);
    writeSync(fd, all);
    pending = [];
    pendingBytes = 0;
  };
  const rec = new Recorder(
    { version: 1, target: 'shm:0', title: 'synthetic demo ring', host: 'bench', start: new Date().toISOString(), startMs: Date.now(), hz: 100, objectSize: 4096, ranges: [{ offset: 0, length: 4096 }], size: 4096 },
    { source: { readInto: (b, o) => (b.set(mem.subarray(o, o + b.length)), b.length) }, write: (b) => { pending.push(b.slice()); pendingBytes += b.length; if (pendingBytes > 1 << 20) flush(); }, now: () => clock },
  );
  for (let i = 0; i < FRAMES; i++) {
    if (i % 10 === 0) {
      // The producer's write at 10 Hz: a slot, head, seq, crc; the consumer's tail every 8.
      const w = i / 10;
      const slot = 64 + (w % 16) * 64;
      dv.setBigUint64(slot, BigInt(i) * 1_000_000n, true);
      mem.set(new TextEncoder().encode(`message ${w} from pid 4242`.padEnd(52, '\0')), slot + 12);
      dv.setBigUint64(16, BigInt(w), true);
      dv.setUint32(32, 2 * w, true);
      dv.setUint32(36, (w * 2654435761) >>> 0, true);
      if (w % 8 === 0) dv.setBigUint64(24, BigInt(w), true);
    }
    await rec.capture(Infinity);
    clock += 10;
  }
  flush();
  closeSync(fd);
  const t0 = performance.now();
  const { recording, file: fh } = openRecording(file);
  const openMs = performance.now() - t0;
  try {
    const times: number[] = [];
    for (let k = 0; k < 300; k++) {
      const i = randomInt(recording.frameCount);
      recording.seek(0); // start each seek away from its target
      const s = performance.now();
      const f = recording.seek(i);
      times.push(performance.now() - s);
      if (f.index !== i) throw new Error('seek landed elsewhere');
    }
    times.sort((a, b) => a - b);
    return { worst: times.at(-1)!, median: times[times.length >> 1]!, openMs, frames: recording.frameCount, sizeMB: statSync(file).size / 1e6 };
  } finally {
    fh.close();
  }
}

async function main() {
  mkdirSync(dir, { recursive: true });
  try {
    log('recording a 64 KiB segment at 100 Hz for 5 s');
    const cpu = await cpuAt100Hz();
    log('recording the demo ring at 100 Hz for 10 s');
    const demo = await demoRingHour();
    log('seeking in a synthetic 1-hour recording');
    const sk = await seek();
    process.stdout.write(`${JSON.stringify({
      'record.cpuAt100Hz': { value: Number(cpu.share.toFixed(4)), goal: '< 0.05', detail: `CPU of this process ÷ wall time while recording a 64 KiB segment at 100 Hz, 3 slots changing per frame (the same timer and writes without recording: ${cpu.idle.toFixed(3)}): ${cpu.frames} frames (${cpu.missed} missed) in ${(cpu.wall / 1000).toFixed(1)} s, ${(cpu.bytes / 1024).toFixed(0)} KiB written` },
      'record.demoRingHourMB': { value: Number(demo.hourMB.toFixed(1)), goal: '< 50', detail: `extrapolated from ${demo.seconds.toFixed(1)} s of the demo's producer and consumer recorded at 100 Hz with its seqlock (${demo.frames} frames, ${demo.torn} torn, ${demo.total} bytes)` },
      'record.seekMs': { value: Number(sk.worst.toFixed(2)), goal: '< 50', detail: `slowest of 300 random seeks (median ${sk.median.toFixed(2)} ms) in a synthetic 1-hour 100 Hz recording of the demo ring (${sk.frames} frames, ${sk.sizeMB.toFixed(1)} MB); opening it and building the index took ${sk.openMs.toFixed(0)} ms` },
    })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
