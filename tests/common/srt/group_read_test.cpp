// SPDX-License-Identifier: MPL-2.0
// A receiving group reads every packet its members hold, also when no new one follows
// (patches/libsrt/0017) and when the member holding it has not yet said it is due (0018).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/srt/srt.h"
#include "tests/support/filter_relay.h"
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
        if (!reading) {
          return;
        }
        continue;  // a read timed out (3 s)
      }
      int i = -1;
      std::memcpy(&i, buf, sizeof i);
      if (i < 0) {
        return;  // the last message
      }
      if (i > next) {
        skipped += i - next;
      }
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
    while (highest < sent - 1 && Clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);  // polling the reader's progress
    }
    if (highest < sent - 1) {
      stalls.push_back("pause " + std::to_string(p) + ": the last " +
                       std::to_string(sent - 1 - highest) + " of " + std::to_string(sent) +
                       " unread after 1 s");
    }
  }
  reading = false;
  const int last = -1;
  std::memcpy(payload, &last, sizeof last);
  SRT_MSGCTRL mc = srt_msgctrl_default;
  srt_sendmsg2(sender.get(), payload, sizeof payload, &mc);  // wakes the reader
  reader.join();
  EXPECT_TRUE(stalls.empty()) << stalls.size() << " of " << kPauses
                              << " pauses left messages unread, the first: " << stalls.front();
  // Messages skipped, not left unread, are what the next test is about (patch 0018;
  // before it, 1 to 7 were skipped here in about 3 of 50 runs): reported only.
  std::cout << "messages sent " << sent << ", skipped " << skipped << "\n";
}

// libsrt 1.5.1: a blocking read of a group waits until some member says a packet is due
// (its TSBPD thread raises read-readiness at the packet's play time), then reads the
// lowest due packet among the members that said so. A member that holds a due packet but
// has not said so yet was skipped, and its packet was dropped as soon as a later one was
// read from another member: lost, though it was in the group's hands in time. Its
// thread is late when the machine is busy (seen 0.8 ms late in three members at once;
// 1-8 messages lost in about one run in 25 of a backup group streaming while members
// join, as in tests/common/srt/data_race_test.cpp), and whenever the
// packet reached an empty buffer: the thread then waits for the next acknowledgement
// (every 10 ms) before it looks. The group looked for such members, but with the time
// zero, so it never found one (patches/libsrt/0018 asks at the current time).
//
// Here a broadcast group of two members, each through a relay. For one message in every
// 40, member A gets it just before its play time, into an empty buffer (A is held up for
// the messages just behind it), and member B never gets it; B's next message is due 3 ms
// later. Every message must be read.
constexpr int kTrials = 12;  // per stream

struct TrialsRead {
  int valid = 0;                 // trials the relay let go in time
  std::vector<int> trials_lost;  // messages only A held, never read, in valid trials
  std::vector<int> others_lost;  // every other message never read
  std::vector<int> read_twice;
};

// One stream of kTrials trials.
void streamTrials(TrialsRead& out) {
  constexpr int kLatencyMs = 120;
  constexpr auto kPacing = 3ms;
  constexpr int kFirstTrial = 100, kTrialEvery = 40, kHeldUp = 10;
  const int total = kFirstTrial + kTrialEvery * kTrials;
  auto trialAt = [&](int i) {  // the trial whose message is i, or whose A hold-up covers i
    return i >= kFirstTrial && i < total ? (i - kFirstTrial) / kTrialEvery : -1;
  };
  auto isTrialMessage = [&](int i) {
    return trialAt(i) >= 0 && (i - kFirstTrial) % kTrialEvery == 0;
  };

  Socket listener(srt_create_socket());
  ASSERT_NE(srt_setsockflag(listener.get(), SRTO_LATENCY, &kLatencyMs, sizeof kLatencyMs),
            SRT_ERROR);
  std::optional<SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenForGroups(listener.get(), 4, to));
  const std::uint16_t listen_port = boundPort(listener.get());
  // A: the trial's message arrives 1 ms before its play time (the time it reached the
  // relay plus the latency, on loopback); the 10 behind it never arrive.
  test::FilterRelay a(listen_port, [&](const std::uint8_t* d, std::size_t n) {
    const auto i = test::messageIndex(d, n);
    if (!i || trialAt(*i) < 0) {
      return test::Verdict::pass();
    }
    const int offset = (*i - kFirstTrial) % kTrialEvery;
    if (offset == 0) {
      return test::Verdict::holdFor(std::chrono::milliseconds(kLatencyMs) - 1ms);
    }
    return offset <= kHeldUp ? test::Verdict::drop() : test::Verdict::pass();
  });
  // B: never gets the trial's message, resent or not.
  test::FilterRelay b(listen_port, [&](const std::uint8_t* d, std::size_t n) {
    const auto i = test::messageIndex(d, n);
    return i && isTrialMessage(*i) ? test::Verdict::drop() : test::Verdict::pass();
  });

  Socket sender(srt_create_group(SRT_GTYPE_BROADCAST));
  ASSERT_TRUE(sender.valid()) << srt_getlasterror_str();
  ASSERT_NE(srt_setsockflag(sender.get(), SRTO_LATENCY, &kLatencyMs, sizeof kLatencyMs), SRT_ERROR);
  auto ra = resolve("127.0.0.1", a.port(), false);
  auto rb = resolve("127.0.0.1", b.port(), false);
  ASSERT_TRUE(ra && rb);
  SRT_SOCKGROUPCONFIG members[2] = {srt_prepare_endpoint(nullptr, ra->get(), ra->len),
                                    srt_prepare_endpoint(nullptr, rb->get(), rb->len)};
  ASSERT_NE(srt_connect_group(sender.get(), members, 2), SRT_ERROR) << srt_getlasterror_str();
  Socket group(srt_accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(group.valid()) << srt_getlasterror_str();
  // Both members connected at both ends before the stream starts.
  auto connectedMembers = [](SRTSOCKET g) {
    SRT_SOCKGROUPDATA data[4];
    std::size_t n = 4;
    if (srt_group_data(g, data, &n) == SRT_ERROR) {
      return 0;
    }
    int connected = 0;
    for (std::size_t k = 0; k < n; ++k) {
      connected += data[k].sockstate == SRTS_CONNECTED;
    }
    return connected;
  };
  for (const auto deadline = Clock::now() + 5s;
       (connectedMembers(sender.get()) < 2 || connectedMembers(group.get()) < 2) &&
       Clock::now() < deadline;) {
    std::this_thread::sleep_for(5ms);  // polling the groups' state
  }
  ASSERT_EQ(connectedMembers(sender.get()), 2);
  ASSERT_EQ(connectedMembers(group.get()), 2);
  const int read_timeout_ms = 1000;  // longer than the latency: the stream's end
  ASSERT_NE(srt_setsockflag(group.get(), SRTO_RCVTIMEO, &read_timeout_ms, sizeof read_timeout_ms),
            SRT_ERROR);

  std::vector<int> counts(total, 0);  // the reader's, then the test's
  std::thread reader([&] {
    char buf[1500];
    for (;;) {
      SRT_MSGCTRL mc = srt_msgctrl_default;
      const int n = srt_recvmsg2(group.get(), buf, sizeof buf, &mc);
      if (n != 1316) {
        return;  // nothing for a second: the stream has ended
      }
      int i = -1;
      std::memcpy(&i, buf, sizeof i);
      if (i >= 0 && i < total) {
        ++counts[i];
      }
      if (i == total - 1) {
        return;
      }
    }
  });
  char payload[1316] = {};
  for (int i = 0; i < total; ++i) {
    std::memcpy(payload, &i, sizeof i);
    SRT_MSGCTRL mc = srt_msgctrl_default;
    if (srt_sendmsg2(sender.get(), payload, sizeof payload, &mc) != sizeof payload) {
      ADD_FAILURE() << "message " << i << " not sent: " << srt_getlasterror_str();
      break;  // the reader ends a second after the last message it gets
    }
    std::this_thread::sleep_for(kPacing);  // pacing a source
  }
  reader.join();

  // A trial whose message the relay let go more than 2 ms after its time (this machine
  // stopped the relay's thread: seen 10-60 ms on the project's VM) reached A after B's
  // next message was due: it tests the machine, not the group. It does not count.
  std::set<int> void_trials;
  for (const auto& r : a.released()) {
    if (r.index && isTrialMessage(*r.index) && r.late > 2ms) {
      void_trials.insert(*r.index);
    }
  }
  for (int i = 0; i < total; ++i) {
    if (counts[i] == 0 && !void_trials.contains(i)) {
      (isTrialMessage(i) ? out.trials_lost : out.others_lost).push_back(i);
    }
    if (counts[i] > 1) {
      out.read_twice.push_back(i);
    }
  }
  out.valid = kTrials - static_cast<int>(void_trials.size());
  std::cout << "messages sent " << total << ", trial messages never read " << out.trials_lost.size()
            << " of " << out.valid << " (" << void_trials.size()
            << " let go late by the relay), others never read " << out.others_lost.size() << "\n";
}

// A stream whose relay let most of its trials go late ran on a machine too busy to test
// (the other threads of the stream were held up too: with 12 busy loops beside it, a trial
// the relay let go in time was lost in such a stream); it does not count, and another
// runs, up to four, until one counts (beside an ASan rebuild, one stream had 10 of 12
// trials let go late).
TEST(SrtGroupRead, APacketOnlyOneMemberHoldsIsReadThoughThatMemberHasNotSaidItIsDue) {
  Runtime runtime;
  constexpr int kStreams = 4;
  bool counted = false;
  for (int stream = 0; stream < kStreams && !counted; ++stream) {
    TrialsRead r;
    ASSERT_NO_FATAL_FAILURE(streamTrials(r));
    EXPECT_TRUE(r.read_twice.empty()) << "message " << r.read_twice.front() << " read twice";
    counted = r.valid >= kTrials / 2;
    if (!counted) {
      continue;
    }
    EXPECT_TRUE(r.trials_lost.empty())
        << r.trials_lost.size() << " of " << r.valid
        << " messages only member A held were never read, the first " << r.trials_lost.front();
    EXPECT_TRUE(r.others_lost.empty())
        << r.others_lost.size() << " other messages never read, the first "
        << r.others_lost.front();
  }
  EXPECT_TRUE(counted) << "the relay let most trials go late in each of " << kStreams
                       << " streams: this machine was too busy to test";
}

}  // namespace
}  // namespace bondcast::srt
