// SPDX-License-Identifier: MPL-2.0
#include "receiver/output.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "common/srt/srt.h"
#include "common/srt_uri.h"
#include "common/uri.h"

namespace bondcast::receiver {
namespace {

// A file, stdout or a FIFO. A write waits for the descriptor to take data in steps of
// 100 ms, so that interrupt() ends it; on a pipe it writes at most PIPE_BUF bytes once
// poll() says there is room, which never blocks. A FIFO that has no reader yet is opened
// at the first write (opening it for writing blocks until a reader comes).
class FdOutput : public Output {
 public:
  // `sync`: a file of the user's, flushed to disk at the end (not a duplicated stdout).
  FdOutput(Fd fd, std::string what, bool sync)
      : fd_(std::move(fd)), sync_(sync), what_(std::move(what)) {
    struct stat st {};
    regular_ = ::fstat(fd_.get(), &st) == 0 && S_ISREG(st.st_mode);
  }
  // A FIFO to open (non-blocking) at the first write.
  static std::unique_ptr<Output> deferred(std::string path, std::string what) {
    auto out = std::unique_ptr<FdOutput>(new FdOutput(Fd(), std::move(what), true));
    out->deferred_path_ = std::move(path);
    return out;
  }
  ~FdOutput() override {
    if (sync_ && regular_ && fd_) {
      ::fsync(fd_.get());
    }
  }

  Status write(std::span<const std::uint8_t> p) override {
    if (!fd_) {
      if (auto st = openDeferred(); !st)
        return st;
    }
    std::size_t done = 0;
    while (done < p.size()) {
      if (interrupted_)
        return Error{"output " + what_ + ": closed while it took no data"};
      std::size_t chunk = p.size() - done;
      if (!regular_) {
        pollfd pfd{fd_.get(), POLLOUT, 0};
        const int ready = ::poll(&pfd, 1, 100);
        if (ready < 0 && errno != EINTR)
          return Error{"writing " + what_ + ": " + std::strerror(errno)};
        if (ready <= 0)
          continue;
        chunk = std::min<std::size_t>(chunk, PIPE_BUF);
      }
      const ssize_t n = ::write(fd_.get(), p.data() + done, chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        return Error{"writing " + what_ + ": " + std::strerror(errno)};
      done += static_cast<std::size_t>(n);
    }
    return okStatus();
  }
  std::string describe() const override { return what_; }
  void interrupt() override { interrupted_ = true; }
  bool mayBlock() const override { return !regular_; }

 private:
  Status openDeferred() {
    while (!interrupted_) {
      fd_.reset(::open(deferred_path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
      if (fd_) {
        spdlog::info("output {}: a reader opened it", what_);
        return okStatus();
      }
      if (errno != ENXIO && errno != EINTR)
        return Error{"cannot open output " + what_ + ": " + std::strerror(errno)};
      ::poll(nullptr, 0, 100);  // no reader yet: no event to wait on, so look again
    }
    return Error{"output " + what_ + ": closed before a reader opened it"};
  }

  Fd fd_;
  bool sync_;
  bool regular_ = false;
  std::string what_;
  std::string deferred_path_;
  std::atomic<bool> interrupted_{false};
};

class UdpOutput : public Output {
 public:
  static Result<std::unique_ptr<Output>> open(const Uri& uri, const std::string& text) {
    auto addr = srt::resolve(uri.host, uri.port, false);
    if (!addr)
      return Error{"output '" + maskSecrets(text) + "': " + addr.error().message};
    Fd fd(::socket(addr->storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd || ::connect(fd.get(), addr->get(), static_cast<socklen_t>(addr->len)) < 0) {
      return Error{"output '" + maskSecrets(text) + "': " + std::strerror(errno)};
    }
    // Best effort: the kernel's default still works, with more drops at high rates.
    int sndbuf = 4 * 1024 * 1024;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    return std::unique_ptr<Output>(new UdpOutput(std::move(fd), text));
  }
  Status write(std::span<const std::uint8_t> p) override {
    // A receiver that is not there yet (ECONNREFUSED) is not an error for live UDP.
    if (::send(fd_.get(), p.data(), p.size(), 0) < 0 && errno != ECONNREFUSED && errno != EAGAIN) {
      return Error{"sending to " + what_ + ": " + std::strerror(errno)};
    }
    return okStatus();
  }
  std::string describe() const override { return what_; }
  bool mayBlock() const override { return false; }

 private:
  UdpOutput(Fd fd, std::string what) : fd_(std::move(fd)), what_(std::move(what)) {}
  Fd fd_;
  std::string what_;
};

// Serves the stream to every SRT caller that connects (players pulling), or pushes it
// to one SRT listener (a media server), connecting again when that breaks.
class SrtOutput : public Output {
 public:
  // The output's own SRT options come from its URI only (libsrt's defaults otherwise):
  // the receiver's --latency and --passphrase are its senders'.
  static Result<std::unique_ptr<Output>> open(const Uri& uri, const std::string& text) {
    Uri parsed = uri;
    auto options = takeSrtUriOptions(
        parsed, uri.isListener() ? SrtUriRole::kOutputListener : SrtUriRole::kOutputCaller);
    if (!options)
      return Error{"output: " + options.error().message};
    srt::CommonOptions defaults;
    defaults.latency = std::chrono::milliseconds(120);  // libsrt's
    const srt::CommonOptions common = srt::withUri(defaults, *options);
    std::unique_ptr<SrtOutput> out(new SrtOutput(parsed, text, common));
    if (auto st = out->start(); !st)
      return st.error();
    return std::unique_ptr<Output>(std::move(out));
  }
  ~SrtOutput() override {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  Status write(std::span<const std::uint8_t> p) override {
    std::lock_guard lock(mu_);
    for (auto it = peers_.begin(); it != peers_.end();) {
      SRT_MSGCTRL mc = srt_msgctrl_default;
      int n = srt_sendmsg2(it->get(), reinterpret_cast<const char*>(p.data()),
                           static_cast<int>(p.size()), &mc);
      if (n == SRT_ERROR && srt_getlasterror(nullptr) != SRT_EASYNCSND) {
        spdlog::info("output {}: peer left ({})", what_, srt_getlasterror_str());
        it = peers_.erase(it);
      } else {
        ++it;
      }
    }
    return okStatus();
  }
  std::string describe() const override { return what_; }
  bool mayBlock() const override { return false; }

 private:
  SrtOutput(const Uri& uri, std::string what, srt::CommonOptions options)
      : uri_(uri), what_(std::move(what)), options_(std::move(options)) {}

  Status start() {
    if (uri_.isListener()) {
      listener_.reset(srt_create_socket());
      if (auto st = srt::applyCommonOptions(listener_.get(), options_, "output '" + what_ + "'");
          !st)
        return Error{"output '" + what_ + "': " + st.error().message};
      bool no = false;
      if (auto st = srt::setOption(listener_.get(), SRTO_RCVSYN, no, "non-blocking"); !st)
        return Error{"output '" + what_ + "': " + st.error().message};
      auto addr = srt::resolve(uri_.host, uri_.port, true);
      if (!addr)
        return Error{"output '" + what_ + "': " + addr.error().message};
      if (auto st = srt::bindSrt(listener_.get(), *addr); !st)
        return Error{"output '" + what_ + "': " + st.error().message};
      if (srt_listen(listener_.get(), 8) == SRT_ERROR) {
        return Error{srt::lastError("output '" + what_ + "': cannot listen on " + uri_.hostPort())};
      }
    } else {
      auto addr = srt::resolve(uri_.host, uri_.port, false);
      if (!addr)
        return Error{"output '" + what_ + "': " + addr.error().message};
      peer_addr_ = *addr;
    }
    thread_ = std::thread([this] { run(); });
    return okStatus();
  }

  void run() {
    auto backoff = std::chrono::milliseconds(250);
    srt::Epoll ep;
    if (listener_.valid()) {
      if (auto st = ep.add(listener_.get(), SRT_EPOLL_IN); !st) {
        spdlog::error("output {}: {}; no player can connect", what_, st.error().message);
        return;
      }
    }
    while (!stop_) {
      if (listener_.valid()) {
        SRT_EPOLL_EVENT ev[1];
        if (srt_epoll_uwait(ep.id(), ev, 1, 100) > 0) {
          SRTSOCKET s = srt_accept(listener_.get(), nullptr, nullptr);
          if (s != SRT_INVALID_SOCK) {
            bool no = false;
            if (auto st = srt::setOption(s, SRTO_SNDSYN, no, "non-blocking send"); !st) {
              // A blocking send to one slow player would hold up the stream.
              spdlog::warn("output {}: refused a player: {}", what_, st.error().message);
              srt_close(s);
              continue;
            }
            spdlog::info("output {}: player connected", what_);
            std::lock_guard lock(mu_);
            peers_.emplace_back(s);
          }
        }
        continue;
      }
      bool connected;
      {
        std::lock_guard lock(mu_);
        connected = !peers_.empty();
      }
      if (connected) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      srt::Socket s(srt_create_socket());
      if (auto st = srt::applyCommonOptions(s.get(), options_, "output '" + what_ + "'"); !st) {
        spdlog::error("output {}: {}", what_, st.error().message);
        return;
      }
      if (srt_connect(s.get(), peer_addr_.get(), peer_addr_.len) == SRT_ERROR) {
        spdlog::warn("output {}: {}", what_, srt_getlasterror_str());
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        continue;
      }
      backoff = std::chrono::milliseconds(250);
      bool no = false;
      if (auto st = srt::setOption(s.get(), SRTO_SNDSYN, no, "non-blocking send"); !st) {
        spdlog::error("output {}: {}", what_, st.error().message);
        return;  // as for the options above: trying again would fail the same way
      }
      spdlog::info("output {}: connected", what_);
      std::lock_guard lock(mu_);
      peers_.push_back(std::move(s));
    }
  }

  Uri uri_;
  std::string what_;
  srt::CommonOptions options_;
  srt::Socket listener_;
  srt::SockAddr peer_addr_;
  std::mutex mu_;
  std::vector<srt::Socket> peers_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

bool isStreamNameCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

std::string streamResource(const std::string& stream_id) {
  std::string name = stream_id;
  if (name.starts_with("#!::")) {
    std::string body = name.substr(4);
    name.clear();
    std::size_t pos = 0;
    while (pos <= body.size()) {
      auto comma = body.find(',', pos);
      std::string kv = body.substr(pos, comma - pos);
      if (kv.starts_with("r="))
        name = kv.substr(2);
      if (comma == std::string::npos)
        break;
      pos = comma + 1;
    }
  }
  return name;
}

std::string streamName(const std::string& stream_id) {
  std::string name = streamResource(stream_id);
  for (char& c : name) {
    if (!isStreamNameCharacter(c))
      c = '_';
  }
  if (name.find_first_not_of('.') == std::string::npos && !name.empty())
    name = "_";
  return name;
}

std::string fileNameFor(const std::string& pattern, const std::string& stream_id) {
  std::string name = streamName(stream_id);
  if (auto at = pattern.find("{id}"); at != std::string::npos) {
    std::string out = pattern;
    out.replace(at, 4, name.empty() ? "default" : name);
    return out;
  }
  if (name.empty())
    return pattern;
  std::filesystem::path p(pattern);
  std::string ext = p.extension().string();
  std::string stem = pattern.substr(0, pattern.size() - ext.size());
  return stem + "-" + name + ext;
}

Result<OutputSpec> parseOutputSpec(const std::string& text) {
  OutputSpec spec;
  spec.text = text;
  if (text.empty())
    return Error{"--output is empty"};
  if (text == "-") {
    spec.kind = OutputKind::kStdout;
    return spec;
  }
  if (text.find("://") != std::string::npos) {
    auto uri = parseUri(text);
    if (!uri)
      return Error{"output: " + uri.error().message};
    if (uri->scheme == "udp") {
      if (uri->host.empty() || uri->port == 0) {
        return Error{"output '" + maskSecrets(text) + "': UDP output needs HOST:PORT"};
      }
      if (!uri->params.empty()) {
        return Error{"output '" + maskSecrets(text) + "': unknown parameter '" +
                     uri->params.begin()->first + "' (a UDP output takes none)"};
      }
      spec.kind = OutputKind::kUdp;
    } else if (uri->scheme == "srt") {
      if (uri->port == 0)
        return Error{"output '" + maskSecrets(text) + "': SRT output needs a port"};
      spec.kind = uri->isListener() ? OutputKind::kSrtListener : OutputKind::kSrtCaller;
      Uri checked = *uri;
      auto options = takeSrtUriOptions(
          checked, uri->isListener() ? SrtUriRole::kOutputListener : SrtUriRole::kOutputCaller);
      if (!options)
        return Error{"output: " + options.error().message};
      if (options->pbkeylen && !options->passphrase)
        return Error{"output '" + maskSecrets(text) + "': pbkeylen= needs passphrase="};
    } else if (uri->scheme == "file") {
      spec.text = text.substr(7);
    } else {
      return Error{"output '" + maskSecrets(text) + "': unknown scheme '" + uri->scheme +
                   "' (use a file, -, udp://, srt://)"};
    }
    return spec;
  }
  spec.per_stream = true;
  auto dir = std::filesystem::path(text).parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir)) {
    return Error{"output '" + maskSecrets(text) + "': folder '" + dir.string() +
                 "' does not exist"};
  }
  return spec;
}

Result<std::unique_ptr<Output>> openOutput(const OutputSpec& spec, const std::string& stream_id) {
  switch (spec.kind) {
    case OutputKind::kStdout: {
      Fd out = Fd::dupOf(STDOUT_FILENO);
      if (!out)
        return Error{std::string("output '-': stdout: ") + std::strerror(errno)};
      return std::unique_ptr<Output>(new FdOutput(std::move(out), "stdout", false));
    }
    case OutputKind::kUdp:
    case OutputKind::kSrtListener:
    case OutputKind::kSrtCaller: {
      auto uri = parseUri(spec.text);
      if (!uri)
        return uri.error();
      if (spec.kind == OutputKind::kUdp)
        return UdpOutput::open(*uri, spec.text);
      return SrtOutput::open(*uri, maskSecrets(spec.text));
    }
    case OutputKind::kFile: {
      std::string path = fileNameFor(spec.text, stream_id);
      // Non-blocking: a FIFO without a reader fails with ENXIO instead of blocking the
      // receiver; its writer thread opens it when a reader comes (FdOutput::deferred).
      Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644));
      if (!fd && errno == ENXIO)
        return FdOutput::deferred(path, "'" + path + "' (a FIFO)");
      if (!fd)
        return Error{"cannot open output '" + path + "': " + std::strerror(errno)};
      return std::unique_ptr<Output>(new FdOutput(std::move(fd), "file '" + path + "'", true));
    }
  }
  return Error{"unknown output"};
}

}  // namespace bondcast::receiver
