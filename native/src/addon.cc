// Entry point of the shmscope addon: registers each part (one source file per kind of object).
#include "common.h"
#include "scan.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  shmscope::InitSysvShm(env, exports);
  shmscope::InitPosixShm(env, exports);
  shmscope::InitSem(env, exports);
  shmscope::InitPosixSem(env, exports);
  shmscope::InitMsg(env, exports);
  shmscope::InitWaiter(env, exports);
  shmscope::InitProcScan(env, exports);
  shmscope::InitMappings(env, exports);
  shmscope::InitNamespaces(env, exports);
  shmscope::InitThreads(env, exports);
  shmscope::InitPeers(env, exports);
  shmscope::InitNsDevShm(env, exports);
  shmscope::InitScan(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}
}  // namespace

NODE_API_MODULE(shmscope, Init)
