// Untrusted text on its way to a person (one escaper), the CLI's streamed JSON, and the sentences
// for /dev/shm entries that are not objects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { escapeControl } from '../../extension/src/shared/escape';
import { JsonText, type JsonTextOptions } from '../../extension/src/cli/output';
import { toIpcError } from '../../extension/src/ipc/errors';
import { objectDescription, objectLabel, objectTooltip } from '../../extension/src/explorer/model';
import type { PosixShmRecord } from '../../extension/src/ipc/types';

describe('escapeControl', () => {
  it('escapes C0, C1, DEL, bidi overrides and backslashes; leaves printable text alone', () => {
    assert.equal(escapeControl('evil\x1b[31mRED\x1b[0m\nfake-row'), 'evil\\x1b[31mRED\\x1b[0m\\nfake-row');
    assert.equal(escapeControl('a\tb\rc\x7f\x9b\\'), 'a\\tb\\rc\\x7f\\x9b\\\\');
    assert.equal(escapeControl('abc\u202ecba'), 'abc\\u{202e}cba');
    assert.equal(escapeControl('/ring · ✓ é 日本'), '/ring · ✓ é 日本');
  });
  it('never lets a control character through, for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
       
      assert.doesNotMatch(escapeControl(s), /[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]/);
    }));
  });
});

/** The whole text of a JsonText, and that no chunk is much longer than asked. */
function streamed(v: unknown, indent: number, opts?: JsonTextOptions): string {
  const t = new JsonText(v, indent, opts);
  const parts: string[] = [];
  for (let c = t.next(); c !== undefined; c = t.next()) parts.push(c);
  return parts.join('');
}

describe('streamed JSON', () => {
  const tunings: (JsonTextOptions | undefined)[] = [undefined, { chunk: 1, walkOver: 0 }, { chunk: 16, walkOver: 1 }, { chunk: 64, walkOver: 3 }];
  it('joins to exactly what JSON.stringify(value, null, indent) prints, walking containers or not', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), fc.constantFrom(0, 1, 2, 4), fc.constantFrom(...tunings), (v, indent, opts) => {
      assert.equal(streamed(v, indent, opts), JSON.stringify(v, null, indent));
    }));
    const odd = { a: undefined, b: [undefined, () => 1, Symbol('s')], c: { toJSON: () => 'x' }, d: 'e\nf', e: [new Date(0)], f: {} , g: [] };
    for (const opts of tunings) for (const indent of [0, 2]) assert.equal(streamed(odd, indent, opts), JSON.stringify(odd, null, indent));
  });
  it('a big array is walked in runs (chunks stay small) and still equals JSON.stringify', () => {
    const slots = Array.from({ length: 50_000 }, (_, i) => ({ t_ns: `17000000000${i}`, len: i % 52, text: `message number ${i}`, nested: [i, { k: i }] }));
    const v = { hdr: { magic: 1, ok: true }, slots, checks: [], diagnostics: [{ message: 'm' }] };
    const t = new JsonText(v, 2);
    const parts: string[] = [];
    for (let c = t.next(); c !== undefined; c = t.next()) parts.push(c);
    assert.ok(parts.length > 10, `${parts.length} chunks`);
    assert.ok(parts.every((p) => p.length < 4 << 20));
    assert.equal(parts.join(''), JSON.stringify(v, null, 2));
  });
});

describe('entries that are not objects', () => {
  it('say what the entry is, and where a symlink points', () => {
    const link = Object.assign(new Error('shm_open: Too many levels of symbolic links (/x is a symbolic link)'), {
      code: 'ELOOP', errno: 40, syscall: 'shm_open', fileType: 'symlink', linkTarget: '/etc/shadow',
    });
    assert.equal(toIpcError(link, { action: 'opening', object: 'POSIX shared memory /x' }).message,
      'POSIX shared memory /x is not a shared memory object: it is a symbolic link to /etc/shadow');
    const fifo = Object.assign(new Error('sem_open: Invalid argument (/f is not a regular file)'), { code: 'EINVAL', fileType: 'fifo' });
    assert.equal(toIpcError(fifo, { action: 'reading', object: 'POSIX semaphore /f' }).message, 'POSIX semaphore /f is not a semaphore: it is a FIFO (named pipe)');
  });
  it('keep the addon\'s own sentence about the object', () => {
    const short = Object.assign(new Error('sem_open: Invalid argument (/s is 5 bytes, too small for a semaphore (32): it was truncated or is not a semaphore)'), { code: 'EINVAL', syscall: 'sem_open' });
    assert.equal(toIpcError(short, { action: 'reading', object: 'POSIX semaphore /s' }).message,
      'POSIX semaphore /s is 5 bytes, too small for a semaphore (32): it was truncated or is not a semaphore');
  });
});

describe('explorer text', () => {
  it('escapes a hostile name and owner in the label, the description and the tooltip', () => {
    const r: PosixShmRecord = {
      kind: 'posix-shm', name: '/evil\x1b[31m\nrow', id: 1, key: 0, uid: 0, user: 'ro\x07ot', gid: 0, mode: 0o600, mtime: null,
      size: 1, attachedBy: [{ pid: 1, command: 'sh -c \x1b]0;title\x07' }],
    };
    for (const text of [objectLabel(r), objectDescription(r)]) {
       
      assert.doesNotMatch(text, /[\x00-\x1f]/);
    }
    // The tooltip is a Markdown table: its own newlines only, as many as for a plain name.
     
    assert.doesNotMatch(objectTooltip(r), /[\x00-\x09\x0b-\x1f]/);
    const plain = { ...r, name: '/plain', user: 'root', attachedBy: [{ pid: 1, command: 'sh' }] };
    assert.equal(objectTooltip(r).split('\n').length, objectTooltip(plain).split('\n').length);
    assert.equal(objectLabel(r), '/evil\\x1b[31m\\nrow');
  });
});
