#include "waiter.h"

#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"
#include "scan.h"

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

Napi::Value WaitsInFlight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), inFlight.load()); }

}  // namespace

Napi::Object StartWait(Napi::Env env, std::shared_ptr<WaitJob> job, int64_t timeoutMs, const std::string& syscall,
                       const std::string& detail) {
  auto result = std::make_shared<int>(0);
  Register(job);
  inFlight++;
  Napi::Value promise;
  // The wait bounds itself (its slices honour the deadline and cancel), so no watchdog: the one
  // off-thread helper of the addon (scan.h) with no deadline of its own.
  try {
    promise = OffThread(env, "shmscope-wait", -1, [job, timeoutMs, result]() {
      *result = RunLoop(*job, timeoutMs);
      inFlight--;
    }, [job, result, syscall, detail](Napi::Env e, Napi::Promise::Deferred& deferred, bool) {
      if (*result == 0) {
        deferred.Resolve(e.Undefined());
        return;
      }
      const bool ownError = *result != ETIMEDOUT && *result != ECANCELED;
      std::string why = ownError && job->describe ? job->describe() : detail;
      deferred.Reject(ErrnoError(e, syscall.c_str(), *result, why).Value());
    });
  } catch (...) {
    inFlight--;
    throw;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("promise", promise);
  out.Set("cancel", Napi::Function::New(
                           env,
                           [job](const Napi::CallbackInfo& info) {
                             job->cancelled = true;
                             return info.Env().Undefined();
                           },
                           "cancel"));
  return out;
}

void InitWaiter(Napi::Env env, Napi::Object exports) {
  napi_add_env_cleanup_hook(env, CancelAll, nullptr);
  exports.Set("waitsInFlight", Napi::Function::New(env, WaitsInFlight, "waitsInFlight"));
}

}  // namespace shmscope
