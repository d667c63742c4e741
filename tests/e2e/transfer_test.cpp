// SPDX-License-Identifier: MPL-2.0
// Acceptance 1 and 3 of the Foundation issue: an MPEG-TS file (H.264 + AAC made
// by ffmpeg) sent in each group mode over 2 and 3 links, directly on loopback,
// arrives byte-identical and decodes with ffprobe and ffmpeg without an error.
//
//   bondcast send --input sample.ts ──link 0──> 127.0.0.1:P0 ┐
//                                   ──link 1──> 127.0.0.1:P1 ├─ bondcast recv --output out.ts
//                                  (──link 2──> 127.0.0.1:P2)┘
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

struct TransferCase {
  std::string mode;
  int links;
};

void PrintTo(const TransferCase& c, std::ostream* os) {
  *os << c.mode << " over " << c.links << " links";
}

class LoopbackTransfer : public BondcastTest, public ::testing::WithParamInterface<TransferCase> {};

TEST_P(LoopbackTransfer, FileArrivesByteIdenticalAndDecodesCleanly) {
  const auto& [mode, link_count] = GetParam();
  const auto& input = sampleTs();
  std::vector<std::uint16_t> ports;
  std::vector<std::string> send_args = {
      "--mode",       mode,      "--input",          input.string(),      "--latency",
      latencyMs(200), "--stats", path("send.jsonl"), "--connect-timeout", "5000"};
  for (int i = 0; i < link_count; ++i) {
    ports.push_back(freeUdpPort());
    // Backup needs distinct weights to pick the active link: link 0 has the highest.
    send_args.push_back("--link");
    send_args.push_back(srtLink(ports.back(), "weight=" + std::to_string(10 - i)));
  }
  auto output = path("out.ts");
  Process receiver = startReceiver(ports, output, {"--latency", latencyMs(200)});
  Process sender = startSender(send_args);

  // The 6 s file is sent in real time; the sender then drains and exits by itself.
  auto sender_code = sender.waitExit(40s);
  ASSERT_EQ(sender_code, 0) << sender.stderrText();
  stopReceiverAt(receiver, output, fileSize(input));

  auto sent = readBytes(input);
  auto received = readBytes(output);
  EXPECT_TRUE(sent == received) << describeDifference(sent, received);
  EXPECT_EQ(decodeProblems(output), "");

  auto send_final = finalLine(path("send.jsonl"));
  ASSERT_TRUE(send_final.is_object()) << "no final sender stats line";
  EXPECT_EQ(send_final["payloads_dropped"], 0);
  EXPECT_EQ(send_final["links"].size(), static_cast<std::size_t>(link_count));
  // The log says what the run came to, as the stats do.
  const std::string all = std::to_string(send_final["payloads"].get<std::uint64_t>());
  EXPECT_TRUE(sender.stderrContains("sent " + all + " of " + all + " payloads\n"))
      << sender.stderrText();
  auto recv_final = finalLine(path("recv.jsonl"));
  ASSERT_TRUE(recv_final.is_object()) << "no final receiver stats line";
  ASSERT_EQ(recv_final["streams"].size(), 1u);
  EXPECT_EQ(recv_final["streams"][0]["bytes"], sent.size());
}

INSTANTIATE_TEST_SUITE_P(ModesAndLinkCounts, LoopbackTransfer,
                         ::testing::Values(TransferCase{"broadcast", 2},
                                           TransferCase{"broadcast", 3}, TransferCase{"backup", 2},
                                           TransferCase{"backup", 3}),
                         [](const ::testing::TestParamInfo<TransferCase>& info) {
                           return info.param.mode + "_over_" + std::to_string(info.param.links) +
                                  "_links";
                         });

}  // namespace
}  // namespace bondcast::e2e
