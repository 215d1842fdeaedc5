// The structure view's pure logic over the §4 ring: the flattened tree against a naive flatten
// (random expansions, random windows), row indices, field lookup by path and name, the spans that
// tint a byte window, the ring marks, and the check summary.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { childId, StructureTree, TINTS, type TreeRow } from '../../extension/src/shared/inspector/structure';
import { compileSchema, decode, type DecodedNode } from '../../extension/src/shared/schema';
import { BufferSource } from '../../extension/src/shared/source';
import { ringBytes } from '../helpers/schema-ring';

const ringText = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8');
const schema = compileSchema(ringText, 'ring.shms');

function tree(cap = 64, o: Parameters<typeof ringBytes>[1] = {}) {
  const bytes = ringBytes(cap, o);
  const root = decode(schema, 'Ring', new BufferSource(bytes)).root!;
  return { t: new StructureTree(root), root, bytes };
}

/** Every visible row, the slow obvious way: walk everything, descend where expanded. */
function naive(root: DecodedNode, expanded: Set<string>): { id: string; depth: number; path: string }[] {
  const out: { id: string; depth: number; path: string }[] = [];
  const walk = (n: DecodedNode, id: string, depth: number) => {
    const kids = n.children(0, n.childCount);
    kids.forEach((k, i) => {
      const kid = childId(id, i);
      out.push({ id: kid, depth, path: k.path });
      if (expanded.has(kid) && k.childCount > 0) walk(k, kid, depth + 1);
    });
  };
  walk(root, '', 0);
  return out;
}

describe('structure tree', () => {
  it('shows the segment members collapsed, then the header and the ring once expanded', () => {
    const { t } = tree(4);
    assert.deepEqual(t.rows(0, 10).map((r) => r.name), ['hdr', 'slots']);
    assert.equal(t.total(), 2);
    t.toggle('0', true);
    const rows = t.rows(0, 20);
    assert.deepEqual(rows.map((r) => r.name), ['hdr', 'magic', 'version', 'flags', 'capacity', 'slot_size', 'head', 'tail', 'seq', 'crc', 'state', 'stats', 'slots']);
    const magic = rows[1]!;
    assert.equal(magic.path, 'hdr.magic');
    assert.equal(magic.depth, 1);
    assert.equal(magic.offset, 0);
    assert.equal(magic.size, 4);
    assert.deepEqual(magic.checks.map((c) => [c.kind, c.ok]), [['expect', true]]);
    assert.equal(magic.editable, true);
    assert.equal(rows[0]!.editable, false, 'a struct is not edited as a value');
    assert.equal(rows[0]!.expanded, true);
    const crc = rows.find((r) => r.name === 'crc')!;
    assert.match(crc.checks[0]!.text, /^checksum ok/);
    assert.equal(rows[0]!.value, '{ magic: 1196312914, version: 3, flags: 0, capacity: 4, slot_size: 64, head: 5, tail: 2, seq: 4, … }', 'a struct previews its members');
    t.toggle('1', true);
    assert.equal(t.total(), 13 + 4);
    assert.equal(t.rows(14, 1)[0]!.value, '{ t_ns: 2023-11-14T22:13:20.123456790Z (1700000…, len: 5, text: "msg 1" }', 'so a ring\'s slots read without expanding');
    assert.deepEqual(t.rows(13, 10).map((r) => r.path), ['slots[0]', 'slots[1]', 'slots[2]', 'slots[3]']);
  });

  it('flattens like the naive walk for any expansion and window, and indexOf agrees', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.oneof(fc.constant('0'), fc.constant('1'), fc.constant('0/11'), fc.integer({ min: 0, max: 40 }).map((i) => `1/${i}`)), { maxLength: 12 }),
        fc.nat(120),
        fc.integer({ min: 1, max: 60 }),
        (open, first, count) => {
          const { t, root } = tree(40);
          for (const id of open) t.expanded.add(id);
          t.setRoot(root);
          const all = naive(root, t.expanded);
          assert.equal(t.total(), all.length);
          const got = t.rows(first, count).map((r: TreeRow) => `${r.id} ${r.depth} ${r.path}`);
          assert.deepEqual(got, all.slice(first, first + count).map((r) => `${r.id} ${r.depth} ${r.path}`));
          const pick = all[(first * 7) % all.length]!;
          assert.equal(t.indexOf(pick.id), all.indexOf(pick));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('pages an expanded array of a million slots without decoding them all', () => {
    const cap = 1 << 20;
    const bytes = new Uint8Array(64 + cap * 64 + 16);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0, 0x474e4952, true);
    dv.setUint16(4, 3, true);
    dv.setUint32(8, cap, true);
    dv.setBigUint64(16, 10n, true);
    const root = decode(schema, 'Ring', new BufferSource(bytes), { maxWork: 50_000 }).root!;
    const t = new StructureTree(root);
    t.toggle('1', true);
    t.toggle(`1/${cap - 2}`, true);
    assert.equal(t.total(), 2 + cap + 3);
    const tail = t.rows(2 + cap - 3, 10).map((r) => r.path);
    assert.deepEqual(tail, [`slots[${cap - 3}]`, `slots[${cap - 2}]`, `slots[${cap - 2}].t_ns`, `slots[${cap - 2}].len`, `slots[${cap - 2}].text`, `slots[${cap - 1}]`]);
    assert.equal(t.indexOf(`1/${cap - 1}`), 2 + cap + 2);
    // The slots carry no checks: the summary learns that from the first, not from a million.
    const before = root.children(1, 1)[0]!;
    const sum = t.summary(100);
    assert.equal(sum.partial, false);
    assert.ok(sum.items.some((i) => i.path === 'slots' && i.kind === 'ring'));
    assert.equal(before.childCount, cap);
  });

  it('finds fields by path and by a name only one field has, and reveals them', () => {
    const { t } = tree(8);
    assert.equal(t.find('hdr.head')?.node.offset, 16);
    assert.equal(t.find('head')?.node.path, 'hdr.head');
    assert.equal(t.find('slots[3].text')?.node.offset, 64 + 3 * 64 + 12);
    assert.equal(t.find('hdr.stats.value.dropped')?.node.offset, 64 + 8 * 64 + 8);
    assert.equal(t.find('text'), undefined, 'ambiguous or inside arrays: no guess');
    assert.equal(t.find('nope'), undefined);
    const hit = t.find('slots[3].len')!;
    const row = t.reveal(hit.id)!;
    assert.equal(t.rows(row, 1)[0]!.path, 'slots[3].len');
    assert.ok(t.expanded.has('1') && t.expanded.has('1/3'));
  });

  it('locates the deepest field under a byte', () => {
    const { t } = tree(8);
    assert.equal(t.locate(17)?.node.path, 'hdr.head');
    assert.equal(t.locate(64 + 2 * 64 + 20)?.node.path, 'slots[2].text');
    assert.equal(t.locate(60), undefined, 'padding between hdr and slots belongs to no field');
    assert.equal(t.locate(64 + 8 * 64 + 100), undefined);
  });

  it('reports the fields over a byte window in order, with tints, and the ring there', () => {
    const { t } = tree(8, { head: 10n, tail: 5n });
    const { spans, rings } = t.layout(0, 64 + 2 * 64);
    assert.deepEqual(spans.slice(0, 3).map((s) => [s.path, s.offset, s.length]), [['hdr.magic', 0, 4], ['hdr.version', 4, 2], ['hdr.flags', 6, 2]]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.offset >= spans[i - 1]!.offset);
    assert.ok(spans.every((s) => s.tint >= 0 && s.tint < TINTS));
    assert.notEqual(spans[0]!.tint, spans[1]!.tint, 'neighbours differ');
    assert.deepEqual(spans.filter((s) => s.path.startsWith('slots[1]')).map((s) => s.path), ['slots[1].t_ns', 'slots[1].len', 'slots[1].text']);
    assert.equal(rings.length, 1);
    const r = rings[0]!;
    assert.deepEqual([r.head, r.tail, r.capacity], [10, 5, 8]);
    assert.deepEqual(r.headSlot, { offset: 64 + 2 * 64, length: 64 });
    assert.deepEqual(r.tailSlot, { offset: 64 + 5 * 64, length: 64 });
    // tail 5, head 10 of 8 slots: 5, 6, 7, then 0, 1 hold data; the window shows slots 0 and 1.
    assert.deepEqual(r.valid, [{ offset: 64, length: 128 }]);
    const whole = t.layout(0, 64 + 8 * 64).rings[0]!;
    // tail 5, 5 in use: slots 5, 6, 7 then wrapping to 0, 1.
    assert.deepEqual(whole.valid, [{ offset: 64 + 5 * 64, length: 3 * 64 }, { offset: 64, length: 2 * 64 }]);
    assert.match(whole.text, /5 of 8 in use/);
    const bad = t.layout(32, 8).spans.find((s) => s.path === 'hdr.seq');
    assert.equal(bad?.bad, undefined);
  });

  it('marks fields whose checks fail and sums the checks', () => {
    const { t } = tree(4, { badCrc: true, magic: 1 });
    assert.ok(t.layout(0, 64).spans.find((s) => s.path === 'hdr.magic')?.bad);
    const s = t.summary();
    assert.equal(s.failed, 2);
    assert.equal(s.ok, 3);
    assert.equal(s.items[0]!.ok, false, 'failures come first');
    assert.deepEqual(s.items.slice(0, 2).map((i) => i.path).sort(), ['hdr.crc', 'hdr.magic']);
  });
});
