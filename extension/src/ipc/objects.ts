// Operations on one object: open a segment for reading and writing, semaphore operations,
// message peeks, create and remove. Arguments are normalised here so the native module sees only
// canonical input, and every failure leaves as an IpcError with a sentence for the user.
import { existsSync, lstatSync } from 'node:fs';
import { native, userError, type ErrorContext } from './errors';
import { binding, type RawPosixSem, type RawPosixShm, type RawShmSegment, type RawWait } from './native';
import { isoTime, readSysv, userName } from './procfs';
import { openRegion, RegionHandle } from './regions';
import { describeTarget, parseTarget, type Target } from './target';
import type { ByteSource, SemRecord } from './types';

const asTarget = (t: Target | string): Target => (typeof t === 'string' ? parseTarget(t) : t);
const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/** "mode 0600, owner alice" of an object, for permission errors; undefined when unknown. */
function ownerOf(t: Target): string | undefined {
  try {
    if (t.kind === 'shm' || t.kind === 'sem' || t.kind === 'msg') {
      const idColumn = t.kind === 'shm' ? 'shmid' : t.kind === 'sem' ? 'semid' : 'msqid';
      const row = readSysv(t.kind).find((r) => r[idColumn] === t.id);
      return row ? `mode ${octal(row.perms!)}, owner ${userName(row.uid!)}` : undefined;
    }
    if (t.kind === 'memfd' || t.kind === 'anon' || t.kind === 'unlinked' || t.kind === 'ring') return undefined;
    const file =
      t.kind === 'file' ? t.path : t.kind === 'posix-shm' ? `/dev/shm${t.name}` : t.kind === 'posix-sem' ? `/dev/shm/sem.${t.name.slice(1)}` : `/dev/mqueue${t.name}`;
    // lstat: a symlink's target (/etc/shadow) must not lend the object its owner.
    const st = lstatSync(file);
    return st.isFile() ? `mode ${octal(st.mode)}, owner ${userName(st.uid)}` : undefined;
  } catch {
    return undefined;
  }
}

function ctx(action: string, t: Target, extra: Partial<ErrorContext> = {}): ErrorContext {
  return { action, object: describeTarget(t), owner: () => ownerOf(t), ...extra };
}

// ---------------------------------------------------------------------------------------------
// Shared memory: System V segments and POSIX objects behind one handle.

/** An open segment or POSIX shared memory object. Read-only unless opened read-write. */
export interface ShmHandle extends ByteSource {
  readonly target: Target;
  readonly readOnly: boolean;
  /** Current size: fixed for a System V segment, re-read for a POSIX object. */
  readonly size: number;
  /** Reads [offset, offset+length); ERANGE past the end. Shorter only if a POSIX object shrank meanwhile. */
  read(offset: number, length: number): Uint8Array;
  /** Fills `target` from `offset` (fewer bytes at the end); returns how many were read. No allocation. */
  readInto(target: Uint8Array, offset: number): number;
  /** Writes bytes at offset; EROFS on a read-only handle, ERANGE past the end. */
  write(offset: number, bytes: Uint8Array): void;
  /** Whether the object still exists under its name or id (a removed one stays readable while open). */
  status(): { size: number; removed: boolean };
  close(): void;
}

/** What both native handles offer; the subclasses add size and status. */
type RawBytes = Pick<RawShmSegment, 'read' | 'readInto' | 'write'>;

abstract class BaseShmHandle<R extends RawBytes & { readonly readOnly: boolean }> implements ShmHandle {
  constructor(
    readonly target: Target,
    protected readonly raw: R,
  ) {}
  abstract readonly size: number;
  abstract status(): { size: number; removed: boolean };
  abstract close(): void;
  get readOnly() {
    return this.raw.readOnly;
  }
  read(offset: number, length: number): Uint8Array {
    return native(() => ctx('reading', this.target), () => this.raw.read(offset, length));
  }
  readInto(buf: Uint8Array, offset: number): number {
    return native(() => ctx('reading', this.target), () => this.raw.readInto(buf, offset));
  }
  write(offset: number, bytes: Uint8Array): void {
    native(() => ctx('writing', this.target), () => this.raw.write(offset, bytes));
  }
}

class SysvShmHandle extends BaseShmHandle<RawShmSegment> {
  get size() {
    return this.raw.size;
  }
  status() {
    try {
      const st = this.raw.stat();
      return { size: st.size, removed: st.removed };
    } catch {
      return { size: this.raw.size, removed: true };
    }
  }
  close() {
    this.raw.detach();
  }
}

class PosixShmHandle extends BaseShmHandle<RawPosixShm> {
  get size() {
    return native(() => ctx('reading', this.target), () => this.raw.size());
  }
  status() {
    const st = native(() => ctx('reading', this.target), () => this.raw.stat());
    return { size: st.size, removed: st.links === 0 };
  }
  close() {
    this.raw.close();
  }
}

/** Opens a segment (`shm:`/`key:`) or POSIX object (`posix:`) for reading, or read-write when asked. */
export function openShm(target: Target | string, opts: { readWrite?: boolean } = {}): ShmHandle {
  const t = typeof target === 'string' ? parseTarget(target, 'shm') : target;
  const rw = opts.readWrite === true;
  const raw = binding();
  if (t.kind === 'shm') {
    return new SysvShmHandle(t, native(ctx('attaching', t), () => new raw.ShmSegment(t.id, rw)));
  }
  if (t.kind === 'posix-shm') {
    return new PosixShmHandle(t, native(ctx('opening', t), () => new raw.PosixShm(t.name, rw, false, false, 0)));
  }
  if (t.kind === 'memfd' || t.kind === 'anon' || t.kind === 'file' || t.kind === 'unlinked' || t.kind === 'ring') {
    throw userError('EINVAL', 'open', `${describeTarget(t)} has no name to open: it is read through a process that maps or holds it`);
  }
  throw userError('EINVAL', 'open', `${describeTarget(t)} holds no bytes to read: open a segment, a POSIX shared memory object, a memfd, an anonymous region or a file`);
}

/**
 * Opens any object that holds bytes: a segment or POSIX object as openShm does, and a memfd,
 * shared anonymous region or mapped file (found by scanning /proc, off the JS thread).
 */
export async function openObject(target: Target | string, opts: { readWrite?: boolean } = {}): Promise<ShmHandle> {
  const t = typeof target === 'string' ? parseTarget(target, 'shm') : target;
  if (t.kind === 'memfd' || t.kind === 'anon' || t.kind === 'file' || t.kind === 'unlinked' || t.kind === 'ring') return openRegion(t, opts.readWrite === true);
  return openShm(t, opts);
}

/**
 * How a schema's `segment … for` names this object: a System V segment by its key (by id when its
 * key is IPC_PRIVATE), a POSIX object by its name.
 */
export function schemaIdentity(
  target: Target | string,
  handle?: ShmHandle,
): { kind: 'key' | 'id' | 'posix' | 'memfd' | 'file' | 'anon'; value: number | string } | undefined {
  const t = asTarget(target);
  if (t.kind === 'posix-shm') return { kind: 'posix', value: t.name };
  if (t.kind === 'file') return { kind: 'file', value: t.path };
  if (t.kind === 'memfd' || t.kind === 'anon' || t.kind === 'unlinked' || t.kind === 'ring') return handle instanceof RegionHandle ? handle.identity : undefined;
  if (t.kind !== 'shm') return undefined;
  const key = native(ctx('reading', t), () => binding().shmStat(t.id)).key | 0; // signed, as the schema compiler keeps keys
  return key === 0 ? { kind: 'id', value: t.id } : { kind: 'key', value: key };
}

/** A read-only byte source over a target, for decoding and dumping. */
export function openSource(targetText: string): Promise<ByteSource & { close(): void }> {
  return openObject(targetText);
}

// ---------------------------------------------------------------------------------------------
// System V semaphores.

export function semGet(id: number): SemRecord {
  const t: Target = { kind: 'sem', id };
  const info = native(ctx('reading', t), () => binding().semInfo(id));
  return {
    kind: 'sem',
    id,
    key: info.key >>> 0,
    uid: info.uid,
    user: userName(info.uid),
    gid: info.gid,
    mode: info.mode,
    cuid: info.cuid,
    cgid: info.cgid,
    nsems: info.nsems,
    values: info.values,
    ncnt: info.ncnt,
    zcnt: info.zcnt,
    pids: info.pids,
    otime: isoTime(info.otime),
    ctime: isoTime(info.ctime),
    unreadable: null,
  };
}

/** Refuses anything but an integer in [min, max] before it reaches the addon (which checks again). */
function checkInt(what: string, n: number, min: number, max: number, syscall = 'semop'): void {
  if (!Number.isInteger(n) || n < min || n > max) throw userError('EINVAL', syscall, `${what} ${n} is not an integer from ${min} to ${max}`);
}

function semNumber(id: number, num: number): Target {
  checkInt('semaphore number', num, 0, 32000);
  return { kind: 'sem', id };
}

/** The row of a System V object in /proc/sysvipc, which anyone may read; ENOENT when absent. */
function sysvRow(t: Target & { kind: 'shm' | 'sem' | 'msg' }) {
  const idColumn = t.kind === 'shm' ? 'shmid' : t.kind === 'sem' ? 'semid' : 'msqid';
  const row = readSysv(t.kind).find((r) => r[idColumn] === t.id);
  if (!row) throw userError('ENOENT', 'stat', `${describeTarget(t)} does not exist`);
  return row;
}

/**
 * How many semaphores set `id` has, without read permission: the kernel lets a user with write
 * permission alone (mode 0602) post, wait and set, so nothing on that path may need IPC_STAT.
 */
export function semCount(id: number): number {
  return sysvRow({ kind: 'sem', id }).nsems!;
}

/** How many messages queue `id` holds now (from /proc/sysvipc/msg: no read permission needed). */
export function msgCount(id: number): number {
  return sysvRow({ kind: 'msg', id }).qnum!;
}

/** Adds `count` (default 1) to semaphore `num` of set `id`. */
export function semPost(id: number, num: number, count = 1): void {
  const t = semNumber(id, num);
  checkInt('count', count, 1, 32767);
  // A post never blocks; past 32767 the kernel answers ERANGE.
  native(() => ctx(`posting to semaphore ${num} of`, t), () => binding().semOp(id, [{ num, op: count }]));
}

/** Sets semaphore `num` of set `id` to `value` (0..32767). */
export function semSetValue(id: number, num: number, value: number): void {
  const t = semNumber(id, num);
  checkInt('value', value, 0, 32767, 'semctl');
  native(ctx(`setting semaphore ${num} of`, t), () => binding().semSetVal(id, num, value));
}

/** Options of a blocking wait: always bounded, optionally cancelled by an AbortSignal. */
export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  count?: number;
}

/** Runs a native wait, wiring the AbortSignal to its cancel, and rewording its errors. */
async function runWait(start: () => RawWait, context: ErrorContext, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw userError('ECANCELED', context.action, `cancelled ${context.action} ${context.object}`);
  const wait = native(context, start);
  const onAbort = () => wait.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await wait.promise;
  } catch (e) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- native() never returns here: it throws e as an IpcError
    throw native(context, () => {
      throw e;
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function checkTimeout(timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 86_400_000) {
    throw userError('EINVAL', 'wait', `timeout ${timeoutMs} ms is not between 0 and 86400000`);
  }
}

/**
 * Takes `count` (default 1) from semaphore `num` of set `id`, waiting up to timeoutMs for it.
 * Tried at once without blocking; only a wait that must block goes to a native thread of its own.
 * Rejects with ETIMEDOUT or ECANCELED (signal aborted).
 */
export async function semWait(id: number, num: number, opts: WaitOptions): Promise<void> {
  const t = semNumber(id, num);
  checkTimeout(opts.timeoutMs);
  checkInt('count', opts.count ?? 1, 1, 32767);
  const ops = [{ num, op: -(opts.count ?? 1) }];
  const c = () => ctx(`waiting on semaphore ${num} of`, t, { timeoutMs: opts.timeoutMs });
  if (native(c, () => binding().semOp(id, ops))) return;
  await runWait(() => binding().semOpAsync(id, ops, opts.timeoutMs), c(), opts.signal);
}

// ---------------------------------------------------------------------------------------------
// POSIX named semaphores.

function withPosixSem<T>(name: string, action: string, use: (s: RawPosixSem) => T): T {
  const t: Target = { kind: 'posix-sem', name };
  const s = native(ctx(action, t), () => new (binding().PosixSem)(name, false, false, 0, 0));
  try {
    return native(ctx(action, t), () => use(s));
  } finally {
    s.close();
  }
}

export function psemValue(name: string): number {
  return withPosixSem(name, 'reading', (s) => s.value());
}

export function psemPost(name: string): void {
  withPosixSem(name, 'posting to', (s) => s.post());
}

export async function psemWait(name: string, opts: WaitOptions): Promise<void> {
  checkTimeout(opts.timeoutMs);
  const t: Target = { kind: 'posix-sem', name };
  const c = ctx('waiting on', t, { timeoutMs: opts.timeoutMs });
  const s = native(c, () => new (binding().PosixSem)(name, false, false, 0, 0));
  try {
    if (native(c, () => s.tryWait())) return;
    await runWait(() => s.wait(opts.timeoutMs), c, opts.signal);
  } finally {
    s.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Message queues.

/** Copies message `index` (0 = oldest) of queue `id`; the queue is left as it was. */
export function msgPeek(id: number, index: number): { type: number; data: Uint8Array } {
  const t: Target = { kind: 'msg', id };
  return native(ctx(`peeking at message ${index} of`, t), () => binding().msgPeek(id, index));
}

export function msgSend(id: number, type: number, data: Uint8Array): void {
  const t: Target = { kind: 'msg', id };
  native(ctx('sending to', t), () => binding().msgSend(id, type, data));
}

// ---------------------------------------------------------------------------------------------
// Create and remove.

const DEFAULT_MODE = 0o600;

function keyTarget(kind: 'shm' | 'sem' | 'msg', key: number) {
  return { action: 'creating', object: `${kind === 'shm' ? 'a segment' : kind === 'sem' ? 'a semaphore set' : 'a message queue'}${key ? ` with key 0x${key.toString(16)}` : ''}` };
}

/** Creates a segment (IPC_CREAT|IPC_EXCL; key 0 = private); returns its id. */
export function createShm(o: { key: number; size: number; mode?: number }): number {
  return native(keyTarget('shm', o.key), () => binding().shmGet(o.key, o.size, o.mode ?? DEFAULT_MODE, true, true));
}

/** Creates a semaphore set, with initial values when given; returns its id. */
export function createSemSet(o: { key: number; nsems: number; mode?: number; values?: number[] }): number {
  const c = keyTarget('sem', o.key);
  checkInt('number of semaphores', o.nsems, 1, 32000, 'semget');
  if (o.values) {
    if (o.values.length !== o.nsems) throw userError('EINVAL', 'semctl', `a set of ${o.nsems} semaphore(s) needs ${o.nsems} initial value(s), not ${o.values.length}`);
    o.values.forEach((v, i) => checkInt(`initial value ${i}:`, v, 0, 32767, 'semctl'));
  }
  const id = native(c, () => binding().semGet(o.key, o.nsems, o.mode ?? DEFAULT_MODE, true, true));
  if (o.values) {
    try {
      native(c, () => binding().semSetAll(id, o.values!));
    } catch (e) {
      binding().semRemove(id);
      throw e;
    }
  }
  return id;
}

export function createMsgQueue(o: { key: number; mode?: number }): number {
  return native(keyTarget('msg', o.key), () => binding().msgGet(o.key, o.mode ?? DEFAULT_MODE, true, true));
}

export function createPosixShm(o: { name: string; size: number; mode?: number }): void {
  const t: Target = { kind: 'posix-shm', name: o.name };
  const raw = binding();
  const obj = native(ctx('creating', t), () => new raw.PosixShm(o.name, true, true, true, o.mode ?? DEFAULT_MODE));
  try {
    native(ctx('sizing', t), () => obj.truncate(o.size));
  } catch (e) {
    raw.posixShmUnlink(o.name);
    throw e;
  } finally {
    obj.close();
  }
}

export function createPosixSem(o: { name: string; value: number; mode?: number }): void {
  const t: Target = { kind: 'posix-sem', name: o.name };
  const s = native(ctx('creating', t), () => new (binding().PosixSem)(o.name, true, true, o.mode ?? DEFAULT_MODE, o.value));
  s.close();
}

export function createPosixMq(o: { name: string; maxMessages: number; messageSize: number; mode?: number }): void {
  const t: Target = { kind: 'posix-mq', name: o.name };
  native(ctx('creating', t), () => binding().mqCreate(o.name, o.mode ?? DEFAULT_MODE, o.maxMessages, o.messageSize, true));
}

/** Removes an object (IPC_RMID or unlink). A segment still attached goes when its last user detaches. */
export function remove(target: Target | string): void {
  const t = asTarget(target);
  const raw = binding();
  native(ctx('removing', t), () => {
    switch (t.kind) {
      case 'shm':
        return raw.shmRemove(t.id);
      case 'sem':
        return raw.semRemove(t.id);
      case 'msg':
        return raw.msgRemove(t.id);
      case 'posix-shm':
        return raw.posixShmUnlink(t.name);
      case 'posix-sem':
        return raw.posixSemUnlink(t.name);
      case 'posix-mq':
        return raw.mqUnlink(t.name);
      case 'memfd':
      case 'anon':
      case 'file':
      case 'unlinked':
      case 'ring':
        throw userError('EINVAL', 'remove', `${describeTarget(t)} cannot be removed: it goes when the last process that maps or holds it does${t.kind === 'file' ? ' (delete the file itself with rm)' : ''}`);
    }
  });
}

/** Whether the object exists now. */
export function exists(target: Target): boolean {
  switch (target.kind) {
    case 'shm':
      return readSysv('shm').some((r) => r.shmid === target.id);
    case 'sem':
      return readSysv('sem').some((r) => r.semid === target.id);
    case 'msg':
      return readSysv('msg').some((r) => r.msqid === target.id);
    case 'posix-shm':
      return existsSync(`/dev/shm${target.name}`);
    case 'posix-sem':
      return existsSync(`/dev/shm/sem.${target.name.slice(1)}`);
    case 'posix-mq':
      return existsSync(`/dev/mqueue${target.name}`);
    case 'file':
      return existsSync(target.path);
    case 'memfd':
    case 'anon':
    case 'unlinked':
    case 'ring':
      return true; // only a scan of /proc can tell: the listing says
  }
}
