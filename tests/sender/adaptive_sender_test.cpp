// SPDX-License-Identifier: MPL-2.0
// AdaptiveSender's threading (sender/adaptive_sender.h): send() schedules each payload and
// hands its copies to the links' SRT connections on the caller's thread, before it returns;
// the worker only polls the links and sends re-sends. A real libsrt connection on loopback
// to a listener that never accepts (libsrt completes the handshake without it).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/srt/srt.h"
#include "sender/adaptive_sender.h"
#include "tests/support/group_listener.h"

namespace bondcast::sender {
namespace {

TEST(AdaptiveSenderSend, EachPayloadsCopyIsWithItsLinkWhenSendReturns) {
  srt::Runtime runtime;
  srt::Socket listener(srt_create_socket());
  std::optional<srt::SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenOnLoopback(listener.get(), 4, to));

  AdaptiveSenderConfig config;
  auto link = parseLinkSpec("srt://127.0.0.1:" + std::to_string(srt::boundPort(listener.get())));
  ASSERT_TRUE(link) << link.error().message;
  config.links = {*link};
  config.srt.latency = std::chrono::milliseconds(1000);
  auto sender = AdaptiveSender::create(config);
  ASSERT_TRUE(sender) << sender.error().message;
  auto connected = (*sender)->connect(std::chrono::seconds(10), nullptr);
  ASSERT_TRUE(connected) << connected.error().message;

  // One link, first up: latency-aware sends one copy per payload (no extra copies, no
  // probes). Handed to a worker instead, the copies would lag behind send().
  const std::vector<std::uint8_t> payload(1316, 0x47);
  for (std::uint64_t i = 1; i <= 20; ++i) {
    (*sender)->send({payload, std::chrono::steady_clock::now(), sched::Importance::kNone});
    const nlohmann::json stats = (*sender)->statsJson(false);
    ASSERT_EQ(stats["copies_sent"].get<std::uint64_t>(), i) << "after payload " << i;
    ASSERT_EQ(stats["links"][0]["copies"].get<std::uint64_t>(), i) << "after payload " << i;
  }
}

}  // namespace
}  // namespace bondcast::sender
