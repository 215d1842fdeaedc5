// Fast listing helpers.
//
// shmStatAll(): every System V segment through shmctl(SHM_STAT_ANY), as /proc/sysvipc/shm shows
// them (no read permission needed) but without the per-segment rss/swap walk that makes that file
// slow to produce: 4096 segments cost ~10 ms there and ~1 ms here. Returns { rows, used }.
//
// scanMaps(budgetMs): who maps which segment or /dev/shm file, from every /proc/PID/maps, parsed in
// C++ on a thread of its own and answered by a deadline (see RunScan), so neither the JS thread nor
// libuv's pool ever waits on another process's memory lock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif

namespace shmscope {
namespace {

// Fields per segment in shmStatAll's flat array, in this order.
constexpr int kShmFields = 14;

Napi::Value ShmStatAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct shm_info si;
  int maxIndex = shmctl(0, SHM_INFO, reinterpret_cast<struct shmid_ds*>(&si));
  if (maxIndex < 0) ThrowErrno(env, "shmctl(SHM_INFO)", errno);
  std::vector<double> out;
  out.reserve(static_cast<size_t>(si.used_ids) * kShmFields);
  for (int index = 0; index <= maxIndex; index++) {
    struct shmid_ds ds;
    int id = shmctl(index, SHM_STAT_ANY, &ds);
    if (id < 0) continue;  // a free slot, removed meanwhile, or a kernel before 4.17 (see used)
    const double row[kShmFields] = {
        static_cast<double>(id),
        static_cast<double>(static_cast<uint32_t>(ds.shm_perm.__key)),
        static_cast<double>(ds.shm_perm.uid),
        static_cast<double>(ds.shm_perm.gid),
        static_cast<double>(ds.shm_perm.cuid),
        static_cast<double>(ds.shm_perm.cgid),
        static_cast<double>(ds.shm_perm.mode & 07777),
        static_cast<double>(ds.shm_segsz),
        static_cast<double>(ds.shm_nattch),
        static_cast<double>(ds.shm_cpid),
        static_cast<double>(ds.shm_lpid),
        static_cast<double>(ds.shm_atime),
        static_cast<double>(ds.shm_dtime),
        static_cast<double>(ds.shm_ctime),
    };
    out.insert(out.end(), row, row + kShmFields);
  }
  Napi::Float64Array arr = Napi::Float64Array::New(env, out.size());
  if (!out.empty()) std::memcpy(arr.Data(), out.data(), out.size() * sizeof(double));
  // The caller compares `used` with the rows found: fewer rows means SHM_STAT_ANY is missing (or
  // the table changed meanwhile), and it reads /proc/sysvipc/shm instead.
  Napi::Object result = Napi::Object::New(env);
  result.Set("rows", arr);
  result.Set("used", si.used_ids);
  return result;
}

struct Mapping {
  int pid;
  long shmid;        // >= 0 for a System V segment
  std::string file;  // a /dev/shm name otherwise
};

// Parses the maps lines that name /SYSV or /dev/shm/; the path starts at the sixth field.
void ParseMaps(int pid, const std::string& text, std::vector<Mapping>& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const char* line = text.data() + pos;
    size_t len = end - pos;
    pos = end + 1;
    // Skip five fields: address perms offset dev inode.
    size_t i = 0;
    long inode = -1;
    for (int field = 0; field < 5 && i < len; field++) {
      while (i < len && line[i] == ' ') i++;
      size_t start = i;
      while (i < len && line[i] != ' ') i++;
      if (field == 4) inode = std::strtol(std::string(line + start, i - start).c_str(), nullptr, 10);
    }
    while (i < len && line[i] == ' ') i++;
    if (i >= len || line[i] != '/') continue;
    std::string path(line + i, len - i);
    const std::string deleted = " (deleted)";
    if (path.size() > deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0) {
      path.resize(path.size() - deleted.size());
    }
    if (path.compare(0, 5, "/SYSV") == 0) {
      out.push_back({pid, inode, ""});
    } else if (path.compare(0, 9, "/dev/shm/") == 0) {
      out.push_back({pid, -1, path.substr(9)});
    }
  }
}

// A process's command line: argv joined by spaces, "[comm]" for a kernel thread, "?" unknown.
std::string CommandOf(int pid) {
  std::string c = ProcCommandLine(pid);
  return c.empty() ? "?" : c;
}

// Reading another process's maps or cmdline takes its mmap lock, which a process can hold for as
// long as it likes (a fault on a hung FUSE file, userfaultfd). So the scan runs on a thread of its
// own, never on libuv's pool, and the caller gets an answer at its deadline whatever the thread is
// doing: what was read by then, and the pid it is stuck on. Later scans skip a pid while a scan is
// still stuck on it, so stuck threads stay as few as the stuck processes.
std::mutex stuckMutex;
std::vector<int> stuckPids;

bool IsStuck(int pid) {
  std::lock_guard<std::mutex> lock(stuckMutex);
  for (int p : stuckPids) {
    if (p == pid) return true;
  }
  return false;
}

struct ScanResult {
  std::vector<Mapping> found;
  std::vector<std::pair<int, std::string>> commands;
  std::vector<int> slow;  // pids not read within the budget (blocked, or skipped as still blocked)
  int unreadable = 0;
  bool complete = false;
};

struct ScanState {
  std::mutex mutex;
  std::condition_variable cv;
  ScanResult result;
  int current = 0;  // the pid being read now, 0 between files
  bool done = false;
  bool settled = false;
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction tsfn;
  explicit ScanState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void RunScan(const std::shared_ptr<ScanState>& st, std::chrono::steady_clock::time_point deadline) {
  DIR* dir = opendir("/proc");
  std::string text;
  auto enter = [&](int pid) {
    std::lock_guard<std::mutex> lock(st->mutex);
    st->current = pid;
    return !st->settled;
  };
  auto leave = [&]() {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (st->settled && st->current != 0) {
      // The caller was answered while we were blocked on this pid: it is no longer stuck.
      std::lock_guard<std::mutex> l2(stuckMutex);
      for (size_t i = 0; i < stuckPids.size(); i++) {
        if (stuckPids[i] == st->current) {
          stuckPids.erase(stuckPids.begin() + static_cast<long>(i));
          break;
        }
      }
    }
    st->current = 0;
    return !st->settled;
  };
  while (dir != nullptr) {
    struct dirent* e = readdir(dir);
    if (e == nullptr) break;
    char* endp = nullptr;
    long pid = std::strtol(e->d_name, &endp, 10);
    if (endp == e->d_name || *endp != '\0' || pid <= 0 || pid > INT32_MAX) continue;
    if (std::chrono::steady_clock::now() >= deadline || IsStuck(static_cast<int>(pid))) {
      std::lock_guard<std::mutex> lock(st->mutex);
      st->result.slow.push_back(static_cast<int>(pid));
      continue;
    }
    if (!enter(static_cast<int>(pid))) break;
    bool ok = ReadProcFile("/proc/" + std::string(e->d_name) + "/maps", text, size_t{64} << 20) == 0;
    int err = errno;
    std::vector<Mapping> found;
    std::string command;
    if (ok) {
      ParseMaps(static_cast<int>(pid), text, found);
      if (!found.empty()) command = CommandOf(static_cast<int>(pid));
    }
    if (!leave()) break;
    std::lock_guard<std::mutex> lock(st->mutex);
    if (!ok) {
      if (err == EACCES || err == EPERM) st->result.unreadable++;
      continue;  // ENOENT: the process ended meanwhile
    }
    if (!found.empty()) {
      st->result.found.insert(st->result.found.end(), found.begin(), found.end());
      st->result.commands.emplace_back(static_cast<int>(pid), command);
    }
  }
  if (dir != nullptr) closedir(dir);
  std::lock_guard<std::mutex> lock(st->mutex);
  st->result.complete = true;
  st->done = true;
  st->cv.notify_all();
}

struct ScanHolder {
  ScanResult result;
  std::shared_ptr<ScanState> state;
};

void Deliver(Napi::Env env, Napi::Function fn, ScanHolder* h) {
  Napi::Array list = Napi::Array::New(env, h->result.found.size());
  for (size_t i = 0; i < h->result.found.size(); i++) {
    const Mapping& f = h->result.found[i];
    Napi::Object m = Napi::Object::New(env);
    m.Set("pid", f.pid);
    if (f.shmid >= 0) {
      m.Set("shmid", Napi::Number::New(env, static_cast<double>(f.shmid)));
    } else {
      m.Set("file", f.file);
    }
    list.Set(i, m);
  }
  Napi::Object commands = Napi::Object::New(env);
  for (auto& c : h->result.commands) commands.Set(std::to_string(c.first), c.second);
  Napi::Array slow = Napi::Array::New(env, h->result.slow.size());
  for (size_t i = 0; i < h->result.slow.size(); i++) slow.Set(i, h->result.slow[i]);
  Napi::Object result = Napi::Object::New(env);
  result.Set("mappings", list);
  result.Set("commands", commands);
  result.Set("unreadable", h->result.unreadable);
  result.Set("slow", slow);
  result.Set("complete", h->result.complete);
  h->state->deferred.Resolve(result);
  (void)fn;
  delete h;
}

// scanMaps(budgetMs) -> Promise<{ mappings, commands, unreadable, slow, complete }>
Napi::Value ScanMaps(const Napi::CallbackInfo& info) {
  const char* usage = "scanMaps(budgetMs)";
  ExpectArgs(info, 1, usage);
  int64_t budgetMs = IntArg(info, 0, "budgetMs", 1, 600000, usage);
  Napi::Env env = info.Env();
  auto st = std::make_shared<ScanState>(env);
  st->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                           "shmscope-scan", 0, 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(budgetMs);
  try {
    std::thread([st, deadline]() { RunScan(st, deadline); }).detach();
    // The watchdog answers the caller: when the scan is done, or at the deadline with what it has.
    std::thread([st, deadline]() {
      auto* h = new ScanHolder();
      h->state = st;
      {
        std::unique_lock<std::mutex> lock(st->mutex);
        st->cv.wait_until(lock, deadline + std::chrono::milliseconds(50), [&] { return st->done; });
        st->settled = true;
        h->result = st->result;
        if (!st->done && st->current != 0) {
          h->result.slow.push_back(st->current);
          std::lock_guard<std::mutex> l2(stuckMutex);
          stuckPids.push_back(st->current);
        }
      }
      Napi::ThreadSafeFunction tsfn = st->tsfn;
      if (tsfn.BlockingCall(h, Deliver) != napi_ok) delete h;  // the environment is gone
      tsfn.Release();
    }).detach();
  } catch (const std::system_error& e) {
    st->tsfn.Release();
    ThrowErrno(env, "pthread_create", e.code().value(), "could not start a thread for the /proc scan");
  }
  return st->deferred.Promise();
}

}  // namespace

void InitProcScan(Napi::Env env, Napi::Object exports) {
  exports.Set("shmStatAll", Napi::Function::New(env, ShmStatAll, "shmStatAll"));
  exports.Set("shmStatFields", Napi::Number::New(env, kShmFields));
  exports.Set("scanMaps", Napi::Function::New(env, ScanMaps, "scanMaps"));
}

}  // namespace shmscope
