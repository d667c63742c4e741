// SPDX-License-Identifier: MPL-2.0
// Issue 16, "a receiver nobody can stall": two senders into one `bondcast recv`, stream
// A's output a FIFO nobody reads. Stream B runs 20 s and arrives byte-identical with
// nothing lost, A's links stay connected and A's data waits in its own queue; SIGTERM
// still ends the receiver. Before outputs had a thread each, opening A's FIFO blocked the
// receiver thread and B's output stayed empty for the whole run.
//
//   send --stream-id A (testsrc) ──┬─ 127.0.0.1:P0 ─┐                 ┌─> out-A.ts (FIFO, no
//   reader) send --stream-id B (20 s file) ┴─ 127.0.0.1:P1 ─┴─ bondcast recv ─┴─> out-B.ts
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <ostream>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

struct StallCase {
  std::string mode_a;
  std::string mode_b;
};

void PrintTo(const StallCase& c, std::ostream* os) {
  *os << "A " << c.mode_a << ", B " << c.mode_b;
}

class StalledOutput : public BondcastTest, public ::testing::WithParamInterface<StallCase> {};

// The last periodic stats record's entry for `stream`, or null.
nlohmann::json lastStreamStats(const std::filesystem::path& stats, const std::string& stream) {
  nlohmann::json found;
  for (const auto& line : jsonLines(stats)) {
    if (line.value("final", false) || !line.contains("streams"))
      continue;
    for (const auto& s : line["streams"]) {
      if (s.value("stream", "") == stream)
        found = s;
    }
  }
  return found;
}

TEST_P(StalledOutput, OneStreamsBlockedOutputHoldsUpNoOtherStream) {
  const auto& [mode_a, mode_b] = GetParam();
  const auto& input = longSampleTs();
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  ASSERT_EQ(::mkfifo(path("out-A.ts").c_str(), 0600), 0);
  Process receiver = startReceiver(ports, path("out.ts"), {"--latency", latencyMs(300)});
  auto links = [&](const std::string& mode) {
    std::vector<std::string> args = {
        "--mode",          mode,     "--latency",      latencyMs(300), "--link",
        srtLink(ports[0]), "--link", srtLink(ports[1])};
    return args;
  };
  auto args_a = links(mode_a);
  args_a.insert(args_a.end(), {"--input", "testsrc", "--bitrate", "2mbit", "--stream-id", "A",
                               "--stats", path("send-A.jsonl").string()});
  Process sender_a = startSender(args_a, "send-A");
  ASSERT_TRUE(waitUntil([&] { return receiver.stderrContains("stream 'A' ->"); }, 15s))
      << receiver.stderrText();
  auto args_b = links(mode_b);
  args_b.insert(args_b.end(), {"--input", input.string(), "--stream-id", "B", "--stats",
                               path("send-B.jsonl").string()});
  Process sender_b = startSender(args_b, "send-B");

  ASSERT_EQ(sender_b.waitExit(60s), 0) << sender_b.stderrText();
  const auto sent = readBytes(input);
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("out-B.ts")) >= sent.size(); }, 10s))
      << "out-B.ts has " << fileSize(path("out-B.ts")) << " of " << sent.size() << " bytes\n"
      << receiver.stderrText();
  // A has been received all along: still running, its stream active, its data queued.
  EXPECT_TRUE(sender_a.running()) << sender_a.stderrText();
  ASSERT_TRUE(waitUntil(
      [&] {
        auto a = lastStreamStats(path("recv.jsonl"), "A");
        return a.is_object() && a.value("output_queued_bytes", 0u) > 1'000'000u;
      },
      10s))
      << "stream A's output queue did not fill";
  const auto a = lastStreamStats(path("recv.jsonl"), "A");
  EXPECT_TRUE(a.value("active", false)) << a.dump();
  // Connected: "up", or "idle" for a group member that has not carried data yet (libsrt
  // keeps a broadcast member idle at times; the sender still counts it connected).
  for (const auto& link : a["links"]) {
    const std::string state = link.value("state", "");
    EXPECT_TRUE(state == "up" || state == "idle") << a.dump();
  }

  receiver.signal(SIGTERM);
  EXPECT_EQ(receiver.waitExit(15s), 0) << receiver.stderrText();
  sender_a.signal(SIGTERM);
  sender_a.waitExit(15s);

  const auto received = readBytes(path("out-B.ts"));
  EXPECT_TRUE(sent == received) << describeDifference(sent, received);
  const auto final_b = [&] {
    auto f = finalLine(path("recv.jsonl"));
    for (const auto& s : f["streams"]) {
      if (s.value("stream", "") == "B")
        return s;
    }
    return nlohmann::json();
  }();
  ASSERT_TRUE(final_b.is_object()) << "no final stats for stream B";
  EXPECT_EQ(final_b.value("output_dropped", 1u), 0u);
  if (mode_b == "adaptive")
    EXPECT_EQ(final_b.value("lost", 1u), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, StalledOutput,
                         ::testing::Values(StallCase{"broadcast", "adaptive"},
                                           StallCase{"adaptive", "broadcast"}),
                         [](const ::testing::TestParamInfo<StallCase>& info) {
                           return "A_" + info.param.mode_a + "_B_" + info.param.mode_b;
                         });

}  // namespace
}  // namespace bondcast::e2e
