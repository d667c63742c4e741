// SPDX-License-Identifier: MPL-2.0
// A UDP relay on 127.0.0.1 for the tests of libsrt (tests/common/srt): a caller connects
// to port(); every datagram goes on to 127.0.0.1:to_port and every answer back, except
// that a filter, called on the relay's thread for each datagram on its way to the
// receiver, may drop it or hold it back for a while.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "common/srtla/wire.h"

namespace bondcast::test {

// What the relay does with a datagram on its way to the receiver.
struct Verdict {
  enum class Kind { kPass, kDrop, kHold };
  Kind kind = Kind::kPass;
  std::chrono::microseconds hold{0};  // kHold: how long it is held back

  static Verdict pass() { return {}; }
  static Verdict drop() { return {Kind::kDrop, {}}; }
  static Verdict holdFor(std::chrono::microseconds d) { return {Kind::kHold, d}; }
};

// An SRT data packet's first payload word, as the tests' senders write it (a message
// index, host order); nullopt for a control packet or a short datagram.
inline std::optional<std::int32_t> messageIndex(const std::uint8_t* d, std::size_t size) {
  if (size < srtla::kSrtHeaderBytes + sizeof(std::int32_t) || (d[0] & 0x80) != 0) {
    return std::nullopt;
  }
  std::int32_t i = 0;
  std::memcpy(&i, d + srtla::kSrtHeaderBytes, sizeof i);
  return i;
}

class FilterRelay {
 public:
  using Filter = std::function<Verdict(const std::uint8_t* data, std::size_t size)>;
  using Drop = std::function<bool(const std::uint8_t* data, std::size_t size)>;

  FilterRelay(std::uint16_t to_port, Filter filter) : filter_(std::move(filter)) {
    front_ = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    back_ = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(front_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(front_.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    a.sin_port = htons(to_port);
    EXPECT_EQ(::connect(back_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    thread_ = std::thread([this] { run(); });
  }
  // A relay that only drops what `drop` picks.
  FilterRelay(std::uint16_t to_port, Drop drop)
      : FilterRelay(to_port, [drop = std::move(drop)](const std::uint8_t* d, std::size_t n) {
          return drop(d, n) ? Verdict::drop() : Verdict::pass();
        }) {}
  ~FilterRelay() {
    stop_ = true;
    thread_.join();
  }
  FilterRelay(const FilterRelay&) = delete;
  FilterRelay& operator=(const FilterRelay&) = delete;

  std::uint16_t port() const { return port_; }

  // Each held datagram the relay has sent on: its message index (messageIndex()) and how
  // much later than its time it went (this machine may stop the relay's thread for a while).
  struct Released {
    std::optional<std::int32_t> index;
    std::chrono::microseconds late{0};
  };
  std::vector<Released> released() const {
    std::lock_guard lock(released_mu_);
    return released_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void run() {
    std::uint8_t buf[2048];
    sockaddr_in sender{};
    socklen_t sender_len = 0;
    while (!stop_) {
      // Held datagrams go on when their time comes, in that order.
      const auto now = Clock::now();
      while (!held_.empty() && held_.begin()->first <= now) {
        const std::vector<std::uint8_t>& d = held_.begin()->second;
        (void)::send(back_.get(), d.data(), d.size(), 0);  // UDP: loss is loss
        {
          std::lock_guard lock(released_mu_);
          released_.push_back({messageIndex(d.data(), d.size()),
                               std::chrono::duration_cast<std::chrono::microseconds>(
                                   Clock::now() - held_.begin()->first)});
        }
        held_.erase(held_.begin());
      }
      int timeout_ms = 20;  // so that stop_ is seen
      if (!held_.empty()) {
        const auto until = std::chrono::ceil<std::chrono::milliseconds>(held_.begin()->first - now);
        timeout_ms = std::clamp(static_cast<int>(until.count()), 0, timeout_ms);
      }
      pollfd fds[2] = {{front_.get(), POLLIN, 0}, {back_.get(), POLLIN, 0}};
      if (::poll(fds, 2, timeout_ms) <= 0) {
        continue;
      }
      if (fds[0].revents & POLLIN) {
        socklen_t len = sizeof sender;
        const ssize_t n = ::recvfrom(front_.get(), buf, sizeof buf, 0,
                                     reinterpret_cast<sockaddr*>(&sender), &len);
        sender_len = len;
        if (n > 0) {
          const auto size = static_cast<std::size_t>(n);
          const Verdict v = filter_(buf, size);
          if (v.kind == Verdict::Kind::kPass) {
            (void)::send(back_.get(), buf, size, 0);
          } else if (v.kind == Verdict::Kind::kHold) {
            held_.emplace(Clock::now() + v.hold, std::vector<std::uint8_t>(buf, buf + size));
          }
        }
      }
      if (fds[1].revents & POLLIN) {
        const ssize_t n = ::recv(back_.get(), buf, sizeof buf, 0);
        if (n > 0 && sender_len > 0) {
          (void)::sendto(front_.get(), buf, static_cast<std::size_t>(n), 0,
                         reinterpret_cast<sockaddr*>(&sender), sender_len);
        }
      }
    }
  }

  Filter filter_;
  Fd front_, back_;
  std::uint16_t port_ = 0;
  std::multimap<Clock::time_point, std::vector<std::uint8_t>> held_;  // the relay thread's
  mutable std::mutex released_mu_;
  std::vector<Released> released_;  // guarded by released_mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace bondcast::test
