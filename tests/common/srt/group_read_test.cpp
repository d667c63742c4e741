// SPDX-License-Identifier: MPL-2.0
// A receiving group reads every packet its members hold, also when no new one follows
// (patches/libsrt/0017).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/srt/srt.h"
#include "tests/support/group_listener.h"

namespace bondcast::srt {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// libsrt 1.5.1: a member's TSBPD thread, once it has signalled its first packet as ready,
// waits until something wakes it (a read from it, new data). When the group read that
// packet from another member and dropped it from this one, nothing did, and a read's
// wake-up that came while the thread was telling the group was lost: the packets behind
// were never signalled, and a reader waiting on the group's readiness never got them
// until more data arrived. Seen in a backup group after a member of higher weight joined
// mid-stream (both members then carry the stream): the last 160-180 messages before the
// source stopped (about 85 ms) were never read, in 3 of 20 runs. Here the stream pauses
// again and again, and every message sent before a pause must be read within a second.
TEST(SrtGroupRead, PacketsBeforeAPauseAreReadWhenAnotherMemberCarriedThemToo) {
  Runtime runtime;
  Socket listener(srt_create_socket());
  std::optional<SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenForGroups(listener.get(), 4, to));
  Socket sender;
  Socket group;
  ASSERT_NO_FATAL_FAILURE(test::connectBackupGroup(listener.get(), *to, 1, sender, group));
  // One read waits as long as a pause: a group whose members never signal their packets
  // as ready never wakes it (bondcast's receiver waits on the group's readiness the same way).
  const int read_timeout_ms = 3000;
  ASSERT_NE(srt_setsockflag(group.get(), SRTO_RCVTIMEO, &read_timeout_ms, sizeof read_timeout_ms),
            SRT_ERROR);

  std::atomic<bool> reading{true};
  std::atomic<int> highest{-1};  // the highest message index read
  std::atomic<int> skipped{0};   // messages never read: the reader saw a later one first
  std::thread reader([&] {
    char buf[1500];
    int next = 0;
    for (;;) {
      SRT_MSGCTRL mc = srt_msgctrl_default;
      const int n = srt_recvmsg2(group.get(), buf, sizeof buf, &mc);
      if (n != 1316) {
        if (!reading)
          return;
        continue;  // a read timed out (3 s)
      }
      int i = -1;
      std::memcpy(&i, buf, sizeof i);
      if (i < 0)
        return;  // the last message
      if (i > next)
        skipped += i - next;
      next = i + 1;
      highest = i;
    }
  });

  char payload[1316] = {};
  int sent = 0;
  auto sendFor = [&](std::chrono::milliseconds how_long) {
    for (const auto end = Clock::now() + how_long; Clock::now() < end; ++sent) {
      std::memcpy(payload, &sent, sizeof sent);
      SRT_MSGCTRL mc = srt_msgctrl_default;
      ASSERT_EQ(srt_sendmsg2(sender.get(), payload, sizeof payload, &mc),
                static_cast<int>(sizeof payload))
          << srt_getlasterror_str();
      std::this_thread::sleep_for(500us);  // pacing a source
    }
  };
  ASSERT_NO_FATAL_FAILURE(sendFor(200ms));
  // A member of higher weight joins: libsrt activates it, and both carry the stream.
  SRT_SOCKGROUPCONFIG second = srt_prepare_endpoint(nullptr, to->get(), to->len);
  second.weight = 10;
  ASSERT_NE(srt_connect_group(sender.get(), &second, 1), SRT_ERROR) << srt_getlasterror_str();

  constexpr int kPauses = 20;
  std::vector<std::string> stalls;
  for (int p = 0; p < kPauses; ++p) {
    ASSERT_NO_FATAL_FAILURE(sendFor(150ms));
    // The latency is 120 ms: everything sent must be read well within a second.
    const auto deadline = Clock::now() + 1s;
    while (highest < sent - 1 && Clock::now() < deadline)
      std::this_thread::sleep_for(5ms);  // polling the reader's progress
    if (highest < sent - 1)
      stalls.push_back("pause " + std::to_string(p) + ": the last " +
                       std::to_string(sent - 1 - highest) + " of " + std::to_string(sent) +
                       " unread after 1 s");
  }
  reading = false;
  const int last = -1;
  std::memcpy(payload, &last, sizeof last);
  SRT_MSGCTRL mc = srt_msgctrl_default;
  srt_sendmsg2(sender.get(), payload, sizeof payload, &mc);  // wakes the reader
  reader.join();
  EXPECT_TRUE(stalls.empty()) << stalls.size() << " of " << kPauses
                              << " pauses left messages unread, the first: " << stalls.front();
  // libsrt 1.5.1's backup group can lose a few messages as it activates the joining
  // member ("sendBackupRexmit: OVERRIDE attempt ... DENIED; skip N pkts" in its log): seen
  // in 3 of about 50 runs, 1 to 7 messages. Not what this test is about: reported only.
  std::cout << "messages sent " << sent << ", skipped " << skipped << "\n";
}

}  // namespace
}  // namespace bondcast::srt
