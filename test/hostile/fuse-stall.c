// A FUSE server that answers until told to stop, then takes every request and never answers it:
// the kernel has handed the request over, so whoever waits for it (even after SIGKILL) waits until
// this process closes /dev/fuse. Speaks the kernel's protocol directly (linux/fuse.h), so the test
// needs no libfuse. Built by test/hostile/hung-fs.test.ts.
//
//   fuse-stall serve DIR    mounts a filesystem with two 64 KiB files "x" and "y" on DIR; a line "stall" on
//                           stdin stops answering ("stalled" once done); end of stdin ends it.
//   fuse-stall map PATH [unlink]
//                           maps PATH shared, reads its first page, optionally unlinks it, then
//                           waits for end of stdin.
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_SIZE 65536
static int gone[4];  // node 2 ("x") or 3 ("y") was unlinked

static void reply(int fd, uint64_t unique, int error, const void* body, size_t n) {
  char buf[sizeof(struct fuse_out_header) + FILE_SIZE];
  struct fuse_out_header h = {.len = (uint32_t)(sizeof h + n), .error = error, .unique = unique};
  memcpy(buf, &h, sizeof h);
  if (n) memcpy(buf + sizeof h, body, n);
  if (write(fd, buf, sizeof h + n) < 0 && errno != ENOENT) perror("fuse-stall: write");
}

static void attr(uint64_t node, struct fuse_attr* a) {
  memset(a, 0, sizeof *a);
  a->ino = node;
  a->nlink = 1;
  a->blksize = 4096;
  if (node == 1) {
    a->mode = S_IFDIR | 0755;
  } else {
    a->mode = S_IFREG | 0644;
    a->size = FILE_SIZE;
    a->blocks = FILE_SIZE / 512;
  }
}

static void serve_one(int fd, const char* req, size_t len) {
  const struct fuse_in_header* in = (const void*)req;
  const char* body = req + sizeof *in;
  (void)len;
  switch (in->opcode) {
    case FUSE_INIT: {
      const struct fuse_init_in* i = (const void*)body;
      struct fuse_init_out o = {.major = FUSE_KERNEL_VERSION, .minor = i->minor < FUSE_KERNEL_MINOR_VERSION ? i->minor : FUSE_KERNEL_MINOR_VERSION, .max_readahead = i->max_readahead, .max_write = 4096};
      reply(fd, in->unique, 0, &o, sizeof o);
      return;
    }
    case FUSE_LOOKUP: {
      uint64_t node = strcmp(body, "x") == 0 ? 2 : strcmp(body, "y") == 0 ? 3 : 0;
      if (!node || gone[node]) return reply(fd, in->unique, -ENOENT, NULL, 0);
      struct fuse_entry_out e = {.nodeid = node};
      attr(node, &e.attr);
      return reply(fd, in->unique, 0, &e, sizeof e);
    }
    case FUSE_GETATTR: {
      struct fuse_attr_out a = {0};
      attr(in->nodeid, &a.attr);
      return reply(fd, in->unique, 0, &a, sizeof a);
    }
    case FUSE_OPEN:
    case FUSE_OPENDIR: {
      struct fuse_open_out o = {.fh = 1};
      return reply(fd, in->unique, 0, &o, sizeof o);
    }
    case FUSE_READ: {
      const struct fuse_read_in* r = (const void*)body;
      static char data[FILE_SIZE];
      memset(data, 'F', sizeof data);
      size_t n = r->offset >= FILE_SIZE ? 0 : FILE_SIZE - r->offset;
      if (n > r->size) n = r->size;
      return reply(fd, in->unique, 0, data, n);
    }
    case FUSE_UNLINK:
      gone[strcmp(body, "x") == 0 ? 2 : 3] = 1;
      return reply(fd, in->unique, 0, NULL, 0);
    case FUSE_FORGET:
    case FUSE_BATCH_FORGET:
      return;
    case FUSE_FLUSH:
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR:
      return reply(fd, in->unique, 0, NULL, 0);
    default:
      return reply(fd, in->unique, -ENOSYS, NULL, 0);
  }
}

static int serve(const char* dir) {
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return perror("fuse-stall: /dev/fuse"), 1;
  char opts[128];
  snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
  if (mount("shmscope-stall", dir, "fuse", MS_NOSUID | MS_NODEV, opts) != 0) return perror("fuse-stall: mount"), 1;
  printf("ready {\"pid\":%d}\n", (int)getpid());
  fflush(stdout);
  static char req[FUSE_MIN_READ_BUFFER + FILE_SIZE];
  int stalled = 0;
  char line[64];
  size_t have = 0;
  for (;;) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return perror("fuse-stall: poll"), 1;
    }
    if (p[1].revents) {
      ssize_t n = read(0, line + have, sizeof line - 1 - have);
      if (n <= 0) return 0;  // closing /dev/fuse aborts the connection: every waiter is let go
      have += (size_t)n;
      line[have] = 0;
      if (strstr(line, "stall\n")) {
        stalled = 1;
        printf("stalled\n");
        fflush(stdout);
        have = 0;
      }
    }
    if (p[0].revents & POLLIN) {
      ssize_t n = read(fd, req, sizeof req);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == ENOENT) continue;
        if (errno == ENODEV) return 0;  // unmounted
        return perror("fuse-stall: read"), 1;
      }
      if (!stalled) serve_one(fd, req, (size_t)n);  // stalled: taken, never answered
    }
  }
}

static int map(const char* path, int unlinkIt) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return perror("fuse-stall: open"), 1;
  volatile char* p = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return perror("fuse-stall: mmap"), 1;
  if (p[0] != 'F') return fprintf(stderr, "fuse-stall: read %d\n", p[0]), 1;
  close(fd);
  if (unlinkIt && unlink(path) != 0) return perror("fuse-stall: unlink"), 1;
  printf("ready {\"pid\":%d}\n", (int)getpid());
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "serve") == 0) return serve(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "map") == 0) return map(argv[2], argc >= 4 && strcmp(argv[3], "unlink") == 0);
  fprintf(stderr, "usage: fuse-stall serve DIR | map PATH [unlink]\n");
  return 2;
}
