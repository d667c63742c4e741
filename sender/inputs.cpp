// SPDX-License-Identifier: MPL-2.0
// openInput(): picks the input kind from --input, and the plain socket inputs
// (UDP, stdin, SRT listener). The FFmpeg inputs live in av_input.cpp and testsrc.cpp.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "common/fd.h"
#include "common/srt/srt.h"
#include "common/srt_uri.h"
#include "common/uri.h"
#include "sender/av_input.h"
#include "sender/input.h"

namespace bondcast::sender {
namespace {

constexpr std::size_t kReadBytes = 64 * 1024;

// A file descriptor that stop() makes readable, so poll() returns at once.
class Wakeup {
 public:
  Wakeup() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), error_(fd_ ? 0 : errno) {}
  bool valid() const { return fd_.valid(); }
  int error() const { return error_; }  // eventfd's errno when it failed
  void fire() {
    std::uint64_t one = 1;
    // Fails only when the counter is already near its maximum: readable all the same.
    [[maybe_unused]] auto n = ::write(fd_.get(), &one, sizeof one);
  }
  int fd() const { return fd_.get(); }

 private:
  Fd fd_;
  int error_;
};

// Reads from fd whenever it is readable; datagram or stream alike.
class FdInput : public Input {
 public:
  enum class Kind { kStream, kDatagrams };
  // Without its wakeup (no eventfd), stop() could not end a read: an error.
  static Result<std::unique_ptr<Input>> create(Fd fd, std::string what, Kind kind) {
    std::unique_ptr<FdInput> in(new FdInput(std::move(fd), std::move(what), kind));
    if (!in->wakeup_.valid())
      return Error{"input " + in->what_ + ": eventfd: " + std::strerror(in->wakeup_.error())};
    return std::unique_ptr<Input>(std::move(in));
  }
  Result<InputChunk> read() override {
    for (;;) {
      if (stopped_)
        return InputChunk{{}, true};
      pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wakeup_.fd(), POLLIN, 0}};
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return Error{"waiting for " + what_ + ": " + std::strerror(errno)};
      if (stopped_)
        return InputChunk{{}, true};
      if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      std::vector<std::uint8_t> buf(kReadBytes);
      ssize_t got = ::read(fd_.get(), buf.data(), buf.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (got < 0)
        return Error{"reading " + what_ + ": " + std::strerror(errno)};
      if (got == 0 && kind_ == Kind::kDatagrams) {
        continue;  // an empty datagram: nothing to send, and no end of input
      }
      if (got == 0) {
        return InputChunk{{}, true};
      }
      buf.resize(static_cast<std::size_t>(got));
      return InputChunk{std::move(buf), false};
    }
  }
  void stop() override {
    stopped_ = true;
    wakeup_.fire();
  }
  std::string describe() const override { return what_; }

 private:
  FdInput(Fd fd, std::string what, Kind kind)
      : fd_(std::move(fd)), what_(std::move(what)), kind_(kind) {}

  Fd fd_;
  std::string what_;
  Kind kind_;
  Wakeup wakeup_;
  std::atomic<bool> stopped_{false};
};

Result<std::unique_ptr<Input>> openUdp(const Uri& uri, const std::string& text) {
  auto addr = srt::resolve(uri.host, uri.port, true);
  if (!addr)
    return Error{"input '" + text + "': " + addr.error().message};
  Fd owner(::socket(addr->storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!owner)
    return Error{"input '" + text + "': socket: " + std::strerror(errno)};
  const int fd = owner.get();
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  int rcvbuf = 4 * 1024 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (addr->isIpv6Any()) {  // udp://@:PORT takes IPv4 senders too
    int v6only = 0;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0) {
      return Error{"input '" + text + "': cannot take IPv4 senders on " + uri.hostPort() + ": " +
                   std::strerror(errno)};
    }
  }
  auto* sin = reinterpret_cast<sockaddr_in*>(&addr->storage);
  bool multicast = addr->storage.ss_family == AF_INET && IN_MULTICAST(ntohl(sin->sin_addr.s_addr));
  if (::bind(fd, addr->get(), static_cast<socklen_t>(addr->len)) < 0) {
    return Error{"input '" + text + "': cannot bind " + uri.hostPort() + ": " +
                 std::strerror(errno)};
  }
  if (multicast) {
    ip_mreq mreq{};
    mreq.imr_multiaddr = sin->sin_addr;
    mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0) {
      return Error{"input '" + text + "': cannot join multicast group: " + std::strerror(errno)};
    }
  }
  return FdInput::create(std::move(owner), text, FdInput::Kind::kDatagrams);
}

// srt://:PORT: waits for one caller (OBS, ffmpeg, a hardware encoder) at a time and
// reads its stream; when it goes away, waits for the next.
class SrtListenerInput : public Input {
 public:
  static Result<std::unique_ptr<Input>> open(const Uri& uri, const InputOptions& o) {
    std::unique_ptr<SrtListenerInput> in(new SrtListenerInput(uri, o));
    in->listener_.reset(srt_create_socket());
    SRTSOCKET l = in->listener_.get();
    Uri options = uri;
    auto srt_uri = takeSrtUriOptions(options, SrtUriRole::kInputListener, {"mode"});
    if (!srt_uri)
      return Error{"input: " + srt_uri.error().message};
    const srt::CommonOptions common = srt::withUri({o.latency, o.passphrase, {}}, *srt_uri);
    const std::string what = "input '" + maskSecrets(o.source) + "'";
    if (auto st = srt::applyCommonOptions(l, common, what); !st)
      return Error{what + ": " + st.error().message};
    bool no = false;
    if (auto st = srt::setOption(l, SRTO_RCVSYN, no, "non-blocking"); !st)
      return Error{what + ": " + st.error().message};
    auto addr = srt::resolve(uri.host, uri.port, true);
    if (!addr)
      return Error{what + ": " + addr.error().message};
    if (auto st = srt::bindSrt(l, *addr); !st) {
      return Error{what + ": " + st.error().message};
    }
    if (srt_listen(l, 1) == SRT_ERROR) {
      return Error{srt::lastError(what + ": listen")};
    }
    if (auto st = in->epoll_.add(l, SRT_EPOLL_IN | SRT_EPOLL_ERR); !st)
      return st.error();
    return std::unique_ptr<Input>(std::move(in));
  }

  Result<InputChunk> read() override {
    std::vector<char> buf(1500);
    while (!stopped_) {
      if (client_.valid()) {
        SRT_MSGCTRL mc = srt_msgctrl_default;
        int n = srt_recvmsg2(client_.get(), buf.data(), static_cast<int>(buf.size()), &mc);
        if (n > 0) {
          return InputChunk{{buf.begin(), buf.begin() + n}, false};
        }
        if (n == SRT_ERROR && srt_getlasterror(nullptr) != SRT_EASYNCRCV) {
          spdlog::warn("input {}: encoder disconnected ({}); waiting for it again", what_,
                       srt_getlasterror_str());
          epoll_.remove(client_.get());
          client_.reset();
        }
      }
      SRT_EPOLL_EVENT ev[2];
      int n = srt_epoll_uwait(epoll_.id(), ev, 2, 100);
      for (int i = 0; i < n; ++i) {
        if (ev[i].fd == listener_.get())
          acceptOne();
      }
    }
    return InputChunk{{}, true};
  }
  void stop() override { stopped_ = true; }
  std::string describe() const override { return what_; }

 private:
  SrtListenerInput(const Uri&, const InputOptions& o) : what_(maskSecrets(o.source)) {}
  void acceptOne() {
    sockaddr_storage peer{};
    int len = sizeof peer;
    SRTSOCKET s = srt_accept(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &len);
    if (s == SRT_INVALID_SOCK)
      return;
    if (client_.valid()) {
      spdlog::warn("input {}: a second encoder connected; keeping the first", what_);
      srt_close(s);
      return;
    }
    client_.reset(s);
    if (auto st = epoll_.add(s, SRT_EPOLL_IN | SRT_EPOLL_ERR); !st) {
      spdlog::warn("input {}: {}; closing the encoder's connection", what_, st.error().message);
      client_.reset();
      return;
    }
    spdlog::info("input {}: encoder connected", what_);
  }

  std::string what_;
  srt::Socket listener_;
  srt::Socket client_;
  srt::Epoll epoll_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

Status checkInputSource(const std::string& source) {
  if (source.empty())
    return Error{"--input is empty"};
  if (!source.starts_with("udp://") && !source.starts_with("srt://"))
    return okStatus();
  const std::string src = maskSecrets(source);  // for messages: no passphrase in a log
  auto uri = parseUri(source);
  if (!uri)
    return Error{"input: " + uri.error().message};
  if (uri->scheme == "udp") {
    if (uri->port == 0)
      return Error{"input '" + src + "': needs a port"};
    if (!uri->params.empty())
      return Error{"input '" + src + "': unknown parameter '" + uri->params.begin()->first +
                   "' (a UDP input takes none)"};
    return okStatus();
  }
  if (auto mode = uri->param("mode"); mode && *mode != "listener") {
    return Error{"input '" + src + "': mode='" + *mode + "': an SRT input is a listener"};
  }
  if (!uri->host.empty() && uri->param("mode") != "listener") {
    return Error{"input '" + src +
                 "': an SRT input listens for the encoder: use srt://:PORT (or "
                 "srt://LOCAL_ADDR:PORT?mode=listener)"};
  }
  if (auto options = takeSrtUriOptions(*uri, SrtUriRole::kInputListener, {"mode"}); !options)
    return Error{"input: " + options.error().message};
  return okStatus();
}

Result<std::unique_ptr<Input>> openInput(const InputOptions& o) {
  const std::string& src = o.source;
  if (auto st = checkInputSource(src); !st)
    return st.error();
  if (src == "-") {
    Fd in = Fd::dupOf(STDIN_FILENO);
    if (!in)
      return Error{std::string("input '-': stdin: ") + std::strerror(errno)};
    return FdInput::create(std::move(in), "stdin", FdInput::Kind::kStream);
  }
  if (src == "testsrc")
    return openTestSource(o.bitrate_bps);
  if (src.starts_with("udp://") || src.starts_with("srt://")) {
    auto uri = parseUri(src);
    if (!uri)
      return Error{"input: " + uri.error().message};
    if (uri->scheme == "udp") {
      return openUdp(*uri, src);
    }
    return SrtListenerInput::open(*uri, o);
  }
  return openAvInput(AvInputOptions{.url = src, .loop = o.loop});
}

}  // namespace bondcast::sender
