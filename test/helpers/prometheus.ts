// Debian's Prometheus for the exporter's tests: `prometheus` and `promtool`, installed with apt on
// first use (as scripts/editor/env.mjs installs chromium), then a server started on loopback with
// a scrape configuration of the test's own, and its query API.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** Installs Debian's prometheus package when promtool or prometheus is missing (root only). */
export function ensurePrometheus(): void {
  if (existsSync(PROMETHEUS) && existsSync(PROMTOOL)) return;
  if (process.getuid?.() !== 0) throw new Error('missing Debian package prometheus: run apt-get install -y prometheus as root');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args: string[]) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  const install = () => apt('install', '-y', '-q', '--no-install-recommends', 'prometheus');
  if (!install() && !(apt('update', '-q') && install())) throw new Error('apt-get install prometheus failed');
}

/** A TCP port free on loopback now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A running Prometheus scraping `target` (HOST:PORT) every 2 s (timeout 2 s), evaluating `rules` every second. */
export class Prometheus {
  private constructor(private readonly child: ChildProcess, private readonly dir: string, readonly url: string, readonly log: string[]) {}

  static async start(target: string, rules: string[] = []): Promise<Prometheus> {
    const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-prometheus-'));
    const config = path.join(dir, 'prometheus.yml');
    writeFileSync(config, [
      'global:',
      '  scrape_interval: 2s',
      '  scrape_timeout: 2s',
      '  evaluation_interval: 1s',
      `rule_files: [${rules.map((r) => JSON.stringify(r)).join(', ')}]`,
      'scrape_configs:',
      '  - job_name: shmscope',
      `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
      '',
    ].join('\n'));
    const port = await freePort();
    const child = spawn(PROMETHEUS, [
      `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const log: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (d: string) => log.push(d));
    return new Prometheus(child, dir, `http://127.0.0.1:${port}`, log);
  }

  /** GET /api/v1/PATH; undefined while the server does not answer yet. */
  async api(pathAndQuery: string): Promise<{ status: string; data: unknown; error?: string } | undefined> {
    try {
      const r = await fetch(`${this.url}/api/v1/${pathAndQuery}`);
      return (await r.json()) as { status: string; data: unknown; error?: string };
    } catch {
      return undefined;
    }
  }

  /** An instant query's vector (empty while the series is not there yet). */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await this.api(`query?query=${encodeURIComponent(expr)}`);
    if (r && r.status !== 'success') throw new Error(`query ${expr}: ${r.error}`);
    return ((r?.data as { result?: unknown } | undefined)?.result ?? []) as { metric: Record<string, string>; value: [number, string] }[];
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
