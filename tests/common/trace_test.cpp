// SPDX-License-Identifier: MPL-2.0
#include "common/trace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/shared_dir.h"

namespace bondcast {
namespace {

class TraceFile : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    auto dir = std::filesystem::temp_directory_path() /
               ("bondcast_trace_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / name).string();
    std::ofstream(path) << content;
    return path;
  }
};

TEST_F(TraceFile, MahimahiOnePacketPerMillisecondIs12Mbit) {
  auto t = CapacityTrace::loadMahimahi(write("one", "1\n"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->periodMs(), 1u);
  EXPECT_NEAR(t->meanBps(), 12e6, 1);
  // Opportunities at 1, 2, 3... ms: [0, 1000) holds 999 of them, (0, 1000] all 1000.
  EXPECT_EQ(t->bytesBetween(0, 1000), 999u * 1500u);
  EXPECT_EQ(t->bytesBetween(1, 1001), 1000u * 1500u);
}

TEST_F(TraceFile, MahimahiLoopsWithItsPeriod) {
  // Two packets at ms 3, one at ms 10: period 10 ms, 3 packets per loop.
  auto t = CapacityTrace::loadMahimahi(write("loop", "3\n3\n10\n"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->periodMs(), 10u);
  // Loop k is (10k, 10k + 10]: 3, 3, 10, 13, 13, 20, ... The one at 100 is the last of
  // the tenth loop, so [0, 100) holds 29 and [0, 101) all 30.
  EXPECT_EQ(t->bytesBetween(0, 100), 29u * 1500u);
  EXPECT_EQ(t->bytesBetween(0, 101), 30u * 1500u);
  EXPECT_EQ(t->nextOpportunityAtOrAfter(0), 3u);
  EXPECT_EQ(t->nextOpportunityAtOrAfter(4), 10u);
  EXPECT_EQ(t->nextOpportunityAtOrAfter(11), 13u);
}

TEST_F(TraceFile, MahimahiOpportunityAtAMultipleOfThePeriodEndsThatLoop) {
  auto t = CapacityTrace::loadMahimahi(write("edge", "3\n3\n10\n"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->nextOpportunityAtOrAfter(10), 10u);
  EXPECT_EQ(t->nextOpportunityAtOrAfter(20), 20u);
  EXPECT_EQ(t->nextOpportunityAtOrAfter(21), 23u);
  EXPECT_EQ(t->bytesBetween(10, 11), 1500u);  // the one at 10 ms
  EXPECT_EQ(t->bytesBetween(9, 10), 0u);
  EXPECT_EQ(t->bytesBetween(20, 21), 1500u);
  EXPECT_EQ(t->bytesBetween(13, 14), 2u * 1500u);
  // Indices count across loops in time order.
  EXPECT_EQ(t->countBefore(10), 2u);
  EXPECT_EQ(t->countBefore(11), 3u);
  EXPECT_EQ(t->timeOfOpportunity(2), 10u);
  EXPECT_EQ(t->timeOfOpportunity(3), 13u);
  EXPECT_EQ(t->timeOfOpportunity(t->countBefore(20)), 20u);
}

TEST_F(TraceFile, MahimahiRejectsDecreasingAndGarbageWithLineNumber) {
  auto dec = CapacityTrace::loadMahimahi(write("dec", "5\n4\n"));
  ASSERT_FALSE(dec.ok());
  EXPECT_NE(dec.error().message.find(":2"), std::string::npos) << dec.error().message;
  auto junk = CapacityTrace::loadMahimahi(write("junk", "1\nabc\n"));
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.error().message.find("'abc'"), std::string::npos);
  EXPECT_FALSE(CapacityTrace::loadMahimahi(write("empty", "")).ok());
}

TEST_F(TraceFile, UnreadableFileNamesThePath) {
  auto t = CapacityTrace::loadMahimahi("/nonexistent/trace.up");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("/nonexistent/trace.up"), std::string::npos);
}

TEST_F(TraceFile, RateSeriesTimeAndMbit) {
  // 12 Mbit/s for 1 s then 24 Mbit/s for 1 s (the last sample holds one step).
  auto t = CapacityTrace::loadRateSeries(write("series", "0 12\n1 24\n"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->periodMs(), 2000u);
  EXPECT_NEAR(static_cast<double>(t->bytesBetween(0, 1000)), 1000 * 1500, 1500);
  EXPECT_NEAR(static_cast<double>(t->bytesBetween(1000, 2000)), 2000 * 1500, 1500);
}

TEST_F(TraceFile, RateSeriesValueUnitLinesAreOneSecondEach) {
  auto t = CapacityTrace::loadRateSeries(write("nyu", "12,Mbits/sec\n6000,Kbits/sec\n"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->periodMs(), 2000u);
  EXPECT_NEAR(t->meanBps(), 9e6, 0.01e6);
  EXPECT_FALSE(CapacityTrace::loadRateSeries(write("bad", "12,furlongs\n")).ok());
  EXPECT_FALSE(CapacityTrace::loadRateSeries(write("bad2", "0 x\n")).ok());
}

TEST(RealTraces, SharedMahimahiMeanMatchesProvenance) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  auto t = CapacityTrace::loadMahimahi(std::string(BONDCAST_SHARED_DIR) +
                                       "/traces/mahimahi/Verizon-LTE-short.up");
  ASSERT_TRUE(t.ok()) << t.error().message;
  // ../shared/traces/README.md: 140 s period, 5.95 Mbit/s mean.
  EXPECT_NEAR(static_cast<double>(t->periodMs()), 140'000, 1'000);
  EXPECT_NEAR(t->meanBps() / 1e6, 5.95, 0.1);
}

}  // namespace
}  // namespace bondcast
