// The POSIX shared memory of another mount namespace (a container's /dev/shm), reached without
// ever leaving that namespace's root and removed with no more right than the namespace has.
//
// /proc/PID/root/dev/shm is resolved by the kernel against *our* root whenever a component is an
// absolute symbolic link: a container whose /dev/shm links to /etc would list (and let root
// remove) the host's files. So the directory is opened with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_SYMLINKS) on a dirfd of /proc/PID/root, and it must be a tmpfs; everything after
// goes through that dirfd (fstatat, unlinkat) with no path walked again. A removal for a process
// of another user namespace runs on a thread of its own with that namespace owner's filesystem
// uid and no supplementary groups, so its permission is the container's, not root's.
//
// Each call runs on a thread of its own and is answered by a deadline (OffThread, scan.h): a
// /dev/shm on a FUSE mount whose daemon stopped answering leaves that thread behind, never the
// caller, nor a thread of libuv's pool.
//
// Our own /dev/shm is listed the same way (devShmList): 100 000 entries are one thread's readdir
// and fstatat, not 100 000 promises.
//
//   nsDevShmList(pid, budgetMs)            -> Promise<{ names, stats, blocks, fs?, truncated }>
//   devShmList(budgetMs)                   -> the same for our own /dev/shm
//       stats: Float64Array, 6 per entry: ino, uid, gid, mode (with type bits), size, mtime (ms, as Node's mtimeMs)
//       blocks: Float64Array, bytes allocated per entry (st_blocks * 512); fs: { size, free, available, type, device } (fstatfs, fstat)
//   nsDevShmUnlink(pid, name, ino, budgetMs) -> Promise<void>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common.h"
#include "scan.h"

namespace shmscope {
namespace {

constexpr size_t kMaxEntries = 200000;  // entries listed per namespace, at most
constexpr int kStatFields = 6;

struct Outcome {
  std::string syscall;
  int err = 0;
  std::string detail;
  std::vector<std::string> names;
  std::vector<double> stats;
  std::vector<double> blocks;  // bytes allocated per entry (st_blocks * 512), beside stats
  double fs[3] = {-1, -1, -1};  // the filesystem's size, free and available bytes (fstatfs)
  std::string fsType;           // its type, from fstatfs's f_type ("tmpfs", or "0x…" for another)
  std::string fsDevice;         // its device "major:minor" (fstat), as mountinfo writes it
  bool truncated = false;
};

// Opens the /dev/shm of the mount namespace of `pid` inside its root (pid 0: our own
// /dev/shm, not followed if it is a link); -1 with `o` filled.
int OpenDevShm(int pid, Outcome& o) {
  // On a FUSE or network mount (that namespace's mount table says so without asking it), never
  // looked up: a server that took the request could keep our thread past SIGKILL.
  for (const ServedMount& m : ServedMounts(pid)) {
    const std::string& p = m.point;
    if (p == "/" || p == "/dev" || p == "/dev/shm") {
      o.syscall = "openat2", o.err = EREMOTE;
      o.detail = "/dev/shm of process " + std::to_string(pid) + " is on a " + m.type + " filesystem: not listed";
      return -1;
    }
  }
  if (pid == 0) {
    int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (dir < 0) o.syscall = "open", o.err = errno, o.detail = "/dev/shm";
    return dir;
  }
  std::string rootPath = "/proc/" + std::to_string(pid) + "/root";
  int root = open(rootPath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    o.syscall = "open", o.err = errno, o.detail = rootPath;
    return -1;
  }
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int dir = static_cast<int>(syscall(SYS_openat2, root, "dev/shm", &how, sizeof how));
  int err = errno;
  close(root);
  if (dir < 0) {
    o.syscall = "openat2", o.err = err;
    o.detail = err == ELOOP ? "/dev/shm of process " + std::to_string(pid) + " is reached through a symbolic link: not listed"
                            : "/dev/shm of process " + std::to_string(pid);
    return -1;
  }
  struct statfs fs;
  if (fstatfs(dir, &fs) < 0 || fs.f_type != TMPFS_MAGIC) {
    close(dir);
    o.syscall = "openat2", o.err = EXDEV;
    o.detail = "/dev/shm of process " + std::to_string(pid) + " is not a tmpfs: not listed";
    return -1;
  }
  return dir;
}

// The name of a filesystem type as mountinfo writes it, for the memory filesystems /dev/shm is
// (another as its magic number in hex).
std::string FsTypeName(unsigned long type) {
  switch (type) {
    case TMPFS_MAGIC: return "tmpfs";
    case RAMFS_MAGIC: return "ramfs";
    case HUGETLBFS_MAGIC: return "hugetlbfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", type);
      return buf;
    }
  }
}

void List(int pid, Outcome& o) {
  int dir = OpenDevShm(pid, o);
  if (dir < 0) return;
  // A FUSE or network filesystem mounted on an entry (any user may mount one on a folder of
  // their own with fusermount): stat would ask its server, so the entry is not asked anything.
  std::set<std::string> served;
  for (const ServedMount& m : ServedMounts(pid)) {
    if (m.point.compare(0, 9, "/dev/shm/") == 0 && m.point.find('/', 9) == std::string::npos) served.insert(m.point.substr(9));
  }
  // The one measure of a /dev/shm's size (df, the explorer's mounts, the metrics): the directory
  // the listing read, with its type and device so that two namespaces seeing one tmpfs count once.
  struct statfs fs;
  if (fstatfs(dir, &fs) == 0) {
    o.fs[0] = static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_bsize);
    o.fs[1] = static_cast<double>(fs.f_bfree) * static_cast<double>(fs.f_bsize);
    o.fs[2] = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_bsize);
    o.fsType = FsTypeName(static_cast<unsigned long>(fs.f_type));
    struct stat st;
    if (fstat(dir, &st) == 0) o.fsDevice = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  }
  DIR* d = fdopendir(dir);
  if (d == nullptr) {
    o.syscall = "fdopendir", o.err = errno;
    close(dir);
    return;
  }
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    if (o.names.size() >= kMaxEntries) {
      o.truncated = true;
      break;
    }
    if (served.count(e->d_name) > 0) {  // a row with mode -1: "a mount of a served filesystem"
      o.names.emplace_back(e->d_name);
      const double row[kStatFields] = {0, 0, 0, -1, 0, 0};
      o.stats.insert(o.stats.end(), row, row + kStatFields);
      o.blocks.push_back(0);
      continue;
    }
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;  // removed meanwhile
    o.names.emplace_back(e->d_name);
    const double row[kStatFields] = {static_cast<double>(st.st_ino), static_cast<double>(st.st_uid),
                                     static_cast<double>(st.st_gid), static_cast<double>(st.st_mode),
                                     static_cast<double>(st.st_size), static_cast<double>(st.st_mtim.tv_sec) * 1e3 + st.st_mtim.tv_nsec / 1e6};
    o.stats.insert(o.stats.end(), row, row + kStatFields);
    o.blocks.push_back(static_cast<double>(st.st_blocks) * 512);
  }
  closedir(d);
}

// The uid that owns the user namespace of `pid` when it is not ours (-1 when it is ours).
int64_t ForeignOwner(int pid, Outcome& o) {
  std::string mine = "/proc/self/ns/user", theirs = "/proc/" + std::to_string(pid) + "/ns/user";
  struct stat a, b;
  if (stat(mine.c_str(), &a) < 0 || stat(theirs.c_str(), &b) < 0) {
    o.syscall = "stat", o.err = errno, o.detail = theirs;
    return -2;
  }
  if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) return -1;
  int fd = open(theirs.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    o.syscall = "open", o.err = errno, o.detail = theirs;
    return -2;
  }
  uid_t owner;
  int rc = ioctl(fd, NS_GET_OWNER_UID, &owner);
  int err = errno;
  close(fd);
  if (rc < 0) {
    o.syscall = "ioctl(NS_GET_OWNER_UID)", o.err = err, o.detail = theirs;
    return -2;
  }
  return owner;
}

void Unlink(int pid, const std::string& name, uint64_t ino, Outcome& o) {
  int64_t owner = ForeignOwner(pid, o);
  if (owner == -2) return;
  int dir = OpenDevShm(pid, o);
  if (dir < 0) return;
  if (owner >= 0) {
    // This thread only (raw system calls, not glibc's wrappers, which change every thread): the
    // namespace owner's filesystem uid, nobody's group, no supplementary groups. A filesystem
    // uid other than 0 also clears the capabilities that override file permissions.
    bool ok = syscall(SYS_setgroups, 0, nullptr) == 0;
    syscall(SYS_setfsgid, 65534);
    syscall(SYS_setfsuid, static_cast<uid_t>(owner));
    ok = ok && syscall(SYS_setfsuid, -1) == owner && syscall(SYS_setfsgid, -1) == 65534;
    if (!ok) {
      o.syscall = "setfsuid", o.err = EPERM, o.detail = "the owner of the user namespace of process " + std::to_string(pid);
      close(dir);
      return;
    }
  }
  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) || st.st_ino != ino) {
    o.syscall = "unlinkat", o.err = ENOENT, o.detail = "/dev/shm/" + name + " of process " + std::to_string(pid) + " is not the object listed";
    close(dir);
    return;
  }
  if (unlinkat(dir, name.c_str(), 0) < 0) o.syscall = "unlinkat", o.err = errno, o.detail = "/dev/shm/" + name;
  close(dir);
}

// Runs `job` on a thread of its own (scan.h) and answers by the deadline (ETIMEDOUT after).
Napi::Value Bounded(Napi::Env env, int64_t budgetMs, std::function<void(Outcome&)> job, bool list) {
  auto out = std::make_shared<Outcome>();
  return OffThread(env, "shmscope-devshm", budgetMs, [out, job]() { job(*out); },
                   [out, budgetMs, list](Napi::Env e, Napi::Promise::Deferred& deferred, bool finished) {
    if (!finished) {
      deferred.Reject(ErrnoError(e, "read", ETIMEDOUT, "/dev/shm did not answer within " + std::to_string(budgetMs) + " ms").Value());
      return;
    }
    if (out->err != 0) {
      deferred.Reject(ErrnoError(e, out->syscall.c_str(), out->err, out->detail).Value());
      return;
    }
    if (!list) {
      deferred.Resolve(e.Undefined());
      return;
    }
    Napi::Object o = Napi::Object::New(e);
    Napi::Array names = Napi::Array::New(e, out->names.size());
    for (size_t i = 0; i < out->names.size(); i++) names.Set(i, Napi::String::New(e, out->names[i]));
    Napi::Float64Array stats = Napi::Float64Array::New(e, out->stats.size());
    if (!out->stats.empty()) std::memcpy(stats.Data(), out->stats.data(), out->stats.size() * sizeof(double));
    o.Set("names", names);
    o.Set("stats", stats);
    o.Set("truncated", out->truncated);
    Napi::Float64Array blocks = Napi::Float64Array::New(e, out->blocks.size());
    if (!out->blocks.empty()) std::memcpy(blocks.Data(), out->blocks.data(), out->blocks.size() * sizeof(double));
    o.Set("blocks", blocks);
    if (out->fs[0] >= 0) {
      Napi::Object fs = Napi::Object::New(e);
      fs.Set("size", out->fs[0]);
      fs.Set("free", out->fs[1]);
      fs.Set("available", out->fs[2]);
      fs.Set("type", out->fsType);
      fs.Set("device", out->fsDevice);
      o.Set("fs", fs);
    }
    deferred.Resolve(o);
  });
}

Napi::Value NsDevShmList(const Napi::CallbackInfo& info) {
  const char* usage = "nsDevShmList(pid, budgetMs)";
  ExpectArgs(info, 2, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, 1 << 22, usage));
  int64_t budgetMs = IntArg(info, 1, "budgetMs", 1, 600000, usage);
  return Bounded(info.Env(), budgetMs, [pid](Outcome& o) { List(pid, o); }, true);
}

// devShmList(budgetMs): our own /dev/shm, the same way (one thread, one answer, no promise per entry).
Napi::Value DevShmList(const Napi::CallbackInfo& info) {
  const char* usage = "devShmList(budgetMs)";
  ExpectArgs(info, 1, usage);
  int64_t budgetMs = IntArg(info, 0, "budgetMs", 1, 600000, usage);
  return Bounded(info.Env(), budgetMs, [](Outcome& o) { List(0, o); }, true);
}

Napi::Value NsDevShmUnlink(const Napi::CallbackInfo& info) {
  const char* usage = "nsDevShmUnlink(pid, name, ino, budgetMs)";
  ExpectArgs(info, 4, usage);
  int pid = static_cast<int>(IntArg(info, 0, "pid", 1, 1 << 22, usage));
  std::string name = StringArg(info, 1, "name", 255, usage);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(info.Env(), std::string(usage) + ": name must be one entry of /dev/shm");
  }
  auto ino = static_cast<uint64_t>(IntArg(info, 2, "ino", 1, kMaxSafeInteger, usage));
  int64_t budgetMs = IntArg(info, 3, "budgetMs", 1, 600000, usage);
  return Bounded(info.Env(), budgetMs, [pid, name, ino](Outcome& o) { Unlink(pid, name, ino, o); }, false);
}

}  // namespace

void InitNsDevShm(Napi::Env env, Napi::Object exports) {
  exports.Set("nsDevShmList", Napi::Function::New(env, NsDevShmList, "nsDevShmList"));
  exports.Set("devShmList", Napi::Function::New(env, DevShmList, "devShmList"));
  exports.Set("nsDevShmUnlink", Napi::Function::New(env, NsDevShmUnlink, "nsDevShmUnlink"));
}

}  // namespace shmscope
