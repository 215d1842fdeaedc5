// glibc's process-shared primitives (x86-64, NPTL) as built-in schema types, and the decoder of
// their state. The layouts are glibc's public ones (bits/struct_mutex.h, struct_rwlock.h,
// thread-shared-types.h, and the internal sem_t and pthread_barrier_t they overlay); a test lays
// each out with gcc and compares. The bit meanings are those gdb's NPTL pretty-printers use:
// FUTEX_WAITERS and FUTEX_OWNER_DIED in a robust or PI mutex's lock word, the owner TID beside
// them, the kind bits, the rwlock's phase bits and the condition variable's waiter references.
//
// Pure: no /proc access here. Who a TID is (process, thread name, alive) comes from a lookup the
// caller passes in (the CLI and the editor build it from one thread scan).
import type { Range } from './lexer';
import type { ArrayType, Field, IntType, PointerType, StructType, Type } from './types';

/** Which primitive a built-in struct is; `futex` is a `[[futex]]` uint32_t word. */
export type PrimitiveKind = 'mutex' | 'cond' | 'rwlock' | 'barrier' | 'spinlock' | 'sem' | 'futex';

// Linux futex word bits (linux/futex.h).
export const FUTEX_WAITERS = 0x8000_0000;
export const FUTEX_OWNER_DIED = 0x4000_0000;
export const FUTEX_TID_MASK = 0x3fff_ffff;
// glibc's mutex kind bits (pthreadP.h) and owner cookies.
const KIND_MASK = 3;
const ROBUST = 16;
const PRIO_INHERIT = 32;
const PRIO_PROTECT = 64;
const PSHARED = 128;
const ELISION = 256;
const PRIO_CEILING_MASK = 0xfff8_0000;
export const MUTEX_INCONSISTENT = 0x7fff_ffff;
export const MUTEX_NOTRECOVERABLE = 0x7fff_fffe;
// rwlock __readers bits; condvar __wrefs bits.
const RW_WRPHASE = 1;
const RW_WRLOCKED = 2;
const RW_READER_SHIFT = 3;
const COND_SHARED = 1;
const COND_MONOTONIC = 2;
const COND_WREFS_SHIFT = 3;

const NO_RANGE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

function int(name: string, size: number, signed: boolean): IntType {
  return { k: 'int', name, size, align: size, signed };
}
const u32 = int('unsigned int', 4, false);
const i32 = int('int', 4, true);
const i16 = int('short', 2, true);
const u64 = int('unsigned long', 8, false);
const i8 = int('signed char', 1, true);
const u8 = int('unsigned char', 1, false);
const ptr: PointerType = { k: 'pointer', name: 'struct __pthread_internal_list*', size: 8, align: 8 };
const arr = (elem: IntType, count: number): ArrayType => ({ k: 'array', name: `${elem.name}[${count}]`, elem, count, size: elem.size * count, align: elem.align });

function struct(name: string, size: number, align: number, members: [string, Type, number][], primitive?: PrimitiveKind): StructType {
  let end = 0;
  const fields: Field[] = members.map(([fname, type, offset]) => {
    const f: Field = {
      name: fname, type, offset, size: type.size, align: type.align, endian: 'le', attrs: [], range: NO_RANGE, nameRange: NO_RANGE,
      paddingBefore: Math.max(0, offset - end), anonymous: false,
    };
    end = offset + type.size;
    return f;
  });
  return { k: 'struct', name, union: false, fields, size, align, dynamic: false, tailPadding: size - end, primitive };
}

/** The built-in primitive types by the names C code uses for them. */
export function primitiveTypes(): Map<string, StructType> {
  const list = struct('__pthread_list_t', 16, 8, [['__prev', ptr, 0], ['__next', ptr, 8]]);
  const m = new Map<string, StructType>();
  m.set('pthread_mutex_t', struct('pthread_mutex_t', 40, 8, [
    ['__lock', i32, 0], ['__count', u32, 4], ['__owner', i32, 8], ['__nusers', u32, 12], ['__kind', i32, 16],
    ['__spins', i16, 20], ['__elision', i16, 22], ['__list', list, 24],
  ], 'mutex'));
  m.set('pthread_cond_t', struct('pthread_cond_t', 48, 8, [
    ['__wseq', u64, 0], ['__g1_start', u64, 8], ['__g_refs', arr(u32, 2), 16], ['__g_size', arr(u32, 2), 24],
    ['__g1_orig_size', u32, 32], ['__wrefs', u32, 36], ['__g_signals', arr(u32, 2), 40],
  ], 'cond'));
  m.set('pthread_rwlock_t', struct('pthread_rwlock_t', 56, 8, [
    ['__readers', u32, 0], ['__writers', u32, 4], ['__wrphase_futex', u32, 8], ['__writers_futex', u32, 12],
    ['__pad3', u32, 16], ['__pad4', u32, 20], ['__cur_writer', i32, 24], ['__shared', i32, 28], ['__rwelision', i8, 32],
    ['__pad1', arr(u8, 7), 33], ['__pad2', u64, 40], ['__flags', u32, 48],
  ], 'rwlock'));
  // The public type is a 32-byte union; glibc's struct pthread_barrier fills its first 20 bytes.
  m.set('pthread_barrier_t', struct('pthread_barrier_t', 32, 8, [
    ['in', u32, 0], ['current_round', u32, 4], ['count', u32, 8], ['shared', i32, 12], ['out', u32, 16],
  ], 'barrier'));
  m.set('pthread_spinlock_t', struct('pthread_spinlock_t', 4, 4, [['lock', i32, 0]], 'spinlock'));
  // x86-64 has 64-bit atomics: struct new_sem { uint64_t data (value | nwaiters << 32); int private; int pad; }.
  m.set('sem_t', struct('sem_t', 32, 8, [['value', u32, 0], ['nwaiters', u32, 4], ['private', i32, 8], ['pad', i32, 12]], 'sem'));
  return m;
}

/** What the decoder knows of a thread named by TID. */
export interface ThreadInfo {
  pid: number;
  /** The thread's TID in our PID namespace, when the TID looked up was counted in another (a container's). */
  tid?: number;
  /** The thread's name (comm). */
  name: string;
  alive: boolean;
}
/** TID → thread; undefined when the TID is not on the machine now (then it is taken as dead). */
export type ThreadLookup = (tid: number) => ThreadInfo | undefined;

/** The decoded state of a primitive, as JSON (the CLI's `decode --json`) and as one line of text. */
export interface LockState {
  primitive: PrimitiveKind;
  /** Mutex, rwlock (write), spinlock. */
  locked?: boolean;
  /** The TID holding it (a mutex's owner, an rwlock's writer); absent when unknown or free. */
  owner?: number;
  ownerPid?: number;
  ownerName?: string;
  ownerAlive?: boolean;
  /** Mutex: someone may be blocked in the kernel on it. Semaphore/condvar: a count. */
  waiters?: boolean | number;
  type?: 'normal' | 'recursive' | 'errorcheck' | 'adaptive';
  robust?: boolean;
  shared?: boolean;
  protocol?: 'none' | 'inherit' | 'protect';
  /** A robust mutex whose owner died holding it (the kernel set FUTEX_OWNER_DIED). */
  ownerDied?: boolean;
  /** Taken again after its owner died (EOWNERDEAD), and not yet made consistent. */
  inconsistent?: boolean;
  notRecoverable?: boolean;
  /** Recursive mutex: times locked by the owner. */
  count?: number;
  value?: number;
  readers?: number;
  /** Barrier: threads expected, threads arrived in this round. */
  expected?: number;
  arrived?: number;
  /** A word that cannot be this primitive (e.g. an uninitialised mutex with impossible kind bits). */
  invalid?: string;
  text: string;
}

const TYPES = ['normal', 'recursive', 'errorcheck', 'adaptive'] as const;

/** True when a mutex's kind word is one glibc can produce (a heuristic for unknown memory). */
export function plausibleMutexKind(kind: number): boolean {
  return kind >= 0 && (kind & ~(KIND_MASK | ROBUST | PRIO_INHERIT | PRIO_PROTECT | PSHARED | ELISION | 0x200)) === 0;
}

function who(tid: number, threads?: ThreadLookup): Pick<LockState, 'ownerPid' | 'ownerName' | 'ownerAlive'> & { words: string } {
  const t = threads?.(tid);
  if (!threads) return { words: `TID ${tid}` };
  if (!t) return { ownerAlive: false, words: `TID ${tid} (dead)` };
  const host = t.tid !== undefined && t.tid !== tid ? `host TID ${t.tid}, ` : '';
  return { ownerPid: t.pid, ownerName: t.name, ownerAlive: t.alive, words: `TID ${tid} (${host}pid ${t.pid}, ${t.name}${t.alive ? '' : ', dead'})` };
}

/** Decodes a primitive's bytes (at least its size; shorter gives `invalid`). */
export function lockState(kind: PrimitiveKind, b: Uint8Array, threads?: ThreadLookup): LockState {
  const need = kind === 'mutex' ? 24 : kind === 'cond' ? 48 : kind === 'rwlock' ? 52 : kind === 'barrier' ? 20 : kind === 'sem' ? 12 : 4;
  if (b.length < need) return { primitive: kind, invalid: 'too short', text: '(past the end of the data)' };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u = (o: number) => dv.getUint32(o, true);
  const s = (o: number) => dv.getInt32(o, true);
  switch (kind) {
    case 'mutex': {
      const lock = u(0);
      const count = u(4);
      const ownerField = s(8);
      const kindWord = s(16);
      if (!plausibleMutexKind(kindWord)) return { primitive: kind, invalid: `kind ${kindWord}`, text: `not an initialised mutex (kind ${kindWord})` };
      const robust = (kindWord & ROBUST) !== 0;
      const pi = (kindWord & PRIO_INHERIT) !== 0;
      const pp = (kindWord & PRIO_PROTECT) !== 0;
      const st: LockState = {
        primitive: kind, type: TYPES[kindWord & KIND_MASK], robust, shared: (kindWord & PSHARED) !== 0 || robust,
        protocol: pi ? 'inherit' : pp ? 'protect' : 'none', locked: false, text: '',
      };
      const word = pp && !pi ? lock & ~PRIO_CEILING_MASK : lock;
      let ownerWords = '';
      if (word !== 0) {
        st.locked = true;
        if (robust || pi) {
          st.waiters = (lock & FUTEX_WAITERS) !== 0;
          const tid = lock & FUTEX_TID_MASK;
          if (lock & FUTEX_OWNER_DIED) {
            // The kernel cleared the TID when the owner exited; __owner still names it.
            st.ownerDied = true;
            if (ownerField > 0 && ownerField < MUTEX_NOTRECOVERABLE) st.owner = ownerField;
          } else if (tid) st.owner = tid;
        } else {
          st.waiters = word !== 1;
          if (ownerField > 0 && ownerField < MUTEX_NOTRECOVERABLE) st.owner = ownerField;
        }
      } else if (robust && lock & FUTEX_OWNER_DIED) st.ownerDied = true;
      if (ownerField === MUTEX_NOTRECOVERABLE) st.notRecoverable = true;
      if (ownerField === MUTEX_INCONSISTENT && !st.ownerDied) st.inconsistent = true;
      if (st.owner !== undefined) {
        const w = who(st.owner, threads);
        ownerWords = w.words;
        if (w.ownerPid !== undefined) st.ownerPid = w.ownerPid;
        if (w.ownerName !== undefined) st.ownerName = w.ownerName;
        if (w.ownerAlive !== undefined) st.ownerAlive = w.ownerAlive;
        if (st.ownerDied) st.ownerAlive = false;
      }
      if (st.type === 'recursive' && count > 1) st.count = count;
      const parts: string[] = [];
      if (st.ownerDied) parts.push(`owner died${st.owner !== undefined ? ` (TID ${st.owner})` : ''}`);
      else if (st.locked) parts.push(`locked by ${ownerWords || 'an unknown thread'}`);
      else parts.push('unlocked');
      if (st.locked) parts.push(st.waiters ? 'with waiters' : 'no waiters');
      if (st.inconsistent) parts.push('inconsistent (its previous owner died; pthread_mutex_consistent not called yet)');
      if (st.notRecoverable) parts.push('not recoverable');
      if (st.count) parts.push(`locked ${st.count} times`);
      const attrs = [st.type, st.robust ? 'robust' : '', st.shared ? 'process-shared' : 'private', pi ? 'priority-inherit' : pp ? 'priority-protect' : ''].filter(Boolean);
      st.text = `${parts.join(', ')} · ${attrs.join(', ')}`;
      return st;
    }
    case 'cond': {
      const wrefs = u(36);
      const waiters = wrefs >>> COND_WREFS_SHIFT;
      const shared = (wrefs & COND_SHARED) !== 0;
      return {
        primitive: kind, waiters, shared,
        text: `${waiters} waiter${waiters === 1 ? '' : 's'} · ${shared ? 'process-shared' : 'private'}, ${wrefs & COND_MONOTONIC ? 'CLOCK_MONOTONIC' : 'CLOCK_REALTIME'}`,
      };
    }
    case 'rwlock': {
      const readers = u(0);
      const shared = s(28) !== 0;
      const st: LockState = { primitive: kind, shared, locked: false, readers: 0, text: '' };
      if (readers & RW_WRPHASE) {
        if (readers & RW_WRLOCKED) {
          st.locked = true;
          const w = s(24);
          if (w > 0) {
            st.owner = w;
            const x = who(w, threads);
            Object.assign(st, { ownerPid: x.ownerPid, ownerName: x.ownerName, ownerAlive: x.ownerAlive });
            st.text = `write-locked by ${x.words}`;
          } else st.text = 'write-locked';
        } else st.text = 'unlocked (write phase)';
      } else {
        st.readers = readers >>> RW_READER_SHIFT;
        st.text = st.readers ? `read-locked by ${st.readers} reader${st.readers === 1 ? '' : 's'}` : 'unlocked';
      }
      for (const k of ['ownerPid', 'ownerName', 'ownerAlive'] as const) if (st[k] === undefined) delete st[k];
      st.text += ` · ${shared ? 'process-shared' : 'private'}`;
      return st;
    }
    case 'barrier': {
      const count = u(8);
      const arrived = (u(0) - u(4)) >>> 0;
      const shared = s(12) !== 0;
      return { primitive: kind, expected: count, arrived: arrived <= count ? arrived : undefined, shared, text: `${arrived <= count ? `${arrived} of ` : ''}${count} threads arrived · ${shared ? 'process-shared' : 'private'}` };
    }
    case 'spinlock': {
      // x86-64 glibc counts down: 1 is free, 0 taken, below 0 taken with spinners (`lock decl`).
      const v = s(0);
      if (v > 1) return { primitive: kind, invalid: `value ${v}`, text: `not a spinlock (value ${v})` };
      return { primitive: kind, locked: v !== 1, text: v === 1 ? 'unlocked' : v === 0 ? 'locked' : 'locked, with spinners' };
    }
    case 'sem': {
      const value = u(0) & 0x7fff_ffff;
      const waiters = u(4);
      // glibc's `private` member holds LLL_SHARED (128) for a process-shared semaphore, else LLL_PRIVATE (0).
      const shared = s(8) !== 0;
      return { primitive: kind, value, waiters, shared, text: `value ${value}, ${waiters} waiter${waiters === 1 ? '' : 's'} · ${shared ? 'process-shared' : 'private'}` };
    }
    case 'futex': {
      const v = u(0);
      return { primitive: kind, value: v, text: `futex word ${v}${v & FUTEX_WAITERS ? ' (FUTEX_WAITERS)' : ''}` };
    }
  }
}

/** The size of each primitive (for the heuristics that read memory around a futex address). */
export const PRIMITIVE_SIZE: Record<PrimitiveKind, number> = { mutex: 40, cond: 48, rwlock: 56, barrier: 32, spinlock: 4, sem: 32, futex: 4 };

/** Which member of each primitive a thread blocks on in the kernel (offset of the futex word). */
export function futexWordsOf(kind: PrimitiveKind): { offset: number; role: string }[] {
  switch (kind) {
    case 'mutex':
      return [{ offset: 0, role: 'lock' }];
    case 'cond':
      return [{ offset: 40, role: 'wait' }, { offset: 44, role: 'wait' }, { offset: 16, role: 'wait (group refs)' }, { offset: 20, role: 'wait (group refs)' }];
    case 'rwlock':
      return [{ offset: 0, role: 'read lock' }, { offset: 8, role: 'write phase' }, { offset: 12, role: 'write lock' }];
    case 'barrier':
      return [{ offset: 4, role: 'barrier wait' }];
    case 'sem':
      return [{ offset: 0, role: 'sem wait' }];
    case 'spinlock':
      return [];
    case 'futex':
      return [{ offset: 0, role: 'futex wait' }];
  }
}
