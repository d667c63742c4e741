// SPDX-License-Identifier: MPL-2.0
// Data races ThreadSanitizer found in libsrt 1.5.1 while it ran bondcast's tests
// (patches/libsrt/0012). What these tests check in every build is behaviour (a closed
// socket is freed); the races themselves show only under `tools/run test --sanitize
// thread`, where a report fails the test.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "common/srt/srt.h"

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

}  // namespace
}  // namespace bondcast::srt
