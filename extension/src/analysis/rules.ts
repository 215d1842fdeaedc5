// Program knowledge: one small declarative JSON file per program (extension/src/analysis/rules/,
// then the user's: ~/.config/shmscope/rules/*.json and the workspace's .shmscope/rules/*.json) that
// recognises an object by kind, name, key, mapping path, the command of a process that holds it,
// or its first bytes; names its owner in the user's terms; may bind a schema by pattern; and
// refines the verdict with what the program itself knows. No vscode import.
//
// A rule:
//   { "program": "PostgreSQL",
//     "objects": [{
//       "kind": ["posix-shm"], "name": "^/PostgreSQL\\.(\\d+)$",   // regexes; all given must match
//       "key": "…", "path": "…", "command": "…", "magic": { "offset": 0, "hex": "323d509a" },
//       "owner": "PostgreSQL DSM segment {1}",   // {1}…{9} the name's groups, {name} {pid} {cpid} {command} {key} {key/1000} {dir}
//       "schema": "postgres-dsm.shms",            // relative to the rule file
//       "inUseWhileRunning": "^postgres",         // in use while a process whose command matches runs
//       "registry": { … }                         // a table in another object that lists the live ones (below)
//     }] }
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { openShm } from '../ipc/objects';
import type { IpcRecord, Kind, Listing, NamespaceRef } from '../ipc/types';
import { allRecords, holdersOf, listingFacts, programName, type Verdict, type VerdictFacts } from './verdict';
import boost from './rules/boost-interprocess.json';
import chromium from './rules/chromium.json';
import fastdds from './rules/fast-dds.json';
import jack from './rules/jack.json';
import lmdb from './rules/lmdb.json';
import postgresql from './rules/postgresql.json';
import pulseaudio from './rules/pulseaudio-pipewire.json';
import python from './rules/python.json';

/**
 * A table inside one object (the registry, found by its magic) that lists the live objects of its
 * program by a number in their names: an object this rule matches whose number is in no registry
 * is a leftover once a registry was read (PostgreSQL's DSM control segment lists its segments).
 */
export interface RegistrySpec {
  /** The registry's own name pattern and magic (little-endian bytes in hex at `offset`). */
  name: string;
  magic: { offset: number; hex: string };
  /** Where the entry count is (a little-endian uint32). */
  count: number;
  /** First entry, bytes per entry, and in each: the number (uint32) and a reference count that is 0 for a free slot. */
  first: number;
  stride: number;
  handle: number;
  refcnt?: number;
  /** Entries read at most. */
  max?: number;
}

export interface ObjectRule {
  kind?: Kind[];
  name?: string;
  key?: string;
  path?: string;
  command?: string;
  magic?: { offset: number; hex: string };
  owner: string;
  schema?: string;
  inUseWhileRunning?: string;
  registry?: RegistrySpec;
}

export interface RuleFile {
  program: string;
  objects: ObjectRule[];
  /** Where it was read from ("shipped" for ours). */
  source?: string;
}

/** The rules shipped with shmscope, one per program. */
export const SHIPPED_RULES: readonly RuleFile[] = [postgresql, python, jack, pulseaudio, chromium, lmdb, boost, fastdds].map((r) => ({ ...(r as RuleFile), source: 'shipped' }));

/** The folders users' rules are read from, in order: theirs (~/.config/shmscope/rules), then the workspace's. */
export function ruleFolders(workspace?: string): string[] {
  const out = [path.join(process.env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'shmscope', 'rules')];
  if (workspace) out.push(path.join(workspace, '.shmscope', 'rules'));
  return out;
}

/** Checks one rule file's shape; a sentence naming what is wrong, or undefined. */
export function ruleProblem(r: unknown): string | undefined {
  const o = r as Partial<RuleFile>;
  if (typeof o !== 'object' || o === null) return 'not a JSON object';
  if (typeof o.program !== 'string' || !o.program) return '"program" must be a non-empty string';
  if (!Array.isArray(o.objects) || !o.objects.length) return '"objects" must be a non-empty array';
  for (const [i, x] of o.objects.entries()) {
    if (typeof x.owner !== 'string') return `objects[${i}].owner must be a string`;
    for (const k of ['name', 'key', 'path', 'command', 'inUseWhileRunning'] as const) {
      const v = x[k];
      if (v === undefined) continue;
      if (typeof v !== 'string') return `objects[${i}].${k} must be a regular expression (a string)`;
      try {
        new RegExp(v);
      } catch (e) {
        return `objects[${i}].${k}: ${(e as Error).message}`;
      }
    }
    if (x.magic && (!Number.isInteger(x.magic.offset) || !/^(?:[0-9a-f]{2})+$/i.test(x.magic.hex))) return `objects[${i}].magic needs an integer offset and hex bytes`;
  }
  return undefined;
}

/** The shipped rules, then every valid user rule (a file with a problem is left out with a note). */
export function loadRules(workspace?: string, notes: string[] = []): RuleFile[] {
  const out = [...SHIPPED_RULES];
  for (const dir of ruleFolders(workspace)) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      const file = path.join(dir, n);
      try {
        const r = JSON.parse(readFileSync(file, 'utf8')) as RuleFile;
        const problem = ruleProblem(r);
        if (problem) notes.push(`rule ${file} is left out: ${problem}`);
        else out.push({ ...r, source: file });
      } catch (e) {
        notes.push(`rule ${file} is left out: ${(e as Error).message}`);
      }
    }
  }
  return out;
}

type Rec = IpcRecord & { namespace?: NamespaceRef };

function nameOf(r: IpcRecord): string | undefined {
  if ('name' in r) return r.name;
  if (r.kind === 'file') return r.path;
  return undefined;
}

/**
 * The first bytes of an object of ours that a rule's magic or registry needs, else undefined: a
 * POSIX object (mapped read-only for the read, which changes nothing the kernel reports), or a
 * segment nothing is attached to (attached read-only for a moment: its last attach time and pid
 * change; a segment in use is recognised by its holders' command instead, never attached).
 */
function readBytes(r: Rec, length: number): Uint8Array | undefined {
  if ((r.kind !== 'posix-shm' && r.kind !== 'shm') || r.namespace || (r.kind === 'shm' && r.nattch > 0)) return undefined;
  try {
    const h = openShm(r.kind === 'shm' ? { kind: 'shm', id: r.id } : { kind: 'posix-shm', name: r.name });
    try {
      return h.read(0, Math.min(length, h.size));
    } finally {
      h.close();
    }
  } catch {
    return undefined;
  }
}

const hexAt = (bytes: Uint8Array | undefined, offset: number, hex: string) =>
  bytes !== undefined && bytes.length >= offset + hex.length / 2 && Buffer.from(bytes.subarray(offset, offset + hex.length / 2)).toString('hex') === hex.toLowerCase();

/** What one rule said of one record. */
export interface Recognition {
  program: string;
  owner: string;
  schema?: string;
  rule: ObjectRule;
  source: string;
  /** The number the registry lists it by (the name's first group). */
  handle?: number;
}

function fill(template: string, r: IpcRecord, m: RegExpExecArray | null): string {
  const holders = holdersOf(r);
  const pid = holders[0]?.pid ?? (r.kind === 'shm' ? r.cpid : undefined);
  const command = holders[0] ? programName(holders[0].command) : undefined;
  const name = nameOf(r) ?? String(r.id);
  return template.replace(/\{(\w+)(?:\/(\d+))?\}/g, (whole, k: string, div?: string) => {
    if (/^\d$/.test(k)) return m?.[Number(k)] ?? whole;
    if (k === 'name') return name;
    if (k === 'pid') return pid !== undefined ? String(pid) : '?';
    if (k === 'cpid') return r.kind === 'shm' ? String(r.cpid) : '?';
    if (k === 'command') return command ?? '?';
    if (k === 'dir') return path.dirname(name);
    if (k === 'key') return div ? String(Math.floor((r.key >>> 0) / Number(div))) : `0x${(r.key >>> 0).toString(16).padStart(8, '0')}`;
    return whole;
  });
}

/** The rule that recognises a record (the first that matches, users' rules before ours), or undefined. */
export function recognise(r: Rec, rules: readonly RuleFile[], bytes?: (r: Rec, n: number) => Uint8Array | undefined): Recognition | undefined {
  const ordered = [...rules.filter((f) => f.source !== 'shipped'), ...rules.filter((f) => f.source === 'shipped')];
  const name = nameOf(r);
  const commands = [...holdersOf(r).map((h) => h.command)];
  for (const f of ordered) {
    for (const o of f.objects) {
      if (o.kind && !o.kind.includes(r.kind)) continue;
      let m: RegExpExecArray | null = null;
      if (o.name !== undefined) {
        if (name === undefined || !(m = new RegExp(o.name).exec(name))) continue;
      }
      if (o.path !== undefined && (r.kind !== 'file' || !new RegExp(o.path).test(r.path))) continue;
      if (o.key !== undefined && (!('key' in r) || r.key === 0 || !new RegExp(o.key).test(`0x${(r.key >>> 0).toString(16).padStart(8, '0')}`))) continue;
      if (o.command !== undefined) {
        const re = new RegExp(o.command);
        if (!commands.some((c) => re.test(c))) continue;
      }
      if (o.magic && !hexAt((bytes ?? readBytes)(r, o.magic.offset + o.magic.hex.length / 2), o.magic.offset, o.magic.hex)) continue;
      const handle = m?.[1] !== undefined && /^\d+$/.test(m[1]) ? Number(m[1]) : undefined;
      return {
        program: f.program,
        owner: fill(o.owner, r, m),
        rule: o,
        source: f.source ?? 'shipped',
        ...(o.schema ? { schema: f.source && f.source !== 'shipped' ? path.resolve(path.dirname(f.source), o.schema) : o.schema } : {}),
        ...(handle !== undefined ? { handle } : {}),
      };
    }
  }
  return undefined;
}

/** The numbers every registry of a spec lists as live, and the registries' names; undefined when none was read. */
function readRegistries(spec: RegistrySpec, records: Rec[], bytes: (r: Rec, n: number) => Uint8Array | undefined): { live: Set<number>; names: string[] } | undefined {
  const re = new RegExp(spec.name);
  let found: { live: Set<number>; names: string[] } | undefined;
  const max = spec.max ?? 65536;
  for (const r of records) {
    const name = nameOf(r);
    // Only a registry something maps: a dead program's table lists what was live then.
    if (name === undefined || !re.test(name) || holdersOf(r).length === 0) continue;
    const head = bytes(r, spec.first);
    if (!hexAt(head, spec.magic.offset, spec.magic.hex)) continue;
    const count = Math.min(Buffer.from(head!).readUInt32LE(spec.count), max);
    const table = bytes(r, spec.first + count * spec.stride);
    if (!table || table.length < spec.first + count * spec.stride) continue;
    const b = Buffer.from(table);
    found ??= { live: new Set(), names: [] };
    found.names.push(name);
    for (let i = 0; i < count; i++) {
      const at = spec.first + i * spec.stride;
      if (spec.refcnt !== undefined && b.readUInt32LE(at + spec.refcnt) === 0) continue;
      found.live.add(b.readUInt32LE(at + spec.handle));
    }
  }
  return found;
}

/**
 * The refine function of VerdictFacts for a listing: names each recognised object's owner, and
 * changes a verdict only with what the program knows. A registry that does not list an object
 * makes it a leftover unless something maps or holds it; a running program that uses the object
 * unmapped (`inUseWhileRunning`) makes a leftover in use. An object in use by the kernel's and
 * /proc's facts is never made a leftover.
 */
export function ruleRefiner(l: Listing, rules: readonly RuleFile[], facts: Pick<VerdictFacts, 'alive'>, bytes: (r: Rec, n: number) => Uint8Array | undefined = readBytes): (rec: IpcRecord, v: Verdict) => Verdict {
  const records = allRecords(l) as Rec[];
  const cache = new Map<Rec, Uint8Array | undefined>();
  const cached = (r: Rec, n: number) => {
    let b = cache.get(r);
    if (b === undefined || b.length < n) cache.set(r, (b = bytes(r, n)));
    return b;
  };
  const registries = new Map<RegistrySpec, ReturnType<typeof readRegistries>>();
  const commands = new Map<number, string>();
  for (const r of records) for (const h of holdersOf(r)) commands.set(h.pid, h.command);
  const running = (re: string): { pid: number; command: string } | undefined => {
    const x = new RegExp(re);
    for (const [pid, command] of commands) if (x.test(command) && facts.alive(pid)) return { pid, command };
    return runningProcess(x);
  };
  return (rec, v) => {
    const k = recognise(rec, rules, cached);
    if (!k) return v;
    const out: Verdict = { ...v, owner: k.owner, reasons: [...v.reasons] };
    if (v.verdict === 'in use') return out;
    const spec = k.rule.registry;
    if (spec && k.handle !== undefined) {
      if (!registries.has(spec)) registries.set(spec, readRegistries(spec, records, cached));
      const reg = registries.get(spec);
      if (reg) {
        if (reg.live.has(k.handle)) return { ...out, verdict: 'in use', reasons: [...out.reasons, `${k.program} lists it as live (${reg.names.join(', ')})`] };
        return { ...out, verdict: 'leftover', reasons: [...out.reasons, `${k.program} does not list it among its live objects (${reg.names.join(', ')})`] };
      }
    }
    if (k.rule.inUseWhileRunning) {
      const p = running(k.rule.inUseWhileRunning);
      if (p) return { ...out, verdict: 'in use', reasons: [...out.reasons, `${k.program} runs (pid ${p.pid}, ${programName(p.command)}) and uses it without mapping it`] };
    }
    return out;
  };
}

/** A running process whose command line matches, from /proc (comm and cmdline, no memory lock for comm). */
function runningProcess(re: RegExp): { pid: number; command: string } | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const p of pids) {
    try {
      const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      if (re.test(comm)) return { pid: Number(p), command: comm };
    } catch {
      /* ended meanwhile */
    }
  }
  return undefined;
}

/** A listing's verdict facts with program knowledge: the shipped rules and the user's (notes name any left out). */
export function factsWithRules(l: Listing, workspace?: string): VerdictFacts {
  const facts = listingFacts(l);
  facts.refine = ruleRefiner(l, loadRules(workspace, l.notes), facts);
  return facts;
}
