// SPDX-License-Identifier: MPL-2.0
// The paced UDP feeder (eval/feeder): when each datagram is due, and a real feed over
// 127.0.0.1 that arrives whole, in order, at about the asked rate, and stops on a signal.
#include "eval/feeder/feeder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "common/fd.h"

namespace bondcast::feed {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Pacer, EachDatagramIsDueWhenTheRateReachesItsFirstByte) {
  const Pacer pacer({8'000'000, 1000, 1ms});  // 1000 bytes at 8 Mbit/s: one per ms
  EXPECT_EQ(pacer.dueAt(0), 0ns);
  EXPECT_EQ(pacer.dueAt(1), 1ms);
  EXPECT_EQ(pacer.dueAt(250), 250ms);
  EXPECT_EQ(pacer.dueBy(0ns), 1u);
  EXPECT_EQ(pacer.dueBy(999us), 1u);
  EXPECT_EQ(pacer.dueBy(1ms), 2u);
  EXPECT_EQ(pacer.dueBy(10ms), 11u);
  EXPECT_EQ(pacer.dueBy(-1ms), 0u);
}

TEST(Pacer, DueByCountsExactlyTheDatagramsDueOnOddRates) {
  std::mt19937_64 rng(17);  // seeded
  for (int round = 0; round < 2000; ++round) {
    const PacerConfig config{1 + rng() % 200'000'000, static_cast<std::uint32_t>(1 + rng() % 9000),
                             1ms};
    const Pacer pacer(config);
    const Nanos at(static_cast<std::int64_t>(rng() % 100'000'000'000));
    const std::uint64_t n = pacer.dueBy(at);
    ASSERT_GE(n, 1u);
    EXPECT_LE(pacer.dueAt(n - 1), at) << config.bitrate_bps << " " << config.datagram_bytes;
    EXPECT_GT(pacer.dueAt(n), at) << config.bitrate_bps << " " << config.datagram_bytes;
  }
}

// A UDP socket on 127.0.0.1 with a large buffer, read by the test's own thread.
struct Receiver {
  Fd fd{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  std::uint16_t port = 0;
  Receiver() {
    const int buf = 8 << 20;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  // Appends what arrives to `out` until it holds `bytes` or `deadline` passes; returns the
  // number of datagrams read.
  std::size_t readUntil(std::vector<char>& out, std::size_t bytes, Clock::time_point deadline) {
    std::size_t datagrams = 0;
    char buf[65536];
    while (out.size() < bytes && Clock::now() < deadline) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0) {
        out.insert(out.end(), buf, buf + n);
        ++datagrams;
      }
    }
    return datagrams;
  }
};

std::string writeRandomFile(std::size_t size, std::vector<char>& content) {
  std::mt19937 rng(5);  // seeded
  content.resize(size);
  for (char& c : content)
    c = static_cast<char>(rng());
  const auto path = std::filesystem::temp_directory_path() /
                    ("bondcast_feeder_" + std::to_string(::getpid()) + ".bin");
  std::ofstream(path, std::ios::binary).write(content.data(), static_cast<long>(size));
  return path.string();
}

TEST(Feeder, AFileArrivesWholeInOrderAtAboutItsRate) {
  std::vector<char> content;
  const std::string path = writeRandomFile(400'000 + 100, content);  // a short last datagram
  Receiver rx;
  sigset_t none;
  sigemptyset(&none);
  Result<FeedResult> result = Error{"not run"};
  std::thread feeder([&] {
    result = feedFile(path, net::Endpoint{0x7f000001, rx.port}, {16'000'000, 1316, 1ms}, none);
  });
  std::vector<char> got;
  const std::size_t datagrams = rx.readUntil(got, content.size(), Clock::now() + 20s);
  feeder.join();
  std::filesystem::remove(path);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(got, content);
  const std::uint64_t expected = (content.size() + 1315) / 1316;
  EXPECT_EQ(datagrams, expected);
  EXPECT_EQ(result->datagrams, expected);
  EXPECT_EQ(result->bytes, content.size());
  EXPECT_FALSE(result->interrupted);
  // 400 kB at 16 Mbit/s: the last datagram is due after 0.2 s; never sooner, and not
  // much later on a loaded machine.
  EXPECT_GE(result->elapsed, 199ms);
  EXPECT_LT(result->elapsed, 5s);
}

TEST(Feeder, ASignalEndsTheFeedEarly) {
  std::vector<char> content;
  const std::string path = writeRandomFile(2'000'000, content);  // 16 s at 1 Mbit/s
  Receiver rx;
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGUSR1);
  Result<FeedResult> result = Error{"not run"};
  std::thread feeder([&] {
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    result = feedFile(path, net::Endpoint{0x7f000001, rx.port}, {1'000'000, 1316, 1ms}, stop);
  });
  std::vector<char> got;
  rx.readUntil(got, 1, Clock::now() + 20s);  // the feed has started
  ASSERT_FALSE(got.empty());
  const auto signalled = Clock::now();
  ::pthread_kill(feeder.native_handle(), SIGUSR1);
  feeder.join();
  std::filesystem::remove(path);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->interrupted);
  EXPECT_LT(result->datagrams, content.size() / 1316);
  EXPECT_LT(Clock::now() - signalled, 5s);
}

TEST(Feeder, AnUnreadableFileIsAnErrorNamingIt) {
  sigset_t none;
  sigemptyset(&none);
  auto r =
      feedFile("/nonexistent/in.ts", net::Endpoint{0x7f000001, 9}, {1'000'000, 1316, 1ms}, none);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/in.ts"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace bondcast::feed
