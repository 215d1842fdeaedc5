// The engine's C preprocessor: the C11 standard's own macro-expansion examples (§6.10.3.5,
// examples 3, 4, 5 and 7), conditionals, includes through a virtual file system, gcc's predefined
// macros, and the layouts that depend on all of it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSchema, findType, inlayHints, symbols, type IncludeHost, type StructType } from '../../extension/src/shared/schema';
import { tokenize } from '../../extension/src/shared/schema/lexer';
import { preprocess } from '../../extension/src/shared/schema/preprocess';

/** A file system of a few files. */
const vfs = (files: Record<string, string>, systemDirs: string[] = ['/sys']): IncludeHost => ({ read: (p) => files[p], systemDirs: () => systemDirs });

/** Token spellings of the output; strings by their contents, so escapes compare by meaning. */
const spell = (toks: { kind: string; text: string }[]) => toks.filter((t) => t.kind !== 'eof').map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text)).join(' ');
const out = (src: string, host: IncludeHost = vfs({}), uri = '/v/main.c') => {
  const r = preprocess(src, { host, uri });
  return { text: spell(r.tokens), diagnostics: r.diagnostics.map((d) => `${d.severity}: ${d.message}`) };
};
const expected = (src: string) => spell(tokenize(src).tokens);

describe('C11 §6.10.3.5: the standard\'s examples', () => {
  test('EXAMPLE 3: rescanning, nested calls, empty arguments, # and ##', () => {
    const src = `#define x 3
#define f(a) f(x * (a))
#undef x
#define x 2
#define g f
#define z z[0]
#define h g(~
#define m(a) a(w)
#define w 0,1
#define t(a) a
#define p() int
#define q(x) x
#define r(x,y) x ## y
#define str(x) # x
f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);
g(x+(3,4)-w) | h 5) & m
(f)^m(m);
p() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };
char c[2][6] = { str(hello), str() };
`;
    const r = out(src);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.text, expected(`f(2 * (y+1)) + f(2 * (f(2 * (z[0])))) % f(2 * (0)) + t(1);
f(2 * (2+(3,4)-0,1)) | f(2 * (~ 5)) & f(2 * (0,1))^m(0,1);
int i[] = { 1, 23, 4, 5, };
char c[2][6] = { "hello", "" };`));
  });

  test('EXAMPLE 4: stringizing, pasting and a computed #include', () => {
    const src = `#define str(s) # s
#define xstr(s) str(s)
#define debug(s, t) printf("x" # s "= %d, x" # t "= %s", \\
 x ## s, x ## t)
#define INCFILE(n) vers ## n
#define glue(a, b) a ## b
#define xglue(a, b) glue(a, b)
#define HIGHLOW "hello"
#define LOW LOW ", world"
debug(1, 2);
fputs(str(strncmp("abc\\0d", "abc", '\\4') // this goes away
 == 0) str(: @\\n), s);
#include xstr(INCFILE(2).h)
glue(HIGH, LOW);
xglue(HIGH, LOW)
`;
    const r = out(src, vfs({ '/v/vers2.h': 'int vers2_was_included;' }));
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.text, expected(`printf("x" "1" "= %d, x" "2" "= %s", x1, x2);
fputs("strncmp(\\"abc\\\\0d\\", \\"abc\\", '\\\\4') == 0" ": @\\n", s);
int vers2_was_included;
"hello";
"hello" ", world"`));
  });

  test('EXAMPLE 5: placemarkers', () => {
    const r = out(`#define t(x,y,z) x ## y ## z
int j[] = { t(1,2,3), t(,4,5), t(6,,7), t(8,9,),
 t(10,,), t(,11,), t(,,12), t(,,) };`);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.text, expected('int j[] = { 123, 45, 67, 89, 10, 11, 12, };'));
  });

  test('EXAMPLE 7: variable arguments', () => {
    const r = out(`#define debug(...) fprintf(stderr, __VA_ARGS__)
#define showlist(...) puts(#__VA_ARGS__)
#define report(test, ...) ((test)?puts(#test):\\
 printf(__VA_ARGS__))
debug("Flag");
debug("X = %d\\n", x);
showlist(The first, second, and third items.);
report(x>y, "x is %d but y is %d", x, y);`);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.text, expected(`fprintf(stderr, "Flag" );
fprintf(stderr, "X = %d\\n", x );
puts( "The first, second, and third items." );
((x>y)?puts("x>y"): printf("x is %d but y is %d", x, y));`));
  });
});

describe('directives', () => {
  test('#if/#elif/#else with defined, integer arithmetic and unevaluated operands', () => {
    const r = out(`#define A 2
#if defined(A) && A * 3 == 6 && !defined B
one
#endif
#if 0
#error not here (and a stray ' is fine when skipped)
#elif A == 1
two
#elif (-1 > 0u) && (0 || 1 / 1) && (1 ? 1 : 1 / 0) && !(0 && 1 / 0)
three
#else
four
#endif
#ifdef __x86_64__
five
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && __SIZEOF_LONG__ == 8 && __LP64__ && __GNUC__ >= 4
six
#endif
#ifndef A
seven
#endif`);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.text, 'one three five six');
  });

  test('#error and #warning are diagnostics; a bad #if is one error; an unterminated #if is reported', () => {
    const r = out('#warning careful here\n#if 1 +\n#endif\n#error stop: "this"\n#if 1\nint x;');
    assert.deepEqual(r.diagnostics, ['warning: #warning careful here', 'error: #if: expression expected', 'error: #error stop: "this"', 'error: #if without #endif']);
  });

  test('continuation lines and comments inside directives and macro calls', () => {
    const r = out('#define LONG 1 + \\\n  2 /* a comment\n spanning lines */ + 3\n#if LONG == 6 // yes\nok LONG\n#endif\n#define F(a, b) a b\nF(x, /* c */\n y)\nsp\\\nliced');
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.text, 'ok 1 + 2 + 3 x y spliced');
  });

  test('a macro is not expanded inside itself; a function-like name without ( stays a name', () => {
    const r = out('#define a a + 1\n#define f(x) x\na f g f(f)(3)');
    assert.equal(r.text, expected('a + 1 f g f(3)'));
  });

  test('GNU: named variadics and , ## __VA_ARGS__', () => {
    const r = out('#define e(fmt, args...) p(fmt, ## args)\n#define v(fmt, ...) p(fmt, ## __VA_ARGS__)\ne(1) e(1, 2, 3) v(4) v(4, 5)');
    assert.equal(r.text, expected('p(1) p(1, 2, 3) p(4) p(4, 5)'));
  });

  test('includes: quoted from the file\'s folder, <> from -I then the system, include_next, #pragma once, guards', () => {
    const host = vfs({
      '/v/local.h': '#pragma once\nint local;',
      '/inc/a.h': '#ifndef A_H\n#define A_H\nint from_inc;\n#include_next <a.h>\n#endif',
      '/sys/a.h': 'int from_sys;',
      '/sys/sub/b.h': '#include "c.h"',
      '/sys/sub/c.h': 'int beside_b;',
    });
    const r = preprocess('#include "local.h"\n#include "local.h"\n#include <a.h>\n#include <a.h>\n#include <sub/b.h>\n#if __has_include(<sub/c.h>) && !__has_include("nope.h")\nint has;\n#endif\n#include <missing.h>', { host, uri: '/v/main.c', includePath: ['/inc'] });
    assert.equal(spell(r.tokens), expected('int local; int from_inc; int from_sys; int beside_b; int has;'));
    assert.deepEqual(r.diagnostics.map((d) => d.message), ['cannot find the include file <missing.h> (searched /inc, /sys)']);
    assert.equal(r.diagnostics[0]!.range.start.line, 8);
    // Tokens of included files sit at the #include line and say where they come from.
    const fromSys = r.tokens.find((t) => t.text === 'from_sys')!;
    assert.equal(fromSys.range.start.line, 2);
    assert.equal(fromSys.origin, '/sys/a.h:1');
  });

  test('-D defines, and __LINE__ / __FILE__', () => {
    const r = preprocess('N M __LINE__ __FILE__', { defines: { N: '7', M: '' }, uri: '/v/m.shms', host: vfs({}) });
    assert.equal(spell(r.tokens), '7 1 1 "/v/m.shms"');
  });

  test('macro arguments spanning lines and deep or recursive input end with a diagnostic, never a hang', () => {
    const r = out(`#define f(x) f(x) x\n${'f('.repeat(300)}1${')'.repeat(300)}`);
    assert.ok(r.diagnostics.some((d) => /nested deeper than|preprocessing steps/.test(d)), r.diagnostics.join('\n'));
    const inc = preprocess('#include "self.h"', { host: vfs({ '/v/self.h': '#include "self.h"' }), uri: '/v/main.c' });
    assert.match(inc.diagnostics.map((d) => d.message).join('\n'), /nested deeper than 200/);
  });

  test('integer constants: values, unsignedness and malformed spellings, and the same tokens at an included file\'s line', () => {
    const src = '16 1U 0x1f 0X1FuLL 0xFFFFFFFFFFFFFFFF 12345678901234567 0 0U 017 0b101 1\'000 0x 1.5 09 1e3 0x10e+5\nx';
    const main = tokenize(src).tokens;
    const seen = main.map((t) => `${t.text}=${t.bad ? 'bad' : t.float !== undefined ? `f${t.float}` : `${t.value}${t.unsigned ? 'u' : ''}`}`);
    assert.deepEqual(seen, ['16=16', '1U=1u', '0x1f=31', '0X1FuLL=31u', '0xFFFFFFFFFFFFFFFF=18446744073709551615', '12345678901234567=12345678901234567', '0=0', '0U=0u', '017=15', '0b101=5', "1'000=1000", '0x=bad', '1.5=f1.5', '09=bad', '1e3=f1000', '0x10e=270', '+=undefined', '5=5', 'x=undefined']);
    // An included file's tokens (line ranges, no comments): the same tokens, each at its line.
    const included = tokenize(`/* c */ ${src}`, undefined, true);
    assert.deepEqual(included.tokens.map((t) => [t.text, t.value, t.unsigned, t.bad]), main.map((t) => [t.text, t.value, t.unsigned, t.bad]));
    assert.deepEqual(included.tokens.map((t) => t.range.start.line), main.map((t) => t.range.start.line));
    assert.equal(included.comments.length, 0);
  });
});

describe('layouts that need the preprocessor', () => {
  test('#define PACKED __attribute__((packed)) then } PACKED; is packed', () => {
    const s = compileSchema('#define PACKED __attribute__((packed))\nstruct wire { uint8_t kind; uint32_t value; } PACKED;\nstatic_assert(sizeof(struct wire) == 5);');
    assert.deepEqual(s.diagnostics, []);
    assert.equal(findType(s, 'wire')!.size, 5);
  });

  test('#if __BYTE_ORDER == __LITTLE_ENDIAN picks the little-endian members of a real header', () => {
    const s = compileSchema('#include <netinet/ip.h>', '/tmp/x.shms');
    const ip = findType(s, 'iphdr') as StructType;
    assert.deepEqual(ip.fields.slice(0, 2).map((f) => `${f.name}:${f.bitOffset}`), ['ihl:0', 'version:4']);
  });

  test('header import counts macros that expand to numbers as numeric #defines', () => {
    const s = compileSchema('#define BASE 0x10\n#define SIZE (BASE * 4 + sizeof_not_a_number)\n#define COUNT (BASE << 2)\nstruct s { char b[COUNT]; };');
    assert.equal(findType(s, 's')!.size, 64);
  });
  test('types of an included header are usable but stay out of the outline and the inlay hints', () => {
    const s = compileSchema('#include <pthread.h>\nstruct mine { pthread_mutex_t m; int x; };\n', '/tmp/uses-pthread.shms');
    assert.deepEqual(s.diagnostics, []);
    assert.equal(findType(s, 'mine')!.size, 48);
    assert.deepEqual(symbols(s).map((x) => x.name), ['mine']);
    assert.deepEqual(inlayHints(s).map((h) => `${h.position.line}${h.label}`), ['1 @0', '1 @40']);
  });
});
