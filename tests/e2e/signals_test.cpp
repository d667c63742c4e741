// SPDX-License-Identifier: MPL-2.0
// SIGINT and SIGTERM end `bondcast recv` and `bondcast send` cleanly: exit code 0,
// the receiver's output flushed as whole TS packets that decode, a final stats line.
//
//   bondcast send --input sample.ts --loop ──2 links──> bondcast recv --output out.ts
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

class StopSignal : public BondcastTest {
 protected:
  // What the receiver wrote before the signal is exactly what was sent: the start
  // of the sample, looped.
  static void expectPrefixOfLoopedSample(const std::filesystem::path& output) {
    auto sample = readBytes(sampleTs());
    auto received = readBytes(output);
    ASSERT_FALSE(sample.empty());
    std::vector<std::uint8_t> expected;
    while (expected.size() < received.size())
      expected.insert(expected.end(), sample.begin(), sample.end());
    expected.resize(received.size());
    EXPECT_TRUE(expected == received) << describeDifference(expected, received);
  }

  // Streams the looping sample over two links, then signals the receiver with
  // `receiver_signal` and the sender with `sender_signal`.
  void streamThenStop(int receiver_signal, int sender_signal) {
    std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
    auto output = path("out.ts");
    Process receiver = startReceiver(ports, output);
    Process sender = startSender({"--mode", "broadcast", "--input", sampleTs().string(), "--loop",
                                  "--link", srtLink(ports[0]), "--link", srtLink(ports[1]),
                                  "--stats", path("send.jsonl").string()});
    // About a second of video has arrived.
    ASSERT_TRUE(waitUntil([&] { return fileSize(output) > 300'000; }, 15s))
        << "no stream arrived:\n"
        << sender.stderrText() << receiver.stderrText();

    receiver.signal(receiver_signal);
    EXPECT_EQ(receiver.waitExit(10s), 0) << receiver.stderrText();
    auto size = fileSize(output);
    EXPECT_GT(size, 300'000u);
    EXPECT_EQ(size % 188, 0u) << "the output ends inside a TS packet";
    // Cut anywhere in a frame, so only the container is checked (a full decode
    // rightly reports the last, truncated frame).
    EXPECT_EQ(probeProblems(output), "");
    expectPrefixOfLoopedSample(output);
    EXPECT_TRUE(finalLine(path("recv.jsonl")).is_object()) << "no final receiver stats line";

    ASSERT_TRUE(sender.running()) << "the sender stopped when the receiver went away:\n"
                                  << sender.stderrText();
    sender.signal(sender_signal);
    EXPECT_EQ(sender.waitExit(10s), 0) << sender.stderrText();
    EXPECT_TRUE(finalLine(path("send.jsonl")).is_object()) << "no final sender stats line";
  }
};

TEST_F(StopSignal, SigtermEndsTheReceiverAndSigintTheSenderCleanly) {
  streamThenStop(SIGTERM, SIGINT);
}

TEST_F(StopSignal, SigintEndsTheReceiverAndSigtermTheSenderCleanly) {
  streamThenStop(SIGINT, SIGTERM);
}

}  // namespace
}  // namespace bondcast::e2e
