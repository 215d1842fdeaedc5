// Real system headers, pasted raw: each header's own text (from this machine's /usr/include) is
// compiled by the engine, whose preprocessor follows its #includes, #ifs and macros as gcc does.
// One C program, compiled once, prints gcc's sizeof, _Alignof, every member's offsetof (bit
// positions for bit-fields) and every integer member's value in an instance filled with a known
// byte pattern; the engine must agree on every line, and the import of each header must re-check
// with no error. The headers of the machine are the truth: nothing is copied into fixtures.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { compileSchema, decode, findType, importHeader, layoutOf, systemIncludeDirs, type DecodedNode, type Schema, type StructType, type Type } from '../../extension/src/shared/schema';
import { BufferSource } from '../../extension/src/shared/source';

/** Header → the types it declares that the test compares (C spelling). */
const HEADERS: [string, string[]][] = [
  ['sys/stat.h', ['struct stat', 'struct timespec']],
  ['signal.h', ['struct sigaction', 'siginfo_t', 'stack_t', 'sigset_t', 'sigevent_t', 'union sigval']],
  ['ucontext.h', ['ucontext_t', 'mcontext_t', 'struct _libc_fpstate']],
  ['pthread.h', [
    'pthread_mutex_t', 'pthread_cond_t', 'pthread_rwlock_t', 'pthread_barrier_t', 'pthread_attr_t', 'pthread_mutexattr_t', 'pthread_condattr_t',
    'pthread_rwlockattr_t', 'pthread_barrierattr_t', 'pthread_spinlock_t', 'pthread_once_t', 'pthread_key_t', 'pthread_t',
    'struct __pthread_mutex_s', 'struct __pthread_cond_s', 'struct __pthread_rwlock_arch_t', 'struct __pthread_internal_list', 'struct sched_param',
  ]],
  ['netinet/ip.h', ['struct iphdr', 'struct ip', 'struct ip_timestamp']],
  ['netinet/tcp.h', ['struct tcphdr', 'struct tcp_info']],
  ['sys/epoll.h', ['struct epoll_event', 'epoll_data_t']],
  ['linux/input.h', ['struct input_event', 'struct input_absinfo', 'struct ff_effect']],
  ['linux/if_ether.h', ['struct ethhdr']],
  ['linux/perf_event.h', ['struct perf_event_attr', 'struct perf_event_mmap_page', 'struct perf_event_header']],
  ['termios.h', ['struct termios']],
  ['dirent.h', ['struct dirent']],
  ['net/if.h', ['struct ifreq', 'struct ifconf', 'struct if_nameindex']],
  ['time.h', ['struct tm', 'struct itimerspec']],
  ['sys/socket.h', ['struct sockaddr', 'struct msghdr', 'struct cmsghdr', 'struct linger']],
  ['netinet/in.h', ['struct sockaddr_in', 'struct sockaddr_in6', 'struct in6_addr', 'struct ip_mreqn']],
  ['sys/resource.h', ['struct rusage', 'struct rlimit']],
  ['sys/shm.h', ['struct shmid_ds']],
  ['sys/msg.h', ['struct msqid_ds']],
  ['semaphore.h', ['sem_t']],
  ['sys/utsname.h', ['struct utsname']],
];

const dirs = systemIncludeDirs();
const where = (h: string) => dirs.map((d) => path.join(d, h)).find((p) => existsSync(p));
const available = HEADERS.filter(([h]) => where(h));
const haveCc = spawnSync('cc', ['--version'], { encoding: 'utf8' }).status === 0;

/** A type's engine name: the tag without `struct`/`union`, or the typedef name. */
const engineName = (c: string) => c.replace(/^(struct|union|enum)\s+/, '');
const key = (c: string) => c.replace(/\s+/g, '_');
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);

interface Row {
  header: string;
  ctype: string;
  type?: Type;
  schema: Schema;
}

/** Members to compare; a member whose name is also a macro (`sa_handler`) cannot be named in C. */
function rowsFor(t: StructType, schema?: Schema) {
  return layoutOf(t, 6).filter((r) => r.name !== '(anonymous)' && !(schema && r.path.split('.').some((p) => schema.macros.has(p))));
}

// The engine: each header pasted raw, as a user pastes it (its folder for quoted includes).
const rows: Row[] = [];
const schemas = new Map<string, Schema>();
for (const [h, types] of available) {
  const file = where(h)!;
  const schema = compileSchema(readFileSync(file, 'utf8'), file);
  schemas.set(h, schema);
  for (const c of types) rows.push({ header: h, ctype: c, type: findType(schema, engineName(c)), schema });
}

function cProgram(): string {
  const out = ['#include <stdio.h>', '#include <stdint.h>', '#include <string.h>', '#include <stddef.h>'];
  for (const [h] of available) out.push(`#include <${h}>`);
  out.push('int main(void) {');
  for (const r of rows) {
    if (!r.type) continue;
    const k = key(r.ctype);
    out.push(`  printf("${k} size %zu align %zu\\n", sizeof(${r.ctype}), (size_t)_Alignof(${r.ctype}));`);
    if (r.type.k !== 'struct') continue;
    out.push(`  { ${r.ctype} v; unsigned char *b = (unsigned char *)&v;`);
    for (const row of rowsFor(r.type, r.schema)) {
      if (row.bits) {
        out.push(`    memset(&v, 0, sizeof v); v.${row.path} = -1; printf("${k}.${row.path} bits "); for (size_t i = 0; i < sizeof v; i++) printf("%02x", b[i]); printf("\\n");`);
      } else out.push(`    printf("${k}.${row.path} off %zu\\n", offsetof(${r.ctype}, ${row.path}));`);
    }
    // An instance with a known pattern: gcc's value of every integer member.
    out.push(`    for (size_t i = 0; i < sizeof v; i++) b[i] = (unsigned char)((i * 37 + 11) & 255);`);
    for (const row of rowsFor(r.type, r.schema)) {
      const f = fieldType(r.type, row.path);
      if (!f || !isInt(f)) continue;
      const signed = intSigned(f);
      out.push(`    printf("${k}.${row.path} value %${signed ? 'lld' : 'llu'}\\n", (${signed ? 'long long' : 'unsigned long long'})v.${row.path});`);
    }
    out.push('  }');
  }
  out.push('  return 0;', '}');
  return out.join('\n');
}

function fieldType(t: StructType, p: string): Type | undefined {
  let cur: Type = t;
  for (const part of p.split('.')) {
    if (cur.k !== 'struct') return undefined;
    const f = findIn(cur, part);
    if (!f) return undefined;
    cur = f;
  }
  return cur;
}
function findIn(t: StructType, name: string): Type | undefined {
  for (const f of t.fields) {
    if (f.name === name) return f.type;
    if (f.anonymous && f.type.k === 'struct') {
      const x = findIn(f.type, name);
      if (x) return x;
    }
  }
  return undefined;
}
const isInt = (t: Type) => (t.k === 'int' && t.size <= 8) || t.k === 'enum';
const intSigned = (t: Type) => (t.k === 'int' ? t.signed : t.k === 'enum' ? t.base.signed : false);

/** What the engine says, in the C program's words. */
function engineLines(r: Row): Map<string, string> {
  const m = new Map<string, string>();
  const t = r.type!;
  const k = key(r.ctype);
  m.set(k, `size ${t.size} align ${t.align}`);
  if (t.k !== 'struct') return m;
  for (const row of rowsFor(t, r.schema)) {
    if (row.bits) {
      const bytes = new Uint8Array(t.size);
      const start = row.offset * 8 + row.bits.offset;
      for (let b = start; b < start + row.bits.width; b++) bytes[b >> 3]! |= 1 << (b & 7);
      m.set(`${k}.${row.path}`, `bits ${Buffer.from(bytes).toString('hex')}`);
    } else m.set(`${k}.${row.path}`, `off ${row.offset}`);
  }
  // Decode the same pattern through the engine.
  const root = decode(r.schema, t, new BufferSource(pattern(t.size))).root!;
  const values = new Map<string, string>();
  const walk = (n: DecodedNode) => {
    if (typeof n.value === 'bigint') values.set(n.path, n.value.toString());
    if (n.kind === 'struct' || n.kind === 'union') for (const c of n.children(0, 1000)) walk(c);
  };
  walk(root);
  for (const row of rowsFor(t, r.schema)) {
    const f = fieldType(t, row.path);
    if (f && isInt(f)) m.set(`${k}.${row.path} value`, `value ${values.get(row.path) ?? '(not decoded)'}`);
  }
  return m;
}

const gcc = new Map<string, string>();
let gccError: string | undefined;
if (haveCc && rows.some((r) => r.type)) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'shms-headers-'));
  try {
    const src = path.join(tmp, 'headers.c');
    const exe = path.join(tmp, 'headers');
    writeFileSync(src, cProgram());
    const cc = spawnSync('cc', ['-std=gnu17', '-w', '-o', exe, src], { encoding: 'utf8' });
    if (cc.status !== 0) gccError = cc.stderr.slice(0, 4000);
    else {
      const run = spawnSync(exe, { encoding: 'utf8', maxBuffer: 64 << 20 });
      for (const line of run.stdout.trim().split('\n')) {
        const m = /^(\S+)( value)? (.*)$/.exec(line);
        if (m) gcc.set(m[2] ? `${m[1]} value` : m[1]!, m[2] ? `value ${m[3]}` : m[3]!);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('real system headers, pasted raw, lay out and decode as gcc', { skip: !haveCc && 'no C compiler' }, () => {
  test('the corpus: at least 40 types from at least 15 headers', () => {
    assert.ok(available.length >= 15, `${available.length} headers`);
    assert.ok(rows.length >= 40, `${rows.length} types`);
    assert.equal(gccError, undefined);
  });
  for (const [h] of available) {
    test(`${h} compiles with no error`, () => {
      const s = schemas.get(h)!;
      assert.deepEqual(s.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
    });
  }
  for (const r of rows) {
    test(`${r.header}: ${r.ctype}`, () => {
      assert.ok(r.type, `the engine has ${r.ctype}`);
      const diffs: string[] = [];
      for (const [k, v] of engineLines(r)) {
        const g = gcc.get(k);
        if (g !== v) diffs.push(`${k}: gcc "${g}", engine "${v}"`);
      }
      assert.deepEqual(diffs, []);
    });
  }
  for (const [h, types] of available) {
    test(`import of ${h} re-checks with no error and keeps its types' layout`, () => {
      const file = where(h)!;
      const imp = importHeader(readFileSync(file, 'utf8'), file);
      const again = compileSchema(imp.text, 'imported.shms');
      assert.deepEqual(again.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
      assert.equal(again.included.length, 0, 'the schema stands alone');
      for (const c of types) {
        const a = findType(again, engineName(c));
        const b = findType(schemas.get(h)!, engineName(c));
        assert.ok(a, `${c} imported`);
        assert.equal(a.size, b?.size, `${c} size`);
        if (a.k === 'struct' && b?.k === 'struct') assert.deepEqual(rowsFor(a).map((x) => `${x.path}@${x.offset}`), rowsFor(b).map((x) => `${x.path}@${x.offset}`));
      }
    });
  }
});
