// SPDX-License-Identifier: MPL-2.0
// udp://@:PORT listens on every address: an encoder that sends to the sender's IPv4 or its
// IPv6 address is heard (one dual-stack socket; before, IPv4 only).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include "sender/input.h"
#include "tests/support/ipv6.h"

namespace bondcast::sender {
namespace {

using test::haveIpv6Loopback;

// A port nobody uses on either family: bound and released (a race with other processes
// is possible in principle; the test then fails to open the input, saying so).
std::uint16_t freePort() {
  const int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;
  int off = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin6_port);
}

std::vector<std::uint8_t> tsPacket(std::uint8_t fill) {
  std::vector<std::uint8_t> p(188, fill);
  p[0] = 0x47;
  return p;
}

void sendFrom(int family, std::uint16_t port, const std::vector<std::uint8_t>& bytes) {
  const int fd = socket(family, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  ssize_t n = -1;
  if (family == AF_INET) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    n = sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  } else {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(port);
    to.sin6_addr = in6addr_loopback;
    n = sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  close(fd);
  ASSERT_EQ(n, static_cast<ssize_t>(bytes.size()));
}

TEST(UdpInput, AWildcardInputHearsAnEncoderOnIpv4AndOnIpv6) {
  if (!haveIpv6Loopback())
    GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  const std::uint16_t port = freePort();
  InputOptions o;
  o.source = "udp://@:" + std::to_string(port);
  auto input = openInput(o);
  ASSERT_TRUE(input) << input.error().message;

  const auto v4 = tsPacket(0x11);
  const auto v6 = tsPacket(0x66);
  sendFrom(AF_INET, port, v4);
  sendFrom(AF_INET6, port, v6);
  std::vector<std::uint8_t> got;
  auto reader = std::async(std::launch::async, [&] {
    while (got.size() < v4.size() + v6.size()) {  // read() blocks until a datagram is there
      auto chunk = (*input)->read();
      if (!chunk || chunk->end)
        return;
      got.insert(got.end(), chunk->bytes.begin(), chunk->bytes.end());
    }
  });
  const bool both = reader.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  (*input)->stop();  // ends a read() still waiting for the second datagram
  reader.wait();
  ASSERT_TRUE(both) << "heard " << got.size() << " of " << v4.size() + v6.size()
                    << " bytes within 5 s";
  std::vector<std::uint8_t> want = v4;
  want.insert(want.end(), v6.begin(), v6.end());
  EXPECT_TRUE(got == want);
}

// An empty datagram carries nothing; it does not end the input (a read() of 0 bytes did:
// one stray empty datagram to the encoder's port ended the stream).
TEST(UdpInput, AnEmptyDatagramDoesNotEndTheInput) {
  const std::uint16_t port = freePort();
  InputOptions o;
  o.source = "udp://@:" + std::to_string(port);
  auto input = openInput(o);
  ASSERT_TRUE(input) << input.error().message;
  sendFrom(AF_INET, port, {});
  const auto packet = tsPacket(0x22);
  sendFrom(AF_INET, port, packet);
  std::vector<std::uint8_t> got;
  bool ended = false;
  auto reader = std::async(std::launch::async, [&] {
    while (got.size() < packet.size()) {
      auto chunk = (*input)->read();
      if (!chunk || chunk->end) {
        ended = true;
        return;
      }
      got.insert(got.end(), chunk->bytes.begin(), chunk->bytes.end());
    }
  });
  const bool read = reader.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  (*input)->stop();
  reader.wait();
  ASSERT_TRUE(read) << "the datagram after the empty one was not read within 5 s";
  EXPECT_FALSE(ended) << "the input ended at the empty datagram";
  EXPECT_EQ(got, packet);
}

}  // namespace
}  // namespace bondcast::sender
