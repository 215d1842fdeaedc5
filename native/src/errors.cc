#include <cstring>

#include "common.h"

namespace shmscope {

std::string ErrnoName(int err) {
  // strerrorname_np (glibc >= 2.32) names every errno the kernel returns.
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
  return "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  std::string message = std::string(syscall) + ": " + strerrordesc_np(err);
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

}  // namespace shmscope
