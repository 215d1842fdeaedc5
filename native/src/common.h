// Shared helpers of the addon: typed errno errors and argument validation.
//
// Every entry point validates its arguments before any cast (TypeError with a usage line) and
// reports a failed system call as an Error carrying `code` (errno name), `errno` and `syscall`.
// Nothing here aborts the process: the addon runs inside the editor's extension host.
#pragma once

#include <napi.h>
#include <sys/ipc.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace shmscope {

// Largest integer a JS number holds exactly; offsets and sizes above it are refused.
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// The errno's symbolic name ("EACCES"), or "E<number>" when libc does not know it.
std::string ErrnoName(int err);

// An Error whose message is "<syscall>: <strerror>[ (<detail>)]", with code/errno/syscall set.
Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const std::string& detail = "");

// Throws ErrnoError (as a C++ exception that node-addon-api turns into a JS exception).
[[noreturn]] void ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& detail = "");

// What a directory entry is when it is not a regular file: "symlink", "fifo", "socket",
// "directory", "char-device", "block-device" (or "other"); empty for a regular file.
const char* FileType(mode_t mode);

// Opens `path` (a file under /dev/shm) for an object users call `name`, never blocking and never
// following a symbolic link (O_NONBLOCK|O_NOFOLLOW), and refuses anything but a regular file.
// The refusal is an errno error (ELOOP for a symlink, EINVAL otherwise) that also carries
// `fileType` and, for a symlink, `linkTarget`, so the façade can say what the entry is.
int OpenRegular(Napi::Env env, const std::string& path, int flags, mode_t mode, const char* syscall,
                const std::string& name);

// Reads a /proc file whole, at most `cap` bytes (opened O_NOFOLLOW|O_NONBLOCK): 0, or the errno
// (also left in errno) when it cannot be opened or read.
int ReadProcFile(const std::string& path, std::string& out, size_t cap = size_t{64} << 20);

// /proc/PID/maps for a view that keeps only MAP_SHARED lines (MapsFilter::kShared): its whole
// text (ReadProcFile's answer) when the process maps anything shared, else empty. Most processes
// map nothing shared; one PROCMAP_QUERY ioctl (Linux 6.11+) asks the kernel for a shared mapping
// first, so that the text of their private mappings (libraries, heaps, stacks: most of every
// maps file) is never written nor parsed. On older kernels, the text is read as before.
int ReadSharedMaps(int pid, std::string& out, size_t cap = size_t{64} << 20);
// Test mode: false reads the text of every process (the route of kernels before 6.11).
void SetMapsQuery(bool on);

// Copies from (GuardedRead) or into (GuardedWrite) memory we mapped that the kernel may refuse to
// back (an empty huge-page pool, a truncated file): 0, or EFAULT where plain memcpy would raise
// SIGBUS and end the process. Every copy out of or into a shared mapping goes through these.
int GuardedRead(void* dst, const void* mapped, size_t n);
int GuardedWrite(void* mapped, const void* src, size_t n);

// Mounts that another process (FUSE) or the network (NFS, CIFS, 9P, Ceph, AFS…) serves, from
// /proc/PID/mountinfo (pid 0: our own): a stat or read there can wait for ever, even past
// SIGKILL once the server has taken the request, so the scanners never touch their files.
struct ServedMount {
  uint64_t dev;
  std::string point;
  std::string type;
};
std::vector<ServedMount> ServedMounts(int pid);

// A process's command line: argv joined by spaces, "[comm]" for a kernel thread; empty if unknown.
std::string ProcCommandLine(int pid);

// Argument checks: each throws TypeError "<usage>: <what is wrong>" when the argument is unfit.
void ExpectArgs(const Napi::CallbackInfo& info, size_t count, const char* usage);
int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max,
               const char* usage);
// The same check for a value that is not a direct argument (an array element, an object member).
int64_t IntValue(Napi::Env env, Napi::Value v, const std::string& name, int64_t min, int64_t max, const char* usage);
bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* name, const char* usage);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t maxLen,
                      const char* usage);
Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name, const char* usage);

// An array of pids (1 ..= 2^22, the kernel's PID_MAX_LIMIT), at most 100 000 of them.
std::vector<int> PidsArg(const Napi::CallbackInfo& info, size_t i, const char* usage);

// A POSIX IPC name as shm_open/sem_open/mq_open take it: "/name", no other slash, 1..250 bytes.
std::string PosixNameArg(const Napi::CallbackInfo& info, size_t i, const char* usage);

// Sets id, key, uid, gid, cuid, cgid and mode (permission bits) from a System V ipc_perm.
void SetIpcPerm(Napi::Object o, int id, const struct ipc_perm& perm);

// Seconds since the epoch as a JS number (0 stays 0: "never").
inline Napi::Number Time(Napi::Env env, int64_t t) { return Napi::Number::New(env, static_cast<double>(t)); }

// Registration of each part of the addon (one per source file).
void InitSysvShm(Napi::Env env, Napi::Object exports);
void InitPosixShm(Napi::Env env, Napi::Object exports);
void InitSem(Napi::Env env, Napi::Object exports);
void InitPosixSem(Napi::Env env, Napi::Object exports);
void InitMsg(Napi::Env env, Napi::Object exports);
void InitWaiter(Napi::Env env, Napi::Object exports);
void InitProcScan(Napi::Env env, Napi::Object exports);
void InitMappings(Napi::Env env, Napi::Object exports);
void InitNamespaces(Napi::Env env, Napi::Object exports);
void InitThreads(Napi::Env env, Napi::Object exports);
void InitPeers(Napi::Env env, Napi::Object exports);
void InitNsDevShm(Napi::Env env, Napi::Object exports);

}  // namespace shmscope
