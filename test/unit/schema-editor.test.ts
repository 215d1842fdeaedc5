// The editor pieces of the schema language that need no running editor: package.json wiring, the
// TextMate grammar and language configuration, C header import, formatting.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { compileSchema, findType, formatSchema, importHeader, layoutOf, type StructType } from '../../extension/src/shared/schema';

const root = path.resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

test('package.json declares the shms language, its grammar, the import command and the inlay hint setting', () => {
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'shms');
  assert.deepEqual(lang.extensions, ['.shms']);
  assert.ok(existsSync(path.join(root, lang.configuration)));
  const grammar = pkg.contributes.grammars.find((g: { language: string }) => g.language === 'shms');
  assert.equal(grammar.scopeName, 'source.shms');
  const g = JSON.parse(readFileSync(path.join(root, grammar.path), 'utf8'));
  assert.equal(g.scopeName, 'source.shms');
  // Every pattern is a valid regular expression (Oniguruma-only syntax is not used).
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) return o.forEach(walk);
    if (o && typeof o === 'object') {
      for (const [k, v] of Object.entries(o)) {
        if ((k === 'match' || k === 'begin' || k === 'end') && typeof v === 'string') new RegExp(v);
        else walk(v);
      }
    }
  };
  walk(g);
  const conf = JSON.parse(readFileSync(path.join(root, lang.configuration), 'utf8'));
  assert.equal(conf.comments.lineComment, '//');
  assert.ok(pkg.contributes.commands.some((c: { command: string; title: string }) => c.command === 'shmscope.importHeader' && c.title === 'Import C Header as Schema…'));
  assert.equal(pkg.contributes.configuration.properties['shmscope.schema.inlayHints'].default, true);
  assert.ok(pkg.activationEvents.includes('onLanguage:shms'));
});

test('C header import keeps types and numeric #defines, skips the rest and says so; same layout', () => {
  const header = `#ifndef RING_H
#define RING_H
#include <stdint.h>
#define RING_SLOTS 16
#define RING_NAME "ring"
#define MAX(a, b) ((a) > (b) ? (a) : (b))
typedef struct { uint32_t len; char text[60]; } slot_t;
#pragma pack(push, 1)
struct wire { uint8_t kind; uint32_t value; };
#pragma pack(pop)
enum mode { MODE_OFF, MODE_ON = 4 };
struct ring { uint64_t head; slot_t slots[RING_SLOTS]; enum mode mode; };
int ring_open(const char *name);
extern struct ring *global_ring;
static inline int ring_empty(const struct ring *r) { return r->head == 0; }
#endif
`;
  const r = importHeader(header, 'ring.h');
  assert.deepEqual(r.diagnostics, []);
  const s = compileSchema(r.text);
  assert.deepEqual(s.diagnostics.filter((d) => d.severity === 'error'), []);
  const orig = compileSchema(header);
  for (const name of ['slot_t', 'wire', 'ring']) {
    assert.deepEqual(layoutOf(findType(s, name) as StructType).map((x) => [x.path, x.offset, x.size]), layoutOf(findType(orig, name) as StructType).map((x) => [x.path, x.offset, x.size]), name);
  }
  assert.equal(findType(s, 'wire')!.size, 5);
  assert.match(r.text, /#define RING_SLOTS 16/);
  assert.doesNotMatch(r.text, /ring_open|global_ring|ring_empty/);
  const skipped = r.skipped.join('\n');
  assert.doesNotMatch(r.text, /#include/);
  assert.match(skipped, /RING_NAME \(not a numeric constant\)/);
  assert.match(skipped, /MAX\(…\) \(function-like macro\)/);
  assert.match(skipped, /line 13: declaration .*not a type/);
  assert.match(skipped, /line 15: declaration .*function definition/);
});

test('formatting re-indents by braces and is stable', () => {
  const messy = 'struct A {\nuint32_t a;   \n   struct {\nint b;\n} in;\n};\n\n\n\nsegment S { A a @ 0; };';
  const once = formatSchema(messy);
  assert.equal(once, 'struct A {\n    uint32_t a;\n    struct {\n        int b;\n    } in;\n};\n\nsegment S { A a @ 0; };\n');
  assert.equal(formatSchema(once), once);
});
