// Reading /proc: one bounded reader for every scanner (maps, fds, threads), so each reads the
// same way: never blocking on open, never following a link planted at the last component, and
// never holding more than the caller's cap.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sys/sysmacros.h>

#include <atomic>
#include <cstdint>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common.h"

namespace shmscope {

namespace {

// The PROCMAP_QUERY ioctl of /proc/PID/maps (Linux 6.11, include/uapi/linux/fs.h; declared here
// because the C library's headers may predate it): the first mapping at or after an address that
// has the permissions asked for, without the kernel writing any line of text.
struct ProcmapQuery {
  uint64_t size;
  uint64_t queryFlags;
  uint64_t queryAddr;
  uint64_t vmaStart, vmaEnd, vmaFlags, vmaPageSize, vmaOffset, inode;
  uint32_t devMajor, devMinor;
  uint32_t vmaNameSize, buildIdSize;
  uint64_t vmaNameAddr, buildIdAddr;
};
constexpr unsigned long kProcmapQuery = _IOWR('f', 17, ProcmapQuery);
constexpr uint64_t kQueryShared = 0x08;         // PROCMAP_QUERY_VMA_SHARED: VM_MAYSHARE, the 's' of maps
constexpr uint64_t kQueryCoveringOrNext = 0x10;  // PROCMAP_QUERY_COVERING_OR_NEXT_VMA

std::atomic<bool> gQueryOff{false};  // test mode: always the text, to compare both routes

// Reads an open /proc file whole into `out` (at most `cap` bytes), then closes it.
int ReadOpen(int fd, std::string& out, size_t cap) {
  char buf[65536];
  while (out.size() < cap) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      errno = err;
      return err;
    }
    if (n == 0) break;
    out.append(buf, std::min(static_cast<size_t>(n), cap - out.size()));
  }
  close(fd);
  return 0;
}

}  // namespace

int ReadProcFile(const std::string& path, std::string& out, size_t cap) {
  out.clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return errno;
  return ReadOpen(fd, out, cap);
}

int ReadSharedMaps(int pid, std::string& out, size_t cap) {
  out.clear();
  const std::string path = "/proc/" + std::to_string(pid) + "/maps";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return errno;
  if (!gQueryOff.load(std::memory_order_relaxed)) {
    ProcmapQuery q;
    std::memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.queryFlags = kQueryShared | kQueryCoveringOrNext;
    q.queryAddr = 0;
    if (ioctl(fd, kProcmapQuery, &q) < 0) {
      const int err = errno;
      // ENOENT: no shared mapping at all; ESRCH: no memory (a kernel thread, or the process
      // ended), whose maps text is empty too. Either way there is no line the caller keeps.
      if (err == ENOENT || err == ESRCH) {
        close(fd);
        return 0;
      }
      // Anything else (ENOTTY before 6.11 or from a file that is not procfs's, EINTR): the text
      // says it. Not remembered: one refused ioctl costs less than a line of text.
    }
  }
  return ReadOpen(fd, out, cap);
}

void SetMapsQuery(bool on) { gQueryOff.store(!on, std::memory_order_relaxed); }

namespace {

// A mount point as mountinfo writes it: space, tab, newline and backslash as \ooo.
std::string UnescapeMount(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out.push_back(static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool ServedType(const std::string& t) {
  static const char* const kinds[] = {"fuse", "nfs", "cifs", "smb", "9p", "ceph", "afs", "lustre", "gpfs", "glusterfs"};
  for (const char* k : kinds) {
    if (t.compare(0, std::strlen(k), k) == 0) return true;
  }
  return false;
}

}  // namespace

std::vector<ServedMount> ServedMounts(int pid) {
  std::vector<ServedMount> out;
  std::string text;
  std::string path = pid > 0 ? "/proc/" + std::to_string(pid) + "/mountinfo" : "/proc/self/mountinfo";
  if (ReadProcFile(path, text, size_t{16} << 20) != 0) return out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    size_t typeEnd = line.find(' ', dash + 3);
    std::string type = line.substr(dash + 3, typeEnd == std::string::npos ? std::string::npos : typeEnd - dash - 3);
    if (!ServedType(type)) continue;
    std::vector<std::string> f;
    size_t i = 0;
    while (i < dash && f.size() < 5) {
      size_t sp = line.find(' ', i);
      if (sp == std::string::npos || sp > dash) sp = dash;
      f.push_back(line.substr(i, sp - i));
      i = sp + 1;
    }
    if (f.size() < 5) continue;
    unsigned maj = 0, min = 0;
    if (std::sscanf(f[2].c_str(), "%u:%u", &maj, &min) != 2) continue;
    out.push_back(ServedMount{makedev(maj, min), UnescapeMount(f[4]), type});
  }
  return out;
}

std::string ProcCommandLine(int pid) {
  std::string text;
  const std::string dir = "/proc/" + std::to_string(pid);
  if (ReadProcFile(dir + "/cmdline", text, 4096) != 0) return "";
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  if (!text.empty()) return text;
  if (ReadProcFile(dir + "/comm", text, 64) != 0) return "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return "[" + text + "]";
}

}  // namespace shmscope
