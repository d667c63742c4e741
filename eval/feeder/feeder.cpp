// SPDX-License-Identifier: MPL-2.0
#include "eval/feeder/feeder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "common/fd.h"

namespace bondcast::feed {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kBatch = 64;                                  // datagrams per sendmmsg
constexpr std::uint64_t kMaxFileBytes = 4ull * 1024 * 1024 * 1024;  // read into memory
constexpr int kSendBuffer = 4 * 1024 * 1024;

Error sysError(const std::string& what) {
  return Error{what + ": " + std::strerror(errno)};
}

Result<std::vector<char>> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return Error{"cannot read '" + path + "': " + std::strerror(errno)};
  }
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (size > kMaxFileBytes) {
    return Error{"'" + path + "' is larger than 4 GiB"};
  }
  std::vector<char> bytes(size);
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return Error{"cannot read '" + path + "': " + std::strerror(errno)};
  }
  return bytes;
}

Result<Fd> connectedSocket(const net::Endpoint& to) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return sysError("socket");
  }
  // A bigger buffer than the default: a late slot sends its backlog at once.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &kSendBuffer, sizeof kSendBuffer) != 0) {
    return sysError("setsockopt(SO_SNDBUF)");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(to.addr);
  addr.sin_port = htons(to.port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return sysError("connect to " + to.toString());
  }
  return fd;
}

// Sends datagrams [from, to) of `data`; returns how many went (all, or an error).
Result<std::uint64_t> sendRange(int fd, const std::vector<char>& data, std::uint32_t size,
                                std::uint64_t from, std::uint64_t to) {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::uint64_t next = from;
  while (next < to) {
    const std::size_t n = std::min<std::uint64_t>(kBatch, to - next);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t offset = (next + i) * size;
      iov[i].iov_base = const_cast<char*>(data.data() + offset);
      iov[i].iov_len = std::min<std::uint64_t>(size, data.size() - offset);
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int sent = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      // Nothing listens (yet): the datagrams are gone, as a real encoder's would be.
      if (errno == ECONNREFUSED) {
        next += n;
        continue;
      }
      return sysError("sendmmsg");
    }
    next += static_cast<std::uint64_t>(sent);
  }
  return next - from;
}

}  // namespace

Nanos Pacer::dueAt(std::uint64_t index) const {
  const long double bits = static_cast<long double>(index) * config_.datagram_bytes * 8;
  return Nanos(static_cast<std::int64_t>(bits * 1e9L / config_.bitrate_bps));
}

std::uint64_t Pacer::dueBy(Nanos elapsed) const {
  if (elapsed < Nanos::zero()) {
    return 0;
  }
  // Datagrams i with i * bytes * 8 / rate <= elapsed.
  const long double bits = static_cast<long double>(elapsed.count()) * config_.bitrate_bps / 1e9L;
  const auto whole = static_cast<std::uint64_t>(bits / (config_.datagram_bytes * 8.0L));
  std::uint64_t n = whole + 1;
  while (n > 0 && dueAt(n - 1) > elapsed) {  // rounding: never one that is not due yet
    --n;
  }
  while (dueAt(n) <= elapsed) {
    ++n;
  }
  return n;
}

Result<FeedResult> feedFile(const std::string& path, const net::Endpoint& to,
                            const PacerConfig& config, const sigset_t& stop_signals) {
  if (config.bitrate_bps == 0 || config.datagram_bytes == 0 || config.slot <= Nanos::zero()) {
    return Error{"feed: bitrate, datagram size and slot must be above 0"};
  }
  auto data = readFile(path);
  if (!data) {
    return data.error();
  }
  auto fd = connectedSocket(to);
  if (!fd) {
    return fd.error();
  }
  const Pacer pacer(config);
  const std::uint64_t total = (data->size() + config.datagram_bytes - 1) / config.datagram_bytes;
  FeedResult result;
  const Clock::time_point start = Clock::now();
  std::int64_t slot = 0;
  // Bounded: every pass sends the datagrams due so far, and the last one is due at a
  // finite time (the file's length at the bitrate).
  while (result.datagrams < total) {
    const Clock::time_point wake = start + config.slot * slot;
    const Nanos left = std::chrono::duration_cast<Nanos>(wake - Clock::now());
    if (left > Nanos::zero()) {
      const timespec timeout{static_cast<time_t>(left.count() / 1'000'000'000),
                             static_cast<long>(left.count() % 1'000'000'000)};
      const int sig = ::sigtimedwait(&stop_signals, nullptr, &timeout);
      if (sig > 0) {
        result.interrupted = true;
        break;
      }
      if (sig < 0 && errno != EAGAIN && errno != EINTR) {
        return sysError("sigtimedwait");
      }
    }
    const Nanos elapsed = std::chrono::duration_cast<Nanos>(Clock::now() - start);
    result.max_late = std::max(result.max_late, elapsed - config.slot * slot);
    const std::uint64_t due = std::min(total, pacer.dueBy(elapsed));
    if (due > result.datagrams) {
      auto sent = sendRange(fd->get(), *data, config.datagram_bytes, result.datagrams, due);
      if (!sent) {
        return sent.error();
      }
      result.datagrams += *sent;
    }
    // The next slot after now: a late wake-up skips the slots it overslept.
    slot = elapsed / config.slot + 1;
  }
  result.bytes = std::min<std::uint64_t>(data->size(), result.datagrams * config.datagram_bytes);
  result.elapsed = std::chrono::duration_cast<Nanos>(Clock::now() - start);
  return result;
}

}  // namespace bondcast::feed
