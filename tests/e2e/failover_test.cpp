// SPDX-License-Identifier: MPL-2.0
// Acceptance 2 of the Foundation issue: a link cut for good in the middle of the
// stream, through bondcast's link emulator (in-process, seeded).
//
//   bondcast send ──> emulator link 0 (20 mbit, 10 ms; cut at 2.5 s) ──> recv port R0
//                ──> emulator link 1 (20 mbit, 10 ms)                ──> recv port R1
//
// Broadcast: the output is byte-identical (0 packets lost). Backup (latency 200 ms,
// link 0 active by weight): byte-identical, and the switch to link 1 shows in the
// sender's stats.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "eval/emulator/emulator.h"
#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

constexpr auto kCutAt = 2500ms;

class LinkCut : public BondcastTest {
 protected:
  // Starts a receiver on two ports and the emulator in front of it, sends the
  // sample through the emulator in `mode` with link `active` weighted highest, cuts
  // that link, and waits for the sender to finish.
  void sendThroughCut(const std::string& mode, std::size_t active = 0) {
    active_ = active;
    standby_ = 1 - active;
    std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
    receiver_ = startReceiver(ports, output(), {"--latency", "200"});

    net::NetworkConfig config;
    config.seed = 7;
    for (auto port : ports) {
      auto link =
          net::parseLinkSpec("to=127.0.0.1:" + std::to_string(port) + ",rate=20mbit,delay=10ms");
      ASSERT_TRUE(link) << link.error().message;
      config.links.push_back(*link);
    }
    auto cut = net::parseEvent("at=" + std::to_string(kCutAt.count()) +
                               "ms,link=" + std::to_string(active) + ",down");
    ASSERT_TRUE(cut) << cut.error().message;
    config.events.push_back(*cut);
    emulator_ = std::make_unique<emu::Emulator>(config);
    auto started = emulator_->start();
    ASSERT_TRUE(started) << started.error().message;
    cut_time_ = std::chrono::system_clock::now() - (Clock::now() - emulator_->epoch()) + kCutAt;

    Process sender = startSender(
        {"--mode", mode, "--input", sampleTs().string(), "--latency", "200", "--stats",
         path("send.jsonl"), "--link",
         srtLink(emulator_->listenPort(0), active == 0 ? "weight=10" : "weight=5"), "--link",
         srtLink(emulator_->listenPort(1), active == 1 ? "weight=10" : "weight=5")});
    auto code = sender.waitExit(40s);
    ASSERT_EQ(code, 0) << sender.stderrText();
    stopReceiverAt(receiver_, output(), fileSize(sampleTs()));
    emulator_->stop();
  }

  std::filesystem::path output() const { return path("out.ts"); }

  // The cut happened mid-stream: the cut link carried packets, then dropped some in
  // the outage.
  void expectCutMidStream() {
    auto stats = emulator_->stats();
    EXPECT_GT(stats.links[active_].fwd.packets_forwarded, 0u);
    EXPECT_GT(stats.links[active_].fwd.drop_outage, 0u) << "the sender was done before the cut";
  }

  // The sender's stats show the active link up and the standby idle before the cut,
  // and the standby up and reported as `active_link` after it.
  void expectSwitchInSenderStats() {
    auto cut_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(cut_time_.time_since_epoch()).count();
    const int active = static_cast<int>(active_);
    const int standby = static_cast<int>(standby_);
    bool active_before = false;
    std::int64_t switch_seen_ms = -1;
    for (const auto& line : jsonLines(path("send.jsonl"))) {
      std::int64_t ts = line["ts_ms"];
      int reported = line.value("active_link", -1);
      const auto& links = line["links"];
      if (ts < cut_ms && reported == active && links[active_]["state"] == "up" &&
          links[standby_]["state"] == "idle") {
        active_before = true;
      }
      if (ts >= cut_ms && switch_seen_ms < 0 && reported == standby &&
          links[standby_]["state"] == "up") {
        switch_seen_ms = ts - cut_ms;
        std::cout << "first line after the switch: " << line.dump() << "\n";
      }
    }
    EXPECT_TRUE(active_before) << "before the cut, no stats line shows link " << active
                               << " (highest weight) active and link " << standby << " idle";
    EXPECT_GE(switch_seen_ms, 0) << "no stats line after the cut shows link " << standby
                                 << " up and reported as active_link";
    std::cout << "switch to link " << standby << " first seen in the sender's stats "
              << switch_seen_ms << " ms after the cut (stats every 1 s)\n";
  }

  void expectByteIdenticalAndDecodable() {
    auto sent = readBytes(sampleTs());
    auto received = readBytes(output());
    EXPECT_TRUE(sent == received) << describeDifference(sent, received);
    EXPECT_EQ(decodeProblems(output()), "");
    auto send_final = finalLine(path("send.jsonl"));
    auto recv_final = finalLine(path("recv.jsonl"));
    ASSERT_TRUE(send_final.is_object() && recv_final.is_object());
    ASSERT_EQ(recv_final["streams"].size(), 1u);
    std::int64_t sent_payloads = send_final["payloads"];
    std::int64_t received_payloads = recv_final["streams"][0]["payloads"];
    std::cout << "payloads sent " << sent_payloads << ", received " << received_payloads
              << ", lost " << sent_payloads - received_payloads << "\n";
    EXPECT_EQ(send_final["payloads_dropped"], 0);
  }

  std::chrono::system_clock::time_point cut_time_;
  std::unique_ptr<emu::Emulator> emulator_;
  std::size_t active_ = 0;
  std::size_t standby_ = 1;
  Process receiver_;
};

TEST_F(LinkCut, BroadcastLosesNothingWhenOneLinkDiesForGood) {
  sendThroughCut("broadcast");
  if (HasFatalFailure())
    return;
  expectCutMidStream();
  expectByteIdenticalAndDecodable();
}

TEST_F(LinkCut, BackupSwitchesToTheStandbyLinkWithoutLoss) {
  sendThroughCut("backup");
  if (HasFatalFailure())
    return;
  expectCutMidStream();
  expectByteIdenticalAndDecodable();

  expectSwitchInSenderStats();
}

// After the switch libsrt keeps the silent member running (for about 5 s, until it
// breaks); the stats must still name the link that carries the stream, whichever
// order the links were given in.
TEST_F(LinkCut, BackupReportsTheSwitchWhenTheActiveLinkIsListedLast) {
  sendThroughCut("backup", 1);
  if (HasFatalFailure())
    return;
  expectCutMidStream();
  expectByteIdenticalAndDecodable();
  expectSwitchInSenderStats();
}

}  // namespace
}  // namespace bondcast::e2e
