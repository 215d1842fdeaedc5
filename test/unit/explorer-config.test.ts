// The settings table against package.json, the explorer's labels/descriptions/filter, and prompt parsing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readConfig, SETTINGS } from '../../extension/src/platform/config';
import { parseSize } from '../../extension/src/commands/parse';
import {
  contextValue, formatSize, GROUPS, matches, objectDescription, objectIcon, objectLabel, objectTooltip,
} from '../../extension/src/explorer/model';
import { targetOf } from '../../extension/src/ipc/target';
import type { MsgRecord, PosixSemRecord, PosixShmRecord, SemRecord, ShmRecord } from '../../extension/src/ipc/types';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

test('every setting in config.ts is declared in package.json with the same type, default, range and enum', () => {
  const props = pkg.contributes.configuration.properties as Record<string, Record<string, unknown>>;
  for (const [key, spec] of Object.entries(SETTINGS) as [string, Record<string, unknown>][]) {
    const p = props[`shmscope.${key}`];
    assert.ok(p, `package.json lacks shmscope.${key}`);
    assert.equal(p.type, spec.type, `type of ${key}`);
    assert.deepEqual(p.default, spec.default, `default of ${key}`);
    assert.equal(p.minimum, spec.minimum, `minimum of ${key}`);
    assert.equal(p.maximum, spec.maximum, `maximum of ${key}`);
    assert.deepEqual(p.enum, spec.enum, `enum of ${key}`);
    assert.ok(typeof p.markdownDescription === 'string' && p.markdownDescription.length > 20, `description of ${key}`);
  }
  for (const key of Object.keys(props)) {
    assert.ok(key.slice('shmscope.'.length) in SETTINGS, `${key} is in package.json but not in config.ts`);
  }
});

test('workspace trust: a setting that runs a command is machine-scoped, and every setting that names a command or a path to read is restricted in an untrusted folder', () => {
  const props = pkg.contributes.configuration.properties as Record<string, Record<string, unknown>>;
  const specs = Object.entries(SETTINGS) as [string, { scope?: string; restricted?: boolean }][];
  for (const [key, spec] of specs) assert.equal(props[`shmscope.${key}`]!.scope, spec.scope, `scope of ${key}`);
  const restricted = specs.filter(([, s]) => s.restricted).map(([k]) => `shmscope.${k}`).sort();
  assert.deepEqual([...pkg.capabilities.untrustedWorkspaces.restrictedConfigurations].sort(), restricted);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  // The ones the hostile run named: Import's command, the schema map, the include folders.
  for (const k of ['schema.cpp', 'schemas', 'schema.includePath']) assert.ok(restricted.includes(`shmscope.${k}`), `${k} restricted`);
  assert.equal(props['shmscope.schema.cpp']!.scope, 'machine');
});

test('readConfig falls back to defaults and clamps to the declared range', () => {
  const c = readConfig({ get: <T>(k: string) => ({ refreshIntervalMs: -5, semaphoreWaitTimeoutMs: 'x', 'explorer.sizeUnits': 'parsecs' } as Record<string, unknown>)[k] as T });
  assert.equal(c.refreshIntervalMs, 0);
  assert.equal(c.semaphoreWaitTimeoutMs, SETTINGS.semaphoreWaitTimeoutMs.default);
  assert.equal(c.sizeUnits, 'binary');
  assert.equal(c.onlyMine, false);
  const d = readConfig({ get: <T>(k: string) => ({ refreshIntervalMs: 250.7, 'explorer.onlyMine': true } as Record<string, unknown>)[k] as T });
  assert.equal(d.refreshIntervalMs, 250);
  assert.equal(d.onlyMine, true);
});

test('package.json commands: category, codicon, and item-only commands hidden from the palette', () => {
  const cmds = pkg.contributes.commands as { command: string; category: string; icon?: string }[];
  for (const c of cmds) {
    assert.equal(c.category, 'Shared Memory', c.command);
    assert.match(c.command, /^shmscope\./);
    assert.match(c.icon ?? '', /^\$\([a-z-]+\)$/, `${c.command} has a codicon`);
  }
  const hidden = new Set((pkg.contributes.menus.commandPalette as { command: string; when: string }[])
    .filter((m) => m.when === 'false').map((m) => m.command));
  for (const id of ['shmscope.remove', 'shmscope.copyKey', 'shmscope.semaphore.post', 'shmscope.peekMessages']) assert.ok(hidden.has(id), id);
  const ctx = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
  const removeWhen = ctx.find((m) => m.command === 'shmscope.remove')!.when;
  assert.match(removeWhen, /viewItem/);
  for (const c of ctx) assert.ok(cmds.some((x) => x.command === c.command), `menu names an undeclared ${c.command}`);
});

const shm = (o: Partial<ShmRecord> = {}): ShmRecord => ({
  kind: 'shm', id: 32770, key: 0x52494e47, uid: 1000, user: 'alice', gid: 1000, mode: 0o600, cuid: 1000, cgid: 1000,
  ctime: null, size: 65536, nattch: 2, cpid: 10, lpid: 11, atime: null, dtime: null, removed: false,
  attachedBy: [{ pid: 10, command: 'producer' }], hiddenAttachers: 0, orphan: false, ...o,
});

test('labels name objects the way users do, descriptions carry size, nattch, values and owner', () => {
  assert.equal(objectLabel(shm()), 'key 0x52494e47 · id 32770');
  assert.equal(objectLabel(shm({ key: 0 })), 'private · id 32770');
  assert.equal(objectDescription(shm()), '64 KiB · 2 attached · alice');
  assert.equal(objectDescription(shm(), 'bytes'), '65,536 B · 2 attached · alice');
  const orphan = shm({ nattch: 0, orphan: true });
  assert.equal(objectDescription(orphan), '64 KiB · 0 attached · orphan · alice');
  assert.equal(objectIcon(orphan), 'warning');
  assert.equal(contextValue(orphan), 'shm.orphan');
  assert.equal(contextValue(shm()), 'shm');
  const sem: SemRecord = { kind: 'sem', id: 5, key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600, cuid: 0, cgid: 0, ctime: null,
    nsems: 2, values: [3, 0], ncnt: [0, 1], zcnt: [0, 0], pids: [0, 0], otime: null, unreadable: null };
  assert.equal(objectDescription(sem), '2 sems · [3, 0] · 1 waiting · root');
  assert.match(objectTooltip(sem), /#1 \| value 0, ncnt 1/);
  const msg: MsgRecord = { kind: 'msg', id: 7, key: 1, uid: 0, user: 'root', gid: 0, mode: 0o600, cuid: 0, cgid: 0, ctime: null,
    messages: 1, bytes: 12, qbytes: 16384, lspid: 0, lrpid: 0, stime: null, rtime: null };
  assert.equal(objectDescription(msg), '1 msg · 12 B · root');
  const psem: PosixSemRecord = { kind: 'posix-sem', id: 9, key: 0, uid: 0, user: 'root', gid: 0, mode: 0o644, name: '/s', mtime: null, attachedBy: [], value: 4, unreadable: null };
  assert.equal(objectLabel(psem), '/s');
  assert.deepEqual(targetOf(psem), { kind: 'posix-sem', name: '/s' });
  assert.deepEqual(targetOf(sem), { kind: 'sem', id: 5 });
  assert.match(objectTooltip(shm()), /\| processes \| 10 producer \|/);
  // Before the scan of every process (the explorer's first rows) a POSIX object's mappings are not counted.
  const pshm: PosixShmRecord = { kind: 'posix-shm', id: 11, key: 0, uid: 0, user: 'root', gid: 0, mode: 0o600, name: '/ring', mtime: null, size: 4096, attachedBy: [] };
  assert.equal(objectDescription(pshm), '4 KiB · 0 mapping · root');
  assert.equal(objectDescription(pshm, 'binary', false), '4 KiB · root');
  assert.equal(objectDescription(shm(), 'binary', false), '64 KiB · 2 attached · alice', 'nattch is the kernel\'s: known without the scan');
});

test('filter matches key, id, name and owner; only-mine keeps the uid', () => {
  assert.ok(matches(shm(), '52494e47', undefined));
  assert.ok(matches(shm(), '32770', undefined));
  assert.ok(matches(shm(), 'ALICE', undefined));
  assert.ok(!matches(shm(), 'bob', undefined));
  assert.ok(matches(shm(), '', 1000));
  assert.ok(!matches(shm(), '', 0));
});

test('groups cover every kind once, then Limits', () => {
  const kinds = GROUPS.flatMap((g) => g.kinds).sort();
  assert.deepEqual(kinds, ['anon', 'file', 'memfd', 'msg', 'posix-mq', 'posix-sem', 'posix-shm', 'ring', 'sem', 'shm']);
  assert.equal(GROUPS.at(-1)!.id, 'limits');
});

test('sizes', () => {
  assert.equal(formatSize(1023), '1,023 B');
  assert.equal(formatSize(1536), '1.5 KiB');
  assert.equal(formatSize(1024 ** 3), '1 GiB');
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('0x1000'), 4096);
  assert.equal(parseSize('64K'), 65536);
  assert.equal(parseSize('1MiB'), 1024 ** 2);
  assert.equal(parseSize('0'), undefined);
  assert.equal(parseSize('-1'), undefined);
  assert.equal(parseSize('12x'), undefined);
});
