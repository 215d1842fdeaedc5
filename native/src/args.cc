#include <cmath>

#include "common.h"

namespace shmscope {

namespace {
[[noreturn]] void Bad(Napi::Env env, const char* usage, const std::string& what) {
  throw Napi::TypeError::New(env, std::string(usage) + ": " + what);
}
}  // namespace

void ExpectArgs(const Napi::CallbackInfo& info, size_t count, const char* usage) {
  if (info.Length() < count) {
    Bad(info.Env(), usage, "expected " + std::to_string(count) + " argument(s), got " +
                               std::to_string(info.Length()));
  }
}

int64_t IntValue(Napi::Env env, Napi::Value v, const std::string& name, int64_t min, int64_t max, const char* usage) {
  double d;
  if (v.IsNumber()) {
    d = v.As<Napi::Number>().DoubleValue();
  } else if (v.IsBigInt()) {
    bool lossless = false;
    int64_t n = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless || n < min || n > max) Bad(env, usage, name + " is out of range");
    return n;
  } else {
    Bad(env, usage, name + " must be an integer");
  }
  if (!std::isfinite(d) || std::floor(d) != d) Bad(env, usage, name + " must be an integer");
  // Compared as doubles first: a double far outside int64_t must not reach the cast below.
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    Bad(env, usage, name + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<int64_t>(d);
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max,
               const char* usage) {
  return IntValue(info.Env(), info[i], name, min, max, usage);
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* name, const char* usage) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) Bad(info.Env(), usage, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t maxLen,
                      const char* usage) {
  Napi::Value v = info[i];
  if (!v.IsString()) Bad(info.Env(), usage, std::string(name) + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.size() > maxLen) Bad(info.Env(), usage, std::string(name) + " is too long");
  if (s.find('\0') != std::string::npos) Bad(info.Env(), usage, std::string(name) + " contains a NUL");
  return s;
}

Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name, const char* usage) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Bad(info.Env(), usage, std::string(name) + " must be a Uint8Array or Buffer");
  }
  return v.As<Napi::Uint8Array>();
}

std::vector<int> PidsArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (!info[i].IsArray()) Bad(info.Env(), usage, "pids must be an array");
  Napi::Array a = info[i].As<Napi::Array>();
  if (a.Length() > 100000) Bad(info.Env(), usage, "too many pids");
  std::vector<int> pids;
  pids.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) Bad(info.Env(), usage, "pids must be numbers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d <= (1 << 22)) || static_cast<double>(static_cast<int>(d)) != d) Bad(info.Env(), usage, "a pid is out of range");
    pids.push_back(static_cast<int>(d));
  }
  return pids;
}

std::string PosixNameArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  std::string name = StringArg(info, i, "name", 251, usage);
  if (name.size() < 2 || name[0] != '/' || name.find('/', 1) != std::string::npos) {
    Bad(info.Env(), usage, "name must look like \"/name\" (one leading slash, no other)");
  }
  if (name == "/." || name == "/..") Bad(info.Env(), usage, "name must not be . or ..");
  return name;
}

}  // namespace shmscope
