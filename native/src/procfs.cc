// Reading /proc: one bounded reader for every scanner (maps, fds, threads), so each reads the
// same way: never blocking on open, never following a link planted at the last component, and
// never holding more than the caller's cap.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common.h"

namespace shmscope {

int ReadProcFile(const std::string& path, std::string& out, size_t cap) {
  out.clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return errno;
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
