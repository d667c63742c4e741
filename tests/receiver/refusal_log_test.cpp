// SPDX-License-Identifier: MPL-2.0
// RefusalLog (receiver/refusal_log.h): a flood of refused handshakes gives at most one
// line per second per kind, each saying how many there were; the first is logged at once
// and the last is not lost. Time is made up: no clock, no sleeping.
#include "receiver/refusal_log.h"

#include <gtest/gtest.h>

#include <string>

namespace bondcast::receiver {
namespace {

using namespace std::chrono_literals;
using Clock = RefusalLog::Clock;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// How many refusals a line reports: "refused a handshake ..." or "refused N handshakes ...".
std::uint64_t countOf(const std::string& line) {
  const std::string rest = line.substr(std::string("refused ").size());
  return rest.starts_with("a handshake") ? 1 : std::stoull(rest);
}

TEST(RefusalLog, TheFirstRefusalOfAKindIsLoggedAtOnce) {
  RefusalLog log;
  const Clock::time_point t0{};
  auto line = log.refused("unknown_stream", 1, "stream 'cam9' is not in --allow-stream", t0);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "refused a handshake (unknown_stream): stream 'cam9' is not in --allow-stream");
  EXPECT_TRUE(log.due(t0 + 10s).empty()) << "nothing more to say";
}

TEST(RefusalLog, AFloodGivesOneLinePerSecondWithTheCountSinceTheLastLine) {
  RefusalLog log;
  const Clock::time_point t0{};
  int lines = 0;
  std::uint64_t reported = 0;
  // 10,000 refusals over 10 s, one every millisecond; due() every 100 ms as the receiver.
  for (int i = 0; i < 10'000; ++i) {
    const auto now = t0 + std::chrono::milliseconds(i);
    if (auto line = log.refused("malformed_stream_id", 1, "detail " + std::to_string(i), now)) {
      ++lines;
      reported += countOf(*line);
    }
    if (i % 100 == 0) {
      for (const auto& line : log.due(now)) {
        ++lines;
        reported += countOf(line);
      }
    }
  }
  for (const auto& line : log.due(t0 + 11s)) {
    ++lines;
    reported += countOf(line);
  }
  EXPECT_LE(lines, 11);
  EXPECT_GE(lines, 10);
  EXPECT_EQ(reported, 10'000u) << "every refusal is in some line's count";
}

TEST(RefusalLog, ALaterLineSaysHowManySinceTheLastAndDescribesTheLatest) {
  RefusalLog log;
  const Clock::time_point t0{};
  ASSERT_TRUE(log.refused("wrong_passphrase", 1, "first", t0));
  EXPECT_FALSE(log.refused("wrong_passphrase", 1, "second", t0 + 300ms));
  EXPECT_FALSE(log.refused("wrong_passphrase", 5, "third", t0 + 600ms));
  EXPECT_TRUE(log.due(t0 + 900ms).empty()) << "within the second";
  auto lines = log.due(t0 + 1500ms);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "refused 6 handshakes (wrong_passphrase) in the last 1.5 s; the latest: third");
  // The next one within a second of that line waits; after it, it is logged at once.
  EXPECT_FALSE(log.refused("wrong_passphrase", 1, "fourth", t0 + 2000ms));
  auto next = log.refused("wrong_passphrase", 1, "fifth", t0 + 2600ms);
  ASSERT_TRUE(next);
  EXPECT_TRUE(contains(*next, "refused 2 handshakes")) << *next;
  EXPECT_TRUE(contains(*next, "the latest: fifth")) << *next;
}

TEST(RefusalLog, KindsAreLimitedEachOnTheirOwn) {
  RefusalLog log;
  const Clock::time_point t0{};
  EXPECT_TRUE(log.refused("unknown_stream", 1, "a", t0));
  EXPECT_TRUE(log.refused("wrong_passphrase", 1, "b", t0 + 1ms));
  EXPECT_FALSE(log.refused("unknown_stream", 1, "c", t0 + 2ms));
  EXPECT_TRUE(log.refused("output_busy", 1, "d", t0 + 3ms));
  auto lines = log.due(t0 + 1s);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(contains(lines[0], "(unknown_stream)")) << lines[0];
}

TEST(RefusalLog, SeveralAtOnceBeforeAnyLineAreCountedInTheFirstLine) {
  RefusalLog log;
  auto line = log.refused("wrong_passphrase", 40, "libsrt refused them", Clock::time_point{});
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "refused 40 handshakes (wrong_passphrase); the latest: libsrt refused them");
}

}  // namespace
}  // namespace bondcast::receiver
