// Targets: how users and scripts name one object. "shm:ID", "sem:ID", "msg:ID", "key:0xKEY"
// (resolved to an id; needs a kind when the key names objects of several kinds), "posix:/NAME",
// "psem:/NAME", "mq:/NAME"; an unlinked POSIX object by its inode, "posix:@INODE" or
// "psem:@INODE" (a name always starts with "/", so the two never meet); a kernel-shared ring by
// its process and address, "ring:PID@0xADDRESS". Numbers accept decimal and 0x hex.
import { userError } from './errors';
import { readSysv, type SysvKind } from './procfs';
import { describeRegion } from './regions';
import type { Kind } from './types';

/** One object, resolved: System V objects by id, POSIX objects by name. */
export type SysvTarget = { kind: 'shm'; id: number } | { kind: 'sem'; id: number } | { kind: 'msg'; id: number };
export type PosixTarget =
  | { kind: 'posix-shm'; name: string }
  | { kind: 'posix-sem'; name: string }
  | { kind: 'posix-mq'; name: string };
/**
 * Regions found in /proc: a memfd or shared anonymous region by inode, a mapped file by its
 * absolute path, a POSIX object unlinked while held by its inode, a ring by its mapping.
 */
export type RegionTarget =
  | { kind: 'memfd'; id: number }
  | { kind: 'anon'; id: number }
  | { kind: 'file'; path: string }
  | UnlinkedTarget
  | RingTarget;
/** A POSIX shared memory object or named semaphore unlinked while still mapped or held. */
export type UnlinkedTarget = { kind: 'unlinked'; of: 'posix-shm' | 'posix-sem'; id: number };
/** One mapping of a kernel-shared ring: the process and the mapping's start address (hex). */
export type RingTarget = { kind: 'ring'; pid: number; address: string };
export type Target = SysvTarget | PosixTarget | RegionTarget;

/** Parses a non-negative integer in decimal or 0x hex; undefined when it is not one. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) {
    const n = parseInt(t.slice(2), 16);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

const POSIX_PREFIX: Record<string, 'posix-shm' | 'posix-sem' | 'posix-mq'> = {
  posix: 'posix-shm',
  psem: 'posix-sem',
  mq: 'posix-mq',
};

const USAGE =
  'a target is shm:ID, sem:ID, msg:ID, key:0xKEY, posix:/NAME, psem:/NAME, mq:/NAME, posix:@INODE or psem:@INODE (unlinked), memfd:INODE, anon:INODE, file:/PATH or ring:PID@0xADDRESS';

/** Parses a target; `key:` is resolved against the current tables, narrowed by `hint`. */
export function parseTarget(text: string, hint?: Kind): Target {
  const m = /^([a-z]+):(.*)$/is.exec(text.trim());
  if (!m) throw userError('EINVAL', 'target', `"${text}" is not a target: ${USAGE}`);
  const prefix = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (prefix === 'shm' || prefix === 'sem' || prefix === 'msg') {
    const id = parseNumber(rest);
    if (id === undefined || id > 0x7fffffff) throw userError('EINVAL', 'target', `"${rest}" is not an id in "${text}"`);
    return { kind: prefix, id };
  }
  const posix = POSIX_PREFIX[prefix];
  if (posix && rest.startsWith('@')) {
    if (posix === 'posix-mq') throw userError('EINVAL', 'target', `"${text}": a message queue is named by its name (mq:/NAME), never by an inode`);
    const id = parseNumber(rest.slice(1));
    if (id === undefined || id === 0) throw userError('EINVAL', 'target', `"${rest}" is not @INODE (an unlinked object's inode, as list shows it) in "${text}"`);
    return { kind: 'unlinked', of: posix, id };
  }
  if (posix) {
    const name = rest.startsWith('/') ? rest : `/${rest}`;
    if (!/^\/[^/\0]{1,250}$/.test(name) || name === '/.' || name === '/..') {
      throw userError('EINVAL', 'target', `"${rest}" is not a POSIX name (like /ring) in "${text}"`);
    }
    return { kind: posix, name };
  }
  if (prefix === 'memfd' || prefix === 'anon') {
    const id = parseNumber(rest);
    if (id === undefined || id === 0) throw userError('EINVAL', 'target', `"${rest}" is not an inode number in "${text}"`);
    return { kind: prefix, id };
  }
  if (prefix === 'ring') {
    const r = /^(\d+)@(0x[0-9a-f]{1,16})$/i.exec(rest);
    const pid = r ? Number(r[1]) : 0;
    if (!r || pid < 1 || pid > 1 << 22) throw userError('EINVAL', 'target', `"${rest}" is not PID@0xADDRESS (a ring's process and mapping, as list shows it) in "${text}"`);
    return { kind: 'ring', pid, address: `0x${BigInt(r[2]!).toString(16)}` };
  }
  if (prefix === 'file') {
    const p = rest;
    if (!p.startsWith('/') || p.includes('\0') || p.length > 4096 || p.split('/').some((s) => s === '..')) {
      throw userError('EINVAL', 'target', `"${rest}" is not an absolute path (like /var/lib/app/lock.mdb) in "${text}"`);
    }
    return { kind: 'file', path: p };
  }
  if (prefix === 'key') {
    const key = parseNumber(rest);
    if (key === undefined || key > 0xffffffff) throw userError('EINVAL', 'target', `"${rest}" is not a key in "${text}"`);
    return resolveKey(key, hint);
  }
  throw userError('EINVAL', 'target', `unknown target kind "${prefix}": ${USAGE}`);
}

/** A System V key as users write it: `0x52494e47` (eight hex digits). The one formatter of keys. */
export const hexKey = (key: number): string => `0x${(key >>> 0).toString(16).padStart(8, '0')}`;

const SYSV_KINDS: readonly string[] = ['shm', 'sem', 'msg'];
const POSIX_KINDS: readonly string[] = ['posix-shm', 'posix-sem', 'posix-mq'];

/**
 * The object a command argument names: a target text ("sem:5"), a Target, a listing record, or
 * something holding one (a tree node's `record`, a menu item's `target`). Undefined when it names
 * none; a malformed target text throws its one-line sentence.
 */
export function targetOf(arg: unknown, hint?: Kind, depth = 0): Target | undefined {
  if (typeof arg === 'string') return parseTarget(arg, hint);
  if (typeof arg !== 'object' || arg === null || depth > 3) return undefined;
  const o = arg as Record<string, unknown>;
  if (typeof o.kind === 'string' && SYSV_KINDS.includes(o.kind) && typeof o.id === 'number') return { kind: o.kind, id: o.id } as SysvTarget;
  if ((o.kind === 'posix-shm' || o.kind === 'posix-sem') && o.unlinked === true && typeof o.id === 'number') return { kind: 'unlinked', of: o.kind, id: o.id };
  if (typeof o.kind === 'string' && POSIX_KINDS.includes(o.kind) && typeof o.name === 'string') return { kind: o.kind, name: o.name } as PosixTarget;
  if (o.kind === 'unlinked' && (o.of === 'posix-shm' || o.of === 'posix-sem') && typeof o.id === 'number') return { kind: 'unlinked', of: o.of, id: o.id };
  if (o.kind === 'ring' && typeof o.pid === 'number' && typeof o.address === 'string') return { kind: 'ring', pid: o.pid, address: o.address };
  if ((o.kind === 'memfd' || o.kind === 'anon') && typeof o.id === 'number') return { kind: o.kind, id: o.id };
  if (o.kind === 'file' && typeof o.path === 'string') return { kind: 'file', path: o.path };
  for (const k of ['record', 'target', 'item', 'data']) {
    if (k in o) {
      const t = targetOf(o[k], hint, depth + 1);
      if (t) return t;
    }
  }
  return undefined;
}

/** Finds the System V object with this key. */
export function resolveKey(key: number, hint?: Kind): Target {
  const hex = hexKey(key);
  if (key === 0) throw userError('EINVAL', 'target', `key 0 (IPC_PRIVATE) names no object: use its id instead`);
  const kinds: SysvKind[] = hint === 'shm' || hint === 'sem' || hint === 'msg' ? [hint] : ['shm', 'sem', 'msg'];
  const found: Target[] = [];
  for (const kind of kinds) {
    const idColumn = kind === 'shm' ? 'shmid' : kind === 'sem' ? 'semid' : 'msqid';
    for (const row of readSysv(kind)) {
      if (row.key! >>> 0 === key) found.push({ kind, id: row[idColumn]! });
    }
  }
  if (found.length === 0) {
    const what = kinds.length === 1 ? describeKind(kinds[0]!) : 'System V object';
    throw userError('ENOENT', 'target', `no ${what} has key ${hex}`);
  }
  if (found.length > 1) {
    const list = found.map(formatTarget).join(', ');
    throw userError('EINVAL', 'target', `key ${hex} names ${list}: say which kind with --kind`);
  }
  return found[0]!;
}

/**
 * The kind whose listing holds the target (an unlinked POSIX object is listed with its kind): what
 * to ask `list` for when one object's record is wanted, so that a question about one queue or one
 * semaphore set never waits for a scan of every process.
 */
export function kindOfTarget(t: Target): Kind {
  return t.kind === 'unlinked' ? t.of : t.kind;
}

/** The inverse of parseTarget, for System V objects by id. */
export function formatTarget(t: Target): string {
  switch (t.kind) {
    case 'shm':
    case 'sem':
    case 'msg':
      return `${t.kind}:${t.id}`;
    case 'posix-shm':
      return `posix:${t.name}`;
    case 'posix-sem':
      return `psem:${t.name}`;
    case 'posix-mq':
      return `mq:${t.name}`;
    case 'memfd':
    case 'anon':
      return `${t.kind}:${t.id}`;
    case 'file':
      return `file:${t.path}`;
    case 'unlinked':
      return `${t.of === 'posix-shm' ? 'posix' : 'psem'}:@${t.id}`;
    case 'ring':
      return `ring:${t.pid}@${t.address}`;
  }
}

/** How users name an object in a sentence: "segment 32770", "semaphore set 5", "POSIX object /ring". */
export function describeTarget(t: Target): string {
  switch (t.kind) {
    case 'shm':
      return `segment ${t.id}`;
    case 'sem':
      return `semaphore set ${t.id}`;
    case 'msg':
      return `message queue ${t.id}`;
    case 'posix-shm':
      return `POSIX shared memory ${t.name}`;
    case 'posix-sem':
      return `POSIX semaphore ${t.name}`;
    case 'posix-mq':
      return `POSIX message queue ${t.name}`;
    case 'memfd':
    case 'anon':
    case 'file':
    case 'unlinked':
    case 'ring':
      return describeRegion(t);
  }
}

export function describeKind(kind: Kind): string {
  return {
    shm: 'segment',
    sem: 'semaphore set',
    msg: 'message queue',
    'posix-shm': 'POSIX shared memory object',
    'posix-sem': 'POSIX semaphore',
    'posix-mq': 'POSIX message queue',
    memfd: 'memfd object',
    anon: 'shared anonymous region',
    file: 'shared file mapping',
    ring: 'kernel-shared ring',
  }[kind];
}
