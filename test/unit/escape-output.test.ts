// Untrusted text on its way to a person (one escaper), the CLI's streamed JSON, and the sentences
// for /dev/shm entries that are not objects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { escapeControl } from '../../extension/src/shared/escape';
import { jsonPieces } from '../../extension/src/cli/output';
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

describe('streamed JSON', () => {
  it('joins to exactly what JSON.stringify(value, null, 2) prints', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
      assert.equal([...jsonPieces(v, 2, '')].join(''), JSON.stringify(v, null, 2));
    }));
    const odd = { a: undefined, b: [undefined, () => 1], c: { toJSON: () => 'x' }, d: 'e' };
    assert.equal([...jsonPieces(odd, 2, '')].join(''), JSON.stringify(odd, null, 2));
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
