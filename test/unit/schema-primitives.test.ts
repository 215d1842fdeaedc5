// glibc's process-shared primitives as schema types: their layout against gcc with the real
// <pthread.h> and <semaphore.h>, and their decoded state from bytes that glibc itself wrote
// (test/fixtures/waits/prims.c: a robust mutex whose owner died, a recursive mutex locked twice, …).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { compileSchema, decode, decodeJson, lockState, type DecodedNode, type StructType } from '../../extension/src/shared/schema';
import { BufferSource } from '../../extension/src/shared/source';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'waits');
const tmp = mkdtempSync(path.join(tmpdir(), 'shms-prims-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cc(src: string, out: string, extra: string[] = []): void {
  const r = spawnSync('cc', ['-std=gnu11', '-O0', '-pthread', '-o', out, src, ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

const SCHEMA = `
struct All {
  char c;
  pthread_mutex_t m;
  char d;
  pthread_cond_t cv;
  short e;
  pthread_rwlock_t rw;
  char f;
  pthread_barrier_t b;
  char g;
  pthread_spinlock_t sp;
  char h;
  sem_t s;
  uint32_t word [[futex]];
};
`;

describe('primitive layouts match gcc and glibc', () => {
  test('sizes, alignments, members and their offsets inside a struct', () => {
    const schema = compileSchema(SCHEMA);
    assert.deepEqual(schema.diagnostics.filter((d) => d.severity === 'error'), []);
    const all = schema.types.get('All') as StructType;
    const engine: string[] = [];
    const program = ['#define _GNU_SOURCE', '#include <pthread.h>', '#include <semaphore.h>', '#include <stdint.h>', '#include <stdio.h>', '#include <stddef.h>',
      SCHEMA.replace('[[futex]]', ''), 'int main(void) {'];
    const print = (label: string, expr: string, value: number) => {
      program.push(`  printf("${label} %zu\\n", (size_t)(${expr}));`);
      engine.push(`${label} ${value}`);
    };
    for (const name of ['pthread_mutex_t', 'pthread_cond_t', 'pthread_rwlock_t', 'pthread_barrier_t', 'pthread_spinlock_t', 'sem_t']) {
      const t = schema.types.get(name)!;
      print(`sizeof(${name})`, `sizeof(${name})`, t.size);
      print(`alignof(${name})`, `__alignof__(${name})`, t.align);
    }
    print('sizeof(All)', 'sizeof(struct All)', all.size);
    for (const f of all.fields) print(`offsetof(All, ${f.name})`, `offsetof(struct All, ${f.name})`, f.offset);
    // The members glibc publishes, at the offsets its headers give them.
    const members: [string, string][] = [
      ['pthread_mutex_t', '__lock'], ['pthread_mutex_t', '__count'], ['pthread_mutex_t', '__owner'], ['pthread_mutex_t', '__nusers'], ['pthread_mutex_t', '__kind'],
      ['pthread_mutex_t', '__spins'], ['pthread_mutex_t', '__elision'], ['pthread_mutex_t', '__list'],
      ['pthread_cond_t', '__wseq'], ['pthread_cond_t', '__g1_start'], ['pthread_cond_t', '__g_refs'], ['pthread_cond_t', '__g_size'], ['pthread_cond_t', '__g1_orig_size'],
      ['pthread_cond_t', '__wrefs'], ['pthread_cond_t', '__g_signals'],
      ['pthread_rwlock_t', '__readers'], ['pthread_rwlock_t', '__writers'], ['pthread_rwlock_t', '__wrphase_futex'], ['pthread_rwlock_t', '__writers_futex'],
      ['pthread_rwlock_t', '__cur_writer'], ['pthread_rwlock_t', '__shared'], ['pthread_rwlock_t', '__rwelision'], ['pthread_rwlock_t', '__flags'],
    ];
    for (const [type, member] of members) {
      const f = (schema.types.get(type) as StructType).fields.find((x) => x.name === member)!;
      print(`${type}.${member}`, `offsetof(${type}, __data.${member})`, f.offset);
    }
    program.push('  return 0;', '}');
    const src = path.join(tmp, 'layout.c');
    writeFileSync(src, program.join('\n'));
    cc(src, path.join(tmp, 'layout'));
    const gcc = spawnSync(path.join(tmp, 'layout'), { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.deepEqual(engine, gcc);
  });

  test('[[futex]] wants a 32-bit word', () => {
    const s = compileSchema('struct A { uint64_t w [[futex]]; };');
    assert.match(s.diagnostics.map((d) => d.message).join('\n'), /\[\[futex\]\] marks a 32-bit integer/);
  });
});

describe('primitive states from bytes glibc wrote', () => {
  cc(path.join(fixtures, 'prims.c'), path.join(tmp, 'prims'));
  const run = spawnSync(path.join(tmp, 'prims'));
  assert.equal(run.status, 0, String(run.stderr));
  const ids = /self (\d+) child (\d+)/.exec(String(run.stderr))!;
  const self = Number(ids[1]);
  const child = Number(ids[2]);
  const schema = compileSchema(`struct Prims { pthread_mutex_t robust; pthread_mutex_t rec; sem_t sem; pthread_rwlock_t rw; pthread_cond_t cv;
    pthread_barrier_t barrier; pthread_spinlock_t spin; uint32_t word [[futex]]; pthread_mutex_t taken; };`);
  const threads = (tid: number) => (tid === self ? { pid: self, name: 'prims', alive: true } : undefined);
  const root = decode(schema, 'Prims', new BufferSource(new Uint8Array(run.stdout)), { threads }).root!;
  const field = (name: string) => root.children(0, 20).find((c: DecodedNode) => c.name === name)!;

  test('a robust mutex whose owner died holding it', () => {
    const st = field('robust').lock!;
    assert.equal(st.ownerDied, true);
    assert.equal(st.owner, child);
    assert.equal(st.ownerAlive, false);
    assert.equal(st.robust, true);
    assert.equal(st.shared, true);
    assert.match(field('robust').display, new RegExp(`^owner died \\(TID ${child}\\).* robust, process-shared`));
  });
  test('a robust mutex taken again after its owner died, not yet consistent', () => {
    const st = field('taken').lock!;
    assert.deepEqual([st.locked, st.owner, st.ownerAlive, st.ownerDied, st.inconsistent], [true, self, true, undefined, true]);
    assert.match(field('taken').display, new RegExp(`^locked by TID ${self} \\(pid ${self}, prims\\), no waiters, inconsistent`));
  });
  test('a recursive mutex locked twice by a live thread', () => {
    const st = field('rec').lock!;
    assert.deepEqual([st.locked, st.owner, st.ownerPid, st.ownerAlive, st.type, st.count, st.waiters, st.robust], [true, self, self, true, 'recursive', 2, false, false]);
    assert.equal(field('rec').display, `locked by TID ${self} (pid ${self}, prims), no waiters, locked 2 times · recursive, process-shared`);
  });
  test('semaphore, rwlock, condvar, barrier, spinlock and a futex word', () => {
    assert.equal(field('sem').display, 'value 3, 0 waiters · process-shared');
    assert.equal(field('rw').display, 'read-locked by 2 readers · process-shared');
    assert.equal(field('cv').lock!.waiters, 0);
    assert.equal(field('cv').lock!.shared, true);
    assert.equal(field('barrier').display, '0 of 3 threads arrived · process-shared');
    assert.equal(field('spin').display, 'locked');
    assert.equal(field('word').display, '2147483655 (futex, waiters)');
  });
  test('JSON gives each primitive its state', () => {
    const j = decodeJson(schema, 'Prims', new BufferSource(new Uint8Array(run.stdout)), { threads }).json;
    assert.deepEqual((j.rec as Record<string, unknown>).owner, self);
    assert.equal((j.robust as Record<string, unknown>).ownerDied, true);
    assert.equal((j.sem as Record<string, unknown>).value, 3);
    assert.equal(j.word, 2147483655);
  });
  test('garbage never throws and says it is not a mutex', () => {
    assert.match(lockState('mutex', new Uint8Array(40).fill(0xff)).text, /not an initialised mutex/);
    assert.equal(lockState('mutex', new Uint8Array(3)).invalid, 'too short');
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(64).map(() => (Math.random() * 256) | 0);
      for (const k of ['mutex', 'cond', 'rwlock', 'barrier', 'spinlock', 'sem', 'futex'] as const) assert.equal(typeof lockState(k, b).text, 'string');
    }
  });
});

describe('primitives in the structure view', () => {
  test("a primitive's row shows its state, and a struct holding one previews it", async () => {
    const { preview } = await import('../../extension/src/shared/inspector/structure');
    const schema = compileSchema('struct S { uint32_t n; pthread_mutex_t m; };');
    const b = new Uint8Array(48);
    const dv = new DataView(b.buffer);
    dv.setInt32(8, 2, true); // __lock: locked with waiters
    dv.setInt32(16, 77, true); // __owner
    dv.setInt32(24, 128, true); // __kind: process-shared
    const root = decode(schema, 'S', new BufferSource(b)).root!;
    const m = root.children(0, 2)[1]!;
    assert.equal(preview(m), 'locked by TID 77, with waiters · normal, process-shared');
    assert.equal(preview(root), '{ n: 0, m: locked by TID 77, with waiters · normal… }'); // members are cut at 40 characters
  });
});

describe('primitives in the editor services', () => {
  test('hover says what a primitive decodes to; [[futex]] completes', async () => {
    const { hoverAt, completionsAt } = await import('../../extension/src/shared/schema');
    const text = 'struct S {\n  pthread_mutex_t lock;\n  uint32_t word [[futex]];\n};\n';
    const schema = compileSchema(text);
    const onField = hoverAt(schema, { line: 1, character: 19 })!.contents;
    assert.match(onField, /offset 0 \(0x0\) · size 40 · align 8/);
    assert.match(onField, /glibc process-shared `pthread_mutex_t` \(x86-64 layout, 40 bytes\): decoded to unlocked or locked by a TID/);
    assert.match(hoverAt(schema, { line: 1, character: 5 })!.contents, /glibc process-shared `pthread_mutex_t`/);
    assert.match(hoverAt(schema, { line: 2, character: 12 })!.contents, /a futex word/);
    assert.ok(completionsAt(compileSchema('struct S { uint32_t w [['), { line: 0, character: 25 }).some((c) => c.label === 'futex'));
  });
});
