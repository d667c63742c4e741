// SPDX-License-Identifier: MPL-2.0
// Owning wrappers and helpers around libsrt (STYLE.md rule 6: one owner per C handle).
//
// libsrt here is the project's static build with bonding (tools/setup); Debian's
// shared libsrt has no bonding and is never loaded by bondcast.
#pragma once

#include <srt/srt.h>

#include <chrono>
#include <string>
#include <utility>

#include "common/result.h"
#include "common/srt_uri.h"
#include "common/uri.h"

namespace bondcast::srt {

// srt_startup() on construction, srt_cleanup() on destruction. Create one per
// process (or test fixture) before any socket.
//
// libsrt 1.5.1's srt_cleanup() can deadlock after a refused connection (its GC thread,
// holding the global control lock, joins a receive worker that waits for that lock:
// issue 16). A command-line process passes kEndProcessIfStuck: if srt_cleanup() has not
// returned after kCleanupLimit, the process logs it, prints again the line that said why
// it was ending (so that line stays the last one on stderr) and ends with the exit code it
// was going to return (setExitCode; 0 unless set). A library (the GStreamer elements) never
// ends its host process and does not pass it.
class Runtime {
 public:
  enum class IfStuck { kWait, kEndProcess };
  static constexpr IfStuck kEndProcessIfStuck = IfStuck::kEndProcess;
  static constexpr std::chrono::milliseconds kCleanupLimit{2000};
  explicit Runtime(IfStuck if_stuck = IfStuck::kWait);
  ~Runtime();
  // The exit code a process ended by a stuck srt_cleanup() returns, and the line it
  // printed last (printed again after the warning). Call from the thread that will
  // destroy the Runtime, before it does.
  static void setExitCode(int code, std::string last_line = {});
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

 private:
  IfStuck if_stuck_;
};

// A socket or group id that is closed when the owner goes away.
class Socket {
 public:
  Socket() = default;
  explicit Socket(SRTSOCKET s) : s_(s) {}
  ~Socket() { reset(); }
  Socket(Socket&& o) noexcept : s_(std::exchange(o.s_, SRT_INVALID_SOCK)) {}
  Socket& operator=(Socket&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = std::exchange(o.s_, SRT_INVALID_SOCK);
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  SRTSOCKET get() const { return s_; }
  bool valid() const { return s_ != SRT_INVALID_SOCK; }
  SRTSOCKET release() { return std::exchange(s_, SRT_INVALID_SOCK); }
  void reset(SRTSOCKET s = SRT_INVALID_SOCK);

 private:
  SRTSOCKET s_ = SRT_INVALID_SOCK;
};

// An SRT epoll container.
class Epoll {
 public:
  Epoll();
  ~Epoll();
  Epoll(const Epoll&) = delete;
  Epoll& operator=(const Epoll&) = delete;
  Epoll(Epoll&& other) noexcept : eid_(std::exchange(other.eid_, -1)) {}
  Epoll& operator=(Epoll&& other) noexcept;
  // libsrt made the container (when it could not, every add() fails saying why).
  bool valid() const { return eid_ >= 0; }
  int id() const { return eid_; }
  Status add(SRTSOCKET s, int events);
  // Changes what a subscribed socket reports (SRT_EPOLL_ET: each change once).
  Status update(SRTSOCKET s, int events);
  void remove(SRTSOCKET s);

 private:
  int eid_;
};

// "what: <libsrt's last error>" for the calling thread.
std::string lastError(const std::string& what);

// libsrt's text for an SRT_E* code (srt_strerror). srt_strerror formats into one static
// object for the whole process: two threads calling it at once (libsrt's receive workers
// reporting two group members' failures to the group sender) race on it
// (ThreadSanitizer). Here the call and the copy are one at a time.
std::string errorText(int code);

// Fails with a clear message when this libsrt cannot create socket groups.
Status checkBonding();

// "connection rejected: ..." for a caller's SRT_REJ_* reason, in the user's words where
// libsrt's are cryptic (SRT_REJ_UNSECURE: "Password required or unexpected").
std::string rejectionText(int reason);

// Routes libsrt's own log lines to spdlog (warnings and errors by default).
void routeLogsToSpdlog();
// Handshakes this process's listeners refused for `reason` (SRT_REJ_*, e.g.
// SRT_REJ_BADSECRET for a wrong passphrase), counted from libsrt's log once
// routeLogsToSpdlog() is in force: libsrt refuses those before any callback of ours.
std::uint64_t rejectedHandshakes(int reason);

template <class T>
Status setOption(SRTSOCKET s, SRT_SOCKOPT opt, const T& value, const char* name) {
  if (srt_setsockflag(s, opt, &value, sizeof value) == SRT_ERROR) {
    return Error{lastError(std::string("setting ") + name)};
  }
  return okStatus();
}
Status setOption(SRTSOCKET s, SRT_SOCKOPT opt, const std::string& value, const char* name);

// Resolves HOST:PORT to a socket address (numeric or by name). A passive (listening)
// address with no host is every address: IPv6's [::] where this host has IPv6, to be bound
// dual-stack (bindSrt, or IPV6_V6ONLY off on a plain socket) so IPv4 peers come in too, as
// IPv4-mapped addresses; 0.0.0.0 where it has no IPv6.
struct SockAddr {
  sockaddr_storage storage{};
  int len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  // [::]: binding it takes IPv4 too when IPV6_V6ONLY is off.
  bool isIpv6Any() const;
};
Result<SockAddr> resolve(const std::string& host, std::uint16_t port, bool passive);
// srt_bind, dual-stack on [::] (SRTO_IPV6ONLY off: libsrt wants it said before binding it).
// The error names the address and the system's reason.
Status bindSrt(SRTSOCKET s, const SockAddr& addr);
// "127.0.0.1:5000", "[::1]:5000"; an IPv4-mapped IPv6 address (an IPv4 peer of a dual-stack
// listener) reads as the IPv4 address it is.
std::string addressText(const sockaddr* addr);
// The local port socket `s` is bound to (IPv4 or IPv6); 0 when it is not bound.
std::uint16_t boundPort(SRTSOCKET s);

// The common SRT options from a URI's query (latency=MS, passphrase=, streamid=,
// pbkeylen=, maxbw=, oheadbw=). Unknown keys are left to the caller.
struct CommonOptions {
  std::chrono::milliseconds latency{200};
  std::string passphrase;
  std::string stream_id;
  int pbkeylen = 0;                        // 0: libsrt's default (16)
  std::chrono::milliseconds conntimeo{0};  // 0: libsrt's default (3 s)
};
// `defaults` (the command line's) with what a URI says instead.
CommonOptions withUri(const CommonOptions& defaults, const SrtUriOptions& uri);
// Sets every option that is not a default. A pbkeylen without a passphrase is an error.
// Then logs (debug) what libsrt holds, read back: "<what>: SRT options in effect: ..."
// (not for a group, whose own read-back shows libsrt's defaults).
Status applyCommonOptions(SRTSOCKET s, const CommonOptions& o, std::string_view what);
// What libsrt holds for `s`, read back with srt_getsockflag: "latency 450 ms, pbkeylen 32,
// conntimeo 4500 ms, stream id 'cam1'" (pbkeylen 0: no passphrase given; a passphrase
// cannot be read back, its effect is a refused or an encrypted connection).
std::string optionsInEffect(SRTSOCKET s);

}  // namespace bondcast::srt
