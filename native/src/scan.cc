// The one /proc scanner: maps parser, registry of processes that did not answer, the runner that
// reads processes by a deadline, and jobs on threads of their own (see scan.h).
#include "scan.h"

#include <dirent.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "common.h"

namespace shmscope {
namespace {

// Every job and every reader runs on a thread that lives for one scan, and glibc gives such
// threads malloc arenas of their own (up to 8 per core, reused by the next threads) and keeps
// what they freed there instead of giving it back to the system: a long-running exporter's RSS
// grew scan after scan (160 -> 275 MB over 928 scrapes) while its V8 heap stayed flat. So each
// job first hands the free pages of every arena back (malloc_trim), off the JS thread; the
// previous scan's buffers are freed by then. At most once a second: back-to-back scans need not
// pay it each time, and what they leave is bounded by a second's worth.
void ReturnFreedMemory() {
#if defined(__GLIBC__)
  static std::atomic<int64_t> last{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
  int64_t seen = last.load();
  if (now - seen < 1000 || !last.compare_exchange_strong(seen, now)) return;
  malloc_trim(0);
#endif
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
      std::thread(Reader, st, slot).detach();
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
    ReturnFreedMemory();
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
      std::thread([st, run]() {
        run();
        st->finished = true;
        st->failed = st->threw;
        Hand(st);
      }).detach();
    } catch (const std::system_error& e) {
      st->tsfn.Release();
      ThrowErrno(env, "pthread_create", e.code().value(), std::string("could not start a thread for ") + name);
    }
    return st->deferred.Promise();
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(budgetMs);
  try {
    // The watchdog answers: when the work is done, or at the deadline whatever it is doing.
    std::thread([st, deadline]() {
      {
        std::unique_lock<std::mutex> lock(st->mutex);
        st->cv.wait_until(lock, deadline, [&] { return st->done; });
        st->finished = st->done;
        st->failed = st->done && st->threw;
      }
      Hand(st);
    }).detach();
  } catch (const std::system_error& e) {
    st->tsfn.Release();
    ThrowErrno(env, "pthread_create", e.code().value(), std::string("could not start a thread for ") + name);
  }
  try {
    std::thread(run).detach();
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

void InitScan(Napi::Env env, Napi::Object exports) {
  const char* mode = std::getenv("SHMSCOPE_TEST");
  gTestMode = mode != nullptr && std::strcmp(mode, "1") == 0;
  if (!gTestMode) return;
  exports.Set("_testProcScans", Napi::Function::New(env, ProcScans, "_testProcScans"));
  exports.Set("_testHoldScans", Napi::Function::New(env, HoldScans, "_testHoldScans"));
}

}  // namespace shmscope
