// Fast listing helpers.
//
// shmStatAll(): every System V segment through shmctl(SHM_STAT_ANY), as /proc/sysvipc/shm shows
// them (no read permission needed) but without the per-segment rss/swap walk that makes that file
// slow to produce: 4096 segments cost ~10 ms there and ~1 ms here. Returns { rows, used }.
//
// scanMaps(budgetMs): who maps which segment or /dev/shm file, from every /proc/PID/maps: a view
// over the one runner (scan.h), so neither the JS thread nor libuv's pool ever waits on another
// process's memory lock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "scan.h"

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

// What one process maps of System V segments and /dev/shm names (shared mappings, as the regions
// scan counts them); the path starts at the sixth field.
struct Attachments {
  bool read = false;
  bool unreadable = false;
  std::vector<Mapping> found;
  std::string command;
};

void ReadAttachments(int pid, Attachments& a) {
  std::string text;
  if (ReadSharedMaps(pid, text) != 0) {  // empty when it maps nothing shared
    a.unreadable = errno == EACCES || errno == EPERM;  // ENOENT: the process ended meanwhile
    return;
  }
  a.read = true;
  ForEachMapsLine(text, MapsFilter::kShared, [&](const MapsLine& m) {
    std::string_view path = m.path;
    constexpr std::string_view deleted = " (deleted)";
    if (path.size() > deleted.size() && path.substr(path.size() - deleted.size()) == deleted) path.remove_suffix(deleted.size());
    if (path.substr(0, 5) == "/SYSV") {
      a.found.push_back({pid, static_cast<long>(m.inode), ""});
    } else if (path.substr(0, 9) == "/dev/shm/") {
      a.found.push_back({pid, -1, std::string(path.substr(9))});
    }
  });
  if (!a.found.empty()) {
    a.command = ProcCommandLine(pid);
    if (a.command.empty()) a.command = "?";
  }
}

struct ScanResult {
  std::vector<Mapping> found;
  std::vector<std::pair<int, std::string>> commands;
  std::vector<int> slow;  // pids not read within the budget (blocked, or skipped as still blocked)
  int unreadable = 0;
};

// scanMaps(budgetMs) -> Promise<{ mappings, commands, unreadable, slow, complete }>: the System V
// and /dev/shm attachments of every process, a view over the one runner (scan.h).
Napi::Value ScanMaps(const Napi::CallbackInfo& info) {
  const char* usage = "scanMaps(budgetMs)";
  ExpectArgs(info, 1, usage);
  int64_t budgetMs = IntArg(info, 0, "budgetMs", 1, 600000, usage);
  auto result = std::make_shared<ScanResult>();
  auto work = [result, budgetMs]() {
    const auto deadline = Clock::now() + std::chrono::milliseconds(budgetMs);
    CountProcScan();
    std::vector<int> pids = ProcPids();
    auto per = std::make_shared<std::vector<Attachments>>(pids.size());
    std::vector<char> read = ReadProcesses(pids, deadline, pids.size() > 64 ? 2 : 1,
                                           [per](int, size_t i, int pid) { ReadAttachments(pid, (*per)[i]); });
    for (size_t i = 0; i < pids.size(); i++) {
      if (!read[i]) {
        result->slow.push_back(pids[i]);
        continue;
      }
      Attachments& a = (*per)[i];
      if (a.unreadable) result->unreadable++;
      if (a.found.empty()) continue;
      result->found.insert(result->found.end(), a.found.begin(), a.found.end());
      result->commands.emplace_back(pids[i], std::move(a.command));
    }
  };
  return OffThread(info.Env(), "shmscope-scan", -1, work, [result](Napi::Env env, Napi::Promise::Deferred& deferred, bool) {
    Napi::Array list = Napi::Array::New(env, result->found.size());
    for (size_t i = 0; i < result->found.size(); i++) {
      const Mapping& f = result->found[i];
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
    for (auto& c : result->commands) commands.Set(std::to_string(c.first), c.second);
    Napi::Array slow = Napi::Array::New(env, result->slow.size());
    for (size_t i = 0; i < result->slow.size(); i++) slow.Set(i, result->slow[i]);
    Napi::Object out = Napi::Object::New(env);
    out.Set("mappings", list);
    out.Set("commands", commands);
    out.Set("unreadable", result->unreadable);
    out.Set("slow", slow);
    out.Set("complete", result->slow.empty());
    deferred.Resolve(out);
  });
}

}  // namespace

void InitProcScan(Napi::Env env, Napi::Object exports) {
  exports.Set("shmStatAll", Napi::Function::New(env, ShmStatAll, "shmStatAll"));
  exports.Set("shmStatFields", Napi::Number::New(env, kShmFields));
  exports.Set("scanMaps", Napi::Function::New(env, ScanMaps, "scanMaps"));
}

}  // namespace shmscope
