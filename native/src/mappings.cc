// Shared memory that is neither System V nor a /dev/shm name: memfd objects, shared anonymous
// regions and regular files mapped MAP_SHARED, /dev/shm objects unlinked while still mapped or
// held, and kernel-shared rings (io_uring, packet and AF_XDP sockets, perf events), found in every
// /proc/PID/maps and /proc/PID/fd.
//
// scanShared(pids?, budgetMs?) is a view over the one /proc runner (scan.h: threads of its own,
// never the JS thread nor libuv's pool, answered by the budget) and returns one row per region
// (grouped by device and inode), one per mapping and one per file descriptor of a memfd, an
// unlinked /dev/shm object or a mapped ring, plus every readable process with its IPC and mount
// namespace (so that callers match System V and /dev/shm attachments within a namespace).
//
// RegionFile opens such a region by a path (a file, /proc/PID/fd/N, /proc/PID/map_files/RANGE)
// or through /proc/PID/mem at an address, and reads and writes it with pread/pwrite: never
// through a mapping, so a file truncated meanwhile gives a short read, not SIGBUS.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common.h"
#include "scan.h"

namespace shmscope {
namespace {

// kPosix: a /dev/shm object (POSIX shared memory or a named semaphore) unlinked while mapped or
// held, which only its holders still reach. kRing: memory the kernel shares with a process
// through an fd that is not a file (an io_uring's rings, a packet or AF_XDP socket's ring, a perf
// event's pages), read only through /proc/PID/mem.
enum class RegionKind { kMemfd, kAnon, kFile, kPosix, kRing };

const char* KindName(RegionKind k) {
  switch (k) {
    case RegionKind::kMemfd: return "memfd";
    case RegionKind::kAnon: return "anon";
    case RegionKind::kFile: return "file";
    case RegionKind::kPosix: return "posix";
    case RegionKind::kRing: return "ring";
  }
  return "file";
}

// The fd links and maps paths of kernel-shared rings ("socket:[N]" for any socket: which family
// it is, the caller tells from /proc/PID/net/packet and the mapping's offset).
bool IsRingPath(const std::string& path) {
  return path == "anon_inode:[io_uring]" || path == "anon_inode:[perf_event]" || (path.compare(0, 8, "socket:[") == 0 && path.back() == ']');
}

struct Region {
  RegionKind kind;
  uint64_t dev;
  uint64_t ino;
  std::string name;  // memfd name, anon label, file path (without " (deleted)"), /dev/shm entry name, or ring fd link
  bool deleted = false;
  bool statKnown = false;  // size/uid/gid/mode come from a stat of the object itself
  bool served = false;     // a file on a FUSE or network mount: never asked anything
  uint64_t size = 0;       // else: the largest mapping end seen (offset + length)
  uint32_t uid = 0, gid = 0, mode = 0;
};

struct MapRow {
  size_t region;
  int pid;
  uint64_t start, end, offset;
  bool writable;
};

struct SysvRow {
  int pid;
  uint64_t shmid;
};

struct FdRow {
  size_t region;
  int pid;
  int fd;
};

struct Proc {
  int pid = 0;
  uint64_t ipcNs = 0, mntNs = 0;
  bool hit = false;
  std::string command;
};

constexpr size_t kMaxFile = size_t{64} << 20;  // no maps file is this large
constexpr size_t kMaxFds = 1 << 16;            // fds looked at per process

// "ipc:[4026531839]" -> 4026531839; 0 when unreadable.
uint64_t NsInode(const std::string& link) {
  char buf[64];
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* open = std::strchr(buf, '[');
  return open ? std::strtoull(open + 1, nullptr, 10) : 0;
}

std::string Command(int pid) {
  std::string c = ProcCommandLine(pid);
  return c.empty() ? "?" : c;
}

bool EndsWith(const std::string& s, const char* tail) {
  size_t n = std::strlen(tail);
  return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

// The kernel writes a newline in a maps path as the four characters "\012" (and nothing else
// escaped): the name as it is.
std::string Unescape(const std::string& s) {
  if (s.find("\\012") == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    if (s.compare(i, 4, "\\012") == 0) {
      out.push_back('\n');
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Whether `path` names inode `ino` of device `dev` now (lstat: a link is not followed).
bool SameFile(const std::string& path, uint64_t dev, uint64_t ino) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

// Classifies a shared mapping's path; false for what other listings own or what is not memory.
// A file's name is decided by its device and inode: "x (deleted)" is a live file of that name
// when that path is the mapped inode, and a name with "\012" is the one that is.
// `served`: the file is on a FUSE or network mount, which is never asked anything (its name is
// then taken as the maps line gives it).
bool Classify(const std::string& rawPath, uint64_t dev, uint64_t ino, bool served, RegionKind& kind, std::string& name, bool& deleted) {
  std::string path = rawPath;
  deleted = EndsWith(path, " (deleted)");
  // An entry of /dev/shm itself is never looked up by path (a FUSE mount there would take the
  // lookup): whether it is unlinked, its link count says once stat'ed through map_files (ParseRaw).
  const bool devShmEntry = path.compare(0, 9, "/dev/shm/") == 0 && path.find('/', 9) == std::string::npos;
  if (deleted && !served && !devShmEntry && path[0] == '/' && path.compare(0, 7, "/memfd:") != 0) {
    if (SameFile(Unescape(path), dev, ino) || SameFile(path, dev, ino)) deleted = false;  // a live file named so
  }
  if (deleted) path.resize(path.size() - 10);
  if (path.compare(0, 5, "/SYSV") == 0) return false;  // System V: counted apart (see sysv_)
  if (path.compare(0, 7, "/memfd:") == 0) {
    kind = RegionKind::kMemfd;
    name = Unescape(path.substr(7));  // an fd of it, when one is seen, gives the name unescaped
    return true;
  }
  if ((path == "/dev/zero" || path == "/anon_hugepage") && deleted) {
    kind = RegionKind::kAnon;
    name = path.substr(1);
    deleted = false;
    return true;
  }
  if (path.compare(0, 12, "[anon_shmem:") == 0) {  // named with prctl(PR_SET_VMA_ANON_NAME)
    kind = RegionKind::kAnon;
    name = path.substr(12, path.size() > 13 ? path.size() - 13 : 0);
    return true;
  }
  if (IsRingPath(path)) {
    kind = RegionKind::kRing;
    name = path;
    deleted = false;
    return true;
  }
  if (path.empty() || path[0] != '/') return false;  // [vvar] and other pseudo mappings
  if (path.compare(0, 9, "/dev/shm/") == 0 && path.find('/', 9) == std::string::npos) {
    if (!deleted) return false;  // a POSIX object by its name: listed from /dev/shm
    kind = RegionKind::kPosix;    // unlinked while mapped: only its holders reach it
    name = Unescape(path.substr(9));
    return true;
  }
  kind = RegionKind::kFile;
  name = Unescape(path);
  if (name != path && !deleted && !served && !SameFile(name, dev, ino) && SameFile(path, dev, ino)) name = path;  // a real backslash
  return true;
}

bool ParseHex(const char* s, size_t len, uint64_t& out) {
  if (len == 0 || len > 16) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

// What a scan keeps of an object's stat (a struct stat is 144 bytes: kept per mapping and per
// descriptor, 35 000 of them made the scan's memory, and its page faults, three times as large).
struct Meta {
  uint64_t dev = 0, ino = 0, size = 0, nlink = 0;
  uint32_t uid = 0, gid = 0, mode = 0;
  static Meta Of(const struct stat& st) {
    return Meta{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                static_cast<uint64_t>(st.st_nlink), st.st_uid, st.st_gid, st.st_mode};
  }
};

// A region's stat as a reader found it: state 0 not tried (or failed), 1 `meta` holds the
// object's stat, 2 not a regular file.
struct RegionStat {
  int state = 0;
  Meta meta;
};

// What one process shows, read by a reader thread without touching the scanner's shared state.
// A mapping points into its reader's cache (ReaderCache, which lives as long as the scan's
// merge) for its name and stat, which many processes share, instead of a copy of each.
struct RawMap {
  RegionKind kind;
  uint64_t dev, ino, start, end, offset;
  bool writable, deleted;
  bool served = false;
  const std::string* name;
  const RegionStat* stat;
};
struct RawFd {
  RegionKind kind = RegionKind::kMemfd;  // kMemfd, kPosix (an unlinked /dev/shm object) or kRing
  int fd = 0;
  std::string name;
  Meta st;
};
struct Raw {
  enum State { kGone, kUnreadable, kRead } state = kGone;
  uint64_t ipcNs = 0, mntNs = 0;
  std::vector<RawMap> maps;
  std::vector<std::pair<int, uint64_t>> sysv;  // (pid, shmid) per System V mapping
  std::vector<std::string> devShm;              // /dev/shm names it maps
  std::vector<uint64_t> devShmIno;              // and their inodes (a named semaphore maps its temporary name)
  std::vector<RawFd> fds;
  std::vector<RawFd> devShmFds;                 // descriptors of /dev/shm files (name without the folder)
  std::vector<RawFd> mqFds;                     // descriptors of POSIX message queues of our /dev/mqueue (name with its slash)
  std::string command;
};

// What one reader keeps between processes: the stat of each region, and the FUSE and network
// mounts of each mount namespace.
struct ReaderCache {
  std::map<std::pair<uint64_t, uint64_t>, RegionStat> stats;  // never changed once set: mappings point at them
  std::map<uint64_t, std::set<uint64_t>> served;
  // What Classify said of a region's maps path: the same (device, inode, path) in the next
  // process is the same answer, without its lstat of the path again (500 processes sharing 50
  // regions asked it 25 000 times).
  // `name` points into `names`, where a name stays as long as the cache (a region classified
  // again under another path gets a new one: mappings read before still point at the old).
  struct Classified {
    std::string raw;
    bool served = false;
    bool ok = false;
    RegionKind kind = RegionKind::kFile;
    const std::string* name = nullptr;
    bool deleted = false;
  };
  std::map<std::pair<uint64_t, uint64_t>, Classified> classified;
  std::deque<std::string> names;
  // The maps text of the process being read (its capacity kept from one process to the next).
  std::string text;
  // The device of our /dev/mqueue (0 when not mounted): a descriptor whose file is on it is a
  // POSIX message queue of our namespace (another mqueue instance has another device).
  int64_t mqueueDev = -1;
};

// Classifies and stats (once per region per reader, through `cache`) every shared mapping of one
// process's maps text.
void ParseRaw(int pid, const std::string& text, Raw& r, ReaderCache& rc, const std::set<uint64_t>& served) {
  auto& cache = rc.stats;
  ForEachMapsLine(text, MapsFilter::kShared, [&](const MapsLine& line) {
    if (line.path.empty()) return;
    if (line.path.substr(0, 5) == "/SYSV") {
      // Which segment ids this process maps, so that callers count attachments per namespace.
      r.sysv.emplace_back(pid, line.inode);
      return;
    }
    if (line.inode == 0) return;
    RawMap m;
    m.start = line.start;
    m.end = line.end;
    m.offset = line.offset;
    m.ino = line.inode;
    m.dev = makedev(line.major, line.minor);
    const bool isServed = served.count(m.dev) > 0;
    auto& c = rc.classified[std::make_pair(m.dev, m.ino)];
    if (c.raw.empty() || c.raw != line.path || c.served != isServed) {
      c.raw.assign(line.path);
      c.served = isServed;
      std::string name;
      c.ok = Classify(c.raw, m.dev, m.ino, isServed, c.kind, name, c.deleted);
      rc.names.push_back(std::move(name));
      c.name = &rc.names.back();
    }
    if (!c.ok) {
      // A POSIX object by its name (a live file named "x (deleted)" keeps that name): listed by
      // its own kind, mapped by pid. One unlinked is classified (kPosix), by its inode.
      if (line.path.substr(0, 9) == "/dev/shm/" && line.path.find('/', 9) == std::string_view::npos) {
        r.devShm.push_back(Unescape(std::string(line.path.substr(9))));
        r.devShmIno.push_back(line.inode);
      }
      return;
    }
    m.kind = c.kind;
    m.name = c.name;
    m.deleted = c.deleted;
    m.writable = line.Writable();
    auto key = std::make_pair(m.dev, m.ino);
    auto hit = cache.find(key);
    if (hit == cache.end() && (isServed || m.kind == RegionKind::kRing)) {
      // A served file is never asked; a ring is no file to stat (its size is its mapping's).
      hit = cache.emplace(key, RegionStat{}).first;  // never asked: size from the mappings
    }
    if (hit == cache.end()) {
      // Size and owner: the file at its path when it is the same inode, else the mapping's own
      // file through map_files (needs CAP_SYS_ADMIN). Never opens anything.
      RegionStat res;
      struct stat st;
      if (m.kind == RegionKind::kFile && !m.deleted && lstat(m.name->c_str(), &st) == 0 && st.st_dev == m.dev && st.st_ino == m.ino) {
        res = {S_ISREG(st.st_mode) ? 1 : 2, Meta::Of(st)};
      } else {
        char mf[96];
        std::snprintf(mf, sizeof mf, "/proc/%d/map_files/%llx-%llx", pid, static_cast<unsigned long long>(m.start),
                      static_cast<unsigned long long>(m.end));
        if (stat(mf, &st) == 0 && st.st_dev == m.dev && st.st_ino == m.ino) res = {S_ISREG(st.st_mode) ? 1 : 2, Meta::Of(st)};
      }
      hit = cache.emplace(key, res).first;
    }
    m.served = isServed;
    m.stat = &hit->second;
    if (m.kind == RegionKind::kPosix && m.stat->state == 1 && m.stat->meta.nlink > 0) {
      r.devShm.push_back(Unescape(std::string(line.path.substr(9))));  // linked: a live object named "x (deleted)"
      r.devShmIno.push_back(line.inode);
      return;
    }
    r.maps.push_back(m);
  });
}

bool HasShared(const Raw& r) { return !r.maps.empty() || !r.sysv.empty() || !r.devShm.empty() || !r.fds.empty() || !r.devShmFds.empty() || !r.mqFds.empty(); }

// The fds of memfd objects, of /dev/shm objects (live ones, by inode, as holders; unlinked ones
// as objects of their own), of our /dev/mqueue's queues, and (when the process maps a ring, so
// that a process with 10 000 sockets costs nothing more otherwise) of rings: a readlink of each fd
// (which opens nothing and asks no filesystem), then a stat of those only. The directory is read
// with getdents64 into a buffer of ours (opendir/fdopendir would add an fstat and two fcntl).
void ReadFds(const std::string& base, Raw& r, ReaderCache& cache) {
  const bool rings = std::any_of(r.maps.begin(), r.maps.end(), [](const RawMap& m) { return m.kind == RegionKind::kRing; });
  if (cache.mqueueDev < 0) {
    struct stat mq;
    cache.mqueueDev = stat("/dev/mqueue", &mq) == 0 ? static_cast<int64_t>(mq.st_dev) : 0;
  }
  std::string dirPath = base + "/fd";
  int dfd = open(dirPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;  // not ours to read: its maps were, which is what we count
  size_t seen = 0;
  char link[512];
  alignas(8) char buf[32768];
  for (;;) {
    long got = syscall(SYS_getdents64, dfd, buf, sizeof buf);
    if (got <= 0) break;  // the end, or the process ended meanwhile
    for (long off = 0; off < got;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(buf + off);
      off += e->d_reclen;
      if (e->d_name[0] == '.') continue;
      if (++seen > kMaxFds) break;
      ssize_t n = readlinkat(dfd, e->d_name, link, sizeof link - 1);
      if (n <= 7) continue;
      link[n] = '\0';
      RawFd f;
      struct stat st;
      // fstatat follows the fd's magic link to the object itself; it opens nothing.
      if (std::strncmp(link, "/dev/shm/", 9) == 0 && n > 9 && std::strchr(link + 9, '/') == nullptr) {
        if (fstatat(dfd, e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode)) continue;
        f.st = Meta::Of(st);
        f.name.assign(link + 9, static_cast<size_t>(n) - 9);
        f.fd = std::atoi(e->d_name);
        if (f.st.nlink == 0 && EndsWith(f.name, " (deleted)")) {
          f.kind = RegionKind::kPosix;  // unlinked: an object of its own, found by its inode
          f.name.resize(f.name.size() - 10);
          r.fds.push_back(std::move(f));
        } else {
          // A POSIX object held open (mapped or not; a live file may be named "x (deleted)"): its
          // inode tells it from another namespace's object of the same name.
          r.devShmFds.push_back(std::move(f));
        }
        continue;
      }
      if (cache.mqueueDev > 0 && link[0] == '/' && std::strchr(link + 1, '/') == nullptr && std::strncmp(link, "/memfd:", 7) != 0) {
        // A message queue's descriptor reads "/NAME"; its file is on the mqueue filesystem.
        if (fstatat(dfd, e->d_name, &st, 0) < 0 || static_cast<int64_t>(st.st_dev) != cache.mqueueDev) continue;
        f.st = Meta::Of(st);
        f.name.assign(link, static_cast<size_t>(n));
        f.fd = std::atoi(e->d_name);
        r.mqFds.push_back(std::move(f));
        continue;
      }
      if (std::strncmp(link, "/memfd:", 7) == 0) {
        f.name.assign(link + 7, static_cast<size_t>(n) - 7);
      } else if (rings && IsRingPath(link)) {
        f.kind = RegionKind::kRing;
        f.name = link;
      } else {
        continue;
      }
      if (fstatat(dfd, e->d_name, &st, 0) < 0) continue;
      if (f.kind != RegionKind::kRing && !S_ISREG(st.st_mode)) continue;
      f.st = Meta::Of(st);
      if (EndsWith(f.name, " (deleted)")) f.name.resize(f.name.size() - 10);
      f.fd = std::atoi(e->d_name);
      r.fds.push_back(std::move(f));
    }
    if (seen > kMaxFds) break;
  }
  close(dfd);
}

void ReadProcess(int pid, Raw& r, ReaderCache& cache) {
  std::string base = "/proc/" + std::to_string(pid);
  std::string& text = cache.text;
  if (ReadSharedMaps(pid, text, kMaxFile) != 0) {  // empty when it maps nothing shared
    r.state = errno == ENOENT || errno == ESRCH ? Raw::kGone : Raw::kUnreadable;
    return;
  }
  r.state = Raw::kRead;
  r.ipcNs = NsInode(base + "/ns/ipc");
  r.mntNs = NsInode(base + "/ns/mnt");
  auto served = cache.served.find(r.mntNs);
  if (served == cache.served.end() || r.mntNs == 0) {
    std::set<uint64_t> devs;
    for (const ServedMount& m : ServedMounts(pid)) devs.insert(m.dev);
    served = cache.served.insert_or_assign(r.mntNs, std::move(devs)).first;
  }
  ParseRaw(pid, text, r, cache, served->second);
  ReadFds(base, r, cache);
  if (HasShared(r)) r.command = Command(pid);
}

class Scanner {
 public:
  Scanner(std::vector<int> only, int64_t budgetMs) : only_(std::move(only)), budgetMs_(budgetMs) {}

  // Reads every process (or only those asked about) through the runner (scan.h), then merges
  // what was read in pid order, so the result does not depend on timing.
  void Run() {
    selfIpc_ = NsInode("/proc/self/ns/ipc");
    selfMnt_ = NsInode("/proc/self/ns/mnt");
    const auto deadline = Clock::now() + std::chrono::milliseconds(budgetMs_);
    std::vector<int> pids = only_;
    std::sort(pids.begin(), pids.end());
    if (pids.empty()) {
      CountProcScan();
      pids = ProcPids();  // no /proc: nothing is known to map anything
    }
    auto raw = std::make_shared<std::vector<Raw>>(pids.size());
    auto caches = std::make_shared<std::vector<ReaderCache>>(kMaxReaders);
    // Two readers to start with (most of the cost is the kernel producing maps and fd links).
    std::vector<char> read = ReadProcesses(pids, deadline, pids.size() > 64 ? 2 : 1, [raw, caches](int slot, size_t i, int pid) {
      ReadProcess(pid, (*raw)[i], (*caches)[static_cast<size_t>(slot)]);
    });
    size_t nMaps = 0, nFds = 0;
    for (size_t i = 0; i < pids.size(); i++) {
      if (!read[i]) continue;
      nMaps += (*raw)[i].maps.size();
      nFds += (*raw)[i].fds.size();
    }
    maps_.reserve(nMaps);
    fds_.reserve(nFds);
    procs_.reserve(pids.size());
    for (size_t i = 0; i < pids.size(); i++) {
      if (!read[i]) {
        slow_.push_back(pids[i]);
        continue;
      }
      Merge(pids[i], (*raw)[i]);
    }
    Complete();
  }

  std::vector<Region> regions_;
  std::vector<MapRow> maps_;
  std::vector<FdRow> fds_;
  std::vector<SysvRow> sysv_;
  std::vector<std::pair<int, std::string>> devShm_;
  std::vector<uint64_t> devShmIno_;  // beside devShm_, one per row
  struct DevShmFd {
    int pid, fd;
    uint64_t ino;
    std::string name;
  };
  std::vector<DevShmFd> devShmFds_;
  std::vector<DevShmFd> mqFds_;
  std::vector<int> unreadablePids_;
  std::vector<Proc> procs_;
  std::vector<int> slow_;
  int unreadable_ = 0;
  uint64_t selfIpc_ = 0, selfMnt_ = 0;

 private:
  size_t RegionOf(RegionKind kind, uint64_t dev, uint64_t ino, const std::string& name, bool deleted) {
    if (kind == RegionKind::kRing) {
      // perf events share one anonymous inode: a ring is told apart by its fd link's name too.
      auto rkey = std::make_tuple(dev, ino, name);
      auto rit = ringIndex_.find(rkey);
      if (rit != ringIndex_.end()) return rit->second;
      regions_.push_back(Region{kind, dev, ino, name, deleted});
      ringIndex_[rkey] = regions_.size() - 1;
      return regions_.size() - 1;
    }
    auto key = std::make_pair(dev, ino);
    auto it = index_.find(key);
    if (it != index_.end()) return it->second;
    regions_.push_back(Region{kind, dev, ino, name, deleted});
    index_[key] = regions_.size() - 1;
    return regions_.size() - 1;
  }

  void Fill(Region& reg, const Meta& st) {
    reg.statKnown = true;
    reg.size = st.size;
    reg.uid = st.uid;
    reg.gid = st.gid;
    reg.mode = st.mode & 07777;
  }

  void Merge(int pid, Raw& r) {
    if (r.state == Raw::kGone) return;  // ended meanwhile
    if (r.state == Raw::kUnreadable) {
      unreadable_++;
      unreadablePids_.push_back(pid);
      return;
    }
    Proc p;
    p.pid = pid;
    p.ipcNs = r.ipcNs;
    p.mntNs = r.mntNs;
    p.hit = HasShared(r);
    p.command = std::move(r.command);
    for (auto& s : r.sysv) sysv_.push_back(SysvRow{s.first, s.second});
    for (auto& d : r.devShm) devShm_.emplace_back(pid, std::move(d));
    devShmIno_.insert(devShmIno_.end(), r.devShmIno.begin(), r.devShmIno.end());
    for (auto& f : r.devShmFds) devShmFds_.push_back(DevShmFd{pid, f.fd, f.st.ino, std::move(f.name)});
    for (auto& f : r.mqFds) mqFds_.push_back(DevShmFd{pid, f.fd, f.st.ino, std::move(f.name)});
    for (const RawMap& m : r.maps) {
      size_t reg = RegionOf(m.kind, m.dev, m.ino, *m.name, m.deleted);
      maps_.push_back(MapRow{reg, pid, m.start, m.end, m.offset, m.writable});
      Region& rg = regions_[reg];
      if (m.stat->state == 2) nonRegular_.insert(reg);  // a device node mapped shared (a GPU): not ours
      if (m.served) rg.served = true;
      if (!rg.statKnown && m.stat->state == 1) Fill(rg, m.stat->meta);
      uint64_t extent = m.offset + (m.end - m.start);
      if (!rg.statKnown && extent > rg.size) rg.size = extent;
    }
    for (const RawFd& f : r.fds) {
      if (f.kind == RegionKind::kRing) {
        // Only the fd of a ring some process maps (a socket's fd alone is no shared memory).
        auto rit = ringIndex_.find(std::make_tuple(f.st.dev, f.st.ino, f.name));
        if (rit != ringIndex_.end()) fds_.push_back(FdRow{rit->second, pid, f.fd});
        continue;
      }
      size_t reg = RegionOf(f.kind, f.st.dev, f.st.ino, f.name, f.kind == RegionKind::kPosix);
      if (regions_[reg].kind != f.kind) continue;
      regions_[reg].name = f.name;  // the fd link's name is unescaped; the maps line's is not
      Fill(regions_[reg], f.st);
      fds_.push_back(FdRow{reg, pid, f.fd});
    }
    procs_.push_back(std::move(p));
  }

  void Complete() {
    // Drop device nodes: renumber the regions that stay.
    if (nonRegular_.empty()) return;
    std::vector<size_t> remap(regions_.size(), SIZE_MAX);
    std::vector<Region> kept;
    for (size_t i = 0; i < regions_.size(); i++) {
      if (nonRegular_.count(i)) continue;
      remap[i] = kept.size();
      kept.push_back(regions_[i]);
    }
    regions_.swap(kept);
    std::vector<MapRow> maps;
    for (MapRow m : maps_) {
      if (remap[m.region] == SIZE_MAX) continue;
      m.region = remap[m.region];
      maps.push_back(m);
    }
    maps_.swap(maps);
    std::vector<FdRow> fds;
    for (FdRow f : fds_) {
      if (remap[f.region] == SIZE_MAX) continue;
      f.region = remap[f.region];
      fds.push_back(f);
    }
    fds_.swap(fds);
  }

  std::vector<int> only_;
  int64_t budgetMs_;
  std::map<std::pair<uint64_t, uint64_t>, size_t> index_;
  std::map<std::tuple<uint64_t, uint64_t, std::string>, size_t> ringIndex_;
  std::set<size_t> nonRegular_;
};

// Numbers per mapping row: region, pid, start (high 32 bits), start (low 32 bits), length, offset, writable.
constexpr size_t kMapFields = 7;

// The scan's answer, built on the JS thread.
void AnswerScan(Napi::Env env, Napi::Promise::Deferred& deferred, const Scanner& s) {
    auto num = [&](uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
    Napi::Array regions = Napi::Array::New(env, s.regions_.size());
    for (size_t i = 0; i < s.regions_.size(); i++) {
      const Region& r = s.regions_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", KindName(r.kind));
      o.Set("dev", num(r.dev));
      o.Set("ino", num(r.ino));
      o.Set("name", Napi::String::New(env, r.name));
      o.Set("deleted", r.deleted);
      o.Set("statKnown", r.statKnown);
      o.Set("served", r.served);
      o.Set("size", num(r.size));
      o.Set("uid", r.uid);
      o.Set("gid", r.gid);
      o.Set("mode", r.mode);
      regions.Set(i, o);
    }
    // Mappings and fds are many (500 processes x 50 regions is 25 000 rows): flat numbers, not
    // objects, so that handing them over costs one copy instead of seven property sets per row.
    // A start address is split in two 32-bit halves (addresses may exceed 2^53).
    Napi::Float64Array maps = Napi::Float64Array::New(env, s.maps_.size() * kMapFields);
    for (size_t i = 0; i < s.maps_.size(); i++) {
      const MapRow& m = s.maps_[i];
      double* row = maps.Data() + i * kMapFields;
      row[0] = static_cast<double>(m.region);
      row[1] = m.pid;
      row[2] = static_cast<double>(m.start >> 32);
      row[3] = static_cast<double>(m.start & 0xffffffffu);
      row[4] = static_cast<double>(m.end - m.start);
      row[5] = static_cast<double>(m.offset);
      row[6] = m.writable ? 1 : 0;
    }
    Napi::Float64Array fds = Napi::Float64Array::New(env, s.fds_.size() * 3);
    for (size_t i = 0; i < s.fds_.size(); i++) {
      const FdRow& f = s.fds_[i];
      fds[i * 3] = static_cast<double>(f.region);
      fds[i * 3 + 1] = f.pid;
      fds[i * 3 + 2] = f.fd;
    }
    Napi::Float64Array sysv = Napi::Float64Array::New(env, s.sysv_.size() * 2);
    for (size_t i = 0; i < s.sysv_.size(); i++) {
      sysv[i * 2] = s.sysv_[i].pid;
      sysv[i * 2 + 1] = static_cast<double>(s.sysv_[i].shmid);
    }
    Napi::Float64Array procs = Napi::Float64Array::New(env, s.procs_.size() * 3);
    Napi::Array commands = Napi::Array::New(env);
    uint32_t nCommands = 0;
    for (size_t i = 0; i < s.procs_.size(); i++) {
      const Proc& p = s.procs_[i];
      procs[i * 3] = p.pid;
      procs[i * 3 + 1] = static_cast<double>(p.ipcNs);
      procs[i * 3 + 2] = static_cast<double>(p.mntNs);
      if (p.hit) {
        commands.Set(nCommands++, Napi::Number::New(env, p.pid));
        commands.Set(nCommands++, Napi::String::New(env, p.command));
      }
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("regions", regions);
    result.Set("maps", maps);
    result.Set("fds", fds);
    result.Set("sysv", sysv);
    Napi::Array devShm = Napi::Array::New(env, s.devShm_.size() * 2);
    for (size_t i = 0; i < s.devShm_.size(); i++) {
      devShm.Set(i * 2, s.devShm_[i].first);
      devShm.Set(i * 2 + 1, Napi::String::New(env, s.devShm_[i].second));
    }
    result.Set("devShm", devShm);
    Napi::Float64Array devShmIno = Napi::Float64Array::New(env, s.devShmIno_.size());
    for (size_t i = 0; i < s.devShmIno_.size(); i++) devShmIno[i] = static_cast<double>(s.devShmIno_[i]);
    result.Set("devShmInodes", devShmIno);
    // Descriptors of /dev/shm files and of our queues: [pid, name, fd, inode, …].
    auto fdRows = [&](const decltype(s.mqFds_)& rows) {
      Napi::Array a = Napi::Array::New(env, rows.size() * 4);
      for (size_t i = 0; i < rows.size(); i++) {
        a.Set(i * 4, rows[i].pid);
        a.Set(i * 4 + 1, Napi::String::New(env, rows[i].name));
        a.Set(i * 4 + 2, rows[i].fd);
        a.Set(i * 4 + 3, num(rows[i].ino));
      }
      return a;
    };
    result.Set("devShmFds", fdRows(s.devShmFds_));
    result.Set("mqFds", fdRows(s.mqFds_));
    Napi::Array unreadablePids = Napi::Array::New(env, s.unreadablePids_.size());
    for (size_t i = 0; i < s.unreadablePids_.size(); i++) unreadablePids.Set(i, s.unreadablePids_[i]);
    result.Set("unreadablePids", unreadablePids);
    result.Set("processes", procs);
    result.Set("commands", commands);
    result.Set("unreadable", s.unreadable_);
    Napi::Array slow = Napi::Array::New(env, s.slow_.size());
    for (size_t i = 0; i < s.slow_.size(); i++) slow.Set(i, s.slow_[i]);
    result.Set("slow", slow);
    Napi::Object self = Napi::Object::New(env);
    self.Set("ipc", num(s.selfIpc_));
    self.Set("mnt", num(s.selfMnt_));
    result.Set("self", self);
    deferred.Resolve(result);

}

// scanShared(pids?: number[], budgetMs = 2000) -> Promise<{ regions, maps, fds, sysv, devShm, devShmFds, processes, commands, unreadable, unreadablePids, slow, self }>
// Answered by the budget whatever the readers are doing: `slow` lists the pids not read by then.
// maps, fds, sysv and processes are flat Float64Arrays (see OnOK); commands is [pid, text, pid, text, …].
Napi::Value ScanShared(const Napi::CallbackInfo& info) {
  const char* usage = "scanShared(pids?, budgetMs?)";
  std::vector<int> pids;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    pids = PidsArg(info, 0, usage);
    if (pids.empty()) pids.push_back(-1);  // asked about no process: scan none (-1 never exists)
  }
  int64_t budgetMs = 2000;
  if (info.Length() > 1 && !info[1].IsUndefined()) budgetMs = IntArg(info, 1, "budgetMs", 1, 60000, usage);
  auto scanner = std::make_shared<Scanner>(std::move(pids), budgetMs);
  return OffThread(info.Env(), "shmscope-shared", -1, [scanner]() { scanner->Run(); },
                   [scanner](Napi::Env env, Napi::Promise::Deferred& deferred, bool) { AnswerScan(env, deferred, *scanner); });
}

// pread/pwrite in a loop (a signal may interrupt, one call moves at most ~2 GiB).
template <typename Io, typename Ptr>
int64_t FullIo(Io io, int fd, Ptr buf, size_t length, uint64_t offset) {
  size_t done = 0;
  while (done < length) {
    size_t chunk = std::min<size_t>(length - done, size_t{1} << 30);
    ssize_t n = io(fd, buf + done, chunk, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (done > 0 && errno == EIO) break;  // /proc/PID/mem past a hole: what was read stays
      return -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

// new RegionFile(path, readWrite, dev, ino, base, length)
//   length < 0: a file (regular, checked to be inode `ino` on `dev` unless ino is 0); size from fstat.
//   length >= 0: /proc/PID/mem, offsets counted from address `base` (a hex string), at most length.
class RegionFile : public Napi::ObjectWrap<RegionFile> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RegionFile",
                       {
                           InstanceAccessor<&RegionFile::ReadOnly>("readOnly"),
                           InstanceMethod<&RegionFile::Size>("size"),
                           InstanceMethod<&RegionFile::Stat>("stat"),
                           InstanceMethod<&RegionFile::Read>("read"),
                           InstanceMethod<&RegionFile::ReadInto>("readInto"),
                           InstanceMethod<&RegionFile::Write>("write"),
                           InstanceMethod<&RegionFile::Close>("close"),
                       });
  }

  explicit RegionFile(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RegionFile>(info) {
    const char* usage = "new RegionFile(path, readWrite, dev, ino, base, length)";
    Napi::Env env = info.Env();
    ExpectArgs(info, 6, usage);
    path_ = StringArg(info, 0, "path", 4096, usage);
    readWrite_ = BoolArg(info, 1, "readWrite", usage);
    int64_t dev = IntArg(info, 2, "dev", 0, kMaxSafeInteger, usage);
    int64_t ino = IntArg(info, 3, "ino", 0, kMaxSafeInteger, usage);
    std::string base = StringArg(info, 4, "base", 18, usage);
    length_ = IntArg(info, 5, "length", -1, kMaxSafeInteger, usage);
    if (path_.empty() || path_[0] != '/') throw Napi::TypeError::New(env, std::string(usage) + ": path must be absolute");
    bool mem = length_ >= 0;
    if (mem) {
      if (base.compare(0, 2, "0x") != 0 || !ParseHex(base.data() + 2, base.size() - 2, base_) ||
          base_ > static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(length_)) {
        throw Napi::TypeError::New(env, std::string(usage) + ": base must be a hex address");
      }
    }
    // A file named by the user is opened with no symbolic link followed at any component
    // (openat2 RESOLVE_NO_SYMLINKS: a directory swapped for a link mid-path cannot redirect root
    // to another file), nor a FIFO that would block the open (O_NONBLOCK). /proc's fd and
    // map_files entries are magic links: they are followed, and the inode check below says
    // whether we reached the object asked for.
    bool magic = path_.compare(0, 6, "/proc/") == 0;
    if (magic && dev != 0) {
      // A holder's fd, map_files entry or /proc/PID/mem of a file on a FUSE or network mount (a
      // deleted file there is still that server's inode): opening or faulting it asks the server,
      // so it is refused by its device, found in our mount table or the holder's.
      int pid = std::atoi(path_.c_str() + 6);
      std::vector<ServedMount> served = ServedMounts(0);
      if (pid > 0) {
        std::vector<ServedMount> theirs = ServedMounts(pid);
        served.insert(served.end(), theirs.begin(), theirs.end());
      }
      for (const ServedMount& m : served) {
        if (m.dev == static_cast<dev_t>(dev)) ThrowErrno(env, "open", EXDEV, path_ + " is on a " + m.type + " filesystem");
      }
    }
    if (!magic) {
      // A FUSE or network mount can leave an open, a stat or a read waiting for ever (past
      // SIGKILL once its server took the request), on the caller's thread: it is never asked.
      // The mount is found in our mountinfo by the longest mount point that prefixes the path
      // (no link is followed below, so the path is where the file is).
      const ServedMount* best = nullptr;
      std::vector<ServedMount> served = ServedMounts(0);
      for (const ServedMount& m : served) {
        bool under = m.point == "/" || (path_.compare(0, m.point.size(), m.point) == 0 && (path_.size() == m.point.size() || path_[m.point.size()] == '/'));
        if (under && (best == nullptr || m.point.size() > best->point.size())) best = &m;
      }
      if (best != nullptr) ThrowErrno(env, "open", EXDEV, path_ + " is on a " + best->type + " filesystem");
    }
    int flags = (readWrite_ ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (magic) {
      fd_ = open(path_.c_str(), flags);
    } else {
      struct open_how how;
      std::memset(&how, 0, sizeof how);
      how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW);
      how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
      fd_ = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path_.c_str(), &how, sizeof how));
      if (fd_ < 0 && errno == ENOSYS) fd_ = open(path_.c_str(), flags | O_NOFOLLOW);  // before Linux 5.6
    }
    if (fd_ < 0) ThrowErrno(env, "open", errno, path_);
    if (mem) return;
    struct stat st;
    if (fstat(fd_, &st) < 0) {
      int err = errno;
      CloseNow();
      ThrowErrno(env, "fstat", err, path_);
    }
    if (!S_ISREG(st.st_mode)) {
      CloseNow();
      ThrowErrno(env, "open", EINVAL, path_ + " is not a regular file");
    }
    if (ino != 0 && (st.st_ino != static_cast<ino_t>(ino) || st.st_dev != static_cast<dev_t>(dev))) {
      CloseNow();
      ThrowErrno(env, "open", ESTALE, path_ + " is another file now");
    }
    // O_NONBLOCK only guarded the open; reads of a regular file ignore it, but clear it anyway.
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  }

  ~RegionFile() override { CloseNow(); }

 private:
  void CloseNow() {
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  void RequireOpen(Napi::Env env, const char* what) {
    if (fd_ < 0) ThrowErrno(env, what, EBADF, path_ + " is closed");
  }

  int64_t CurrentSize(Napi::Env env) {
    if (length_ >= 0) return length_;
    struct stat st;
    if (fstat(fd_, &st) < 0) ThrowErrno(env, "fstat", errno, path_);
    return st.st_size;
  }

  void RequireRange(Napi::Env env, const char* what, int64_t offset, int64_t length, int64_t size) {
    if (offset > size || length > size - offset) {
      ThrowErrno(env, what, ERANGE,
                 "offset " + std::to_string(offset) + " length " + std::to_string(length) + " is outside the region of " +
                     std::to_string(size) + " bytes");
    }
  }

  uint64_t Pos(int64_t offset) const { return (length_ >= 0 ? base_ : 0) + static_cast<uint64_t>(offset); }

  Napi::Value ReadOnly(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !readWrite_); }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "fstat");
    return Napi::Number::New(info.Env(), static_cast<double>(CurrentSize(info.Env())));
  }

  // stat() -> { size, links }: links 0 once a file's last name is gone (always 0 for memfd/anon).
  Napi::Value Stat(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env, "fstat");
    struct stat st;
    if (fstat(fd_, &st) < 0) ThrowErrno(env, "fstat", errno, path_);
    Napi::Object o = Napi::Object::New(env);
    o.Set("size", Napi::Number::New(env, static_cast<double>(length_ >= 0 ? length_ : st.st_size)));
    o.Set("links", Napi::Number::New(env, static_cast<double>(st.st_nlink)));
    return o;
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    const char* usage = "region.read(offset, length)";
    ExpectArgs(info, 2, usage);
    int64_t offset = IntArg(info, 0, "offset", 0, kMaxSafeInteger, usage);
    int64_t length = IntArg(info, 1, "length", 0, int64_t{1} << 32, usage);
    Napi::Env env = info.Env();
    RequireOpen(env, "read");
    RequireRange(env, "read", offset, length, CurrentSize(env));
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(length));
    int64_t n = FullIo(pread, fd_, out.Data(), static_cast<size_t>(length), Pos(offset));
    if (n < 0) ThrowErrno(env, "pread", errno, path_);
    if (n == length) return out;
    return Napi::Buffer<uint8_t>::Copy(env, out.Data(), static_cast<size_t>(n));
  }

  Napi::Value ReadInto(const Napi::CallbackInfo& info) {
    const char* usage = "region.readInto(target, offset)";
    ExpectArgs(info, 2, usage);
    Napi::Uint8Array target = BytesArg(info, 0, "target", usage);
    int64_t offset = IntArg(info, 1, "offset", 0, kMaxSafeInteger, usage);
    Napi::Env env = info.Env();
    RequireOpen(env, "read");
    int64_t size = CurrentSize(env);
    RequireRange(env, "read", offset, 0, size);
    size_t want = std::min<size_t>(target.ByteLength(), static_cast<size_t>(size - offset));
    int64_t n = FullIo(pread, fd_, target.Data(), want, Pos(offset));
    if (n < 0) ThrowErrno(env, "pread", errno, path_);
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    const char* usage = "region.write(offset, bytes)";
    ExpectArgs(info, 2, usage);
    int64_t offset = IntArg(info, 0, "offset", 0, kMaxSafeInteger, usage);
    Napi::Uint8Array bytes = BytesArg(info, 1, "bytes", usage);
    Napi::Env env = info.Env();
    RequireOpen(env, "write");
    if (!readWrite_) ThrowErrno(env, "write", EROFS, path_ + " is open read-only");
    RequireRange(env, "write", offset, static_cast<int64_t>(bytes.ByteLength()), CurrentSize(env));
    int64_t n = FullIo(pwrite, fd_, static_cast<const uint8_t*>(bytes.Data()), bytes.ByteLength(), Pos(offset));
    if (n < 0) ThrowErrno(env, "pwrite", errno, path_);
    if (n < static_cast<int64_t>(bytes.ByteLength())) ThrowErrno(env, "pwrite", EIO, path_ + ": short write");
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNow();
    return info.Env().Undefined();
  }

  std::string path_;
  bool readWrite_ = false;
  int64_t length_ = -1;
  uint64_t base_ = 0;
  int fd_ = -1;
};

}  // namespace

void InitMappings(Napi::Env env, Napi::Object exports) {
  exports.Set("scanShared", Napi::Function::New(env, ScanShared, "scanShared"));
  exports.Set("RegionFile", RegionFile::Define(env));
  const char* mode = std::getenv("SHMSCOPE_TEST");
  if (mode != nullptr && std::strcmp(mode, "1") == 0) {
    // _testMapsQuery(on): false makes every scan read each process's maps text (the route of
    // kernels without PROCMAP_QUERY), so that a test compares both routes on one machine state.
    exports.Set("_testMapsQuery", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
      SetMapsQuery(BoolArg(info, 0, "on", "_testMapsQuery(on)"));
      return info.Env().Undefined();
    }, "_testMapsQuery"));
  }
}

}  // namespace shmscope
