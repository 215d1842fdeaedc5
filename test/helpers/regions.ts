// The C fixture of memfd, shared anonymous and shared file regions (test/fixtures/regions/regions.c):
// built once per test process with the system cc, started with pipes, stopped for sure in after().
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './ipc';

const OUT = path.join(ROOT, '.test-artifacts', 'fixtures');
export const REGIONS_BIN = path.join(OUT, 'regions');

let built = false;
/** Compiles the fixture (once); throws with the compiler's output on failure. */
export function buildRegions(): string {
  if (built) return REGIONS_BIN;
  mkdirSync(OUT, { recursive: true });
  const src = path.join(ROOT, 'test', 'fixtures', 'regions', 'regions.c');
  const r = spawnSync('cc', ['-std=c11', '-O1', '-Wall', '-Wextra', '-Werror', '-o', REGIONS_BIN, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed:\n${r.stderr}`);
  built = true;
  return REGIONS_BIN;
}

/** What a fixture printed on its `ready` line. */
export interface Ready {
  pid: number;
  child?: number;
  addr?: string;
  size?: number;
  ino?: number;
  fd?: number;
  id?: number;
  sem?: number;
  msg?: number;
}

/** A running fixture: its ready facts, a byte write through its mapping, and its end. */
export class Fixture {
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  readonly exited: Promise<unknown>;
  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => process.stderr.write(`[fixture ${proc.pid}] ${d}`));
    this.exited = once(proc, 'exit');
  }

  /** The next line that starts with `prefix` (lines before it are consumed). */
  async line(prefix: string, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return this.lines.splice(0, i + 1).pop()!;
      if (this.proc.exitCode !== null) throw new Error(`fixture exited (${this.proc.exitCode}) before printing "${prefix}"`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${prefix}" from the fixture`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async ready(): Promise<Ready> {
    return JSON.parse((await this.line('ready ')).slice(6)) as Ready;
  }

  /** Writes one byte through the fixture's own mapping and waits for its answer. */
  async poke(offset: number, value: number): Promise<void> {
    this.proc.stdin.write(`w ${offset} ${value}\n`);
    await this.line('ok');
  }

  /** Ends it (its forked child dies with it) and waits for the exit. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.stdin.end();
    await this.exited;
  }
}

const running = new Set<Fixture>();

/** Starts the fixture with these arguments (optionally through a wrapper such as setpriv). */
export function startRegions(args: string[], wrapper: string[] = []): Fixture {
  const bin = buildRegions();
  const argv = [...wrapper, bin, ...args];
  const f = new Fixture(spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] }));
  running.add(f);
  void f.exited.then(() => running.delete(f));
  return f;
}

/** Stops every fixture still running (for after()). */
export async function stopAllRegions(): Promise<void> {
  await Promise.all([...running].map((f) => f.stop()));
}

/** The byte the fixture writes at offset i (after its 12-byte header). */
export function patternByte(i: number): number {
  const header = Buffer.from('SHMSCOPE\x2a\0\0\0', 'latin1');
  return i < 12 ? header[i]! : (i * 7 + 3) & 0xff;
}

export function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = patternByte(i);
  return b;
}
