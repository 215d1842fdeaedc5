// The machine's shared memory as Prometheus metrics: one scan (the listing, the kernel limits,
// /dev/shm of every IPC namespace, the wait analysis) turned into gauges, and the text exposition
// of them written by prom-client, the ecosystem's own client (its escaping, its number format, its
// HELP/TYPE lines). `shmscope metrics` prints or serves it; the editor copies it.
//
// Labels never carry unbounded values by default: kinds, limit names, mount points and IPC
// namespace inodes (one per container) only. Per-object series (a target in a label) and schema
// fields are added only when asked, capped by `maxSeries`, `shmscope_dropped_series` counting
// what the cap cut. No vscode import: the CLI, the editor and the tests share it.
import { Gauge, Registry } from 'prom-client';
import { KINDS, limits, list, type IpcRecord, type Kind, type Limit, type NamespaceRef } from '../ipc';
import { devShmMounts } from '../ipc/mounts';
import { scanWaits, type WaitHistory } from './waits';
import { readSysv } from '../ipc/procfs';
import { allRecords, listingFacts, targetText, verdictOf, waitsByTarget } from './verdict';

/** A schema field to export: `--field key:0x52494e47:hdr.dropped`. `read` gives its value now. */
export interface FieldReader {
  target: string;
  field: string;
  read(): Promise<number | null>;
}

export interface MetricsOptions {
  /** One series per object (`shmscope_object_bytes{kind,target,namespace}`). */
  perObject?: boolean;
  /** Schema fields, one series each. */
  fields?: readonly FieldReader[];
  /** Per-object and field series together, at most (default DEFAULT_MAX_SERIES). */
  maxSeries?: number;
  /** Kept across scans by a long-running exporter, so that a wait can be seen stuck. */
  history?: WaitHistory;
  /** A wait counts as stuck after this long without a change on its object (default 10 min). */
  stuckAfterMs?: number;
}

export const DEFAULT_MAX_SERIES = 1000;
/** The alert rules' "a wait stuck for 10 minutes". */
export const DEFAULT_STUCK_AFTER_MS = 10 * 60_000;

/** One /dev/shm: ours ("host") or another IPC namespace's (its inode). */
export interface DevShmUse {
  mount: string;
  namespace: string;
  size: number;
  used: number;
}

/** What one scan found, as numbers; render() turns it into the exposition. */
export interface MetricsScan {
  objects: Map<Kind, number>;
  bytes: Map<Kind, number>;
  resident: Map<Kind, number>;
  /** By the triage verdict (analysis/verdict.ts); absent when the listing failed. */
  leftoverObjects?: Map<Kind, number>;
  leftoverBytes?: Map<Kind, number>;
  devshm: DevShmUse[];
  limits: Limit[];
  waiting: Map<string, number>;
  deadlocks: number;
  deadOwners: number;
  stuckWaits: number;
  unreadableProcesses: number;
  /** Per-object and field series, after the cap. */
  series: { objectBytes: { kind: Kind; target: string; namespace: string; bytes: number }[]; fields: { target: string; field: string; value: number }[] };
  droppedSeries: number;
  /** The parts of the scan that failed ("waits", "limits", …): their metrics are absent. */
  failed: string[];
  durationSeconds: number;
  /** When the scan ended (ms since the epoch). */
  at: number;
}

/** The kinds whose objects hold memory of their own, and how much. */
function bytesOf(r: IpcRecord): number | undefined {
  switch (r.kind) {
    case 'shm':
    case 'posix-shm':
    case 'memfd':
    case 'anon':
    case 'file':
      return r.size;
    case 'msg':
      return r.bytes;
    default:
      return undefined;
  }
}

const BYTE_KINDS: readonly Kind[] = ['shm', 'msg', 'posix-shm', 'memfd', 'anon', 'file'];

/** The namespace label of a series: "host" (the exporter's own IPC namespace) or "ipc:INODE". */
export const namespaceLabel = (ns: NamespaceRef): string => `ipc:${ns.ipc}`;

/** Runs one part of the scan; a failure leaves its metrics out and is named in `failed`. */
async function part<T>(name: string, failed: string[], f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch {
    failed.push(name);
    return undefined;
  }
}

/** One scan of the machine. Never throws for what the kernel refuses: the part is named in `failed`. */
export async function scanMetrics(opts: MetricsOptions = {}): Promise<MetricsScan> {
  const t0 = performance.now();
  const failed: string[] = [];
  const [listing, lim, waits] = await Promise.all([
    part('list', failed, () => list(undefined, { namespaces: 'all' })),
    part('limits', failed, () => limits()),
    part('waits', failed, () => scanWaits({ history: opts.history, stuckAfterMs: opts.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS })),
  ]);
  const objects = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
  const bytes = new Map<Kind, number>(BYTE_KINDS.map((k) => [k, 0]));
  const resident = new Map<Kind, number>();
  const max = opts.maxSeries ?? DEFAULT_MAX_SERIES;
  let room = max;
  let dropped = 0;
  const objectBytes: MetricsScan['series']['objectBytes'] = [];
  const devshm: DevShmUse[] = [];
  let leftoverObjects: Map<Kind, number> | undefined;
  let leftoverBytes: Map<Kind, number> | undefined;
  if (listing) {
    // The triage verdict, with the waits as evidence of use (a waiter or a lock holder).
    const facts = listingFacts(listing, waits ? { waits: waitsByTarget(waits) } : {});
    leftoverObjects = new Map(KINDS.map((k) => [k, 0]));
    leftoverBytes = new Map(BYTE_KINDS.map((k) => [k, 0]));
    for (const r of allRecords(listing)) {
      objects.set(r.kind, (objects.get(r.kind) ?? 0) + 1);
      const b = bytesOf(r);
      const leftover = verdictOf(r, facts).verdict === 'leftover';
      if (leftover) leftoverObjects.set(r.kind, leftoverObjects.get(r.kind)! + 1);
      if (b === undefined) continue;
      bytes.set(r.kind, (bytes.get(r.kind) ?? 0) + b);
      if (leftover) leftoverBytes.set(r.kind, leftoverBytes.get(r.kind)! + b);
      if (!opts.perObject) continue;
      const target = targetText(r);
      if (!target) continue;
      if (room > 0) {
        objectBytes.push({ kind: r.kind, target, namespace: r.namespace ? namespaceLabel(r.namespace) : 'host', bytes: b });
        room--;
      } else dropped++;
    }
  }
  // Each /dev/shm as the listing measured it (the figures df shows): ours, then each namespace's
  // own (one that sees ours is not another mount).
  if (listing) {
    for (const m of devShmMounts(listing)) {
      if (m.size !== null && m.used !== null) devshm.push({ mount: m.path, namespace: m.namespace ? namespaceLabel(m.namespace) : 'host', size: m.size, used: m.used });
    }
  }
  // Resident: what the kernel counts as present in memory, where it tells it. System V segments:
  // their rss; POSIX objects: the pages their tmpfs holds (present or swapped).
  const shmRows = readSysv('shm');
  if (shmRows.length === 0 || 'rss' in shmRows[0]!) resident.set('shm', shmRows.reduce((a, r) => a + (r.rss ?? 0), 0));
  const host = devshm.find((d) => d.namespace === 'host');
  if (host) resident.set('posix-shm', host.used);
  const fields: MetricsScan['series']['fields'] = [];
  for (const f of opts.fields ?? []) {
    if (room <= 0) {
      dropped++;
      continue;
    }
    const v = await f.read().catch(() => null);
    if (v === null || !Number.isFinite(v)) continue;
    fields.push({ target: f.target, field: f.field, value: v });
    room--;
  }
  const waiting = new Map<string, number>();
  if (waits) for (const w of waits.waits) waiting.set(w.object.kind, (waiting.get(w.object.kind) ?? 0) + 1);
  return {
    objects,
    bytes,
    resident,
    ...(leftoverObjects ? { leftoverObjects, leftoverBytes } : {}),
    devshm,
    limits: lim ?? [],
    waiting,
    deadlocks: waits?.deadlocks.length ?? 0,
    deadOwners: waits ? waits.waits.filter((w) => w.ownerDied).length : 0,
    stuckWaits: waits ? waits.waits.filter((w) => w.stuck).length : 0,
    unreadableProcesses: listing?.unreadableProcesses ?? 0,
    series: { objectBytes, fields },
    droppedSeries: dropped,
    failed,
    durationSeconds: (performance.now() - t0) / 1000,
    at: Date.now(),
  };
}

/**
 * The gauges, registered once: a long-running exporter renders every scrape into the same
 * registry (reset first, so that a series whose object is gone disappears), so its memory stays
 * flat however many scrapes it serves.
 */
export class MetricsRenderer {
  readonly registry = new Registry();
  private readonly g: Record<string, Gauge<string>> = {};

  constructor() {
    const add = (name: string, help: string, labelNames: string[] = []) => {
      this.g[name] = new Gauge({ name: `shmscope_${name}`, help, labelNames, registers: [this.registry] });
    };
    add('objects', 'IPC objects on the machine, in every IPC namespace, by kind (as `shmscope list` names them).', ['kind']);
    add('bytes', 'Bytes the objects hold by kind: segment, object and mapping sizes, and the contents of System V message queues.', ['kind']);
    add('resident_bytes', 'Bytes the kernel holds for the objects of a kind: System V segments resident in memory, POSIX objects in the pages of /dev/shm.', ['kind']);
    add('leftover_objects', 'Objects the triage verdict calls leftovers (nothing maps or holds them and their creator is gone), by kind.', ['kind']);
    add('leftover_bytes', 'Bytes held by leftover objects, by kind.', ['kind']);
    add('devshm_size_bytes', 'Size of a /dev/shm tmpfs, per IPC namespace ("host" is the exporter\'s own).', ['mount', 'namespace']);
    add('devshm_used_bytes', 'Bytes in use in a /dev/shm tmpfs, per IPC namespace.', ['mount', 'namespace']);
    add('limit', 'A kernel limit on IPC objects (+Inf: no limit).', ['name']);
    add('limit_used', 'The current use of a kernel limit, where the kernel tells it.', ['name']);
    add('waiting_threads', 'Threads blocked on an IPC object, by the kind of object.', ['kind']);
    add('deadlocks', 'Cycles in the wait-for graph of threads blocked on IPC objects.');
    add('dead_owners', 'Waits on a lock whose owner thread has died.');
    add('stuck_waits', 'Waits whose object has not changed for the stuck threshold (10 minutes unless --stuck-after says otherwise).');
    add('unreadable_processes', 'Processes whose memory maps the scan could not read: objects they map may look unused.');
    add('scan_duration_seconds', 'Wall time of the scan behind this exposition.');
    add('scan_timestamp_seconds', 'When the scan behind this exposition ended (Unix time).');
    add('scan_late', '1 when this exposition is the previous scan\'s, the current one having run past its deadline.');
    add('scan_failed', '1 for a part of the scan that failed (its metrics are absent).', ['part']);
    add('object_bytes', 'Size of one object (only with --per-object).', ['kind', 'target', 'namespace']);
    add('field', 'A schema field of an object (only with --field).', ['target', 'field']);
    add('dropped_series', 'Per-object and field series left out by --max-series.');
  }

  /**
   * The text exposition of `scan` (Prometheus text format 0.0.4). A metric that a failed part of
   * the scan would have given is left out, not written as 0 (prom-client writes an unlabelled
   * gauge as 0 until it is set): the registry holds, on each render, only what the scan knows.
   */
  async render(scan: MetricsScan, late = false): Promise<string> {
    this.registry.clear();
    const absent = new Set<string>();
    const without: Record<string, string[]> = {
      waits: ['waiting_threads', 'deadlocks', 'dead_owners', 'stuck_waits'],
      list: ['objects', 'bytes', 'object_bytes', 'unreadable_processes'],
      limits: ['limit', 'limit_used'],
    };
    for (const p of scan.failed) for (const n of without[p] ?? []) absent.add(n);
    if (!scan.leftoverObjects) for (const n of ['leftover_objects', 'leftover_bytes']) absent.add(n);
    for (const [name, gauge] of Object.entries(this.g)) {
      gauge.reset();
      if (!absent.has(name)) this.registry.registerMetric(gauge);
    }
    const g = this.g;
    for (const [k, v] of scan.objects) g.objects!.set({ kind: k }, v);
    for (const [k, v] of scan.bytes) g.bytes!.set({ kind: k }, v);
    for (const [k, v] of scan.resident) g.resident_bytes!.set({ kind: k }, v);
    for (const [k, v] of scan.leftoverObjects ?? []) g.leftover_objects!.set({ kind: k }, v);
    for (const [k, v] of scan.leftoverBytes ?? []) g.leftover_bytes!.set({ kind: k }, v);
    for (const d of scan.devshm) {
      g.devshm_size_bytes!.set({ mount: d.mount, namespace: d.namespace }, d.size);
      g.devshm_used_bytes!.set({ mount: d.mount, namespace: d.namespace }, d.used);
    }
    for (const l of scan.limits) {
      if (l.name.startsWith('/')) continue; // /dev/shm: the devshm series say it
      g.limit!.set({ name: l.name }, typeof l.value === 'number' ? l.value : Infinity);
      if (l.used !== null) g.limit_used!.set({ name: l.name }, l.used);
    }
    for (const k of WAIT_KINDS) g.waiting_threads!.set({ kind: k }, scan.waiting.get(k) ?? 0);
    g.deadlocks!.set(scan.deadlocks);
    g.dead_owners!.set(scan.deadOwners);
    g.stuck_waits!.set(scan.stuckWaits);
    g.unreadable_processes!.set(scan.unreadableProcesses);
    g.scan_duration_seconds!.set(scan.durationSeconds);
    g.scan_timestamp_seconds!.set(scan.at / 1000);
    g.scan_late!.set(late ? 1 : 0);
    for (const p of scan.failed) g.scan_failed!.set({ part: p }, 1);
    for (const o of scan.series.objectBytes) g.object_bytes!.set({ kind: o.kind, target: o.target, namespace: o.namespace }, o.bytes);
    for (const f of scan.series.fields) g.field!.set({ target: f.target, field: f.field }, f.value);
    g.dropped_series!.set(scan.droppedSeries);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The kinds of object a thread can wait on (WaitObject.kind), each always written (0 when none). */
const WAIT_KINDS: readonly string[] = ['shm', 'sem', 'msg', 'posix-shm', 'posix-sem', 'posix-mq', 'memfd', 'anon', 'file'];

/** One scan, as text: `shmscope metrics` and the editor's Copy Metrics. */
export async function metricsText(opts: MetricsOptions = {}): Promise<string> {
  return new MetricsRenderer().render(await scanMetrics(opts));
}

/**
 * A long-running exporter's scans: one at a time (scrapes that arrive while one runs share it),
 * each waited for up to `deadlineMs`; past it the scrape gets the previous scan, marked late, and
 * the running scan, which the kernel calls cannot abandon, becomes the next scrape's answer.
 */
export class ScrapeCache {
  private running: Promise<MetricsScan> | undefined;
  private last: MetricsScan | undefined;

  constructor(private readonly scan: () => Promise<MetricsScan>, private readonly deadlineMs: number) {}

  /** The scan to answer with: a fresh one, or the previous (late) when the fresh one ran late; undefined when none ever finished. */
  async get(): Promise<{ scan: MetricsScan; late: boolean } | undefined> {
    if (!this.running) {
      const p = this.scan();
      this.running = p;
      p.then((s) => (this.last = s), () => undefined).finally(() => {
        if (this.running === p) this.running = undefined;
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.deadlineMs)));
    try {
      const fresh = await Promise.race([this.running, late]);
      if (fresh) return { scan: fresh, late: false };
    } catch {
      /* a scan that failed whole: the previous answers, late */
    } finally {
      clearTimeout(timer);
    }
    return this.last ? { scan: this.last, late: true } : undefined;
  }
}
