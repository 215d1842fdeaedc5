// Regenerates what `waits` needs to read PostgreSQL's main shared memory without a connection, from
// the server's own headers (Debian's postgresql-server-dev-N, installed here with apt when missing
// and run as root):
//   schemas/postgresql-N.shms        `shmscope import scripts/postgres/shmem.h -I …/N/server`, as is
//                                    (the checkout's folder taken out of its first comment line)
//   schemas/postgresql-N.names.json  the names PostgreSQL shows for its wait events, lock tags,
//                                    lock modes and LWLock tranches, by number
// Usage: node --import tsx scripts/postgres-schema.ts [MAJOR…]   (default: 15)
// test/cli/waits-postgres.test.ts proves that the shipped files are what this produces.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PgNames } from '../extension/src/analysis/postgres';
import { compileSchema, type EnumType, type Schema } from '../extension/src/shared/schema';

export const ROOT = path.resolve(__dirname, '..');
export const WRAPPER = 'scripts/postgres/shmem.h';
export const includeDir = (major: number) => `/usr/include/postgresql/${major}/server`;
export const schemaFile = (major: number) => path.join(ROOT, 'schemas', `postgresql-${major}.shms`);
export const namesFile = (major: number) => path.join(ROOT, 'schemas', `postgresql-${major}.names.json`);

/** postgresql-server-dev-N with apt when its headers are missing (as root on Debian); false when still missing. */
export function ensureHeaders(major: number): boolean {
  if (existsSync(`${includeDir(major)}/storage/proc.h`)) return true;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...a: string[]) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...a], { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  const pkg = `postgresql-server-dev-${major}`;
  if (!apt('install', '-y', '-q', '--no-install-recommends', pkg) && apt('update', '-q')) apt('install', '-y', '-q', '--no-install-recommends', pkg);
  return existsSync(`${includeDir(major)}/storage/proc.h`);
}

/** The schema `shmscope import` writes from the wrapper header and the server's headers (the checkout's folder taken out). */
export function importSchema(major: number): string {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'import', WRAPPER, '-I', includeDir(major)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`shmscope import ${WRAPPER} -I ${includeDir(major)} failed: ${r.stderr.trim()}`);
  return r.stdout.split(`${ROOT}/`).join('');
}

// The words PostgreSQL spells otherwise than by capitalising its enum names (wait_event.c and
// lwlock.c name them by hand). WAL is "WAL" in the IO class and in tranches, "Wal" elsewhere.
const WORDS: Record<string, string> = {
  AUTOVACUUM: 'AutoVacuum', BGWRITER: 'BgWriter', SYSLOGGER: 'SysLogger', GSS: 'GSS', SSL: 'SSL', LIBPQWALRECEIVER: 'LibPQWalReceiver',
  BGWORKER: 'BgWorker', IO: 'IO', MQ: 'MessageQueue', PROCARRAY: 'ProcArray', PG: 'Pg', BASEBACKUP: 'BaseBackup', BUFFILE: 'BufFile',
  DSM: 'DSM', ADDTODATADIR: 'AddToDataDir', RECHECKDATADIR: 'ReCheckDataDir', SLRU: 'SLRU', SNAPBUILD: 'Snapbuild', TWOPHASE: 'Twophase',
  WALSENDER: 'WALSender', COMMITTS: 'CommitTs', MULTIXACTOFFSET: 'MultiXactOffset', MULTIXACTMEMBER: 'MultiXactMember', FASTPATH: 'FastPath',
  DSA: 'DSA', TUPLESTORE: 'TupleStore', TIDBITMAP: 'TidBitmap', PGSTATS: 'PgStats',
};
const WHOLE: Record<string, string> = { WAIT_EVENT_WAL_SENDER_WAIT_WAL: 'WalSenderWaitForWAL' };
const LOCKTAGS: Record<string, string> = {
  LOCKTAG_RELATION: 'relation', LOCKTAG_RELATION_EXTEND: 'extend', LOCKTAG_DATABASE_FROZEN_IDS: 'frozenid', LOCKTAG_PAGE: 'page', LOCKTAG_TUPLE: 'tuple',
  LOCKTAG_TRANSACTION: 'transactionid', LOCKTAG_VIRTUALTRANSACTION: 'virtualxid', LOCKTAG_SPECULATIVE_TOKEN: 'spectoken', LOCKTAG_OBJECT: 'object',
  LOCKTAG_USERLOCK: 'userlock', LOCKTAG_ADVISORY: 'advisory',
};
const CLASSES: Record<string, string> = {
  PG_WAIT_LWLOCK: 'LWLock', PG_WAIT_LOCK: 'Lock', PG_WAIT_BUFFER_PIN: 'BufferPin', PG_WAIT_ACTIVITY: 'Activity', PG_WAIT_CLIENT: 'Client',
  PG_WAIT_EXTENSION: 'Extension', PG_WAIT_IPC: 'IPC', PG_WAIT_TIMEOUT: 'Timeout', PG_WAIT_IO: 'IO',
};
const EVENT_ENUMS = ['WaitEventActivity', 'WaitEventClient', 'WaitEventIPC', 'WaitEventTimeout', 'WaitEventIO'];

/** "WAIT_EVENT_DATA_FILE_READ" → "DataFileRead" (`prefix` taken off; `wal` how WAL is spelled). */
export function displayName(constant: string, prefix: string, wal: 'WAL' | 'Wal'): string {
  if (WHOLE[constant]) return WHOLE[constant];
  return constant.slice(prefix.length).split('_').map((w) => (w === 'WAL' ? wal : WORDS[w] ?? w.charAt(0) + w.slice(1).toLowerCase())).join('');
}


const enumOf = (s: Schema, name: string): EnumType => {
  const t = s.types.get(name);
  if (t?.k !== 'enum') throw new Error(`the imported schema has no enum ${name}`);
  return t;
};

/** The names table of a major version from its imported schema and its storage/lwlocknames.h. */
export function namesOf(major: number, schemaText: string, lwlocknames: string): PgNames {
  const s = compileSchema(schemaText, `postgresql-${major}.shms`);
  const numbers = enumOf(s, 'ShmscopePostgresNumbers').values;
  const num = (n: string) => {
    const v = numbers.get(`SHMSCOPE_${n}`);
    if (v === undefined) throw new Error(`the imported schema has no SHMSCOPE_${n}`);
    return Number(v);
  };
  const out: PgNames = { major, classes: {}, events: {}, tranches: {}, locktags: {}, modes: {} };
  for (const [c, name] of Object.entries(CLASSES)) out.classes[String(num(c) >>> 24)] = name;
  for (const e of EVENT_ENUMS) {
    const io = e === 'WaitEventIO';
    for (const [n, v] of enumOf(s, e).values) out.events[String(Number(v))] = displayName(n, 'WAIT_EVENT_', io ? 'WAL' : 'Wal');
  }
  for (const m of lwlocknames.matchAll(/^#define\s+(\w+)Lock\s+\(&MainLWLockArray\[(\d+)\]\.lock\)/gm)) out.tranches[m[2]!] = m[1]!;
  for (const [n, v] of enumOf(s, 'BuiltinTrancheIds').values) if (n !== 'LWTRANCHE_FIRST_USER_DEFINED') out.tranches[String(Number(v))] = displayName(n, 'LWTRANCHE_', 'WAL');
  for (const [n, v] of enumOf(s, 'LockTagType').values) out.locktags[String(Number(v))] = LOCKTAGS[n] ?? n.slice('LOCKTAG_'.length).toLowerCase();
  for (const m of ['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']) out.modes[String(num(m))] = m;
  return out;
}

export function namesText(major: number, schemaText: string): string {
  const lw = readFileSync(`${includeDir(major)}/storage/lwlocknames.h`, 'utf8');
  return `${JSON.stringify(namesOf(major, schemaText, lw), null, 2)}\n`;
}

if (require.main === module) {
  const majors = process.argv.slice(2).map(Number);
  for (const major of majors.length ? majors : [15]) {
    if (!ensureHeaders(major)) {
      console.error(`postgres-schema: the headers of PostgreSQL ${major} are missing (apt-get install postgresql-server-dev-${major})`);
      process.exit(1);
    }
    const text = importSchema(major);
    writeFileSync(schemaFile(major), text);
    writeFileSync(namesFile(major), namesText(major, text));
    console.log(`wrote ${path.relative(ROOT, schemaFile(major))} and ${path.relative(ROOT, namesFile(major))}`);
  }
}
