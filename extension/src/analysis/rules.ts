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
//       "inUseWith": "/fastrtps_port{1}",         // in use while the object of that name is mapped or held
//       "registry": { … },                        // a table in another object that lists the live ones (below)
//       "slots": { … },                           // a table of pids inside the object (LMDB's readers): a dead one is said
//       "waits": [{ "offset": 64, "says": "…" }]  // what a thread blocked at an offset of it waits for, in the program's terms
//     }] }
// "magic" may be a list: every one must match (Boost.Interprocess's segment header).
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
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

/** Bytes at an offset (hex, in file order). */
export interface Magic {
  offset: number;
  hex: string;
}

/**
 * A table of process ids inside the object itself (LMDB's reader table in lock.mdb): a slot whose
 * pid no longer runs is said in the program's terms (`says`, with {slot} {pid} and the owner's
 * fields), and the object stays as in use as it was: the slot is the program's to clear.
 */
export interface SlotsSpec {
  /** The table's header, as a rule's magic. */
  magic?: Magic | Magic[];
  /** Where the number of slots in use is (a little-endian uint32). */
  count: number;
  /** First slot, bytes per slot, and the pid in each (a little-endian int32, 0 for a free slot). */
  first: number;
  stride: number;
  pid: number;
  /** Slots read at most. */
  max?: number;
  says: string;
}

/**
 * What a thread blocked on the object waits for, in the program's terms: at `offset` (any when
 * left out), for a wait whose op matches `op` (a regex on `mutex lock`, `condvar wait`, …). `says`
 * is a template as `owner` is, with {offset} and {holder} (the holder's pid, or "no process the
 * kernel names"); `advice` is said beside it.
 */
export interface WaitRule {
  offset?: number;
  op?: string;
  says: string;
  advice?: string;
}

export interface ObjectRule {
  kind?: Kind[];
  name?: string;
  key?: string;
  path?: string;
  command?: string;
  magic?: Magic | Magic[];
  owner: string;
  schema?: string;
  inUseWhileRunning?: string;
  /** A sibling object's name (a template): this one is in use while that one is mapped or held (Fast-DDS's port mutex beside its port segment). */
  inUseWith?: string;
  registry?: RegistrySpec;
  slots?: SlotsSpec;
  waits?: WaitRule[];
}

export interface RuleFile {
  program: string;
  objects: ObjectRule[];
  /** Where it was read from ("shipped" for ours). */
  source?: string;
}

/** The rules shipped with shmscope, one per program. */
// Fast-DDS's segments are Boost.Interprocess managed segments: its rule (by name) comes before Boost's (by header).
export const SHIPPED_RULES: readonly RuleFile[] = [postgresql, python, jack, pulseaudio, chromium, lmdb, fastdds, boost].map((r) => ({ ...(r as RuleFile), source: 'shipped' }));

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
    for (const k of ['name', 'key', 'path', 'command', 'inUseWhileRunning', 'inUseWith'] as const) {
      const v = x[k];
      if (v === undefined) continue;
      if (typeof v !== 'string') return `objects[${i}].${k} must be a regular expression (a string)`;
      try {
        new RegExp(v);
      } catch (e) {
        return `objects[${i}].${k}: ${(e as Error).message}`;
      }
    }
    if (x.magic && magicList(x.magic).some((m) => !Number.isInteger(m?.offset) || typeof m.hex !== 'string' || !/^(?:[0-9a-f]{2})+$/i.test(m.hex))) return `objects[${i}].magic needs an integer offset and hex bytes`;
    if (x.slots) {
      const t = x.slots;
      if (![t.count, t.first, t.stride, t.pid].every((n) => Number.isInteger(n) && n >= 0) || t.stride === 0 || typeof t.says !== 'string') return `objects[${i}].slots needs integer count, first, stride (not 0), pid and a "says" text`;
    }
    if (x.waits !== undefined) {
      if (!Array.isArray(x.waits)) return `objects[${i}].waits must be an array`;
      for (const [j, w] of x.waits.entries()) {
        if (typeof w?.says !== 'string') return `objects[${i}].waits[${j}].says must be a string`;
        if (w.offset !== undefined && !Number.isInteger(w.offset)) return `objects[${i}].waits[${j}].offset must be an integer`;
        if (w.op !== undefined) {
          try {
            new RegExp(w.op);
          } catch (e) {
            return `objects[${i}].waits[${j}].op: ${(e as Error).message}`;
          }
        }
      }
    }
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

const magicList = (m: Magic | Magic[]): Magic[] => (Array.isArray(m) ? m : [m]);
const magicEnd = (m: Magic | Magic[]) => Math.max(...magicList(m).map((x) => x.offset + x.hex.length / 2));

/** The first bytes of a mapped file of ours (read as a file: nothing it maps changes), else undefined. */
function fileBytes(file: string, length: number): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const b = Buffer.alloc(length);
    return b.subarray(0, readSync(fd, b, 0, length, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The first bytes of an object of ours that a rule's magic or registry needs, else undefined: a
 * POSIX object (mapped read-only for the read, which changes nothing the kernel reports), a mapped
 * file still linked (read as a file), or a segment nothing is attached to (attached read-only for
 * a moment: its last attach time and pid change; a segment in use is recognised by its holders'
 * command instead, never attached).
 */
function readBytes(r: Rec, length: number): Uint8Array | undefined {
  if (r.kind === 'file') return r.namespace || r.deleted ? undefined : fileBytes(r.path, length);
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
const magicAt = (bytes: Uint8Array | undefined, m: Magic | Magic[]) => magicList(m).every((x) => hexAt(bytes, x.offset, x.hex));

/** What one rule said of one record. */
export interface Recognition {
  program: string;
  owner: string;
  schema?: string;
  rule: ObjectRule;
  source: string;
  /** The number the registry lists it by (the name's first group). */
  handle?: number;
  /** The name's match, for templates said later ({1}…). */
  match?: RegExpExecArray;
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
      if (o.magic && !magicAt((bytes ?? readBytes)(r, magicEnd(o.magic)), o.magic)) continue;
      const handle = m?.[1] !== undefined && /^\d+$/.test(m[1]) ? Number(m[1]) : undefined;
      return {
        program: f.program,
        owner: fill(o.owner, r, m),
        rule: o,
        source: f.source ?? 'shipped',
        ...(o.schema ? { schema: f.source && f.source !== 'shipped' ? path.resolve(path.dirname(f.source), o.schema) : o.schema } : {}),
        ...(handle !== undefined ? { handle } : {}),
        ...(m ? { match: m } : {}),
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
    if (k.rule.slots) out.reasons.push(...deadSlots(rec, k, k.rule.slots, cached, facts.alive));
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
    if (k.rule.inUseWith) {
      const name = fill(k.rule.inUseWith, rec, k.match ?? null);
      const sibling = records.find((r) => r !== rec && nameOf(r) === name && r.namespace?.ipc === (rec as Rec).namespace?.ipc && holdersOf(r).length > 0);
      if (sibling) return { ...out, verdict: 'in use', reasons: [...out.reasons, `${k.program} uses it with ${name}, which is ${holderText(sibling)}`] };
    }
    if (k.rule.inUseWhileRunning) {
      const p = running(k.rule.inUseWhileRunning);
      if (p) return { ...out, verdict: 'in use', reasons: [...out.reasons, `${k.program} runs (pid ${p.pid}, ${programName(p.command)}) and uses it without mapping it`] };
    }
    return out;
  };
}

/** "mapped by pid 12 (app)": who keeps a sibling object in use. */
function holderText(r: IpcRecord): string {
  const h = holdersOf(r);
  const first = h.slice(0, 3).map((x) => `pid ${x.pid} (${programName(x.command)})`).join(', ');
  return `${h[0]!.how === 'map' ? 'mapped' : 'held open'} by ${first}${h.length > 3 ? ` and ${h.length - 3} more` : ''}`;
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

/**
 * The slots of a table inside the object (SlotsSpec) whose pid no longer runs, each said in the
 * program's terms. Nothing when the table's header does not match or cannot be read.
 */
export function deadSlots(rec: Rec, k: Recognition, spec: SlotsSpec, bytes: (r: Rec, n: number) => Uint8Array | undefined, alive: (pid: number) => boolean): string[] {
  const head = bytes(rec, Math.max(spec.first, spec.count + 4, spec.magic ? magicEnd(spec.magic) : 0));
  if (!head || head.length < spec.count + 4 || (spec.magic && !magicAt(head, spec.magic))) return [];
  const count = Math.min(Buffer.from(head).readUInt32LE(spec.count), spec.max ?? 4096);
  const table = count ? bytes(rec, spec.first + count * spec.stride) : undefined;
  if (!table) return [];
  const b = Buffer.from(table);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = spec.first + i * spec.stride + spec.pid;
    if (at + 4 > b.length) break;
    const pid = b.readInt32LE(at);
    if (pid > 0 && !alive(pid)) out.push(fill(spec.says.replace(/\{slot\}/g, String(i)).replace(/\{pid\}/g, String(pid)), rec, k.match ?? null));
  }
  return out;
}

/** What a rule says of a thread's wait, in its program's terms. */
export interface WaitMeaning {
  program: string;
  /** The object's owner, as `list` names it. */
  owner: string;
  /** What the thread waits for. */
  says: string;
  advice?: string;
}

/** The wait as rules see it: the object (as the waits analysis names it), where, and who. */
export interface WaitSubject {
  object: { kind: string; id: number | null; name: string | null; namespace?: unknown };
  offset: number | null;
  op: string;
  pid: number;
  command: string;
  heldBy: readonly { pid: number | null; command: string | null; alive: boolean }[];
}

/**
 * The object of a wait as a record the rules match: its kind, its name or path (the waits' "
 * (unlinked)" and " (inode N)" suffixes off), mapped by the waiter (and the holders), so that a
 * rule's `command` matches the programs that share it. No other field is read by `recognise`.
 */
function waitRecord(w: WaitSubject): Rec | undefined {
  const o = w.object;
  const name = (o.name ?? '').replace(/ \(inode \d+\)$/, '').replace(/ \(unlinked\)$/, '');
  const unlinked = / \(unlinked\)$/.test(o.name ?? '');
  const attachedBy = [{ pid: w.pid, command: w.command }, ...w.heldBy.filter((h) => h.pid !== null).map((h) => ({ pid: h.pid!, command: h.command ?? '?' }))];
  const base = { id: o.id ?? 0, key: 0, uid: 0, user: '', gid: 0, mode: 0, attachedBy, ...(o.namespace ? { namespace: o.namespace } : {}) };
  switch (o.kind) {
    case 'posix-shm':
    case 'posix-sem':
      return { ...base, kind: o.kind, name } as unknown as Rec;
    case 'file':
      return { ...base, kind: 'file', path: name, deleted: unlinked } as unknown as Rec;
    case 'memfd':
      return { ...base, kind: 'memfd', name: name.replace(/^memfd:/, '') } as unknown as Rec;
    default:
      return undefined;
  }
}

/**
 * What a blocked thread waits for in its program's terms: the first rule that recognises the
 * object and has a `waits` entry for this offset and op. Undefined when no rule says.
 */
export function waitMeaning(w: WaitSubject, rules: readonly RuleFile[], bytes: (r: Rec, n: number) => Uint8Array | undefined = readBytes): WaitMeaning | undefined {
  const rec = waitRecord(w);
  if (!rec) return undefined;
  // Bytes only of an object still named in our namespace: an unlinked one's name is another's now.
  const k = recognise(rec, rules, / \(unlinked\)$/.test(w.object.name ?? '') || w.object.namespace ? () => undefined : bytes);
  const rule = k?.rule.waits?.find((x) => (x.offset === undefined || x.offset === w.offset) && (x.op === undefined || new RegExp(x.op).test(w.op)));
  if (!k || !rule) return undefined;
  const live = w.heldBy.find((h) => h.pid !== null);
  const holder = live ? `pid ${live.pid}${live.command ? ` (${programName(live.command)})` : ''}${live.alive ? '' : ', dead'}` : 'no process the kernel names';
  const said = (t: string) => fill(t.replace(/\{offset\}/g, w.offset === null ? '?' : `0x${w.offset.toString(16)}`).replace(/\{holder\}/g, holder), rec, k.match ?? null);
  return { program: k.program, owner: k.owner, says: said(rule.says), ...(rule.advice ? { advice: said(rule.advice) } : {}) };
}
