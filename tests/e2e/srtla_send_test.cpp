// SPDX-License-Identifier: MPL-2.0
// `bondcast send --mode srtla` (issue 14, sender side): one SRT connection spread over
// SRTLA links by bondcast's scheduler, into
// - the reference SRTLA receiver (srtla_rec from ../shared/peers/srtla, built into the
//   build tree) in front of Debian's srt-live-transmit (libsrt 1.5.1 as shipped), over two
//   emulated links (the in-process link emulator, seeded), the second cut for good
//   mid-stream;
// - `bondcast recv --listen srtla://` with a passphrase, and refused without it.
//
//   send --mode srtla ──> emulator link 0 (10 mbit, 20 ms) ──┐
//                    └──> emulator link 1 (10 mbit, 30 ms) ──┴─> srtla_rec ──> srt-live-transmit
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "eval/emulator/emulator.h"
#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"
#include "tests/support/shared_dir.h"

namespace bondcast::e2e {
namespace {

using namespace std::chrono_literals;

class SrtlaSend : public BondcastTest {};

std::string srtlaLink(std::uint16_t port) {
  return "srtla://127.0.0.1:" + std::to_string(port);
}

TEST_F(SrtlaSend, IntoTheReferenceReceiverOverTwoLinksOneCutForGoodArrivesWhole) {
  BONDCAST_SKIP_WITHOUT_SHARED(BONDCAST_SRTLA_REF_DIR, "the reference SRTLA implementation");
  ASSERT_TRUE(std::filesystem::exists(BONDCAST_SRTLA_REC)) << BONDCAST_SRTLA_REC;
  const std::uint16_t srt_port = freeUdpPort();
  const std::uint16_t srtla_port = freeUdpPort();
  const auto output = path("out.ts");
  // -a:no: one connection, then it ends; the stream to stdout, into out.ts.
  Process receiver = Process::start(
      {"/bin/sh", "-c",
       "exec srt-live-transmit -a:no -q 'srt://127.0.0.1:" + std::to_string(srt_port) +
           "?mode=listener&latency=1000' file://con > '" + output.string() + "'"},
      path("srt-live-transmit.log"));
  Process srtla_rec = Process::start(
      {BONDCAST_SRTLA_REC, std::to_string(srtla_port), "127.0.0.1", std::to_string(srt_port)},
      path("srtla_rec.log"));

  // The cut comes 3.5 s into the emulator's time: the stream (6 s) starts within the
  // first second (registration and SRT handshake on loopback).
  net::NetworkConfig config;
  config.seed = 14;
  for (int i = 0; i < 2; ++i) {
    auto link = net::parseLinkSpec("to=127.0.0.1:" + std::to_string(srtla_port) +
                                   ",rate=10mbit,delay=" + (i == 0 ? "20ms" : "30ms"));
    ASSERT_TRUE(link) << link.error().message;
    config.links.push_back(*link);
  }
  auto cut = net::parseEvent("at=3500ms,link=1,down");
  ASSERT_TRUE(cut) << cut.error().message;
  config.events.push_back(*cut);
  emu::Emulator emulator(config);
  ASSERT_TRUE(emulator.start());

  Process sender =
      startSender({"--mode", "srtla", "--latency", "1000", "--input", sampleTs().string(),
                   "--stats", path("send.jsonl").string(), "--link",
                   srtlaLink(emulator.listenPort(0)), "--link", srtlaLink(emulator.listenPort(1))});
  EXPECT_EQ(sender.waitExit(60s), 0) << sender.stderrText();
  EXPECT_TRUE(waitUntil([&] { return fileSize(output) >= fileSize(sampleTs()); }, 15s));
  receiver.signal(SIGTERM);
  receiver.waitExit(5s);
  srtla_rec.signal(SIGTERM);
  srtla_rec.waitExit(5s);
  emulator.stop();

  const auto sent = readBytes(sampleTs());
  const auto received = readBytes(output);
  EXPECT_TRUE(sent == received) << describeDifference(sent, received)
                                << "\nthe sender's last stats: "
                                << finalLine(path("send.jsonl")).dump();
  // Both links carried the stream before the cut, and the cut one carried nothing after.
  const auto stats = emulator.stats();
  EXPECT_GT(stats.links[0].fwd.packets_forwarded, 500u);
  EXPECT_GT(stats.links[1].fwd.packets_forwarded, 100u);
  EXPECT_TRUE(sender.stderrContains("registered with the SRTLA receiver"));
  EXPECT_TRUE(sender.stderrContains("nothing heard from the receiver")) << sender.stderrText();
}

TEST_F(SrtlaSend, IntoBondcastRecvWithAPassphraseAndRefusedWithoutIt) {
  const std::uint16_t port = freeUdpPort();
  const auto output = path("out.ts");
  const std::string secret = "a-long-srtla-secret";
  Process receiver =
      Process::start(bondcastArgv({"recv", "--listen", "srtla://127.0.0.1:" + std::to_string(port),
                                   "--output", output.string(), "--latency", "500", "--passphrase",
                                   secret, "--duration", "120s"}),
                     path("recv.log"));
  ASSERT_TRUE(waitUntil(
      [&] { return !receiver.running() || receiver.stderrContains("listening on"); }, 10s));
  ASSERT_TRUE(receiver.running()) << receiver.stderrText();

  // Without the passphrase: the links register (SRTLA knows no secrets), the SRT
  // connection is refused, the sender says why and fails.
  Process refused = startSender(
      {"--mode", "srtla", "--latency", "500", "--input", sampleTs().string(), "--connect-timeout",
       "5000", "--link", srtlaLink(port), "--link", srtlaLink(port)},
      "refused");
  const auto refused_exit = refused.waitExit(30s);
  ASSERT_TRUE(refused_exit.has_value()) << "still running: " << refused.stderrText();
  EXPECT_NE(*refused_exit, 0) << refused.stderrText();
  EXPECT_TRUE(refused.stderrContains("passphrase") || refused.stderrContains("Password"))
      << refused.stderrText();

  Process sender =
      startSender({"--mode", "srtla", "--latency", "500", "--passphrase", secret, "--input",
                   sampleTs().string(), "--link", srtlaLink(port), "--link", srtlaLink(port)});
  EXPECT_EQ(sender.waitExit(60s), 0) << sender.stderrText();
  stopReceiverAt(receiver, output, fileSize(sampleTs()));
  const auto sent = readBytes(sampleTs());
  const auto received = readBytes(output);
  EXPECT_TRUE(sent == received) << describeDifference(sent, received);
  EXPECT_FALSE(receiver.stderrContains(secret));
  EXPECT_FALSE(sender.stderrContains(secret));
}

// A studio restart: the SRTLA receiver is killed and started again on its port. The
// sender's links hear nothing, register again (the new receiver knows no group: REG_NGP,
// then a new group), and its SRT connection, broken by SRT's idle timeout, is made again:
// the new receiver gets the stream without anyone touching the sender.
TEST_F(SrtlaSend, ComesBackByItselfWhenTheReceiverRestarts) {
  const std::uint16_t port = freeUdpPort();
  auto startRecv = [&](const std::string& name) {
    Process p = Process::start(
        bondcastArgv({"recv", "--listen", "srtla://127.0.0.1:" + std::to_string(port), "--output",
                      path(name + ".ts").string(), "--latency", "300", "--duration", "120s"}),
        path(name + ".log"));
    EXPECT_TRUE(waitUntil([&] { return !p.running() || p.stderrContains("listening on"); }, 10s));
    return p;
  };
  Process first = startRecv("first");
  ASSERT_TRUE(first.running()) << first.stderrText();
  Process sender =
      startSender({"--mode", "srtla", "--latency", "300", "--input", "testsrc", "--bitrate",
                   "1mbit", "--link", srtlaLink(port), "--link", srtlaLink(port)});
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("first.ts")) > 50'000; }, 20s))
      << sender.stderrText();
  first.signal(SIGKILL);
  first.waitExit(5s);
  Process second = startRecv("second");
  ASSERT_TRUE(second.running()) << second.stderrText();
  // SRT's peer idle timeout (5 s) ends the old connection; then a new one within seconds.
  EXPECT_TRUE(waitUntil([&] { return fileSize(path("second.ts")) > 50'000; }, 30s))
      << sender.stderrText() << "\nsecond receiver:\n"
      << second.stderrText();
  EXPECT_TRUE(sender.stderrContains("connecting again")) << sender.stderrText();
  EXPECT_TRUE(sender.stderrContains("SRT connection up again")) << sender.stderrText();
  sender.signal(SIGTERM);
  EXPECT_EQ(sender.waitExit(15s), 0) << sender.stderrText();
  second.signal(SIGTERM);
  EXPECT_EQ(second.waitExit(15s), 0) << second.stderrText();
}

}  // namespace
}  // namespace bondcast::e2e
