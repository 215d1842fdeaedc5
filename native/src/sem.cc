// System V semaphore sets: create, inspect (values, waiters, last pid), set, operate, remove.
//
// Operations are tried without blocking first (IPC_NOWAIT) on the JS thread, which makes a post or
// an uncontended wait cost one system call; only an operation that would block goes to a waiter
// thread (waiter.h), bounded by semtimedop's timeout.
#include <sys/ipc.h>
#include <sys/sem.h>

#include <cerrno>
#include <vector>

#include "common.h"
#include "waiter.h"

namespace shmscope {
namespace {

union semun {
  int val;
  struct semid_ds* buf;
  unsigned short* array;
};

constexpr int64_t kSemMax = 32767;  // SEMVMX
constexpr size_t kMaxOps = 500;     // SEMOPM's default, a generous bound

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

std::string SetName(int id) { return "semaphore set " + std::to_string(id); }

Napi::Value SemGet(const Napi::CallbackInfo& info) {
  const char* usage = "semGet(key, nsems, mode, create, exclusive)";
  ExpectArgs(info, 5, usage);
  key_t key = static_cast<key_t>(IntArg(info, 0, "key", INT32_MIN, UINT32_MAX, usage));
  int nsems = static_cast<int>(IntArg(info, 1, "nsems", 0, 32000, usage));
  int flags = static_cast<int>(IntArg(info, 2, "mode", 0, 0777, usage));
  if (BoolArg(info, 3, "create", usage)) flags |= IPC_CREAT;
  if (BoolArg(info, 4, "exclusive", usage)) flags |= IPC_EXCL;
  int id = semget(key, nsems, flags);
  if (id < 0) ThrowErrno(info.Env(), "semget", errno);
  return Napi::Number::New(info.Env(), id);
}

// semInfo(id) -> { id, key, uid, gid, cuid, cgid, mode, nsems, otime, ctime, values[], ncnt[], zcnt[], pids[] }
Napi::Value SemInfo(const Napi::CallbackInfo& info) {
  const char* usage = "semInfo(id)";
  ExpectArgs(info, 1, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  Napi::Env env = info.Env();
  struct semid_ds ds;
  semun arg;
  arg.buf = &ds;
  if (semctl(id, 0, IPC_STAT, arg) < 0) ThrowErrno(env, "semctl(IPC_STAT)", errno, SetName(id));
  size_t n = ds.sem_nsems;
  std::vector<unsigned short> values(n == 0 ? 1 : n);
  arg.array = values.data();
  if (n > 0 && semctl(id, 0, GETALL, arg) < 0) ThrowErrno(env, "semctl(GETALL)", errno, SetName(id));
  Napi::Array vals = Napi::Array::New(env, n), ncnt = Napi::Array::New(env, n), zcnt = Napi::Array::New(env, n),
              pids = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    int nc = semctl(id, static_cast<int>(i), GETNCNT);
    int zc = semctl(id, static_cast<int>(i), GETZCNT);
    int pid = semctl(id, static_cast<int>(i), GETPID);
    if (nc < 0 || zc < 0 || pid < 0) ThrowErrno(env, "semctl(GETNCNT)", errno, SetName(id));
    vals.Set(i, values[i]);
    ncnt.Set(i, nc);
    zcnt.Set(i, zc);
    pids.Set(i, pid);
  }
  Napi::Object o = Napi::Object::New(env);
  SetIpcPerm(o, id, ds.sem_perm);
  o.Set("nsems", Napi::Number::New(env, static_cast<double>(n)));
  o.Set("otime", Time(env, ds.sem_otime));
  o.Set("ctime", Time(env, ds.sem_ctime));
  o.Set("values", vals);
  o.Set("ncnt", ncnt);
  o.Set("zcnt", zcnt);
  o.Set("pids", pids);
  return o;
}

Napi::Value SemSetVal(const Napi::CallbackInfo& info) {
  const char* usage = "semSetVal(id, num, value)";
  ExpectArgs(info, 3, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  int num = static_cast<int>(IntArg(info, 1, "num", 0, 32000, usage));
  semun arg;
  arg.val = static_cast<int>(IntArg(info, 2, "value", 0, kSemMax, usage));
  if (semctl(id, num, SETVAL, arg) < 0) {
    ThrowErrno(info.Env(), "semctl(SETVAL)", errno, SetName(id) + ", semaphore " + std::to_string(num));
  }
  return info.Env().Undefined();
}

// The number of semaphores in set `id`, with read permission or without: SEM_STAT_ANY (Linux 4.17)
// stats by table index (an id's low 15 bits) and needs no permission; IPC_STAT otherwise.
int SemCount(Napi::Env env, int id) {
  struct semid_ds ds;
  semun arg;
  arg.buf = &ds;
  if (semctl(id % 32768, 0, SEM_STAT_ANY, arg) == id) return static_cast<int>(ds.sem_nsems);
  if (semctl(id, 0, IPC_STAT, arg) < 0) ThrowErrno(env, "semctl(IPC_STAT)", errno, SetName(id));
  return static_cast<int>(ds.sem_nsems);
}

Napi::Value SemSetAll(const Napi::CallbackInfo& info) {
  const char* usage = "semSetAll(id, values)";
  ExpectArgs(info, 2, usage);
  Napi::Env env = info.Env();
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, std::string(usage) + ": values must be an array");
  Napi::Array arr = info[1].As<Napi::Array>();
  // SETALL reads sem_nsems values from our buffer, whatever its length: it must match exactly.
  int nsems = SemCount(env, id);
  if (arr.Length() != static_cast<uint32_t>(nsems)) {
    throw Napi::TypeError::New(env, std::string(usage) + ": " + SetName(id) + " has " + std::to_string(nsems) +
                                        " semaphore(s), got " + std::to_string(arr.Length()) + " value(s)");
  }
  std::vector<unsigned short> values(nsems == 0 ? 1 : static_cast<size_t>(nsems));
  for (uint32_t i = 0; i < arr.Length(); i++) {
    values[i] = static_cast<unsigned short>(IntValue(env, arr.Get(i), "values[" + std::to_string(i) + "]", 0, kSemMax, usage));
  }
  semun arg;
  arg.array = values.data();
  if (semctl(id, 0, SETALL, arg) < 0) ThrowErrno(env, "semctl(SETALL)", errno, SetName(id));
  return env.Undefined();
}

// Reads [{ num, op, undo? }, …] into sembufs.
std::vector<struct sembuf> OpsArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) throw Napi::TypeError::New(env, std::string(usage) + ": ops must be an array");
  Napi::Array arr = info[i].As<Napi::Array>();
  if (arr.Length() == 0 || arr.Length() > kMaxOps) {
    throw Napi::TypeError::New(env, std::string(usage) + ": ops must hold 1 to 500 operations");
  }
  std::vector<struct sembuf> ops;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsObject()) throw Napi::TypeError::New(env, std::string(usage) + ": each op must be { num, op }");
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value undo = o.Get("undo");
    const std::string at = "ops[" + std::to_string(k) + "]";
    struct sembuf b{};
    b.sem_num = static_cast<unsigned short>(IntValue(env, o.Get("num"), at + ".num", 0, 32000, usage));
    b.sem_op = static_cast<short>(IntValue(env, o.Get("op"), at + ".op", -kSemMax, kSemMax, usage));
    b.sem_flg = (undo.IsBoolean() && undo.As<Napi::Boolean>().Value()) ? SEM_UNDO : 0;
    ops.push_back(b);
  }
  return ops;
}

// semOp(id, ops) -> true when done, false when it would block (nothing changed then).
Napi::Value SemOp(const Napi::CallbackInfo& info) {
  const char* usage = "semOp(id, ops)";
  ExpectArgs(info, 2, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  std::vector<struct sembuf> ops = OpsArg(info, 1, usage);
  for (auto& b : ops) b.sem_flg |= IPC_NOWAIT;
  for (;;) {
    if (semop(id, ops.data(), ops.size()) == 0) return Napi::Boolean::New(info.Env(), true);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return Napi::Boolean::New(info.Env(), false);
    ThrowErrno(info.Env(), "semop", errno, SetName(id));
  }
}

// semOpAsync(id, ops, timeoutMs) -> { promise, cancel }: blocks on a dedicated thread.
Napi::Value SemOpAsync(const Napi::CallbackInfo& info) {
  const char* usage = "semOpAsync(id, ops, timeoutMs)";
  ExpectArgs(info, 3, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  std::vector<struct sembuf> ops = OpsArg(info, 1, usage);
  int64_t timeoutMs = IntArg(info, 2, "timeoutMs", 0, kMaxWaitMs, usage);
  auto job = std::make_shared<WaitJob>();
  // The kernel wakes semtimedop for everything it waits for, and a cancel interrupts it: long
  // slices, so that the thread is in the call (and counted in semncnt) nearly all the time.
  job->slice = std::chrono::seconds(5);
  job->attempt = [id, ops](const struct timespec& slice) mutable {
    return semtimedop(id, ops.data(), ops.size(), &slice) == 0 ? 0 : errno;
  };
  return StartWait(info.Env(), job, timeoutMs, "semtimedop", SetName(id));
}

Napi::Value SemRemove(const Napi::CallbackInfo& info) {
  const char* usage = "semRemove(id)";
  ExpectArgs(info, 1, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  if (semctl(id, 0, IPC_RMID) < 0) ThrowErrno(info.Env(), "semctl(IPC_RMID)", errno, SetName(id));
  return info.Env().Undefined();
}

}  // namespace

void InitSem(Napi::Env env, Napi::Object exports) {
  exports.Set("semGet", Napi::Function::New(env, SemGet, "semGet"));
  exports.Set("semInfo", Napi::Function::New(env, SemInfo, "semInfo"));
  exports.Set("semSetVal", Napi::Function::New(env, SemSetVal, "semSetVal"));
  exports.Set("semSetAll", Napi::Function::New(env, SemSetAll, "semSetAll"));
  exports.Set("semOp", Napi::Function::New(env, SemOp, "semOp"));
  exports.Set("semOpAsync", Napi::Function::New(env, SemOpAsync, "semOpAsync"));
  exports.Set("semRemove", Napi::Function::New(env, SemRemove, "semRemove"));
}

}  // namespace shmscope
