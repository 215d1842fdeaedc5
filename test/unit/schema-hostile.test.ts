// Hostile input to the schema engine: an object that shrinks while it is decoded, and schemas
// nested or chained deep enough to overflow a recursive compiler. Each ends with one diagnostic at
// the place, and everything else keeps its results.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSchema, decode, decodeJson, findType, symbols, type DecodedNode } from '../../extension/src/shared/schema';
import type { ByteSource } from '../../extension/src/shared/source';

/** A live object of `big` bytes that shrinks to `small` after `reads` reads. */
class ShrinkingSource implements ByteSource {
  reads = 0;
  constructor(private readonly big: number, private readonly small: number, private readonly after: number) {}
  get size(): number {
    return this.reads >= this.after ? this.small : this.big;
  }
  read(offset: number, length: number): Uint8Array {
    this.reads++;
    const end = Math.min(this.size, offset + length);
    return new Uint8Array(Math.max(0, end - offset)).fill(1);
  }
}

// The expected value of b is read from a: the nodes decode each element, page by page, so the
// object shrinks in the middle (a constant one keeps the generated decoder, one read of it all).
const ring = `struct Item { uint32_t a; uint32_t b [[expect(a)]]; uint16_t c; };
segment S { uint32_t n; Item items[n] @ 8; };`;

describe('an object that shrinks during a decode', () => {
  test('the JSON decode reports the shrink once and stops', () => {
    const schema = compileSchema(ring);
    const src = new ShrinkingSource(12 * 200_000 + 8, 4096, 3);
    const r = decodeJson(schema, 'S', src);
    const shrink = r.diagnostics.filter((d) => /shrank/.test(d.message));
    assert.equal(shrink.length, 1, r.diagnostics.slice(0, 5).map((d) => d.message).join('\n'));
    assert.match(shrink[0]!.message, /shrank from 2400008 to 4096 bytes during the decode: decoding stopped/);
    assert.ok(r.diagnostics.length <= 3, `${r.diagnostics.length} diagnostics`);
  });
  test('walking the tree (CLI text, structure view) reports it once too', () => {
    const schema = compileSchema(ring);
    const src = new ShrinkingSource(12 * 50_000 + 8, 4096, 2);
    const root = decode(schema, 'S', src).root!;
    let diags = 0;
    let nodes = 0;
    const walk = (n: DecodedNode) => {
      nodes++;
      diags += n.diagnostics.length;
      for (let i = 0; i < n.childCount; i += 1000) {
        const kids = n.children(i, 1000);
        if (!kids.length) break;
        for (const c of kids) walk(c);
      }
    };
    walk(root);
    assert.ok(diags <= 2, `${diags} diagnostics over ${nodes} nodes`);
  });
});

describe('deep input keeps the rest of the file', () => {
  test('2000 nested named structs: one diagnostic at the place; the structs around it are intact', () => {
    let body = '';
    for (let i = 0; i < 2000; i++) body += `struct S${i} { int a${i}; `;
    for (let i = 1999; i >= 0; i--) body += i === 0 ? '}' : ` } s${i};`;
    const s = compileSchema(`struct Before { int x; };\n${body};\nstruct After { int y; char z; };\n`);
    const errors = s.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, errors.slice(0, 3).map((d) => d.message).join('\n'));
    assert.match(errors[0]!.message, /nested deeper than/);
    assert.equal(errors[0]!.range.start.line, 1);
    assert.equal(findType(s, 'Before')?.size, 4);
    assert.equal(findType(s, 'After')?.size, 8);
    assert.ok(symbols(s).some((x) => x.name === 'After'));
    assert.equal(findType(s, 'S0')?.k, 'struct');
  });
  test('a 10 000-term 1+1+…: a diagnostic at the expression; the other declarations compile', () => {
    const sum = Array(10_000).fill('1').join('+');
    const s = compileSchema(`struct Before { int x; };\nstatic_assert(${sum} == 10000);\nstruct After { int y; };\n`);
    const errors = s.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, errors.map((d) => d.message).join('\n'));
    assert.match(errors[0]!.message, /expression too long/);
    assert.equal(errors[0]!.range.start.line, 1);
    assert.equal(findType(s, 'After')?.size, 4);
    assert.deepEqual(symbols(s).map((x) => x.name), ['Before', 'After']);
  });
  test('a 5000-long typedef chain and 300-deep parentheses end with a diagnostic, not a stack overflow', () => {
    // Each typedef names the next one, declared later: resolving T0 walks the whole chain.
    let chain = '';
    for (let i = 0; i < 4999; i++) chain += `typedef T${i + 1} T${i};\n`;
    chain += 'typedef int T4999;\n';
    const s = compileSchema(`${chain}struct Use { T0 v; };\nstruct Fine { char c; };\nstruct Deep { char c[${'('.repeat(300)}1${')'.repeat(300)}]; };\n`);
    const msgs = s.diagnostics.map((d) => d.message);
    assert.ok(msgs.some((m) => /nested more than 500 deep/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /nesting too deep/.test(m)), msgs.join('\n'));
    assert.ok(!msgs.some((m) => /internal error/.test(m)), msgs.join('\n'));
    assert.equal(findType(s, 'Fine')?.size, 1);
  });
});
