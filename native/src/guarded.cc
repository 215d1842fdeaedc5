// Copies to and from a mapping that the kernel may refuse to back: a System V segment made with
// SHM_HUGETLB|SHM_NORESERVE when the huge-page pool is empty, a file truncated under a shared
// mapping. memcpy on such a page raises SIGBUS, which ends the whole process (the editor's
// extension host with every extension in it). process_vm_readv/writev on our own pid fault the
// pages in through the kernel instead, which answers EFAULT for a page it cannot supply.
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common.h"

namespace shmscope {
namespace {

template <typename Op>
int Guarded(Op op, void* local, void* remote, size_t n) {
  static const pid_t self = getpid();
  size_t done = 0;
  while (done < n) {
    // One call moves at most ~2 GiB (MAX_RW_COUNT): go in 1 GiB steps.
    size_t chunk = std::min<size_t>(n - done, size_t{1} << 30);
    struct iovec l { static_cast<char*>(local) + done, chunk };
    struct iovec r { static_cast<char*>(remote) + done, chunk };
    ssize_t k = op(self, &l, 1, &r, 1, 0);
    if (k < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (k == 0) return EFAULT;  // the first page of what is left was refused
    done += static_cast<size_t>(k);
  }
  return 0;
}

}  // namespace

int GuardedRead(void* dst, const void* mapped, size_t n) {
  return Guarded(process_vm_readv, dst, const_cast<void*>(mapped), n);
}

int GuardedWrite(void* mapped, const void* src, size_t n) {
  return Guarded(process_vm_writev, const_cast<void*>(src), mapped, n);
}

}  // namespace shmscope
