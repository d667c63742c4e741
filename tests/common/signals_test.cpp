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
#include <memory>
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

struct Stoppable {
  std::atomic<int> stops{0};
  void stop() { ++stops; }
};

TEST(StopTarget, ARequestBeforeTheTargetIsSetStopsItWhenItIsSet) {
  StopTarget<Stoppable> target;
  target.request();
  Stoppable s;
  StopTarget<Stoppable>::Scope scope(target, s);
  EXPECT_EQ(s.stops, 1);
  EXPECT_TRUE(target.requested());
}

TEST(StopTarget, ARequestAfterTheScopeEndedReachesNoTarget) {
  StopTarget<Stoppable> target;
  Stoppable s;
  { StopTarget<Stoppable>::Scope scope(target, s); }
  target.request();
  EXPECT_EQ(s.stops, 0);
}

// Requests from another thread while targets come and go: each reaches a live target or
// none (under ThreadSanitizer, `tools/run test --sanitize thread`, a request that reached
// a target being destroyed is reported).
TEST(StopTarget, RequestsFromAnotherThreadNeverReachATargetThatIsGone) {
  StopTarget<Stoppable> target;
  std::atomic<bool> done{false};
  std::thread requester([&] {
    while (!done)
      target.request();
  });
  while (!target.requested()) {
    std::this_thread::yield();
  }
  int stopped = 0;
  for (int i = 0; i < 2000; ++i) {
    auto s = std::make_unique<Stoppable>();
    { StopTarget<Stoppable>::Scope scope(target, *s); }
    stopped += s->stops > 0 ? 1 : 0;
  }
  done = true;
  requester.join();
  EXPECT_EQ(stopped, 2000);  // each target was stopped while it lived
}

}  // namespace
}  // namespace bondcast
