// The one /proc scanner: maps parser, registry of processes that did not answer, the runner that
// reads processes by a deadline, and jobs on threads of their own (see scan.h).
#include "scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "common.h"

namespace shmscope {
namespace {

// ---------------------------------------------------------------------------------------------
// The addon's threads (scan.h): started when no idle one is left, then kept. A thread that
// finishes its task waits for the next one, so the threads, and glibc's malloc arenas with them,
// are reused by every scan. Before, every job and reader ran on a thread started for it, and a
// long-running exporter's RSS grew scan after scan (160 -> 275 MB over 928 scrapes) while its V8
// heap stayed flat: glibc kept what those threads had freed in their arenas. Handing the arenas'
// free pages back after each scan (malloc_trim, at most once a second) only slowed the growth,
// and cost a fifth of a scrape's CPU: the next scan faulted the same pages back in.
//
// A task may block for as long as a process does not answer (a reader held by a memory lock) or a
// wait lasts (waiter.cc): the pool never makes a task wait for another, it starts a thread
// instead. So the pool holds as many threads as were ever busy at once (a few per scan, one more
// for each process that stops answering, one per wait in flight). A task that entered another
// IPC or UTS namespace (namespaces.cc) is brought back to the process's own before its thread
// takes other work; a thread that cannot go back ends.
//
// One pool per loaded addon, shared by the environments (main thread, workers) that load it; when
// the last of them is torn down its idle threads end and are joined, and busy ones end after their
// task (a new environment then starts a new generation).

// The namespaces a task of this thread entered (CLONE_NEWIPC, CLONE_NEWUTS), and the process's
// own, opened when the addon first loads.
thread_local int tEntered = 0;
int gHomeIpc = -1, gHomeUts = -1;

bool GoHome() {
  if (tEntered == 0) return true;
  bool ok = true;
  if ((tEntered & CLONE_NEWIPC) && (gHomeIpc < 0 || setns(gHomeIpc, CLONE_NEWIPC) != 0)) ok = false;
  if ((tEntered & CLONE_NEWUTS) && (gHomeUts < 0 || setns(gHomeUts, CLONE_NEWUTS) != 0)) ok = false;
  tEntered = 0;
  return ok;
}

class Pool {
 public:
  // Runs task on an idle thread, or on a new one. Throws std::system_error when neither is there.
  void Run(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_ > static_cast<int>(queue_.size())) {
      queue_.push_back(std::move(task));
      cv_.notify_one();
      return;
    }
    const uint64_t id = serial_++;
    std::thread t(&Pool::Loop, this, id, generation_);  // throws; the thread waits for the lock
    threads_[id].thread = std::move(t);
    started_++;
    queue_.push_back(std::move(task));
  }

  void Acquire() {
    std::lock_guard<std::mutex> lock(mutex_);
    users_++;
  }

  // The last environment that loaded the addon is torn down: the idle threads end (joined here),
  // the busy ones after their task, tasks not yet begun are dropped.
  void Release() {
    std::vector<std::thread> idle;
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--users_ > 0) return;
      generation_++;
      for (auto& [id, t] : threads_) {
        if (t.busy) t.thread.detach();
        else idle.push_back(std::move(t.thread));
      }
      threads_.clear();
      dropped.swap(queue_);
      cv_.notify_all();
    }
    for (std::thread& t : idle) t.join();
  }

  struct Counts {
    int threads, idle, started;
  };
  Counts Count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {static_cast<int>(threads_.size()), idle_, started_};
  }

 private:
  void Loop(uint64_t id, uint64_t generation) {
    pthread_setname_np(pthread_self(), "shmscope-pool");
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      idle_++;
      cv_.wait(lock, [&] { return !queue_.empty() || generation != generation_; });
      idle_--;
      if (generation != generation_) return;  // released: Release joins or detached this thread
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      threads_[id].busy = true;
      lock.unlock();
      try {
        task();
      } catch (...) {
        // never out of a thread of ours (that would end the process)
      }
      task = nullptr;  // what it holds goes now, not when the next task comes
      const bool home = GoHome();
      lock.lock();
      if (generation != generation_) return;
      auto self = threads_.find(id);
      if (!home) {
        // Left in another namespace: this thread ends with it.
        self->second.thread.detach();
        threads_.erase(self);
        return;
      }
      self->second.busy = false;
    }
  }

  struct Thread {
    std::thread thread;
    bool busy = false;
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::map<uint64_t, Thread> threads_;  // the current generation's, by serial number
  uint64_t serial_ = 0, generation_ = 0;
  int idle_ = 0, started_ = 0, users_ = 0;
};

// Never destroyed: detached threads may still use it while the process exits.
Pool& ThePool() {
  static Pool* pool = new Pool();
  return *pool;
}

// Hex digits up to `stop` (which must follow at least one digit, at most 16): true and p past the
// stop character, or false.
bool Hex(const char*& p, const char* end, char stop, uint64_t& out) {
  uint64_t v = 0;
  const char* q = p;
  while (q < end && *q != stop) {
    char c = *q;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0 || q - p >= 16) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
    q++;
  }
  if (q == p || q >= end) return false;
  out = v;
  p = q + 1;
  return true;
}

// Decimal digits (at least one), then p past the spaces after them.
bool Dec(const char*& p, const char* end, uint64_t& out) {
  uint64_t v = 0;
  const char* q = p;
  while (q < end && *q >= '0' && *q <= '9') v = v * 10 + static_cast<uint64_t>(*q++ - '0');
  if (q == p || (q < end && *q != ' ')) return false;
  while (q < end && *q == ' ') q++;
  out = v;
  p = q;
  return true;
}

std::mutex gStuckMutex;
std::map<int, int> gStuck;  // pid -> readers still blocked on it

void MarkStuck(int pid) {
  std::lock_guard<std::mutex> lock(gStuckMutex);
  gStuck[pid]++;
}

void Unstick(int pid) {
  std::lock_guard<std::mutex> lock(gStuckMutex);
  auto it = gStuck.find(pid);
  if (it != gStuck.end() && --it->second <= 0) gStuck.erase(it);
}

// Test mode.
bool gTestMode = false;
std::atomic<int> gProcScans{0};
std::mutex gHoldMutex;
std::condition_variable gHoldCv;
bool gHeld = false;

void WaitWhileHeld() {
  if (!gTestMode) return;
  std::unique_lock<std::mutex> lock(gHoldMutex);
  gHoldCv.wait(lock, [] { return !gHeld; });
}

struct ReadState {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int> pids;
  std::unique_ptr<std::atomic<bool>[]> done;
  std::function<void(int, size_t, int)> read;
  int running = 0;
  bool settled = false;
  size_t next = 0;  // the queue: the index of the next pid any reader takes
  // The pid each reader is reading now (0 between processes), and since when.
  int current[kMaxReaders] = {};
  Clock::time_point since[kMaxReaders];
  Clock::time_point deadline;
};

// One reader: the next pid of the queue, until none is left, the deadline passes or the caller
// was answered (settled). A pid another scan is still blocked on is passed over, unread.
void Reader(std::shared_ptr<ReadState> st, int slot) {
  for (;;) {
    size_t i;
    int pid;
    {
      std::lock_guard<std::mutex> lock(st->mutex);
      auto now = Clock::now();
      if (st->settled || now >= st->deadline || st->next >= st->pids.size()) break;
      i = st->next++;
      pid = st->pids[i];
      if (IsStuck(pid)) continue;
      st->current[slot] = pid;
      st->since[slot] = now;
    }
    st->read(slot, i, pid);
    std::lock_guard<std::mutex> lock(st->mutex);
    st->current[slot] = 0;
    if (st->settled) {
      Unstick(pid);  // answered without us meanwhile: registered as stuck then, and back now
    } else {
      st->done[i].store(true, std::memory_order_release);
    }
  }
  std::lock_guard<std::mutex> lock(st->mutex);
  st->running--;
  st->cv.notify_all();
}

struct OffState {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  bool finished = false;
  int spawnError = 0;
  bool threw = false;   // set by the work thread, under mutex
  bool failed = false;  // what the JS thread is told: set before the state is handed over
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction tsfn;
  Answer answer;
  explicit OffState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void Deliver(Napi::Env env, Napi::Function, std::shared_ptr<OffState>* box) {
  std::shared_ptr<OffState> st = *box;
  delete box;
  if (st->spawnError != 0) {
    st->deferred.Reject(ErrnoError(env, "pthread_create", st->spawnError, "could not start a thread for the job").Value());
    return;
  }
  if (st->failed) {
    st->deferred.Reject(Napi::Error::New(env, "internal error: a native job failed").Value());
    return;
  }
  try {
    st->answer(env, st->deferred, st->finished);
  } catch (const Napi::Error& e) {
    st->deferred.Reject(e.Value());
  }
}

// Hands the state to the JS thread (once), then lets go of the thread-safe function.
void Hand(const std::shared_ptr<OffState>& st) {
  Napi::ThreadSafeFunction tsfn = st->tsfn;
  auto* box = new std::shared_ptr<OffState>(st);
  if (tsfn.BlockingCall(box, Deliver) != napi_ok) delete box;  // the environment is gone
  tsfn.Release();
}

Napi::Value ProcScans(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), gProcScans.load()); }

Napi::Value PoolCounts(const Napi::CallbackInfo& info) {
  Pool::Counts c = ThePool().Count();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("threads", c.threads);
  o.Set("idle", c.idle);
  o.Set("started", c.started);
  return o;
}

void ReleasePool(void*) { ThePool().Release(); }

Napi::Value HoldScans(const Napi::CallbackInfo& info) {
  bool hold = BoolArg(info, 0, "hold", "_testHoldScans(hold)");
  {
    std::lock_guard<std::mutex> lock(gHoldMutex);
    gHeld = hold;
  }
  gHoldCv.notify_all();
  return info.Env().Undefined();
}

}  // namespace

void ForEachMapsLine(std::string_view text, MapsFilter filter, const std::function<void(const MapsLine&)>& fn) {
  const char* p = text.data();
  const char* const stop = p + text.size();
  while (p < stop) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(stop - p)));
    if (nl == nullptr) nl = stop;
    const char* q = p;
    p = nl + 1;
    MapsLine m;
    if (!Hex(q, nl, '-', m.start) || !Hex(q, nl, ' ', m.end) || m.end < m.start) continue;
    const char* sp = static_cast<const char*>(std::memchr(q, ' ', static_cast<size_t>(nl - q)));
    if (sp == nullptr) continue;
    m.perms = std::string_view(q, static_cast<size_t>(sp - q));
    if (filter == MapsFilter::kShared && !m.Shared()) continue;
    q = sp + 1;
    if (!Hex(q, nl, ' ', m.offset)) continue;
    const char* dev = q;
    uint64_t major = 0, minor = 0;
    if (!Hex(q, nl, ':', major) || !Hex(q, nl, ' ', minor) || major > 0xfffff || minor > 0xfffff) continue;
    m.major = static_cast<unsigned>(major);
    m.minor = static_cast<unsigned>(minor);
    m.dev = std::string_view(dev, static_cast<size_t>(q - 1 - dev));
    if (!Dec(q, nl, m.inode)) continue;
    m.path = std::string_view(q, static_cast<size_t>(nl - q));
    fn(m);
  }
}

bool IsStuck(int pid) {
  std::lock_guard<std::mutex> lock(gStuckMutex);
  return gStuck.count(pid) > 0;
}

std::vector<int> ProcPids(int* error) {
  std::vector<int> pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) {
    if (error) *error = errno;
    return pids;
  }
  while (struct dirent* e = readdir(dir)) {
    const char* s = e->d_name;
    if (*s < '1' || *s > '9') continue;
    long pid = 0;
    while (*s >= '0' && *s <= '9' && pid <= (1L << 22)) pid = pid * 10 + (*s++ - '0');
    if (*s != '\0' || pid > (1L << 22)) continue;
    pids.push_back(static_cast<int>(pid));
  }
  closedir(dir);
  if (error) *error = 0;
  std::sort(pids.begin(), pids.end());  // the views merge in this order: by pid, whatever readdir gave
  return pids;
}

std::vector<char> ReadProcesses(const std::vector<int>& pids, Clock::time_point deadline, int firstReaders,
                                std::function<void(int slot, size_t index, int pid)> read) {
  const size_t n = pids.size();
  std::vector<char> out(n, 0);
  if (n == 0) return out;
  auto st = std::make_shared<ReadState>();
  st->pids = pids;
  st->read = std::move(read);
  st->done.reset(new std::atomic<bool>[n]);
  for (size_t i = 0; i < n; i++) st->done[i].store(false);
  st->deadline = deadline;
  int readers = 0;
  auto start = [&](int slot) {
    try {
      ThePool().Run([st, slot]() { Reader(st, slot); });
      st->running++;
      readers++;
    } catch (const std::system_error&) {
      // One reader fewer: the pids nobody reads are reported as not read.
    }
  };
  {
    std::unique_lock<std::mutex> lock(st->mutex);
    for (int w = 0; w < std::clamp(firstReaders, 1, kMaxReaders); w++) start(w);
    if (readers == 0) return out;
    // A slice of the budget: a reader on one process longer than this is held up by it.
    auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const auto slice = std::chrono::milliseconds(std::clamp<int64_t>(budget / 8, 20, 250));
    const auto last = deadline + std::chrono::milliseconds(50);
    for (;;) {
      auto wake = std::min(last, Clock::now() + slice);
      if (st->cv.wait_until(lock, wake, [&] { return st->running == 0; })) break;
      auto now = Clock::now();
      if (now >= last) break;
      if (st->next >= n || readers >= kMaxReaders) continue;
      bool allHeld = true;
      for (int r = 0; r < readers; r++) {
        if (st->current[r] == 0 || now - st->since[r] < slice) allHeld = false;
      }
      if (allHeld) start(readers);
    }
    st->settled = true;
    for (int pid : st->current) {
      if (pid != 0) MarkStuck(pid);
    }
  }
  for (size_t i = 0; i < n; i++) out[i] = st->done[i].load(std::memory_order_acquire) ? 1 : 0;
  return out;
}

Napi::Value OffThread(Napi::Env env, const char* name, int64_t budgetMs, std::function<void()> work, Answer answer) {
  auto st = std::make_shared<OffState>(env);
  st->answer = std::move(answer);
  st->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), name, 0, 1);
  auto run = [st, work = std::move(work)]() {
    WaitWhileHeld();
    bool threw = false;
    try {
      work();
    } catch (...) {
      threw = true;  // never out of a thread of ours (that would end the editor)
    }
    std::lock_guard<std::mutex> lock(st->mutex);
    st->threw = threw;
    st->done = true;
    st->cv.notify_all();
  };
  if (budgetMs < 0) {
    try {
      ThePool().Run([st, run]() {
        run();
        st->finished = true;
        st->failed = st->threw;
        Hand(st);
      });
    } catch (const std::system_error& e) {
      st->tsfn.Release();
      ThrowErrno(env, "pthread_create", e.code().value(), std::string("could not start a thread for ") + name);
    }
    return st->deferred.Promise();
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(budgetMs);
  try {
    // The watchdog answers: when the work is done, or at the deadline whatever it is doing.
    ThePool().Run([st, deadline]() {
      {
        std::unique_lock<std::mutex> lock(st->mutex);
        st->cv.wait_until(lock, deadline, [&] { return st->done; });
        st->finished = st->done;
        st->failed = st->done && st->threw;
      }
      Hand(st);
    });
  } catch (const std::system_error& e) {
    st->tsfn.Release();
    ThrowErrno(env, "pthread_create", e.code().value(), std::string("could not start a thread for ") + name);
  }
  try {
    ThePool().Run(run);
  } catch (const std::system_error& e) {
    std::lock_guard<std::mutex> lock(st->mutex);
    st->spawnError = e.code().value() != 0 ? e.code().value() : EAGAIN;
    st->done = true;
    st->cv.notify_all();
  }
  return st->deferred.Promise();
}

void CountProcScan() {
  if (gTestMode) gProcScans++;
}

void EnteringNamespace(int type) { tEntered |= type; }

void InitScan(Napi::Env env, Napi::Object exports) {
  static std::once_flag home;
  std::call_once(home, [] {
    gHomeIpc = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
    gHomeUts = open("/proc/thread-self/ns/uts", O_RDONLY | O_CLOEXEC);
  });
  ThePool().Acquire();
  napi_add_env_cleanup_hook(env, ReleasePool, nullptr);
  const char* mode = std::getenv("SHMSCOPE_TEST");
  gTestMode = mode != nullptr && std::strcmp(mode, "1") == 0;
  if (!gTestMode) return;
  exports.Set("_testProcScans", Napi::Function::New(env, ProcScans, "_testProcScans"));
  exports.Set("_testHoldScans", Napi::Function::New(env, HoldScans, "_testHoldScans"));
  exports.Set("_testPool", Napi::Function::New(env, PoolCounts, "_testPool"));
}

}  // namespace shmscope
