// Header import on real header sets (issue 23): `shmscope import WRAPPER -I … --all-types -o OUT`
// (every type of every included header, as the bench's schemas show) against `cc -fsyntax-only`
// of the same wrapper with the same -I, whole processes, alternated, median of 3, one ratio per set
// (goal ≤ 3). The ratio is of CPU time (user + system: what another engineer's load on the machine
// changes least); the detail gives the wall times too, and the load average. The sets:
//   uapi       every kernel uapi header under /usr/include/linux that compiles alone and beside the
//              others (the list is found once with cc and cached under out/bench/import-real)
//   usr        common /usr/include headers (libc, POSIX, sockets, IPC, threads, ELF)
//   postgres   the server headers `waits` imports (scripts/postgres/shmem.h: postgres.h,
//              storage/proc.h, storage/lock.h, …) from Debian's postgresql-server-dev-15
//   pipewire   PipeWire's and SPA's headers (libpipewire-0.3-dev, libspa-0.2-dev)
//   sqlite     sqlite3.h and sqlite3ext.h (libsqlite3-dev; Debian ships no sqlite3.c amalgamation)
// A set whose Debian package is missing is installed with apt-get as root; one that still cannot be
// had is skipped with one line why. The import runs with --keep-going (a header's errors are
// another figure's business), and the schemas it writes stay in out/bench/import-real (to compare
// the output of two builds byte for byte).
//   node --import tsx scripts/bench/import-real.ts [SET…]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureHeaders, includeDir, WRAPPER as PG_WRAPPER } from '../postgres-schema';
import { aptEnsure } from '../../test/helpers/postgres';
import { CLI, compareTimes, ROOT, type Run } from './process';

const DIR = path.join(ROOT, 'out', 'bench', 'import-real');
/** Bump when how the uapi list is found changes: a cached list of another version is found again. */
const UAPI_VERSION = 1;
const PG_MAJOR = 15;

const log = (line: string) => process.stderr.write(`bench import-real: ${line}\n`);

interface HeaderSet {
  name: string;
  what: string;
  /** The wrapper header (absolute), or why the set is skipped. */
  wrapper: string | { skipped: string };
  include: string[];
}

/** `cc -fsyntax-only` of a header; its diagnostics (stderr), empty when it compiles. */
function syntaxErrors(file: string, include: string[] = []): string {
  const r = spawnSync('cc', ['-fsyntax-only', '-x', 'c', ...include.map((d) => `-I${d}`), file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return r.status === 0 ? '' : r.stderr || `exit ${r.status}`;
}

/**
 * The wrapper's lines that cause errors: for each error, the wrapper line through which the file
 * in error was included (gcc prints the include chain before a diagnostic, ending in the wrapper).
 */
function culprits(stderr: string, wrapper: string): Set<number> {
  const out = new Set<number>();
  const at = new RegExp(`${wrapper.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:(\\d+)`);
  let top: number | undefined;
  for (const line of stderr.split('\n')) {
    if (/^In file included from /.test(line)) top = undefined;
    const m = at.exec(line);
    if (m && /^(In file included from|\s+from) /.test(line)) {
      top = Number(m[1]);
      continue;
    }
    if (!/\berror:/.test(line)) {
      if (!/^\s/.test(line) && !/^In file/.test(line)) top = undefined;
      continue;
    }
    if (line.startsWith(`${wrapper}:`) && m) out.add(Number(m[1]));
    else if (top !== undefined) out.add(top);
    top = undefined;
  }
  return out;
}

/** The uapi headers of `items` that compile alone, probed two at a time (the machine's two cores). */
async function compileAlone(items: string[]): Promise<string[]> {
  const ok = new Uint8Array(items.length);
  const one = (i: number) => new Promise<void>((resolve) => {
    const p = spawn('cc', ['-fsyntax-only', '-x', 'c', '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
    p.on('error', () => resolve());
    p.on('close', (code) => {
      ok[i] = code === 0 ? 1 : 0;
      resolve();
    });
    p.stdin.end(`#include <${items[i]}>\n`);
  });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await one(i);
  };
  await Promise.all([worker(), worker()]);
  return items.filter((_, i) => ok[i]);
}

/** Every uapi header that compiles alone and beside the others, as a wrapper (cached). */
async function uapiWrapper(): Promise<string | { skipped: string }> {
  const base = '/usr/include/linux';
  aptEnsure(`${base}/types.h`, 'linux-libc-dev');
  if (!existsSync(base)) return { skipped: 'no kernel uapi headers (apt-get install linux-libc-dev)' };
  const file = path.join(DIR, `uapi-${UAPI_VERSION}.h`);
  if (existsSync(file)) return file;
  const all: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.h')) all.push(path.relative('/usr/include', p));
    }
  };
  walk(base);
  log(`finding which of ${all.length} uapi headers compile alone (once; cached in ${path.relative(ROOT, file)})`);
  let list = await compileAlone(all);
  const tmp = `${file}.tmp`;
  // Headers that clash with one before them (a definition made twice) go, until the whole compiles.
  for (let pass = 0; pass < 10; pass++) {
    writeFileSync(tmp, list.map((h) => `#include <${h}>\n`).join(''));
    const errors = syntaxErrors(tmp);
    if (!errors) break;
    const bad = culprits(errors, tmp);
    if (!bad.size) throw new Error(`the uapi wrapper does not compile and no include is to blame: ${errors.split('\n')[0]}`);
    list = list.filter((_, i) => !bad.has(i + 1));
  }
  if (syntaxErrors(tmp)) throw new Error('the uapi wrapper still does not compile after 10 passes');
  writeFileSync(file, `/* Every kernel uapi header that compiles alone and beside the others (${list.length} of ${all.length}). */\n${readFileSync(tmp, 'utf8')}`);
  rmSync(tmp);
  return file;
}

/** Common /usr/include headers, those present here. */
const USR = [
  'assert.h', 'ctype.h', 'errno.h', 'fcntl.h', 'inttypes.h', 'limits.h', 'locale.h', 'math.h', 'setjmp.h', 'signal.h',
  'stdatomic.h', 'stdint.h', 'stdio.h', 'stdlib.h', 'string.h', 'time.h', 'wchar.h', 'wctype.h', 'unistd.h', 'pthread.h',
  'sched.h', 'semaphore.h', 'mqueue.h', 'dirent.h', 'dlfcn.h', 'elf.h', 'link.h', 'poll.h', 'termios.h', 'glob.h',
  'netdb.h', 'ifaddrs.h', 'arpa/inet.h', 'netinet/in.h', 'netinet/tcp.h', 'net/if.h', 'sys/types.h', 'sys/stat.h',
  'sys/mman.h', 'sys/ipc.h', 'sys/shm.h', 'sys/sem.h', 'sys/msg.h', 'sys/socket.h', 'sys/un.h', 'sys/uio.h',
  'sys/wait.h', 'sys/resource.h', 'sys/time.h', 'sys/epoll.h', 'sys/eventfd.h', 'sys/signalfd.h', 'sys/timerfd.h',
  'sys/inotify.h', 'sys/ioctl.h', 'sys/ptrace.h', 'sys/user.h', 'sys/prctl.h', 'sys/statvfs.h', 'sys/utsname.h', 'ucontext.h',
];

function usrWrapper(): string | { skipped: string } {
  const have = USR.filter((h) => existsSync(path.join('/usr/include', h)) || existsSync(path.join('/usr/include/x86_64-linux-gnu', h)));
  const file = path.join(DIR, 'usr.h');
  writeFileSync(file, `#define _GNU_SOURCE 1\n${have.map((h) => `#include <${h}>\n`).join('')}`);
  const errors = syntaxErrors(file);
  return errors ? { skipped: `the /usr/include wrapper does not compile here: ${errors.split('\n')[0]}` } : file;
}

function postgresWrapper(): string | { skipped: string } {
  return ensureHeaders(PG_MAJOR) ? path.join(ROOT, PG_WRAPPER) : { skipped: `no PostgreSQL ${PG_MAJOR} server headers (apt-get install postgresql-server-dev-${PG_MAJOR})` };
}

const PW_INCLUDE = ['/usr/include/pipewire-0.3', '/usr/include/spa-0.2'];
function pipewireWrapper(): string | { skipped: string } {
  aptEnsure('/usr/include/spa-0.2/spa/utils/defs.h', 'libspa-0.2-dev');
  aptEnsure('/usr/include/pipewire-0.3/pipewire/pipewire.h', 'libpipewire-0.3-dev');
  if (!existsSync('/usr/include/pipewire-0.3/pipewire/pipewire.h')) return { skipped: 'no PipeWire headers (apt-get install libpipewire-0.3-dev)' };
  const file = path.join(DIR, 'pipewire.h');
  writeFileSync(file, [
    'pipewire/pipewire.h', 'pipewire/extensions/metadata.h', 'pipewire/extensions/profiler.h', 'pipewire/filter.h',
    'spa/param/audio/format-utils.h', 'spa/param/video/format-utils.h', 'spa/param/props.h', 'spa/pod/builder.h',
    'spa/pod/parser.h', 'spa/buffer/meta.h', 'spa/node/io.h', 'spa/utils/ringbuffer.h', 'spa/debug/types.h',
  ].filter((h) => PW_INCLUDE.some((d) => existsSync(path.join(d, h)))).map((h) => `#include <${h}>\n`).join(''));
  const errors = syntaxErrors(file, PW_INCLUDE);
  return errors ? { skipped: `the PipeWire wrapper does not compile here: ${errors.split('\n')[0]}` } : file;
}

function sqliteWrapper(): string | { skipped: string } {
  aptEnsure('/usr/include/sqlite3.h', 'libsqlite3-dev');
  if (!existsSync('/usr/include/sqlite3.h')) return { skipped: 'no sqlite3.h (apt-get install libsqlite3-dev)' };
  const file = path.join(DIR, 'sqlite.h');
  writeFileSync(file, '#include <sqlite3.h>\n#include <sqlite3ext.h>\n');
  return file;
}

/** Lines of the preprocessed set (`cc -E`), what the detail says the set is. */
function preprocessedLines(file: string, include: string[]): number {
  const r = spawnSync('cc', ['-E', '-x', 'c', ...include.map((d) => `-I${d}`), file], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return r.status === 0 ? r.stdout.split('\n').length : NaN;
}

async function main() {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is not built (npm run build)');
  if (spawnSync('sh', ['-c', 'command -v cc']).status !== 0) {
    log('no C compiler (cc): every import.real figure is skipped');
    process.stdout.write(`${JSON.stringify({ 'import.real': { value: 'skipped', goal: '≤ 3', detail: 'no cc here' } })}\n`);
    return;
  }
  mkdirSync(DIR, { recursive: true });
  const sets: HeaderSet[] = [
    { name: 'uapi', what: 'kernel uapi headers', wrapper: await uapiWrapper(), include: [] },
    { name: 'usr', what: 'common /usr/include headers', wrapper: usrWrapper(), include: [] },
    { name: 'postgres', what: `PostgreSQL ${PG_MAJOR} server headers (${PG_WRAPPER})`, wrapper: postgresWrapper(), include: [includeDir(PG_MAJOR)] },
    { name: 'pipewire', what: 'PipeWire and SPA headers', wrapper: pipewireWrapper(), include: PW_INCLUDE },
    { name: 'sqlite', what: 'sqlite3.h and sqlite3ext.h', wrapper: sqliteWrapper(), include: [] },
  ];
  const only = process.argv.slice(2);
  const figures: Record<string, unknown> = {};
  for (const s of sets.filter((x) => !only.length || only.includes(x.name))) {
    const key = `import.real.${s.name}`;
    if (typeof s.wrapper !== 'string') {
      log(`${s.wrapper.skipped}: ${key} is skipped`);
      figures[key] = { value: 'skipped', goal: '≤ 3', detail: s.wrapper.skipped };
      continue;
    }
    const inc = s.include.flatMap((d) => ['-I', d]);
    const IMPORT: Run = { name: 'shmscope import --all-types', cmd: process.execPath, args: [CLI, 'import', s.wrapper, ...inc, '--all-types', '--keep-going', '-o', path.join(DIR, `${s.name}.shms`)] };
    const CC: Run = { name: 'cc -fsyntax-only', cmd: 'cc', args: ['-fsyntax-only', '-x', 'c', ...s.include.map((d) => `-I${d}`), s.wrapper] };
    const { wall, cpu } = compareTimes(3, IMPORT, CC);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    figures[key] = {
      value: Number(cpu.ratio.toFixed(3)),
      goal: '≤ 3',
      detail: `${s.what}, ${preprocessedLines(s.wrapper, s.include)} preprocessed lines, whole processes, median of ${cpu.n}: CPU ${IMPORT.name} ${cpu.ours.toFixed(0)} ms vs ${CC.name} ${cpu.baseline.toFixed(0)} ms; wall ${wall.ours.toFixed(0)} vs ${wall.baseline.toFixed(0)} ms (${wall.ratio.toFixed(2)}×); load ${load}`,
    };
    log(`${key} ${cpu.ratio.toFixed(2)} CPU, ${wall.ratio.toFixed(2)} wall (load ${load})`);
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench import-real: ${(e as Error).message}\n`);
  process.exit(1);
});
