// System V message queues (stat, send, non-destructive peek, remove) and POSIX message queue
// attributes. A peek uses msgrcv(MSG_COPY), which copies message i and leaves the queue as it was;
// a POSIX queue has no such call, so it is only ever asked for its attributes.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common.h"

namespace shmscope {
namespace {

std::string QueueName(int id) { return "message queue " + std::to_string(id); }

Napi::Value MsgGet(const Napi::CallbackInfo& info) {
  const char* usage = "msgGet(key, mode, create, exclusive)";
  ExpectArgs(info, 4, usage);
  key_t key = static_cast<key_t>(IntArg(info, 0, "key", INT32_MIN, UINT32_MAX, usage));
  int flags = static_cast<int>(IntArg(info, 1, "mode", 0, 0777, usage));
  if (BoolArg(info, 2, "create", usage)) flags |= IPC_CREAT;
  if (BoolArg(info, 3, "exclusive", usage)) flags |= IPC_EXCL;
  int id = msgget(key, flags);
  if (id < 0) ThrowErrno(info.Env(), "msgget", errno);
  return Napi::Number::New(info.Env(), id);
}

Napi::Value MsgStat(const Napi::CallbackInfo& info) {
  const char* usage = "msgStat(id)";
  ExpectArgs(info, 1, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  struct msqid_ds ds;
  if (msgctl(id, IPC_STAT, &ds) < 0) ThrowErrno(info.Env(), "msgctl(IPC_STAT)", errno, QueueName(id));
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  SetIpcPerm(o, id, ds.msg_perm);
  o.Set("messages", Napi::Number::New(env, static_cast<double>(ds.msg_qnum)));
  o.Set("bytes", Napi::Number::New(env, static_cast<double>(ds.__msg_cbytes)));
  o.Set("qbytes", Napi::Number::New(env, static_cast<double>(ds.msg_qbytes)));
  o.Set("lspid", ds.msg_lspid);
  o.Set("lrpid", ds.msg_lrpid);
  o.Set("stime", Time(env, ds.msg_stime));
  o.Set("rtime", Time(env, ds.msg_rtime));
  o.Set("ctime", Time(env, ds.msg_ctime));
  return o;
}

// msgSend(id, type, bytes): never blocks; EAGAIN when the queue is full.
Napi::Value MsgSend(const Napi::CallbackInfo& info) {
  const char* usage = "msgSend(id, type, bytes)";
  ExpectArgs(info, 3, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  long type = static_cast<long>(IntArg(info, 1, "type", 1, INT64_MAX >> 11, usage));
  Napi::Uint8Array bytes = BytesArg(info, 2, "bytes", usage);
  std::vector<uint8_t> buf(sizeof(long) + bytes.ByteLength());
  std::memcpy(buf.data(), &type, sizeof(long));
  if (bytes.ByteLength() > 0) std::memcpy(buf.data() + sizeof(long), bytes.Data(), bytes.ByteLength());
  for (;;) {
    if (msgsnd(id, buf.data(), bytes.ByteLength(), IPC_NOWAIT) == 0) return info.Env().Undefined();
    if (errno != EINTR) ThrowErrno(info.Env(), "msgsnd", errno, QueueName(id));
  }
}

// msgPeek(id, index) -> { type, data }: copies message `index` (0 = oldest) without removing it.
Napi::Value MsgPeek(const Napi::CallbackInfo& info) {
  const char* usage = "msgPeek(id, index)";
  ExpectArgs(info, 2, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  long index = static_cast<long>(IntArg(info, 1, "index", 0, INT32_MAX, usage));
  Napi::Env env = info.Env();
  // Grow the buffer until the message fits (E2BIG); MSG_COPY leaves the queue untouched meanwhile.
  for (size_t cap = 8192; cap <= (size_t{1} << 26); cap *= 4) {
    std::vector<uint8_t> buf(sizeof(long) + cap);
    ssize_t n = msgrcv(id, buf.data(), cap, index, MSG_COPY | IPC_NOWAIT);
    if (n >= 0) {
      long type;
      std::memcpy(&type, buf.data(), sizeof(long));
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", Napi::Number::New(env, static_cast<double>(type)));
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.data() + sizeof(long), static_cast<size_t>(n)));
      return o;
    }
    if (errno == EINTR) {
      cap /= 4;
      continue;
    }
    if (errno != E2BIG) {
      ThrowErrno(env, "msgrcv(MSG_COPY)", errno, QueueName(id) + ", message " + std::to_string(index));
    }
  }
  ThrowErrno(env, "msgrcv(MSG_COPY)", E2BIG, QueueName(id) + ", message " + std::to_string(index));
}

Napi::Value MsgRemove(const Napi::CallbackInfo& info) {
  const char* usage = "msgRemove(id)";
  ExpectArgs(info, 1, usage);
  int id = static_cast<int>(IntArg(info, 0, "id", 0, INT32_MAX, usage));
  if (msgctl(id, IPC_RMID, nullptr) < 0) ThrowErrno(info.Env(), "msgctl(IPC_RMID)", errno, QueueName(id));
  return info.Env().Undefined();
}

// mqGetattr(name) -> { maxMessages, messageSize, messages }
Napi::Value MqGetattr(const Napi::CallbackInfo& info) {
  const char* usage = "mqGetattr(name)";
  ExpectArgs(info, 1, usage);
  std::string name = PosixNameArg(info, 0, usage);
  // Opening needs read or write permission: try read, then write. Neither receives anything.
  mqd_t q = mq_open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (q == (mqd_t)-1 && errno == EACCES) q = mq_open(name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (q == (mqd_t)-1) ThrowErrno(info.Env(), "mq_open", errno, name);
  struct mq_attr attr;
  int rc = mq_getattr(q, &attr);
  int err = errno;
  mq_close(q);
  if (rc < 0) ThrowErrno(info.Env(), "mq_getattr", err, name);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("maxMessages", Napi::Number::New(env, static_cast<double>(attr.mq_maxmsg)));
  o.Set("messageSize", Napi::Number::New(env, static_cast<double>(attr.mq_msgsize)));
  o.Set("messages", Napi::Number::New(env, static_cast<double>(attr.mq_curmsgs)));
  return o;
}

// mqCreate(name, mode, maxMessages, messageSize, exclusive)
Napi::Value MqCreate(const Napi::CallbackInfo& info) {
  const char* usage = "mqCreate(name, mode, maxMessages, messageSize, exclusive)";
  ExpectArgs(info, 5, usage);
  std::string name = PosixNameArg(info, 0, usage);
  mode_t mode = static_cast<mode_t>(IntArg(info, 1, "mode", 0, 0777, usage));
  struct mq_attr attr{};
  attr.mq_maxmsg = static_cast<long>(IntArg(info, 2, "maxMessages", 1, 65536, usage));
  attr.mq_msgsize = static_cast<long>(IntArg(info, 3, "messageSize", 1, 1 << 24, usage));
  int flags = O_RDWR | O_CREAT | O_CLOEXEC | (BoolArg(info, 4, "exclusive", usage) ? O_EXCL : 0);
  mqd_t q = mq_open(name.c_str(), flags, mode, &attr);
  if (q == (mqd_t)-1) ThrowErrno(info.Env(), "mq_open", errno, name);
  mq_close(q);
  return info.Env().Undefined();
}

// mqSend(name, bytes, priority): never blocks; EAGAIN when full.
Napi::Value MqSend(const Napi::CallbackInfo& info) {
  const char* usage = "mqSend(name, bytes, priority)";
  ExpectArgs(info, 3, usage);
  std::string name = PosixNameArg(info, 0, usage);
  Napi::Uint8Array bytes = BytesArg(info, 1, "bytes", usage);
  unsigned prio = static_cast<unsigned>(IntArg(info, 2, "priority", 0, 32767, usage));
  mqd_t q = mq_open(name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (q == (mqd_t)-1) ThrowErrno(info.Env(), "mq_open", errno, name);
  int rc = mq_send(q, reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength(), prio);
  int err = errno;
  mq_close(q);
  if (rc < 0) ThrowErrno(info.Env(), "mq_send", err, name);
  return info.Env().Undefined();
}

Napi::Value MqUnlink(const Napi::CallbackInfo& info) {
  const char* usage = "mqUnlink(name)";
  ExpectArgs(info, 1, usage);
  std::string name = PosixNameArg(info, 0, usage);
  if (mq_unlink(name.c_str()) < 0) ThrowErrno(info.Env(), "mq_unlink", errno, name);
  return info.Env().Undefined();
}

}  // namespace

void InitMsg(Napi::Env env, Napi::Object exports) {
  exports.Set("msgGet", Napi::Function::New(env, MsgGet, "msgGet"));
  exports.Set("msgStat", Napi::Function::New(env, MsgStat, "msgStat"));
  exports.Set("msgSend", Napi::Function::New(env, MsgSend, "msgSend"));
  exports.Set("msgPeek", Napi::Function::New(env, MsgPeek, "msgPeek"));
  exports.Set("msgRemove", Napi::Function::New(env, MsgRemove, "msgRemove"));
  exports.Set("mqGetattr", Napi::Function::New(env, MqGetattr, "mqGetattr"));
  exports.Set("mqCreate", Napi::Function::New(env, MqCreate, "mqCreate"));
  exports.Set("mqSend", Napi::Function::New(env, MqSend, "mqSend"));
  exports.Set("mqUnlink", Napi::Function::New(env, MqUnlink, "mqUnlink"));
}

}  // namespace shmscope
