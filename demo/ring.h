/*
 * ring.h: the layout the demo producer and consumer share, byte for byte the one that
 * demo/workspace/ring.shms describes (DESIGN.md section 4).
 *
 * Shared memory is attached at a different address in every process, so nothing in it is a
 * pointer: the header says where the statistics are as an offset from the segment start.
 */
#ifndef SHMSCOPE_DEMO_RING_H
#define SHMSCOPE_DEMO_RING_H

#include <stddef.h>
#include <stdint.h>

/* Every System V object of the demo uses this key: its hex digits 52 49 4E 47 are the ASCII codes
 * of "RING", so `ipcs` shows something recognisable. One key for the segment, the semaphore set
 * and the message queue is what ftok() users get too: System V keeps one namespace per kind. */
#ifndef RING_KEY /* -DRING_KEY=… and -DDEMO_POSIX_NAME=… let tests run a private instance */
#define RING_KEY 0x52494E47
#endif

/* POSIX names: a small status object in /dev/shm and a named semaphore guarding it. */
#ifndef DEMO_POSIX_NAME
#define DEMO_POSIX_NAME "/shmscope-demo"
#endif
#define DEMO_POSIX_SHM DEMO_POSIX_NAME
#define DEMO_POSIX_SEM DEMO_POSIX_NAME

#define RING_MAGIC 0x474E4952u /* the bytes "RING" in memory on a little-endian machine */
#define RING_VERSION 3
#define RING_CAPACITY 16u      /* slots */
#define RING_SLOT_SIZE 64u

/* The two semaphores of the set: how many slots the producer may fill, how many the consumer
 * may read. free + used == capacity whenever nobody is between two semop() calls. */
enum { SEM_FREE = 0, SEM_USED = 1, SEM_COUNT = 2 };

/* The consumer takes this many slots per semop(), so the ring's valid region visibly grows and
 * shrinks, and the consumer is usually seen waiting (ncnt = 1 on the "used" semaphore). */
#define CONSUMER_BATCH 8

enum State { STATE_IDLE = 0, STATE_RUNNING = 1, STATE_STOPPED = 2 };

struct Header {
    uint32_t magic;     /* RING_MAGIC */
    uint16_t version;   /* RING_VERSION */
    uint16_t flags;
    uint32_t capacity;  /* number of slots */
    uint32_t slot_size; /* bytes per slot */
    uint64_t head;      /* next write index (counts forever; slot = head % capacity) */
    uint64_t tail;      /* next read index, advanced by the consumer */
    uint32_t seq;       /* seqlock: odd while the producer writes */
    uint32_t crc;       /* CRC-32 (zlib's) over all slots */
    uint32_t state;     /* enum State, stored as 32 bits as the schema says */
    /* 4 bytes of padding here: the next member is 8-byte aligned */
    uint64_t stats;     /* offset of struct Stats from the segment start */
};

struct Stats {
    uint64_t produced;
    uint64_t dropped; /* messages not written because the ring was full */
};

struct Slot {
    uint64_t t_ns; /* CLOCK_REALTIME in nanoseconds */
    uint32_t len;  /* bytes used in text */
    char text[52];
};

/* Where things are in the segment. */
#define RING_SLOTS_OFFSET 64u
#define RING_STATS_OFFSET (RING_SLOTS_OFFSET + RING_CAPACITY * RING_SLOT_SIZE)
#define RING_SEGMENT_SIZE 4096u

/* The compiler checks the layout that ring.shms states; `producer --layout` prints it. */
_Static_assert(sizeof(struct Header) == 56, "Header is 56 bytes, as ring.shms asserts");
_Static_assert(offsetof(struct Header, head) == 16, "head at 16");
_Static_assert(offsetof(struct Header, seq) == 32, "seq at 32");
_Static_assert(offsetof(struct Header, stats) == 48, "stats at 48");
_Static_assert(sizeof(struct Slot) == RING_SLOT_SIZE, "a slot is 64 bytes");
_Static_assert(sizeof(struct Stats) == 16, "Stats is 16 bytes");
_Static_assert(RING_STATS_OFFSET + sizeof(struct Stats) <= RING_SEGMENT_SIZE, "everything fits");

/* The small struct in the POSIX shared memory object. */
struct DemoStatus {
    char name[16];        /* "shmscope-demo" */
    int32_t producer_pid;
    uint32_t ticks;       /* incremented on every write */
    uint64_t started_ns;  /* CLOCK_REALTIME when the producer started */
};

#endif
