// Editing a decoded field: DecodedNode.encode (schema/encode.ts) turns typed text into the bytes
// that store it; writing them and decoding again must give the value typed. Also the ring info.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileSchema, decode, type DecodedNode } from '../../extension/src/shared/schema';
import { BufferSource } from '../../extension/src/shared/source';
import { ringBytes } from '../helpers/schema-ring';

const ring = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8');

function compiled(text: string) {
  const s = compileSchema(text);
  assert.deepEqual(s.diagnostics.filter((d) => d.severity === 'error'), []);
  return s;
}

/** The node at a dotted path (`a.b`, `arr[2]`), decoding only along the way. */
function nodeAt(root: DecodedNode, p: string): DecodedNode {
  let n = root;
  for (const part of p.match(/[^.[\]]+|\[\d+\]/g)!) {
    const next = part.startsWith('[') ? n.children(Number(part.slice(1, -1)), 1)[0] : n.children().find((c) => c.name === part);
    assert.ok(next, `no ${part} in ${n.path || n.name}`);
    n = next;
  }
  return n;
}

/** Every descendant of `n` (small trees only). */
function all(n: DecodedNode): DecodedNode[] {
  return [n, ...n.children(0, n.childCount).flatMap(all)];
}

/** Encodes `text` into the field at `p`, writes the bytes into `buf`, decodes again: the new node. */
function edit(schema: ReturnType<typeof compileSchema>, type: string, buf: Uint8Array, p: string, text: string): DecodedNode {
  const before = nodeAt(decode(schema, type, new BufferSource(buf)).root!, p);
  assert.ok(before.encode, `${p} is editable`);
  const r = before.encode(text);
  assert.equal(r.offset, before.offset);
  assert.ok(r.offset + r.bytes.length <= buf.length);
  buf.set(r.bytes, r.offset);
  return nodeAt(decode(schema, type, new BufferSource(buf)).root!, p);
}

function fails(f: () => unknown, code: string, message: RegExp | string) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal((e as Error & { code?: string }).code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

const ALL = (endian: 'little' | 'big') => `#pragma endian ${endian}
enum [[flags]] Perm : uint16_t { R = 1, W = 2, X = 4 };
enum Color : uint8_t { RED = 1, GREEN = 2, BLUE = 3 };
struct S {
  int8_t i8; uint8_t u8; int16_t i16; uint16_t u16; int32_t i32; uint32_t u32; int64_t i64; uint64_t u64;
  float f; double d; bool ok; char c; Color col; Perm perm;
  void *ptr; offset<S> off; offset<S, self, int32_t> rel;
  char name[8];
  uint64_t t_ns [[format(time_ns)]]; uint32_t t_s [[format(time_s)]];
  uint32_t ip [[format(ipv4)]]; uint8_t h [[format(hex)]]; int8_t sh [[format(hex)]]; uint8_t ch [[format(char)]];
  uint8_t before; unsigned lo : 3, mid : 4; int neg : 5; unsigned hi : 9; uint8_t after;
  uint8_t grid[2][4];
  struct { uint16_t x; } inner;
} __attribute__((packed));`;

describe('DecodedNode.encode: every editable kind round-trips', () => {
  for (const endian of ['little', 'big'] as const) {
    const schema = compiled(ALL(endian));
    const size = 128;
    const cases: [string, string, unknown][] = [
      ['i8', '-128', -128n], ['i8', '127', 127n], ['i8', "'A'", 65n], ['i8', '0xff', -1n], ['i8', "'é'", -23n],
      ['u8', '255', 255n], ['u8', '0b1010_1010', 0xaan], ['u8', '0o17', 15n], ['u8', "'\\n'", 10n], ['u8', "'é'", 0xe9n],
      ['i16', '-32768', -32768n], ['i16', "1'000", 1000n], ['u16', '0xBEEF', 0xbeefn],
      ['i32', '-2147483648', -2147483648n], ['i32', '+42', 42n], ['u32', '4294967295', 4294967295n], ['u32', ' 7u ', 7n],
      ['i64', '-9223372036854775808', -(2n ** 63n)], ['i64', '9223372036854775807', 2n ** 63n - 1n], ['i64', '-0x10', -16n],
      ['u64', '18446744073709551615', 2n ** 64n - 1n], ['u64', '0xffff_ffff_ffff_ffffULL', 2n ** 64n - 1n],
      ['f', '1.5', 1.5], ['f', '-inf', -Infinity], ['f', '3.4028234663852886e38', 3.4028234663852886e38], ['f', '0.1', Math.fround(0.1)],
      ['d', '-2.5e-300', -2.5e-300], ['d', 'inf', Infinity], ['d', '0x10', 16],
      ['ok', 'true', 1n], ['ok', 'FALSE', 0n], ['ok', '1', 1n],
      ['c', "'z'", 122n], ['c', '-5', -5n],
      ['col', 'BLUE', 3n], ['col', '2', 2n], ['col', '9', 9n],
      ['perm', 'R | X', 5n], ['perm', 'W|0x10', 0x12n], ['perm', 'X', 4n], ['perm', '0', 0n],
      ['ptr', '0x00007f0012345678', 0x7f0012345678n],
      ['off', '64', 64n], ['rel', '-8', -8n], ['rel', '0xfffffff8', -8n],
      ['name', 'hello', 'hello'], ['name', '"a\\nb\\u00e9"', 'a\nbé'], ['name', '12345678', '12345678'], ['name', '', ''], ['name', 'мир', 'мир'],
      ['t_ns', '2026-11-23T10:00:00Z', 1_795_428_000_000_000_000n], ['t_ns', '2026-11-23T10:00:00.000000123Z', 1_795_428_000_000_000_123n],
      ['t_ns', '2026-11-23T11:00:00+01:00', 1_795_428_000_000_000_000n], ['t_ns', '5', 5n],
      ['t_s', '2026-11-23T10:00:00Z', 1_795_428_000n], ['t_s', '1970-01-01', 0n],
      ['ip', '192.168.1.20', undefined], ['h', '0x7f', 0x7fn], ['sh', '0x80', -128n], ['ch', "'\\x41'", 65n], ['ch', "'\\\\'", 92n],
      ['lo', '7', 7n], ['mid', '0b1001', 9n], ['neg', '-16', -16n], ['neg', '15', 15n], ['hi', '511', 511n],
      ['grid[1][3]', '200', 200n], ['inner.x', '0x1234', 0x1234n],
    ];
    for (const [p, text, want] of cases) {
      test(`${endian} endian: ${p} = ${text}`, () => {
        const buf = new Uint8Array(size).fill(0x5a);
        const after = edit(schema, 'S', buf, p, text);
        if (p === 'ip') assert.equal(after.display, text);
        else if (typeof want === 'number' && Number.isNaN(want)) assert.ok(Number.isNaN(after.value));
        else assert.equal(after.value, want);
      });
    }
    test(`${endian} endian: multi-byte integers are stored in that byte order`, () => {
      const buf = new Uint8Array(size);
      const n = edit(schema, 'S', buf, 'u32', '0x01020304');
      assert.deepEqual([...buf.subarray(n.offset, n.offset + 4)], endian === 'little' ? [4, 3, 2, 1] : [1, 2, 3, 4]);
      const d = nodeAt(decode(schema, 'S', new BufferSource(buf)).root!, 'd');
      const r = d.encode!('1');
      assert.deepEqual([...r.bytes], endian === 'little' ? [0, 0, 0, 0, 0, 0, 0xf0, 0x3f] : [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
    });
    test(`${endian} endian: nan is stored as a NaN`, () => {
      const buf = new Uint8Array(size);
      for (const p of ['f', 'd']) assert.ok(Number.isNaN(edit(schema, 'S', buf, p, 'nan').value));
    });
  }
});

describe('DecodedNode.encode: which nodes are editable', () => {
  const schema = compiled(ALL('little'));
  const root = decode(schema, 'S', new BufferSource(new Uint8Array(128))).root!;
  test('scalars, bit-fields and char arrays are; structs, arrays and the root are not', () => {
    const editable = all(root).filter((n) => n.encode !== undefined).map((n) => n.path);
    // (off.value is the struct the offset points to: its own fields are editable there.)
    const not = all(root).filter((n) => n.encode === undefined && !n.path.startsWith('off.')).map((n) => n.path);
    assert.deepEqual(not, ['', 'grid', 'grid[0]', 'grid[1]', 'inner']);
    for (const p of ['i8', 'f', 'ok', 'col', 'perm', 'ptr', 'off', 'rel', 'name', 'lo', 'neg', 'grid[1][2]', 'inner.x']) assert.ok(editable.includes(p), p);
  });
  test('a field past the end of the data is an error node and not editable', () => {
    const short = decode(schema, 'S', new BufferSource(new Uint8Array(10))).root!;
    const i64 = nodeAt(short, 'i64');
    assert.equal(i64.kind, 'error');
    assert.equal(i64.encode, undefined);
  });
  test('a char array cut short by the end of the data still shows its text but is not editable', () => {
    const s = compiled('struct T { uint8_t a; char name[8]; };');
    const name = nodeAt(decode(s, 'T', new BufferSource(Uint8Array.from([1, 104, 105]))).root!, 'name');
    assert.equal(name.value, 'hi');
    assert.equal(name.encode, undefined);
  });
  test('long double is shown but not editable', () => {
    const s = compiled('struct L { long double x; };');
    assert.equal(nodeAt(decode(s, 'L', new BufferSource(new Uint8Array(16))).root!, 'x').encode, undefined);
  });
});

describe('DecodedNode.encode: errors a person can act on', () => {
  const schema = compiled(ALL('little'));
  const root = decode(schema, 'S', new BufferSource(new Uint8Array(128))).root!;
  const enc = (p: string, text: string) => () => nodeAt(root, p).encode!(text);
  test('ERANGE names the value, the type and its range', () => {
    fails(enc('u8', '300'), 'ERANGE', '300 does not fit in uint8_t (0 … 255)');
    fails(enc('u8', '-1'), 'ERANGE', '-1 does not fit in uint8_t (0 … 255)');
    fails(enc('i8', '128'), 'ERANGE', '128 does not fit in int8_t (-128 … 127)');
    fails(enc('i8', '-129'), 'ERANGE', '-129 does not fit in int8_t (-128 … 127)');
    fails(enc('i8', '0x100'), 'ERANGE', '0x100 does not fit in int8_t (-128 … 127)');
    fails(enc('i64', '9223372036854775808'), 'ERANGE', '9223372036854775808 does not fit in int64_t (-9223372036854775808 … 9223372036854775807)');
    fails(enc('u64', '18446744073709551616'), 'ERANGE', /does not fit in uint64_t \(0 … 18446744073709551615\)/);
    fails(enc('col', '256'), 'ERANGE', '256 does not fit in Color (0 … 255)');
    fails(enc('perm', 'R|0x10000'), 'ERANGE', /does not fit in Perm \(0 … 65535\)/);
    fails(enc('ptr', '-1'), 'ERANGE', '-1 does not fit in void* (0 … 18446744073709551615)');
    fails(enc('i16', "'A'"), 'EINVAL', /not a number/); // char literals are for 1-byte integers
    fails(enc('t_s', '2200-01-01T00:00:00Z'), 'ERANGE', /does not fit in uint32_t \(0 … 4294967295\)/);
  });
  test('bit-fields are range-checked on their width and signedness', () => {
    fails(enc('lo', '8'), 'ERANGE', '8 does not fit in unsigned int : 3 (0 … 7)');
    fails(enc('neg', '16'), 'ERANGE', '16 does not fit in int : 5 (-16 … 15)');
    fails(enc('neg', '-17'), 'ERANGE', /-17 does not fit in int : 5/);
    fails(enc('hi', '512'), 'ERANGE', /\(0 … 511\)/);
  });
  test('floats: too large for float is ERANGE; a double takes it', () => {
    fails(enc('f', '3.5e38'), 'ERANGE', /does not fit in float/);
    assert.equal(nodeAt(root, 'd').encode!('3.5e38').bytes.length, 8);
    fails(enc('f', 'abc'), 'EINVAL', /"abc" is not a number/);
    fails(enc('d', ''), 'EINVAL', /is not a number/);
    fails(enc('d', 'banana'), 'EINVAL', /"banana" is not a number/);
  });
  test('EINVAL says what would be accepted', () => {
    fails(enc('u32', 'abc'), 'EINVAL', '"abc" is not a number (decimal, 0x hex, 0b binary)');
    fails(enc('u32', '12abc'), 'EINVAL', /not a number/);
    fails(enc('u32', '0x'), 'EINVAL', /not a number/);
    fails(enc('u32', '1__0'), 'EINVAL', /not a number/);
    fails(enc('u32', '1.5'), 'EINVAL', /not a number/);
    fails(enc('u32', '   '), 'EINVAL', /empty/);
    fails(enc('u32', "'A'"), 'EINVAL', /not a number/);
    fails(enc('ok', 'yes'), 'EINVAL', /true, false/);
    fails(enc('col', 'PURPLE'), 'EINVAL', '"PURPLE" is not a Color value (RED, GREEN, BLUE, or a number)');
    fails(enc('perm', 'R|Q'), 'EINVAL', '"Q" is not a Perm flag (R, W, X, or a number)');
    fails(enc('c', "'ab'"), 'EINVAL', /not a character literal/);
    fails(enc('t_ns', '2026-02-30T00:00:00Z'), 'EINVAL', /not a valid date-time/);
    fails(enc('t_s', '2026-11-23T10:00:00.5Z'), 'EINVAL', /whole seconds/);
    fails(enc('t_ns', '2026-11-23T10:00:00Z (5)'), 'EINVAL', /disagree/);
    fails(enc('ip', '1.2.3.256'), 'EINVAL', /IPv4/);
    fails(enc('name', '"unterminated'), 'EINVAL', /not a string literal/);
  });
  test('text longer than the array is ERANGE; exactly the array fits without a NUL', () => {
    fails(enc('name', '123456789'), 'ERANGE', '"123456789" is 9 bytes; name[8] holds 8');
    assert.equal(nodeAt(root, 'name').encode!('мир!!').bytes.at(-1), 0x21); // 6 + 2 bytes: exactly full
    fails(enc('name', 'миры!'), 'ERANGE', '"миры!" is 9 bytes; name[8] holds 8');
  });
});

describe('DecodedNode.encode: bytes around the field', () => {
  const schema = compiled(ALL('little'));
  test('a text covers the whole array, NUL-padded: a shorter text clears the old tail', () => {
    const buf = new Uint8Array(128);
    const n0 = edit(schema, 'S', buf, 'name', 'abcdefgh');
    const n = edit(schema, 'S', buf, 'name', 'xy');
    assert.equal(n.value, 'xy');
    assert.deepEqual([...buf.subarray(n0.offset, n0.offset + 8)], [120, 121, 0, 0, 0, 0, 0, 0]);
    const r = n.encode!('"q"');
    assert.equal(r.bytes.length, 8);
  });
  test('Latin-1 when every character fits in a byte, else UTF-8', () => {
    const root = decode(schema, 'S', new BufferSource(new Uint8Array(128))).root!;
    const name = nodeAt(root, 'name');
    assert.deepEqual([...name.encode!('é').bytes.subarray(0, 2)], [0xe9, 0]);
    assert.deepEqual([...name.encode!('é€').bytes.subarray(0, 6)], [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0]);
  });
  test('a bit-field changes only its bits (read-modify-write), with or without `current`', () => {
    const buf = new Uint8Array(128);
    const root = decode(schema, 'S', new BufferSource(buf)).root!;
    const lo = nodeAt(root, 'lo');
    const start = nodeAt(root, 'before').offset;
    const end = nodeAt(root, 'after').offset + 1;
    for (let seed = 0; seed < 20; seed++) {
      for (let i = start; i < end; i++) buf[i] = (i * 37 + seed * 101) & 0xff;
      const keep = Object.fromEntries(['before', 'lo', 'mid', 'neg', 'hi', 'after'].map((p) => [p, nodeAt(decode(schema, 'S', new BufferSource(buf)).root!, p).value]));
      const target = ['lo', 'mid', 'neg', 'hi'][seed % 4]!;
      const value = { lo: 5n, mid: 10n, neg: -7n, hi: 300n }[target]!;
      const after = edit(schema, 'S', buf, target, String(value));
      assert.equal(after.value, value);
      const now = decode(schema, 'S', new BufferSource(buf)).root!;
      for (const [p, v] of Object.entries(keep)) if (p !== target) assert.equal(nodeAt(now, p).value, v, `${p} untouched when ${target} changes`);
    }
    // `current` given: the bytes merged are those, not what the node last read.
    const cur = new Uint8Array(lo.size).fill(0xff);
    const r = lo.encode!('0', cur);
    assert.equal(r.offset, lo.offset);
    assert.equal(r.bytes[0], 0xff & ~(7 << lo.bits!.offset));
    assert.deepEqual([...r.bytes.subarray(1)], [...cur.subarray(1)]);
  });
  test('a bit-field reads its storage bytes live when `current` is not given', () => {
    const buf = new Uint8Array(128);
    const lo = nodeAt(decode(schema, 'S', new BufferSource(buf)).root!, 'lo');
    buf[lo.offset] = 0xf8; // another writer sets the neighbours' bits after the decode
    assert.equal(lo.encode!('3').bytes[0], 0xf8 | (3 << lo.bits!.offset));
  });
  test('a too-short `current` is refused (EIO)', () => {
    const lo = nodeAt(decode(schema, 'S', new BufferSource(new Uint8Array(128))).root!, 'hi');
    fails(() => lo.encode!('1', new Uint8Array(0)), 'EIO', /could not be read/);
  });
  test('the result is a fresh array: changing it changes nothing else', () => {
    const root = decode(schema, 'S', new BufferSource(new Uint8Array(128))).root!;
    const u = nodeAt(root, 'u32');
    const a = u.encode!('1');
    a.bytes[0] = 99;
    assert.equal(u.encode!('1').bytes[0], 1);
  });
});

describe('DecodedNode.encode: what a node displays can be typed back', () => {
  for (const endian of ['little', 'big'] as const) {
    const schema = compiled(ALL(endian));
    test(`${endian} endian: encode(display) decodes to the same display, for random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 128, maxLength: 128 }), (bytes) => {
          const root = decode(schema, 'S', new BufferSource(bytes)).root!;
          for (const n of all(root)) {
            if (!n.encode || n.kind === 'offset') continue; // an offset shows its target, not the stored number
            const buf = bytes.slice();
            const r = n.encode(n.display);
            buf.set(r.bytes, r.offset);
            assert.equal(nodeAt(decode(schema, 'S', new BufferSource(buf)).root!, n.path).display, n.display, n.path);
          }
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe('fast-check: encode then decode is the identity for integers', () => {
  for (const size of [1, 2, 4, 8]) {
    for (const signed of [true, false]) {
      for (const endian of ['little', 'big'] as const) {
        const t = `${signed ? '' : 'u'}int${size * 8}_t`;
        test(`${t}, ${endian} endian`, () => {
          const schema = compiled(`#pragma endian ${endian}\nstruct P { uint8_t pre; ${t} v; uint8_t post; } __attribute__((packed));`);
          const bits = BigInt(size * 8);
          const [min, max] = signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
          fc.assert(
            fc.property(fc.bigInt({ min, max }), fc.constantFrom('dec', 'hex', 'bin', 'sep'), fc.uint8Array({ minLength: size + 2, maxLength: size + 2 }), (v, form, bytes) => {
              const abs = v < 0n ? -v : v;
              const sign = v < 0n ? '-' : '';
              const text = form === 'hex' ? `${sign}0x${abs.toString(16)}` : form === 'bin' ? `${sign}0b${abs.toString(2)}` : form === 'sep' ? v.toLocaleString('en-US').replace(/,/g, "'") : v.toString();
              const buf = bytes.slice();
              const after = edit(schema, 'P', buf, 'v', text);
              assert.equal(after.value, v);
              assert.equal(buf[0], bytes[0]);
              assert.equal(buf[size + 1], bytes[size + 1]);
            }),
            { numRuns: 150 },
          );
          const root = decode(schema, 'P', new BufferSource(new Uint8Array(size + 2))).root!;
          fails(() => nodeAt(root, 'v').encode!((max + 1n).toString()), 'ERANGE', `${max + 1n} does not fit in ${t} (${min} … ${max})`);
          fails(() => nodeAt(root, 'v').encode!((min - 1n).toString()), 'ERANGE', `${min - 1n} does not fit in ${t} (${min} … ${max})`);
        });
      }
    }
  }
  test('bit-fields of every width keep their neighbours', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), fc.boolean(), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.nat(), (width, signed, bytes, seed) => {
        const schema = compiled(`struct B { unsigned a : 1; ${signed ? 'int' : 'unsigned'} v : ${width}; unsigned z : ${Math.max(1, 31 - width)}; };`);
        const w = BigInt(width);
        const [min, max] = signed ? [-(1n << (w - 1n)), (1n << (w - 1n)) - 1n] : [0n, (1n << w) - 1n];
        const v = min + (BigInt(seed) % (max - min + 1n));
        const buf = bytes.slice();
        const before = decode(schema, 'B', new BufferSource(buf)).root!;
        const [a, z] = [nodeAt(before, 'a').value, nodeAt(before, 'z').value];
        const after = edit(schema, 'B', buf, 'v', v.toString());
        assert.equal(after.value, v);
        const now = decode(schema, 'B', new BufferSource(buf)).root!;
        assert.equal(nodeAt(now, 'a').value, a);
        assert.equal(nodeAt(now, 'z').value, z);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ring info on an array with [[ring]]', () => {
  const schema = compiled(ring);
  test('the DESIGN.md §4 ring: head, tail, capacity and slot stride', () => {
    const { root } = decode(schema, 'Ring', new BufferSource(ringBytes(64, { head: 1234n, tail: 1200n })));
    const slots = nodeAt(root!, 'slots');
    assert.deepEqual(slots.ring, { head: 1234, tail: 1200, capacity: 64, stride: 64 });
    assert.equal(nodeAt(root!, 'hdr').ring, undefined);
    assert.equal(nodeAt(root!, 'slots[0]').ring, undefined);
  });
  test('a failed ring check still reports what was read', () => {
    const { root } = decode(schema, 'Ring', new BufferSource(ringBytes(4, { head: 1n, tail: 3n })));
    assert.deepEqual(nodeAt(root!, 'slots').ring, { head: 1, tail: 3, capacity: 4, stride: 64 });
  });
  test('indices beyond 2^53 are clamped to the largest safe number', () => {
    const { root } = decode(schema, 'Ring', new BufferSource(ringBytes(4, { head: 2n ** 64n - 1n, tail: 2n ** 60n })));
    const r = nodeAt(root!, 'slots').ring!;
    assert.equal(r.head, Number.MAX_SAFE_INTEGER);
    assert.equal(r.tail, Number.MAX_SAFE_INTEGER);
  });
  test('no ring info when head or tail cannot be read', () => {
    const s = compiled('struct R { uint32_t head; uint8_t slots[4] [[ring(head = head, tail = nope)]]; };');
    const slots = nodeAt(decode(s, 'R', new BufferSource(new Uint8Array(8))).root!, 'slots');
    assert.equal(slots.ring, undefined);
  });
  test('editing the §4 example: a slot text, a time, the state enum', () => {
    const buf = ringBytes(4);
    assert.equal(edit(schema, 'Ring', buf, 'slots[2].text', 'edited').value, 'edited');
    assert.equal(edit(schema, 'Ring', buf, 'slots[2].t_ns', '2026-11-23T10:00:00Z').value, 1_795_428_000_000_000_000n);
    assert.equal(edit(schema, 'Ring', buf, 'hdr.state', 'RUNNING').display, 'RUNNING');
    fails(() => nodeAt(decode(schema, 'Ring', new BufferSource(buf)).root!, 'slots[1].text').encode!('x'.repeat(70)), 'ERANGE', `"${'x'.repeat(37)}…" is 70 bytes; text[52] holds 52`);
  });
});
