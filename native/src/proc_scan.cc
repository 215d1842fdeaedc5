// Fast listing helpers.
//
// shmStatAll(): every System V segment through shmctl(SHM_STAT_ANY), as /proc/sysvipc/shm shows
// them (no read permission needed) but without the per-segment rss/swap walk that makes that file
// slow to produce: 4096 segments cost ~10 ms there and ~1 ms here. Returns { rows, used }.
//
// scanMaps(): who maps which segment or /dev/shm file, from every /proc/PID/maps, parsed in C++
// on the libuv pool (a short, bounded job) so the JS thread never blocks on thousands of files.
#include <dirent.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
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

bool ReadWhole(const std::string& path, std::string& out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      errno = err;
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (size_t{64} << 20)) break;  // bound: no maps file is this large
  }
  close(fd);
  return true;
}

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

class ScanWorker : public Napi::AsyncWorker {
 public:
  explicit ScanWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    DIR* dir = opendir("/proc");
    if (dir == nullptr) return;  // no /proc: nothing is known to map anything
    std::string text;
    while (struct dirent* e = readdir(dir)) {
      char* endp = nullptr;
      long pid = std::strtol(e->d_name, &endp, 10);
      if (endp == e->d_name || *endp != '\0' || pid <= 0) continue;
      if (!ReadWhole("/proc/" + std::string(e->d_name) + "/maps", text)) {
        if (errno == EACCES || errno == EPERM) unreadable_++;
        continue;  // ENOENT: the process ended meanwhile
      }
      ParseMaps(static_cast<int>(pid), text, found_);
    }
    closedir(dir);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array list = Napi::Array::New(env, found_.size());
    for (size_t i = 0; i < found_.size(); i++) {
      Napi::Object m = Napi::Object::New(env);
      m.Set("pid", found_[i].pid);
      if (found_[i].shmid >= 0) {
        m.Set("shmid", Napi::Number::New(env, static_cast<double>(found_[i].shmid)));
      } else {
        m.Set("file", found_[i].file);
      }
      list.Set(i, m);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("mappings", list);
    result.Set("unreadable", unreadable_);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Mapping> found_;
  int unreadable_ = 0;
};

Napi::Value ScanMaps(const Napi::CallbackInfo& info) {
  auto* worker = new ScanWorker(info.Env());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitProcScan(Napi::Env env, Napi::Object exports) {
  exports.Set("shmStatAll", Napi::Function::New(env, ShmStatAll, "shmStatAll"));
  exports.Set("shmStatFields", Napi::Number::New(env, kShmFields));
  exports.Set("scanMaps", Napi::Function::New(env, ScanMaps, "scanMaps"));
}

}  // namespace shmscope
