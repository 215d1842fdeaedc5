#include "waiter.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"
#include "scan.h"

namespace shmscope {
namespace {

// The signal that interrupts a blocked attempt on cancel: a real-time one no runtime of ours uses
// (glibc keeps the first two, Node and libuv none), with a handler that does nothing and no
// SA_RESTART, so that semtimedop and FUTEX_WAIT return EINTR.
int CancelSignal() { return SIGRTMIN + 4; }

void OnCancelSignal(int) {}

void InstallCancelHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = OnCancelSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(CancelSignal(), &sa, nullptr);
  });
}

// Marks the job cancelled and interrupts its attempt, if its thread is still running them.
void Cancel(WaitJob& job) {
  job.cancelled = true;
  std::lock_guard<std::mutex> lock(job.threadMutex);
  if (job.running) pthread_kill(job.thread, CancelSignal());
}

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
    if (auto job = w.lock()) Cancel(*job);
  }
}

int RunLoop(WaitJob& job, int64_t timeoutMs) {
  // This thread takes the cancel signal (a thread may start with signals blocked), and says it
  // runs the attempts until it returns (after that, its pthread_t may name nothing).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, CancelSignal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  {
    std::lock_guard<std::mutex> lock(job.threadMutex);
    job.thread = pthread_self();
    job.running = true;
  }
  struct Done {
    WaitJob& job;
    ~Done() {
      std::lock_guard<std::mutex> lock(job.threadMutex);
      job.running = false;
    }
  } done{job};
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(timeoutMs);
  for (bool first = true;; first = false) {
    if (job.cancelled) return ECANCELED;
    auto remaining = deadline - clock::now();
    if (!first && remaining <= clock::duration::zero()) return ETIMEDOUT;
    auto slice = std::max(clock::duration::zero(), std::min<clock::duration>(remaining, job.slice));
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
  InstallCancelHandler();
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
                             Cancel(*job);
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
