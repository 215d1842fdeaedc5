// shmscope import PROGRAM: programs built here (g++, clang++, DWARF 4 and 5, rustc, gcc with
// split DWARF) print where their compiler put every member and write an instance; the imported
// schema must re-check clean, lay every member out at that offset, and decode the instance to the
// values the program wrote. Hostile ELF and DWARF give one line, never a hang.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileSchema, diagnostics, findField, findType, type StructType } from '../../extension/src/shared/schema';
import { cli, ensureBuilt } from '../helpers/ipc';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'dwarf');
const ADDON = path.join(__dirname, '..', '..', 'native', 'build', 'Release', 'shmscope_dwarf.node');
const dir = mkdtempSync(path.join(tmpdir(), 'shms-dwarf-'));
before(() => ensureBuilt());
after(() => rmSync(dir, { recursive: true, force: true }));

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function run(cmd: string, args: string[], cwd = dir): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Report {
  sizes: Record<string, number>;
  offsets: Record<string, [number, number]>;
}

/** Builds a fixture, runs it (it writes instances into `out`), imports `types`; returns the schema and the program's report. */
function importFixture(name: string, build: (exe: string) => void, types: string[]) {
  const out = mkdtempSync(path.join(dir, `${name}-`));
  const exe = path.join(out, name);
  build(exe);
  const report = JSON.parse(run(exe, [out], out)) as Report;
  const shms = path.join(out, `${name}.shms`);
  const r = cli(['import', exe, ...types.flatMap((t) => ['--type', t]), '-o', shms, '--json']);
  assert.equal(r.status, 0, r.stderr);
  // The JSON report names each type asked for as the schema calls it (Bind Schema… binds by it).
  const { roots } = JSON.parse(r.stdout) as { roots: Record<string, string> };
  assert.deepEqual(Object.keys(roots).sort(), [...types].sort());
  const check = cli(['check', '--schema', shms]);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  return { out, shms, report, roots, schema: compileSchema(readFileSync(shms, 'utf8'), shms) };
}

/** Every size and offset the program reported equals the schema's. */
function assertLayout(schema: ReturnType<typeof compileSchema>, report: Report) {
  assert.deepEqual(diagnostics(schema).filter((d) => d.severity === 'error'), []);
  for (const [type, size] of Object.entries(report.sizes)) {
    assert.equal(findType(schema, type)?.size, size, `sizeof(${type})`);
  }
  for (const [key, [offset, size]] of Object.entries(report.offsets)) {
    const [type, member] = key.split('.') as [string, string];
    const t = findType(schema, type) as StructType;
    const f = findField(t, member);
    assert.ok(f, `${key} is in the schema`);
    assert.equal(f.offset, offset, `offset of ${key}`);
    assert.equal(f.field.type.size, size, `size of ${key}`);
  }
  assert.ok(Object.keys(report.offsets).length > 0);
}

function decoded(file: string, shms: string, type: string): Record<string, unknown> {
  const r = cli(['decode', '--file', file, '--schema', shms, '--type', type, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const cxxTypes = ['app::Shared', 'Derived', 'app::Packed'];

function checkCxx(compiler: string, flags: string[]) {
  const { out, shms, report, roots, schema } = importFixture('shared', (exe) => run(compiler, [...flags, '-O0', '-Wno-invalid-offsetof', '-o', exe, path.join(FIXTURES, 'shared.cpp')]), cxxTypes);
  assert.deepEqual(roots, { 'app::Shared': 'Shared', Derived: 'Derived', 'app::Packed': 'Packed' });
  // The program's bases are members named after them.
  report.offsets['Shared.Head'] ??= [0, 8];
  assertLayout(schema, report);
  const s = decoded(path.join(out, 'Shared.bin'), shms, 'Shared');
  assert.deepEqual(s.Head, { magic: 0x52494e47, version: 3 });
  assert.deepEqual(s.Scale, { scale: 2.5 });
  assert.equal(s.counter, 123456789012345);
  assert.equal(s.ready, true);
  assert.equal(s.mode, 'Stop');
  assert.equal(s.level, 'LOW');
  assert.deepEqual(s.ring, { items: [-10, -20, -30, -40], head: 3 });
  assert.deepEqual(s.ring2, { items: [0.5, -1.25], head: 1 });
  assert.deepEqual(s.al, { tag: 0xab });
  assert.equal((s.val as { i: number }).i, -42);
  assert.deepEqual(s.flags, { a: 5, b: 17, c: -33, d: 0xabcdef0123, e: true });
  assert.deepEqual(s.pt, { x: -7, y: 9 });
  assert.equal(s.u, 0xdeadbeef);
  assert.equal(s.name, 'ring-0');
  const d = decoded(path.join(out, 'Derived.bin'), shms, 'Derived');
  assert.equal((d.Poly as { id: number }).id, 77);
  assert.match(String((d.Poly as { _vptr: string })._vptr), /^0x[0-9a-f]+$/);
  assert.equal(d.extra, 0x1122334455667788n.toString()); // past 2^53: a string in JSON
  const p = decoded(path.join(out, 'Packed.bin'), shms, 'Packed');
  assert.deepEqual({ a: p.a, b: p.b, c: p.c }, { a: 0x11, b: 0x22334455, c: 0x6677 });
  // Template instances keep their C++ spelling in a comment.
  assert.match(readFileSync(shms, 'utf8'), /struct Ring_int_4 \{ \/\/ C\+\+: app::Ring<int, 4>/);
}

describe('shmscope import PROGRAM', { skip: !existsSync(ADDON) && 'the DWARF reader is not built (no libdw-dev); see the last test' }, () => {
  it('g++ -g (DWARF 5): bases, vtable pointer, std::atomic, templates, alignas, bit-fields, enum class, unions, namespaces', () => {
    checkCxx('g++', ['-g']);
  });

  it('g++ -gdwarf-4', () => {
    checkCxx('g++', ['-gdwarf-4']);
  });

  it('clang++ -g', { skip: !has('clang++') && 'clang++ is not installed' }, () => {
    checkCxx('clang++', ['-g']);
  });

  it('a Rust #[repr(C)] program', { skip: !has('rustc') && 'rustc is not installed' }, () => {
    const { out, shms, report, schema } = importFixture('rs', (exe) => run('rustc', ['-g', '-o', exe, path.join(FIXTURES, 'shared.rs')]), ['Shared', 'Packed']);
    assertLayout(schema, report);
    const s = decoded(path.join(out, 'Shared.bin'), shms, 'Shared');
    assert.deepEqual(s, {
      magic: 0x52494e47, flag: true, big: 0x0102030405060708n.toString(), state: 'Stopped',
      pts: [{ x: 1, y: -1 }, { x: 2, y: -2 }, { x: 3, y: -3 }], ratio: 0.75, letter: 'Z'.charCodeAt(0), tiny: -5, wide: -2.5,
      checks: [], diagnostics: [],
    });
  });

  it('a C program with split DWARF (-gsplit-dwarf, types in the .dwo)', () => {
    const { out, shms, report, schema } = importFixture('split', (exe) => run('gcc', ['-g', '-gsplit-dwarf', '-o', exe, path.join(FIXTURES, 'split.c')], path.dirname(exe)), ['msg']);
    assertLayout(schema, report);
    const m = decoded(path.join(out, 'msg.bin'), shms, 'msg');
    assert.deepEqual({ ...m, u: (m.u as { i: number }).i, next: undefined }, {
      ver: 2, len: 513, lo: 9, mid: 300, neg: -11, kind: 'K_CTRL', u: 1234567, text: 'hello', next: undefined, checks: [], diagnostics: [],
    });
  });

  it('a type the schema language cannot express fails naming the member', () => {
    const src = path.join(dir, 'vbase.cpp');
    writeFileSync(src, 'struct A { int a; }; struct B : virtual A { int b; }; B b; int main() { return b.b; }\n');
    const exe = path.join(dir, 'vbase');
    run('g++', ['-g', '-o', exe, src]);
    const r = cli(['import', exe, '--type', 'B']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr.trim(), /^shmscope: cannot import: B\.A: a virtual base/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('a type the program does not have, and no --type: one line each', () => {
    const exe = path.join(dir, 'plain');
    writeFileSync(`${exe}.c`, 'struct s { int x; } v; int main(void) { return v.x; }\n');
    run('gcc', ['-g', '-o', exe, `${exe}.c`]);
    const r = cli(['import', exe, '--type', 'nothing_like_it']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^shmscope: .*no type named nothing_like_it/);
    const r2 = cli(['import', exe]);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /^shmscope: name the types to import with --type NAME/);
    // --list-types names what there is.
    const l = cli(['import', exe, '--list-types', '--json']);
    assert.equal(l.status, 0, l.stderr);
    assert.ok((JSON.parse(l.stdout) as { types: string[] }).types.includes('s'));
  });

  it('--all-types over two units: a header struct both use is written once, a name that differs twice', () => {
    const out = mkdtempSync(path.join(dir, 'units-'));
    writeFileSync(path.join(out, 'shared.h'), 'struct shared { int id; long seq; char tag[6]; };\n');
    writeFileSync(path.join(out, 'a.c'), '#include "shared.h"\nstruct differ { int x; };\nstruct in_a { struct shared s; struct differ d; } va;\nint main(void) { return va.s.id; }\n');
    writeFileSync(path.join(out, 'b.c'), '#include "shared.h"\nstruct differ { long y; short z; };\nstruct in_b { struct differ d; struct shared s; } vb;\n');
    const exe = path.join(out, 'units');
    run('gcc', ['-g', '-o', exe, 'a.c', 'b.c'], out);
    const shms = path.join(out, 'units.shms');
    const r = cli(['import', exe, '--all-types', '-o', shms]);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(shms, 'utf8');
    const declared = (name: string) => [...text.matchAll(/^struct (\w+) \{(?: \/\/ C\+\+: (\w+))?/gm)].filter((x) => (x[2] ?? x[1]) === name).map((x) => x[1]);
    assert.deepEqual(declared('shared'), ['shared']);
    assert.deepEqual(declared('differ').sort(), ['differ', 'differ_2']);
    assert.match(text, /struct in_b \{\n {4}differ_2 d @ 0; \/\/ differ\n {4}shared s @ 16;\n\};/);
    const check = cli(['check', '--schema', shms]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const schema = compileSchema(text, shms);
    assert.equal(findType(schema, 'shared')?.size, 24);
    assert.deepEqual(['differ', 'differ_2'].map((n) => findType(schema, n)?.size), [4, 16]);
  });

  it('pid:N reads the running process', async () => {
    const exe = path.join(dir, 'sleeper');
    writeFileSync(`${exe}.c`, '#include <unistd.h>\nstruct live { long a; char b; } v;\nint main(void) { v.a = 1; pause(); return 0; }\n');
    run('gcc', ['-g', '-o', exe, `${exe}.c`]);
    // Node's spawn returns once the exec succeeded: /proc/PID/exe is the program from here on.
    const child = spawn(exe, [], { stdio: 'ignore' });
    const pid = child.pid!;
    try {
      const r = cli(['import', `pid:${pid}`, '--type', 'live']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /struct live \{\n {4}int64_t a @ 0;\n {4}char b @ 8;\n\};/);
      // Its maps come through the addon's maps parser: --list-types too, and a process that is
      // gone is named in one line.
      const l = cli(['import', `pid:${pid}`, '--list-types', '--json']);
      assert.equal(l.status, 0, l.stderr);
      assert.ok((JSON.parse(l.stdout) as { types: string[] }).types.includes('live'));
    } finally {
      child.kill('SIGKILL');
    }
    await once(child, 'exit');
    const gone = cli(['import', `pid:${pid}`, '--type', 'live']);
    assert.equal(gone.status, 1);
    assert.equal(gone.stderr, `shmscope: cannot read the mappings of pid ${pid}: no such process\n`);
  });

  describe('hostile ELF and DWARF: one line, exit 1, no hang', () => {
    let exe: string;
    before(() => {
      exe = path.join(dir, 'victim');
      run('g++', ['-g', '-o', exe, path.join(FIXTURES, 'shared.cpp'), '-Wno-invalid-offsetof']);
    });
    const oneLine = (file: string) => {
      const r = cli(['import', file, '--type', 'app::Shared']);
      assert.notEqual(r.status, 0, `accepted ${file}`);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^shmscope: /);
    };
    it('truncated ELF', () => {
      const bytes = readFileSync(exe);
      for (const n of [16, 64, 1000, bytes.length >> 1]) {
        const f = path.join(dir, `trunc${n}`);
        writeFileSync(f, bytes.subarray(0, n));
        oneLine(f);
      }
    });
    it('an ELF without debug information', () => {
      const f = path.join(dir, 'stripped');
      copyFileSync(exe, f);
      run('strip', ['-g', f]);
      oneLine(f);
    });
    it('corrupt .debug_info and .debug_abbrev (every DIE count and offset garbage)', () => {
      const sections = run('readelf', ['-S', '-W', exe]);
      for (const name of ['.debug_info', '.debug_abbrev', '.debug_str_offsets', '.debug_line']) {
        const m = new RegExp(`\\${name}\\s+\\S+\\s+[0-9a-f]+\\s+([0-9a-f]+)\\s+([0-9a-f]+)`).exec(sections);
        if (!m) continue;
        for (const fill of [0xff, 0x00, 0x80]) {
          const bytes = Buffer.from(readFileSync(exe));
          const off = parseInt(m[1]!, 16);
          const len = parseInt(m[2]!, 16);
          // Keep the unit header's first bytes sometimes: a 2^32-byte unit length, huge counts.
          bytes.fill(fill, off + (fill === 0x80 ? 12 : 0), off + len);
          const f = path.join(dir, `corrupt${name}${fill}`);
          writeFileSync(f, bytes);
          const r = cli(['import', f, '--type', 'app::Shared']);
          // Either one line refusing it, or (garbage that still parses) a schema that checks.
          assert.ok(r.status === 0 || r.status === 1, `${name}/${fill}: exit ${r.status} ${r.signal ?? ''} ${r.stderr}`);
          if (r.status === 1) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        }
      }
    });
  });
});

describe('shmscope import, what it refuses', () => {
  it('a C++ header: one line pointing to the program route', () => {
    const h = path.join(dir, 'app.h');
    writeFileSync(h, '#pragma once\nnamespace app {\nclass Shared { public: int a; ~Shared(); };\n}\n');
    const r = cli(['import', h]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^shmscope: .*app\.h is C\+\+: .*shmscope import PROGRAM --type NAME\n$/);
    const hpp = path.join(dir, 'plain.hpp');
    writeFileSync(hpp, 'struct s { int a; };\n');
    assert.equal(cli(['import', hpp]).status, 1);
    // A C header that mentions C++ words in comments still imports.
    const c = path.join(dir, 'c.h');
    writeFileSync(c, '/* class X { public: }; namespace y { */\nstruct s { int a; };\n');
    assert.equal(cli(['import', c]).status, 0);
  });

  it('without the DWARF reader: one line saying what to install', { skip: existsSync(ADDON) && 'the reader is built' }, () => {
    const r = cli(['import', process.execPath, '--type', 'x']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^shmscope: importing from a program needs the DWARF reader.*apt-get install libdw-dev/);
  });
});
