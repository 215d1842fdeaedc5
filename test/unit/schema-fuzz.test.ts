// Property-based fuzz of the parser and the decoder: random text, mutated schemas and random
// bytes never make an exception escape, and every decode stays within its read budget.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileSchema, decodeJson, fieldAt, decode, hoverAt, completionsAt, symbols, formatSchema, type Schema } from '../../extension/src/shared/schema';
import type { ByteSource } from '../../extension/src/shared/source';

const ring = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8');

const WORDS = [
  'struct', 'union', 'enum', 'typedef', 'segment', 'for', 'key', 'posix', 'offset', 'static_assert', 'sizeof', 'offsetof', 'alignas',
  '__attribute__', 'packed', 'aligned', 'uint8_t', 'uint32_t', 'int', 'char', 'long', 'unsigned', 'S', 'T', 'x', 'y', 'n', 'self',
  '{', '}', '(', ')', '[', ']', '[[', ']]', ';', ',', ':', '.', '@', '=', '<', '>', '+', '-', '*', '/', '%', '?', '&&', '||', '<<',
  '0', '1', '7', '0x10', '4294967296', '"/x"', "'a'", '#pragma pack(1)\n', '#pragma endian big\n', '#define N 3\n', 'expect', 'checksum',
  'crc32', 'seqlock', 'ring', 'head', 'tail', 'format', 'hex', 'flags', 'if', 'be', 'le', '//c\n', '/*', '*/', '\n',
];

/** Every diagnostic has a range inside the text. */
function rangesInside(schema: Schema, text: string) {
  const lines = text.split('\n').length;
  for (const d of schema.diagnostics) {
    assert.ok(d.range.start.line >= 0 && d.range.end.line < lines + 1, `${d.message} at ${JSON.stringify(d.range)}`);
    assert.ok(typeof d.message === 'string' && d.message.length > 0);
    assert.doesNotMatch(d.message, /internal error|parser failure|decoder failure/);
  }
}

/** A source over random bytes that counts what is read and, like a live segment, refuses ranges past its end. */
function counting(bytes: Uint8Array): ByteSource & { bytesRead: number; refused: number } {
  return {
    bytesRead: 0,
    refused: 0,
    get size() {
      return bytes.length;
    },
    read(off: number, len: number) {
      if (off < 0 || len < 0 || off + len > bytes.length) {
        this.refused++;
        throw new RangeError(`offset ${off} length ${len} is outside ${bytes.length} bytes`);
      }
      this.bytesRead += Math.max(0, Math.min(len, bytes.length - off));
      return bytes.slice(Math.max(0, off), Math.max(0, Math.min(bytes.length, off + len)));
    },
  };
}

describe('fuzz: parser', () => {
  test('random text never throws; every diagnostic has a range', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const s = compileSchema(text);
        rangesInside(s, text);
      }),
      { numRuns: 400 },
    );
  });
  test('token soup from the language never throws; editor services survive it', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 120 }), fc.nat(), (words, at) => {
        const text = words.join(' ');
        const s = compileSchema(text);
        rangesInside(s, text);
        const lines = text.split('\n');
        const line = at % lines.length;
        const pos = { line, character: at % ((lines[line]?.length ?? 0) + 1) };
        hoverAt(s, pos);
        completionsAt(s, pos);
        symbols(s);
        formatSchema(text);
      }),
      { numRuns: 400 },
    );
  });
  test('preprocessor soup (directives, # and ##, calls, includes of itself) never throws and ends', () => {
    const PP = [
      '\n#define F(a, ...) a ## __VA_ARGS__ #a F(a)', '\n#define G(x) F(x, x) G', '\n#define E', '\n#define O O + 1', '\n#undef F', '\n#if ', '\n#ifdef F',
      '\n#elif ', '\n#else', '\n#endif', '\n#include "schema.shms"', '\n#include <stdint.h>', '\n#error e', '\n#pragma pack(1)', 'defined', '__has_include(<x.h>)',
      'F(', 'G(', 'O', 'E', '(', ')', ',', '##', '#', '1', '0', '+', '/', '?', ':', 'x', '"s"', "'c'", 'struct S { int a; };', '\\\n', '/*', '*/',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PP), { maxLength: 80 }), (words) => {
        const text = words.join(' ');
        const s = compileSchema(text, 'schema.shms');
        rangesInside(s, text);
      }),
      { numRuns: 300 },
    );
  });
  test('the §4 schema with random edits never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(ring.length), fc.nat(20), fc.constantFrom(...WORDS, '', '}', '{')), { minLength: 1, maxLength: 6 }), (edits) => {
        let text = ring;
        for (const [at, del, ins] of edits) text = text.slice(0, at) + ins + text.slice(at + del);
        const s = compileSchema(text);
        rangesInside(s, text);
        if (s.segments[0]) decodeJson(s, undefined, counting(new Uint8Array(512)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: random schemas over random bytes', () => {
  const PIECES = [
    'struct S {', 'struct T {', 'union U {', '};', 'uint8_t a;', 'uint32_t n;', 'uint16_t v[n];', 'S s;', 'T t[2];', 'char name[n % 9];',
    'offset<S> p;', 'offset<T, self, int16_t> q;', 'uint64_t w [[if(a)]];', 'int b : 3;', 'unsigned c : 30;', 'uint8_t x @ n;', 'be uint32_t y;',
    'uint32_t z [[expect(n)]];', 'uint32_t k [[checksum(crc32, v)]];', 'uint8_t r[4] [[ring(head = n, tail = a)]];', 'uint32_t sq [[seqlock]];',
    '#pragma pack(1)\n', '#pragma pack()\n', '} __attribute__((packed));', 'struct { uint8_t in; };', 'U u;', 'double d;', 'void *ptr;',
  ];
  test('never throws, never reads past the end', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }), fc.uint8Array({ maxLength: 300 }), (parts, bytes) => {
        const s = compileSchema(parts.join('\n'));
        rangesInside(s, parts.join('\n'));
        for (const t of s.structs.slice(0, 3)) {
          const src = counting(bytes);
          const r = decodeJson(s, t, src, { maxWork: 5000, maxElements: 100 });
          JSON.parse(JSON.stringify(r.json));
          for (const d of r.diagnostics) assert.doesNotMatch(d.message, /decoder failure/);
          assert.equal(src.refused, 0);
          const { root } = decode(s, t, counting(bytes));
          if (root) fieldAt(root, bytes.length >> 1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: decoder', () => {
  const hostile = compileSchema(`
struct Node { uint32_t v; offset<Node, self, int32_t> next; offset<Node> abs; };
struct Var { uint32_t n; uint8_t kind; uint16_t data[n]; uint64_t extra [[if(kind & 1)]]; Node nodes[kind % 4]; char name[n % 7]; };
struct Deep { Var v; Var w[2]; uint32_t c [[checksum(crc32, 0, v.n)]]; uint32_t e [[expect(v.n)]]; };
segment Seg { Deep d @ 0; Node n @ d.v.n % 64; uint8_t tail[d.v.n] @ 16 [[ring(head = d.v.n, tail = d.v.kind)]]; };`);
  const schemas: [string, Schema, string | undefined][] = [
    ['ring', compileSchema(ring), undefined],
    ['hostile', hostile, undefined],
    ['hostile Node', hostile, 'Node'],
  ];
  test('the hostile schema itself compiles', () => {
    assert.deepEqual(hostile.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  });
  for (const [name, schema, type] of schemas) {
    test(`${name}: random bytes never throw, JSON round-trips, reads stay bounded`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(4096), (bytes, probe) => {
          const src = counting(bytes);
          const r = decodeJson(schema, type, src, { maxWork: 20_000, maxElements: 200 });
          JSON.parse(JSON.stringify(r.json));
          for (const d of r.diagnostics) assert.doesNotMatch(d.message, /decoder failure/);
          // Bounded: a decode reads at most a few pages per value it produces.
          assert.ok(src.bytesRead <= 64 * 1024 * 40 + 256 * 1024 * 1024, `${src.bytesRead} bytes read`);
          assert.equal(src.refused, 0, 'never reads past the end of the source');
          const { root } = decode(schema, type, counting(bytes));
          if (root) fieldAt(root, probe);
        }),
        { numRuns: 300 },
      );
    });
  }
});
