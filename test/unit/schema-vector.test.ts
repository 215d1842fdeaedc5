// __attribute__((vector_size(N))): laid out as gcc lays it out (an array of N bytes aligned to N),
// checked against gcc itself; a vector gcc places differently from its alignment (wider than 16
// bytes) is an error at the attribute, never a silent difference.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { compileSchema, findField, findType, type StructType } from '../../extension/src/shared/schema';

const dir = mkdtempSync(path.join(tmpdir(), 'shms-vector-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DECLS = `typedef float v4sf __attribute__((vector_size(16)));
typedef long long v2di __attribute__ ((__vector_size__ (16)));
typedef char v2c __attribute__((vector_size(2)));
typedef short v4hi __attribute__((vector_size(8)));
struct vec { char c; v4sf v; int x; v2c q; v2di w[2]; unsigned char u __attribute__((vector_size(4))); v4hi h; char tail; };
`;
const MEMBERS = ['c', 'v', 'x', 'q', 'w', 'u', 'h', 'tail'];

test('vector_size members: size, alignment and every offset as gcc has them', () => {
  const src = path.join(dir, 'v.c');
  writeFileSync(src, `#include <stdio.h>\n#include <stddef.h>\n${DECLS}int main(void) { printf("%zu %zu${MEMBERS.map(() => ' %zu').join('')}\\n", sizeof(struct vec), _Alignof(struct vec)${MEMBERS.map((m) => `, offsetof(struct vec, ${m})`).join('')}); return 0; }\n`);
  const exe = path.join(dir, 'v');
  const cc = spawnSync('cc', ['-w', '-o', exe, src], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const [size, align, ...offsets] = spawnSync(exe, { encoding: 'utf8' }).stdout.trim().split(' ').map(Number);
  const schema = compileSchema(DECLS, 'v.shms');
  assert.deepEqual(schema.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const t = findType(schema, 'vec') as StructType;
  assert.equal(t.size, size);
  assert.equal(t.align, align);
  assert.deepEqual(MEMBERS.map((m) => findField(t, m)?.offset), offsets);
  assert.equal(findField(t, 'v')?.field.type.size, 16);
});

test('a vector wider than 16 bytes is an error at the attribute, not a silent layout', () => {
  const schema = compileSchema('struct w { char c; float __attribute__((vector_size(32))) y; };', 'w.shms');
  assert.match(schema.diagnostics.map((d) => d.message).join('\n'), /vector_size\(32\): vectors wider than 16 bytes are not supported/);
  const bad = compileSchema('typedef float v3 __attribute__((vector_size(12)));', 'b.shms');
  assert.match(bad.diagnostics.map((d) => d.message).join('\n'), /vector_size\(12\) is not a power of two/);
});
