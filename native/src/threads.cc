// scanThreads(): where every thread of the machine blocks, from the kernel's own files.
//
// For each /proc/PID/task/TID it reads `stat` (name, state) and `syscall` (the system call the
// thread is in, with its six arguments), and for the calls that wait on IPC it resolves what the
// TypeScript side needs to name the object:
//   futex, futex_waitv       the mapping (from /proc/PID/maps) holding each futex word, and up to
//                            128 bytes around it read with pread from /proc/PID/mem (a lock's
//                            owner is in those bytes);
//   semop, semtimedop        the sembuf array (semaphore numbers and operations), from mem;
//   msgrcv, msgsnd           nothing more: the arguments name the queue;
//   mq_timed*, flock, fcntl  the file behind the descriptor (readlink and stat of /proc/PID/fd/N).
//
// It is a view over the one /proc runner (scan.h: threads of its own, answered by a deadline):
// small bounded reads, never a mapping of another process's memory, and a process that holds its
// locks cannot keep the caller waiting. Threads that end mid-scan are skipped (ENOENT, ESRCH); threads we may
// not inspect are counted in `unreadable`, processes not read in time listed in `slow`.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <set>
#include <vector>

#include "common.h"
#include "scan.h"

namespace shmscope {
namespace {

// Bounds: the most threads and processes one scan looks at, and the largest reads it makes.
constexpr size_t kMaxThreads = 1 << 20;
constexpr size_t kMaxMapsBytes = size_t{64} << 20;
constexpr size_t kMaxFutexes = 128;   // futex_waitv's own limit (FUTEX_WAITV_MAX)
constexpr size_t kMaxSembufs = 64;
constexpr int64_t kWindowBefore = 64;  // bytes read before a futex word (a condvar's start is 40 before)
constexpr int64_t kWindowAfter = 64;

// Linux x86-64 system call numbers of the waits we explain.
constexpr long kFutex = 202;
constexpr long kFutexWaitv = 449;
constexpr long kSemop = 65;
constexpr long kSemtimedop = 220;
constexpr long kMsgsnd = 69;
constexpr long kMsgrcv = 70;
constexpr long kMqTimedsend = 242;
constexpr long kMqTimedreceive = 243;
constexpr long kFlock = 73;
constexpr long kFcntl = 72;
// The other waits --all explains: on a descriptor, on a set of them, in a sleep.
constexpr long kRead = 0, kWrite = 1, kPread = 17, kPwrite = 18, kReadv = 19, kWritev = 20, kSendfile = 40;
constexpr long kConnect = 42, kAccept = 43, kSendto = 44, kRecvfrom = 45, kSendmsg = 46, kRecvmsg = 47;
constexpr long kSplice = 275, kTee = 276, kAccept4 = 288, kRecvmmsg = 299, kSendmmsg = 307;
constexpr long kPoll = 7, kSelect = 23, kPselect6 = 270, kPpoll = 271;
constexpr long kEpollWait = 232, kEpollPwait = 281, kEpollPwait2 = 441;
constexpr long kNanosleep = 35, kClockNanosleep = 230;
constexpr long kPause = 34, kRtSigtimedwait = 128, kRtSigsuspend = 130, kWait4 = 61, kWaitid = 247;
constexpr size_t kMaxWatched = 64;  // descriptors named per poll/select/epoll set (the rest counted)

bool ParseLong(const char* s, long& out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v <= 0) return false;
  out = v;
  return true;
}

struct MapEntry {
  uint64_t start = 0, end = 0, offset = 0;
  uint64_t inode = 0;
  std::string dev, perms, path;
};

MapEntry EntryOf(const MapsLine& l) {
  MapEntry m;
  m.start = l.start;
  m.end = l.end;
  m.offset = l.offset;
  m.inode = l.inode;
  m.dev.assign(l.dev);
  m.perms.assign(l.perms);
  m.path.assign(l.path);
  return m;
}

struct FutexRef {
  uint64_t addr = 0;
  uint32_t flags = 0;  // futex_waitv's per-word flags (FUTEX2_SIZE_*, FUTEX2_PRIVATE)
  bool mapped = false;
  MapEntry map;
  uint64_t windowStart = 0;
  std::string window;  // bytes read at windowStart
  int memError = 0;
};

struct Sembuf {
  unsigned short num;
  short op;
  short flg;
};

struct ThreadRow {
  int pid = 0, tid = 0;
  std::string comm;
  char state = '?';
  long nr = -1;  // -1: not in a system call; -2: running; -3: unreadable
  uint64_t args[6] = {0, 0, 0, 0, 0, 0};
  std::string wchan;
  std::vector<FutexRef> futexes;
  std::vector<Sembuf> sembufs;
  int sembufError = 0;
  std::string fdPath;
  uint64_t fdDev = 0, fdInode = 0;
  int fdError = 0;
  // How long the thread has been off CPU (now minus the scheduler's se.exec_start), -1 unknown.
  double blockedMs = -1;
  // The descriptors an other wait names (the fd read, the epoll fd, then the set it watches).
  struct Fd {
    int fd = -1;
    bool watched = false;
    std::string link;
    uint64_t inode = 0;
    bool fifo = false;
    int error = 0;
  };
  std::vector<Fd> fds;
  size_t watchedTotal = 0;  // descriptors in the set, named or not
  // A sleep's request (nanosleep, clock_nanosleep): seconds and nanoseconds, absolute or not.
  bool sleep = false, sleepAbs = false;
  int64_t sleepSec = 0, sleepNsec = 0;
  int sleepClock = 0;
};

// Milliseconds of CLOCK_MONOTONIC, the clock the scheduler's exec_start is kept in.
double MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// se.exec_start of a /proc/…/sched text (ms), or -1.
double ExecStartMs(const std::string& text) {
  size_t at = text.find("se.exec_start");
  if (at == std::string::npos) return -1;
  size_t colon = text.find(':', at);
  if (colon == std::string::npos) return -1;
  char* end = nullptr;
  double v = std::strtod(text.c_str() + colon + 1, &end);
  return end == text.c_str() + colon + 1 || !(v > 0) ? -1 : v;
}

// Whether a blocked thread's exec_start tells how long it has been blocked: true when this
// kernel's /proc/thread-self/sched keeps it in CLOCK_MONOTONIC (the scanning thread, running, last
// started within a tick of now). Kernels differ (no sched file, another clock): then unknown.
bool SchedClockAgrees() {
  std::string text;
  if (ReadProcFile("/proc/thread-self/sched", text, 4096) != 0) return false;
  double start = ExecStartMs(text);
  double now = MonotonicMs();
  return start > 0 && start <= now + 50 && now - start < 500;
}

// Whether /proc counts pids in our own PID namespace (its "self" is our pid): then a pid read from
// it names the same process to a system call (process_vm_readv), not only to a path under /proc.
bool ProcIsOurs() {
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  return std::strtol(buf, nullptr, 10) == static_cast<long>(getpid());
}

// Reads `len` bytes at `addr` of a process with pread on /proc/PID/mem (never a mapping).
int ReadMem(int memFd, uint64_t addr, size_t len, std::string& out) {
  out.assign(len, '\0');
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(memFd, out.data() + got, len - got, static_cast<off_t>(addr + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      out.resize(got);
      return got ? 0 : err;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return 0;
}

// A sleeping thread's request (a struct timespec at `addr`) to read: rows[row] of the scanner.
struct PendingSleep {
  size_t row;
  uint64_t addr;
};

// One process's maps and mem descriptor, opened on first need and kept for its other threads.
struct ProcCache {
  bool mapsRead = false;
  int mapsError = 0;
  std::string mapsText;
  std::vector<MapsLine> maps;  // views into mapsText
  int memFd = -2;  // -2: not opened yet; -1: failed (memError)
  int memError = 0;
  std::vector<PendingSleep> sleeps;  // sleep requests to read once the process's threads are scanned
  ~ProcCache() {
    if (memFd >= 0) close(memFd);
  }
};

// One small record file of a task (stat, syscall, wchan, sched): "TID/name" opened relative to
// the process's task directory (one lookup of two names, and no descriptor of the task's own
// directory to open and close for each thread: syscalls are most of a scan's cost). The kernel
// makes each of these whole in one go, so one read of up to `cap` (≤ 4 KiB) bytes is all of what
// is wanted: no second read to see the end. Returns 0 or the errno.
int ReadTaskFile(int tasksFd, int tid, const char* name, std::string& out, size_t cap) {
  out.clear();
  char path[64];
  std::snprintf(path, sizeof path, "%d/%s", tid, name);
  int fd = openat(tasksFd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return errno;
  char buf[4096];
  ssize_t n;
  do n = read(fd, buf, std::min(cap, sizeof buf));
  while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  close(fd);
  if (n > 0) out.assign(buf, static_cast<size_t>(n));
  return err;
}

// Scans the tasks of one process into `rows` (a fresh scanner per process: its maps and mem
// descriptor are read once and kept for its threads).
class ProcessScanner {
 public:
  std::vector<ThreadRow> rows;
  int unreadable = 0;
  bool all = false;      // resolve every blocked thread's wait, not only the IPC ones
  bool clockOk = false;  // exec_start tells how long a thread is blocked (SchedClockAgrees)
  bool vmReadv = false;  // /proc counts pids as we do, so process_vm_readv(pid) reads that process (ProcIsOurs)

  // Reads the threads of `pid` after the first `skip`, at most `count` of them: true when that
  // reached its last thread (false: more are left, for a later pass).
  bool ScanPid(int pid, size_t room, size_t skip = 0, size_t count = SIZE_MAX) {
    std::string base = "/proc/" + std::to_string(pid);
    DIR* tasks = opendir((base + "/task").c_str());
    if (tasks == nullptr) return true;  // ended meanwhile, or a kernel without task/
    ProcCache cache;
    std::string text;
    size_t seen = 0, read = 0;
    bool whole = true;
    while (struct dirent* t = readdir(tasks)) {
      long tid;
      if (!ParseLong(t->d_name, tid)) continue;
      if (seen++ < skip) continue;
      if (rows.size() >= room || read >= count) {
        whole = false;
        break;
      }
      read++;
      ScanThread(pid, static_cast<int>(tid), base, dirfd(tasks), cache, text);
    }
    ReadSleeps(pid, base, dirfd(tasks), cache);
    closedir(tasks);
    return whole;
  }

  static Napi::Object RowToJsPublic(Napi::Env env, const ThreadRow& r) { return RowToJs(env, r); }

 private:
  void ScanThread(int pid, int tid, const std::string& base, int tasksFd, ProcCache& cache, std::string& text) {
    ThreadRow row;
    row.pid = pid;
    row.tid = tid;
    if (ReadTaskFile(tasksFd, tid, "stat", text, 4096) != 0) return;  // ended meanwhile
    // "tid (comm) S …": comm may hold spaces and parentheses, so take the last ')'.
    size_t open = text.find('(');
    size_t close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open || close + 2 >= text.size()) return;
    row.comm = text.substr(open + 1, close - open - 1);
    row.state = text[close + 2];
    // A kernel thread (PF_KTHREAD in field 9, flags) is in no system call, whatever its syscall file says.
    {
      const char* p = text.c_str() + close + 2;
      for (int field = 3; field < 9 && *p; field++) {
        p = std::strchr(p, ' ');
        if (p == nullptr) break;
        p++;
      }
      if (p != nullptr && (std::strtoul(p, nullptr, 10) & 0x00200000u) != 0) {
        row.nr = -1;
        rows.push_back(std::move(row));
        return;
      }
    }
    int err = ReadTaskFile(tasksFd, tid, "syscall", text, 512);
    if (err == EACCES || err == EPERM) {
      row.nr = -3;
      unreadable++;
    } else if (err != 0) {
      return;  // ended meanwhile
    } else if (text.compare(0, 7, "running") == 0) {
      row.nr = -2;
    } else {
      char* p = text.data();
      char* end = nullptr;
      row.nr = std::strtol(p, &end, 10);
      if (end == p) row.nr = -1;
      p = end;
      for (int i = 0; i < 6 && row.nr >= 0; i++) {
        while (*p == ' ') p++;
        row.args[i] = std::strtoull(p, &end, 16);  // "0x…"; strtoull base 16 accepts the prefix
        if (end == p) break;
        p = end;
      }
    }
    bool blocked = row.nr >= 0 && (row.state == 'S' || row.state == 'D');
    if (row.nr >= 0 && (Explained(row.nr) || (blocked && all))) {
      // The wait channel only where the call does not already say what it waits on: a sleep
      // (its request read below says it), a signal or a child wait has a fixed one (one /proc
      // file fewer for each such thread of the machine, most of them in `waits --all`).
      const bool tellsItself = !Explained(row.nr) && SaysItsWait(row.nr);
      if (!tellsItself && ReadTaskFile(tasksFd, tid, "wchan", row.wchan, 128) != 0) row.wchan.clear();
      if (blocked && clockOk && ReadTaskFile(tasksFd, tid, "sched", text, 4096) == 0) {
        double start = ExecStartMs(text);
        double now = MonotonicMs();
        if (start > 0 && start <= now + 50) row.blockedMs = std::max(0.0, now - start);
      }
      if (Explained(row.nr)) Resolve(row, base, cache);
      else ResolveOther(row, base, tasksFd, cache, rows.size());
    }
    rows.push_back(std::move(row));
  }

  // The sleep requests of the process's threads just scanned (ResolveOther queued them): read in
  // one process_vm_readv per 1 024 of them rather than a pread each (a thousand sleeping threads
  // of one program are the common case of `waits --all`). A request that cannot be read that way
  // is read with pread from mem; one not read at all leaves its sleep said by its wait channel.
  void ReadSleeps(int pid, const std::string& base, int tasksFd, ProcCache& cache) {
    std::vector<PendingSleep>& want = cache.sleeps;
    struct Request {
      int64_t sec, nsec;
    };
    std::vector<Request> got(want.size());
    std::vector<char> ok(want.size(), 0);
    bool refused = !vmReadv;  // process_vm_readv not allowed (or not built in): mem only
    for (size_t from = 0; from < want.size();) {
      size_t n = std::min<size_t>(want.size() - from, 1024);  // IOV_MAX
      size_t done = 0;
      if (!refused) {
        std::vector<struct iovec> local(n), remote(n);
        for (size_t i = 0; i < n; i++) {
          local[i] = {&got[from + i], sizeof(Request)};
          remote[i] = {reinterpret_cast<void*>(want[from + i].addr), sizeof(Request)};
        }
        ssize_t r = process_vm_readv(pid, local.data(), n, remote.data(), n, 0);
        if (r < 0 && errno != EFAULT) refused = true;
        // Transfers stop at the first request that fails, never inside one: those before it are whole.
        done = r > 0 ? static_cast<size_t>(r) / sizeof(Request) : 0;
      }
      for (size_t i = 0; i < done; i++) ok[from + i] = 1;
      if (done < n) {  // the failing one (or all, when the call is refused) through mem
        std::string raw;
        int mem = Mem(base, cache);
        if (mem >= 0 && ReadMem(mem, want[from + done].addr, sizeof(Request), raw) == 0 && raw.size() == sizeof(Request)) {
          std::memcpy(&got[from + done], raw.data(), sizeof(Request));
          ok[from + done] = 1;
        }
        done++;
      }
      from += done;
    }
    for (size_t i = 0; i < want.size(); i++) {
      ThreadRow& row = rows[want[i].row];
      if (ok[i]) {
        row.sleep = true;
        row.sleepSec = got[i].sec;
        row.sleepNsec = got[i].nsec;
        if (row.nr == kClockNanosleep) {
          row.sleepClock = static_cast<int>(row.args[0]);
          row.sleepAbs = (row.args[1] & 1) != 0;  // TIMER_ABSTIME
        }
      } else if (ReadTaskFile(tasksFd, row.tid, "wchan", row.wchan, 128) != 0) {
        row.wchan.clear();  // a sleep whose request could not be read is said by its wait channel after all
      }
    }
    want.clear();
  }

  // The descriptor `fd` of the process: its link ("pipe:[…]", "socket:[…]", "anon_inode:[eventfd]",
  // a path) and, for a path, whether it is a FIFO (its inode then).
  // A path is statted only when `pipeWait` (the kernel's wait channel is a pipe's: a FIFO): a file
  // of a hung filesystem (FUSE, NFS) is never statted.
  static void Describe(const std::string& base, ThreadRow::Fd& f, bool pipeWait) {
    std::string link = base + "/fd/" + std::to_string(f.fd);
    char buf[4096];
    ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    if (n < 0) {
      f.error = errno;
      return;
    }
    f.link.assign(buf, static_cast<size_t>(n));
    if (pipeWait && !f.link.empty() && f.link[0] == '/') {
      struct stat st;
      // stat of a FIFO's path never opens it; a path on a hung filesystem is not statted.
      if (f.link.compare(0, 6, "/proc/") != 0 && stat(link.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
        f.fifo = true;
        f.inode = st.st_ino;
      }
    }
  }

  void AddFd(ThreadRow& row, const std::string& base, uint64_t fd, bool watched) {
    if (fd > 1u << 30) return;
    if (watched && row.watchedTotal++ >= kMaxWatched) return;
    ThreadRow::Fd f;
    f.fd = static_cast<int>(fd);
    f.watched = watched;
    Describe(base, f, !watched && (row.wchan.find("pipe") != std::string::npos || row.wchan.find("fifo") != std::string::npos));
    row.fds.push_back(std::move(f));
  }

  // What a blocked thread outside the IPC calls waits on, when its arguments tell.
  // `index`: where `row` goes in `rows` (a sleep's request is read later, with its process's others).
  void ResolveOther(ThreadRow& row, const std::string& base, int tasksFd, ProcCache& cache, size_t index) {
    const uint64_t* a = row.args;
    switch (row.nr) {
      case kRead: case kWrite: case kPread: case kPwrite: case kReadv: case kWritev: case kConnect: case kAccept:
      case kAccept4: case kSendto: case kRecvfrom: case kSendmsg: case kRecvmsg: case kRecvmmsg: case kSendmmsg:
        AddFd(row, base, a[0], false);
        break;
      case kSendfile:
        AddFd(row, base, a[1], false);
        AddFd(row, base, a[0], false);
        break;
      case kSplice: case kTee:
        AddFd(row, base, a[0], false);
        AddFd(row, base, row.nr == kSplice ? a[2] : a[1], false);
        break;
      case kEpollWait: case kEpollPwait: case kEpollPwait2: {
        AddFd(row, base, a[0], false);
        if (a[0] > 1u << 30) break;
        std::string info;
        if (ReadProcFile(base + "/fdinfo/" + std::to_string(a[0]), info, size_t{1} << 20) != 0) break;
        // "tfd:        5 events:       19 data: … pos:0 ino:… sdev:…", one line per watched file.
        for (size_t at = info.find("tfd:"); at != std::string::npos; at = info.find("tfd:", at + 4)) {
          char* end = nullptr;
          long fd = std::strtol(info.c_str() + at + 4, &end, 10);
          if (end != info.c_str() + at + 4 && fd >= 0) AddFd(row, base, static_cast<uint64_t>(fd), true);
        }
        break;
      }
      case kPoll: case kPpoll: {
        int mem = Mem(base, cache);
        size_t n = std::min<uint64_t>(a[1], 4096);
        std::string raw;
        if (mem < 0 || n == 0 || ReadMem(mem, a[0], n * 8, raw) != 0) break;
        for (size_t i = 0; i + 8 <= raw.size(); i += 8) {  // struct pollfd { int fd; short events, revents; }
          int32_t fd;
          std::memcpy(&fd, raw.data() + i, 4);
          if (fd >= 0) AddFd(row, base, static_cast<uint64_t>(fd), true);
        }
        break;
      }
      case kSelect: case kPselect6: {
        int mem = Mem(base, cache);
        size_t nfds = std::min<uint64_t>(a[0], 1024);
        size_t bytes = (nfds + 63) / 64 * 8;
        if (mem < 0 || bytes == 0) break;
        std::set<int> fds;
        for (int set = 1; set <= 3; set++) {  // readfds, writefds, exceptfds
          std::string raw;
          if (a[set] == 0 || ReadMem(mem, a[set], bytes, raw) != 0) continue;
          for (size_t fd = 0; fd < nfds && fd / 8 < raw.size(); fd++) {
            if (static_cast<unsigned char>(raw[fd / 8]) & (1u << (fd % 8))) fds.insert(static_cast<int>(fd));
          }
        }
        for (int fd : fds) AddFd(row, base, static_cast<uint64_t>(fd), true);
        break;
      }
      case kNanosleep: case kClockNanosleep: {
        uint64_t req = row.nr == kNanosleep ? a[0] : a[2];
        if (req != 0) cache.sleeps.push_back({index, req});  // read with the process's others (ReadSleeps)
        else if (ReadTaskFile(tasksFd, row.tid, "wchan", row.wchan, 128) != 0) row.wchan.clear();
        break;
      }
      default:
        break;
    }
  }

  // Calls whose number alone says what the thread waits on: a sleep, a signal, a child.
  static bool SaysItsWait(long nr) {
    switch (nr) {
      case kNanosleep: case kClockNanosleep: case kPause: case kRtSigsuspend: case kRtSigtimedwait: case kWait4: case kWaitid:
        return true;
      default:
        return false;
    }
  }

  static bool Explained(long nr) {
    switch (nr) {
      case kFutex: case kFutexWaitv: case kSemop: case kSemtimedop: case kMsgsnd: case kMsgrcv:
      case kMqTimedsend: case kMqTimedreceive: case kFlock: case kFcntl:
        return true;
      default:
        return false;
    }
  }

  int Mem(const std::string& base, ProcCache& cache) {
    if (cache.memFd == -2) {
      cache.memFd = open((base + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
      if (cache.memFd < 0) {
        cache.memError = errno;
        cache.memFd = -1;
      }
    }
    return cache.memFd;
  }

  void Resolve(ThreadRow& row, const std::string& base, ProcCache& cache) {
    switch (row.nr) {
      case kFutex: {
        FutexRef f;
        f.addr = row.args[0];
        row.futexes.push_back(f);
        break;
      }
      case kFutexWaitv: {
        size_t n = std::min<uint64_t>(row.args[1], kMaxFutexes);
        int fd = Mem(base, cache);
        std::string raw;
        if (fd >= 0 && n > 0 && ReadMem(fd, row.args[0], n * 24, raw) == 0) {
          // struct futex_waitv { u64 val; u64 uaddr; u32 flags; u32 __reserved; }
          for (size_t i = 0; i + 1 <= raw.size() / 24; i++) {
            FutexRef f;
            std::memcpy(&f.addr, raw.data() + i * 24 + 8, 8);
            std::memcpy(&f.flags, raw.data() + i * 24 + 16, 4);
            row.futexes.push_back(f);
          }
        }
        break;
      }
      case kSemop:
      case kSemtimedop: {
        size_t n = std::min<uint64_t>(row.args[2], kMaxSembufs);
        int fd = Mem(base, cache);
        std::string raw;
        if (fd < 0) {
          row.sembufError = cache.memError;
        } else if ((row.sembufError = ReadMem(fd, row.args[1], n * sizeof(Sembuf), raw)) == 0) {
          for (size_t i = 0; i < raw.size() / sizeof(Sembuf); i++) {
            Sembuf s;
            std::memcpy(&s, raw.data() + i * sizeof(Sembuf), sizeof s);
            row.sembufs.push_back(s);
          }
        }
        break;
      }
      case kMqTimedsend:
      case kMqTimedreceive:
      case kFlock:
      case kFcntl: {
        if (row.args[0] > 1u << 30) break;
        std::string link = base + "/fd/" + std::to_string(row.args[0]);
        char buf[4096];
        ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
        if (n < 0) {
          row.fdError = errno;
          break;
        }
        row.fdPath.assign(buf, static_cast<size_t>(n));
        struct stat st;
        if (stat(link.c_str(), &st) == 0) {
          row.fdDev = st.st_dev;
          row.fdInode = st.st_ino;
        }
        break;
      }
      default:
        break;
    }
    if (row.futexes.empty()) return;
    if (!cache.mapsRead) {
      cache.mapsRead = true;
      cache.mapsError = ReadProcFile(base + "/maps", cache.mapsText, kMaxMapsBytes);
      if (cache.mapsError == 0) {
        ForEachMapsLine(cache.mapsText, MapsFilter::kAll, [&](const MapsLine& l) { cache.maps.push_back(l); });
      }
    }
    for (FutexRef& f : row.futexes) {
      auto it = std::upper_bound(cache.maps.begin(), cache.maps.end(), f.addr,
                                 [](uint64_t a, const MapsLine& m) { return a < m.start; });
      if (it == cache.maps.begin()) continue;
      --it;
      if (f.addr >= it->end) continue;
      f.mapped = true;
      f.map = EntryOf(*it);
      uint64_t from = f.addr - std::min<uint64_t>(kWindowBefore, f.addr - it->start);
      uint64_t to = f.addr > UINT64_MAX - kWindowAfter ? it->end : std::min<uint64_t>(it->end, f.addr + kWindowAfter);
      if (to <= from) continue;
      int fd = Mem(base, cache);
      if (fd < 0) {
        f.memError = cache.memError;
        continue;
      }
      f.windowStart = from;
      f.memError = ReadMem(fd, from, static_cast<size_t>(to - from), f.window);
    }
  }

  static Napi::Value Big(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }

  static Napi::Object RowToJs(Napi::Env env, const ThreadRow& r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("pid", r.pid);
    o.Set("tid", r.tid);
    o.Set("comm", r.comm);
    o.Set("state", std::string(1, r.state));
    o.Set("nr", Napi::Number::New(env, static_cast<double>(r.nr)));
    if (r.blockedMs >= 0) o.Set("blockedMs", Napi::Number::New(env, std::floor(r.blockedMs)));
    bool detailed = r.nr >= 0 && (Explained(r.nr) || !r.wchan.empty() || !r.fds.empty() || r.sleep);
    if (!detailed) return o;
    // The arguments only where JS reads them (the IPC calls it explains); an other wait was resolved
    // here, and six BigInts for each of thousands of sleeping threads are garbage to collect.
    if (Explained(r.nr)) {
      Napi::Array args = Napi::Array::New(env, 6);
      for (uint32_t i = 0; i < 6; i++) args.Set(i, Big(env, r.args[i]));
      o.Set("args", args);
    }
    o.Set("wchan", r.wchan);
    if (!r.fds.empty()) {
      Napi::Array fs = Napi::Array::New(env, r.fds.size());
      for (size_t i = 0; i < r.fds.size(); i++) {
        const ThreadRow::Fd& f = r.fds[i];
        Napi::Object x = Napi::Object::New(env);
        x.Set("fd", f.fd);
        if (f.watched) x.Set("watched", true);
        if (f.error) x.Set("error", ErrnoName(f.error));
        else x.Set("link", f.link);
        if (f.fifo) x.Set("fifoInode", Napi::Number::New(env, static_cast<double>(f.inode)));
        fs.Set(i, x);
      }
      o.Set("fds", fs);
      if (r.watchedTotal) o.Set("watchedTotal", Napi::Number::New(env, static_cast<double>(r.watchedTotal)));
    }
    if (r.sleep) {
      Napi::Object sl = Napi::Object::New(env);
      sl.Set("sec", Napi::Number::New(env, static_cast<double>(r.sleepSec)));
      sl.Set("nsec", Napi::Number::New(env, static_cast<double>(r.sleepNsec)));
      sl.Set("clock", r.sleepClock);
      sl.Set("absolute", r.sleepAbs);
      o.Set("sleep", sl);
    }
    if (!Explained(r.nr)) return o;
    if (!r.futexes.empty()) {
      Napi::Array fs = Napi::Array::New(env, r.futexes.size());
      for (size_t i = 0; i < r.futexes.size(); i++) {
        const FutexRef& f = r.futexes[i];
        Napi::Object x = Napi::Object::New(env);
        x.Set("addr", Big(env, f.addr));
        x.Set("flags", f.flags);
        if (f.mapped) {
          Napi::Object m = Napi::Object::New(env);
          m.Set("start", Big(env, f.map.start));
          m.Set("end", Big(env, f.map.end));
          m.Set("offset", Big(env, f.map.offset));
          m.Set("inode", Napi::Number::New(env, static_cast<double>(f.map.inode)));
          m.Set("dev", f.map.dev);
          m.Set("perms", f.map.perms);
          m.Set("path", f.map.path);
          x.Set("map", m);
          if (f.memError) {
            x.Set("memError", ErrnoName(f.memError));
          } else {
            x.Set("windowStart", Big(env, f.windowStart));
            x.Set("window", Napi::Buffer<char>::Copy(env, f.window.data(), f.window.size()));
          }
        }
        fs.Set(i, x);
      }
      o.Set("futexes", fs);
    }
    if (r.nr == kSemop || r.nr == kSemtimedop) {
      if (r.sembufError) {
        o.Set("sembufError", ErrnoName(r.sembufError));
      } else {
        Napi::Array ss = Napi::Array::New(env, r.sembufs.size());
        for (size_t i = 0; i < r.sembufs.size(); i++) {
          Napi::Object s = Napi::Object::New(env);
          s.Set("num", r.sembufs[i].num);
          s.Set("op", r.sembufs[i].op);
          s.Set("flg", r.sembufs[i].flg);
          ss.Set(i, s);
        }
        o.Set("sembufs", ss);
      }
    }
    if (!r.fdPath.empty()) {
      o.Set("fdPath", r.fdPath);
      o.Set("fdDev", Napi::Number::New(env, static_cast<double>(r.fdDev)));
      o.Set("fdInode", Napi::Number::New(env, static_cast<double>(r.fdInode)));
    } else if (r.fdError) {
      o.Set("fdError", ErrnoName(r.fdError));
    }
    return o;
  }

};

struct ThreadScanResult {
  std::vector<ThreadRow> rows;
  int unreadable = 0;
  bool truncated = false;
  int procError = 0;
  std::vector<int> pids;  // every process of /proc when the scan began
  std::set<int> read;     // those read whole (or found gone)
  bool complete = false;
  bool clockOk = false;   // blockedMs is told (SchedClockAgrees)
};

// Threads read per process in the first pass: a process with 10 000 threads costs the others no
// more than this before every process has been visited; its other threads wait for the second.
constexpr size_t kFirstPassThreads = 128;

void RunThreadScan(ThreadScanResult& out, Clock::time_point deadline, bool all) {
  CountProcScan();
  const bool clockOk = SchedClockAgrees();
  const bool vmReadv = ProcIsOurs();
  out.clockOk = clockOk;
  std::vector<int> pids = ProcPids(&out.procError);
  if (out.procError != 0) return;
  out.pids = pids;
  auto total = std::make_shared<std::atomic<size_t>>(0);
  std::vector<int> rest;  // processes with threads left after the first pass
  bool complete = true;
  for (int pass = 0; pass < 2; pass++) {
    const std::vector<int> order = pass == 0 ? pids : rest;
    struct One {
      ProcessScanner scanner;
      bool whole = false;
    };
    auto per = std::make_shared<std::vector<One>>(order.size());
    std::vector<char> read = ReadProcesses(order, deadline, order.size() > 64 ? 2 : 1, [per, total, pass, all, clockOk, vmReadv](int, size_t i, int pid) {
      size_t used = total->load();
      size_t room = used < kMaxThreads ? kMaxThreads - used : 0;
      One& one = (*per)[i];
      one.scanner.all = all;
      one.scanner.clockOk = clockOk;
      one.scanner.vmReadv = vmReadv;
      one.whole = pass == 0 ? one.scanner.ScanPid(pid, room, 0, kFirstPassThreads) : one.scanner.ScanPid(pid, room, kFirstPassThreads);
      *total += one.scanner.rows.size();
    });
    for (size_t i = 0; i < order.size(); i++) {
      if (!read[i]) {
        complete = false;
        continue;
      }
      One& one = (*per)[i];
      if (out.rows.size() + one.scanner.rows.size() > kMaxThreads) out.truncated = true;
      out.unreadable += one.scanner.unreadable;
      for (ThreadRow& r : one.scanner.rows) {
        if (out.rows.size() < kMaxThreads) out.rows.push_back(std::move(r));
      }
      if (one.whole) out.read.insert(order[i]);
      else if (pass == 0) rest.push_back(order[i]);
    }
  }
  out.complete = complete;
}

// scanThreads(budgetMs, all = false) -> Promise<{ threads, unreadable, truncated, slow, complete, blockedTimes }>
// With `all`, every blocked thread's wait is resolved (its descriptors, its sleep), not only the IPC ones.
Napi::Value ScanThreads(const Napi::CallbackInfo& info) {
  static const char* usage = "scanThreads(budgetMs, all?)";
  ExpectArgs(info, 1, usage);
  int64_t budgetMs = IntArg(info, 0, "budgetMs", 1, 600000, usage);
  bool all = info.Length() > 1 && !info[1].IsUndefined() && BoolArg(info, 1, "all", usage);
  auto result = std::make_shared<ThreadScanResult>();
  auto work = [result, budgetMs, all]() { RunThreadScan(*result, Clock::now() + std::chrono::milliseconds(budgetMs), all); };
  return OffThread(info.Env(), "shmscope-threads", -1, work, [result](Napi::Env env, Napi::Promise::Deferred& deferred, bool) {
    ThreadScanResult& d = *result;
    if (d.procError != 0) {
      deferred.Reject(ErrnoError(env, "opendir(/proc)", d.procError, "is /proc mounted?").Value());
      return;
    }
    Napi::Array list = Napi::Array::New(env, d.rows.size());
    for (size_t i = 0; i < d.rows.size(); i++) list.Set(i, ProcessScanner::RowToJsPublic(env, d.rows[i]));
    // Every process not read whole is named: those not reached by the deadline, those still held
    // by an earlier scan and those whose threads the second pass did not reach.
    std::vector<int> skipped;
    for (int pid : d.pids) {
      if (!d.read.count(pid)) skipped.push_back(pid);
    }
    Napi::Array slow = Napi::Array::New(env, skipped.size());
    for (size_t i = 0; i < skipped.size(); i++) slow.Set(i, skipped[i]);
    Napi::Object out = Napi::Object::New(env);
    out.Set("threads", list);
    out.Set("unreadable", d.unreadable);
    out.Set("truncated", d.truncated);
    out.Set("slow", slow);
    out.Set("complete", d.complete);
    out.Set("blockedTimes", d.clockOk);
    deferred.Resolve(out);
  });
}

struct MapsResult {
  int err = 0;
  std::string text;
  std::vector<MapsLine> maps;  // views into text
  bool read = false;
};

// mapsOf(pid, budgetMs): one process's /proc/PID/maps, parsed off the JS thread and answered by
// the deadline (for turning an address of that process into an offset in an object it maps).
Napi::Value MapsOf(const Napi::CallbackInfo& info) {
  static const char* usage = "mapsOf(pid, budgetMs)";
  ExpectArgs(info, 2, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, 0x7fffffff, usage));
  int64_t budgetMs = IntArg(info, 1, "budgetMs", 1, 600000, usage);
  if (IsStuck(pid)) ThrowErrno(info.Env(), "read(/proc/PID/maps)", ETIMEDOUT, "pid " + std::to_string(pid) + " is still not answering");
  auto result = std::make_shared<MapsResult>();
  auto work = [result, pid, budgetMs]() {
    auto one = std::make_shared<MapsResult>();
    std::vector<char> read = ReadProcesses({pid}, Clock::now() + std::chrono::milliseconds(budgetMs), 1, [one](int, size_t, int p) {
      one->err = ReadProcFile("/proc/" + std::to_string(p) + "/maps", one->text, kMaxMapsBytes);
    });
    if (!read[0]) return;
    result->read = true;
    result->err = one->err;
    result->text = std::move(one->text);
    if (result->err == 0) ForEachMapsLine(result->text, MapsFilter::kAll, [&](const MapsLine& l) { result->maps.push_back(l); });
  };
  return OffThread(info.Env(), "shmscope-maps", -1, work, [result, pid](Napi::Env env, Napi::Promise::Deferred& deferred, bool) {
    if (!result->read) {
      deferred.Reject(ErrnoError(env, "read(/proc/PID/maps)", ETIMEDOUT, "pid " + std::to_string(pid) + " did not answer in time").Value());
      return;
    }
    if (result->err != 0) {
      deferred.Reject(ErrnoError(env, "open(/proc/PID/maps)", result->err, "pid " + std::to_string(pid)).Value());
      return;
    }
    Napi::Array list = Napi::Array::New(env, result->maps.size());
    for (size_t i = 0; i < result->maps.size(); i++) {
      const MapsLine& e = result->maps[i];
      Napi::Object m = Napi::Object::New(env);
      m.Set("start", Napi::BigInt::New(env, e.start));
      m.Set("end", Napi::BigInt::New(env, e.end));
      m.Set("offset", Napi::BigInt::New(env, e.offset));
      m.Set("inode", Napi::Number::New(env, static_cast<double>(e.inode)));
      m.Set("dev", Napi::String::New(env, e.dev.data(), e.dev.size()));
      m.Set("perms", Napi::String::New(env, e.perms.data(), e.perms.size()));
      m.Set("path", Napi::String::New(env, e.path.data(), e.path.size()));
      list.Set(i, m);
    }
    deferred.Resolve(list);
  });
}

// One shared mapping's memory from /proc/PID/smaps: its inode and path, and its Rss, Pss and Swap
// in bytes.
struct SmapsRow {
  int pid = 0;
  uint64_t inode = 0;
  std::string path;
  double rss = 0, pss = 0, swap = 0;
};

// Parses /proc/PID/smaps, keeping the shared mappings ('s' in perms) of an object (inode != 0).
// A mapping's header line is a maps line (the one parser reads it); its fields follow it.
void ParseSmaps(int pid, const std::string& text, std::vector<SmapsRow>& out) {
  bool current = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const char* line = text.data() + pos;
    size_t len = nl - pos;
    pos = nl + 1;
    // A field line: "Rss:   1234 kB"; a header line starts with a hex address.
    const char* colon = static_cast<const char*>(std::memchr(line, ':', len));
    bool field = colon != nullptr && std::isupper(static_cast<unsigned char>(line[0])) && std::memchr(line, ' ', colon - line) == nullptr;
    if (field) {
      if (!current) continue;
      double kb = std::strtod(colon + 1, nullptr) * 1024;
      std::string_view name(line, colon - line);
      if (name == "Rss") out.back().rss = kb;
      else if (name == "Pss") out.back().pss = kb;
      else if (name == "Swap") out.back().swap = kb;
      continue;
    }
    current = false;
    ForEachMapsLine(std::string_view(line, len), MapsFilter::kShared, [&](const MapsLine& l) {
      if (l.inode == 0) return;
      out.push_back(SmapsRow{pid, l.inode, std::string(l.path), 0, 0, 0});
      current = true;
    });
  }
}

// smapsOf(pids, budgetMs): the Rss, Pss and Swap of every shared mapping of an object by these
// processes, from /proc/PID/smaps (which waits on each process's memory lock: read by the one
// runner, answered by the deadline; a process not read by then is in `slow`).
Napi::Value SmapsOf(const Napi::CallbackInfo& info) {
  static const char* usage = "smapsOf(pids, budgetMs)";
  ExpectArgs(info, 2, usage);
  std::vector<int> pids = PidsArg(info, 0, usage);
  int64_t budgetMs = IntArg(info, 1, "budgetMs", 1, 600000, usage);
  struct Result {
    std::vector<SmapsRow> rows;
    std::vector<int> slow;
  };
  auto result = std::make_shared<Result>();
  auto work = [pids, budgetMs, result]() {
    auto per = std::make_shared<std::vector<std::vector<SmapsRow>>>(pids.size());
    std::vector<char> read = ReadProcesses(pids, Clock::now() + std::chrono::milliseconds(budgetMs), 1, [per](int, size_t i, int pid) {
      std::string text;
      if (ReadProcFile("/proc/" + std::to_string(pid) + "/smaps", text, kMaxMapsBytes * 4) == 0) ParseSmaps(pid, text, (*per)[i]);
    });
    for (size_t i = 0; i < pids.size(); i++) {
      if (!read[i]) {
        result->slow.push_back(pids[i]);
        continue;
      }
      for (auto& row : (*per)[i]) result->rows.push_back(std::move(row));
    }
  };
  return OffThread(info.Env(), "shmscope-smaps", -1, work, [result](Napi::Env env, Napi::Promise::Deferred& deferred, bool) {
    Napi::Array rows = Napi::Array::New(env, result->rows.size() * 6);
    for (size_t i = 0; i < result->rows.size(); i++) {
      const SmapsRow& r = result->rows[i];
      rows.Set(i * 6, r.pid);
      rows.Set(i * 6 + 1, static_cast<double>(r.inode));
      rows.Set(i * 6 + 2, r.path);
      rows.Set(i * 6 + 3, r.rss);
      rows.Set(i * 6 + 4, r.pss);
      rows.Set(i * 6 + 5, r.swap);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("rows", rows);
    Napi::Array slow = Napi::Array::New(env, result->slow.size());
    for (size_t i = 0; i < result->slow.size(); i++) slow.Set(i, result->slow[i]);
    out.Set("slow", slow);
    deferred.Resolve(out);
  });
}

// commandsOf(pids, budgetMs): the command lines of some processes (reading one waits on that
// process's memory lock: through the runner, answered by the deadline; missing ones are left out).
Napi::Value CommandsOf(const Napi::CallbackInfo& info) {
  static const char* usage = "commandsOf(pids, budgetMs)";
  ExpectArgs(info, 2, usage);
  std::vector<int> pids = PidsArg(info, 0, usage);
  int64_t budgetMs = IntArg(info, 1, "budgetMs", 1, 600000, usage);
  auto commands = std::make_shared<std::vector<std::pair<int, std::string>>>();
  auto work = [pids, budgetMs, commands]() {
    auto per = std::make_shared<std::vector<std::string>>(pids.size());
    std::vector<char> read = ReadProcesses(pids, Clock::now() + std::chrono::milliseconds(budgetMs), 1,
                                           [per](int, size_t i, int pid) { (*per)[i] = ProcCommandLine(pid); });
    for (size_t i = 0; i < pids.size(); i++) {
      if (read[i] && !(*per)[i].empty()) commands->emplace_back(pids[i], std::move((*per)[i]));
    }
  };
  return OffThread(info.Env(), "shmscope-commands", -1, work, [commands](Napi::Env env, Napi::Promise::Deferred& deferred, bool) {
    Napi::Object out = Napi::Object::New(env);
    for (auto& c : *commands) out.Set(std::to_string(c.first), c.second);
    deferred.Resolve(out);
  });
}

}  // namespace

void InitThreads(Napi::Env env, Napi::Object exports) {
  exports.Set("scanThreads", Napi::Function::New(env, ScanThreads, "scanThreads"));
  exports.Set("mapsOf", Napi::Function::New(env, MapsOf, "mapsOf"));
  exports.Set("commandsOf", Napi::Function::New(env, CommandsOf, "commandsOf"));
  exports.Set("smapsOf", Napi::Function::New(env, SmapsOf, "smapsOf"));
}

}  // namespace shmscope
