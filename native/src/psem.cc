// POSIX named semaphores (/dev/shm/sem.NAME), without letting glibc touch the file.
//
// A named semaphore is a 32-byte file that any user with write access may truncate or fill with
// garbage while we use it. glibc's sem_* functions access it through a mapping: a truncated file
// raises SIGBUS, and garbage makes sem_post abort ("The futex facility returned an unexpected
// error code"). Either would kill the editor's extension host. So this file decodes glibc's x86-64
// layout itself and never calls sem_* on an existing semaphore:
//   - the value is read with pread and validated (size, value <= SEM_VALUE_MAX, `private` word);
//   - post is one FUTEX_WAKE_OP system call: the kernel adds 1 to the value word and wakes a
//     waiter; a truncated file gives EFAULT, not a signal;
//   - wait and tryWait need a compare-and-swap, which only user space can do: it runs under a
//     SIGBUS guard (sigsetjmp plus a handler that only acts on a fault of a guarded access on the
//     same thread), and the sleep itself is FUTEX_WAIT, again a kernel access.
// Only creation goes through glibc's sem_open(O_CREAT|O_EXCL): it writes a file of its own.
#include <fcntl.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "common.h"
#include "waiter.h"

namespace shmscope {
namespace {

// glibc's struct new_sem on 64-bit targets: `data` holds the value in its low 32 bits and the
// number of waiters in its high 32 bits; `private` is 0 for a process-shared semaphore (the futex
// is shared) or FUTEX_PRIVATE_FLAG.
constexpr size_t kSemFileSize = sizeof(sem_t);  // 32 on x86-64
constexpr uint64_t kValueMask = 0xffffffffu;
constexpr int kNwaitersShift = 32;
static_assert(sizeof(sem_t) >= 16, "sem_t holds glibc's 64-bit data word and private word");

struct SemWords {
  uint64_t data;
  int32_t priv;
};

long Futex(void* addr, int op, uint32_t val, const struct timespec* timeout, void* addr2, uint32_t val3) {
  return syscall(SYS_futex, addr, op, val, timeout, addr2, val3);
}

// ---------------------------------------------------------------------------------------------
// The SIGBUS guard: a fault inside Guarded() on this thread jumps back instead of killing us.

thread_local sigjmp_buf* guardJump = nullptr;
struct sigaction previousBus;
std::mutex installMutex;
std::atomic<bool> ours{false};  // our handler is SIGBUS's disposition now

void OnSigbus(int sig, siginfo_t* si, void* uc) {
  // Ours: a fault the kernel raised (si_code > 0, not a kill()) on a guarded access of this thread.
  if (guardJump != nullptr && si != nullptr && si->si_code > 0) siglongjmp(*guardJump, 1);
  // Not ours: hand SIGBUS back to whoever had it before us (or to the default, which ends the
  // process as it would have without us). A fault recurs when the access runs again; a SIGBUS
  // sent by kill() is raised again for the previous disposition. The guard re-installs itself on
  // its next use.
  sigaction(SIGBUS, &previousBus, nullptr);
  ours.store(false);
  if (si == nullptr || si->si_code <= 0) raise(sig);
  (void)uc;
}

bool InstallGuard() {
  if (ours.load()) return true;
  std::lock_guard<std::mutex> lock(installMutex);
  if (ours.load()) return true;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = OnSigbus;
  // SA_NODEFER: the jump leaves the handler without sigreturn, so SIGBUS must not stay blocked.
  sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  struct sigaction before;
  if (sigaction(SIGBUS, &sa, &before) != 0) return false;
  if (before.sa_sigaction != OnSigbus) previousBus = before;
  ours.store(true);
  return true;
}

// Runs `fn` (plain loads and atomics on the mapping, nothing with a destructor); returns false
// when it faulted.
template <typename Fn>
bool Guarded(Fn fn) {
  if (!InstallGuard()) return false;
  sigjmp_buf jump;
  guardJump = &jump;  // also makes sure this thread's TLS block exists before any fault
  if (sigsetjmp(jump, 0) != 0) {
    guardJump = nullptr;
    return false;
  }
  fn();
  guardJump = nullptr;
  return true;
}

// ---------------------------------------------------------------------------------------------

struct SemHandle {
  int fd = -1;
  bool writable = false;
  void* map = nullptr;  // mapped on the first post or wait
  std::mutex mapMutex;
  ~SemHandle() {
    if (map != nullptr) munmap(map, kSemFileSize);
    if (fd >= 0) close(fd);
  }
};

// Why a semaphore file cannot be used, as errno plus the addon's sentence; 0 when it is fine.
struct Check {
  int err = 0;
  std::string why;
  SemWords words{};
};

Check ReadWords(int fd, const std::string& name) {
  Check c;
  unsigned char buf[kSemFileSize];
  ssize_t n;
  do n = pread(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    c.err = errno;
    c.why = name;
    return c;
  }
  if (static_cast<size_t>(n) < kSemFileSize) {
    c.err = EINVAL;
    c.why = name + " is " + std::to_string(n) + " bytes, too small for a semaphore (" + std::to_string(kSemFileSize) +
            "): it was truncated or is not a semaphore";
    return c;
  }
  std::memcpy(&c.words.data, buf, sizeof c.words.data);
  std::memcpy(&c.words.priv, buf + 8, sizeof c.words.priv);
  uint64_t value = c.words.data & kValueMask;
  if (value > static_cast<uint64_t>(SEM_VALUE_MAX) || (c.words.priv != 0 && c.words.priv != FUTEX_PRIVATE_FLAG)) {
    c.err = EINVAL;
    char hex[40];
    std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(c.words.data));
    c.why = name + " does not hold a valid semaphore (its data word reads " + hex +
            "): the file holds garbage or is not a semaphore";
  }
  return c;
}

class PosixSem : public Napi::ObjectWrap<PosixSem> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PosixSem",
                       {
                           InstanceAccessor<&PosixSem::Name>("name"),
                           InstanceMethod<&PosixSem::Value>("value"),
                           InstanceMethod<&PosixSem::Post>("post"),
                           InstanceMethod<&PosixSem::TryWait>("tryWait"),
                           InstanceMethod<&PosixSem::Wait>("wait"),
                           InstanceMethod<&PosixSem::Close>("close"),
                       });
  }

  // new PosixSem(name, create, exclusive, mode, value)
  explicit PosixSem(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PosixSem>(info) {
    const char* usage = "new PosixSem(name, create, exclusive, mode, value)";
    ExpectArgs(info, 5, usage);
    name_ = PosixNameArg(info, 0, usage);
    bool create = BoolArg(info, 1, "create", usage);
    bool exclusive = BoolArg(info, 2, "exclusive", usage);
    mode_t mode = static_cast<mode_t>(IntArg(info, 3, "mode", 0, 0777, usage));
    unsigned value = static_cast<unsigned>(IntArg(info, 4, "value", 0, SEM_VALUE_MAX, usage));
    Napi::Env env = info.Env();
    std::string file = "/dev/shm/sem." + name_.substr(1);
    bool created = false;
    if (create) {
      // glibc writes and links a new file of its own here: nothing of another user's is touched.
      sem_t* s = sem_open(name_.c_str(), O_CREAT | O_EXCL, mode, value);
      if (s == SEM_FAILED) {
        if (errno != EEXIST || exclusive) ThrowErrno(env, "sem_open", errno, name_);
      } else {
        sem_close(s);
        created = true;
      }
    }
    handle_ = std::make_shared<SemHandle>();
    int fd = -1;
    try {
      fd = OpenRegular(env, file, O_RDWR, 0, "sem_open", name_);
      handle_->writable = true;
    } catch (const Napi::Error& e) {
      Napi::Value code = e.Get("code");
      bool denied = code.IsString() && (code.As<Napi::String>().Utf8Value() == "EACCES" ||
                                        code.As<Napi::String>().Utf8Value() == "EROFS");
      if (!denied) throw;
      fd = OpenRegular(env, file, O_RDONLY, 0, "sem_open", name_);  // enough to read the value
    }
    handle_->fd = fd;
    if (created) fchmod(fd, mode);  // the umask must not narrow what was asked (fd: no link is followed)
    Check c = ReadWords(fd, name_);
    if (c.err != 0) ThrowErrno(env, "sem_open", c.err, c.why);
  }

 private:
  SemHandle& Require(Napi::Env env, const char* what) {
    if (!handle_) ThrowErrno(env, what, EBADF, name_ + " is closed");
    return *handle_;
  }

  // The mapping for post and wait; EACCES when we could only open the file read-only.
  static int Mapped(SemHandle& h, void** out) {
    if (!h.writable) return EACCES;
    std::lock_guard<std::mutex> lock(h.mapMutex);
    if (h.map == nullptr) {
      void* m = mmap(nullptr, kSemFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, h.fd, 0);
      if (m == MAP_FAILED) return errno;
      h.map = m;
    }
    *out = h.map;
    return 0;
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

  Napi::Value Value(const Napi::CallbackInfo& info) {
    Check c = ReadWords(Require(info.Env(), "sem_getvalue").fd, name_);
    if (c.err != 0) ThrowErrno(info.Env(), "sem_getvalue", c.err, c.why);
    return Napi::Number::New(info.Env(), static_cast<double>(c.words.data & kValueMask));
  }

  Napi::Value Post(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SemHandle& h = Require(env, "sem_post");
    Check c = ReadWords(h.fd, name_);
    if (c.err != 0) ThrowErrno(env, "sem_post", c.err, c.why);
    if ((c.words.data & kValueMask) >= static_cast<uint64_t>(SEM_VALUE_MAX)) {
      ThrowErrno(env, "sem_post", EOVERFLOW, name_ + " is at its maximum value (" + std::to_string(SEM_VALUE_MAX) + ")");
    }
    void* map = nullptr;
    if (int err = Mapped(h, &map)) ThrowErrno(env, "sem_post", err, name_);
    // Adds 1 to the value word and wakes one waiter, in the kernel: EFAULT if the file shrank.
    const int op = c.words.priv == FUTEX_PRIVATE_FLAG ? FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG : FUTEX_WAKE_OP;
    if (Futex(map, op, 1, nullptr, map, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)) < 0) {
      int err = errno;
      ThrowErrno(env, "sem_post", err, err == EFAULT ? name_ + " was truncated while it was being posted" : name_);
    }
    return env.Undefined();
  }

  // One decrement attempt: 0 done, EAGAIN when the value is 0 (then `waiters` was incremented when
  // asked), EFAULT when the file shrank under us, EINVAL on garbage.
  static int TryDecrement(SemHandle& h, void* map, bool registerWaiter, bool* registered) {
    auto* word = static_cast<uint64_t*>(map);
    volatile int result = EAGAIN;
    volatile bool reg = false;
    bool ok = Guarded([&] {
      uint64_t d = __atomic_load_n(word, __ATOMIC_ACQUIRE);
      for (;;) {
        uint64_t v = d & kValueMask;
        if (v > static_cast<uint64_t>(SEM_VALUE_MAX)) {
          result = EINVAL;
          return;
        }
        if (v == 0) {
          if (registerWaiter) {
            __atomic_fetch_add(word, uint64_t{1} << kNwaitersShift, __ATOMIC_ACQ_REL);
            reg = true;
          }
          result = EAGAIN;
          return;
        }
        if (__atomic_compare_exchange_n(word, &d, d - 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
          result = 0;
          return;
        }
      }
    });
    (void)h;
    *registered = reg;
    return ok ? result : EFAULT;
  }

  static void Unregister(void* map) {
    auto* word = static_cast<uint64_t*>(map);
    Guarded([&] {
      uint64_t d = __atomic_load_n(word, __ATOMIC_RELAXED);
      while ((d >> kNwaitersShift) > 0 &&
             !__atomic_compare_exchange_n(word, &d, d - (uint64_t{1} << kNwaitersShift), true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED)) {
      }
    });
  }

  // tryWait() -> true when decremented, false when the value is 0.
  Napi::Value TryWait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SemHandle& h = Require(env, "sem_trywait");
    Check c = ReadWords(h.fd, name_);
    if (c.err != 0) ThrowErrno(env, "sem_trywait", c.err, c.why);
    void* map = nullptr;
    if (int err = Mapped(h, &map)) ThrowErrno(env, "sem_trywait", err, name_);
    bool registered = false;
    int rc = TryDecrement(h, map, false, &registered);
    if (rc == 0) return Napi::Boolean::New(env, true);
    if (rc == EAGAIN) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "sem_trywait", rc, Explain(rc, "waited on"));
  }

  std::string Explain(int err, const char* doing) const {
    if (err == EFAULT) return name_ + " was truncated while it was being " + doing;
    if (err == EINVAL) return name_ + " does not hold a valid semaphore: the file holds garbage or is not a semaphore";
    return name_;
  }

  // wait(timeoutMs) -> { promise, cancel }
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    const char* usage = "semaphore.wait(timeoutMs)";
    ExpectArgs(info, 1, usage);
    int64_t timeoutMs = IntArg(info, 0, "timeoutMs", 0, kMaxWaitMs, usage);
    Napi::Env env = info.Env();
    SemHandle& h = Require(env, "sem_timedwait");
    void* map = nullptr;
    if (int err = Mapped(h, &map)) ThrowErrno(env, "sem_timedwait", err, name_);
    auto job = std::make_shared<WaitJob>();
    std::shared_ptr<SemHandle> handle = handle_;
    auto failure = std::make_shared<std::string>();
    std::string name = name_;
    job->attempt = [handle, map, name, failure](const struct timespec& slice) {
      Check c = ReadWords(handle->fd, name);
      if (c.err != 0) {
        *failure = c.why;
        return c.err;
      }
      bool registered = false;
      int rc = TryDecrement(*handle, map, true, &registered);
      if (rc != EAGAIN) {
        if (rc == EFAULT) *failure = name + " was truncated while it was being waited on";
        if (rc == EINVAL) *failure = name + " does not hold a valid semaphore: the file holds garbage or is not a semaphore";
        return rc;
      }
      const int op = c.words.priv == FUTEX_PRIVATE_FLAG ? FUTEX_WAIT | FUTEX_PRIVATE_FLAG : FUTEX_WAIT;
      long r = Futex(map, op, 0, &slice, nullptr, 0);  // sleeps only while the value word is 0
      int err = r < 0 ? errno : 0;
      if (registered) Unregister(map);
      if (err == EFAULT) {
        *failure = name + " was truncated while it was being waited on";
        return EFAULT;
      }
      return EAGAIN;  // woken, timed out or the value changed: try again
    };
    job->describe = [failure, name]() { return failure->empty() ? name : *failure; };
    return StartWait(env, job, timeoutMs, "sem_timedwait", name_);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    handle_.reset();
    return info.Env().Undefined();
  }

  std::string name_;
  std::shared_ptr<SemHandle> handle_;
};

Napi::Value PosixSemUnlink(const Napi::CallbackInfo& info) {
  const char* usage = "posixSemUnlink(name)";
  ExpectArgs(info, 1, usage);
  std::string name = PosixNameArg(info, 0, usage);
  if (sem_unlink(name.c_str()) < 0) ThrowErrno(info.Env(), "sem_unlink", errno, name);
  return info.Env().Undefined();
}

}  // namespace

void InitPosixSem(Napi::Env env, Napi::Object exports) {
  exports.Set("PosixSem", PosixSem::Define(env));
  exports.Set("posixSemUnlink", Napi::Function::New(env, PosixSemUnlink, "posixSemUnlink"));
}

}  // namespace shmscope
