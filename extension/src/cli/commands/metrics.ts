// shmscope metrics [--listen HOST:PORT | --textfile PATH] [--per-object] [--field TARGET:PATH]…
// The Prometheus text exposition of one scan (analysis/metrics.ts): printed, served at /metrics
// (a scan per scrape, by a deadline, the previous scan when one runs late), or written atomically
// for node_exporter's textfile collector.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_MAX_SERIES, DEFAULT_STUCK_AFTER_MS, MetricsRenderer, ScrapeCache, scanMetrics, type FieldReader, type MetricsOptions } from '../../analysis/metrics';
import { WaitHistory } from '../../analysis/waits';
import { formatTarget, openObject, parseTarget } from '../../ipc';
import { lazyField } from '../../shared/record/replay';
import { decode, defaultSegment, type Schema, type StructType } from '../../shared/schema';
import { escapeControl as esc } from '../../shared/escape';
import { armDeadline, deadlineMs, withDeadline } from '../deadline';
import { CutShort, UserError } from '../errors';
import { num } from '../format';
import { DURATION_OPTIONS } from '../times';
import * as stdout from '../output';
import { boundSegment, loadSchema } from './decode';

/** A scrape's scan deadline when neither --deadline nor SHMSCOPE_DEADLINE says one: under Prometheus's default 10 s scrape timeout. */
export const LISTEN_DEADLINE_MS = 8000;

interface MetricsCommandOptions {
  listen?: string;
  textfile?: string;
  perObject?: boolean;
  field: string[];
  schema: string[];
  maxSeries: string;
  stuckAfter: string;
  deadline?: string;
}

/** HOST:PORT, [V6]:PORT or :PORT (every interface). */
export function parseListen(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/i.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UserError(`--listen takes HOST:PORT, [IPV6]:PORT or :PORT, not "${text}"`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/**
 * `--field TARGET:PATH` (the path after the last colon: `key:0x52494e47:hdr.dropped`), read
 * through the schema that binds the target (`segment … for`), or the only schema's segment.
 */
export function fieldReader(spec: string, schemas: readonly Schema[]): FieldReader {
  const at = spec.lastIndexOf(':');
  const targetText = at > 0 ? spec.slice(0, at) : '';
  const field = at > 0 ? spec.slice(at + 1).trim() : '';
  if (!targetText || !field || !targetText.includes(':')) throw new UserError(`--field takes TARGET:FIELD (key:0x52494e47:hdr.dropped), not "${spec}"`);
  const target = parseTarget(targetText, 'shm');
  if (target.kind === 'sem' || target.kind === 'msg' || target.kind === 'posix-sem' || target.kind === 'posix-mq') throw new UserError(`--field reads a field of memory (a segment, a POSIX object, a memfd or a mapping), not of ${formatTarget(target)}`);
  if (!schemas.length) throw new UserError(`--field ${spec} needs --schema FILE.shms to know where ${field} lies`);
  const pick = (handle?: Parameters<typeof boundSegment>[2]): { schema: Schema; type: StructType } | undefined => {
    for (const schema of schemas) {
      const type = boundSegment(schema, target, handle);
      if (type) return { schema, type };
    }
    const only = schemas.length === 1 ? defaultSegment(schemas[0]!) : undefined;
    return only ? { schema: schemas[0]!, type: only } : undefined;
  };
  return {
    target: formatTarget(target),
    field,
    async read() {
      // Opened per scan: an object removed and created again is read anew.
      const handle = await openObject(target);
      try {
        const bound = pick(handle);
        if (!bound) return null;
        const root = decode(bound.schema, bound.type, handle, { maxChecksumBytes: 0 }).root;
        return lazyField(root, field)?.value ?? null;
      } finally {
        handle.close();
      }
    },
  };
}

/**
 * Writes `text` to `file` as node_exporter's textfile collector wants it: whole or not at all. A
 * temporary file beside it (same directory, so same filesystem), created new (O_EXCL: never an
 * existing file, never through a symbolic link), synced, then renamed over `file` (a rename
 * replaces a symbolic link at `file` itself, never what it points to).
 */
export function writeTextfile(file: string, text: string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    const data = Buffer.from(text);
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`cannot write ${file}: ${err.code === 'EISDIR' ? 'it is a directory' : err.message}`);
  }
}

/** The HTTP exporter: /metrics scans (through `cache`), / says where to look, anything else is 404. */
export function metricsServer(cache: ScrapeCache, renderer: MetricsRenderer) {
  // One render at a time: the registry is shared.
  let queue: Promise<unknown> = Promise.resolve();
  const render = (scan: Parameters<MetricsRenderer['render']>[0], late: boolean): Promise<string> => {
    const p = queue.then(() => renderer.render(scan, late));
    queue = p.catch(() => undefined);
    return p;
  };
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('shmscope exporter: the metrics are at /metrics\n');
      return;
    }
    if (url !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    void (async () => {
      try {
        const got = await cache.get();
        if (!got) {
          res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '5' }).end('the first scan has not finished yet\n');
          return;
        }
        const text = await render(got.scan, got.late);
        res.writeHead(200, { 'Content-Type': renderer.contentType }).end(req.method === 'HEAD' ? undefined : text);
      } catch (e) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`scan failed: ${esc((e as Error).message)}\n`);
      }
    })();
  });
}

export function register(program: Command): void {
  withDeadline(program
    .command('metrics'))
    .description('print the Prometheus/OpenMetrics text exposition of one scan, serve it (--listen) or write it for node_exporter (--textfile)')
    .option('--listen <host:port>', 'serve /metrics over HTTP, scanning on each scrape (--deadline: how long a scrape waits for its scan, default 8s)')
    .option('--textfile <path>', "write the exposition atomically to PATH (node_exporter's textfile collector: a .prom file in its directory)")
    .option('--per-object', 'add one series per object: shmscope_object_bytes{kind,target,namespace}')
    .option('--field <target:path>', 'add a schema field as shmscope_field{target,field}: key:0x52494e47:hdr.dropped (repeatable; needs --schema)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--schema <file>', 'a .shms schema whose `segment … for` declarations bind the --field targets (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--max-series <n>', 'per-object and field series together, at most; shmscope_dropped_series counts the rest', String(DEFAULT_MAX_SERIES))
    .option('--stuck-after <d>', 'a wait with no change on its object for this long counts in shmscope_stuck_waits', `${DEFAULT_STUCK_AFTER_MS / 60_000}m`)
    .action(async (opts: MetricsCommandOptions) => {
      if (opts.listen !== undefined && opts.textfile !== undefined) throw new UserError('give --listen or --textfile, not both');
      const schemas = opts.schema.map((f) => loadSchema(f));
      const fields = opts.field.map((f) => fieldReader(f, schemas));
      const options: MetricsOptions = {
        perObject: opts.perObject === true,
        fields,
        maxSeries: num('--max-series', opts.maxSeries),
        stuckAfterMs: DURATION_OPTIONS['--stuck-after'](opts.stuckAfter),
      };
      const renderer = new MetricsRenderer();
      if (opts.listen === undefined) {
        const ms = deadlineMs(opts.deadline);
        armDeadline('metrics', ms, opts.deadline ?? process.env.SHMSCOPE_DEADLINE ?? `${ms / 1000} s`, (m) => {
          process.stderr.write(`shmscope: ${esc(m)}\n`);
          process.exit(1);
        });
        const scan = await scanMetrics(options);
        const text = await renderer.render(scan);
        if (opts.textfile !== undefined) writeTextfile(opts.textfile, text);
        else await stdout.write(text);
        // As every command whose output a limit cut: all of it written, then one line and exit 4.
        if (scan.droppedSeries > 0) {
          const wanted = options.maxSeries! + scan.droppedSeries;
          throw new CutShort(`output cut short: ${scan.droppedSeries} per-object or field series left out, counted in shmscope_dropped_series (--max-series ${wanted} writes them all)`);
        }
        return;
      }
      const { host, port } = parseListen(opts.listen);
      const useDefault = opts.deadline === undefined && (process.env.SHMSCOPE_DEADLINE ?? '').trim() === '';
      const ms = useDefault ? LISTEN_DEADLINE_MS : deadlineMs(opts.deadline);
      // The history makes "stuck" visible across scrapes: a wait seen unchanged for --stuck-after.
      const history = new WaitHistory();
      const cache = new ScrapeCache(() => scanMetrics({ ...options, history }), ms > 0 ? ms : 2 ** 31 - 1);
      const server = metricsServer(cache, renderer);
      // A first scan at once, so that the first scrape finds one (shared, or finished) rather than a 503.
      void cache.get();
      await serve(server, host, port);
    });
}

/** Listens until SIGINT or SIGTERM; says where on stderr (the address, with the port the kernel chose for :0). */
async function serve(server: ReturnType<typeof createServer>, host: string | undefined, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UserError(`cannot listen on ${host ?? '*'}:${port}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.code === 'EACCES' ? 'permission denied' : e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  const where = a && typeof a === 'object' ? (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : String(a);
  process.stderr.write(`shmscope: serving metrics at http://${where}/metrics\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
