// The DWARF front end checks every size and offset on the declarations it builds, laid out by
// the engine's layout stage, without parsing its own text back. These tests hold the two
// together: the text, compiled, lays out to what the debug information says (so the model the
// check ran on and the text the user gets agree), a mismatch is an error naming the type or the
// member, and the names taken without a probe compile are legal.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { compileSchema, diagnostics, findField, findType, type StructType } from '../../extension/src/shared/schema';
import { InexpressibleError, legal, mergeDuplicates, plainName, writeDwarfSchema, type DwarfMember, type DwarfRef, type DwarfType, type DwarfTypes } from '../../extension/src/shared/schema/import-dwarf';

const u = (size: number): DwarfRef => ({ k: 'base', name: `unsigned ${size}`, enc: 0x7, size });
const i32: DwarfRef = { k: 'base', name: 'int', enc: 0x5, size: 4 };
const m = (name: string, type: DwarfRef, offset: number, extra: Partial<DwarfMember> = {}): DwarfMember => ({ name, type, offset, ...extra });

/** Types as native/src/dwarf.cc describes them, one of each shape the writer handles. */
function program(): DwarfTypes {
  const types: DwarfType[] = [
    // Bit-fields with a gap the compiler left (an unnamed bit-field), then a member after them.
    { id: 0, kind: 'struct', name: 'Flags', size: 8, lang: 0x1d, members: [m('a', u(4), 0, { bitSize: 3, bitPos: 0 }), m('b', u(4), 0, { bitSize: 5, bitPos: 12 }), m('c', u(2), 4)] },
    // An anonymous union in place, an array of two dimensions, a pointer, a 16-byte pointer to member.
    { id: 1, kind: 'struct', name: 'app::Shared', size: 64, lang: 0x21, members: [m('head', { k: 'agg', id: 0 }, 0), m('', { k: 'agg', id: 2 }, 8), m('grid', { k: 'array', elem: u(2), counts: [3, 2] }, 16), m('next', { k: 'ptr', size: 8, to: 'app::Shared' }, 32), m('pm', { k: 'ptr', size: 16, to: 'int app::Shared::*' }, 40), m('state', { k: 'enum', id: 3 }, 56)] },
    { id: 2, kind: 'union', name: '', size: 8, lang: 0x21, members: [m('wide', u(8), 0), m('bytes', { k: 'array', elem: { k: 'base', name: 'char', enc: 0x6, size: 1 }, counts: [8] }, 0)] },
    { id: 3, kind: 'enum', name: 'app::State', size: 1, lang: 0x21, base: { k: 'base', name: 'signed char', enc: 0x6, size: 1 }, signed: true, enumClass: true, items: [{ name: 'Idle', value: '-1' }, { name: 'Run', value: '7' }] },
    // Packed (size below the natural one), alignas (DWARF's alignment), tail padding (alignas from the size).
    { id: 4, kind: 'struct', name: 'Packed', size: 7, lang: 0x1d, members: [m('a', u(1), 0), m('b', i32, 1), m('c', u(2), 5)] },
    { id: 5, kind: 'struct', name: 'Wide', size: 64, align: 64, lang: 0x1d, members: [m('x', i32, 0)] },
    { id: 6, kind: 'struct', name: 'Tail', size: 16, lang: 0x1d, members: [m('x', u(8), 0), m('y', i32, 8)] },
    { id: 7, kind: 'struct', name: 'Padded', size: 32, lang: 0x1d, members: [m('x', i32, 0)] },
    // A base class, an empty base, a vtable pointer, an empty class.
    { id: 8, kind: 'class', name: 'Empty', size: 1, lang: 0x21, members: [] },
    { id: 9, kind: 'class', name: 'Derived', size: 24, lang: 0x21, members: [m('Empty', { k: 'agg', id: 8 }, 0, { base: true }), m('_vptr.Derived', { k: 'ptr', size: 8, to: 'int (**)(void)' }, 0, { artificial: true }), m('Tail', { k: 'agg', id: 6 }, 8, { base: true })] },
    { id: 10, kind: 'struct', name: 'Holder', size: 48, lang: 0x21, members: [m('e', { k: 'agg', id: 8 }, 0), m('w', { k: 'base', name: 'long double', enc: 0x4, size: 16 }, 16), m('z', { k: 'base', name: 'complex double', enc: 0x3, size: 16 }, 32)] },
    // Names the schema language gives a meaning of its own.
    { id: 11, kind: 'struct', name: 'linux', size: 8, lang: 0x1d, members: [m('uint8_t', i32, 0), m('offset', i32, 4)] },
  ];
  const roots: Record<string, number> = {};
  for (const t of types) if (t.name) roots[t.name] = t.id;
  return { types, roots, missing: [], units: 1, missingDwo: [] };
}

/** Every size, offset and bit position of the compiled text against the debug information. */
function assertTextMatches(data: DwarfTypes, text: string, roots: Record<string, string>) {
  const schema = compileSchema(text, 'import.shms');
  assert.deepEqual(diagnostics(schema).filter((d) => d.severity === 'error'), []);
  let checked = 0;
  for (const [q, name] of Object.entries(roots)) {
    const t = data.types.find((x) => x.name === q)!;
    const st = findType(schema, name)!;
    assert.equal(st.size, t.size, `sizeof(${q})`);
    if (t.kind === 'enum') continue;
    for (const mm of t.members ?? []) {
      if (!mm.name || mm.base || mm.artificial) continue;
      const f = findField(st as StructType, mm.name === 'uint8_t' ? 'uint8_t_' : mm.name);
      assert.ok(f, `${q}.${mm.name}`);
      if (mm.bitSize !== undefined) assert.equal(f.offset * 8 + (f.field.bitOffset ?? 0), mm.bitPos, `bit of ${q}.${mm.name}`);
      else if (t.kind !== 'union') assert.equal(f.offset, mm.offset, `offset of ${q}.${mm.name}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `${checked} members checked`);
}

describe('DWARF import: the check runs on the declarations, the text agrees', () => {
  it('every shape lays out, as text, where the debug information says', () => {
    const data = program();
    const r = writeDwarfSchema(data, 'prog', false);
    assertTextMatches(data, r.text, r.roots);
    assert.match(r.text, /struct Packed __attribute__\(\(packed\)\) \{/);
    assert.match(r.text, /struct Wide alignas\(64\) \{/);
    assert.match(r.text, /struct Padded alignas\(32\) \{/);
    assert.match(r.text, /uint32_t a : 3;\n {4}uint8_t : 5;\n {4}uint8_t : 4;\n {4}uint32_t b : 5;/);
    assert.match(r.text, /struct linux_ \{ \/\/ C\+\+: linux\n {4}int32_t uint8_t_ @ 0; \/\/ uint8_t\n {4}int32_t offset @ 4;/);
  });

  it('a name every unit defines differently is numbered, and so are enumerators that clash', () => {
    const types: DwarfType[] = [];
    for (let id = 0; id < 4; id++) types.push({ id, kind: 'struct', name: 'Dup', size: 4, lang: 0x1d, members: [m(`x${id}`, i32, 0)] });
    for (let id = 4; id < 7; id++) types.push({ id, kind: 'enum', name: 'Mode', size: 4, lang: 0x1d, signed: false, items: [{ name: 'ON', value: String(id) }] });
    const r = writeDwarfSchema({ types, roots: Object.fromEntries(types.map((t) => [`${t.name}#${t.id}`, t.id])), missing: [], units: 4, missingDwo: [] }, 'prog', false);
    assert.deepEqual([...r.text.matchAll(/^(?:struct|enum) (\w+)/gm)].map((x) => x[1]), ['Dup', 'Dup_2', 'Dup_3', 'Dup_4', 'Mode', 'Mode_2', 'Mode_3']);
    assert.deepEqual([...r.text.matchAll(/^ {4}(\w+) = \d+,/gm)].map((x) => x[1]), ['ON', 'Mode_2_ON', 'Mode_3_ON']);
    assert.equal(diagnostics(compileSchema(r.text, 'import.shms')).filter((d) => d.severity === 'error').length, 0);
  });

  it('the copies every unit defines are one declaration; a name that differs between units keeps two', () => {
    const hdr = (id: number): DwarfType => ({ id, kind: 'struct', name: 'Hdr', size: 8, lang: 0x1d, members: [m('a', i32, 0), m('b', i32, 4)] });
    const anon = (id: number): DwarfType => ({ id, kind: 'union', name: '', size: 8, lang: 0x1d, members: [m('w', u(8), 0), m('h', u(4), 0)] });
    const outer = (id: number, h: number, un: number): DwarfType => ({ id, kind: 'struct', name: 'Outer', size: 24, lang: 0x1d, members: [m('h', { k: 'agg', id: h }, 0), m('u', { k: 'agg', id: un }, 8), m('next', { k: 'ptr', size: 8, to: 'Outer' }, 16)] });
    const types: DwarfType[] = [
      // Unit 1, then unit 2: the same header types, and an Odr that differs between them.
      hdr(0), anon(1), outer(2, 0, 1), { id: 3, kind: 'struct', name: 'Odr', size: 4, lang: 0x1d, members: [m('x', i32, 0)] },
      { id: 4, kind: 'struct', name: 'UseA', size: 32, lang: 0x1d, members: [m('o', { k: 'agg', id: 2 }, 0), m('d', { k: 'agg', id: 3 }, 24)] },
      hdr(5), anon(6), outer(7, 5, 6), { id: 8, kind: 'struct', name: 'Odr', size: 4, lang: 0x1d, members: [m('y', u(4), 0)] },
      { id: 9, kind: 'struct', name: 'UseB', size: 32, lang: 0x1d, members: [m('o', { k: 'agg', id: 7 }, 0), m('d', { k: 'agg', id: 8 }, 24)] },
      // Corrupt: a struct that holds itself by value, in both units.
      { id: 10, kind: 'struct', name: 'Loop', size: 4, lang: 0x1d, members: [m('l', { k: 'agg', id: 10 }, 0)] },
      { id: 11, kind: 'struct', name: 'Loop', size: 4, lang: 0x1d, members: [m('l', { k: 'agg', id: 11 }, 0)] },
    ];
    const data: DwarfTypes = { types, roots: { Hdr: 0, Outer: 7, Odr: 3, UseA: 4, UseB: 9 }, missing: [], units: 2, missingDwo: [] };
    const merged = mergeDuplicates(data);
    assert.deepEqual(merged.types.map((t) => t.id), [0, 1, 2, 3, 4, 8, 9, 10, 11]);
    assert.deepEqual(merged.roots, { Hdr: 0, Outer: 2, Odr: 3, UseA: 4, UseB: 9 });
    assert.deepEqual(merged.types.find((t) => t.id === 9)!.members!.map((x) => x.type), [{ k: 'agg', id: 2 }, { k: 'agg', id: 8 }]);
    // The input is not changed (the reader's description stays as it was).
    assert.deepEqual(types[9]!.members!.map((x) => x.type), [{ k: 'agg', id: 7 }, { k: 'agg', id: 8 }]);
    const r = writeDwarfSchema(data, 'prog', false);
    assert.deepEqual([...r.text.matchAll(/^(?:struct|union|enum) (\w+)/gm)].map((x) => x[1]).sort(), ['Hdr', 'Odr', 'Odr_2', 'Outer', 'UseA', 'UseB', 'u']);
    assert.match(r.text, /struct UseB \{\n {4}Outer o @ 0;\n {4}Odr_2 d @ 24; \/\/ Odr\n/);
    const schema = compileSchema(r.text, 'import.shms');
    assert.deepEqual(diagnostics(schema).filter((d) => d.severity === 'error'), []);
    assert.equal(findField(findType(schema, 'UseB') as StructType, 'd')?.offset, 24);
    assert.ok(findField(findType(schema, 'Odr_2') as StructType, 'y'));
  });

  it('a size no attribute explains is an error naming the type', () => {
    const data = program();
    data.types[6] = { ...data.types[6]!, size: 13 };
    assert.throws(() => writeDwarfSchema(data, 'prog', false), (e: Error) => e instanceof InexpressibleError && /^Tail: 13 bytes, but its members lay out in 16$/.test(e.message));
  });

  it('a bit position the layout does not reproduce is an error naming the member', () => {
    const data = program();
    // Bit 2 overlaps the 3-bit field before it: the engine places it at bit 3.
    data.types[0] = { ...data.types[0]!, members: [m('a', u(4), 0, { bitSize: 3, bitPos: 0 }), m('b', u(4), 0, { bitSize: 5, bitPos: 2 }), m('c', u(2), 4)] };
    assert.throws(() => writeDwarfSchema(data, 'prog', false), /^Error: Flags\.b: bit 2 in the program, bit 3 in the schema$/);
  });

  it('a struct that contains itself is a bug report, not a hang', () => {
    const data = program();
    data.types[7] = { ...data.types[7]!, members: [m('self', { k: 'agg', id: 7 }, 0)] };
    assert.throws(() => writeDwarfSchema(data, 'prog', false), /does not compile \(a bug\): "Padded" contains itself/);
  });

  it('a name taken without a probe compile is legal: every word the engine knows', () => {
    const dir = path.join(__dirname, '..', '..', 'extension', 'src', 'shared', 'schema');
    const words = new Set<string>();
    for (const f of readdirSync(dir)) for (const w of readFileSync(path.join(dir, f), 'utf8').matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) words.add(w[0]);
    const plain = [...words].filter(plainName);
    assert.ok(plain.length > 1000 && plain.length < words.size);
    // One compile for them all: a name the language gives a meaning to would fail it.
    const text = plain.map((n) => `struct ${n} { int ${n}; }; static_assert(sizeof(${n}) == 4);`).join('\n');
    assert.deepEqual(diagnostics(compileSchema(text, 'probe.shms')).filter((d) => d.severity === 'error').map((d) => d.message).slice(0, 3), []);
    for (const n of ['segment', 'int', 'linux', 'uint8_t', 'sem_t', 'offset', '_Bool']) assert.equal(plainName(n), false, n);
    assert.equal(legal('linux'), false);
    assert.equal(legal('uint8_t'), false);
    // A builtin of the probe's old size (4 bytes): the probe must not take it for the struct.
    assert.equal(legal('s32'), false);
    assert.equal(legal('count'), true);
  });
});
