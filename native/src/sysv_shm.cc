// System V shared memory: create, stat, remove, and an attachment object.
//
// An attachment is read-only unless asked (SHM_RDONLY: a stray write faults in the kernel's eyes,
// not ours, because we never write through a read-only mapping). A System V segment cannot shrink
// while attached, so a bounds check against the size taken at attach time is enough to make every
// access safe; a segment removed meanwhile stays mapped until we detach.
#include <sys/ipc.h>
#include <sys/shm.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace shmscope {
namespace {

Napi::Object StatObject(Napi::Env env, int id, const struct shmid_ds& ds) {
  Napi::Object o = Napi::Object::New(env);
  SetIpcPerm(o, id, ds.shm_perm);
  o.Set("removed", (ds.shm_perm.mode & SHM_DEST) != 0);
  o.Set("locked", (ds.shm_perm.mode & SHM_LOCKED) != 0);
  o.Set("size", Napi::Number::New(env, static_cast<double>(ds.shm_segsz)));
  o.Set("nattch", Napi::Number::New(env, static_cast<double>(ds.shm_nattch)));
  o.Set("cpid", ds.shm_cpid);
  o.Set("lpid", ds.shm_lpid);
  o.Set("atime", Time(env, ds.shm_atime));
  o.Set("dtime", Time(env, ds.shm_dtime));
  o.Set("ctime", Time(env, ds.shm_ctime));
  return o;
}

// shmGet(key, size, mode, create, exclusive) -> id
Napi::Value ShmGet(const Napi::CallbackInfo& info) {
  const char* usage = "shmGet(key, size, mode, create, exclusive)";
  ExpectArgs(info, 5, usage);
  key_t key = static_cast<key_t>(IntArg(info, 0, "key", INT32_MIN, UINT32_MAX, usage));
  int64_t size = IntArg(info, 1, "size", 0, kMaxSafeInteger, usage);
  int mode = static_cast<int>(IntArg(info, 2, "mode", 0, 0777, usage));
  int flags = mode;
  if (BoolArg(info, 3, "create", usage)) flags |= IPC_CREAT;
  if (BoolArg(info, 4, "exclusive", usage)) flags |= IPC_EXCL;
  int id = shmget(key, static_cast<size_t>(size), flags);
  if (id < 0) ThrowErrno(info.Env(), "shmget", errno);
  return Napi::Number::New(info.Env(), id);
}

// shmStat(id) -> { id, key, uid, …, size, nattch, removed }
Napi::Value ShmStat(const Napi::CallbackInfo& info) {
  const char* usage = "shmStat(id)";
  ExpectArgs(info, 1, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) < 0) ThrowErrno(info.Env(), "shmctl(IPC_STAT)", errno);
  return StatObject(info.Env(), id, ds);
}

// shmRemove(id): IPC_RMID (the segment goes when its last process detaches).
Napi::Value ShmRemove(const Napi::CallbackInfo& info) {
  const char* usage = "shmRemove(id)";
  ExpectArgs(info, 1, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  if (shmctl(id, IPC_RMID, nullptr) < 0) ThrowErrno(info.Env(), "shmctl(IPC_RMID)", errno);
  return info.Env().Undefined();
}

// An attachment: new ShmSegment(id, readWrite). Detached by detach() or when collected.
class ShmSegment : public Napi::ObjectWrap<ShmSegment> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ShmSegment",
                       {
                           InstanceAccessor<&ShmSegment::Size>("size"),
                           InstanceAccessor<&ShmSegment::Id>("id"),
                           InstanceAccessor<&ShmSegment::ReadOnly>("readOnly"),
                           InstanceAccessor<&ShmSegment::Attached>("attached"),
                           InstanceMethod<&ShmSegment::Read>("read"),
                           InstanceMethod<&ShmSegment::ReadInto>("readInto"),
                           InstanceMethod<&ShmSegment::Write>("write"),
                           InstanceMethod<&ShmSegment::Stat>("stat"),
                           InstanceMethod<&ShmSegment::Detach>("detach"),
                       });
  }

  explicit ShmSegment(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ShmSegment>(info) {
    const char* usage = "new ShmSegment(id, readWrite)";
    ExpectArgs(info, 2, usage);
    id_ = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
    readWrite_ = BoolArg(info, 1, "readWrite", usage);
    struct shmid_ds ds;
    if (shmctl(id_, IPC_STAT, &ds) < 0) ThrowErrno(info.Env(), "shmctl(IPC_STAT)", errno);
    void* p = shmat(id_, nullptr, readWrite_ ? 0 : SHM_RDONLY);
    if (p == reinterpret_cast<void*>(-1)) ThrowErrno(info.Env(), "shmat", errno);
    base_ = static_cast<uint8_t*>(p);
    size_ = ds.shm_segsz;
  }

  ~ShmSegment() override { DetachNow(); }

 private:
  void DetachNow() {
    if (base_ != nullptr) {
      shmdt(base_);
      base_ = nullptr;
    }
  }

  void RequireAttached(Napi::Env env, const char* what) {
    if (base_ == nullptr) ThrowErrno(env, what, EBADF, "segment " + std::to_string(id_) + " is detached");
  }

  // Checks [offset, offset+length) against the segment; throws ERANGE naming both.
  void RequireRange(Napi::Env env, const char* what, int64_t offset, int64_t length) {
    if (offset < 0 || length < 0 || static_cast<uint64_t>(offset) > size_ ||
        static_cast<uint64_t>(length) > size_ - static_cast<uint64_t>(offset)) {
      ThrowErrno(env, what, ERANGE,
                 "offset " + std::to_string(offset) + " length " + std::to_string(length) +
                     " is outside segment " + std::to_string(id_) + " of " + std::to_string(size_) + " bytes");
    }
  }

  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(size_)); }
  Napi::Value Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }
  Napi::Value ReadOnly(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !readWrite_); }
  Napi::Value Attached(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), base_ != nullptr); }

  // read(offset, length) -> Buffer (a fresh copy)
  Napi::Value Read(const Napi::CallbackInfo& info) {
    const char* usage = "segment.read(offset, length)";
    ExpectArgs(info, 2, usage);
    int64_t offset = IntArg(info, 0, "offset", 0, kMaxSafeInteger, usage);
    int64_t length = IntArg(info, 1, "length", 0, int64_t{1} << 32, usage);
    RequireAttached(info.Env(), "read");
    RequireRange(info.Env(), "read", offset, length);
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), static_cast<size_t>(length));
    Refused(info.Env(), "read", GuardedRead(out.Data(), base_ + offset, static_cast<size_t>(length)));
    return out;
  }

  // A page the kernel would not supply (SIGBUS for memcpy): EFAULT, with the likely reason.
  void Refused(Napi::Env env, const char* what, int err) {
    if (err == 0) return;
    ThrowErrno(env, what, err,
               std::to_string(id_) + " has a page the kernel cannot supply (a huge-page segment whose pool is empty?)");
  }

  // readInto(target, offset) -> bytes copied: fills target from offset, fewer at the end.
  Napi::Value ReadInto(const Napi::CallbackInfo& info) {
    const char* usage = "segment.readInto(target, offset)";
    ExpectArgs(info, 2, usage);
    Napi::Uint8Array target = BytesArg(info, 0, "target", usage);
    int64_t offset = IntArg(info, 1, "offset", 0, kMaxSafeInteger, usage);
    RequireAttached(info.Env(), "read");
    RequireRange(info.Env(), "read", offset, 0);
    size_t n = std::min<size_t>(target.ByteLength(), size_ - static_cast<size_t>(offset));
    Refused(info.Env(), "read", GuardedRead(target.Data(), base_ + offset, n));
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }

  // write(offset, bytes): only on a read-write attachment, never past the end.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    const char* usage = "segment.write(offset, bytes)";
    ExpectArgs(info, 2, usage);
    int64_t offset = IntArg(info, 0, "offset", 0, kMaxSafeInteger, usage);
    Napi::Uint8Array bytes = BytesArg(info, 1, "bytes", usage);
    RequireAttached(info.Env(), "write");
    if (!readWrite_) {
      ThrowErrno(info.Env(), "write", EROFS, "segment " + std::to_string(id_) + " is attached read-only");
    }
    RequireRange(info.Env(), "write", offset, static_cast<int64_t>(bytes.ByteLength()));
    Refused(info.Env(), "write", GuardedWrite(base_ + offset, bytes.Data(), bytes.ByteLength()));
    return info.Env().Undefined();
  }

  Napi::Value Stat(const Napi::CallbackInfo& info) {
    struct shmid_ds ds;
    if (shmctl(id_, IPC_STAT, &ds) < 0) ThrowErrno(info.Env(), "shmctl(IPC_STAT)", errno);
    return StatObject(info.Env(), id_, ds);
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    DetachNow();
    return info.Env().Undefined();
  }

  int id_ = -1;
  bool readWrite_ = false;
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

void InitSysvShm(Napi::Env env, Napi::Object exports) {
  exports.Set("shmGet", Napi::Function::New(env, ShmGet, "shmGet"));
  exports.Set("shmStat", Napi::Function::New(env, ShmStat, "shmStat"));
  exports.Set("shmRemove", Napi::Function::New(env, ShmRemove, "shmRemove"));
  exports.Set("ShmSegment", ShmSegment::Define(env));
}

}  // namespace shmscope
