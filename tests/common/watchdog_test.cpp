// SPDX-License-Identifier: MPL-2.0
// runWithWatchdog (common/watchdog.h), which ends a command-line process whose libsrt
// shutdown deadlocks (srt::Runtime): the watchdog fires while the work is stuck, and
// never when the work returns in time.
#include "common/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace bondcast {
namespace {

using namespace std::chrono_literals;

TEST(Watchdog, FiresWhileTheWorkIsStuckAndTheWorkStillEnds) {
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  int fired = 0;
  runWithWatchdog(
      [&] {
        // Stuck until the watchdog releases it: no other way out.
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return released; });
      },
      50ms,
      [&] {
        std::lock_guard lock(mu);
        ++fired;
        released = true;
        cv.notify_all();
      });
  EXPECT_EQ(fired, 1);
}

TEST(Watchdog, StaysQuietWhenTheWorkReturnsInTime) {
  std::atomic<int> fired{0};
  int ran = 0;
  runWithWatchdog([&] { ++ran; }, 10s, [&] { ++fired; });
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(fired.load(), 0);
}

}  // namespace
}  // namespace bondcast
