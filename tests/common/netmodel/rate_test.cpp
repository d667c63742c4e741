// SPDX-License-Identifier: MPL-2.0
// A link's capacity as both network models read it (common/netmodel/rate.h).
#include "common/netmodel/rate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace bondcast::net {
namespace {

TEST(RateSpec, AConstantRateUnlimitedOrNothing) {
  const RateSpec r = parseRateSpec("12mbit", "", "").value();
  EXPECT_EQ(r.kind, RateSpec::Kind::kConstant);
  EXPECT_EQ(r.bps, 12'000'000u);
  EXPECT_EQ(r.text, "12mbit");
  EXPECT_EQ(parseRateSpec("unlimited", "", "").value().kind, RateSpec::Kind::kUnlimited);

  auto zero = parseRateSpec("0", "", "");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("above 0"), std::string::npos);
  auto bad = parseRateSpec("fast", "", "");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'fast'"), std::string::npos);
  auto no_path = parseRateSpec("trace:", "", "");
  ASSERT_FALSE(no_path);
  EXPECT_NE(no_path.error().message.find("missing trace path"), std::string::npos);
}

TEST(RateSpec, ATraceFromTheScenariosFolderOrTheSharedOne) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("bondcast-rate-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "shared" / "traces");
  {
    std::ofstream f(dir / "shared" / "traces" / "up.mahimahi");
    for (int ms = 1; ms <= 100; ++ms) {
      f << ms << "\n";  // one 1500-byte opportunity a millisecond: 12 Mbit/s
    }
  }
  const RateSpec shared =
      parseRateSpec("trace:${shared}/traces/up.mahimahi", "/nowhere", (dir / "shared").string())
          .value();
  EXPECT_EQ(shared.kind, RateSpec::Kind::kTrace);
  ASSERT_TRUE(shared.trace);
  EXPECT_GT(shared.trace->bytesBetween(0, 100), 0u);

  const RateSpec relative =
      parseRateSpec("trace:traces/up.mahimahi", (dir / "shared").string(), "").value();
  EXPECT_EQ(relative.kind, RateSpec::Kind::kTrace);

  auto missing = parseRateSpec("trace:traces/none.mahimahi", (dir / "shared").string(), "");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("none.mahimahi"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bondcast::net
