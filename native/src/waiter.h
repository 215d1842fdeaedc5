// Blocking waits (semop, sem_wait) on a thread of their own.
//
// The libuv pool has four threads shared by every fs call of the extension host: a few stuck
// semaphore waits there would starve the whole editor. Each wait gets a dedicated thread instead,
// which retries the operation in short slices so that it can honour both a deadline and a cancel
// request promptly, then settles a Promise on the JS thread (OffThread, scan.h).
#pragma once

#include <napi.h>
#include <time.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace shmscope {

struct WaitJob {
  // One attempt that blocks at most `slice`. Returns 0 on success or an errno; EAGAIN, ETIMEDOUT and
  // EINTR mean "not yet" and lead to another attempt until the deadline.
  std::function<int(const struct timespec& slice)> attempt;
  // Optional: the detail of the error when the operation failed (not on timeout or cancel), read on
  // the JS thread once the wait thread has finished.
  std::function<std::string()> describe;
  std::atomic<bool> cancelled{false};
};

// Starts `job` on a new thread. Returns { promise, cancel() }: the promise resolves on success and
// rejects with an errno error (ETIMEDOUT after timeoutMs, ECANCELED after cancel(), or the error of
// the operation) named after `syscall`.
Napi::Object StartWait(Napi::Env env, std::shared_ptr<WaitJob> job, int64_t timeoutMs, const std::string& syscall,
                       const std::string& detail);

// Longest wait we accept: a day. Waits are always bounded.
constexpr int64_t kMaxWaitMs = 24LL * 3600 * 1000;

}  // namespace shmscope
