// SPDX-License-Identifier: MPL-2.0
// Issue 16, restarts. A receiver killed (SIGKILL) and started again on the same ports
// mid-stream: the sender, left running, connects again by itself and the new receiver's
// output grows within a few seconds, in every mode (a broadcast or backup sender used to
// stay refused for ever: "group settings collision"). A sender killed and started again:
// the receiver, left running, takes the new sender at once and the same output file goes
// on growing (appended to).
//
//   bondcast send --input testsrc ──2 links──> bondcast recv (killed, started again)
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"

namespace bondcast::e2e {
namespace {

class Restart : public BondcastTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::vector<std::string> senderArgs(const std::vector<std::uint16_t>& ports) const {
    std::vector<std::string> args = {"--mode",    GetParam(), "--input",   "testsrc",
                                     "--bitrate", "2mbit",    "--latency", "200"};
    for (std::size_t i = 0; i < ports.size(); ++i) {
      args.push_back("--link");
      args.push_back(srtLink(ports[i], "weight=" + std::to_string(10 - i)));
    }
    return args;
  }
};

std::string modeName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

TEST_P(Restart, AKilledReceiverStartedAgainGetsTheStreamWithinSeconds) {
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  Process first = startReceiver(ports, path("first.ts"), {"--latency", "200"}, "recv-1");
  Process sender = startSender(senderArgs(ports));
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("first.ts")) > 200'000; }, 20s))
      << sender.stderrText() << first.stderrText();
  first.signal(SIGKILL);
  first.waitExit(5s);
  Process second = startReceiver(ports, path("second.ts"), {"--latency", "200"}, "recv-2");
  const auto restarted = std::chrono::steady_clock::now();
  // 2 Mbit/s: 200 kB is about a second of the stream.
  EXPECT_TRUE(waitUntil([&] { return fileSize(path("second.ts")) > 200'000; }, 15s))
      << "the new receiver got " << fileSize(path("second.ts")) << " bytes\n"
      << sender.stderrText();
  std::cout << GetParam() << ": the new receiver had a second of the stream "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - restarted)
                   .count()
            << " ms after it started\n";
  EXPECT_TRUE(sender.running()) << sender.stderrText();
  sender.signal(SIGTERM);
  EXPECT_EQ(sender.waitExit(10s), 0) << sender.stderrText();
  second.signal(SIGTERM);
  EXPECT_EQ(second.waitExit(10s), 0) << second.stderrText();
}

TEST_P(Restart, AKilledSenderStartedAgainIsTakenAtOnceIntoTheSameOutput) {
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  Process receiver = startReceiver(ports, path("out.ts"), {"--latency", "200"});
  Process first = startSender(senderArgs(ports), "send-1");
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("out.ts")) > 200'000; }, 20s))
      << first.stderrText() << receiver.stderrText();
  first.signal(SIGKILL);
  first.waitExit(5s);
  const auto before = fileSize(path("out.ts"));
  Process second = startSender(senderArgs(ports), "send-2");
  const auto restarted = std::chrono::steady_clock::now();
  EXPECT_TRUE(waitUntil([&] { return fileSize(path("out.ts")) > before + 200'000; }, 10s))
      << "out.ts grew by " << fileSize(path("out.ts")) - before << " bytes\n"
      << receiver.stderrText();
  std::cout << GetParam() << ": a second of the new sender's stream written "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - restarted)
                   .count()
            << " ms after it started\n";
  second.signal(SIGTERM);
  EXPECT_EQ(second.waitExit(10s), 0) << second.stderrText();
  receiver.signal(SIGTERM);
  EXPECT_EQ(receiver.waitExit(10s), 0) << receiver.stderrText();
}

INSTANTIATE_TEST_SUITE_P(Modes, Restart, ::testing::Values("broadcast", "backup", "adaptive"),
                         modeName);

}  // namespace
}  // namespace bondcast::e2e
