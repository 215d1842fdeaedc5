// The façade's pure parts: the /proc/sysvipc parser, target syntax, error sentences, hex dump lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IpcError, sentence, toIpcError } from '../../extension/src/ipc/errors';
import { parseSysvTable } from '../../extension/src/ipc/procfs';
import { formatTarget, kindOfTarget, parseNumber, parseTarget } from '../../extension/src/ipc/target';
import { hexdumpLines, offsetDigits } from '../../extension/src/shared/hexdump';

describe('parseSysvTable', () => {
  it('reads columns by the header names, perms as octal', () => {
    const text =
      '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n' +
      '1380535879          3   600                 4096  1234  1240      2     0     0     0     0 1700000000          0 1699999999                  4096                     0\n' +
      '        -1          4  1666              8589934592  1  1  0  1000  1000  1000  1000  0  0  0  0  0\n';
    const rows = parseSysvTable(text);
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.key, 0x52494e47);
    assert.equal(rows[0]!.shmid, 3);
    assert.equal(rows[0]!.perms, 0o600);
    assert.equal(rows[0]!.nattch, 2);
    assert.equal(rows[1]!.key! >>> 0, 0xffffffff);
    assert.equal(rows[1]!.size, 8589934592);
    assert.equal(rows[1]!.perms, 0o1666);
  });
  it('gives no rows for an empty table', () => {
    assert.deepEqual(parseSysvTable('key shmid perms\n'), []);
  });
});

describe('targets', () => {
  it('parses every form', () => {
    assert.deepEqual(parseTarget('shm:32770'), { kind: 'shm', id: 32770 });
    assert.deepEqual(parseTarget('sem:0x10'), { kind: 'sem', id: 16 });
    assert.deepEqual(parseTarget('msg:7'), { kind: 'msg', id: 7 });
    assert.deepEqual(parseTarget('posix:/ring'), { kind: 'posix-shm', name: '/ring' });
    assert.deepEqual(parseTarget('posix:ring'), { kind: 'posix-shm', name: '/ring' });
    assert.deepEqual(parseTarget('psem:/ready'), { kind: 'posix-sem', name: '/ready' });
    assert.deepEqual(parseTarget('mq:/jobs'), { kind: 'posix-mq', name: '/jobs' });
  });
  it('round-trips through formatTarget', () => {
    for (const t of ['shm:1', 'sem:2', 'msg:3', 'posix:/a', 'psem:/b', 'mq:/c']) assert.equal(formatTarget(parseTarget(t)), t);
  });
  it('names the one kind whose listing holds a target (an unlinked object is its kind)', () => {
    assert.equal(kindOfTarget(parseTarget('msg:3')), 'msg');
    assert.equal(kindOfTarget(parseTarget('mq:/c')), 'posix-mq');
    assert.equal(kindOfTarget(parseTarget('psem:@12')), 'posix-sem');
    assert.equal(kindOfTarget(parseTarget('posix:@12')), 'posix-shm');
    assert.equal(kindOfTarget({ kind: 'ring', pid: 1, address: '7f00' }), 'ring');
  });
  it('rejects malformed targets with a typed error that says what a target is', () => {
    for (const bad of ['32770', 'shm:', 'shm:-1', 'shm:abc', 'posix:/a/b', 'posix:/', 'disk:/x', 'key:0xZZ', 'key:0']) {
      assert.throws(() => parseTarget(bad), (e: unknown) => e instanceof IpcError && e.code === 'EINVAL', bad);
    }
    assert.throws(() => parseTarget('nope'), /shm:ID, sem:ID, msg:ID, key:0xKEY/);
  });
  it('reads decimal and 0x hex numbers, nothing else', () => {
    assert.equal(parseNumber('0x52494E47'), 0x52494e47);
    assert.equal(parseNumber('4096'), 4096);
    assert.equal(parseNumber('-1'), undefined);
    assert.equal(parseNumber('1e3'), undefined);
    assert.equal(parseNumber('0x'), undefined);
  });
});

describe('error sentences', () => {
  const ctx = { action: 'attaching', object: 'segment 32770', owner: () => 'mode 0600, owner alice' };
  it('names the object, the action and the owner on permission errors', () => {
    assert.equal(sentence('EACCES', ctx), 'permission denied attaching segment 32770 (mode 0600, owner alice)');
  });
  it('keeps code, errno and syscall from the native error', () => {
    const native = Object.assign(new Error('shmat: Permission denied'), { code: 'EACCES', errno: 13, syscall: 'shmat' });
    const e = toIpcError(native, ctx);
    assert.ok(e instanceof IpcError);
    assert.equal(e.code, 'EACCES');
    assert.equal(e.errno, 13);
    assert.equal(e.syscall, 'shmat');
    assert.equal(e.detail, 'shmat: Permission denied');
  });
  it('says how long a wait lasted', () => {
    assert.equal(
      sentence('ETIMEDOUT', { action: 'waiting on semaphore 0 of', object: 'semaphore set 5', timeoutMs: 250 }),
      'timed out after 250 ms waiting on semaphore 0 of semaphore set 5',
    );
  });
});

describe('hexdumpLines', () => {
  it('prints offset, hex in two groups of eight, and printable ASCII', () => {
    const bytes = new Uint8Array([...Buffer.from('RING'), 0, 1, 2, 0x7f, ...Buffer.from('abcdefghij')]);
    assert.deepEqual(hexdumpLines(bytes, 0x40), [
      '00000040  52 49 4e 47 00 01 02 7f  61 62 63 64 65 66 67 68  |RING....abcdefgh|',
      '00000050  69 6a                                             |ij|',
    ]);
  });
  it('widens the offset column beyond 4 GiB', () => {
    assert.equal(offsetDigits(0x1_0000_0000), 8);
    assert.equal(offsetDigits(0x1_0000_0001), 9);
  });
});
