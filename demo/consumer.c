/*
 * consumer.c: the shmscope demo's consumer.
 *
 * Attaches to the producer's ring (demo/ring.h) and its semaphore set, then loops: block in
 * semop() until CONSUMER_BATCH slots are used, read them at `tail`, advance `tail`, and give the
 * slots back on the "free" semaphore. While it waits, shmscope shows it in the semaphore's ncnt
 * ("processes waiting for the value to increase").
 *
 * It exits when the producer removes the semaphore set (semop fails with EIDRM) or on
 * SIGINT/SIGTERM. It creates nothing, so it has nothing to remove.
 *
 *   cc -std=c11 -O2 -Wall -Wextra -o consumer consumer.c
 */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "ring.h"
#include "stop.h"

int main(void) {
    stop_on_signals(); /* a signal ends a sleep or a semop() with EINTR (stop.h) */

    /* Size 0 and no IPC_CREAT: find the producer's objects, never make our own. */
    int shm_id = shmget(RING_KEY, 0, 0);
    int sem_id = semget(RING_KEY, 0, 0);
    if (shm_id < 0 || sem_id < 0) {
        fprintf(stderr, "consumer: no ring with key 0x%08X (%s); start the producer first\n", RING_KEY,
                strerror(errno));
        return 1;
    }
    void *base = shmat(shm_id, NULL, 0); /* read-write: we advance tail */
    if (base == (void *)-1) {
        perror("consumer: shmat");
        return 1;
    }
    volatile struct Header *h = base;
    if (h->magic != RING_MAGIC || h->version != RING_VERSION) {
        fprintf(stderr, "consumer: the segment is not a version %d ring (magic 0x%08X)\n", RING_VERSION,
                (unsigned)h->magic);
        shmdt(base);
        return 1;
    }
    const volatile struct Slot *slots = (const volatile struct Slot *)((char *)base + RING_SLOTS_OFFSET);

    unsigned long long consumed = 0;
    while (!stop_requested) {
        /* Blocks until `used` >= CONSUMER_BATCH, then subtracts it atomically. */
        struct sembuf take = {.sem_num = SEM_USED, .sem_op = -CONSUMER_BATCH, .sem_flg = 0};
        if (semop(sem_id, &take, 1) != 0) {
            if (errno == EINTR) continue; /* a signal: the loop condition decides */
            if (errno == EIDRM || errno == EINVAL) break; /* the producer removed the set: done */
            perror("consumer: semop");
            break;
        }
        char last[sizeof slots[0].text + 1] = {0};
        for (int i = 0; i < CONSUMER_BATCH; i++) {
            /* These slots are ours until we post them back: the producer only writes free ones,
             * so no seqlock retry is needed here. */
            const volatile struct Slot *s = &slots[h->tail % RING_CAPACITY];
            size_t len = s->len < sizeof s->text ? s->len : sizeof s->text;
            for (size_t k = 0; k < len; k++) last[k] = s->text[k];
            last[len] = '\0';
            atomic_thread_fence(memory_order_acquire);
            h->tail = h->tail + 1;
            consumed++;
        }
        struct sembuf give = {.sem_num = SEM_FREE, .sem_op = +CONSUMER_BATCH, .sem_flg = 0};
        if (semop(sem_id, &give, 1) != 0) break;
        printf("consumer: %llu messages read, last \"%s\"\n", consumed, last);
        fflush(stdout);
    }
    shmdt(base);
    return 0;
}
