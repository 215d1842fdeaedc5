// Layout against gcc itself: every tagged struct/union of test/fixtures/layout/* is compiled by the
// system compiler into a program printing sizeof, alignment, offsetof of each member and, for
// bit-fields, the bytes a field set to all ones occupies; the engine must agree on every line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { compileSchema, layoutOf, type StructType } from '../../extension/src/shared/schema';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'layout');
const fixtures = readdirSync(dir).filter((f) => /\.(h|hpp)$/.test(f)).sort();

interface Expected {
  lines: Map<string, string>;
  error?: string;
}

/** Tagged structs of a fixture, as the engine sees them. */
function structsOf(text: string, file: string): StructType[] {
  const schema = compileSchema(text, file);
  const errors = schema.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`), [], 'the fixture compiles in the engine');
  return schema.structs.filter((s) => s.decl?.name && !s.segment);
}

function cProgram(file: string, structs: StructType[], cxx: boolean): string {
  const tag = (s: StructType) => `${s.union ? 'union' : 'struct'} ${s.name}`;
  const out = [`#include <stdio.h>`, `#include <stddef.h>`, `#include <string.h>`, `#include "${path.join(dir, file)}"`, 'int main(void) {'];
  for (const s of structs) {
    out.push(`  printf("${s.name} size %zu align %zu\\n", sizeof(${tag(s)}), (size_t)__alignof__(${tag(s)}));`);
    for (const r of layoutOf(s)) {
      if (r.name === '(anonymous)') continue;
      if (r.bits) {
        const ty = cxx || !/^[A-Z]/.test(r.type) ? r.type : `enum ${r.type}`;
        out.push(`  { ${tag(s)} v; memset(&v, 0, sizeof v); v.${r.path} = (${ty})-1; const unsigned char *b = (const unsigned char *)&v;`);
        out.push(`    printf("${s.name}.${r.path} bits "); for (size_t i = 0; i < sizeof v; i++) printf("%02x", b[i]); printf("\\n"); }`);
      } else out.push(`  printf("${s.name}.${r.path} off %zu\\n", offsetof(${tag(s)}, ${r.path}));`);
    }
  }
  out.push('  return 0;', '}');
  return out.join('\n');
}

function engineLines(s: StructType): Map<string, string> {
  const m = new Map<string, string>();
  m.set(s.name, `size ${s.size} align ${s.align}`);
  for (const r of layoutOf(s)) {
    if (r.name === '(anonymous)') continue;
    if (r.bits) {
      const bytes = new Uint8Array(s.size);
      const start = r.offset * 8 + r.bits.offset;
      for (let b = start; b < start + r.bits.width; b++) bytes[b >> 3]! |= 1 << (b & 7);
      m.set(`${s.name}.${r.path}`, `bits ${Buffer.from(bytes).toString('hex')}`);
    } else m.set(`${s.name}.${r.path}`, `off ${r.offset}`);
  }
  return m;
}

// Compile every fixture once, up front, in a temp dir removed right after.
const results = new Map<string, { structs: StructType[]; gcc: Expected }>();
const tmp = mkdtempSync(path.join(tmpdir(), 'shms-layout-'));
try {
  for (const file of fixtures) {
    const cxx = file.endsWith('.hpp');
    const text = readFileSync(path.join(dir, file), 'utf8');
    let structs: StructType[] = [];
    try {
      structs = structsOf(text, file);
    } catch (e) {
      results.set(file, { structs: [], gcc: { lines: new Map(), error: (e as Error).message } });
      continue;
    }
    const src = path.join(tmp, `${file}.${cxx ? 'cc' : 'c'}`);
    const exe = path.join(tmp, `${file}.out`);
    writeFileSync(src, cProgram(file, structs, cxx));
    const cc = spawnSync(cxx ? 'c++' : 'cc', [cxx ? '-std=gnu++17' : '-std=gnu11', '-w', '-o', exe, src], { encoding: 'utf8' });
    const gcc: Expected = { lines: new Map() };
    if (cc.status !== 0) gcc.error = `compiler failed: ${cc.stderr}`;
    else {
      const run = spawnSync(exe, { encoding: 'utf8' });
      for (const line of run.stdout.trim().split('\n')) {
        const [key, ...rest] = line.split(' ');
        gcc.lines.set(key!, rest.join(' '));
      }
    }
    results.set(file, { structs, gcc });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

describe('layout matches gcc', () => {
  test('the corpus is large enough to mean something', () => {
    const n = [...results.values()].reduce((a, r) => a + r.structs.length, 0);
    assert.ok(n >= 60, `${n} structs`);
  });
  for (const [file, r] of results) {
    describe(file, () => {
      test('compiles with gcc and the engine', () => assert.equal(r.gcc.error, undefined));
      for (const s of r.structs) {
        test(`${s.union ? 'union' : 'struct'} ${s.name}`, () => {
          const mine = engineLines(s);
          const diffs: string[] = [];
          for (const [k, v] of mine) {
            const g = r.gcc.lines.get(k);
            if (g !== v) diffs.push(`${k}: gcc "${g}", engine "${v}"`);
          }
          assert.deepEqual(diffs, []);
        });
      }
    });
  }
});
