// peersOf(links, budgetMs): who holds the other end of what a blocked thread waits on.
//
// `links` are descriptor links as /proc/PID/fd shows them: "pipe:[N]", "socket:[N]" or a FIFO's
// path. For each Unix socket the kernel's socket diagnostics (NETLINK_SOCK_DIAG, UNIX_DIAG_PEER)
// name its peer socket; then every process's descriptors are read (a view over the one /proc
// runner, by the deadline) and those that are one of the links, or a peer socket, are returned with
// their access mode (the mode of the fd link), so a pipe's writers are told apart from its readers.
//
// Sockets of another network namespace are not in our diagnostics: their peer stays unknown.
#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common.h"
#include "scan.h"

namespace shmscope {
namespace {

constexpr size_t kMaxLinks = 4096;
constexpr size_t kMaxFdsPerProcess = 1 << 16;
constexpr size_t kMaxDiagBytes = size_t{64} << 20;

struct Holder {
  int pid = 0;
  int fd = 0;
  int flags = -1;  // O_RDONLY, O_WRONLY or O_RDWR: a pipe's reader told from its writer (-1: neither, or not told)
};

// Unix socket inode → its peer's inode, for the sockets of `wanted` (our network namespace).
// Returns 0, or the errno that stopped the dump.
int UnixPeers(const std::set<uint64_t>& wanted, std::map<uint64_t, uint64_t>& out, Clock::time_point deadline) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return errno;
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct {
    nlmsghdr nlh;
    unix_diag_req req;
  } msg;
  std::memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.req.sdiag_family = AF_UNIX;
  msg.req.udiag_states = ~0u;
  msg.req.udiag_show = UDIAG_SHOW_PEER;
  sockaddr_nl nl;
  std::memset(&nl, 0, sizeof nl);
  nl.nl_family = AF_NETLINK;
  if (sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&nl), sizeof nl) < 0) {
    int err = errno;
    close(fd);
    return err;
  }
  std::vector<char> buf(32768);
  size_t total = 0;
  int err = 0;
  for (bool done = false; !done;) {
    if (Clock::now() > deadline || total > kMaxDiagBytes) {
      err = ETIMEDOUT;
      break;
    }
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
    int len = static_cast<int>(n);
    for (nlmsghdr* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        err = e->error ? -e->error : EIO;
        done = true;
        break;
      }
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) continue;
      auto* m = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
      if (!wanted.count(m->udiag_ino)) continue;
      int alen = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (rtattr* a = reinterpret_cast<rtattr*>(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= 4) {
          uint32_t peer;
          std::memcpy(&peer, RTA_DATA(a), 4);
          if (peer) out[m->udiag_ino] = peer;
        }
      }
    }
  }
  close(fd);
  return err;
}

uint64_t SocketInode(const std::string& link) {
  if (link.compare(0, 8, "socket:[") != 0) return 0;
  return std::strtoull(link.c_str() + 8, nullptr, 10);
}

struct PeersResult {
  std::map<uint64_t, uint64_t> peers;
  std::map<std::string, std::vector<Holder>> holders;
  int diagError = 0;
  bool complete = true;
};

// peersOf(links, budgetMs) -> Promise<{ peers: {inode: peerInode}, holders: {link: [{pid, fd, flags}]}, complete, diagError? }>
Napi::Value PeersOf(const Napi::CallbackInfo& info) {
  static const char* usage = "peersOf(links, budgetMs)";
  ExpectArgs(info, 2, usage);
  if (!info[0].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(usage) + ": links must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  if (arr.Length() > kMaxLinks) throw Napi::TypeError::New(info.Env(), std::string(usage) + ": too many links");
  auto links = std::make_shared<std::set<std::string>>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), std::string(usage) + ": links must be strings");
    links->insert(v.As<Napi::String>().Utf8Value());
  }
  int64_t budgetMs = IntArg(info, 1, "budgetMs", 1, 600000, usage);
  auto result = std::make_shared<PeersResult>();
  auto work = [links, budgetMs, result]() {
    Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(budgetMs);
    std::set<uint64_t> sockets;
    for (const std::string& l : *links) {
      if (uint64_t ino = SocketInode(l)) sockets.insert(ino);
    }
    if (!sockets.empty()) result->diagError = UnixPeers(sockets, result->peers, deadline);
    for (auto& p : result->peers) links->insert("socket:[" + std::to_string(p.second) + "]");
    std::vector<int> pids = ProcPids();
    auto per = std::make_shared<std::vector<std::vector<std::pair<std::string, Holder>>>>(pids.size());
    auto wanted = links;  // shared with readers that may outlive this job
    std::vector<char> read = ReadProcesses(pids, deadline, pids.size() > 64 ? 2 : 1, [per, wanted](int, size_t i, int pid) {
      DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
      if (d == nullptr) return;
      char buf[4096];
      size_t seen = 0;
      while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        if (++seen > kMaxFdsPerProcess) break;
        ssize_t n = readlinkat(dirfd(d), e->d_name, buf, sizeof buf - 1);
        if (n <= 0) continue;
        std::string link(buf, static_cast<size_t>(n));
        if (!wanted->count(link)) continue;
        Holder h;
        h.pid = pid;
        h.fd = std::atoi(e->d_name);
        // The end it is, from the link's own mode: the kernel gives /proc/PID/fd/N the owner's read
        // bit for a descriptor opened for reading and the write bit for writing (one lstat, where
        // fdinfo's flags cost an open, a read and a close; the link is never followed).
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
          bool r = (st.st_mode & S_IRUSR) != 0, w = (st.st_mode & S_IWUSR) != 0;
          h.flags = r && w ? O_RDWR : w ? O_WRONLY : r ? O_RDONLY : -1;
        }
        (*per)[i].emplace_back(std::move(link), h);
      }
      closedir(d);
    });
    for (size_t i = 0; i < pids.size(); i++) {
      if (!read[i]) {
        result->complete = false;
        continue;
      }
      for (auto& [link, h] : (*per)[i]) result->holders[link].push_back(h);
    }
  };
  return OffThread(info.Env(), "shmscope-peers", -1, work, [result](Napi::Env env, Napi::Promise::Deferred& deferred, bool) {
    Napi::Object out = Napi::Object::New(env);
    Napi::Object peers = Napi::Object::New(env);
    for (auto& [ino, peer] : result->peers) peers.Set(std::to_string(ino), Napi::Number::New(env, static_cast<double>(peer)));
    Napi::Object holders = Napi::Object::New(env);
    for (auto& [link, list] : result->holders) {
      Napi::Array a = Napi::Array::New(env, list.size());
      for (size_t i = 0; i < list.size(); i++) {
        Napi::Object h = Napi::Object::New(env);
        h.Set("pid", list[i].pid);
        h.Set("fd", list[i].fd);
        h.Set("flags", list[i].flags);
        a.Set(i, h);
      }
      holders.Set(link, a);
    }
    out.Set("peers", peers);
    out.Set("holders", holders);
    out.Set("complete", result->complete);
    if (result->diagError) out.Set("diagError", ErrnoName(result->diagError));
    deferred.Resolve(out);
  });
}

}  // namespace

void InitPeers(Napi::Env env, Napi::Object exports) {
  exports.Set("peersOf", Napi::Function::New(env, PeersOf, "peersOf"));
}

}  // namespace shmscope
