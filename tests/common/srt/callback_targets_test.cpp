// SPDX-License-Identifier: MPL-2.0
// srt::CallbackTargets: a libsrt callback reaches its object only while the object is in
// the table, and removing an object waits for a callback running on it. (The crash it
// prevents, a refused group sender destroyed before libsrt reported the refusal, shows
// end to end in tests/e2e/ending_test.cpp's Refused tests on a loaded machine.)
#include "common/srt/callback_targets.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace bondcast::srt {
namespace {

using namespace std::chrono_literals;

struct Target {
  int calls = 0;
};

TEST(CallbackTargets, ACallbackReachesItsTargetOnlyUntilTheTargetLeaves) {
  auto& table = CallbackTargets<Target>::instance();
  Target a;
  Target b;
  void* ka = table.add(&a);
  void* kb = table.add(&b);
  ASSERT_NE(ka, nullptr);
  ASSERT_NE(ka, kb);
  EXPECT_TRUE(table.with(ka, [](Target& t) { ++t.calls; }));
  EXPECT_TRUE(table.with(kb, [](Target& t) { t.calls += 10; }));
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 10);

  table.remove(ka);
  EXPECT_FALSE(table.with(ka, [](Target& t) { ++t.calls; }));
  EXPECT_EQ(a.calls, 1);
  EXPECT_TRUE(table.with(kb, [](Target& t) { ++t.calls; }));  // b is still there
  EXPECT_EQ(b.calls, 11);
  table.remove(kb);

  // A new target never gets a key that has been used: a late callback for the old one
  // must not reach it.
  Target c;
  void* kc = table.add(&c);
  EXPECT_NE(kc, ka);
  EXPECT_NE(kc, kb);
  EXPECT_FALSE(table.with(ka, [](Target& t) { ++t.calls; }));
  EXPECT_EQ(c.calls, 0);
  table.remove(kc);
}

TEST(CallbackTargets, RemovingATargetWaitsForTheCallbackRunningOnIt) {
  auto& table = CallbackTargets<Target>::instance();
  Target target;
  void* key = table.add(&target);

  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  bool removed = false;
  std::thread callback([&] {
    table.with(key, [&](Target& t) {
      std::unique_lock lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      ++t.calls;  // the target must still be there
    });
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return entered; }));
  }
  std::thread remover([&] {
    table.remove(key);
    std::lock_guard lock(mu);
    removed = true;
    cv.notify_all();
  });
  {
    // While the callback runs, remove() does not return (a bounded wait that must time out).
    std::unique_lock lock(mu);
    EXPECT_FALSE(cv.wait_for(lock, 300ms, [&] { return removed; }));
    release = true;
    cv.notify_all();
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return removed; }));
  }
  callback.join();
  remover.join();
  EXPECT_EQ(target.calls, 1);
  EXPECT_FALSE(table.with(key, [](Target& t) { ++t.calls; }));
}

}  // namespace
}  // namespace bondcast::srt
