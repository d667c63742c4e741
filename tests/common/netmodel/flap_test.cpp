// SPDX-License-Identifier: MPL-2.0
// A flapping link as both network models read it (common/netmodel/flap.h).
#include "common/netmodel/flap.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace bondcast::net {
namespace {

using std::chrono::milliseconds;

TEST(Flap, CountDownAndUpWhichDefaultsToDown) {
  const Flap f = parseFlap("5x200ms/800ms").value();
  EXPECT_EQ(f.count, 5u);
  EXPECT_EQ(f.down, milliseconds(200));
  EXPECT_EQ(f.up, milliseconds(800));
  EXPECT_EQ(f.period(), milliseconds(1000));
  const Flap even = parseFlap("3x50ms").value();
  EXPECT_EQ(even.up, milliseconds(50));
}

TEST(Flap, MalformedOnesSayWhatWasExpected) {
  for (const char* text : {"5", "x200ms", "0x200ms", "-1x200ms", "fivex200ms", "5y200ms"}) {
    auto f = parseFlap(text);
    ASSERT_FALSE(f) << text;
    EXPECT_NE(f.error().message.find("COUNTxDOWN"), std::string::npos) << f.error().message;
  }
  auto bad_time = parseFlap("5xsoon/1s");
  ASSERT_FALSE(bad_time);
  EXPECT_NE(bad_time.error().message.find("'5xsoon/1s'"), std::string::npos);
  auto never_down = parseFlap("5x0ms/1s");
  ASSERT_FALSE(never_down);
  EXPECT_NE(never_down.error().message.find("above 0"), std::string::npos);
}

TEST(Flap, TooManyOrTooLongIsAnError) {
  for (const char* text : {"100001x1ms/1ms", "9999x1e15us/1e15us", "10x1e14us/1e14us"}) {
    auto f = parseFlap(text);
    ASSERT_FALSE(f) << text;
    EXPECT_NE(f.error().message.find("flaps too often or too long"), std::string::npos);
    EXPECT_NE(f.error().message.find("31 years"), std::string::npos);
  }
  const Flap most = parseFlap("100000x1ms/1ms").value();
  EXPECT_EQ(most.count, kMaxFlapCycles);
  // Where it starts counts too: a flap that fits from 0 may not fit from later on.
  const Flap big = parseFlap("10x4e13us/4e13us").value();
  EXPECT_TRUE(big.fitsFrom(Micros::zero()));
  EXPECT_FALSE(big.fitsFrom(kMaxFlapSpan / 2));
}

}  // namespace
}  // namespace bondcast::net
