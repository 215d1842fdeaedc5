#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace shmscope {

namespace {

// strerrorname_np and strerrordesc_np are glibc >= 2.32 only; musl (Alpine) has neither, and
// strerrordesc_np returns NULL for a number it does not know. Both fall back to what every libc has.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define SHMSCOPE_HAVE_STRERRORNAME_NP 1
#endif

const char* FallbackName(int err) {
  switch (err) {
#define NAME(e) \
  case e:       \
    return #e;
    NAME(EPERM) NAME(ENOENT) NAME(ESRCH) NAME(EINTR) NAME(EIO) NAME(ENXIO) NAME(E2BIG) NAME(EBADF)
    NAME(EAGAIN) NAME(ENOMEM) NAME(EACCES) NAME(EFAULT) NAME(EBUSY) NAME(EEXIST) NAME(ENODEV)
    NAME(ENOTDIR) NAME(EISDIR) NAME(EINVAL) NAME(ENFILE) NAME(EMFILE) NAME(EFBIG) NAME(ENOSPC)
    NAME(EROFS) NAME(EPIPE) NAME(ERANGE) NAME(ENAMETOOLONG) NAME(ENOSYS) NAME(ELOOP) NAME(ENOMSG)
    NAME(EIDRM) NAME(EOVERFLOW) NAME(ETIMEDOUT) NAME(ECANCELED) NAME(EOWNERDEAD) NAME(EMSGSIZE)
#undef NAME
    default:
      return nullptr;
  }
}

std::string Describe(int err) {
#ifdef SHMSCOPE_HAVE_STRERRORNAME_NP
  if (const char* d = strerrordesc_np(err)) return d;
#endif
  char buf[256];
  buf[0] = '\0';
  // The GNU strerror_r returns a pointer (maybe not to buf); the XSI one returns an int.
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  const char* d = strerror_r(err, buf, sizeof buf);
  if (d != nullptr && *d != '\0') return d;
#else
  if (strerror_r(err, buf, sizeof buf) == 0 && buf[0] != '\0') return buf;
#endif
  return "error " + std::to_string(err);
}

}  // namespace

std::string ErrnoName(int err) {
#ifdef SHMSCOPE_HAVE_STRERRORNAME_NP
  if (const char* name = strerrorname_np(err)) return name;
#endif
  if (const char* name = FallbackName(err)) return name;
  return "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  std::string message = std::string(syscall) + ": " + Describe(err);
  if (!detail.empty()) message += " (" + detail + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

void ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  throw ErrnoError(env, syscall, err, detail);
}

void SetIpcPerm(Napi::Object o, int id, const struct ipc_perm& perm) {
  Napi::Env env = o.Env();
  o.Set("id", id);
  o.Set("key", Napi::Number::New(env, static_cast<uint32_t>(perm.__key)));
  o.Set("uid", perm.uid);
  o.Set("gid", perm.gid);
  o.Set("cuid", perm.cuid);
  o.Set("cgid", perm.cgid);
  o.Set("mode", perm.mode & 0777);
}

const char* FileType(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISCHR(mode)) return "char-device";
  if (S_ISBLK(mode)) return "block-device";
  return "other";
}

int OpenRegular(Napi::Env env, const std::string& path, int flags, mode_t mode, const char* syscall,
                const std::string& name) {
  int fd = open(path.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
  if (fd < 0) {
    int err = errno;
    struct stat lst;
    if (err == ELOOP && lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      char target[4096];
      ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
      Napi::Error e = ErrnoError(env, syscall, ELOOP, name + " is a symbolic link");
      e.Set("fileType", "symlink");
      e.Set("linkTarget", std::string(target, n > 0 ? static_cast<size_t>(n) : 0));
      throw e;
    }
    ThrowErrno(env, syscall, err, name);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "fstat", err, name);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    Napi::Error e = ErrnoError(env, syscall, EINVAL, name + " is not a regular file");
    e.Set("fileType", FileType(st.st_mode));
    throw e;
  }
  // O_NONBLOCK only mattered for the open itself (a FIFO); a regular file ignores it, but clear it
  // so the descriptor behaves as any other.
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

}  // namespace shmscope
