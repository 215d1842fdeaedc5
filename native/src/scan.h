// The one /proc scanner of the addon: one maps parser, one runner that reads processes by a
// deadline with a fair share for each (remembering the processes that did not answer, in one
// registry), and one way to run a job on a thread of its own and answer the caller on the JS
// thread by a deadline. Every scan (shared regions, System V and /dev/shm attachments, threads
// and their waits, one process's maps, command lines) is a view over these: it says what to read
// of one process and how to merge it, never how to bound, schedule or deliver it.
//
// Why threads of our own: reading another process's maps, cmdline or mem takes its memory lock,
// which it can hold as long as it likes (a fault on a hung FUSE file, userfaultfd). The JS thread
// must never wait on that, and neither may libuv's pool (four threads shared with every fs call
// of the editor: a scan on one of them made a readFile beside it wait half a second). Readers and
// jobs run on one pool of the addon's own threads, started when none is idle and then kept for
// the next scan (a long-running exporter's memory stays flat: glibc keeps each thread's malloc
// arena); a task never waits for another's thread.
#pragma once

#include <napi.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace shmscope {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// /proc/PID/maps, parsed in place.

// One line of /proc/PID/maps: "start-end perms offset major:minor inode   path". The views point
// into the text read (nothing is copied); `path` is as the kernel writes it (a newline as \012,
// " (deleted)" kept), empty for an anonymous private mapping.
struct MapsLine {
  uint64_t start = 0, end = 0, offset = 0, inode = 0;
  unsigned major = 0, minor = 0;
  std::string_view perms, dev, path;
  bool Shared() const { return perms.size() >= 4 && perms[3] == 's'; }
  bool Writable() const { return perms.size() >= 2 && perms[1] == 'w'; }
};

// Which lines a view wants: every one, or only MAP_SHARED ones (decided from the perms column
// before anything else of the line is parsed).
enum class MapsFilter { kAll, kShared };

// Calls fn(const MapsLine&) for each well-formed line of `text` that passes `filter`, in order.
// Malformed lines are skipped. Allocates nothing.
void ForEachMapsLine(std::string_view text, MapsFilter filter, const std::function<void(const MapsLine&)>& fn);

// ---------------------------------------------------------------------------------------------
// Processes that did not answer.

// The one registry: a pid a reader was still blocked on when its scan answered. Every scan skips
// it (named as not read) until that reader comes back, so stuck threads stay as few as the stuck
// processes.
bool IsStuck(int pid);

// Every process of /proc (its numeric entries), by pid; `error` gets the errno when /proc cannot
// be opened (then empty).
std::vector<int> ProcPids(int* error = nullptr);

// ---------------------------------------------------------------------------------------------
// The runner.

// Reads each of `pids` with read(slot, index, pid) on reader threads of the runner's own, until
// every pid is read or the deadline passes; returns per index whether it was read (false: not
// reached in time, blocked past the deadline, or skipped as stuck). Readers share one queue, so a
// process that is slow to read (200 000 mappings, a held memory lock) delays only itself: when
// every reader has been on one process for a slice of the budget another reader starts, up to
// kMaxReaders. `read` runs concurrently for different indices and must write only what belongs
// to its index; it is shared with readers that may outlive this call (blocked on a process), so it
// must own, through its captures, whatever it writes to. The calling thread never reads /proc
// itself: it returns at most ~50 ms after the deadline.
constexpr int kMaxReaders = 8;
std::vector<char> ReadProcesses(const std::vector<int>& pids, Clock::time_point deadline, int firstReaders,
                                std::function<void(int slot, size_t index, int pid)> read);

// ---------------------------------------------------------------------------------------------
// A job on a thread of its own.

// Runs work() on a new thread and then answer(env, deferred, finished) on the JS thread, and
// returns the promise `answer` settles. With budgetMs >= 0, `answer` runs at the deadline if work
// has not returned by then (finished false): the thread is left to end by itself, holding only
// what work's closure owns, and `answer` must not touch what work writes. With budgetMs < 0 there
// is no deadline: for work that bounds itself (ReadProcesses). Never takes a thread of libuv's
// pool. Throws (pthread_create) when no thread can be started.
using Answer = std::function<void(Napi::Env env, Napi::Promise::Deferred& deferred, bool finished)>;
Napi::Value OffThread(Napi::Env env, const char* name, int64_t budgetMs, std::function<void()> work, Answer answer);

// ---------------------------------------------------------------------------------------------
// A task about to enter another namespace (setns with CLONE_NEWIPC or CLONE_NEWUTS) says so first:
// its thread goes back to the process's own namespaces before it takes other work (or ends).
void EnteringNamespace(int type);

// ---------------------------------------------------------------------------------------------
// Test mode (SHMSCOPE_TEST=1 in the environment when the addon loads): `_testProcScans()` counts
// the whole-/proc scans started (a listing that needs no mappings must not start one),
// `_testHoldScans(true)` holds every runner and off-thread job at its start until
// `_testHoldScans(false)`, as a process that does not answer would, and `_testPool()` tells the
// pool's threads: { threads (alive), idle, started (ever) }.
void InitScan(Napi::Env env, Napi::Object exports);
// Counts one scan over every process (test mode only).
void CountProcScan();

}  // namespace shmscope
