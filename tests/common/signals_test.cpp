// SPDX-License-Identifier: MPL-2.0
// installStopSignals (common/signals.h): the first SIGTERM goes to the handler, a second
// one ends the process at once with 128 + SIGTERM whatever the first is waiting for.
#include "common/signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace bondcast {
namespace {

using namespace std::chrono_literals;

std::atomic<int> handled{0};

// Runs in the death test's child process.
void firstSigtermHandledSecondEnds() {
  installStopSignals([](int) { ++handled; });
  ::kill(::getpid(), SIGTERM);
  // Two signals sent at once may merge into one: send the second after the first is handled.
  for (int i = 0; i < 500 && handled == 0; ++i)
    std::this_thread::sleep_for(10ms);
  if (handled != 1)
    std::exit(3);
  ::kill(::getpid(), SIGTERM);
  for (int i = 0; i < 500; ++i)  // what the first signal's orderly end might wait on
    std::this_thread::sleep_for(10ms);
  std::exit(0);  // the second signal did not end it
}

TEST(StopSignalsDeathTest, ASecondSigtermEndsTheProcessAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(firstSigtermHandledSecondEnds(), ::testing::ExitedWithCode(128 + SIGTERM),
              "second SIGTERM");
}

}  // namespace
}  // namespace bondcast
