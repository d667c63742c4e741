// SPDX-License-Identifier: MPL-2.0
// Acceptance 4 of the adaptive-mode issue: bad input from the network. While a real
// adaptive sender streams to a real receiver (passphrase set), this test connects its
// own SRT sockets to the receiver and sends it what a broken or hostile peer would:
//   - on a link of the running session: packets too short for a header, packets that
//     are not bondcast's, a header of an unknown version, another session's header;
//   - a link with the wrong passphrase; a link whose stream id is malformed;
//   - a link of a session that a newer session of the same stream replaced.
// Each is refused and counted in the receiver's stats, and the stream is unharmed.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "common/srt/srt.h"
#include "common/wire.h"
#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

const std::string kPassphrase = "a long enough secret";

// One SRT caller of our own, live mode, blocking.
class RogueLink {
 public:
  RogueLink(std::uint16_t port, const std::string& stream_id, const std::string& passphrase) {
    srt::CommonOptions o;
    o.latency = 300ms;
    o.passphrase = passphrase;
    o.stream_id = stream_id;
    EXPECT_TRUE(srt::applyCommonOptions(sock_.get(), o, "intruder"));
    const int payload = 1456;
    EXPECT_TRUE(srt::setOption(sock_.get(), SRTO_PAYLOADSIZE, payload, "payload size"));
    auto addr = srt::resolve("127.0.0.1", port, false);
    EXPECT_TRUE(addr);
    connected_ = srt_connect(sock_.get(), addr->get(), addr->len) != SRT_ERROR;
    if (!connected_)
      reject_reason_ = srt_getrejectreason(sock_.get());
  }
  bool connected() const { return connected_; }
  int rejectReason() const { return reject_reason_; }
  void send(const std::vector<std::uint8_t>& bytes) {
    ASSERT_NE(srt_sendmsg(sock_.get(), reinterpret_cast<const char*>(bytes.data()),
                          static_cast<int>(bytes.size()), -1, 1),
              SRT_ERROR)
        << srt_getlasterror_str();
  }

 private:
  srt::Socket sock_{srt_create_socket()};
  bool connected_ = false;
  int reject_reason_ = 0;
};

std::vector<std::uint8_t> packet(const wire::Header& h, std::size_t payload_bytes) {
  auto header = wire::encode(h);
  std::vector<std::uint8_t> out(header.begin(), header.end());
  out.resize(out.size() + payload_bytes, 0xAB);
  return out;
}

class AdaptiveIntrusion : public BondcastTest {
 protected:
  srt::Runtime runtime_;
};

// The session id of the active adaptive stream in the receiver's latest stats line
// that has one ("" before).
std::string sessionOf(const std::filesystem::path& stats) {
  std::string session;
  for (const auto& line : jsonLines(stats)) {
    for (const auto& s : line.value("streams", nlohmann::json::array())) {
      if (s.value("mode", "") == "adaptive" && s.value("active", false))
        session = s.value("session", "");
    }
  }
  return session;
}

nlohmann::json linkStats(const nlohmann::json& record, int index) {
  for (const auto& s : record.value("streams", nlohmann::json::array())) {
    for (const auto& l : s.value("links", nlohmann::json::array())) {
      if (l.value("index", -1) == index)
        return l;
    }
  }
  return nullptr;
}

TEST_F(AdaptiveIntrusion,
       MalformedAndForeignPacketsAndBadLinksAreRefusedAndCountedTheStreamUnharmed) {
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  Process receiver = startReceiver(ports, path("out.ts"),
                                   {"--latency", latencyMs(300), "--passphrase", kPassphrase});
  Process sender =
      startSender({"--mode", "adaptive", "--input", sampleTs().string(), "--latency",
                   latencyMs(300), "--passphrase", kPassphrase, "--link", srtLink(ports[0]),
                   "--link", srtLink(ports[1]), "--stats", path("send.jsonl")});
  std::string session_hex;
  ASSERT_TRUE(
      waitUntil([&] { return !(session_hex = sessionOf(path("recv.jsonl"))).empty(); }, 10s))
      << receiver.stderrText();
  const auto session = static_cast<std::uint32_t>(std::stoul(session_hex, nullptr, 16));

  // A link of the running session that sends garbage.
  RogueLink rogue(ports[0], wire::linkStreamId("", session, 7), kPassphrase);
  ASSERT_TRUE(rogue.connected()) << srt_rejectreason_str(rogue.rejectReason());
  wire::Header h;
  h.session = session;
  h.seq = 5;
  rogue.send({0x42, 0x43, 0x01});                    // too short
  rogue.send(std::vector<std::uint8_t>(200, 0x47));  // not bondcast's (TS bytes)
  auto future_version = packet(h, 100);
  future_version[2] = 9;
  rogue.send(future_version);  // unknown version
  wire::Header other = h;
  other.session = session ^ 0x5a5a5a5a;
  rogue.send(packet(other, 1316));  // another session's

  RogueLink wrong(ports[1], wire::linkStreamId("", session, 8), "not the passphrase");
  EXPECT_FALSE(wrong.connected());
  EXPECT_EQ(wrong.rejectReason(), SRT_REJ_BADSECRET);
  RogueLink malformed(ports[1], "#!::bcs=nothex!!,bcl=1", kPassphrase);
  EXPECT_FALSE(malformed.connected());

  ASSERT_EQ(sender.waitExit(40s), 0) << sender.stderrText();
  stopReceiverAt(receiver, path("out.ts"), fileSize(sampleTs()));

  const auto input = readBytes(sampleTs());
  const auto output = readBytes(path("out.ts"));
  EXPECT_TRUE(input == output) << describeDifference(input, output);
  const auto final = finalLine(path("recv.jsonl"));
  ASSERT_TRUE(final.is_object());
  std::cout << "refused: " << final["refused"].dump() << "\n";
  const auto link7 = linkStats(final, 7);
  ASSERT_TRUE(link7.is_object()) << final.dump();
  EXPECT_EQ(link7["bad_headers"], 3);
  EXPECT_EQ(link7["foreign_session"], 1);
  EXPECT_EQ(link7["packets"], 0);
  // Receipts go only where the sender said it reads them (bcr=1): the real sender's links,
  // not this one, whose messages would pile up unread.
  EXPECT_EQ(link7["receipts"], 0);
  const auto link0 = linkStats(final, 0);
  ASSERT_TRUE(link0.is_object()) << final.dump();
  EXPECT_GT(link0["receipts"].get<int>(), 0);
  EXPECT_GE(final["refused"]["wrong_passphrase"].get<int>(), 1);
  EXPECT_GE(final["refused"]["malformed_stream_id"].get<int>(), 1);
}

// A restarted sender starts a new session for the same stream: it takes the output
// over, and a link of the old session that tries to come back is refused.
TEST_F(AdaptiveIntrusion, ANewSessionTakesTheStreamOverAndTheOldSessionsLinksAreRefused) {
  const std::vector<std::uint16_t> ports = {freeUdpPort()};
  Process receiver = startReceiver(ports, path("out.ts"), {"--latency", latencyMs(200)});
  const std::uint32_t old_session = 0x0badcafe;
  {
    RogueLink old_link(ports[0], wire::linkStreamId("cam", old_session, 0), "");
    ASSERT_TRUE(old_link.connected());
    wire::Header h;
    h.session = old_session;
    h.seq = 0;
    old_link.send(packet(h, 188));
    ASSERT_TRUE(waitUntil([&] { return !sessionOf(path("recv.jsonl")).empty(); }, 10s));
  }
  Process sender = startSender({"--mode", "adaptive", "--input", sampleTs().string(), "--latency",
                                latencyMs(200), "--stream-id", "cam", "--link", srtLink(ports[0])});
  ASSERT_TRUE(waitUntil(
      [&] {
        return sessionOf(path("recv.jsonl")) != "0badcafe" &&
               !sessionOf(path("recv.jsonl")).empty();
      },
      10s));
  RogueLink back(ports[0], wire::linkStreamId("cam", old_session, 1), "");
  EXPECT_FALSE(back.connected());
  ASSERT_EQ(sender.waitExit(40s), 0) << sender.stderrText();
  // The old session's one payload, then the whole new stream.
  stopReceiverAt(receiver, path("out-cam.ts"), 188 + fileSize(sampleTs()));
  const auto input = readBytes(sampleTs());
  const auto output = readBytes(path("out-cam.ts"));
  ASSERT_EQ(output.size(), 188 + input.size());
  EXPECT_TRUE(std::equal(input.begin(), input.end(), output.begin() + 188));
  const auto final = finalLine(path("recv.jsonl"));
  ASSERT_TRUE(final.is_object());
  EXPECT_GE(final["refused"]["ended_session"].get<int>(), 1) << final["refused"].dump();
}

}  // namespace
}  // namespace bondcast::e2e
