// shmscope decode / check / lsp, run as a user runs them, on schema and snapshot files in a temp
// dir and on a real System V segment.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { cli, Created, ensureBuilt, freshKey } from '../helpers/ipc';
import { ringBytes } from '../helpers/schema-ring';

const made = new Created();
const dir = mkdtempSync(path.join(tmpdir(), 'shms-cli-'));
const ringText = readFileSync(path.join(__dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8');
const ring = path.join(dir, 'ring.shms');
const snap = path.join(dir, 'ring.bin');
before(() => {
  ensureBuilt();
  writeFileSync(ring, ringText);
  writeFileSync(snap, ringBytes(4));
});
after(() => {
  made.removeAll();
  rmSync(dir, { recursive: true, force: true });
});

function assertUserError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
  const last = r.stderr.trimEnd().split('\n').at(-1)!;
  assert.match(last, /^shmscope: /);
  assert.match(last, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe('shmscope check', () => {
  it('a good schema: no output, exit 0', () => {
    const r = cli(['check', '--schema', ring]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
  });
  it('errors as file:line:col: error: message, exit 1', () => {
    const bad = path.join(dir, 'bad.shms');
    writeFileSync(bad, 'struct A { uint32_t x; };\nstruct B { Nope y; uint8_t z [[format(weird)]]; };\nstatic_assert(sizeof(A) == 8, "A grew");\n');
    const r = cli(['check', '--schema', bad]);
    assert.equal(r.status, 1);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `${bad}:2:12: error: unknown type "Nope"`,
      `${bad}:2:39: error: unknown format; use one of hex, dec, bin, char, time_s, time_ns, ipv4, bool`,
      `${bad}:3:1: error: static_assert failed: A grew: 4 == 8 is false`,
    ]);
    const j = cli(['check', '--schema', bad, '--json']);
    assert.equal(j.status, 1);
    assert.deepEqual(JSON.parse(j.stdout)[0], { severity: 'error', message: 'unknown type "Nope"', line: 2, column: 12 });
  });
  it('a missing schema file is one line, exit 1', () => {
    assertUserError(cli(['check', '--schema', path.join(dir, 'nope.shms')]), /cannot read the schema .*no such file/);
  });
});

describe('shmscope decode --file', () => {
  it('--json is the §5 shape', () => {
    const r = cli(['decode', '--file', snap, '--schema', ring, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ['hdr', 'slots', 'checks', 'diagnostics']);
    assert.equal(j.hdr.magic, 0x474e4952);
    assert.equal(j.hdr.state, 'STOPPED');
    assert.deepEqual(j.hdr.stats, { offset: 320, value: { produced: 42, dropped: 7 } });
    assert.deepEqual(j.slots[2], { t_ns: '1700000000123456791', len: 5, text: 'msg 2' });
    assert.deepEqual(j.checks.map((c: { kind: string; ok: boolean }) => `${c.kind}:${c.ok}`), ['expect:true', 'expect:true', 'seqlock:true', 'checksum:true', 'ring:true']);
    for (const c of j.checks) assert.deepEqual(Object.keys(c).slice(0, 5), ['path', 'kind', 'ok', 'expected', 'actual']);
    assert.deepEqual(j.diagnostics, []);
  });
  it('--type decodes one struct', () => {
    const r = cli(['decode', '--file', snap, '--schema', ring, '--type', 'Header', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).capacity, 4);
  });
  it('the tree shows offsets, types, values and check marks', () => {
    const bad = path.join(dir, 'bad.bin');
    writeFileSync(bad, ringBytes(4, { badCrc: true }));
    const r = cli(['decode', '--file', bad, '--schema', ring, '--max-elements', '2']);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^0x0000 {2}Ring: Ring$/m);
    assert.match(out, /^0x0000 {4}hdr: Header$/m);
    assert.match(out, /^0x0028 {6}state: State = STOPPED$/m);
    assert.match(out, /^0x0024 {6}crc: uint32_t = \d+ {2}✗ checksum expected "0x[0-9a-f]{8}", actual "0x[0-9a-f]{8}"/m);
    assert.match(out, /^0x0040 {4}slots: Slot\[4\] {2}✓ ring/m);
    assert.match(out, /^0x008c {8}text: char\[52\] = "msg 1"$/m);
    assert.match(out, /… 2 more/);
    assert.match(out, /^checks: 4 passed, 1 failed$/m);
  });
  it('user errors: no target, unknown type, schema with errors, missing file', () => {
    assertUserError(cli(['decode', '--schema', ring]), /name a target/);
    assertUserError(cli(['decode', '--file', snap, '--schema', ring, '--type', 'Nope']), /no type "Nope" .*Header/);
    const bad = path.join(dir, 'broken.shms');
    writeFileSync(bad, 'struct { oops');
    assertUserError(cli(['decode', '--file', snap, '--schema', bad]), /has no segment declaration/);
    assertUserError(cli(['decode', '--file', path.join(dir, 'none.bin'), '--schema', ring]), /cannot read .*no such file/);
  });
  it('hostile data (a huge count, a truncated file) still exits 0 with diagnostics', () => {
    const bytes = ringBytes(4);
    new DataView(bytes.buffer).setUint32(8, 0xffffffff, true);
    const huge = path.join(dir, 'huge.bin');
    writeFileSync(huge, bytes.subarray(0, 200));
    const r = cli(['decode', '--file', huge, '--schema', ring, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.slots.length, 2);
    assert.ok(j.diagnostics.length >= 1);
    assert.equal(j.hdr.stats.value, null);
  });
});

describe('decode of an array whose element type carries [[expect]]s', () => {
  it('--json keeps the generated decoder (a values budget of 100 is enough for 20 000 slots) and lists every check, failures in place; the tree agrees', () => {
    const schema = path.join(dir, 'checked.shms');
    writeFileSync(schema, 'struct Slot { uint32_t magic [[expect(0x51)]]; uint32_t seq; uint8_t state [[expect(1)]]; uint8_t pad[7]; };\nsegment Slots { Slot slots[20000]; };\n');
    const file = path.join(dir, 'checked.bin');
    const bytes = new Uint8Array(16 * 20000);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < 20000; i++) {
      dv.setUint32(i * 16, i === 2 || i === 12345 ? 0x52 : 0x51, true);
      dv.setUint32(i * 16 + 4, i, true);
      bytes[i * 16 + 8] = i === 19999 ? 9 : 1;
    }
    writeFileSync(file, bytes);
    const r = cli(['decode', '--file', file, '--schema', schema, '--json', '--max-values', '100'], { maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const j = JSON.parse(r.stdout);
    assert.equal(j.slots.length, 20000);
    assert.deepEqual(j.slots[12345], { magic: 0x52, seq: 12345, state: 1, pad: [0, 0, 0, 0, 0, 0, 0] });
    assert.equal(j.checks.length, 40000);
    assert.deepEqual(j.checks[1], { path: 'slots[0].state', kind: 'expect', ok: true, expected: 1, actual: 1 });
    assert.deepEqual(j.checks.filter((c: { ok: boolean }) => !c.ok), [
      { path: 'slots[2].magic', kind: 'expect', ok: false, expected: '0x51', actual: '0x52' },
      { path: 'slots[12345].magic', kind: 'expect', ok: false, expected: '0x51', actual: '0x52' },
      { path: 'slots[19999].state', kind: 'expect', ok: false, expected: 1, actual: 9 },
    ]);
    assert.deepEqual(j.diagnostics, []);
    // The tree (node by node, its first elements) shows the same failure of slots[2].
    const tree = cli(['decode', '--file', file, '--schema', schema, '--max-elements', '4']);
    assert.equal(tree.status, 0, tree.stderr);
    assert.match(tree.stdout, /magic: uint32_t = 82 {2}✗ expect expected "0x51", actual "0x52"/);
    assert.match(tree.stdout, /checks: 7 passed, 1 failed/);
  });
});

describe('a limit that cuts decode output exits 4 with one line, and its option lifts it', () => {
  function assertCutShort(r: { status: number | null; stderr: string }, pattern: RegExp): void {
    assert.equal(r.status, 4, `exit status (stderr: ${r.stderr})`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^shmscope: output cut short: /);
    assert.match(lines[0]!, pattern);
  }
  it('--json writes --max-elements elements per array, says so and exits 4; a larger value writes them all', () => {
    const twenty = path.join(dir, 'ring20.bin');
    writeFileSync(twenty, ringBytes(20));
    const r = cli(['decode', '--file', twenty, '--schema', ring, '--json', '--max-elements', '5']);
    assertCutShort(r, /slots has 20 elements, the first 5 written \(--max-elements 20 writes them all\)/);
    const j = JSON.parse(r.stdout);
    assert.equal(j.slots.length, 5);
    assert.deepEqual(j.slots[4], { t_ns: '1700000000123456793', len: 5, text: 'msg 4' });
    const all = cli(['decode', '--file', twenty, '--schema', ring, '--json', '--max-elements', '20']);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stderr, '');
    assert.equal(JSON.parse(all.stdout).slots.length, 20);
  });
  it('the default of 1 000 000 elements per array is a cut too, lifted by --max-elements', () => {
    const schema = path.join(dir, 'bytes.shms');
    writeFileSync(schema, 'segment Bytes { uint8_t v[1000001]; };\n');
    const file = path.join(dir, 'bytes.bin');
    const bytes = new Uint8Array(1_000_001);
    bytes[1_000_000] = 7;
    writeFileSync(file, bytes);
    const r = cli(['decode', '--file', file, '--schema', schema, '--json'], { maxBuffer: 64 << 20 });
    assertCutShort(r, /v has 1000001 elements, the first 1000000 written \(--max-elements 1000001 writes them all\)/);
    assert.equal(JSON.parse(r.stdout).v.length, 1_000_000);
    const all = cli(['decode', '--file', file, '--schema', schema, '--json', '--max-elements', '1000001'], { maxBuffer: 64 << 20 });
    assert.equal(all.status, 0, all.stderr);
    const v = JSON.parse(all.stdout).v as number[];
    assert.equal(v.length, 1_000_001);
    assert.equal(v[1_000_000], 7);
  });
  it('the values budget: --max-values cuts (tree and JSON), and a larger one lifts it', () => {
    const json = cli(['decode', '--file', snap, '--schema', ring, '--json', '--max-values', '3']);
    assertCutShort(json, /decoding stopped after 3 values \(--max-values raises the limit\)/);
    JSON.parse(json.stdout);
    assertCutShort(cli(['decode', '--file', snap, '--schema', ring, '--max-values', '3']), /after 3 values/);
    assert.equal(cli(['decode', '--file', snap, '--schema', ring, '--json', '--max-values', '1000']).status, 0);
  });
  it('a limit that is not a whole number is a user error', () => {
    assertUserError(cli(['decode', '--file', snap, '--schema', ring, '--json', '--max-elements', 'lots']), /--max-elements takes a whole number/);
  });
});

describe('shmscope decode TARGET', () => {
  it('decodes a live segment; the segment bound to its key is picked without --type', () => {
    const key = 0x52494e47;
    const bytes = ringBytes(4);
    let shm: ipc.Target;
    try {
      shm = made.shm(4096, { key });
    } catch {
      // The demo's key may be in use on this machine: bind a fresh key instead.
      const k = freshKey();
      shm = made.shm(4096, { key: k });
      writeFileSync(ring, ringText.replace('0x52494E47', `0x${k.toString(16)}`));
    }
    const h = ipc.openShm(shm, { readWrite: true });
    try {
      h.write(0, bytes);
    } finally {
      h.close();
    }
    try {
      const r = cli(['decode', ipc.formatTarget(shm), '--schema', ring, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.hdr.capacity, 4);
      assert.equal(j.slots[3].text, 'msg 3');
      assert.ok(j.checks.every((c: { ok: boolean }) => c.ok));
    } finally {
      writeFileSync(ring, ringText);
    }
  });
  it('a target that does not exist is one line, exit 1', () => {
    assertUserError(cli(['decode', 'shm:999999999', '--schema', ring]), /./);
  });
});

describe('errors elsewhere in a schema do not stop a decode', () => {
  it('an unrelated error is reported and the type decodes; an affected type decodes up to its error', () => {
    const mixed = path.join(dir, 'mixed.shms');
    writeFileSync(mixed, `${ringText}\nstruct Unrelated { Nope n; };\nstruct Cut { uint32_t a; Missing m; uint32_t after; };\n`);
    const r = cli(['decode', '--file', snap, '--schema', mixed, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).slots.length, 4);
    assert.match(r.stderr, /mixed\.shms:\d+:\d+: error: unknown type "Nope"/);
    assert.match(r.stderr, /note: 2 errors in declarations Ring does not use/);
    const cut = cli(['decode', '--file', snap, '--schema', mixed, '--type', 'Cut', '--json']);
    assert.equal(cut.status, 0, cut.stderr);
    const j = JSON.parse(cut.stdout);
    assert.equal(typeof j.a, 'number');
    assert.equal(j.after, undefined, 'nothing is placed after the member that failed');
    assert.ok(j.diagnostics.some((d: { message: string }) => /Cut is decoded only up to its first error: unknown type "Missing"/.test(d.message)), cut.stdout);
  });
});

describe('shmscope import, -I and -D', () => {
  it('imports a header with its includes and macros into a schema that checks clean', () => {
    const inc = path.join(dir, 'inc');
    mkdirSync(inc, { recursive: true });
    writeFileSync(path.join(inc, 'common.h'), '#pragma once\n#include <stdint.h>\ntypedef struct stats { uint64_t produced, dropped; } stats_t;\ntypedef struct unused { int x; } unused_t;\n');
    const header = path.join(dir, 'wire.h');
    writeFileSync(header, '#include "common.h"\n#define PACKED __attribute__((packed))\n#define SLOTS (1 << 4)\n#define NAME "wire"\nint wire_open(void);\n#ifdef BIG_ENDIAN_WIRE\nstruct wire { uint8_t kind; } PACKED;\n#else\nstruct wire { uint8_t kind; uint32_t value; stats_t s; void (*cb)(int); } PACKED;\n#endif\nstruct ring { struct wire slots[SLOTS]; };\n');
    const out = path.join(dir, 'wire.shms');
    const r = cli(['import', header, '-I', inc, '-o', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.output, out);
    assert.deepEqual(rep.diagnostics, []);
    assert.ok(rep.skipped.some((x: string) => /NAME \(not a numeric constant\)/.test(x)), rep.skipped.join('\n'));
    assert.ok(rep.skipped.some((x: string) => /PACKED \(not a numeric constant\)/.test(x)));
    const text = readFileSync(out, 'utf8');
    assert.match(text, /#define SLOTS \(1 << 4\)|#define SLOTS 16/);
    assert.match(text, /stats_t/);
    // The user's own included header keeps all its types; system headers only what is used.
    assert.match(text, /unused_t/);
    assert.doesNotMatch(text, /wire_open|#include|__fsid_t/);
    const check = cli(['check', '--schema', out, '--json']);
    assert.equal(check.status, 0, check.stdout);
    const wire = cli(['decode', '--file', snap, '--schema', out, '--type', 'ring', '--json']);
    assert.equal(wire.status, 0, wire.stderr);
  });
  it('--cpp preprocesses with the user\'s compiler and flags', () => {
    const header = path.join(dir, 'flags.h');
    writeFileSync(header, '#include <stdint.h>\n#ifdef WIDE\nstruct v { uint64_t x; };\n#else\nstruct v { uint8_t x; };\n#endif\n');
    const out = path.join(dir, 'flags.shms');
    const r = cli(['import', header, '--cpp', 'cc -E', '-D', 'WIDE', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^shmscope: wrote .*flags\.shms: \d+ type declarations/m);
    assert.match(readFileSync(out, 'utf8'), /struct v \{\n\s+uint64_t x;\n\};/);
    assert.equal(cli(['check', '--schema', out]).status, 0);
    assertUserError(cli(['import', header, '--cpp', 'no-such-compiler -E']), /cannot run no-such-compiler: no such command/);
    // The #defines of the header and of the user's headers it includes survive the compiler's
    // preprocessor; its predefined macros and the system headers' do not come along.
    const own = path.join(dir, 'own.h');
    writeFileSync(path.join(dir, 'own-inner.h'), '#define INNER_N 7\nstruct inner { int a[INNER_N]; };\n');
    writeFileSync(own, '#include <stdint.h>\n#include "own-inner.h"\n#define WRAP_N 5\n#define WRAP_MASK (~0U)\nstruct w { struct inner i; int b[WRAP_N]; };\n');
    const c = cli(['import', own, '--cpp', 'cc -E', '--json']);
    assert.equal(c.status, 0, c.stderr);
    const rep = JSON.parse(c.stdout);
    assert.equal(rep.defines, 3, rep.text);
    assert.match(rep.text, /#define INNER_N 7\n#define WRAP_N 5\n#define WRAP_MASK 4294967295\n/);
    assert.doesNotMatch(rep.text, /__GNUC__|INT32_MAX/);
  });
  it('a header past the token limit writes nothing, exits 1 with one line; --max-tokens lifts the limit', () => {
    const header = path.join(dir, 'many.h');
    const structs = Array.from({ length: 30 }, (_, i) => `struct s${i} { int a; int b; };`);
    writeFileSync(header, `${structs.join('\n')}\n`);
    const out = path.join(dir, 'many.shms');
    const r = cli(['import', header, '-o', out, '--max-tokens', '100']);
    assertUserError(r, /many\.h: line 10: too many tokens: the file has more than 100, the rest is not read; nothing written \(--max-tokens 200 /);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.equal(existsSync(out), false);
    const big = cli(['import', header, '-o', out, '--max-tokens', '1000', '--json']);
    assert.equal(big.status, 0, big.stderr);
    assert.equal(JSON.parse(big.stdout).types, 30);
    // The limit on the preprocessed text: few tokens in the file, many after macro expansion.
    const macro = path.join(dir, 'macro.h');
    writeFileSync(macro, `#define S(n) struct n { int a; int b; int c; int d; };\n${Array.from({ length: 30 }, (_, i) => `S(m${i})`).join('\n')}\n`);
    assertUserError(cli(['import', macro, '--max-tokens', '200']), /too many tokens/);
    assert.equal(cli(['import', macro, '--max-tokens', '2000']).status, 0);
  });
  it('a type laid out by ms_struct or scalar_storage_order is refused: import and decode exit 1 naming it', () => {
    const header = path.join(dir, 'order.h');
    writeFileSync(header, 'struct ok { int a; };\nstruct wire { unsigned int v; } __attribute__((scalar_storage_order("big-endian")));\n');
    const out = path.join(dir, 'order.shms');
    const r = cli(['import', header, '-o', out]);
    assertUserError(r, /order\.h: a type has no layout \(line 2: __attribute__\(\(scalar_storage_order\)\) changes the layout and is not supported: struct wire is not laid out\)/);
    const json = cli(['import', header, '--json']);
    assert.equal(json.status, 1, json.stderr);
    assert.equal(JSON.parse(json.stdout).refused.length, 1);
    assertUserError(cli(['decode', '--file', snap, '--schema', out, '--type', 'wire']), /wire has no layout: .*scalar_storage_order/);
    assert.equal(cli(['decode', '--file', snap, '--schema', out, '--type', 'ok', '--json']).status, 0);
  });
  it('a header with errors writes what it could and exits 1 (--keep-going exits 0)', () => {
    const header = path.join(dir, 'errs.h');
    writeFileSync(header, 'struct ok { int a; };\nstruct bad { int a b; };\nstatic_assert(sizeof(struct ok) == 3, "four");\n');
    const out = path.join(dir, 'errs.shms');
    const r = cli(['import', header, '-o', out]);
    assertUserError(r, /errs\.h: 2 errors \(the schema has what could be read; --keep-going exits 0 with it\)/);
    assert.match(r.stderr, /errs\.h:line 2: /);
    assert.match(r.stderr, /errs\.h:line 3: static_assert failed/);
    assert.match(readFileSync(out, 'utf8'), /struct ok \{\n\s+int a;\n\};/);
    const json = cli(['import', header, '--json']);
    assert.equal(json.status, 1, json.stderr);
    assert.equal(JSON.parse(json.stdout).diagnostics.length, 2);
    rmSync(out);
    const kept = cli(['import', header, '-o', out, '--keep-going']);
    assert.equal(kept.status, 0, kept.stderr);
    assert.match(kept.stderr, /errs\.h:line 2: /);
    assert.ok(existsSync(out));
    // --keep-going does not hide a type without a layout: that still exits 1.
    const order = path.join(dir, 'order-kept.h');
    writeFileSync(order, 'struct wire { unsigned int v; } __attribute__((ms_struct));\n');
    assertUserError(cli(['import', order, '--keep-going']), /a type has no layout/);
  });
  it('check takes -I and -D like a compiler', () => {
    const inc = path.join(dir, 'inc2');
    mkdirSync(inc, { recursive: true });
    writeFileSync(path.join(inc, 'x.h'), 'struct x { long a; };\n');
    const s = path.join(dir, 'uses-x.shms');
    writeFileSync(s, '#include <x.h>\nstruct use { struct x v; char n[N]; };\nstatic_assert(sizeof(struct use) == 16);\n');
    assert.equal(cli(['check', '--schema', s, '-I', inc, '-D', 'N=8']).status, 0);
    const r = cli(['check', '--schema', s]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /cannot find the include file <x\.h>/);
  });
});
