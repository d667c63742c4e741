// SPDX-License-Identifier: MPL-2.0
// Test traffic for the emulator: a UDP endpoint on 127.0.0.1 that records what it
// receives on its own thread, a paced sender, and waiting on conditions with
// deadlines (never sleeping as synchronisation).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bondcast::emu::testing {

using Clock = std::chrono::steady_clock;

// Every test datagram starts with this header; the rest is padding.
struct Probe {
  std::uint64_t seq;
  std::int64_t sent_ns;  // steady_clock time the sender sent it
};

struct Arrival {
  Probe probe;
  Clock::time_point at;
  std::uint32_t size;
  std::uint16_t from_port;
};

class UdpEndpoint {
 public:
  // `bind_addr`: the local IPv4 address (host byte order), e.g. 127.0.0.2 to send
  // as a second source on loopback; port 0 (any).
  explicit UdpEndpoint(std::uint32_t bind_addr = INADDR_LOOPBACK) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int buf = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
    sockaddr_in a = loopback(0);
    a.sin_addr.s_addr = htonl(bind_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~UdpEndpoint() {
    stopReceiving();
    ::close(fd_);
  }
  UdpEndpoint(const UdpEndpoint&) = delete;
  UdpEndpoint& operator=(const UdpEndpoint&) = delete;

  std::uint16_t port() const { return port_; }

  bool send(std::uint16_t to_port, std::uint64_t seq, std::uint32_t size) {
    std::vector<char> buf(std::max<std::size_t>(size, sizeof(Probe)), 'x');
    Probe p{seq, Clock::now().time_since_epoch().count()};
    std::memcpy(buf.data(), &p, sizeof p);
    sockaddr_in to = loopback(to_port);
    return ::sendto(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
           static_cast<ssize_t>(buf.size());
  }

  // Records every datagram on a thread until stopReceiving(); `reply_to_sender`
  // echoes each one back to where it came from.
  void startReceiving(bool reply_to_sender = false) {
    running_ = true;
    thread_ = std::thread([this, reply_to_sender] {
      std::vector<char> buf(65536);
      while (running_) {
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, 20) <= 0)
          continue;
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &len);
        if (n < static_cast<ssize_t>(sizeof(Probe)))
          continue;
        Arrival a{{}, Clock::now(), static_cast<std::uint32_t>(n), ntohs(from.sin_port)};
        std::memcpy(&a.probe, buf.data(), sizeof(Probe));
        if (reply_to_sender) {
          ::sendto(fd_, buf.data(), static_cast<std::size_t>(n), 0,
                   reinterpret_cast<sockaddr*>(&from), len);
        }
        {
          std::lock_guard lock(mu_);
          arrivals_.push_back(a);
        }
        cv_.notify_all();
      }
    });
  }
  void stopReceiving() {
    running_ = false;
    if (thread_.joinable())
      thread_.join();
  }

  std::vector<Arrival> arrivals() const {
    std::lock_guard lock(mu_);
    return arrivals_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return arrivals_.size();
  }
  // Waits until at least n datagrams arrived or the deadline passed.
  bool waitForCount(std::size_t n, Clock::duration timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return arrivals_.size() >= n; });
  }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> running_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Arrival> arrivals_;
};

// Polls `condition` until it holds or `timeout` passes; for conditions no one
// signals (the emulator's counters).
inline bool waitUntil(const std::function<bool()>& condition, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Sends `size`-byte probes to `to_port` at `bps` from `start` for `length`, on the
// calling thread. Pacing in 1 ms steps: the packets due by each step go together.
inline std::uint64_t sendPaced(UdpEndpoint& from, std::uint16_t to_port, double bps,
                               std::uint32_t size, Clock::time_point start,
                               Clock::duration length) {
  const double gap_ns = size * 8e9 / bps;
  std::uint64_t seq = 0;
  for (auto step = start; step < start + length; step += std::chrono::milliseconds(1)) {
    std::this_thread::sleep_until(step);  // pacing the traffic, not synchronisation
    auto due = static_cast<std::uint64_t>(
        std::chrono::duration<double, std::nano>(step - start).count() / gap_ns);
    while (seq <= due)
      from.send(to_port, seq++, size);
  }
  return seq;
}

}  // namespace bondcast::emu::testing
