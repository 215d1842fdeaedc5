// POSIX shared memory objects (/dev/shm/NAME), read and written with pread/pwrite.
//
// A mapping of a file that another process truncates raises SIGBUS on the next access, which would
// kill the extension host. Going through the file descriptor instead turns a truncation into a
// short read: the worst a shrinking object can do is hand us fewer bytes.
//
// The name is opened as shm_open would open it, but never blocking and never through a symlink
// (OpenRegular): anyone may put a FIFO, a socket or a link to /etc/shadow in /dev/shm.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common.h"

namespace shmscope {
namespace {

// pread/pwrite in a loop: one call moves at most ~2 GiB, and a signal may interrupt it.
template <typename Io, typename Ptr>
int64_t FullIo(Io io, int fd, Ptr buf, size_t length, off_t offset) {
  size_t done = 0;
  while (done < length) {
    size_t chunk = std::min<size_t>(length - done, size_t{1} << 30);
    ssize_t n = io(fd, buf + done, chunk, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;  // end of file: the object is shorter than it was
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

// posixShmOpen: new PosixShm(name, readWrite, create, exclusive, mode)
class PosixShm : public Napi::ObjectWrap<PosixShm> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PosixShm",
                       {
                           InstanceAccessor<&PosixShm::Name>("name"),
                           InstanceAccessor<&PosixShm::ReadOnly>("readOnly"),
                           InstanceMethod<&PosixShm::Size>("size"),
                           InstanceMethod<&PosixShm::Stat>("stat"),
                           InstanceMethod<&PosixShm::Read>("read"),
                           InstanceMethod<&PosixShm::ReadInto>("readInto"),
                           InstanceMethod<&PosixShm::Write>("write"),
                           InstanceMethod<&PosixShm::Truncate>("truncate"),
                           InstanceMethod<&PosixShm::Close>("close"),
                       });
  }

  explicit PosixShm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PosixShm>(info) {
    const char* usage = "new PosixShm(name, readWrite, create, exclusive, mode)";
    ExpectArgs(info, 5, usage);
    name_ = PosixNameArg(info, 0, usage);
    readWrite_ = BoolArg(info, 1, "readWrite", usage);
    bool create = BoolArg(info, 2, "create", usage);
    bool exclusive = BoolArg(info, 3, "exclusive", usage);
    mode_t mode = static_cast<mode_t>(IntArg(info, 4, "mode", 0, 0777, usage));
    int flags = readWrite_ ? O_RDWR : O_RDONLY;
    if (create) flags |= O_CREAT;
    if (exclusive) flags |= O_EXCL;
    fd_ = OpenRegular(info.Env(), "/dev/shm" + name_, flags, mode, "shm_open", name_);
    if (create) fchmod(fd_, mode);  // the umask must not narrow what the caller asked for
  }

  ~PosixShm() override { CloseNow(); }

 private:
  void CloseNow() {
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  void RequireOpen(Napi::Env env, const char* what) {
    if (fd_ < 0) ThrowErrno(env, what, EBADF, name_ + " is closed");
  }

  int64_t CurrentSize(Napi::Env env) {
    struct stat st;
    if (fstat(fd_, &st) < 0) ThrowErrno(env, "fstat", errno, name_);
    return st.st_size;
  }

  void RequireRange(Napi::Env env, const char* what, int64_t offset, int64_t length, int64_t size) {
    if (offset > size || length > size - offset) {
      ThrowErrno(env, what, ERANGE,
                 "offset " + std::to_string(offset) + " length " + std::to_string(length) + " is outside " +
                     name_ + " of " + std::to_string(size) + " bytes");
    }
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value ReadOnly(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !readWrite_); }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "fstat");
    return Napi::Number::New(info.Env(), static_cast<double>(CurrentSize(info.Env())));
  }

  // stat() -> { size, uid, gid, mode, inode, links, mtime }: links 0 once the name was unlinked.
  Napi::Value Stat(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "fstat");
    struct stat st;
    if (fstat(fd_, &st) < 0) ThrowErrno(info.Env(), "fstat", errno, name_);
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
    o.Set("uid", st.st_uid);
    o.Set("gid", st.st_gid);
    o.Set("mode", st.st_mode & 0777);
    o.Set("inode", Napi::Number::New(env, static_cast<double>(st.st_ino)));
    o.Set("links", Napi::Number::New(env, static_cast<double>(st.st_nlink)));
    o.Set("mtime", Time(env, st.st_mtime));
    return o;
  }

  // read(offset, length) -> Buffer; shorter only if the object shrank during the call.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    const char* usage = "object.read(offset, length)";
    ExpectArgs(info, 2, usage);
    int64_t offset = IntArg(info, 0, "offset", 0, kMaxSafeInteger, usage);
    int64_t length = IntArg(info, 1, "length", 0, int64_t{1} << 32, usage);
    Napi::Env env = info.Env();
    RequireOpen(env, "read");
    RequireRange(env, "read", offset, length, CurrentSize(env));
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(length));
    int64_t n = FullIo(pread, fd_, out.Data(), static_cast<size_t>(length), static_cast<off_t>(offset));
    if (n < 0) ThrowErrno(env, "pread", errno, name_);
    if (n == length) return out;
    return Napi::Buffer<uint8_t>::Copy(env, out.Data(), static_cast<size_t>(n));
  }

  // readInto(target, offset) -> bytes read
  Napi::Value ReadInto(const Napi::CallbackInfo& info) {
    const char* usage = "object.readInto(target, offset)";
    ExpectArgs(info, 2, usage);
    Napi::Uint8Array target = BytesArg(info, 0, "target", usage);
    int64_t offset = IntArg(info, 1, "offset", 0, kMaxSafeInteger, usage);
    Napi::Env env = info.Env();
    RequireOpen(env, "read");
    RequireRange(env, "read", offset, 0, CurrentSize(env));
    int64_t n = FullIo(pread, fd_, target.Data(), target.ByteLength(), static_cast<off_t>(offset));
    if (n < 0) ThrowErrno(env, "pread", errno, name_);
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // write(offset, bytes): within the current size only; it never grows the object.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    const char* usage = "object.write(offset, bytes)";
    ExpectArgs(info, 2, usage);
    int64_t offset = IntArg(info, 0, "offset", 0, kMaxSafeInteger, usage);
    Napi::Uint8Array bytes = BytesArg(info, 1, "bytes", usage);
    Napi::Env env = info.Env();
    RequireOpen(env, "write");
    if (!readWrite_) ThrowErrno(env, "write", EROFS, name_ + " is open read-only");
    RequireRange(env, "write", offset, static_cast<int64_t>(bytes.ByteLength()), CurrentSize(env));
    int64_t n = FullIo(pwrite, fd_, static_cast<const uint8_t*>(bytes.Data()), bytes.ByteLength(),
                       static_cast<off_t>(offset));
    if (n < 0) ThrowErrno(env, "pwrite", errno, name_);
    return env.Undefined();
  }

  // truncate(size): set the object's size (creation, and tests of a shrinking object).
  Napi::Value Truncate(const Napi::CallbackInfo& info) {
    const char* usage = "object.truncate(size)";
    ExpectArgs(info, 1, usage);
    int64_t size = IntArg(info, 0, "size", 0, kMaxSafeInteger, usage);
    RequireOpen(info.Env(), "ftruncate");
    if (!readWrite_) ThrowErrno(info.Env(), "ftruncate", EROFS, name_ + " is open read-only");
    if (ftruncate(fd_, static_cast<off_t>(size)) < 0) ThrowErrno(info.Env(), "ftruncate", errno, name_);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNow();
    return info.Env().Undefined();
  }

  std::string name_;
  bool readWrite_ = false;
  int fd_ = -1;
};

Napi::Value PosixShmUnlink(const Napi::CallbackInfo& info) {
  const char* usage = "posixShmUnlink(name)";
  ExpectArgs(info, 1, usage);
  std::string name = PosixNameArg(info, 0, usage);
  if (shm_unlink(name.c_str()) < 0) ThrowErrno(info.Env(), "shm_unlink", errno, name);
  return info.Env().Undefined();
}

}  // namespace

void InitPosixShm(Napi::Env env, Napi::Object exports) {
  exports.Set("PosixShm", PosixShm::Define(env));
  exports.Set("posixShmUnlink", Napi::Function::New(env, PosixShmUnlink, "posixShmUnlink"));
}

}  // namespace shmscope
