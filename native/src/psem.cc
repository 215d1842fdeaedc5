// POSIX named semaphores (/dev/shm/sem.NAME).
//
// glibc maps the semaphore's file; a file shorter than a sem_t (created by hand, or truncated)
// would raise SIGBUS on the first access, so the file's size is checked before sem_open maps it.
// A waiter thread may still be using the semaphore when JS closes it: the handle is shared and
// sem_close runs when its last user lets go.
#include <fcntl.h>
#include <semaphore.h>
#include <sys/stat.h>
#include <time.h>
#include <limits.h>

#include <cerrno>
#include <memory>

#include "common.h"
#include "waiter.h"

namespace shmscope {
namespace {

struct SemHandle {
  sem_t* sem = SEM_FAILED;
  ~SemHandle() {
    if (sem != SEM_FAILED) sem_close(sem);
  }
};

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
    struct stat st;
    if (!exclusive && stat(file.c_str(), &st) == 0 && st.st_size < static_cast<off_t>(sizeof(sem_t))) {
      ThrowErrno(env, "sem_open", EINVAL, file + " is " + std::to_string(st.st_size) + " bytes, too small for a semaphore");
    }
    int flags = (create ? O_CREAT : 0) | (exclusive ? O_EXCL : 0);
    handle_ = std::make_shared<SemHandle>();
    handle_->sem = create ? sem_open(name_.c_str(), flags, mode, value) : sem_open(name_.c_str(), 0);
    if (handle_->sem == SEM_FAILED) ThrowErrno(env, "sem_open", errno, name_);
    if (create && exclusive) chmod(file.c_str(), mode);  // the umask must not narrow what was asked
  }

 private:
  SemHandle& Require(Napi::Env env, const char* what) {
    if (!handle_) ThrowErrno(env, what, EBADF, name_ + " is closed");
    return *handle_;
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

  Napi::Value Value(const Napi::CallbackInfo& info) {
    int v = 0;
    if (sem_getvalue(Require(info.Env(), "sem_getvalue").sem, &v) < 0) ThrowErrno(info.Env(), "sem_getvalue", errno, name_);
    return Napi::Number::New(info.Env(), v);
  }

  Napi::Value Post(const Napi::CallbackInfo& info) {
    if (sem_post(Require(info.Env(), "sem_post").sem) < 0) ThrowErrno(info.Env(), "sem_post", errno, name_);
    return info.Env().Undefined();
  }

  // tryWait() -> true when decremented, false when the value is 0.
  Napi::Value TryWait(const Napi::CallbackInfo& info) {
    sem_t* sem = Require(info.Env(), "sem_trywait").sem;
    for (;;) {
      if (sem_trywait(sem) == 0) return Napi::Boolean::New(info.Env(), true);
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Napi::Boolean::New(info.Env(), false);
      ThrowErrno(info.Env(), "sem_trywait", errno, name_);
    }
  }

  // wait(timeoutMs) -> { promise, cancel }
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    const char* usage = "semaphore.wait(timeoutMs)";
    ExpectArgs(info, 1, usage);
    int64_t timeoutMs = IntArg(info, 0, "timeoutMs", 0, kMaxWaitMs, usage);
    Require(info.Env(), "sem_clockwait");
    auto job = std::make_shared<WaitJob>();
    std::shared_ptr<SemHandle> handle = handle_;
    job->attempt = [handle](const struct timespec& slice) {
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      until.tv_sec += slice.tv_sec;
      until.tv_nsec += slice.tv_nsec;
      if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
      }
      return sem_clockwait(handle->sem, CLOCK_MONOTONIC, &until) == 0 ? 0 : errno;
    };
    return StartWait(info.Env(), job, timeoutMs, "sem_timedwait", name_);
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
