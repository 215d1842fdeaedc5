// The C front end's answers that gcc gives differently would be silent errors: each is checked
// against what gcc 12 (the compiler the engine models) says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { compileSchema, decode, findType, importHeader, type StructType } from '../../extension/src/shared/schema';
import { halfBits, halfValue } from '../../extension/src/shared/schema/float16';
import { BufferSource } from '../../extension/src/shared/source';

const errors = (text: string) => compileSchema(text, 't.shms').diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);

const dir = mkdtempSync(path.join(tmpdir(), 'shms-front-end-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let probes = 0;

/**
 * What gcc says each integer expression is after `decls` (a compiled probe prints them), and the
 * engine's static_asserts of the same values: an empty list when the engine agrees on every one.
 */
function againstGcc(decls: string, exprs: string[]): string[] {
  const src = path.join(dir, `p${++probes}.c`);
  const exe = src.slice(0, -2);
  writeFileSync(src, `#include <stdio.h>\n#include <stddef.h>\n${decls}\nint main(void) {\n${exprs.map((e) => `  printf("%lld\\n", (long long)(${e}));`).join('\n')}\n  return 0;\n}\n`);
  const cc = spawnSync('cc', ['-w', '-o', exe, src], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const values = spawnSync(exe, { encoding: 'utf8' }).stdout.trim().split('\n');
  assert.equal(values.length, exprs.length);
  return errors(`${decls}\n${exprs.map((e, i) => `static_assert((${e}) == ${values[i]}, ${JSON.stringify(`${e} is ${values[i]} for gcc`)});`).join('\n')}`);
}

test('__has_attribute is 1 only for attributes gcc 12 has, in every spelling', () => {
  assert.deepEqual(errors(`
#if !__has_attribute(packed) || !__has_attribute(__aligned__) || !__has_attribute(gnu::unused) || !__has_attribute(vector_size)
#error known attributes
#endif
#if __has_attribute(counted_by) || __has_attribute(no_such_attribute) || __has_cpp_attribute(nodiscard)
#error unknown attributes
#endif
struct s { int x; };`), []);
  // A header that picks a layout by it follows gcc 12.
  assert.deepEqual(errors(`
#if __has_attribute(counted_by)
struct f { int n; int a[] __attribute__((counted_by(n))); };
static_assert(0, "gcc 12 has no counted_by");
#endif`), []);
});

test('brackets inside a string or character literal of an inline function body are not brackets', () => {
  for (const lit of ['"{"', '"("', '")"', '"}"', "'{'", "')'", '";"']) {
    const text = `static inline int f(int c) { const char *s = ${lit}; if (c) return s[0]; return 0; }\nstruct a { int x; };\nstatic_assert(sizeof(struct a) == 4, "kept");\nstatic_assert(0, "seen");`;
    // The file after the body is read: the later static_assert(0) fails, nothing else does.
    assert.deepEqual(errors(text), ['static_assert failed: seen: the condition is false'], lit);
  }
});

test('__attribute__((…)) before a declaration: accepted as gcc does, a typedef keeps its name and alignment', () => {
  const decls = `__attribute__((packed)) struct b { char c; int y; };
__attribute__((aligned(8))) typedef int T8;
__attribute__((packed)) typedef struct { char c; int y; } P;
__attribute__((aligned(16))) typedef struct { char c; } A16;
__attribute__((__mode__(__HI__))) typedef int HI;
__attribute__((visibility("default"))) int foo(void);
__extension__ __attribute__((__unused__)) static const int k = 3;
struct u { char c; T8 x; HI h; };`;
  assert.deepEqual(againstGcc(decls, ['sizeof(struct b)', '_Alignof(T8)', 'sizeof(P)', '_Alignof(A16)', 'sizeof(A16)', 'sizeof(HI)', 'sizeof(struct u)', 'offsetof(struct u, h)']), []);
});

test('constants in C\'s types: literals by suffix and base, the usual conversions, promotion after a cast', () => {
  const decls = `#define NONE (~0U)
#define ALL (~0ULL)
#define TOP (1u << 31)
#define MASK (0xffffffff + 1)`;
  assert.deepEqual(againstGcc(decls, [
    'NONE', 'NONE + 1', 'ALL', 'TOP', 'MASK', '-1 > 0u', '-1 < 0', '-1L < 1u', '-1 > 0UL', '0x7fffffff + 0u', '4294967295 + 1', '-1 >> 1u', '~0 >> 1',
    '(unsigned char)300 + 0', '(unsigned short)65535 + 1', '(unsigned)-1 / 2', '-7 / 2', '-7 % 2', 'sizeof(int) - 5 > 0', '1 ? -1 : 0', '0xffffffffULL << 32',
  ]), []);
  // An import writes each #define's value as C has it (0xffffffff is an unsigned int: + 1 is 0).
  const r = importHeader(`${decls}\nstruct s { int x; };\n`, path.join(dir, 'n.h'));
  assert.match(r.text, /#define NONE 4294967295\n/);
  assert.match(r.text, /#define ALL 18446744073709551615\n/);
  assert.match(r.text, /#define TOP 2147483648\n/);
  assert.match(r.text, /#define MASK 0\n/);
});

test('ms_struct and scalar_storage_order: the type they lay out is refused, with what holds it', () => {
  const text = `struct __attribute__((ms_struct)) m { char c; int x : 3; };
typedef struct { unsigned short v; } __attribute__((scalar_storage_order("big-endian"))) be_t;
struct outer { int a; be_t b; };
#pragma scalar_storage_order big-endian
struct p { int y; };
#pragma scalar_storage_order default
struct fine { char c; int x; };`;
  const schema = compileSchema(text, 't.shms');
  const refused = (n: string) => (findType(schema, n) as StructType).refused;
  assert.match(refused('m') ?? '', /__attribute__\(\(ms_struct\)\) changes the layout and is not supported: struct m is not laid out/);
  assert.match(refused('be_t') ?? '', /scalar_storage_order/);
  assert.match(refused('outer') ?? '', /scalar_storage_order/, 'a struct holding a refused one is refused too');
  assert.match(refused('p') ?? '', /#pragma scalar_storage_order big-endian/);
  assert.equal(refused('fine'), undefined);
  assert.equal((findType(schema, 'fine') as StructType).size, 8);
  assert.equal((findType(schema, 'm') as StructType).fields.length, 0, 'nothing of it is placed');
  const r = importHeader(`${text}\n`, path.join(dir, 'ms.h'));
  assert.equal(r.refused.length, 3, r.refused.join('\n'));
  assert.match(r.refused[0]!, /^line 1: .*struct m is not laid out$/);
});

test('an array sized by a variable of the header (sizeof(v) / sizeof(v[0])) is an error there, never a silent [0]', () => {
  const text = `static const int v[] = { 1, 2, 3 };\nstruct a { int n; int arr[sizeof(v) / sizeof(v[0])]; int after; };\nstruct b { int n; char s[n]; };\n`;
  const schema = compileSchema(text, 't.shms');
  assert.deepEqual(schema.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.range.start.line}: ${d.message}`), [
    '1: "v" is a variable of the header: the engine does not evaluate variables, so this array\'s size is unknown (write it as a constant)',
  ]);
  const a = findType(schema, 'a') as StructType;
  assert.ok(a.errors?.length, 'its layout stops at the array');
  assert.deepEqual(a.fields.map((f) => f.name), ['n']);
  // A field sizing an array is still the schema language's own (read when decoding).
  assert.equal((findType(schema, 'b') as StructType).errors, undefined);
  const r = importHeader(text, path.join(dir, 'sz.h'));
  assert.match(r.diagnostics.join('\n'), /^line 2: "v" is a variable of the header/);
});

test('_Float16, _Decimal32/64/128 and offsetof(T, a[2]) as gcc lays them out; a _Float16 decodes to its value', () => {
  const decls = `struct in { int q[3]; };
struct s { char c; _Float16 h; char d; _Decimal32 d32; char e; _Decimal64 d64; char f; _Decimal128 d128; int arr[4]; struct in in[2]; };`;
  assert.deepEqual(againstGcc(decls, [
    'sizeof(struct s)', '_Alignof(struct s)', 'sizeof(_Float16)', '_Alignof(_Decimal128)', 'offsetof(struct s, h)', 'offsetof(struct s, d32)', 'offsetof(struct s, d64)',
    'offsetof(struct s, d128)', 'offsetof(struct s, arr[2])', 'offsetof(struct s, in[1].q[2])', '__builtin_offsetof(struct s, arr[1 + 2])',
  ]), []);
  const schema = compileSchema('struct h { _Float16 a, b, c, d; };', 'h.shms');
  const { root } = decode(schema, 'h', new BufferSource(Uint8Array.from([0x00, 0x3e, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00])));
  assert.deepEqual(root!.children().map((c) => c.value), [1.5, -2, 65504, 2 ** -24]);
  // Every finite binary16 value goes back to its own bits.
  for (let bits = 0; bits < 0x10000; bits++) {
    const v = halfValue(bits);
    if (Number.isFinite(v) && !(v === 0 && bits === 0x8000)) assert.equal(halfBits(v), bits, `0x${bits.toString(16)}`);
  }
});

test('__has_builtin is 1 only for the builtins the engine evaluates', () => {
  assert.deepEqual(errors(`
#if !__has_builtin(__builtin_offsetof)
#error offsetof is implemented
#endif
#if __has_builtin(__builtin_constant_p) || __has_builtin(__builtin_choose_expr) || __has_builtin(__builtin_no_such_thing) || __has_builtin(__builtin_va_list)
#error not implemented
#endif
#if __has_builtin(__builtin_choose_expr)
#define PICK(c, a, b) __builtin_choose_expr(c, a, b)
#else
#define PICK(c, a, b) ((c) ? (a) : (b))
#endif
struct s { char a[PICK(1, 4, 8)]; };
static_assert(sizeof(struct s) == 4);`), []);
});

test('import keeps the numeric #defines of a wrapper header and of the user\'s headers it includes', () => {
  const inc = path.join(dir, 'wrapper');
  mkdirSync(inc, { recursive: true });
  writeFileSync(path.join(inc, 'inner.h'), '#define INNER_N 7\n#define INNER_GONE 1\n#undef INNER_GONE\n#define INNER_NAME "x"\nstruct inner { int a[INNER_N]; };\n');
  const header = path.join(inc, 'wrap.h');
  const text = '#include <stdint.h>\n#include "inner.h"\n#define WRAP_N 5\n#define WRAP_MASK (~0U)\nstruct w { struct inner i; int b[WRAP_N]; };\n';
  const r = importHeader(text, header);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.defines, 3, r.text);
  assert.match(r.text, /#define WRAP_N 5\n#define WRAP_MASK 4294967295\n#define INNER_N 7\n/);
  // Not the system headers' (stdint.h's INT32_MAX) for a user's header, nor an #undef'd one.
  assert.doesNotMatch(r.text, /INT32_MAX|INNER_GONE|INNER_NAME/);
  assert.deepEqual(compileSchema(r.text, path.join(dir, 'wrap.shms')).diagnostics.filter((d) => d.severity === 'error'), []);
  // --all-types keeps every included header's, as it keeps their types.
  assert.match(importHeader(text, header, { allTypes: true }).text, /#define INT32_MAX 2147483647\n/);
});

test('typed floating constants (math.h\'s M_Ef32: 2.718…f32, 1.5F128x, 1.5DD) are tokens, also when pasted', () => {
  assert.deepEqual(errors(`
#define __f32(x) x##f32
#define M_E32 __f32(2.718281828459045235360287471352662498)
static const float e = M_E32, f = 1.5F128x, g = 1.5DD, h = 2.0f64x;
struct s { int x; };
static_assert(sizeof(struct s) == 4);`), []);
});
