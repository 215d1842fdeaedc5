#include "waiter.h"

#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace shmscope {
namespace {

// How long one attempt may block: the latency of cancel().
constexpr auto kSlice = std::chrono::milliseconds(50);

std::atomic<int> inFlight{0};

// Waits still running, so that tearing down the environment can cancel them.
std::mutex registryMutex;
std::vector<std::weak_ptr<WaitJob>> registry;

void Register(const std::shared_ptr<WaitJob>& job) {
  std::lock_guard<std::mutex> lock(registryMutex);
  std::vector<std::weak_ptr<WaitJob>> alive;
  for (auto& w : registry) {
    if (!w.expired()) alive.push_back(w);
  }
  alive.push_back(job);
  registry.swap(alive);
}

void CancelAll(void*) {
  std::lock_guard<std::mutex> lock(registryMutex);
  for (auto& w : registry) {
    if (auto job = w.lock()) job->cancelled = true;
  }
}

int RunLoop(WaitJob& job, int64_t timeoutMs) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(timeoutMs);
  for (bool first = true;; first = false) {
    if (job.cancelled) return ECANCELED;
    auto remaining = deadline - clock::now();
    if (!first && remaining <= clock::duration::zero()) return ETIMEDOUT;
    auto slice = std::max(clock::duration::zero(), std::min<clock::duration>(remaining, kSlice));
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(slice).count();
    struct timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    int rc = job.attempt(ts);
    if (rc == 0) return 0;
    if (rc != EAGAIN && rc != ETIMEDOUT && rc != EINTR) return rc;
  }
}

struct WaitState {
  Napi::Promise::Deferred deferred;
  std::shared_ptr<WaitJob> job;
  std::string syscall;
  std::string detail;
  int result = 0;
};

void Settle(Napi::Env env, Napi::Function, WaitState* state) {
  if (state->result == 0) {
    state->deferred.Resolve(env.Undefined());
  } else {
    const bool ownError = state->result != ETIMEDOUT && state->result != ECANCELED;
    std::string detail = ownError && state->job->describe ? state->job->describe() : state->detail;
    state->deferred.Reject(ErrnoError(env, state->syscall.c_str(), state->result, detail).Value());
  }
  delete state;
}

Napi::Value WaitsInFlight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), inFlight.load()); }

}  // namespace

Napi::Object StartWait(Napi::Env env, std::shared_ptr<WaitJob> job, int64_t timeoutMs, const std::string& syscall,
                       const std::string& detail) {
  auto deferred = Napi::Promise::Deferred::New(env);
  auto* state = new WaitState{deferred, job, syscall, detail, 0};
  Napi::ThreadSafeFunction tsfn;
  try {
    tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                         "shmscope-wait", 0, 1);
  } catch (...) {
    delete state;
    throw;
  }
  Register(job);
  inFlight++;
  try {
    std::thread([tsfn, state, timeoutMs]() mutable {
      state->result = RunLoop(*state->job, timeoutMs);
      inFlight--;
      if (tsfn.BlockingCall(state, Settle) != napi_ok) delete state;  // the environment is gone
      tsfn.Release();
    }).detach();
  } catch (const std::system_error& e) {
    inFlight--;
    tsfn.Release();
    delete state;
    ThrowErrno(env, "pthread_create", e.code().value(), "could not start a thread for the wait");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("promise", deferred.Promise());
  result.Set("cancel", Napi::Function::New(
                           env,
                           [job](const Napi::CallbackInfo& info) {
                             job->cancelled = true;
                             return info.Env().Undefined();
                           },
                           "cancel"));
  return result;
}

void InitWaiter(Napi::Env env, Napi::Object exports) {
  napi_add_env_cleanup_hook(env, CancelAll, nullptr);
  exports.Set("waitsInFlight", Napi::Function::New(env, WaitsInFlight, "waitsInFlight"));
}

}  // namespace shmscope
