// SPDX-License-Identifier: MPL-2.0
#include "common/srt/srt.h"

#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <srt/access_control.h>
#include <srt/logging_api.h>
#include <sys/socket.h>
#include <sys/syslog.h>
#include <unistd.h>

#include <cstring>

#include "common/fd.h"
#include "common/watchdog.h"

namespace bondcast::srt {

namespace {
std::atomic<int> exit_code_if_stuck{0};
// Written before ~Runtime starts the watchdog thread that reads it.
std::string& lastLineIfStuck() {
  static std::string line;
  return line;
}
}  // namespace

Runtime::Runtime(IfStuck if_stuck) : if_stuck_(if_stuck) {
  srt_startup();
}

void Runtime::setExitCode(int code, std::string last_line) {
  exit_code_if_stuck = code;
  lastLineIfStuck() = std::move(last_line);
}

Runtime::~Runtime() {
  if (if_stuck_ == IfStuck::kWait) {
    srt_cleanup();
    return;
  }
  runWithWatchdog(
      [] { srt_cleanup(); }, kCleanupLimit,
      [] {
        spdlog::warn(
            "libsrt did not shut down within {} ms (a known libsrt 1.5.1 deadlock after a refused "
            "connection); ending the process",
            kCleanupLimit.count());
        spdlog::default_logger()->flush();
        if (!lastLineIfStuck().empty())
          std::fprintf(stderr, "%s\n", lastLineIfStuck().c_str());
        std::fflush(nullptr);
        std::_Exit(exit_code_if_stuck.load());
      });
}

void Socket::reset(SRTSOCKET s) {
  if (s_ != SRT_INVALID_SOCK)
    srt_close(s_);
  s_ = s;
}

Epoll::Epoll() : eid_(srt_epoll_create()) {
  // Sockets may be removed while waiting; an empty container must not be an error.
  if (eid_ >= 0)
    srt_epoll_set(eid_, SRT_EPOLL_ENABLE_EMPTY);
}
Epoll::~Epoll() {
  if (eid_ >= 0)
    srt_epoll_release(eid_);
}
Epoll& Epoll::operator=(Epoll&& other) noexcept {
  if (this != &other) {
    if (eid_ >= 0)
      srt_epoll_release(eid_);
    eid_ = std::exchange(other.eid_, -1);
  }
  return *this;
}
Status Epoll::add(SRTSOCKET s, int events) {
  if (srt_epoll_add_usock(eid_, s, &events) == SRT_ERROR)
    return Error{lastError("epoll add")};
  return okStatus();
}
Status Epoll::update(SRTSOCKET s, int events) {
  if (srt_epoll_update_usock(eid_, s, &events) == SRT_ERROR)
    return Error{lastError("epoll update")};
  return okStatus();
}
void Epoll::remove(SRTSOCKET s) {
  srt_epoll_remove_usock(eid_, s);
}

std::string lastError(const std::string& what) {
  return what + ": " + srt_getlasterror_str();
}

std::string errorText(int code) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  return srt_strerror(code, 0);
}

std::string rejectionText(int reason) {
  switch (reason) {
    case SRT_REJ_BADSECRET:
      return "connection rejected: wrong passphrase";
    case SRT_REJ_UNSECURE:
      return "connection rejected: only one side has a passphrase (the receiver requires "
             "one, or this sender has one the receiver does not)";
    case SRT_REJX_FORBIDDEN:
      return "connection rejected: the receiver does not accept this stream id (bondcast "
             "recv: it is not in the receiver's --allow-stream list)";
    case SRT_REJX_BAD_REQUEST:
      return "connection rejected: the receiver finds this stream id malformed";
    case SRT_REJX_CONFLICT:
      return "connection rejected: the receiver's output is taken (by another stream, or by a "
             "newer session of this one)";
    default:
      if (reason >= SRT_REJC_PREDEFINED) {
        return "connection rejected by the receiver's application (code " + std::to_string(reason) +
               ")";
      }
      return std::string("connection rejected: ") + srt_rejectreason_str(reason);
  }
}

Status checkBonding() {
  SRTSOCKET g = srt_create_group(SRT_GTYPE_BROADCAST);
  if (g == SRT_INVALID_SOCK) {
    return Error{"this libsrt has no socket-group (bonding) support: srt_create_group failed (" +
                 std::string(srt_getlasterror_str()) +
                 "). bondcast must be built against the libsrt that tools/setup builds with "
                 "ENABLE_BONDING=ON; run tools/run build."};
  }
  srt_close(g);
  return okStatus();
}

namespace {

// Handshakes a listener refused, by reject code (1000 + SRT_REJ_*): libsrt refuses a
// wrong passphrase itself, before any callback of ours, and says so only in its log:
// "processConnectRequest: rsp(REJECT): 1010 - Incorrect passphrase".
constexpr int kRejectCodes = 64;
std::array<std::atomic<std::uint64_t>, kRejectCodes> g_rejected{};

void countRejection(std::string_view msg) {
  constexpr std::string_view kMarker = "rsp(REJECT): ";
  const auto at = msg.find(kMarker);
  if (at == std::string_view::npos)
    return;
  int code = 0;
  const char* begin = msg.data() + at + kMarker.size();
  auto [end, ec] = std::from_chars(begin, msg.data() + msg.size(), code);
  (void)end;
  if (ec == std::errc() && code >= SRT_REJC_PREDEFINED && code < SRT_REJC_PREDEFINED + kRejectCodes)
    ++g_rejected[static_cast<std::size_t>(code - SRT_REJC_PREDEFINED)];
}

// What libsrt 1.5.1 logs (warnings and errors) when a listener refuses a handshake, and
// (the last) when a caller is refused, where a sender says why in words of its own
// (rejectionText) and libsrt's "Application-defined rejection reason" only confuses.
constexpr std::array<std::string_view, 7> kRefusalLines = {
    "rsp(REJECT): ",                              // processConnectRequest, every refusal
    "newConnection: connection rejected due to",  // the listen callback or the handshake
    "KMREQ/rcv: (snd) Rx process failure",        // a wrong passphrase ...
    "KMREQ result abnornal",                      // ... (sic)
    "Peer declares encryption, but agent does not",
    "Agent declares encryption, but Peer does not",
    "REJECT reported from HS processing",
};

void srtLogHandler(void*, int level, const char* file, int line, const char* area,
                   const char* message) {
  (void)file;
  (void)line;
  countRejection(message);
  std::string msg(message);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r'))
    msg.pop_back();
  auto lvl = level <= LOG_ERR       ? spdlog::level::err
             : level == LOG_WARNING ? spdlog::level::warn
             : level == LOG_NOTICE  ? spdlog::level::info
                                    : spdlog::level::debug;
  // Adaptive links give each message a TTL (its deadline) and drop it when that passes:
  // libsrt warns once per dropped packet, at both ends. The drops are counted in the
  // stats; they are not news.
  // A read on a group none of whose links is left fails with an error line each time: the
  // receiver reads on after a stream's connection ends (for what libsrt still holds), every
  // 20 ms, and reports the end itself ("stream '...' ended"); 64 such lines were all a CI
  // log showed of one ended stream.
  for (std::string_view expected : {"CSndBuffer: skipping packet", "(SND DROP REQUEST)",
                                    ": ABANDONING: opened=", "ALL LINKS BROKEN, ABANDONING"}) {
    if (msg.find(expected) != std::string::npos)
      lvl = spdlog::level::debug;
  }
  // A listener warns two to four times for every handshake it refuses, and any host can
  // send handshakes: a flood of them would flood the log. Each refusal is counted
  // (countRejection, the receiver's own) and the receiver logs them at most once a second
  // per kind (receiver/refusal_log.h).
  for (std::string_view refusal : kRefusalLines) {
    if (msg.find(refusal) != std::string::npos) {
      lvl = spdlog::level::debug;
    }
  }
  spdlog::log(lvl, "libsrt {}: {}", area ? area : "", msg);
}
}  // namespace

std::uint64_t rejectedHandshakes(int reason) {
  if (reason < 0 || reason >= kRejectCodes)
    return 0;
  return g_rejected[static_cast<std::size_t>(reason)].load();
}

void routeLogsToSpdlog() {
  srt_setloghandler(nullptr, srtLogHandler);
  srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME | SRT_LOGF_DISABLE_SEVERITY |
                  SRT_LOGF_DISABLE_EOL);
  srt_setloglevel(spdlog::should_log(spdlog::level::debug) ? LOG_NOTICE : LOG_WARNING);
}

Status setOption(SRTSOCKET s, SRT_SOCKOPT opt, const std::string& value, const char* name) {
  if (srt_setsockflag(s, opt, value.data(), static_cast<int>(value.size())) == SRT_ERROR) {
    return Error{lastError(std::string("setting ") + name)};
  }
  return okStatus();
}

namespace {

// Whether this host can open an IPv6 socket (a kernel booted with ipv6.disable=1 cannot).
bool hostHasIpv6() {
  static const bool has = [] {
    const Fd fd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd)
      return false;
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any) == 0;
  }();
  return has;
}

}  // namespace

bool SockAddr::isIpv6Any() const {
  if (storage.ss_family != AF_INET6)
    return false;
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
  return IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
}

Result<SockAddr> resolve(const std::string& host, std::uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  if (passive)
    hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  const char* node = host.empty() ? (passive ? nullptr : "127.0.0.1") : host.c_str();
  if (passive && host.empty())
    hints.ai_family = hostHasIpv6() ? AF_INET6 : AF_INET;
  int rc = getaddrinfo(node, service.c_str(), &hints, &res);
  if (rc != 0 || !res) {
    return Error{"cannot resolve '" + host + ":" + service + "': " + gai_strerror(rc)};
  }
  SockAddr out;
  std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.len = static_cast<int>(res->ai_addrlen);
  freeaddrinfo(res);
  return out;
}

Status bindSrt(SRTSOCKET s, const SockAddr& addr) {
  if (addr.isIpv6Any()) {
    int v6only = 0;
    if (auto st = setOption(s, SRTO_IPV6ONLY, v6only, "dual-stack (IPv6 only off)"); !st)
      return st;
  }
  if (srt_bind(s, addr.get(), addr.len) == SRT_ERROR) {
    int sys = 0;
    srt_getlasterror(&sys);
    return Error{"cannot listen on " + addressText(addr.get()) + ": " +
                 (sys ? std::string(std::strerror(sys)) : std::string(srt_getlasterror_str()))};
  }
  return okStatus();
}

std::uint16_t boundPort(SRTSOCKET s) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (srt_getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len) == SRT_ERROR)
    return 0;
  return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port)
                                  : ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

std::string addressText(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr != nullptr && addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(in->sin_port));
  }
  if (addr != nullptr && addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
      return fmt::format("{}:{}", host, ntohs(in6->sin6_port));
    }
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(in6->sin6_port));
  }
  return "an unknown address";
}

CommonOptions withUri(const CommonOptions& defaults, const SrtUriOptions& uri) {
  CommonOptions o = defaults;
  if (uri.latency) {
    o.latency = *uri.latency;
  }
  if (uri.passphrase) {
    o.passphrase = *uri.passphrase;
  }
  if (uri.pbkeylen) {
    o.pbkeylen = *uri.pbkeylen;
  }
  if (uri.streamid) {
    o.stream_id = *uri.streamid;
  }
  if (uri.conntimeo) {
    o.conntimeo = *uri.conntimeo;
  }
  return o;
}

std::string optionsInEffect(SRTSOCKET s) {
  auto intOption = [s](SRT_SOCKOPT opt) {
    int value = -1;
    int len = sizeof value;
    if (srt_getsockflag(s, opt, &value, &len) == SRT_ERROR)
      return -1;
    return value;
  };
  std::array<char, 513> sid{};
  int sid_len = static_cast<int>(sid.size());
  std::string stream_id;
  if (srt_getsockflag(s, SRTO_STREAMID, sid.data(), &sid_len) != SRT_ERROR)
    stream_id.assign(sid.data(), static_cast<std::size_t>(std::max(sid_len, 0)));
  return fmt::format("latency {} ms, pbkeylen {}, conntimeo {} ms, stream id '{}'",
                     intOption(SRTO_LATENCY), intOption(SRTO_PBKEYLEN), intOption(SRTO_CONNTIMEO),
                     stream_id);
}

Status applyCommonOptions(SRTSOCKET s, const CommonOptions& o, std::string_view what) {
  int latency_ms = static_cast<int>(o.latency.count());
  if (auto st = setOption(s, SRTO_LATENCY, latency_ms, "latency"); !st)
    return st;
  if (!o.passphrase.empty()) {
    if (o.passphrase.size() < 10 || o.passphrase.size() > 79) {
      return Error{"passphrase must be 10 to 79 characters long"};
    }
    if (auto st = setOption(s, SRTO_PASSPHRASE, o.passphrase, "passphrase"); !st)
      return st;
  }
  if (!o.stream_id.empty()) {
    if (auto st = setOption(s, SRTO_STREAMID, o.stream_id, "stream id"); !st)
      return st;
  }
  if (o.pbkeylen != 0) {
    if (o.passphrase.empty())
      return Error{"pbkeylen needs a passphrase"};
    if (auto st = setOption(s, SRTO_PBKEYLEN, o.pbkeylen, "pbkeylen"); !st)
      return st;
  }
  if (o.conntimeo.count() > 0) {
    const int ms = static_cast<int>(o.conntimeo.count());
    if (auto st = setOption(s, SRTO_CONNTIMEO, ms, "conntimeo"); !st)
      return st;
  }
  // A group reads back libsrt's defaults, not what its members get: those are logged as
  // they connect.
  if (spdlog::should_log(spdlog::level::debug) && (s & SRTGROUP_MASK) == 0)
    spdlog::debug("{}: SRT options in effect: {}", what, optionsInEffect(s));
  return okStatus();
}

}  // namespace bondcast::srt
