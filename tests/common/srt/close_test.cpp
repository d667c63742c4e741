// SPDX-License-Identifier: MPL-2.0
// srt_close of a group whose members are delivering returns (patches/libsrt/0013).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <optional>
#include <thread>

#include "common/srt/srt.h"
#include "tests/support/group_listener.h"

namespace bondcast::srt {
namespace {

using Clock = std::chrono::steady_clock;

// patches/libsrt/0013. A group member's TSBPD thread lets go of its receive lock while it
// tells the group a packet is readable; srt_close in that moment woke nobody, and the
// thread then waited for good while srt_close joined it (seen as a `bondcast recv` that
// never ended after SIGTERM, closing a broadcast stream's group). Here the receiving side
// closes its group again and again while packets arrive; every close must return.
TEST(SrtClose, AGroupClosedWhileItsMembersDeliverCloses) {
#if defined(__SANITIZE_THREAD__)
  // The sending side is a libsrt broadcast group in this process, and libsrt 1.5.1's group
  // send and close code has data races of its own that this test does not look for
  // (sendBroadcast against a member's broken-connection handling, a member's group pointer
  // read unlocked by the receive worker as libsrt's pre-check).
  GTEST_SKIP() << "not under ThreadSanitizer: libsrt's group sender races of its own here";
#endif
  Runtime runtime;
  const int latency_ms = 20;  // packets are delivered (TSBPD) soon after they arrive
  constexpr int kRounds = 100;
  constexpr auto kCloseBound = std::chrono::seconds(5);
  int closed = 0;
  for (int round = 0; round < kRounds; ++round) {
    // A listener of its own each round: nothing left of the last round's connections
    // (a member still connecting when its group was closed) reaches this one's accept.
    Socket listener(srt_create_socket());
    ASSERT_NE(srt_setsockflag(listener.get(), SRTO_LATENCY, &latency_ms, sizeof latency_ms),
              SRT_ERROR);
    std::optional<SockAddr> to;
    ASSERT_NO_FATAL_FAILURE(test::listenForGroups(listener.get(), 8, to));
    Socket sender(srt_create_group(SRT_GTYPE_BROADCAST));
    ASSERT_TRUE(sender.valid()) << srt_getlasterror_str();
    ASSERT_NE(srt_setsockflag(sender.get(), SRTO_LATENCY, &latency_ms, sizeof latency_ms),
              SRT_ERROR);
    SRT_SOCKGROUPCONFIG links[2] = {srt_prepare_endpoint(nullptr, to->get(), to->len),
                                    srt_prepare_endpoint(nullptr, to->get(), to->len)};
    ASSERT_NE(srt_connect_group(sender.get(), links, 2), SRT_ERROR) << srt_getlasterror_str();
    sockaddr_storage from{};
    int len = sizeof from;
    const SRTSOCKET group = srt_accept(listener.get(), reinterpret_cast<sockaddr*>(&from), &len);
    ASSERT_NE(group, SRT_INVALID_SOCK) << srt_getlasterror_str();
    // The receiving side is read as bondcast's receiver reads it while packets flow,
    // then closed at a moment that moves with the round.
    std::atomic<bool> sending{true};
    std::thread source([&] {
      char payload[1316] = {};
      while (sending) {
        SRT_MSGCTRL mc = srt_msgctrl_default;
        srt_sendmsg2(sender.get(), payload, sizeof payload, &mc);
        std::this_thread::sleep_for(std::chrono::microseconds(500));  // pacing a source
      }
    });
    const bool no = false;
    srt_setsockflag(group, SRTO_RCVSYN, &no, sizeof no);
    char buf[1500];
    const auto read_for = std::chrono::milliseconds(40 + (round * 7) % 60);
    for (const auto end = Clock::now() + read_for; Clock::now() < end;) {
      while (srt_recvmsg(group, buf, sizeof buf) > 0) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a reader's poll interval
    }
    // srt_close on a thread of its own, so that a close that never returns fails the test
    // rather than hanging it.
    std::promise<int> done;
    auto result = done.get_future();
    std::thread closer([group, &done] { done.set_value(srt_close(group)); });
    if (result.wait_for(kCloseBound) != std::future_status::ready) {
      ADD_FAILURE() << "srt_close of the receiving group did not return within "
                    << kCloseBound.count() << " s (round " << round << ")";
      std::cout << std::flush;
      std::fflush(nullptr);
      std::_Exit(1);  // the closing thread cannot be joined
    }
    closer.join();
    EXPECT_EQ(result.get(), 0) << srt_getlasterror_str();
    ++closed;
    sending = false;
    source.join();
  }
  EXPECT_EQ(closed, kRounds);
}

}  // namespace
}  // namespace bondcast::srt
