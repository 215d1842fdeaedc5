// The System V objects of another IPC namespace (a container's), seen from a thread that enters it.
//
// setns() changes the namespace of the calling thread only. It must never be the JS thread (every
// later shmget/semget of the editor would act in the container) nor a libuv pool thread (the next
// fs call queued on it would too). So each call below runs on a thread of the addon's own (OffThread,
// scan.h, answered by a deadline), which opens /proc/PID/ns/ipc, setns()es into it, does a short, bounded,
// non-blocking job (stat every object, read a segment's bytes, remove one object) and finishes; the
// thread goes back to the process's own namespaces before it takes other work (or ends: scan.h).
// Entering a namespace needs CAP_SYS_ADMIN: EPERM says so.
//
//   nsList(pid[, budgetMs])          -> Promise<{ shm: Float64Array, sem: [...], msg: [...], hostname }>
//   nsShmRead(pid, id, offset, len)  -> Promise<Buffer>   (attached read-only, copied, detached)
//   nsRemove(pid, kind, id)          -> Promise<void>     (kind "shm" | "sem" | "msg")
//   nsSem(pid, id, num, set, value)  -> Promise<void>     (post without blocking, or SETVAL)
//   nsMsgPeek(pid, id, index)        -> Promise<{type, data}> (msgrcv MSG_COPY: nothing consumed)
#include <fcntl.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common.h"
#include "scan.h"

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif

namespace shmscope {
namespace {

union SemunArg {
  int val;
  struct semid_ds* buf;
  unsigned short* array;
  struct seminfo* info;
};

struct Failure {
  std::string syscall;
  int err = 0;
  std::string detail;
};

// Enters the namespaces of `pid` (types: CLONE_NEWIPC, CLONE_NEWUTS) on the current thread.
bool Enter(int pid, const char* ns, int type, Failure& f) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    f = {"open", errno, path};
    return false;
  }
  EnteringNamespace(type);
  int rc = setns(fd, type);
  int err = errno;
  close(fd);
  if (rc < 0) {
    f = {"setns", err, std::string(ns) + " namespace of process " + std::to_string(pid)};
    return false;
  }
  return true;
}

struct SemRow {
  int id = 0;
  struct ipc_perm perm {};
  unsigned long nsems = 0;
  time_t otime = 0, ctime = 0;
  bool readable = false;
  std::vector<unsigned short> values;
  std::vector<int> ncnt, zcnt, pids;
};

struct MsgRow {
  int id;
  struct msqid_ds ds;
};

constexpr int kShmFields = 14;

// How long a call waits for its thread unless told otherwise.
constexpr int64_t kDefaultBudgetMs = 5000;

// Runs a job on a thread of the addon's own (OffThread, scan.h) that first enters the IPC namespace of
// pid, and answers by a deadline. A thread still inside then is abandoned (left running): the
// call fails with ETIMEDOUT naming it, and the worker lives on with that thread, which owns it.
class NsWorker {
 public:
  NsWorker(Napi::Env, int pid) : pid_(pid) {}
  virtual ~NsWorker() = default;
  void SetBudget(int64_t ms) { budgetMs_ = ms; }

  static Napi::Value Start(Napi::Env env, std::shared_ptr<NsWorker> w) {
    return OffThread(env, "shmscope-ns", w->budgetMs_, [w]() {
      if (Enter(w->pid_, "ipc", CLONE_NEWIPC, w->failure_)) w->Job();
    }, [w](Napi::Env e, Napi::Promise::Deferred& deferred, bool finished) {
      if (!finished) {
        deferred.Reject(ErrnoError(e, "setns", ETIMEDOUT,
                                   "the thread that entered the IPC namespace of process " + std::to_string(w->pid_) +
                                       " did not finish within " + std::to_string(w->budgetMs_) + " ms: it is left behind")
                            .Value());
        return;
      }
      if (w->failure_.err != 0) {
        deferred.Reject(ErrnoError(e, w->failure_.syscall.c_str(), w->failure_.err, w->failure_.detail).Value());
        return;
      }
      deferred.Resolve(w->Result(e));
    });
  }

 protected:
  virtual void Job() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;
  void Fail(const char* syscall, int err, const std::string& detail) { failure_ = {syscall, err, detail}; }
  int pid_;

 private:
  Failure failure_;
  int64_t budgetMs_ = kDefaultBudgetMs;
};

class ListWorker : public NsWorker {
 public:
  using NsWorker::NsWorker;

 protected:
  void Job() override {
    struct shm_info si;
    int maxShm = shmctl(0, SHM_INFO, reinterpret_cast<struct shmid_ds*>(&si));
    for (int index = 0; index <= maxShm && index < (1 << 16); index++) {
      struct shmid_ds ds;
      int id = shmctl(index, SHM_STAT_ANY, &ds);
      if (id < 0) continue;
      const double row[kShmFields] = {
          static_cast<double>(id), static_cast<double>(static_cast<uint32_t>(ds.shm_perm.__key)),
          static_cast<double>(ds.shm_perm.uid), static_cast<double>(ds.shm_perm.gid),
          static_cast<double>(ds.shm_perm.cuid), static_cast<double>(ds.shm_perm.cgid),
          static_cast<double>(ds.shm_perm.mode & 07777), static_cast<double>(ds.shm_segsz),
          static_cast<double>(ds.shm_nattch), static_cast<double>(ds.shm_cpid),
          static_cast<double>(ds.shm_lpid), static_cast<double>(ds.shm_atime),
          static_cast<double>(ds.shm_dtime), static_cast<double>(ds.shm_ctime),
      };
      shm_.insert(shm_.end(), row, row + kShmFields);
    }
    struct seminfo semi;
    SemunArg a;
    a.info = &semi;
    int maxSem = semctl(0, 0, SEM_INFO, a);
    for (int index = 0; index <= maxSem && index < (1 << 16); index++) {
      struct semid_ds ds;
      a.buf = &ds;
      int id = semctl(index, 0, SEM_STAT_ANY, a);
      if (id < 0) continue;
      SemRow r;
      r.id = id;
      r.perm = ds.sem_perm;
      r.nsems = ds.sem_nsems;
      r.otime = ds.sem_otime;
      r.ctime = ds.sem_ctime;
      if (r.nsems > 0 && r.nsems <= 65536) {
        r.values.resize(r.nsems);
        a.array = r.values.data();
        if (semctl(id, 0, GETALL, a) == 0) {
          r.readable = true;
          for (unsigned long n = 0; n < r.nsems; n++) {
            r.ncnt.push_back(semctl(id, static_cast<int>(n), GETNCNT));
            r.zcnt.push_back(semctl(id, static_cast<int>(n), GETZCNT));
            r.pids.push_back(semctl(id, static_cast<int>(n), GETPID));
          }
        }
      }
      sem_.push_back(std::move(r));
    }
    struct msginfo mi;
    int maxMsg = msgctl(0, MSG_INFO, reinterpret_cast<struct msqid_ds*>(&mi));
    for (int index = 0; index <= maxMsg && index < (1 << 16); index++) {
      struct msqid_ds ds;
      int id = msgctl(index, MSG_STAT_ANY, &ds);
      if (id < 0) continue;
      msg_.push_back({id, ds});
    }
    // The container's hostname, for its label (best effort: the UTS namespace may be the host's).
    Failure ignored;
    if (Enter(pid_, "uts", CLONE_NEWUTS, ignored)) {
      struct utsname u;
      if (uname(&u) == 0) hostname_ = u.nodename;
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Float64Array shm = Napi::Float64Array::New(env, shm_.size());
    if (!shm_.empty()) std::memcpy(shm.Data(), shm_.data(), shm_.size() * sizeof(double));
    o.Set("shm", shm);
    Napi::Array sem = Napi::Array::New(env, sem_.size());
    for (size_t i = 0; i < sem_.size(); i++) {
      const SemRow& r = sem_[i];
      Napi::Object s = Napi::Object::New(env);
      SetIpcPerm(s, r.id, r.perm);
      s.Set("nsems", Napi::Number::New(env, static_cast<double>(r.nsems)));
      s.Set("otime", Time(env, r.otime));
      s.Set("ctime", Time(env, r.ctime));
      s.Set("readable", r.readable);
      Napi::Array values = Napi::Array::New(env, r.values.size());
      Napi::Array ncnt = Napi::Array::New(env, r.ncnt.size());
      Napi::Array zcnt = Napi::Array::New(env, r.zcnt.size());
      Napi::Array pids = Napi::Array::New(env, r.pids.size());
      if (r.readable) {
        for (size_t n = 0; n < r.values.size(); n++) values.Set(n, r.values[n]);
        for (size_t n = 0; n < r.ncnt.size(); n++) ncnt.Set(n, r.ncnt[n]);
        for (size_t n = 0; n < r.zcnt.size(); n++) zcnt.Set(n, r.zcnt[n]);
        for (size_t n = 0; n < r.pids.size(); n++) pids.Set(n, r.pids[n]);
      }
      s.Set("values", r.readable ? values : Napi::Array::New(env, 0));
      s.Set("ncnt", ncnt);
      s.Set("zcnt", zcnt);
      s.Set("pids", pids);
      sem.Set(i, s);
    }
    o.Set("sem", sem);
    Napi::Array msg = Napi::Array::New(env, msg_.size());
    for (size_t i = 0; i < msg_.size(); i++) {
      const MsgRow& r = msg_[i];
      Napi::Object m = Napi::Object::New(env);
      SetIpcPerm(m, r.id, r.ds.msg_perm);
      m.Set("messages", Napi::Number::New(env, static_cast<double>(r.ds.msg_qnum)));
      m.Set("bytes", Napi::Number::New(env, static_cast<double>(r.ds.__msg_cbytes)));
      m.Set("qbytes", Napi::Number::New(env, static_cast<double>(r.ds.msg_qbytes)));
      m.Set("lspid", r.ds.msg_lspid);
      m.Set("lrpid", r.ds.msg_lrpid);
      m.Set("stime", Time(env, r.ds.msg_stime));
      m.Set("rtime", Time(env, r.ds.msg_rtime));
      m.Set("ctime", Time(env, r.ds.msg_ctime));
      msg.Set(i, m);
    }
    o.Set("msg", msg);
    o.Set("hostname", hostname_);
    return o;
  }

 private:
  std::vector<double> shm_;
  std::vector<SemRow> sem_;
  std::vector<MsgRow> msg_;
  std::string hostname_;
};

class ShmReadWorker : public NsWorker {
 public:
  ShmReadWorker(Napi::Env env, int pid, int id, int64_t offset, int64_t length)
      : NsWorker(env, pid), id_(id), offset_(offset), length_(length) {}

 protected:
  void Job() override {
    std::string what = "segment " + std::to_string(id_);
    struct shmid_ds ds;
    if (shmctl(id_, IPC_STAT, &ds) < 0) return Fail("shmctl(IPC_STAT)", errno, what);
    int64_t size = static_cast<int64_t>(ds.shm_segsz);
    if (offset_ > size || length_ > size - offset_) {
      return Fail("read", ERANGE,
                  "offset " + std::to_string(offset_) + " length " + std::to_string(length_) + " is outside " + what +
                      " of " + std::to_string(size) + " bytes");
    }
    void* at = shmat(id_, nullptr, SHM_RDONLY);
    if (at == reinterpret_cast<void*>(-1)) return Fail("shmat", errno, what);
    // The mapping belongs to the process, not the thread: copy, then detach before returning.
    bytes_.resize(static_cast<size_t>(length_));
    int err = GuardedRead(bytes_.data(), static_cast<const uint8_t*>(at) + offset_, bytes_.size());
    shmdt(at);
    if (err != 0) return Fail("read", err, what + " has a page the kernel cannot supply (a huge-page segment whose pool is empty?)");
  }

  Napi::Value Result(Napi::Env env) override {
    return Napi::Buffer<uint8_t>::Copy(env, bytes_.data(), bytes_.size());
  }

 private:
  int id_;
  int64_t offset_, length_;
  std::vector<uint8_t> bytes_;
};

class RemoveWorker : public NsWorker {
 public:
  RemoveWorker(Napi::Env env, int pid, std::string kind, int id) : NsWorker(env, pid), kind_(std::move(kind)), id_(id) {}

 protected:
  void Job() override {
    int rc;
    const char* call;
    if (kind_ == "shm") {
      call = "shmctl(IPC_RMID)";
      rc = shmctl(id_, IPC_RMID, nullptr);
    } else if (kind_ == "sem") {
      call = "semctl(IPC_RMID)";
      rc = semctl(id_, 0, IPC_RMID);
    } else {
      call = "msgctl(IPC_RMID)";
      rc = msgctl(id_, IPC_RMID, nullptr);
    }
    if (rc < 0) Fail(call, errno, kind_ + " " + std::to_string(id_));
  }

  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::string kind_;
  int id_;
};

// A non-blocking semaphore operation: post (semop +1, IPC_NOWAIT) or set (semctl SETVAL).
class SemWorker : public NsWorker {
 public:
  SemWorker(Napi::Env env, int pid, int id, int num, bool set, int value)
      : NsWorker(env, pid), id_(id), num_(num), set_(set), value_(value) {}

 protected:
  void Job() override {
    std::string what = "semaphore " + std::to_string(num_) + " of set " + std::to_string(id_);
    if (set_) {
      SemunArg a;
      a.val = value_;
      if (semctl(id_, num_, SETVAL, a) < 0) Fail("semctl(SETVAL)", errno, what);
      return;
    }
    struct sembuf op = {static_cast<unsigned short>(num_), 1, IPC_NOWAIT};
    if (semop(id_, &op, 1) < 0) Fail("semop", errno, what);
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  int id_, num_;
  bool set_;
  int value_;
};

// msgrcv(MSG_COPY | IPC_NOWAIT): message `index` copied, the queue left as it was.
class PeekWorker : public NsWorker {
 public:
  PeekWorker(Napi::Env env, int pid, int id, long index) : NsWorker(env, pid), id_(id), index_(index) {}

 protected:
  void Job() override {
    std::string what = "message queue " + std::to_string(id_) + ", message " + std::to_string(index_);
    for (size_t cap = 8192; cap <= (size_t{1} << 26); cap *= 4) {
      std::vector<uint8_t> buf(sizeof(long) + cap);
      ssize_t n = msgrcv(id_, buf.data(), cap, index_, MSG_COPY | IPC_NOWAIT);
      if (n >= 0) {
        std::memcpy(&type_, buf.data(), sizeof(long));
        data_.assign(buf.begin() + sizeof(long), buf.begin() + static_cast<long>(sizeof(long)) + n);
        return;
      }
      if (errno != E2BIG) return Fail("msgrcv(MSG_COPY)", errno, what);
    }
    Fail("msgrcv(MSG_COPY)", E2BIG, what);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", Napi::Number::New(env, static_cast<double>(type_)));
    o.Set("data", Napi::Buffer<uint8_t>::Copy(env, data_.data(), data_.size()));
    return o;
  }

 private:
  int id_;
  long index_;
  long type_ = 0;
  std::vector<uint8_t> data_;
};

constexpr int64_t kMaxPid = 1 << 22;

Napi::Value Start(Napi::Env env, NsWorker* worker) { return NsWorker::Start(env, std::shared_ptr<NsWorker>(worker)); }

Napi::Value NsList(const Napi::CallbackInfo& info) {
  const char* usage = "nsList(pid[, budgetMs])";
  ExpectArgs(info, 1, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, kMaxPid, usage));
  auto* worker = new ListWorker(info.Env(), pid);
  if (info.Length() > 1 && !info[1].IsUndefined()) worker->SetBudget(IntArg(info, 1, "budgetMs", 0, 600000, usage));
  return Start(info.Env(), worker);
}

Napi::Value NsShmRead(const Napi::CallbackInfo& info) {
  const char* usage = "nsShmRead(pid, id, offset, length)";
  ExpectArgs(info, 4, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, kMaxPid, usage));
  int id = static_cast<int>(IntArg(info, 1, "id", 0, INT32_MAX, usage));
  int64_t offset = IntArg(info, 2, "offset", 0, kMaxSafeInteger, usage);
  int64_t length = IntArg(info, 3, "length", 0, int64_t{1} << 30, usage);
  return Start(info.Env(), new ShmReadWorker(info.Env(), pid, id, offset, length));
}

Napi::Value NsRemove(const Napi::CallbackInfo& info) {
  const char* usage = "nsRemove(pid, kind, id)";
  ExpectArgs(info, 3, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, kMaxPid, usage));
  std::string kind = StringArg(info, 1, "kind", 8, usage);
  if (kind != "shm" && kind != "sem" && kind != "msg") {
    throw Napi::TypeError::New(info.Env(), std::string(usage) + ": kind must be shm, sem or msg");
  }
  int id = static_cast<int>(IntArg(info, 2, "id", 0, INT32_MAX, usage));
  return Start(info.Env(), new RemoveWorker(info.Env(), pid, kind, id));
}

Napi::Value NsSem(const Napi::CallbackInfo& info) {
  const char* usage = "nsSem(pid, id, num, set, value)";
  ExpectArgs(info, 5, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, kMaxPid, usage));
  int id = static_cast<int>(IntArg(info, 1, "id", 0, INT32_MAX, usage));
  int num = static_cast<int>(IntArg(info, 2, "num", 0, 65535, usage));
  bool set = BoolArg(info, 3, "set", usage);
  int value = static_cast<int>(IntArg(info, 4, "value", 0, 32767, usage));
  return Start(info.Env(), new SemWorker(info.Env(), pid, id, num, set, value));
}

Napi::Value NsMsgPeek(const Napi::CallbackInfo& info) {
  const char* usage = "nsMsgPeek(pid, id, index)";
  ExpectArgs(info, 3, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, kMaxPid, usage));
  int id = static_cast<int>(IntArg(info, 1, "id", 0, INT32_MAX, usage));
  long index = static_cast<long>(IntArg(info, 2, "index", 0, INT32_MAX, usage));
  return Start(info.Env(), new PeekWorker(info.Env(), pid, id, index));
}

}  // namespace

void InitNamespaces(Napi::Env env, Napi::Object exports) {
  exports.Set("nsSem", Napi::Function::New(env, NsSem, "nsSem"));
  exports.Set("nsMsgPeek", Napi::Function::New(env, NsMsgPeek, "nsMsgPeek"));
  exports.Set("nsList", Napi::Function::New(env, NsList, "nsList"));
  exports.Set("nsShmRead", Napi::Function::New(env, NsShmRead, "nsShmRead"));
  exports.Set("nsRemove", Napi::Function::New(env, NsRemove, "nsRemove"));
}

}  // namespace shmscope
