// An adaptive link's SRT connection as both ends set it up (common/srt/adaptive_link.h):
// through heavy loss it delivers every message, once, and never stalls.
//
//   sender --[emulator: 20 ms each way, 10% loss out]--> receiver (256-packet buffer)
//
// The receive buffer is small so that a hole nobody repairs stops the link within a
// second. What this caught while the settings were chosen (libsrt 1.5.1):
// - with the receiver announcing its (default) too-late drop, the sender re-sends a lost
//   packet only while no new one waits; once the flow window is full behind the hole,
//   nothing moves again: 40-1040 of the 3000 messages read;
// - with a message TTL shorter than the round trip, a lost drop request is never
//   repeated and the hole stays: 40-340 read.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "common/srt/adaptive_link.h"
#include "common/srt/srt.h"
#include "eval/emulator/emulator.h"

namespace bondcast::srt {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kMessages = 3000;  // 3 s at one per millisecond

std::uint16_t portOf(SRTSOCKET s) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  srt_getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

TEST(AdaptiveLink, DeliversEveryMessageOnceThroughHeavyLossAndNeverStalls) {
  Runtime runtime;
  Socket listener(srt_create_socket());
  const int rcvbuf = 256 * 1500;
  ASSERT_TRUE(setOption(listener.get(), SRTO_RCVBUF, rcvbuf, "receive buffer"));
  auto any = resolve("127.0.0.1", 0, true);
  ASSERT_TRUE(any);
  ASSERT_NE(srt_bind(listener.get(), any->get(), any->len), SRT_ERROR) << srt_getlasterror_str();
  ASSERT_NE(srt_listen(listener.get(), 1), SRT_ERROR);
  // As bondcast's receiver: the adaptive link's options in the listen callback.
  std::atomic<bool> configured{false};
  srt_listen_callback(
      listener.get(),
      [](void* flag, SRTSOCKET ns, int, const sockaddr*, const char*) {
        const bool ok = applyAdaptiveLinkReceiverOptions(ns).ok();
        static_cast<std::atomic<bool>*>(flag)->store(ok);
        return ok ? 0 : -1;
      },
      &configured);

  emu::EmulatorConfig config;
  config.seed = 3;
  auto link = emu::parseLinkSpec("to=127.0.0.1:" + std::to_string(portOf(listener.get())) +
                                 ",delay=20ms,loss=10%");
  ASSERT_TRUE(link) << link.error().message;
  config.links.push_back(*link);
  emu::Emulator emulator(config);
  ASSERT_TRUE(emulator.start());

  Socket sender(srt_create_socket());
  ASSERT_TRUE(applyAdaptiveLinkSenderOptions(sender.get()));
  auto peer = resolve("127.0.0.1", emulator.listenPort(0), false);
  ASSERT_TRUE(peer);
  ASSERT_NE(srt_connect(sender.get(), peer->get(), peer->len), SRT_ERROR) << srt_getlasterror_str();
  Socket accepted(srt_accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(accepted.valid()) << srt_getlasterror_str();
  ASSERT_TRUE(configured) << "the receiver's options could not be set in the listen callback";
  const int read_timeout_ms = 100;
  ASSERT_TRUE(setOption(accepted.get(), SRTO_RCVTIMEO, read_timeout_ms, "read timeout"));

  std::set<int> received;  // the reader's
  std::atomic<int> count{0};
  int duplicates = 0;
  std::atomic<bool> sending{true};
  std::thread reader([&] {
    char buf[1500];
    auto last = Clock::now();
    // Until every message came, or nothing came for 2 s once the sender is done.
    while (static_cast<int>(received.size()) < kMessages && (sending || Clock::now() - last < 2s)) {
      const int n = srt_recvmsg(accepted.get(), buf, sizeof buf);
      if (n >= 4) {
        int index = 0;
        std::memcpy(&index, buf, sizeof index);
        if (index < kMessages) {
          duplicates += !received.insert(index).second;
          count = static_cast<int>(received.size());
        }
        last = Clock::now();
      } else if (srt_getsockstate(accepted.get()) != SRTS_CONNECTED) {
        break;
      }
    }
  });
  // In bursts of 250 every 250 ms: new messages wait while the flow window is full.
  char payload[1316] = {};
  auto next = Clock::now();
  for (int i = 0; i < kMessages; ++i) {
    std::memcpy(payload, &i, sizeof i);
    SRT_MSGCTRL mc = adaptiveMessageControl();
    ASSERT_NE(srt_sendmsg2(sender.get(), payload, sizeof payload, &mc), SRT_ERROR)
        << srt_getlasterror_str();
    if (i % 250 == 249) {
      next += 250ms;
      std::this_thread::sleep_until(next);
    }
  }
  // Then a trickle, so that a loss among the last ones is noticed too (a gap shows when
  // a later packet arrives): counted apart.
  for (int i = kMessages; i < kMessages + 50 && count < kMessages; ++i) {
    std::memcpy(payload, &i, sizeof i);
    SRT_MSGCTRL mc = adaptiveMessageControl();
    ASSERT_NE(srt_sendmsg2(sender.get(), payload, sizeof payload, &mc), SRT_ERROR);
    std::this_thread::sleep_for(20ms);
  }
  sending = false;
  reader.join();
  emulator.stop();
  SRT_TRACEBSTATS st{};
  srt_bistats(sender.get(), &st, 0, 1);
  std::cout << "read " << received.size() << " of " << kMessages << " messages; "
            << st.pktRetransTotal << " re-sent\n";
  EXPECT_EQ(received.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(duplicates, 0);
  EXPECT_GT(st.pktRetransTotal, kMessages / 20) << "the loss was not exercised";
}

}  // namespace
}  // namespace bondcast::srt
