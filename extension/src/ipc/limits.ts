// Kernel limits on IPC objects and their current use (the explorer's Limits group).
import { statfs } from 'node:fs/promises';
import { readSysctl, readSysv } from './procfs';
import type { Limit } from './types';

const PAGE = 4096;

/**
 * A limit as users read it: the kernel says "no limit" with a value near 2^64 (shmmax and shmall
 * default to ULONG_MAX - 2^24), which a number cannot even hold exactly.
 */
export function limitValue(value: number | string): number | string {
  return typeof value === 'number' && !Number.isSafeInteger(value) ? 'no limit' : value;
}

export async function limits(): Promise<Limit[]> {
  const shm = readSysv('shm');
  const sem = readSysv('sem');
  const msg = readSysv('msg');
  const one = (file: string) => readSysctl(file)?.[0];
  const out: Limit[] = [];
  const add = (name: string, value: number | string | undefined, used: number | null, description: string) => {
    if (value !== undefined) out.push({ name, value: limitValue(value), used, description });
  };
  add('shmmni', one('/proc/sys/kernel/shmmni'), shm.length, 'System V segments, at most');
  add('shmmax', one('/proc/sys/kernel/shmmax'), null, 'bytes in one segment, at most');
  add(
    'shmall',
    one('/proc/sys/kernel/shmall'),
    shm.reduce((a, r) => a + Math.ceil(r.size! / PAGE), 0),
    'pages in all segments together, at most',
  );
  const [semmsl, semmns, semopm, semmni] = readSysctl('/proc/sys/kernel/sem') ?? [];
  add('semmni', semmni, sem.length, 'semaphore sets, at most');
  add('semmns', semmns, sem.reduce((a, r) => a + r.nsems!, 0), 'semaphores in all sets together, at most');
  add('semmsl', semmsl, null, 'semaphores in one set, at most');
  add('semopm', semopm, null, 'operations in one semop call, at most');
  add('msgmni', one('/proc/sys/kernel/msgmni'), msg.length, 'System V message queues, at most');
  add('msgmax', one('/proc/sys/kernel/msgmax'), null, 'bytes in one message, at most');
  add('msgmnb', one('/proc/sys/kernel/msgmnb'), null, 'bytes in one queue, by default');
  add('mqueue.queues_max', one('/proc/sys/fs/mqueue/queues_max'), null, 'POSIX message queues, at most');
  add('mqueue.msg_max', one('/proc/sys/fs/mqueue/msg_max'), null, 'messages in one POSIX queue, at most');
  add('mqueue.msgsize_max', one('/proc/sys/fs/mqueue/msgsize_max'), null, 'bytes in one POSIX message, at most');
  try {
    const fs = await statfs('/dev/shm');
    add('/dev/shm', fs.blocks * fs.bsize, (fs.blocks - fs.bfree) * fs.bsize, 'bytes of POSIX shared memory (tmpfs size)');
  } catch {
    /* no /dev/shm */
  }
  return out;
}
