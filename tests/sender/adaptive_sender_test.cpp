// SPDX-License-Identifier: MPL-2.0
// AdaptiveSender's threading (sender/adaptive_sender.h): send() schedules each payload and
// hands its copies to the links' SRT connections on the caller's thread, before it returns;
// the worker only polls the links and sends re-sends. A real libsrt connection on loopback
// to a listener that never accepts (libsrt completes the handshake without it), or that
// accepts and sends receipts back.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/srt/srt.h"
#include "common/wire.h"
#include "sender/adaptive_sender.h"
#include "tests/support/group_listener.h"

namespace bondcast::sender {
namespace {

// A sender of session `session` (0: a random one) with one link, to `listener` (which
// listens on loopback), connected: the handshake is done. Fails the test (fatally: call it
// in ASSERT_NO_FATAL_FAILURE) when it does not come up.
void connectOneLink(const srt::Socket& listener, std::uint32_t session,
                    std::unique_ptr<AdaptiveSender>& sender) {
  AdaptiveSenderConfig config;
  auto link = parseLinkSpec("srt://127.0.0.1:" + std::to_string(srt::boundPort(listener.get())));
  ASSERT_TRUE(link) << link.error().message;
  config.links = {*link};
  config.session = session;
  config.srt.latency = std::chrono::milliseconds(1000);
  auto created = AdaptiveSender::create(config);
  ASSERT_TRUE(created) << created.error().message;
  sender = std::move(created).value();
  auto connected = sender->connect(std::chrono::seconds(10), nullptr);
  ASSERT_TRUE(connected) << connected.error().message;
}

TEST(AdaptiveSenderSend, EachPayloadsCopyIsWithItsLinkWhenSendReturns) {
  srt::Runtime runtime;
  srt::Socket listener(srt_create_socket());
  std::optional<srt::SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenOnLoopback(listener.get(), 4, to));
  std::unique_ptr<AdaptiveSender> sender;
  ASSERT_NO_FATAL_FAILURE(connectOneLink(listener, 0, sender));

  // One link, first up: latency-aware sends one copy per payload (no extra copies, no
  // probes). Handed to a worker instead, the copies would lag behind send().
  const std::vector<std::uint8_t> payload(1316, 0x47);
  for (std::uint64_t i = 1; i <= 20; ++i) {
    sender->send({payload, std::chrono::steady_clock::now(), sched::Importance::kNone});
    const nlohmann::json stats = sender->statsJson(false);
    ASSERT_EQ(stats["copies_sent"].get<std::uint64_t>(), i) << "after payload " << i;
    ASSERT_EQ(stats["links"][0]["copies"].get<std::uint64_t>(), i) << "after payload " << i;
  }
}

// The receiver's receipts (common/wire.h) come back on each link: the sender announces that
// it reads them (bcr=1 in the link's stream id), hands its session's to the scheduler, and
// counts and drops what is not one (bad input from the network never reaches the scheduler).
TEST(AdaptiveSenderReceipts, TakesItsSessionsReceiptsAndCountsWhatIsNotOne) {
  srt::Runtime runtime;
  srt::Socket listener(srt_create_socket());
  std::optional<srt::SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenOnLoopback(listener.get(), 4, to));
  constexpr std::uint32_t kSession = 0x00C0FFEE;
  std::unique_ptr<AdaptiveSender> sender;
  ASSERT_NO_FATAL_FAILURE(connectOneLink(listener, kSession, sender));
  // The handshake is done: the connection waits in the backlog.
  srt::Socket accepted(srt_accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(accepted.valid()) << srt_getlasterror_str();
  char stream_id[512] = {};
  int len = sizeof stream_id;
  ASSERT_NE(srt_getsockflag(accepted.get(), SRTO_STREAMID, stream_id, &len), SRT_ERROR);
  const auto identity = wire::parseLinkStreamId(std::string(stream_id, len));
  ASSERT_TRUE(identity.identity) << stream_id;
  EXPECT_TRUE(identity.identity->receipts) << stream_id;

  auto sendMessage = [&](const std::vector<std::uint8_t>& bytes) {
    SRT_MSGCTRL mc = srt_msgctrl_default;
    ASSERT_NE(srt_sendmsg2(accepted.get(), reinterpret_cast<const char*>(bytes.data()),
                           static_cast<int>(bytes.size()), &mc),
              SRT_ERROR)
        << srt_getlasterror_str();
  };
  wire::Receipt receipt;
  receipt.session = kSession;
  receipt.below = 0;
  receipt.received = {3};
  std::vector<std::uint8_t> ours, other, truncated;
  wire::encodeReceipt(receipt, ours);
  receipt.session = 0x0BADF00D;
  wire::encodeReceipt(receipt, other);
  truncated.assign(ours.begin(), ours.end() - 1);
  for (const auto& m : {ours, other, truncated, std::vector<std::uint8_t>{'h', 'i'}}) {
    ASSERT_NO_FATAL_FAILURE(sendMessage(m));
  }

  nlohmann::json stats;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    stats = sender->statsJson(false);
    if (stats["links"][0]["receipts"] == 1 && stats["links"][0]["bad_receipts"] == 3)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling, bounded above
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(stats["links"][0]["receipts"], 1) << stats["links"][0].dump();
  EXPECT_EQ(stats["links"][0]["bad_receipts"], 3) << stats["links"][0].dump();
  EXPECT_EQ(stats["scheduler"]["receipts"], 1);
  EXPECT_EQ(stats["links"][0]["state"], "up") << "bad messages broke the link";
}

}  // namespace
}  // namespace bondcast::sender
