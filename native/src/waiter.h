// Blocking waits (semop, sem_wait) on a thread of their own.
//
// The libuv pool has four threads shared by every fs call of the extension host: a few stuck
// semaphore waits there would starve the whole editor. Each wait gets a dedicated thread instead,
// which retries the operation in slices so that it can honour a deadline, then settles a Promise
// on the JS thread (OffThread, scan.h). A cancel request sets a flag and interrupts the attempt
// with a signal (its handler does nothing; the call returns EINTR), so a slice need not be short
// for a prompt cancel. It should not be: between two attempts the thread is outside the call, and a
// scan of the machine's waits that reads it then (`shmscope waits`, the Waits view) misses the
// wait (with 50 ms slices, one scan in six on a loaded machine).
#pragma once

#include <napi.h>
#include <time.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
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
  // How long one attempt may block. Short only for an attempt that must look again at something
  // the kernel does not wake it for (a POSIX semaphore's file truncated under it); a cancel lost
  // to the moment between the flag's check and the call's start waits at most this long.
  std::chrono::milliseconds slice{50};
  // The thread running the attempts, while `running`: what cancel() interrupts.
  std::mutex threadMutex;
  pthread_t thread{};
  bool running = false;
};

// Starts `job` on a new thread. Returns { promise, cancel() }: the promise resolves on success and
// rejects with an errno error (ETIMEDOUT after timeoutMs, ECANCELED after cancel(), or the error of
// the operation) named after `syscall`.
Napi::Object StartWait(Napi::Env env, std::shared_ptr<WaitJob> job, int64_t timeoutMs, const std::string& syscall,
                       const std::string& detail);

// Longest wait we accept: a day. Waits are always bounded.
constexpr int64_t kMaxWaitMs = 24LL * 3600 * 1000;

}  // namespace shmscope
