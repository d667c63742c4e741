// SPDX-License-Identifier: MPL-2.0
// Data races ThreadSanitizer found in libsrt 1.5.1 while it ran bondcast's tests
// (patches/libsrt/0012). What these tests check in every build is behaviour (a closed
// socket is freed, a broken connection's last packets are read); the races themselves
// show only under `tools/run test --sanitize thread`, where a report fails the test.
#include <gtest/gtest.h>

#include <array>
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

// Waits (up to `bound`) until libsrt's garbage collector has freed socket `s`.
bool freedWithin(SRTSOCKET s, std::chrono::seconds bound) {
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    if (srt_getsockstate(s) == SRTS_NONEXIST)
      return true;
    std::this_thread::sleep_for(20ms);  // polling libsrt's state, not a wait on a thread
  }
  return false;
}

// srt_close() unlocked the socket's mutex after it had let go of the global lock, under
// which the collector later frees the socket and destroys that mutex: nothing ordered the
// two when the closing thread touched libsrt no more (seen as bondcast's receiver closed
// an ended link). Now the mutex is unlocked under the global lock. Each socket is closed
// by a thread of its own that then ends, and the test waits for the collector without
// synchronising with those threads, as the receiver did.
TEST(SrtDataRace, ASocketIsUnlockedBeforeTheCollectorFreesIt) {
  Runtime runtime;
  constexpr int kSockets = 4;
  std::vector<SRTSOCKET> sockets;
  for (int i = 0; i < kSockets; ++i) {
    const SRTSOCKET s = srt_create_socket();
    ASSERT_NE(s, SRT_INVALID_SOCK) << srt_getlasterror_str();
    sockets.push_back(s);
  }
  std::vector<int> closed(kSockets, -1);  // each thread's own slot, read after the joins
  std::vector<std::thread> closers;
  for (int i = 0; i < kSockets; ++i)
    closers.emplace_back([&closed, &sockets, i] { closed[i] = srt_close(sockets[i]); });
  // The collector frees a socket a second or more after it closed.
  std::vector<bool> freed;
  for (SRTSOCKET s : sockets)
    freed.push_back(freedWithin(s, 10s));
  for (auto& t : closers)
    t.join();
  for (int i = 0; i < kSockets; ++i) {
    EXPECT_EQ(closed[i], 0) << "srt_close of socket " << i << " failed";
    EXPECT_TRUE(freed[i]) << "socket " << i << " was never freed";
  }
}

// Two races of a backup group, each seen under ThreadSanitizer as `bondcast send --mode
// backup` streamed into `bondcast recv`:
// - CUDT::open, as srt_connect_group opens a new member, cleared the member's backup
//   timestamps, while the group's sending thread, which already sees the member, writes
//   them under the group's lock (0012: the constructor's zeros now stand);
// - a standby member's keepalive set its states in the receiving group without the
//   group's lock, while srt_group_data (bondcast's statistics) reads them (0015).
// Here members join a backup group one after another while it sends and while the
// receiving side's statistics are read; every message must arrive once.
TEST(SrtDataRace, MembersJoinABackupGroupWhileItSends) {
  Runtime runtime;
  Socket listener(srt_create_socket());
  std::optional<SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenForGroups(listener.get(), 8, to));
  Socket sender;
  Socket group;
  ASSERT_NO_FATAL_FAILURE(test::connectBackupGroup(listener.get(), *to, 0, sender, group));
  const int read_timeout_ms = 1000;  // longer than the latency (120 ms)
  ASSERT_NE(srt_setsockflag(group.get(), SRTO_RCVTIMEO, &read_timeout_ms, sizeof read_timeout_ms),
            SRT_ERROR);

  std::atomic<bool> sending{true};
  std::atomic<int> sent{0};
  std::thread source([&] {
    char payload[1316] = {};
    for (int i = 0; sending; ++i) {
      std::memcpy(payload, &i, sizeof i);
      SRT_MSGCTRL mc = srt_msgctrl_default;
      if (srt_sendmsg2(sender.get(), payload, sizeof payload, &mc) != SRT_ERROR)
        sent = i + 1;
      else
        break;
      std::this_thread::sleep_for(500us);  // pacing a source
    }
  });
  std::vector<int> counts;  // how often each message was read, by index
  std::thread reader([&] {
    char buf[1500];
    for (;;) {
      SRT_MSGCTRL mc = srt_msgctrl_default;
      const int n = srt_recvmsg2(group.get(), buf, sizeof buf, &mc);
      if (n == 1316) {
        int i = -1;
        std::memcpy(&i, buf, sizeof i);
        if (i >= 0 && i < 1000000) {
          if (static_cast<std::size_t>(i) >= counts.size())
            counts.resize(i + 1, 0);
          ++counts[i];
        }
      } else if (!sending && srt_getlasterror(nullptr) == SRT_EASYNCRCV) {
        return;  // a read timed out (1 s, so keepalives flow) after the source stopped
      } else if (n == SRT_ERROR && srt_getlasterror(nullptr) != SRT_EASYNCRCV) {
        return;
      }
    }
  });

  // Read until the reader is done: once the source stops, every member idles and keepalives.
  std::atomic<bool> reading{true};
  std::atomic<int> polls{0};
  std::thread statistics([&] {
    std::array<SRT_SOCKGROUPDATA, 16> data{};
    while (reading) {
      std::size_t n = data.size();
      if (srt_group_data(group.get(), data.data(), &n) != SRT_ERROR)
        ++polls;
      std::this_thread::sleep_for(1ms);  // a statistics reader's pace
    }
  });

  constexpr int kJoins = 12;
  int joined = 0;
  for (int j = 0; j < kJoins; ++j) {
    SRT_SOCKGROUPCONFIG next = srt_prepare_endpoint(nullptr, to->get(), to->len);
    if (srt_connect_group(sender.get(), &next, 1) != SRT_ERROR)
      ++joined;
    std::this_thread::sleep_for(50ms);  // the group sends on between the joins
  }
  std::this_thread::sleep_for(300ms);  // and after them
  sending = false;
  source.join();
  reader.join();
  reading = false;
  statistics.join();

  EXPECT_EQ(joined, kJoins) << srt_getlasterror_str();
  EXPECT_GT(polls.load(), 0) << "the receiving group's statistics were never read";
  ASSERT_GT(sent.load(), 100) << "the source stopped early: " << srt_getlasterror_str();
  int missing = 0;
  int repeated = 0;
  for (int i = 0; i < sent; ++i) {
    const int c = static_cast<std::size_t>(i) < counts.size() ? counts[i] : 0;
    missing += c == 0;
    repeated += c > 1;
  }
  // Before patch 0018 a few messages (1 to 8) were lost in about one run in 25 of this
  // scenario on a busy machine: the blocking group read skipped due packets whose member had not
  // yet said they were due (tests/common/srt/group_read_test.cpp). Before patch 0017 the stream's
  // last messages were also left unread (99-161 of about 1200 in 7 of 18 runs under
  // ThreadSanitizer). Neither is what this test is about, and a sanitizer can slow a packet past
  // the latency: losses are reported, and they must stay few.
  std::cout << "messages sent " << sent << ", never read " << missing << "\n";
  EXPECT_LT(missing, sent / 10) << "of " << sent << " messages sent";
  EXPECT_EQ(repeated, 0) << "of " << sent << " messages sent";
}

// The receive worker, at each data packet, asked whether the connection's TSBPD thread
// runs without the lock under which srt_close joins that thread (patches/libsrt/0014;
// seen under ThreadSanitizer closing a receiving group while packets arrived). Here a
// receiving connection is closed while its sender keeps sending, round after round, at a
// moment that moves with the round; each close must succeed.
TEST(SrtDataRace, ASocketClosedWhilePacketsArriveJoinsItsTsbpdThreadUnderItsLock) {
  Runtime runtime;
  const int latency_ms = 20;  // packets are delivered (TSBPD) soon after they arrive
  constexpr int kRounds = 40;
  Socket listener(srt_create_socket());
  ASSERT_NE(srt_setsockflag(listener.get(), SRTO_LATENCY, &latency_ms, sizeof latency_ms),
            SRT_ERROR);
  std::optional<SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenOnLoopback(listener.get(), 8, to));
  int closed = 0;
  int read_before_close = 0;  // rounds whose receiver had read packets when it was closed
  for (int round = 0; round < kRounds; ++round) {
    Socket sender(srt_create_socket());
    ASSERT_NE(srt_setsockflag(sender.get(), SRTO_LATENCY, &latency_ms, sizeof latency_ms),
              SRT_ERROR);
    ASSERT_NE(srt_connect(sender.get(), to->get(), to->len), SRT_ERROR) << srt_getlasterror_str();
    Socket receiver(srt_accept(listener.get(), nullptr, nullptr));
    ASSERT_TRUE(receiver.valid()) << srt_getlasterror_str();
    std::atomic<bool> sending{true};
    std::thread source([&] {
      char payload[1316] = {};
      while (sending) {
        srt_sendmsg(sender.get(), payload, sizeof payload, -1, 0);
        std::this_thread::sleep_for(200us);  // pacing a source
      }
    });
    const bool no = false;
    ASSERT_NE(srt_setsockflag(receiver.get(), SRTO_RCVSYN, &no, sizeof no), SRT_ERROR);
    char buf[1500];
    int read = 0;
    const auto read_for = std::chrono::milliseconds(30 + (round * 7) % 40);
    for (const auto end = Clock::now() + read_for; Clock::now() < end;) {
      while (srt_recvmsg(receiver.get(), buf, sizeof buf) > 0)
        ++read;
      std::this_thread::sleep_for(1ms);  // a reader's poll interval
    }
    read_before_close += read > 0;
    const int rc = srt_close(receiver.release());
    EXPECT_EQ(rc, 0) << "round " << round << ": " << srt_getlasterror_str();
    closed += rc == 0;
    sending = false;
    source.join();
  }
  EXPECT_EQ(closed, kRounds);
  // Packets must have been arriving at the closes for the test to look at anything.
  EXPECT_GE(read_before_close, kRounds / 2);
}

// The collector looks into the receive buffer of every broken connection, each second,
// to let one that still holds packets live on until they are read; it did so without
// the buffer's lock while the application (or a group's reader) read from that buffer
// under it (seen in `bondcast recv` under ThreadSanitizer as a broadcast member broke).
// Here the sender stops while the receiver holds two seconds of packets, and the
// receiver reads them slowly, one every 10 ms, over several of the collector's passes.
// Every packet must still be read after the break.
TEST(SrtDataRace, TheCollectorLocksTheBufferOfABrokenConnectionItLooksInto) {
  Runtime runtime;
  const int latency_ms = 2000;  // what arrived waits this long: the buffer is full at the break
  constexpr int kMessages = 250;
  Socket listener(srt_create_socket());
  ASSERT_NE(srt_setsockflag(listener.get(), SRTO_RCVLATENCY, &latency_ms, sizeof latency_ms),
            SRT_ERROR);
  std::optional<SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenOnLoopback(listener.get(), 1, to));
  Socket sender(srt_create_socket());
  ASSERT_NE(srt_setsockflag(sender.get(), SRTO_PEERLATENCY, &latency_ms, sizeof latency_ms),
            SRT_ERROR);
  ASSERT_NE(srt_connect(sender.get(), to->get(), to->len), SRT_ERROR) << srt_getlasterror_str();
  Socket receiver(srt_accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(receiver.valid()) << srt_getlasterror_str();
  const bool no = false;
  ASSERT_NE(srt_setsockflag(receiver.get(), SRTO_RCVSYN, &no, sizeof no), SRT_ERROR);

  char payload[1316] = {};
  for (int i = 0; i < kMessages; ++i) {
    std::memcpy(payload, &i, sizeof i);
    ASSERT_EQ(srt_sendmsg(sender.get(), payload, sizeof payload, -1, 0),
              static_cast<int>(sizeof payload))
        << srt_getlasterror_str();
    std::this_thread::sleep_for(1ms);  // pacing a source
  }
  // Everything has arrived (none of it is due yet) before the sender closes.
  const auto arrived_by = Clock::now() + 10s;
  SRT_TRACEBSTATS stats{};
  while (Clock::now() < arrived_by) {
    ASSERT_NE(srt_bstats(receiver.get(), &stats, 0), SRT_ERROR) << srt_getlasterror_str();
    if (stats.pktRecvUniqueTotal >= kMessages)
      break;
    std::this_thread::sleep_for(10ms);  // polling libsrt's statistics
  }
  ASSERT_EQ(stats.pktRecvUniqueTotal, kMessages) << "not every message arrived before the close";
  sender.reset();  // srt_close: the receiver's connection breaks with its buffer full

  // libsrt fails a broken connection's reads until its packets' play time comes, and then
  // hands them out (bondcast's receiver reads on for a latency after a break). One read,
  // then a pause: the buffer is written (a read) and left alone while the collector, once
  // a second, looks into it.
  std::vector<bool> seen(kMessages, false);
  int read = 0;
  std::string last_error;
  const auto deadline = Clock::now() + std::chrono::milliseconds(latency_ms) + 15s;
  char buf[1500];
  while (read < kMessages && Clock::now() < deadline) {
    const int n = srt_recvmsg(receiver.get(), buf, sizeof buf);
    if (n == static_cast<int>(sizeof payload)) {
      int i = -1;
      std::memcpy(&i, buf, sizeof i);
      ASSERT_TRUE(i >= 0 && i < kMessages && !seen[i]) << "message " << i << " unexpected";
      seen[i] = true;
      ++read;
    } else if (n == SRT_ERROR) {
      last_error = srt_getlasterror_str();
    }
    std::this_thread::sleep_for(10ms);  // a slow output's pace
  }
  EXPECT_EQ(read, kMessages) << "the broken connection's last packets were not all read (last "
                             << "error: " << last_error << ", socket state "
                             << srt_getsockstate(receiver.get()) << ")";
}

}  // namespace
}  // namespace bondcast::srt
