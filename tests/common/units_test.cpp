// SPDX-License-Identifier: MPL-2.0
#include "common/units.h"

#include <gtest/gtest.h>

namespace bondcast {
namespace {

TEST(ParseBitrate, AcceptsCommonSpellings) {
  EXPECT_EQ(parseBitrateBps("10mbit").value(), 10'000'000u);
  EXPECT_EQ(parseBitrateBps("10Mbit/s").value(), 10'000'000u);
  EXPECT_EQ(parseBitrateBps("2.5mbps").value(), 2'500'000u);
  EXPECT_EQ(parseBitrateBps("500kbit").value(), 500'000u);
  EXPECT_EQ(parseBitrateBps("64000").value(), 64'000u);
  EXPECT_EQ(parseBitrateBps("1gbit").value(), 1'000'000'000u);
}

TEST(ParseBitrate, RejectsGarbageNamingTheValue) {
  auto r = parseBitrateBps("fast");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'fast'"), std::string::npos);
  EXPECT_FALSE(parseBitrateBps("10parsecs").ok());
  EXPECT_FALSE(parseBitrateBps("-3mbit").ok());
}

TEST(ParseDuration, UnitsAndBareMilliseconds) {
  EXPECT_EQ(parseDuration("15ms").value(), Micros(15'000));
  EXPECT_EQ(parseDuration("2.5s").value(), Micros(2'500'000));
  EXPECT_EQ(parseDuration("300us").value(), Micros(300));
  EXPECT_EQ(parseDuration("40").value(), Micros(40'000));
  EXPECT_FALSE(parseDuration("5 fortnights").ok());
}

// Found by fuzz/emulator_config_fuzz.cpp: "at=2e90s" parsed to a negative duration
// (llround out of range), which the emulator then overflowed converting to nanoseconds.
TEST(ParseDuration, RejectsDurationsBeyondThirtyOneYears) {
  EXPECT_EQ(parseDuration("1e15us").value(), Micros(1'000'000'000'000'000));
  EXPECT_FALSE(parseDuration("1.1e15us").ok());
  EXPECT_FALSE(parseDuration("2e90s").ok());
  EXPECT_FALSE(parseDuration("1e400m").ok());  // from_chars: out of range, already refused
  EXPECT_NE(parseDuration("2e90s").error().message.find("2e90s"), std::string::npos);
  EXPECT_FALSE(parseRunLength("1e300").ok());
  EXPECT_FALSE(parseRunLength("1e300s").ok());
}

TEST(ParseProbability, PercentAndFraction) {
  EXPECT_DOUBLE_EQ(parseProbability("0.5%").value(), 0.005);
  EXPECT_DOUBLE_EQ(parseProbability("0.02").value(), 0.02);
  EXPECT_FALSE(parseProbability("150%").ok());
  EXPECT_FALSE(parseProbability("often").ok());
}

TEST(ParseBytes, Suffixes) {
  EXPECT_EQ(parseBytes("200kb").value(), 200'000u);
  EXPECT_EQ(parseBytes("1500b").value(), 1500u);
  EXPECT_EQ(parseBytes("3000").value(), 3000u);
  EXPECT_FALSE(parseBytes("12 apples").ok());
}

}  // namespace
}  // namespace bondcast

namespace bondcast {
namespace {

// Issue 15: "bondcast demo --duration 15" ran for 15 milliseconds. A run length without a
// unit is seconds; with one, the unit counts.
TEST(Units, ARunLengthWithoutAUnitIsSeconds) {
  EXPECT_EQ(parseRunLength("15").value(), std::chrono::seconds(15));
  EXPECT_EQ(parseRunLength("2.5").value(), std::chrono::milliseconds(2500));
  EXPECT_EQ(parseRunLength("30s").value(), std::chrono::seconds(30));
  EXPECT_EQ(parseRunLength("1500ms").value(), std::chrono::milliseconds(1500));
  EXPECT_EQ(parseRunLength("2m").value(), std::chrono::minutes(2));
  EXPECT_FALSE(parseRunLength("0").ok());
  EXPECT_FALSE(parseRunLength("forever").ok());
  EXPECT_FALSE(parseRunLength("-3").ok());
  // Delays and intervals keep milliseconds for a bare number.
  EXPECT_EQ(parseDuration("15").value(), std::chrono::milliseconds(15));
}

}  // namespace
}  // namespace bondcast
