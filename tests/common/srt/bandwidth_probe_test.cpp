// SPDX-License-Identifier: MPL-2.0
// libsrt's capacity estimate (mbpsBandwidth) on an adaptive link that carries a share of a
// stream: packets handed over one at a time, with now and then a burst, as a keyframe or a
// failed link's re-sends make. The adaptive scheduler drains its queue model at this
// estimate, so an estimate that reads the sending rate instead of the link makes a lightly
// used link look queued and late (S2: 10 Mbit/s links read 1 to 4 Mbit/s, and a flapping
// link's copies were not re-sent on them).
//
//   sender --[emulator: 5 Mbit/s, 10 ms one way]--> receiver
//
// libsrt measures the gap at which the packets of a pair (sequence numbers 16k, 16k + 1)
// arrive. Unpatched, a pair the sender itself spaced 10 ms apart counts as much as one
// the link spaced, and with most pairs paced the median reads about 1 Mbit/s; with
// patches/libsrt/0006 only pairs the link spaced count, and it reads the link.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include "common/srt/adaptive_link.h"
#include "common/srt/srt.h"
#include "eval/emulator/emulator.h"

namespace bondcast::srt {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(BandwidthProbe, AnAdaptiveLinkCarryingAPacedShareReadsTheLinksCapacity) {
  constexpr double kLinkMbps = 5;
  constexpr int kCycles = 16;
  Runtime runtime;
  Socket listener(srt_create_socket());
  auto any = resolve("127.0.0.1", 0, true);
  ASSERT_TRUE(any);
  ASSERT_NE(srt_bind(listener.get(), any->get(), any->len), SRT_ERROR) << srt_getlasterror_str();
  ASSERT_NE(srt_listen(listener.get(), 1), SRT_ERROR);
  srt_listen_callback(
      listener.get(),
      [](void*, SRTSOCKET ns, int, const sockaddr*, const char*) {
        return applyAdaptiveLinkReceiverOptions(ns).ok() ? 0 : -1;
      },
      nullptr);

  net::NetworkConfig config;
  config.seed = 5;
  auto link = net::parseLinkSpec("to=127.0.0.1:" + std::to_string(boundPort(listener.get())) +
                                 ",rate=5mbit,delay=10ms,queue=500ms");
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
  const int read_timeout_ms = 100;
  ASSERT_TRUE(setOption(accepted.get(), SRTO_RCVTIMEO, read_timeout_ms, "read timeout"));

  std::atomic<bool> sending{true};
  std::atomic<int> read{0};
  std::thread reader([&] {
    char buf[1500];
    // Until a read times out (100 ms) after the sender is done.
    for (;;) {
      if (srt_recvmsg(accepted.get(), buf, sizeof buf) > 0)
        ++read;
      else if (!sending)
        break;
    }
  });

  // Sixteen cycles of 500 ms: a burst of 32 packets (one or two pairs the link spaces),
  // then one packet every 10 ms (about 1 Mbit/s; three pairs the sender spaced). libsrt
  // averages the last 16 samples near their median: the bursts' must replace the 16
  // defaults it starts with (1000 packets/s, about 12 Mbit/s).
  char payload[1316] = {};
  int sent = 0;
  auto send = [&] {
    std::memcpy(payload, &sent, sizeof sent);
    SRT_MSGCTRL mc = adaptiveMessageControl(std::chrono::seconds(2));
    if (srt_sendmsg2(sender.get(), payload, sizeof payload, &mc) != SRT_ERROR)
      ++sent;
  };
  auto next = Clock::now();
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    for (int i = 0; i < 32; ++i)
      send();
    for (int i = 0; i < 50; ++i) {
      next += 10ms;
      std::this_thread::sleep_until(next);
      send();
    }
  }
  SRT_TRACEBSTATS st{};
  ASSERT_NE(srt_bstats(sender.get(), &st, 0), SRT_ERROR) << srt_getlasterror_str();
  sending = false;
  reader.join();
  emulator.stop();

  std::cout << "link " << kLinkMbps << " Mbit/s, paced share about 1 Mbit/s: libsrt's estimate "
            << st.mbpsBandwidth << " Mbit/s (" << sent << " sent, " << read << " read)\n";
  EXPECT_EQ(sent, kCycles * 82);
  EXPECT_GT(read, sent / 2) << "the link did not carry the stream";
  EXPECT_GT(st.mbpsBandwidth, kLinkMbps * 0.6) << "the estimate reads the sender's pace";
  EXPECT_LT(st.mbpsBandwidth, kLinkMbps * 1.6);
}

}  // namespace
}  // namespace bondcast::srt
