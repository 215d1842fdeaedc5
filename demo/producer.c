/*
 * producer.c: the shmscope demo's producer.
 *
 * Writes a ring buffer (demo/ring.h, described by demo/workspace/ring.shms) into a System V
 * shared memory segment ten times a second, and creates one object of every other kind shmscope
 * shows:
 *   - a System V semaphore set of two semaphores counting free and used slots,
 *   - a System V message queue holding a few messages of different types,
 *   - a POSIX shared memory object with a small status struct,
 *   - a POSIX named semaphore used as a mutex around that struct.
 * On SIGINT or SIGTERM it removes everything it created. It prints "ready" on stdout once every
 * object exists, so a launcher can wait for that line instead of guessing a delay.
 *
 *   cc -std=c11 -O2 -Wall -Wextra -o producer producer.c -pthread
 *   ./producer            run until Ctrl+C
 *   ./producer --layout   print sizes and offsets of the shared structs and exit
 */
#define _GNU_SOURCE /* clock_nanosleep, sigaction and friends under -std=c11 */

#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "stop.h"

/* semctl's fourth argument: the caller must define this union (see semctl(2)). */
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

/* What we created, so cleanup removes exactly that and nothing else. -1 / NULL: not created. */
static int shm_id = -1, sem_id = -1, msg_id = -1;
static void *ring_base;
static int posix_fd = -1;
static struct DemoStatus *status;
static sem_t *status_mutex = SEM_FAILED;

static void cleanup(void) {
    if (ring_base) {
        ((volatile struct Header *)ring_base)->state = STATE_STOPPED;
        shmdt(ring_base);
    }
    /* IPC_RMID on a segment only marks it: it disappears when the last process detaches. */
    if (shm_id >= 0 && shmctl(shm_id, IPC_RMID, NULL) != 0) perror("producer: shmctl(IPC_RMID)");
    /* Removing the semaphore set wakes a consumer blocked in semop() with EIDRM. */
    if (sem_id >= 0 && semctl(sem_id, 0, IPC_RMID) != 0) perror("producer: semctl(IPC_RMID)");
    if (msg_id >= 0 && msgctl(msg_id, IPC_RMID, NULL) != 0) perror("producer: msgctl(IPC_RMID)");
    if (status) munmap(status, sizeof *status);
    if (posix_fd >= 0) {
        close(posix_fd);
        if (shm_unlink(DEMO_POSIX_SHM) != 0) perror("producer: shm_unlink");
    }
    if (status_mutex != SEM_FAILED) {
        sem_close(status_mutex);
        if (sem_unlink(DEMO_POSIX_SEM) != 0) perror("producer: sem_unlink");
    }
}

static void die(const char *what) {
    int err = errno;
    fprintf(stderr, "producer: %s: %s\n", what, strerror(err));
    if (err == EEXIST) {
        fprintf(stderr, "producer: an object of the demo already exists (is another demo running?); "
                        "list them with `shmscope list`\n");
    }
    cleanup();
    exit(1);
}

/* CRC-32 as zlib computes it (reflected polynomial 0xEDB88320), so any tool can verify it. */
static uint32_t crc_table[256];

static void crc32_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32(const volatile unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void print_layout(void) {
    printf("sizeof(struct Header) = %zu\n", sizeof(struct Header));
    printf("offsetof(struct Header, magic) = %zu\n", offsetof(struct Header, magic));
    printf("offsetof(struct Header, version) = %zu\n", offsetof(struct Header, version));
    printf("offsetof(struct Header, flags) = %zu\n", offsetof(struct Header, flags));
    printf("offsetof(struct Header, capacity) = %zu\n", offsetof(struct Header, capacity));
    printf("offsetof(struct Header, slot_size) = %zu\n", offsetof(struct Header, slot_size));
    printf("offsetof(struct Header, head) = %zu\n", offsetof(struct Header, head));
    printf("offsetof(struct Header, tail) = %zu\n", offsetof(struct Header, tail));
    printf("offsetof(struct Header, seq) = %zu\n", offsetof(struct Header, seq));
    printf("offsetof(struct Header, crc) = %zu\n", offsetof(struct Header, crc));
    printf("offsetof(struct Header, state) = %zu\n", offsetof(struct Header, state));
    printf("offsetof(struct Header, stats) = %zu\n", offsetof(struct Header, stats));
    printf("sizeof(struct Slot) = %zu\n", sizeof(struct Slot));
    printf("offsetof(struct Slot, t_ns) = %zu\n", offsetof(struct Slot, t_ns));
    printf("offsetof(struct Slot, len) = %zu\n", offsetof(struct Slot, len));
    printf("offsetof(struct Slot, text) = %zu\n", offsetof(struct Slot, text));
    printf("sizeof(struct Stats) = %zu\n", sizeof(struct Stats));
    printf("offsetof(struct Stats, produced) = %zu\n", offsetof(struct Stats, produced));
    printf("offsetof(struct Stats, dropped) = %zu\n", offsetof(struct Stats, dropped));
    printf("slots offset = %u\n", RING_SLOTS_OFFSET);
    printf("stats offset = %u\n", RING_STATS_OFFSET);
    printf("segment size = %u\n", RING_SEGMENT_SIZE);
}

/* A few messages of different types, left in the queue for `Peek Messages` (which never
 * consumes them: it uses msgrcv(MSG_COPY)). */
static void fill_queue(void) {
    struct {
        long mtype; /* must be > 0; receivers can select by type */
        char mtext[64];
    } m;
    static const struct {
        long type;
        const char *text;
    } texts[] = {
        {1, "config: capacity=16 slot_size=64 rate=10Hz"},
        {2, "hello from the shmscope demo producer"},
        {7, "urgent: type 7 sorts after the others in msgrcv(-7)"},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        m.mtype = texts[i].type;
        size_t len = strlen(texts[i].text);
        memcpy(m.mtext, texts[i].text, len);
        if (msgsnd(msg_id, &m, len, IPC_NOWAIT) != 0) die("msgsnd");
    }
    /* And one binary message: our pid and the ring key as two little-endian uint32. */
    uint32_t bin[2] = {(uint32_t)getpid(), RING_KEY};
    m.mtype = 3;
    memcpy(m.mtext, bin, sizeof bin);
    if (msgsnd(msg_id, &m, sizeof bin, IPC_NOWAIT) != 0) die("msgsnd");
}

static void create_objects(void) {
    /* IPC_EXCL: never adopt an object someone else made with our key. 0644: others may look. */
    shm_id = shmget(RING_KEY, RING_SEGMENT_SIZE, IPC_CREAT | IPC_EXCL | 0644);
    if (shm_id < 0) die("shmget (segment key 0x52494E47)");
    ring_base = shmat(shm_id, NULL, 0);
    if (ring_base == (void *)-1) {
        ring_base = NULL;
        die("shmat");
    }
    /* A new segment is zero-filled; fill in the header. */
    volatile struct Header *h = ring_base;
    h->magic = RING_MAGIC;
    h->version = RING_VERSION;
    h->flags = 0;
    h->capacity = RING_CAPACITY;
    h->slot_size = RING_SLOT_SIZE;
    h->stats = RING_STATS_OFFSET;
    h->crc = crc32((const volatile unsigned char *)ring_base + RING_SLOTS_OFFSET,
                   RING_CAPACITY * RING_SLOT_SIZE);
    h->state = STATE_IDLE;

    sem_id = semget(RING_KEY, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0644);
    if (sem_id < 0) die("semget (key 0x52494E47)");
    unsigned short initial[SEM_COUNT] = {[SEM_FREE] = RING_CAPACITY, [SEM_USED] = 0};
    if (semctl(sem_id, 0, SETALL, (union semun){.array = initial}) != 0) die("semctl(SETALL)");

    msg_id = msgget(RING_KEY, IPC_CREAT | IPC_EXCL | 0644);
    if (msg_id < 0) die("msgget (key 0x52494E47)");
    fill_queue();

    /* POSIX shared memory is a file in /dev/shm: open, size, map. */
    posix_fd = shm_open(DEMO_POSIX_SHM, O_CREAT | O_EXCL | O_RDWR, 0644);
    if (posix_fd < 0) die("shm_open(" DEMO_POSIX_SHM ")");
    if (ftruncate(posix_fd, sizeof *status) != 0) die("ftruncate");
    void *p = mmap(NULL, sizeof *status, PROT_READ | PROT_WRITE, MAP_SHARED, posix_fd, 0);
    if (p == MAP_FAILED) die("mmap");
    status = p;
    snprintf(status->name, sizeof status->name, "shmscope-demo");
    status->producer_pid = (int32_t)getpid();
    status->started_ns = now_ns();

    /* A named semaphore is /dev/shm/sem.NAME. Value 1: a mutex around *status. */
    status_mutex = sem_open(DEMO_POSIX_SEM, O_CREAT | O_EXCL, 0644, 1);
    if (status_mutex == SEM_FAILED) die("sem_open(" DEMO_POSIX_SEM ")");
}

/* One message into the ring, under the seqlock. Returns 0, or -1 when the ring is full. */
static int produce(uint64_t n) {
    volatile struct Header *h = ring_base;
    volatile struct Stats *st = (volatile struct Stats *)((char *)ring_base + h->stats);

    /* Take a free slot without blocking: a producer of live data drops rather than waits. */
    struct sembuf take = {.sem_num = SEM_FREE, .sem_op = -1, .sem_flg = IPC_NOWAIT};
    int full = 0;
    if (semop(sem_id, &take, 1) != 0) {
        if (errno != EAGAIN) return -2; /* EIDRM/EINVAL: someone removed the set */
        full = 1;
    }

    /* Seqlock: readers copy the data and retry if seq was odd or changed meanwhile. The fences
     * keep the compiler and CPU from moving the data writes outside the odd window. */
    h->seq = h->seq + 1;
    atomic_thread_fence(memory_order_release);
    if (full) {
        st->dropped = st->dropped + 1;
    } else {
        volatile struct Slot *s =
            (volatile struct Slot *)((char *)ring_base + RING_SLOTS_OFFSET) + h->head % RING_CAPACITY;
        char text[sizeof s->text];
        memset(text, 0, sizeof text);
        int len = snprintf(text, sizeof text, "message %llu from pid %d", (unsigned long long)n, (int)getpid());
        s->t_ns = now_ns();
        s->len = (uint32_t)len;
        for (size_t i = 0; i < sizeof text; i++) s->text[i] = text[i];
        h->head = h->head + 1;
        st->produced = st->produced + 1;
        h->crc = crc32((const volatile unsigned char *)ring_base + RING_SLOTS_OFFSET,
                       RING_CAPACITY * RING_SLOT_SIZE);
    }
    atomic_thread_fence(memory_order_release);
    h->seq = h->seq + 1;

    if (full) return -1;
    /* Tell the consumer: one more used slot. */
    struct sembuf give = {.sem_num = SEM_USED, .sem_op = +1, .sem_flg = 0};
    if (semop(sem_id, &give, 1) != 0) return -2;
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--layout") == 0) {
        print_layout();
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: producer [--layout]\n");
        return 2;
    }

    stop_on_signals(); /* a signal ends a sleep or a semop() with EINTR (stop.h) */

    crc32_init();
    create_objects();
    ((volatile struct Header *)ring_base)->state = STATE_RUNNING;
    printf("ready: segment %d, semaphore set %d, message queue %d\n", shm_id, sem_id, msg_id);
    fflush(stdout);

    /* 10 Hz on absolute deadlines, so the rate does not drift with the time spent writing. */
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (uint64_t n = 1; !stop_requested; n++) {
        if (produce(n) == -2) {
            fprintf(stderr, "producer: the semaphore set was removed; stopping\n");
            break;
        }
        if (sem_wait(status_mutex) == 0) {
            status->ticks++;
            sem_post(status_mutex);
        }
        next.tv_nsec += 100 * 1000 * 1000;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
    }
    cleanup();
    return 0;
}
