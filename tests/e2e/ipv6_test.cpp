// SPDX-License-Identifier: MPL-2.0
// IPv6 (issue 15, item 6: cellular carriers are often IPv6-only): a receiver listening on
// srt://[::1]:PORT takes a broadcast group and an adaptive session over IPv6 loopback, the
// file arrives byte-identical, and the receiver's stats name every link by its IPv6 peer
// address (they showed "0.0.0.0:PORT" for group members: the name was read as IPv4).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"
#include "tests/support/ipv6.h"

namespace bondcast::e2e {
namespace {

using test::haveIpv6Loopback;

class Ipv6 : public BondcastTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(Ipv6, AStreamOverIpv6LoopbackArrivesWholeAndItsLinksAreNamedByTheirIpv6Peers) {
  if (!haveIpv6Loopback())
    GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  const std::string mode = GetParam();
  const std::uint16_t port = freeUdpPort();
  const std::string uri = "srt://[::1]:" + std::to_string(port);
  const auto output = path("out.ts");
  Process receiver =
      Process::start(bondcastArgv({"recv", "--listen", uri, "--output", output.string(), "--stats",
                                   path("recv.jsonl").string(), "--duration", "120s"}),
                     path("recv.log"));
  ASSERT_TRUE(waitUntil(
      [&] {
        return !receiver.running() ||
               receiver.stderrContains("(port " + std::to_string(port) + ")");
      },
      10s));
  ASSERT_TRUE(receiver.running()) << receiver.stderrText();
  ASSERT_TRUE(receiver.stderrContains("listening on srt://[::1]:")) << receiver.stderrText();

  Process sender = startSender({"--mode", mode, "--input", sampleTs().string(), "--link", uri,
                                "--link", uri, "--connect-timeout", "5000"});
  ASSERT_EQ(sender.waitExit(40s), 0) << sender.stderrText();
  stopReceiverAt(receiver, output, fileSize(sampleTs()));
  const auto sent = readBytes(sampleTs());
  const auto received = readBytes(output);
  EXPECT_TRUE(sent == received) << describeDifference(sent, received);

  // Group members are named by their peer address; adaptive links by their index.
  int named = 0;
  for (const auto& line : jsonLines(path("recv.jsonl"))) {
    for (const auto& stream : line.value("streams", nlohmann::json::array())) {
      for (const auto& link : stream.value("links", nlohmann::json::array())) {
        const std::string name = link.value("link", "");
        EXPECT_EQ(name.find("0.0.0.0"), std::string::npos) << name;
        if (name.rfind("[::1]:", 0) == 0 || name.rfind("link ", 0) == 0)
          ++named;
      }
    }
  }
  EXPECT_GT(named, 0) << "no link in the receiver's stats";
}

// srt://:PORT listens on every address, IPv6 and IPv4 (one dual-stack socket): one session
// with a link over each family arrives whole, and an IPv4 member is named by its IPv4
// address, not as "::ffff:127.0.0.1" (before, srt://:PORT took IPv4 only).
class DualStack : public BondcastTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(DualStack, AWildcardListenerTakesOneLinkOverIpv4AndOneOverIpv6) {
  if (!haveIpv6Loopback())
    GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  const std::string mode = GetParam();
  const std::uint16_t port = freeUdpPort();
  const auto output = path("out.ts");
  Process receiver = Process::start(
      bondcastArgv({"recv", "--listen", "srt://:" + std::to_string(port), "--output",
                    output.string(), "--stats", path("recv.jsonl").string(), "--duration", "120s"}),
      path("recv.log"));
  ASSERT_TRUE(waitUntil(
      [&] {
        return !receiver.running() ||
               receiver.stderrContains("(port " + std::to_string(port) + ")");
      },
      10s));
  ASSERT_TRUE(receiver.running()) << receiver.stderrText();

  Process sender =
      startSender({"--mode", mode, "--input", sampleTs().string(), "--link",
                   "srt://127.0.0.1:" + std::to_string(port), "--link",
                   "srt://[::1]:" + std::to_string(port), "--connect-timeout", "5000"});
  ASSERT_EQ(sender.waitExit(40s), 0) << sender.stderrText();
  stopReceiverAt(receiver, output, fileSize(sampleTs()));
  const auto sent = readBytes(sampleTs());
  const auto received = readBytes(output);
  EXPECT_TRUE(sent == received) << describeDifference(sent, received);

  // Both links connected: the sender's log says so for each; group members are named by
  // their peer address in the receiver's stats.
  std::set<std::string> names;
  for (const auto& line : jsonLines(path("recv.jsonl"))) {
    for (const auto& stream : line.value("streams", nlohmann::json::array())) {
      for (const auto& link : stream.value("links", nlohmann::json::array()))
        names.insert(link.value("link", ""));
    }
  }
  for (const auto& name : names)
    EXPECT_EQ(name.find("::ffff:"), std::string::npos) << name;
  if (mode == "broadcast") {
    bool v4 = false;
    bool v6 = false;
    for (const auto& name : names) {
      v4 = v4 || name.rfind("127.0.0.1:", 0) == 0;
      v6 = v6 || name.rfind("[::1]:", 0) == 0;
    }
    EXPECT_TRUE(v4 && v6) << "members: " << nlohmann::json(names).dump();
  } else {
    EXPECT_GE(names.size(), 2u) << nlohmann::json(names).dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, DualStack, ::testing::Values("broadcast", "adaptive"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

INSTANTIATE_TEST_SUITE_P(Modes, Ipv6, ::testing::Values("broadcast", "adaptive"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace bondcast::e2e
