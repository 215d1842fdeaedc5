// DWARF import benchmark (issue 23): importing every type of a large debug file (about 50 MB of
// debug sections, SHMSCOPE_BENCH_DWARF_MB to change it) against pahole reading the same file, whole
// processes, medians. The program is built here once (cached under out/bench/dwarf): a C program of
// many units that share one header of types (as real programs do) and add types of their own, with
// -g and every declared type kept. pahole comes from Debian's `dwarves`, installed with apt-get as
// root; without it (or without the DWARF reader) the figure says skipped, with one line why.
//   node --import tsx scripts/bench/dwarf.ts
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, compare, figure, ROOT, type Run } from './process';

const MB = Number(process.env.SHMSCOPE_BENCH_DWARF_MB) > 0 ? Number(process.env.SHMSCOPE_BENCH_DWARF_MB) : 50;
const SHARED_TYPES = 3000;
const OWN_TYPES = 150;
/** Bump when the generated program changes: a cached build of another version is rebuilt. */
const VERSION = 1;

const log = (line: string) => process.stderr.write(`bench dwarf: ${line}\n`);
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function skipped(why: string): never {
  log(`${why}: dwarf.ratioVsPahole is skipped`);
  process.stdout.write(`${JSON.stringify({ 'dwarf.ratioVsPahole': { value: 'skipped', goal: '≤ 2', detail: why } })}\n`);
  process.exit(0);
}

function ensurePahole(): void {
  if (has('pahole')) return;
  if (process.getuid?.() !== 0) skipped('pahole is not installed (apt-get install dwarves, as root)');
  log('installing Debian dwarves (pahole) with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore', env });
  spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'dwarves'], { stdio: 'ignore', env });
  if (!has('pahole')) skipped('pahole could not be installed (apt-get install dwarves failed)');
}

/** The shared header: enums, bit-fields, unions, arrays, self and by-value references. */
function sharedHeader(): string {
  const out = ['#include <stdint.h>'];
  for (let i = 0; i < SHARED_TYPES; i++) {
    out.push(
      `enum e${i} { E${i}_IDLE, E${i}_RUN = ${i % 9}, E${i}_DONE };`,
      `typedef struct s${i} { uint32_t id; uint16_t flags : 3, kind : 5; union { int64_t wide; char bytes[8]; } u; double v[${(i % 5) + 1}]; enum e${i} state; struct s${i} *next; ${i ? `struct s${i >> 1} half;` : 'int first;'} char name[${(i % 31) + 1}]; } s${i}_t;`,
    );
  }
  return `${out.join('\n')}\n`;
}

function unit(t: number): string {
  const own: string[] = [];
  for (let j = 0; j < OWN_TYPES; j++) own.push(`struct u${t}_${j} { s${(j * 7 + t) % SHARED_TYPES}_t a; uint8_t b : ${(j % 7) + 1}; int64_t c[${(j % 3) + 1}]; } gu${t}_${j};`);
  return `#include "shared.h"\n${own.join('\n')}\nint f${t}(void) { return ${t}; }\n`;
}

/** Bytes of the .debug_* sections of an ELF file. */
function debugBytes(file: string): number {
  const r = spawnSync('size', ['-A', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`size -A ${file}: ${r.stderr}`);
  let n = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\.debug_\S+\s+(\d+)/.exec(line);
    if (m) n += Number(m[1]);
  }
  return n;
}

function cc(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('cc', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cc ${args.join(' ')}: ${err.trim().split('\n')[0]}`))));
  });
}

/** Builds (or finds built) the program of about MB megabytes of debug information. */
async function program(): Promise<{ file: string; bytes: number; units: number }> {
  const dir = path.join(ROOT, 'out', 'bench', 'dwarf');
  const file = path.join(dir, `prog-${VERSION}-${MB}mb`);
  const stamp = `${file}.json`;
  if (existsSync(file) && existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8')) as { file: string; bytes: number; units: number };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'shared.h'), sharedHeader());
  const flags = ['-g', '-O0', '-fno-eliminate-unused-debug-types', '-c'];
  const build = (t: number) => {
    writeFileSync(path.join(dir, `u${t}.c`), unit(t));
    return cc([...flags, '-o', `u${t}.o`, `u${t}.c`], dir);
  };
  // One unit first, to know how many make MB megabytes; then the rest, two at a time.
  await build(0);
  const perUnit = debugBytes(path.join(dir, 'u0.o'));
  const units = Math.max(1, Math.ceil((MB * 1e6) / perUnit));
  log(`building a ${units}-unit C program with -g (about ${MB} MB of debug information, ${(perUnit / 1e6).toFixed(2)} MB a unit) in ${path.relative(ROOT, dir)}`);
  let next = 1;
  const worker = async () => {
    for (let t = next++; t < units; t = next++) await build(t);
  };
  await Promise.all([worker(), worker()]);
  writeFileSync(path.join(dir, 'main.c'), 'int f0(void);\nint main(void) { return f0(); }\n');
  await cc(['-o', `${file}.tmp`, 'main.c', ...Array.from({ length: units }, (_, t) => `u${t}.o`)], dir);
  renameSync(`${file}.tmp`, file);
  for (let t = 0; t < units; t++) rmSync(path.join(dir, `u${t}.o`), { force: true });
  const built = { file, bytes: debugBytes(file), units };
  writeFileSync(stamp, JSON.stringify(built));
  return built;
}

async function main() {
  if (!existsSync(path.join(ROOT, 'native', 'build', 'Release', 'shmscope_dwarf.node'))) skipped('the DWARF reader is not built (apt-get install libdw-dev, then npm run build)');
  if (!has('cc') || !has('size')) skipped('no C compiler (cc) or size here');
  ensurePahole();
  const prog = await program();
  const out = path.join(path.dirname(prog.file), 'all-types.shms');
  const IMPORT: Run = { name: 'shmscope import --all-types', cmd: process.execPath, args: [CLI, 'import', prog.file, '--all-types', '-o', out] };
  const PAHOLE: Run = { name: 'pahole', cmd: 'pahole', args: [prog.file] };
  const c = compare(3, IMPORT, PAHOLE);
  process.stdout.write(
    `${JSON.stringify({
      'dwarf.ratioVsPahole': figure(c, '≤ 2', `every type of a ${(prog.bytes / 1e6).toFixed(1)} MB debug file (${prog.units} units built here with cc -g)`, IMPORT, PAHOLE),
    })}\n`,
  );
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench dwarf: ${(e as Error).message}\n`);
  process.exit(1);
});
