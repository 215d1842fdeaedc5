// What a repository or a received file may contain, against the schema engine, the recording
// reader and the snapshot reader: a header that includes itself at every level, a macro that
// doubles per call, 200 000 nested #if, /proc/self/pagemap (0 bytes in stat, endless in read) as
// an #include or behind a workspace symlink, a FIFO named x.shmsnap, recordings whose header
// carries such a schema, lies about sizes, or has no key frame for 8 000 frames. Each case runs
// in a child with a bound in time (a generous timeout) and in memory (the child's own peak RSS,
// and a V8 heap cap that would abort it) and asserts one true line. Private IPC and mount namespace.
import './namespace';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeDeltaFrame, encodeKeyFrame, encodeRecordingHeader, KEY_INTERVAL, MAX_INDEXED_FRAMES, type RecordingHeader } from '../../extension/src/shared/record/format';
import { MemoryAccess, Recording } from '../../extension/src/shared/record';
import { compileSchema } from '../../extension/src/shared/schema';
import { CLI, ROOT, ensureBuilt } from '../helpers/ipc';

before(() => ensureBuilt());
const DIR = '/dev/shm/hostile-received';
mkdirSync(DIR, { recursive: true });
after(() => rmSync(DIR, { recursive: true, force: true }));

/** Far above the worst case here (under a second on an idle machine): a bound, not a benchmark. */
const BOUND_MS = 20_000;
/** Peak resident memory a child may reach (Node alone is ~50 MB; the old engine took GBs). */
const MAX_RSS_KB = 400 * 1024;
const RSS_FILE = path.join(DIR, 'rss');
/** Preloaded into each child: writes its peak RSS (KiB) when it exits. */
const PRELOAD = path.join(DIR, 'rss.cjs');
writeFileSync(PRELOAD, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(RSS_FILE)}, String(process.resourceUsage().maxRSS)));\n`);

interface Bounded extends SpawnSyncReturns<string> {
  rssKb: number;
}

/** Runs node with `args` under the bounds; asserts it ended by itself within them. */
function bounded(args: string[]): Bounded {
  rmSync(RSS_FILE, { force: true });
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--require', PRELOAD, ...args], { encoding: 'utf8', timeout: BOUND_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.error, undefined, `did not end within ${BOUND_MS} ms`);
  assert.equal(r.signal, null, `ended by ${r.signal} (stderr: ${r.stderr.slice(0, 500)})`);
  const rssKb = Number(readFileSync(RSS_FILE, 'utf8'));
  assert.ok(rssKb > 0 && rssKb < MAX_RSS_KB, `peak RSS ${rssKb} KiB (bound ${MAX_RSS_KB})`);
  return Object.assign(r, { rssKb });
}

const cli = (args: string[]) => bounded([CLI, ...args]);

/** Exit 1 with exactly one line of output (stdout and stderr together) matching `pattern`. */
function oneLine(r: Bounded, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stdout: ${r.stdout.slice(0, 500)} stderr: ${r.stderr.slice(0, 500)})`);
  const lines = (r.stdout + r.stderr).trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${lines.slice(0, 5).join('\n')}`);
  assert.match(lines[0]!, pattern);
}

const file = (name: string, text: string | Uint8Array): string => {
  const p = path.join(DIR, name);
  rmSync(p, { force: true });
  writeFileSync(p, text);
  return p;
};

const SELF_TWICE = '#include "self.h"\n#include "self.h"\n';
const BOMB = `#define A0(x) x x\n${Array.from({ length: 29 }, (_, i) => `#define A${i + 1}(x) A${i}(A${i}(x))`).join('\n')}\nstruct s { int a; };\nA29(int) b;\n`;
const NESTED_IFS = `${'#if 1\n'.repeat(200_000)}struct s { int a; };\n${'#endif\n'.repeat(200_000)}`;

describe('schemas that multiply themselves, bounded per compile', () => {
  it('a header that includes itself twice: one error, not 2^200 inclusions', () => {
    file('self.h', SELF_TWICE);
    const r = cli(['check', '--schema', file('fanout.shms', '#include "self.h"\nstruct s { int a; };\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /#include "self\.h" needs more than 400000 preprocessing steps/);
    assert.ok((r.stdout + r.stderr).trimEnd().split('\n').length <= 2, 'an error for the budget and at most one for the depth, not one per inclusion');
  });

  it('a 790-byte doubling macro stops with one error at the budget', () => {
    assert.ok(BOMB.length < 1000);
    const r = cli(['check', '--schema', file('bomb.shms', BOMB)]);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /the expansion of A\d+ needs more than 400000 preprocessing steps/);
  });

  it('200 000 nested #if 1: the file stops being read at the 1 025th', () => {
    const r = cli(['check', '--schema', file('ifs.shms', NESTED_IFS)]);
    assert.equal(r.status, 1);
    const lines = (r.stdout + r.stderr).trimEnd().split('\n');
    assert.match(lines[0]!, /ifs\.shms:1025:2: error: #if nested deeper than 1024: the rest of the file is not read/);
    assert.ok(lines.length <= 3, `the depth error and one for the #if left open, not 1 024:\n${lines.slice(0, 5).join('\n')}`);
  });
});

describe('special files where a schema is expected', () => {
  it('#include "/proc/self/pagemap" (0 bytes in stat, endless in read) is refused at the 16 MiB read', () => {
    oneLine(cli(['check', '--schema', file('pagemap.shms', '#include "/proc/self/pagemap"\nstruct s { int a; };\n')]), /cannot read the include file "\/proc\/self\/pagemap": it has more than the 16 MiB allowed/);
  });

  it('an #include that is a FIFO or a folder, found beside the schema or through -I, says what it is', () => {
    const f = path.join(DIR, 'pipe.h');
    rmSync(f, { force: true });
    assert.equal(spawnSync('mkfifo', [f]).status, 0);
    oneLine(cli(['check', '--schema', file('fifo-inc.shms', '#include "pipe.h"\nstruct s { int a; };\n')]), /cannot read the include file "pipe\.h": it is a FIFO \(named pipe\), not a regular file/);
    oneLine(cli(['check', '--schema', file('fifo-sys.shms', '#include <pipe.h>\nstruct s { int a; };\n'), '-I', DIR]), /cannot read the include file <pipe\.h>: it is a FIFO \(named pipe\), not a regular file/);
  });

  it('a schema that is a symbolic link to /proc/self/pagemap (git stores links) is refused the same way', () => {
    const link = path.join(DIR, 'ring.shms');
    rmSync(link, { force: true });
    symlinkSync('/proc/self/pagemap', link);
    oneLine(cli(['check', '--schema', link]), /cannot read the schema .*ring\.shms: it has more than the 16 MiB allowed/);
  });

  it('a FIFO named x.shmsnap: the snapshot reader refuses it at once instead of parking the thread in open', () => {
    const fifo = path.join(DIR, 'x.shmsnap');
    rmSync(fifo, { force: true });
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const script = `const { SnapshotFileSource } = require(${JSON.stringify(path.join(ROOT, 'extension/src/inspector/files.ts'))});
try { new SnapshotFileSource(${JSON.stringify(fifo)}); console.log('opened'); } catch (e) { console.log(e.message); }`;
    const r = bounded(['--import', 'tsx', '-e', script]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'it is a FIFO (named pipe), not a regular file');
  });
});

// ------------------------------------------------------------------ recordings
const HEADER: RecordingHeader = {
  version: 1, target: 'key:0x1', title: 'received', host: 'elsewhere', start: '2026-01-01T00:00:00.000Z', startMs: Date.parse('2026-01-01T00:00:00.000Z'),
  hz: 10, objectSize: 16, ranges: [{ offset: 0, length: 16 }], size: 16,
};
const SCHEMA = { file: '/elsewhere/s.shms', type: 'S', text: 'struct S { int a; int b[3]; };' };

/**
 * A recording: a key frame, then one-byte deltas (a key frame every `keyEvery`, 0 for none). Built
 * from two encoded records copied and renumbered, so that millions of frames take a moment.
 */
function recording(h: Partial<RecordingHeader>, frames: number, keyEvery = KEY_INTERVAL): Uint8Array {
  const header = { ...HEADER, ...h };
  const win = new Uint8Array(header.size);
  const head = encodeRecordingHeader(header);
  const key = encodeKeyFrame({ frame: 0, timeMs: 0, flags: 0 }, win);
  const delta = encodeDeltaFrame({ frame: 0, timeMs: 0, flags: 0 }, win, [{ offset: 0, length: 1 }]);
  const isKey = (i: number) => i === 0 || (keyEvery > 0 && i % keyEvery === 0);
  const keys = keyEvery > 0 ? Math.ceil(frames / keyEvery) : 1;
  const out = Buffer.alloc(head.length + keys * key.length + (frames - keys) * delta.length);
  out.set(head, 0);
  let p = head.length;
  for (let i = 0; i < frames; i++) {
    const rec = isKey(i) ? key : delta;
    out.set(rec, p);
    out.writeUInt32LE(i, p + 8);
    out.writeDoubleLE(i, p + 12);
    out[p + rec.length - 1] = i & 0xff;
    p += rec.length;
  }
  assert.equal(p, out.length);
  return out;
}

describe('received recordings', () => {
  it('a header carrying a self-including or /proc/self/pagemap schema: decode --at and replay end within the bounds and still decode', () => {
    file('self.h', SELF_TWICE);
    const rec = file('hostile-schema.shmrec', recording({ schema: { file: path.join(DIR, 'x.shms'), type: 'S', text: '#include "self.h"\nstruct S { int a; int b[3]; };' } }, 3));
    const r = cli(['decode', rec, '--at', '#2']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^frame 2 at 0\.002 s/);
    assert.match(r.stdout, /a: int = 2\n/);
    const pm = file('pagemap-schema.shmrec', recording({ schema: { file: '/x.shms', type: 'S', text: '#include "/proc/self/pagemap"\nstruct S { int a; };' } }, 3));
    const p = cli(['replay', pm, '--json']);
    assert.equal(p.status, 0, p.stderr);
    assert.deepEqual(p.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).decoded.a), [0, 1, 2]);
  });

  it('8 000 frames without a key frame: refused, saying a key frame must come every 4 096', () => {
    oneLine(cli(['replay', file('nokey.shmrec', recording({}, 8000, 0))]), /frame 4096: no key frame in the 4096 frames before it/);
  });

  it('objectSize or a range that lies: one line, exit 1 (was "internal error", exit 2)', () => {
    const huge = file('huge-range.shmrec', recording({ schema: SCHEMA, objectSize: 16, ranges: [{ offset: 2 ** 52, length: 16 }] }, 2));
    oneLine(cli(['decode', huge, '--at', '#1']), /runs past the object's 16 bytes/);
    const past = file('past-1g.shmrec', recording({ schema: SCHEMA, objectSize: 2 ** 50, ranges: [{ offset: 2 ** 40, length: 16 }] }, 2));
    oneLine(cli(['replay', past]), /ends past 1 GiB/);
    // A true objectSize far above the ranges is fine: zeros are placed only near them.
    const big = file('big-object.shmrec', recording({ schema: SCHEMA, objectSize: 2 ** 50, ranges: [{ offset: 0, length: 16 }] }, 2));
    const r = cli(['decode', big, '--at', '#1', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).recording.frame, 1);
  });

  it('decode --at of a damaged delta exits 1 as replay does', () => {
    const bytes = recording({ schema: SCHEMA }, 3);
    // The last record is a delta of one range at offset 0: point it past the window.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    dv.setUint32(bytes.length - 1 - 8, 1000, true);
    const rec = file('damaged.shmrec', bytes);
    oneLine(cli(['decode', rec, '--at', '#2']), /damaged\.shmrec: frame 2: /);
    assert.equal(cli(['replay', rec]).status, 1);
  });

  it(`more than ${MAX_INDEXED_FRAMES} frames: the first ones are indexed in bounded memory and a seek decodes at most ${KEY_INTERVAL} records`, () => {
    const frames = MAX_INDEXED_FRAMES + 10;
    const rec = file('long.shmrec', recording({ schema: SCHEMA }, frames));
    const r = cli(['decode', rec, '--at', `#${MAX_INDEXED_FRAMES - 1}`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).recording.frame, MAX_INDEXED_FRAMES - 1);
    oneLine(cli(['decode', rec, '--at', `#${MAX_INDEXED_FRAMES}`]), /frame 4194304 is not in the recording/);
    rmSync(rec);
  });
});

describe('POSIX semaphore names that are not semaphores', () => {
  it('psem:/dir and psem:/sock say what they are, not a raw sem_open error', () => {
    mkdirSync('/dev/shm/sem.dir', { recursive: true });
    rmSync('/dev/shm/sem.sock', { force: true });
    const sock = spawnSync('python3', ['-c', 'import socket; socket.socket(socket.AF_UNIX).bind("/dev/shm/sem.sock")']);
    try {
      oneLine(cli(['sem', 'psem:/dir', 'get']), /^shmscope: POSIX semaphore \/dir is not a semaphore: it is a directory$/);
      oneLine(cli(['sem', 'psem:/dir', 'post']), /^shmscope: POSIX semaphore \/dir is not a semaphore: it is a directory$/);
      if (sock.status === 0) oneLine(cli(['sem', 'psem:/sock', 'get']), /^shmscope: POSIX semaphore \/sock is not a semaphore: it is a socket$/);
    } finally {
      rmSync('/dev/shm/sem.dir', { recursive: true, force: true });
      rmSync('/dev/shm/sem.sock', { force: true });
    }
  });
});

// ------------------------------------------------------------------ fuzz
describe('fuzz: headers and schema text a stranger wrote', () => {
  it('.shmrec headers: any JSON and any bytes after the magic give a Recording or a RecordingError, never another throw', () => {
    const json = fc.record({
      version: fc.oneof(fc.constant(1), fc.anything()), target: fc.string(), title: fc.string(), host: fc.string(), start: fc.string(),
      startMs: fc.oneof(fc.double(), fc.integer()), hz: fc.oneof(fc.double(), fc.integer()),
      objectSize: fc.oneof(fc.nat(), fc.constant(2 ** 53), fc.double()), size: fc.oneof(fc.nat({ max: 64 }), fc.double()),
      ranges: fc.array(fc.record({ offset: fc.oneof(fc.nat(), fc.constant(2 ** 52)), length: fc.nat({ max: 64 }) }), { maxLength: 4 }),
      schema: fc.option(fc.record({ file: fc.string(), type: fc.option(fc.string(), { nil: undefined }), text: fc.string() }), { nil: undefined }),
    }, { requiredKeys: [] });
    fc.assert(fc.property(json, fc.uint8Array({ maxLength: 200 }), (h, tail) => {
      const body = new TextEncoder().encode(JSON.stringify(h));
      const head = new Uint8Array(12 + body.length);
      head.set(new TextEncoder().encode('SHMREC01'));
      new DataView(head.buffer).setUint32(8, body.length, true);
      head.set(body, 12);
      try {
        const rec = new Recording(new MemoryAccess(Buffer.concat([head, tail])));
        for (let i = 0; i < Math.min(rec.frameCount, 4); i++) rec.objectBytes(rec.seek(i));
      } catch (e) {
        assert.equal((e as Error).constructor.name, 'RecordingError', String(e));
      }
    }), { numRuns: 300 });
  });

  it('.shmsnap headers: the snapshot reader refuses or reads, never throws anything else', () => {
    const script = `const fc = require('fast-check'); const fs = require('node:fs');
const { SnapshotFileSource } = require(${JSON.stringify(path.join(ROOT, 'extension/src/inspector/files.ts'))});
const { encodeSnapshotHeader } = require(${JSON.stringify(path.join(ROOT, 'extension/src/shared/inspector/snapshot.ts'))});
const f = ${JSON.stringify(path.join(DIR, 'fuzz.shmsnap'))};
fc.assert(fc.property(fc.record({ version: fc.oneof(fc.constant(1), fc.anything()), target: fc.string(), title: fc.string(), size: fc.oneof(fc.nat(), fc.double(), fc.constant(2 ** 53)), time: fc.string() }, { requiredKeys: [] }), fc.uint8Array({ maxLength: 100 }), fc.boolean(), (h, tail, raw) => {
  const head = raw ? Buffer.concat([Buffer.from('SHMSNAP1'), Buffer.from(tail)]) : Buffer.from(encodeSnapshotHeader(h));
  fs.writeFileSync(f, Buffer.concat([head, Buffer.from(tail)]));
  let s;
  try { s = new SnapshotFileSource(f); } catch (e) { if (e.constructor.name !== 'SnapshotError') throw e; return; }
  try { s.read(0, 64); } finally { s.close(); }
}), { numRuns: 300 });
console.log('ok');`;
    const r = bounded(['--import', 'tsx', '-e', script]);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    assert.equal(r.stdout.trim(), 'ok');
  });

  it('schema text that includes itself, /proc and /dev files: every compile ends with diagnostics within the budget', () => {
    file('self.h', SELF_TWICE);
    const parts = fc.constantFrom(
      '#include "self.h"\n', `#include "${path.join(DIR, 'self.h')}"\n`, '#include "/proc/self/pagemap"\n', '#include "/proc/self/mem"\n', '#include "/dev/zero"\n',
      '#include "/dev/stdin"\n', `#include "${DIR}"\n`, '#define D(x) D(x) x x\nD(D(int))\n', '#if 1\n', '#endif\n', 'struct S { int a; };\n', '#include __FILE__\n',
    );
    fc.assert(fc.property(fc.array(parts, { maxLength: 8 }), (list) => {
      const schema = compileSchema(list.join(''), path.join(DIR, 'fuzz.shms'));
      assert.ok(Array.isArray(schema.diagnostics));
    }), { numRuns: 60 });
  });
});
