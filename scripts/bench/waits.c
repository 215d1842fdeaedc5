/* The waits benchmark's native sides.
 *   waits load SHMID     500 threads: 50 blocked on a process-shared mutex in the segment (held by
 *                        the main thread), 449 asleep; prints "ready" and sleeps until killed
 *   waits many PROCS     PROCS processes of 10 threads each: the main thread reads a pipe whose
 *                        write end only this process holds, 9 threads sleep; prints "ready" once
 *                        all are started and sleeps until killed (the children die with it)
 *   waits syscalls REPS  best time of a minimal pass: read every /proc/PID/task/TID/syscall (prints
 *                        the best wall seconds, then the best CPU seconds of a pass)
 *   waits floor REPS     the same for the files `waits --all` must read of a task (prints the same):
 *                        `stat` (name, state), `syscall`, and `sched` (how long it is blocked) of
 *                        each one asleep in a call, opened relative to the process's task directory
 *   waits scan REPS      best time of one pass reading what `shmscope waits` reads: every
 *                        /proc/PID/task/TID/{stat,syscall}, and for futex waits the process's maps
 *                        (once per process) and 128 bytes around the word from /proc/PID/mem
 * The scan prints seconds. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t *shared;

static void *blocker(void *arg) {
  (void)arg;
  pthread_mutex_lock(shared);
  return NULL;
}
static void *sleeper(void *arg) {
  (void)arg;
  for (;;) sleep(1000);
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static ssize_t slurp(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n, got = 0;
  while ((n = read(fd, buf + got, cap - 1 - got)) > 0) got += n;
  close(fd);
  buf[got] = 0;
  return got;
}

static char maps[1 << 22];

static void pass(void) {
  char path[256], buf[4096];
  DIR *proc = opendir("/proc");
  struct dirent *e;
  while ((e = readdir(proc))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/task", e->d_name);
    DIR *tasks = opendir(path);
    if (!tasks) continue;
    int mapsRead = 0, mem = -1;
    struct dirent *t;
    while ((t = readdir(tasks))) {
      if (t->d_name[0] < '1' || t->d_name[0] > '9') continue;
      snprintf(path, sizeof path, "/proc/%s/task/%s/stat", e->d_name, t->d_name);
      if (slurp(path, buf, sizeof buf) < 0) continue;
      snprintf(path, sizeof path, "/proc/%s/task/%s/syscall", e->d_name, t->d_name);
      if (slurp(path, buf, sizeof buf) < 0) continue;
      if (strncmp(buf, "202 ", 4) != 0) continue;
      unsigned long addr = strtoul(buf + 4, NULL, 16);
      if (!mapsRead) {
        snprintf(path, sizeof path, "/proc/%s/maps", e->d_name);
        slurp(path, maps, sizeof maps);
        snprintf(path, sizeof path, "/proc/%s/mem", e->d_name);
        mem = open(path, O_RDONLY | O_CLOEXEC);
        mapsRead = 1;
      }
      if (mem >= 0 && pread(mem, buf, 128, (off_t)(addr - 64)) < 0) buf[0] = 0;
    }
    if (mem >= 0) close(mem);
    closedir(tasks);
  }
  closedir(proc);
}

static int task_file(int tasks, const char *tid, const char *name, char *buf, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "%s/%s", tid, name);
  int fd = openat(tasks, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  return n < 0 ? -1 : 0;
}

/* Every task of every process: `visit` gets the process's task directory (open) and both ids. */
static void each_task(void (*visit)(int tasks, const char *pid, const char *tid)) {
  char path[256];
  DIR *proc = opendir("/proc");
  struct dirent *e;
  while ((e = readdir(proc))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/task", e->d_name);
    DIR *tasks = opendir(path);
    if (!tasks) continue;
    struct dirent *t;
    while ((t = readdir(tasks))) {
      if (t->d_name[0] < '1' || t->d_name[0] > '9') continue;
      visit(dirfd(tasks), e->d_name, t->d_name);
    }
    closedir(tasks);
  }
  closedir(proc);
}

/* The floor: what `waits --all` must read of a task (its state, its call, and for a sleeper how long). */
static void floor_task(int tasks, const char *pid, const char *tid) {
  char buf[4096];
  (void)pid;
  if (task_file(tasks, tid, "stat", buf, sizeof buf) < 0) return;
  char *close_paren = strrchr(buf, ')');
  char state = close_paren && close_paren[1] ? close_paren[2] : '?';
  if (task_file(tasks, tid, "syscall", buf, sizeof buf) < 0 || buf[0] == 'r') return;
  if (state == 'S' || state == 'D') task_file(tasks, tid, "sched", buf, sizeof buf);
}

/* The minimal loop: every task's `syscall`, by its full path. */
static void syscall_task(int tasks, const char *pid, const char *tid) {
  char path[256], buf[512];
  (void)tasks;
  snprintf(path, sizeof path, "/proc/%s/task/%s/syscall", pid, tid);
  slurp(path, buf, sizeof buf);
}

static void floor_pass(void) { each_task(floor_task); }

static void syscalls_pass(void) { each_task(syscall_task); }

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  if (!strcmp(argv[1], "load")) {
    shared = shmat(atoi(argv[2]), NULL, 0);
    if (shared == (void *)-1) return perror("shmat"), 1;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(shared, &a);
    pthread_mutex_lock(shared);
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setstacksize(&ta, 64 * 1024);
    for (int i = 0; i < 499; i++) {
      pthread_t t;
      if (pthread_create(&t, &ta, i < 50 ? blocker : sleeper, NULL) != 0) return perror("pthread_create"), 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
  }
  if (!strcmp(argv[1], "many")) {
    int procs = atoi(argv[2]);
    int p[2];
    if (pipe(p) != 0) return 1;
    for (int i = 0; i < procs; i++) {
      pid_t c = fork();
      if (c < 0) return perror("fork"), 1;
      if (c > 0) continue;
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(p[0]);
      int q[2];
      if (pipe(q) != 0) _exit(1);
      pthread_attr_t ta;
      pthread_attr_init(&ta);
      pthread_attr_setstacksize(&ta, 64 * 1024);
      for (int k = 0; k < 9; k++) {
        pthread_t t;
        if (pthread_create(&t, &ta, sleeper, NULL) != 0) _exit(1);
      }
      char c1 = 1;
      if (write(p[1], &c1, 1) != 1) _exit(1);
      close(p[1]);
      char x;
      (void)!read(q[0], &x, 1);  /* q[1] is ours too: never written, never closed */
      _exit(0);
    }
    close(p[1]);
    char x;
    for (int i = 0; i < procs; i++)
      if (read(p[0], &x, 1) != 1) return 1;
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
  }
  if (!strcmp(argv[1], "syscalls") || !strcmp(argv[1], "floor")) {
    int reps = atoi(argv[2]);
    int minimal = !strcmp(argv[1], "syscalls");
    double best = 1e9, bestCpu = 1e9;
    for (int i = 0; i < reps; i++) {
      double t = now(), c = cpu();
      if (minimal) syscalls_pass();
      else floor_pass();
      t = now() - t;
      c = cpu() - c;
      if (t < best) best = t;
      if (c < bestCpu) bestCpu = c;
    }
    printf("%.6f %.6f\n", best, bestCpu);
    return 0;
  }
  if (!strcmp(argv[1], "scan")) {
    int reps = atoi(argv[2]);
    double best = 1e9;
    for (int i = 0; i < reps; i++) {
      double t = now();
      pass();
      t = now() - t;
      if (t < best) best = t;
    }
    printf("%.6f\n", best);
    return 0;
  }
  return 2;
}
