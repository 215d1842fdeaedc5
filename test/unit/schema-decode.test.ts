// The schema engine feature by feature, over bytes built in each test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checksum, compileSchema, decode, decodeJson, fieldAt, findType, segmentFor, toJson, type CheckResult, type DecodedNode,
  type StructType,
} from '../../extension/src/shared/schema';
import { BufferSource, type ByteSource as ByteSourceLike } from '../../extension/src/shared/source';
import { ringBytes } from '../helpers/schema-ring';

const ring = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8');

const check = (checks: CheckResult[], p: string, kind: string) => checks.find((c) => c.path === p && c.kind === kind);
const errors = (text: string) => compileSchema(text).diagnostics.filter((d) => d.severity === 'error');

describe('DESIGN.md §4 example, end to end', () => {
  const schema = compileSchema(ring, 'ring.shms');
  test('compiles without diagnostics; Header is 56 bytes; bound to its key', () => {
    assert.deepEqual(schema.diagnostics, []);
    assert.equal(findType(schema, 'Header')?.size, 56);
    assert.equal(findType(schema, 'Slot')?.size, 64);
    assert.equal(segmentFor(schema, { kind: 'key', value: 0x52494e47 })?.name, 'Ring');
  });
  test('JSON has the §5 shape and every check passes', () => {
    const r = decodeJson(schema, undefined, new BufferSource(ringBytes(4)));
    const j = r.json as any;
    assert.deepEqual(Object.keys(j), ['hdr', 'slots', 'checks', 'diagnostics']);
    assert.deepEqual(Object.keys(j.hdr), ['magic', 'version', 'flags', 'capacity', 'slot_size', 'head', 'tail', 'seq', 'crc', 'state', 'stats']);
    assert.equal(j.hdr.state, 'STOPPED');
    assert.deepEqual(j.hdr.stats, { offset: 320, value: { produced: 42, dropped: 7 } });
    assert.equal(j.slots.length, 4);
    assert.deepEqual(j.slots[1], { t_ns: '1700000000123456790', len: 5, text: 'msg 1' });
    assert.deepEqual(j.diagnostics, []);
    assert.deepEqual(j.checks.map((c: any) => `${c.path} ${c.kind} ${c.ok}`), ['hdr.magic expect true', 'hdr.version expect true', 'hdr.seq seqlock true', 'hdr.crc checksum true', 'slots ring true']);
  });
  test('failing checks say expected and actual', () => {
    const r = decodeJson(schema, 'Ring', new BufferSource(ringBytes(4, { badCrc: true, magic: 0x12345678, head: 9n, tail: 1n })));
    const magic = check(r.checks, 'hdr.magic', 'expect')!;
    assert.equal(magic.ok, false);
    assert.equal(magic.expected, '0x474e4952');
    assert.equal(magic.actual, '0x12345678');
    assert.equal(check(r.checks, 'hdr.crc', 'checksum')!.ok, false);
    const ringCheck = check(r.checks, 'slots', 'ring')!;
    assert.equal(ringCheck.ok, false);
    assert.equal(ringCheck.actual, 8);
  });
  test('a tail ahead of head fails the ring check', () => {
    const r = decodeJson(schema, 'Ring', new BufferSource(ringBytes(4, { head: 1n, tail: 3n })));
    assert.equal(check(r.checks, 'slots', 'ring')!.ok, false);
  });
  test('lazy tree: nodes with offsets, paths, displays; fieldAt maps bytes to fields', () => {
    const { root } = decode(schema, 'Ring', new BufferSource(ringBytes(8)));
    assert.ok(root);
    const [hdr, slots] = root.children();
    assert.equal(hdr!.name, 'hdr');
    assert.equal(slots!.childCount, 8);
    const page = slots!.children(6, 100);
    assert.equal(page.length, 2);
    assert.equal(page[0]!.path, 'slots[6]');
    assert.equal(page[0]!.offset, 64 + 6 * 64);
    const t = page[0]!.children()[0]!;
    assert.equal(t.name, 't_ns');
    assert.match(t.display, /^2023-11-14T22:13:20\.123456795Z/);
    const state = hdr!.children().find((c) => c.name === 'state')!;
    assert.equal(state.display, 'STOPPED');
    const at = fieldAt(root, 64 + 3 * 64 + 12 + 2)!;
    assert.equal(at.path, 'slots[3].text');
    assert.equal(at.value, 'msg 3');
    assert.equal(fieldAt(root, 41)!.path, 'hdr.state');
  });
  test('a count of 2^32 - 1 is clamped to the bytes there are, with a diagnostic', () => {
    const bytes = ringBytes(4);
    new DataView(bytes.buffer).setUint32(8, 0xffffffff, true);
    const r = decodeJson(schema, 'Ring', new BufferSource(bytes));
    assert.equal((r.json as any).slots.length, 4);
    assert.ok(r.diagnostics.some((d) => /runs past the end/.test(d.message)));
  });
  test('a truncated segment gives a partial result and diagnostics', () => {
    const r = decodeJson(schema, 'Ring', new BufferSource(ringBytes(4).subarray(0, 30)));
    assert.equal((r.json as any).hdr.magic, 0x474e4952);
    assert.equal((r.json as any).hdr.tail, null);
    assert.ok(r.diagnostics.some((d) => /past the end/.test(d.message)));
  });
});

describe('seqlock', () => {
  const schema = compileSchema('struct S { uint32_t seq [[seqlock]]; uint32_t a; uint32_t b; };');
  test('an odd counter is re-read until even; then the snapshot is consistent', () => {
    const bytes = new Uint8Array(12);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0, 7, true);
    let reads = 0;
    const src: ByteSourceLike = {
      get size() {
        return 12;
      },
      read(off, len) {
        // The writer finishes after a few reads: seq becomes even and the data final.
        if (++reads === 5) {
          dv.setUint32(4, 11, true);
          dv.setUint32(8, 22, true);
          dv.setUint32(0, 8, true);
        }
        return bytes.slice(off, off + len);
      },
    };
    const r = decodeJson(schema, 'S', src);
    assert.deepEqual({ ...(r.json as any), checks: undefined, diagnostics: undefined }, { seq: 8, a: 11, b: 22, checks: undefined, diagnostics: undefined });
    assert.equal(check(r.checks, 'seq', 'seqlock')!.ok, true);
  });
  test('a writer that never finishes is reported unstable after the bounded retries', () => {
    const bytes = new Uint8Array(12);
    const dv = new DataView(bytes.buffer);
    let n = 0;
    let reads = 0;
    const src: ByteSourceLike = {
      size: 12,
      read(off, len) {
        reads++;
        dv.setUint32(0, (n += 2), true); // always changing
        return bytes.slice(off, off + len);
      },
    };
    const r = decodeJson(schema, 'S', src, { seqlockRetries: 10 });
    const c = check(r.checks, 'seq', 'seqlock')!;
    assert.equal(c.ok, false);
    assert.match(c.message!, /no consistent read after 10/);
    assert.ok(reads < 100);
  });
});

describe('checksums', () => {
  const data = new TextEncoder().encode('123456789');
  test('known answers', () => {
    assert.equal(checksum('crc32', data), 0xcbf43926);
    assert.equal(checksum('crc32c', data), 0xe3069283);
    assert.equal(checksum('adler32', data), 0x091e01de);
    assert.equal(checksum('sum8', data), 0xdd);
    assert.equal(checksum('xor8', data), 0x31);
  });
  for (const alg of ['crc32', 'crc32c', 'adler32', 'sum8', 'xor8'] as const) {
    test(`[[checksum(${alg}, …)]] passes on good data and fails on bad`, () => {
      const size = alg === 'sum8' || alg === 'xor8' ? 'uint8_t' : 'uint32_t';
      const schema = compileSchema(`struct S { ${size} sum [[checksum(${alg}, body)]]; uint8_t body[9]; } __attribute__((packed));
struct R { ${size} sum [[checksum(${alg}, ${size === 'uint8_t' ? 1 : 4}, 9)]]; uint8_t body[9]; } __attribute__((packed));`);
      assert.deepEqual(schema.diagnostics, []);
      const n = size === 'uint8_t' ? 1 : 4;
      const bytes = new Uint8Array(n + 9);
      bytes.set(data, n);
      const v = checksum(alg, data);
      for (let i = 0; i < n; i++) bytes[i] = (v >>> (8 * i)) & 0xff;
      for (const type of ['S', 'R']) assert.equal(check(decodeJson(schema, type, new BufferSource(bytes)).checks, 'sum', 'checksum')!.ok, true, type);
      bytes[n + 3]! ^= 0x40;
      for (const type of ['S', 'R']) assert.equal(check(decodeJson(schema, type, new BufferSource(bytes)).checks, 'sum', 'checksum')!.ok, false, type);
    });
  }
});

describe('language features', () => {
  test('endianness: #pragma endian big and per-member le', () => {
    const s = compileSchema('#pragma endian big\nstruct S { uint32_t a; le uint32_t b; uint16_t c; int16_t d; };');
    const bytes = new Uint8Array([0, 0, 1, 2, 2, 1, 0, 0, 0xab, 0xcd, 0xff, 0xfe]);
    const j = decodeJson(s, 'S', new BufferSource(bytes)).json as any;
    assert.equal(j.a, 0x0102);
    assert.equal(j.b, 0x0102);
    assert.equal(j.c, 0xabcd);
    assert.equal(j.d, -2);
  });
  test('data-driven count and condition over earlier fields', () => {
    const s = compileSchema('struct M { uint8_t n; uint8_t has_extra; uint16_t items[n * 2]; uint32_t extra [[if(has_extra != 0)]]; uint8_t last; };');
    assert.deepEqual(errors(s.text), []);
    // extra is a uint32_t: aligned to 4 after the 10 bytes before it.
    const with_ = new Uint8Array([2, 1, 1, 0, 2, 0, 3, 0, 4, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 9]);
    assert.deepEqual(withoutMeta(decodeJson(s, 'M', new BufferSource(with_)).json), { n: 2, has_extra: 1, items: [1, 2, 3, 4], extra: 0xdeadbeef, last: 9 });
    const without = new Uint8Array([1, 0, 5, 0, 6, 0, 7]);
    assert.deepEqual(withoutMeta(decodeJson(s, 'M', new BufferSource(without)).json), { n: 1, has_extra: 0, items: [5, 6], last: 7 });
  });
  test('placement @ relative to the struct, absolute in a segment', () => {
    const s = compileSchema('struct In { uint8_t a @ 3; uint8_t b; };\nsegment Seg { In x @ 4; uint8_t y @ 1; };');
    const j = decodeJson(s, 'Seg', new BufferSource(new Uint8Array([0, 11, 0, 0, 0, 0, 0, 21, 22]))).json as any;
    assert.deepEqual(j.x, { a: 21, b: 22 });
    assert.equal(j.y, 11);
  });
  test('offset<T, self> and offset<T, base, uint32_t>; a cycle is detected, not followed forever', () => {
    const s = compileSchema('struct Node { uint32_t v; offset<Node, self, int32_t> next; };\nstruct Wrap { uint32_t base; offset<Node, base, uint32_t> first; };');
    assert.deepEqual(errors(s.text), []);
    // Node at 0: v=1, next self-relative +8 -> Node at 12 (4+8); Node at 12: next -> back to 0 (16 - 16 = 0).
    const bytes = new Uint8Array(20);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0, 1, true);
    dv.setUint32(4, 8, true);
    dv.setUint32(12, 2, true);
    dv.setInt32(16, -16, true);
    const r = decodeJson(s, 'Node', new BufferSource(bytes));
    const j = r.json as any;
    assert.equal(j.next.value.v, 2);
    assert.equal(j.next.value.next.offset, -16);
    assert.equal(j.next.value.next.value.v, 1);
    assert.equal(j.next.value.next.value.next.value, null);
    assert.ok(r.diagnostics.some((d) => /cycle/.test(d.message)));
  });
  test('an offset past the end is a diagnostic and null', () => {
    const s = compileSchema('struct H { offset<uint64_t> p; };');
    const r = decodeJson(s, 'H', new BufferSource(new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0])));
    assert.deepEqual((r.json as any).p, { offset: 255, value: null });
    assert.ok(r.diagnostics.some((d) => /outside the data/.test(d.message)));
  });
  test('formats, flags enums, enum by name or number, bool, pointers, char text, bitfields', () => {
    const s = compileSchema(`enum [[flags]] Perm : uint8_t { R = 1, W = 2, X = 4 };
enum Color : uint8_t { RED, GREEN };
struct F {
  uint32_t ip [[format(ipv4)]]; uint8_t h [[format(hex)]]; uint8_t b [[format(bin)]]; uint8_t c [[format(char)]];
  uint32_t t [[format(time_s)]]; Perm p; Color col; Color bad; bool ok; void *ptr; char name[6]; unsigned lo : 4, hi : 4;
} __attribute__((packed));`);
    assert.deepEqual(errors(s.text), []);
    const bytes = Uint8Array.from([
      10, 0, 0, 1, /* ip */ 0x0f, /* h */ 5, /* b */ 65, /* c */ 0, 0, 0, 0, /* t */ 5, /* p */ 1, /* col */ 7, /* bad */ 0, /* ok */
      0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, /* ptr */ 104, 105, 0, 120, 0, 0, /* name */ 0x9a, /* lo, hi */
    ]);
    const { root } = decode(s, 'F', new BufferSource(bytes));
    const d = Object.fromEntries(root!.children().map((c) => [c.name, c.display]));
    assert.equal(d.ip, '10.0.0.1');
    assert.equal(d.h, '0x0f');
    assert.equal(d.b, '0b101');
    assert.equal(d.c, "'A'");
    assert.equal(d.t, '1970-01-01T00:00:00Z (0)');
    assert.equal(d.p, 'R|X');
    assert.equal(d.col, 'GREEN');
    assert.match(d.bad!, /^7 \(not a Color value\)/);
    assert.equal(d.ptr, '0x0078563412000000');
    assert.equal(d.name, '"hi"');
    const j = decodeJson(s, 'F', new BufferSource(bytes)).json as any;
    assert.equal(j.p, 'R|X');
    assert.equal(j.bad, 7);
    assert.equal(j.ok, false);
    assert.equal(j.name, 'hi');
    assert.equal(j.lo, 0xa);
    assert.equal(j.hi, 0x9);
  });
  test('64-bit values beyond 2^53 become decimal strings', () => {
    const s = compileSchema('struct W { uint64_t big; int64_t neg; uint64_t edge; int64_t safe; };');
    const bytes = new Uint8Array(32);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, 2n ** 64n - 1n, true);
    dv.setBigInt64(8, -(2n ** 60n), true);
    dv.setBigUint64(16, 2n ** 53n, true);
    dv.setBigInt64(24, -(2n ** 53n - 1n), true);
    const want = { big: '18446744073709551615', neg: '-1152921504606846976', edge: '9007199254740992', safe: -(2 ** 53 - 1) };
    assert.deepEqual(withoutMeta(decodeJson(s, 'W', new BufferSource(bytes)).json), want);
    // The general path (a check on the struct forces it) agrees with the generated decoder.
    const slow = compileSchema('struct W { uint64_t big; int64_t neg; uint64_t edge; int64_t safe [[expect(0)]]; };');
    assert.deepEqual(withoutMeta(decodeJson(slow, 'W', new BufferSource(bytes)).json), want);
  });
  test('expect on an enum by name and on text', () => {
    const s = compileSchema('enum St : uint8_t { A, B };\nstruct X { St s [[expect(B)]]; char tag[4] [[expect("ok")]]; };');
    const r = decodeJson(s, 'X', new BufferSource(new Uint8Array([1, 111, 107, 0, 0])));
    assert.deepEqual(r.checks.map((c) => [c.path, c.ok, c.expected, c.actual]), [['s', true, 'B', 'B'], ['tag', true, 'ok', 'ok']]);
    const bad = decodeJson(s, 'X', new BufferSource(new Uint8Array([0, 110, 111, 0, 0])));
    assert.deepEqual(bad.checks.map((c) => [c.path, c.ok, c.expected, c.actual]), [['s', false, 'B', 'A'], ['tag', false, 'ok', 'no']]);
  });
  test('bindings: key, id, posix', () => {
    const s = compileSchema('segment A for key 0x10 { uint8_t a; };\nsegment B for id 7 { uint8_t b; };\nsegment C for posix "/ring" { uint8_t c; };');
    assert.deepEqual(s.diagnostics, []);
    assert.equal(segmentFor(s, { kind: 'key', value: 16 })?.name, 'A');
    assert.equal(segmentFor(s, { kind: 'id', value: 7 })?.name, 'B');
    assert.equal(segmentFor(s, { kind: 'posix', value: '/ring' })?.name, 'C');
  });
  test('sizeof, offsetof, numeric #define and static_assert', () => {
    const s = compileSchema('#define N (2 + 2)\nstruct S { char a; int b[N]; };\nstatic_assert(sizeof(S) == 20, "size");\nstatic_assert(offsetof(S, b) == 4);\nstatic_assert(sizeof(struct S) == 21, "wrong on purpose");');
    const e = s.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(e.length, 1);
    assert.match(e[0]!.message, /static_assert failed: wrong on purpose: 20 == 21 is false/);
    assert.equal(e[0]!.range.start.line, 4);
  });
});

describe('diagnostics and recovery', () => {
  test('one typo gives one diagnostic; the rest of the file still compiles', () => {
    const s = compileSchema('struct A { uint32_t x; uint32_t y };\nstruct B { uint32_t z; };\nstruct C { Nope n; B b; };');
    const msgs = s.diagnostics.map((d) => `${d.range.start.line}:${d.message}`);
    assert.equal(msgs.length, 2, msgs.join('\n'));
    assert.match(msgs[0]!, /^0:expected ";"/);
    assert.match(msgs[1]!, /^2:unknown type "Nope"/);
    assert.equal(findType(s, 'B')?.size, 4);
    // C's layout stops at the member it cannot lay out: b is never placed at a guessed offset.
    const c = findType(s, 'C') as StructType;
    assert.deepEqual(c.fields.map((f) => f.name), []);
    assert.match(c.errors?.[0]?.message ?? '', /unknown type "Nope"/);
  });
  test('bad attributes, formats, pragmas and ring arguments are reported with ranges', () => {
    const s = compileSchema('#pragma pack(3)\n#pragma endian middle\nstruct S { uint32_t a [[format(nope)]]; uint32_t b [[checksum(md5, a)]]; uint8_t r[2] [[ring(head = a)]]; uint32_t q [[bogus]]; };');
    const m = s.diagnostics.map((d) => d.message).join('\n');
    assert.match(m, /pack value must be/);
    assert.match(m, /endian must be little or big/);
    assert.match(m, /unknown format/);
    assert.match(m, /checksum\]\] is one of/);
    assert.match(m, /needs both head and tail/);
    assert.match(m, /unknown attribute "bogus"/);
    for (const d of s.diagnostics) assert.ok(d.range.end.line >= d.range.start.line);
  });
  test('a struct containing itself by value is an error, not a hang', () => {
    assert.match(errors('struct L { int v; struct L next; };').map((d) => d.message).join(), /contains itself/);
  });
  test('unknown type name given to decode is a diagnostic naming the choices', () => {
    const s = compileSchema(ring);
    const r = decode(s, 'Nope', new BufferSource(new Uint8Array(8)));
    assert.equal(r.root, undefined);
    assert.match(r.diagnostics[0]!.message, /no type "Nope".*Ring/);
  });
});

describe('bounds', () => {
  test('children() is capped per request; the work budget stops a giant decode', () => {
    const s = compileSchema('struct Big { uint8_t n[1000000]; };');
    const { root } = decode(s, 'Big', new BufferSource(new Uint8Array(1_000_000)), { maxElements: 500, maxWork: 10_000 });
    const arr = root!.children()[0]!;
    assert.equal(arr.childCount, 1_000_000);
    assert.equal(arr.children(0, 100_000).length, 500);
    let got = 0;
    for (let i = 0; i < 100; i++) got += arr.children(i * 500, 500).length;
    assert.ok(got < 11_000, `${got}`);
    assert.ok(arr.diagnostics.some((d) => /decoding stopped/.test(d.message)));
  });
  test('an array with checks ([[ring]], a [[checksum]] over it) keeps the generated decoder, with the same JSON as node by node', () => {
    const s = compileSchema(ring);
    for (const o of [{}, { badCrc: true }, { head: 3n, tail: 9n }]) {
      const src = new BufferSource(ringBytes(1000, o));
      // A budget of 200 values: one node per slot would spend it (and say so); the generated decoder counts the array once.
      const fast = decodeJson(s, 'Ring', src, { maxWork: 200 });
      assert.equal(fast.budgetSpent, undefined);
      assert.equal((fast.json.slots as unknown[]).length, 1000);
      assert.ok(fast.checks.some((c) => c.kind === 'ring'));
      // The same values as the nodes of each slot.
      const slots = decode(s, 'Ring', src).root!.children()[1]!;
      for (const i of [0, 1, 499, 999]) {
        const [t, len, text] = slots.children(i, 1)[0]!.children();
        assert.deepEqual((fast.json.slots as unknown[])[i], { t_ns: String(t!.value), len: Number(len!.value), text: text!.value });
      }
    }
  });
  test('absolute-pointer flags on the generated decoder: the same warnings, paths, ranges and order as node by node', () => {
    const s = compileSchema('struct In { uint64_t a; int64_t b be; void *p; uint32_t small; };\nstruct E { uint64_t x; struct In in; uint64_t v[2]; };\nsegment S { struct E items[50]; uint64_t raw[10]; };\n');
    assert.deepEqual(s.diagnostics, []);
    const X = 0x7f00_0000_1000n;
    const size = 50 * 56 + 80;
    const bytes = new Uint8Array(size);
    const dv = new DataView(bytes.buffer);
    // Every 8-byte slot in turn holds X in the byte order of the member there (b is big-endian).
    for (let o = 0, k = 0; o + 8 <= size; o += 8, k++) if (k % 3 === 0) dv.setBigUint64(o, X, !(o < 2800 && o % 56 === 16));
    const note = (v: bigint) => (v === X ? 'pointer into this segment as mapped by pid 42; offset 0x10' : undefined);
    const fast = decodeJson(s, 'S', new BufferSource(bytes), { pointers: note, maxWork: 100 });
    assert.equal(fast.budgetSpent, undefined, 'the arrays went through the generated decoder');
    const nodes: DecodedNode[] = [];
    const walk = (n: DecodedNode) => {
      nodes.push(n);
      for (let i = 0; i < n.childCount; i += 1000) for (const c of n.children(i, 1000)) walk(c);
    };
    walk(decode(s, 'S', new BufferSource(bytes), { pointers: note }).root!);
    const slow = nodes.flatMap((n) => n.diagnostics).filter((d) => /store an offset/.test(d.message));
    const flagged = fast.diagnostics.filter((d) => /store an offset/.test(d.message));
    assert.ok(slow.length > 20, `${slow.length}`);
    assert.deepEqual(flagged.map((d) => [d.message, d.range]), slow.map((d) => [d.message, d.range]));
    assert.ok(flagged.some((d) => /^items\[\d+\]\.in\.b: /.test(d.message)), 'a big-endian member');
    assert.ok(flagged.some((d) => d.message.startsWith('raw[')));
  });
  test('an array whose element type carries [[expect]]s keeps the generated decoder: JSON, checks and diagnostics as node by node, failures anywhere', () => {
    const text = `#define MAGIC 0x51
enum State : uint8_t { IDLE = 0, READY = 1 };
struct Inner { uint16_t tag be [[expect(7)]]; int8_t sign [[expect(-1)]]; uint8_t r; };
struct Slot {
  uint32_t magic [[expect(MAGIC)]];
  State state [[expect(READY)]];
  uint8_t flags [[format(hex)]] [[expect(3)]];
  uint16_t small [[expect(5)]] [[expect(MAGIC + 1)]];
  uint64_t big [[expect(0x123456789abcdef0)]];
  Inner in;
  Inner two[2];
  struct { int32_t minus [[expect(-2)]]; };
  float f;
};
segment S { uint32_t n; Slot slots[N]; };
`;
    // 36 bytes of members, 40 with the tail padding of an 8-byte alignment; the slots start at 8.
    const SLOT = 40;
    // Each check's member (offset, size, big-endian) and the bytes that pass it.
    const good: [number, number[]][] = [
      [0, [0x51, 0, 0, 0]], [4, [1]], [5, [3]], [6, [5, 0]], [8, [0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12]],
      [16, [0, 7]], [18, [0xff]], [20, [0, 7]], [22, [0xff]], [24, [0, 7]], [26, [0xff]], [28, [0xfe, 0xff, 0xff, 0xff]],
    ];
    const slot = fc.record({ raw: fc.uint8Array({ minLength: SLOT, maxLength: SLOT }), pass: fc.array(fc.boolean(), { minLength: good.length, maxLength: good.length }) });
    fc.assert(
      fc.property(fc.array(slot, { minLength: 1, maxLength: 40 }), fc.boolean(), (slots, dataDriven) => {
        // With an expected value from data (`small` against `magic`), the nodes check every element: still the same result.
        const s = compileSchema((dataDriven ? text.replace('[[expect(MAGIC + 1)]]', '[[expect(magic)]]') : text).replace('[N]', `[${slots.length}]`));
        assert.deepEqual(s.diagnostics, []);
        assert.equal(findType(s, 'Slot')?.size, SLOT);
        const bytes = new Uint8Array(8 + SLOT * slots.length);
        slots.forEach((e, i) => {
          const o = 8 + i * SLOT;
          bytes.set(e.raw, o);
          e.pass.forEach((ok, k) => ok && bytes.set(good[k]![1], o + good[k]![0]));
        });
        const src = new BufferSource(bytes);
        const slow = decodeJson(s, 'S', src, { generated: false, maxWork: 1e9 });
        // A budget the nodes of even one slot would overrun: only the generated decoder stays within it.
        const fast = decodeJson(s, 'S', src, { maxWork: dataDriven ? 1e9 : 10 });
        assert.equal(fast.budgetSpent, undefined);
        assert.deepEqual(fast.json, slow.json);
        assert.deepEqual(fast.checks, slow.checks);
        assert.deepEqual(fast.diagnostics, slow.diagnostics);
        assert.equal(slow.checks.length, slots.length * 13, "13 checks a slot (two on `small`)");
      }),
      { numRuns: 150 },
    );
  });
  test('element checks: a member named like a constant (in the element or around the array) is what the expectation reads, as node by node', () => {
    for (const [where, text] of [
      ['around', 'enum Lim : uint8_t { LIMIT = 0x51 };\nstruct Slot { uint32_t magic [[expect(LIMIT)]]; };\nsegment S { uint32_t LIMIT; Slot slots[3]; };\n'],
      ['in the element', 'enum Lim : uint8_t { LIMIT = 0x51 };\nstruct Slot { uint32_t LIMIT; uint32_t magic [[expect(LIMIT)]]; };\nsegment S { uint32_t n; Slot slots[2]; };\n'],
    ] as const) {
      const s = compileSchema(text);
      assert.deepEqual(s.diagnostics, []);
      const bytes = new Uint8Array(20);
      bytes.set([7, 0, 0, 0, 7, 0, 0, 0, 0x51, 0, 0, 0, 7], 0);
      const src = new BufferSource(bytes);
      const fast = decodeJson(s, 'S', src);
      assert.deepEqual(fast.json, decodeJson(s, 'S', src, { generated: false }).json, where);
      assert.ok(fast.checks.length > 0 && fast.checks.every((c) => c.expected === 7), where);
    }
  });
  test('element checks on the generated decoder: a failure in the middle of a long array, as expected and actual', () => {
    const s = compileSchema('struct Slot { uint32_t magic [[expect(0x51)]]; uint32_t seq; };\nsegment S { Slot slots[5000]; };\n');
    const bytes = new Uint8Array(8 * 5000);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < 5000; i++) dv.setUint32(i * 8, i === 2500 ? 0x52 : 0x51, true);
    const r = decodeJson(s, 'S', new BufferSource(bytes), { maxWork: 10 });
    assert.equal(r.budgetSpent, undefined);
    assert.equal(r.checks.length, 5000);
    const failed = r.checks.filter((c) => c.ok === false);
    assert.deepEqual(failed.map((c) => [c.path, c.expected, c.actual]), [['slots[2500].magic', '0x51', '0x52']]);
    assert.deepEqual(r.checks[2499]!.path, 'slots[2499].magic');
    assert.equal(r.checks[2499]!.ok, true);
  });
  test('an array cut by maxArrayElements is reported in `cut`', () => {
    const s = compileSchema(ring);
    const r = decodeJson(s, 'Ring', new BufferSource(ringBytes(50)), { maxArrayElements: 7 });
    assert.equal((r.json.slots as unknown[]).length, 7);
    assert.deepEqual(r.cut, [{ path: 'slots', total: 50, written: 7 }]);
  });
  test('deep nesting is cut at maxDepth', () => {
    let text = 'struct T0 { uint8_t v; };\n';
    for (let i = 1; i < 100; i++) text += `struct T${i} { T${i - 1} in; };\n`;
    const s = compileSchema(text);
    assert.deepEqual(errors(text), []);
    const r = decodeJson(s, 'T99', new BufferSource(new Uint8Array(1)), { maxDepth: 20 });
    assert.ok(r.diagnostics.some((d) => /deeper than 20/.test(d.message)));
  });
  test('toJson writes at most maxElements per array', () => {
    const s = compileSchema('struct A { uint16_t v[100]; };');
    const report = { checks: [], diagnostics: [] };
    const { root } = decode(s, 'A', new BufferSource(new Uint8Array(200)));
    const j = toJson(root!, report, { maxArrayElements: 10 }) as any;
    assert.equal(j.v.length, 10);
    assert.equal(report.diagnostics.length, 1);
  });
});

function withoutMeta(j: unknown): unknown {
  const { checks: _c, diagnostics: _d, ...rest } = j as Record<string, unknown>;
  return rest;
}
export type { DecodedNode };

describe('more shapes', () => {
  test('byte order after the name and as an attribute', () => {
    const s = compileSchema('struct E { uint16_t a be; uint16_t b [[be]]; uint16_t c; be uint16_t d @ 6; };');
    assert.deepEqual(errors(s.text), []);
    assert.deepEqual(withoutMeta(decodeJson(s, 'E', new BufferSource(new Uint8Array([1, 2, 1, 2, 1, 2, 1, 2]))).json), { a: 0x102, b: 0x102, c: 0x201, d: 0x102 });
  });
  test('anonymous unions and structs are flattened in JSON, in both decoders', () => {
    const text = 'struct V { uint8_t tag; union { uint32_t u; struct { uint16_t lo; uint16_t hi; }; }; };';
    const bytes = new Uint8Array([7, 0, 0, 0, 0x78, 0x56, 0x34, 0x12]);
    const want = { tag: 7, u: 0x12345678, lo: 0x5678, hi: 0x1234 };
    assert.deepEqual(withoutMeta(decodeJson(compileSchema(text), 'V', new BufferSource(bytes)).json), want);
    const slow = compileSchema(text.replace('uint8_t tag;', 'uint8_t tag [[expect(7)]];'));
    assert.deepEqual(withoutMeta(decodeJson(slow, 'V', new BufferSource(bytes)).json), want);
    // Expressions see through anonymous members.
    const cnt = compileSchema(`${text}\nstruct W { V v; uint8_t data[v.lo - 0x5670]; };`);
    const w = new Uint8Array([...bytes, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual((decodeJson(cnt, 'W', new BufferSource(w)).json as any).data, [1, 2, 3, 4, 5, 6, 7, 8]);
  });
  test('checks inside array elements are reported per element', () => {
    const s = compileSchema('struct R { uint8_t magic [[expect(0xAA)]]; uint8_t v; };\nstruct T { R rows[3]; };');
    const r = decodeJson(s, 'T', new BufferSource(new Uint8Array([0xaa, 1, 0xab, 2, 0xaa, 3])));
    assert.deepEqual(r.checks.map((c) => `${c.path}:${c.ok}`), ['rows[0].magic:true', 'rows[1].magic:false', 'rows[2].magic:true']);
    assert.deepEqual((r.json as any).rows.map((x: any) => x.v), [1, 2, 3]);
  });
  test('typedefs of arrays, pointers and floats decode', () => {
    const s = compileSchema('typedef float vec3[3];\ntypedef struct { vec3 pos; double w; char *name; } P;');
    const bytes = new Uint8Array(32);
    const dv = new DataView(bytes.buffer);
    dv.setFloat32(0, 1.5, true);
    dv.setFloat32(4, -2, true);
    dv.setFloat32(8, Number.NaN, true);
    dv.setFloat64(16, 0.25, true);
    assert.equal(findType(s, 'P')!.size, 32);
    assert.deepEqual(withoutMeta(decodeJson(s, 'P', new BufferSource(new Uint8Array([...bytes, 0, 0, 0, 0, 0, 0, 0, 0]))).json), { pos: [1.5, -2, 'NaN'], w: 0.25, name: '0x0' });
  });
});

describe('arrays larger than the data', () => {
  test('a fixed count of 2^32 - 1 shows what exists with one diagnostic', () => {
    const s = compileSchema('struct H { uint32_t n; uint8_t big[0xffffffff]; };');
    const r = decodeJson(s, 'H', new BufferSource(new Uint8Array([1, 0, 0, 0, 9, 8, 7])));
    assert.deepEqual((r.json as any).big, [9, 8, 7]);
    assert.equal(r.diagnostics.length, 1);
    assert.match(r.diagnostics[0]!.message, /4294967295 elements do not fit.*3 do/);
  });
  test('data-sized elements are laid out once, not once per element asked for', () => {
    const s = compileSchema('struct Rec { uint8_t len; uint8_t body[len]; };\nstruct F { uint16_t n; Rec recs[n]; };');
    const bytes = [200, 0];
    for (let i = 0; i < 200; i++) bytes.push(2, i, i);
    let reads = 0;
    const src = new BufferSource(Uint8Array.from(bytes));
    const counting = { get size() { return src.size; }, read: (o: number, l: number) => { reads++; return src.read(o, l); } };
    const j = decodeJson(s, 'F', counting).json as any;
    assert.equal(j.recs.length, 200);
    assert.deepEqual(j.recs[199], { len: 2, body: [199, 199] });
    assert.ok(reads < 10, `${reads} reads`);
  });
});

test('a [[format]] on an array applies to its elements', () => {
  const s = compileSchema('struct N { uint8_t mac[3] [[format(hex)]]; };');
  const { root } = decode(s, 'N', new BufferSource(new Uint8Array([0xde, 0xad, 0x01])));
  assert.deepEqual(root!.children()[0]!.children().map((c) => c.display), ['0xde', '0xad', '0x01']);
});
