// The C front end's answers that gcc gives differently would be silent errors: each is checked
// against what gcc 12 (the compiler the engine models) says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSchema } from '../../extension/src/shared/schema';

const errors = (text: string) => compileSchema(text, 't.shms').diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);

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
