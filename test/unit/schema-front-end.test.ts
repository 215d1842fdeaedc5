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
