// SPDX-License-Identifier: MPL-2.0
// The bars for latency-aware, each over a scenario file in
// scheduler/sim/scenarios/ (their comments describe the topology), seeded and logged.
#include <gtest/gtest.h>

#include <cstdio>

#include "scheduler/sim/simulator.h"
#include "tests/support/shared_dir.h"

namespace bondcast::sim {
namespace {

SimSetup load(const std::string& name) {
  const std::string path =
      std::string(BONDCAST_SOURCE_DIR) + "/scheduler/sim/scenarios/" + name + ".json";
  auto s = loadScenario(path, BONDCAST_SHARED_DIR);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  std::printf("scenario %s seed %llu\n", name.c_str(), static_cast<unsigned long long>(s->seed));
  return s.value();
}

DeliveryReport run(const SimSetup& s, std::string_view policy) {
  auto r = runPolicy(s, policy);
  EXPECT_TRUE(r.ok());
  std::printf("  %-14s on time %.3f%%  missed %llu  overhead %.2f%%  p99 %.1f ms\n",
              std::string(policy).c_str(), 100 * r->onTimeFraction(),
              static_cast<unsigned long long>(r->late + r->lost), 100 * r->overhead(),
              r->latency.p99_ms);
  return r.value();
}

std::uint64_t missed(const DeliveryReport& r) {
  return r.late + r.lost;
}

// fast: 10 Mbit/s 15 ms 0.5% loss; slow: 6 Mbit/s 60 ms; 12 Mbit/s video; 300 ms.
TEST(AggregationScenario, LatencyAwareDeliversNearlyAllWithLittleOverheadAndBeatsTheRest) {
  const SimSetup s = load("aggregation");
  const DeliveryReport ours = run(s, "latency-aware");
  EXPECT_GE(ours.onTimeFraction(), 0.999);
  EXPECT_LE(ours.overhead(), 0.05);
  for (const char* other : {"broadcast", "backup", "round-robin", "min-rtt"}) {
    EXPECT_GT(missed(run(s, other)), missed(ours)) << other;
  }
}

// 3 x 10 Mbit/s (20/30/45 ms), 6 Mbit/s video, 200 ms; link 0 dark 5 s, then flapping.
TEST(OutageScenario, LatencyAwareMissesNothingWithinThirtyPercentOverhead) {
  const SimSetup s = load("outage");
  const DeliveryReport ours = run(s, "latency-aware");
  EXPECT_EQ(missed(ours), 0u);
  EXPECT_LE(ours.overhead(), 0.30);
}

// bondcast demo's links: cell-B (5 Mbit/s, 120 ms RTT, 2% loss) drops out at 10 s as a
// keyframe leaves, and what it held must go again on cell-A or Wi-Fi before its playout
// time. Over 80 seeds, what the outage cost: 127 payloads in 12 seeds while a link was
// stalled only after an RTT and its variation beyond its oldest copy's due time; 33 in 3
// since one whose loss reports stopped too is stalled half an RTT sooner (LinkModel::
// stallThreshold); 26 in 16 if told of the outage at its first instant; 13 in 4 with the
// receiver's receipts (no re-send of what it has: credit left for what it lacks); 3 in 2
// since a failed link's copies that no link could deliver in time when it failed are
// tried again while it stays down (the others' queue estimates clear a moment later).
TEST(DemoScenario, ALinkDroppingOutMidKeyframeCostsFewPayloadsOverEightySeeds) {
  SimSetup s = load("demo");
  s.duration = std::chrono::seconds(12);  // the outage's second is settled by then
  std::uint64_t at_outage = 0;
  int seeds_hit = 0;
  for (std::uint64_t seed = 1; seed <= 80; ++seed) {
    s.seed = seed;
    auto r = runPolicy(s, "latency-aware", false);
    ASSERT_TRUE(r.ok());
    const std::uint32_t missed = r->missed_by_second.size() > 10 ? r->missed_by_second[10] : 0;
    at_outage += missed;
    seeds_hit += missed > 0;
  }
  std::printf("  at the outage: %llu payloads missed, in %d of 80 seeds\n",
              static_cast<unsigned long long>(at_outage), seeds_hit);
  EXPECT_LE(at_outage, 8u);
  EXPECT_LE(seeds_hit, 3);
}

// TMobile-LTE-short.up +40 ms and Verizon-LTE-short.up +50 ms, 8 Mbit/s, 300 ms, 140 s.
constexpr double kOracleBar = 2.25;  // see LatencyAwareMissesAtMostTwoAndAQuarterTimesTheOracle

TEST(RealUplinksScenario, LatencyAwareMissesLessThanSrtlaAndBroadcast) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  const SimSetup s = load("real_uplinks");
  const DeliveryReport ours = run(s, "latency-aware");
  EXPECT_LT(missed(ours), missed(run(s, "srtla")));
  EXPECT_LT(missed(ours), missed(run(s, "broadcast")));
}

// Issue 4's bar was a miss rate <= 1.5 x the pooled oracle's (met at 1.40 x). Since
// issue 13 the simulated links measure the RTT as libsrt does (the receiver's ACK to the
// sender's ACKACK, which queues behind the data, then back in a later ACK: a queue shows a
// queue's delay and a round trip late), the receiver plays out by its playout clock and
// the oracle's deadlines include the fastest link's delay as the receiver's do. With that
// feedback the 1.5 x bar is not met: latency-aware misses 2862 against the oracle's 1339
// (2.14 x at 09c546b; with the old instantaneous RTT the same scheduler missed 2104, 1.57 x).
// The bar is 2.25 x: above every one of 27 nearby settings (2.05-2.20 x at 09c546b,
// sensitivity.py); it fails with the queue read from the RTT alone (4502 missed, 3.36 x).
TEST(RealUplinksScenario, LatencyAwareMissesAtMostTwoAndAQuarterTimesTheOracle) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  const SimSetup s = load("real_uplinks");
  const DeliveryReport ours = run(s, "latency-aware");
  const DeliveryReport oracle = pooledOracle(s);
  std::printf("  latency-aware missed %llu, pooled oracle %llu\n",
              static_cast<unsigned long long>(missed(ours)),
              static_cast<unsigned long long>(missed(oracle)));
  EXPECT_LE(ours.missFraction(), kOracleBar * oracle.missFraction());
}

// Not one lucky setting: the bar holds across settings near the defaults, where single
// points spread by +-3% (scheduler/sim/tools/sensitivity.py sweeps 27 of them).
TEST(RealUplinksScenario, TheBarHoldsForSettingsNearTheDefaults) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  const SimSetup base = load("real_uplinks");
  const double bar = kOracleBar * pooledOracle(base).missFraction();
  using std::chrono::milliseconds;
  for (const auto lead : {milliseconds(40), milliseconds(70)}) {
    for (const double doubt : {0.5, 0.7}) {
      SimSetup s = base;
      s.scheduler.link.rtt_trend_lead = lead;
      s.scheduler.queue_uncertainty = doubt;
      auto r = runPolicy(s, "latency-aware");
      ASSERT_TRUE(r.ok());
      std::printf("  lead %lld ms, queue_uncertainty %.1f: missed %llu\n",
                  static_cast<long long>(lead.count()), doubt,
                  static_cast<unsigned long long>(missed(*r)));
      EXPECT_LE(r->missFraction(), bar) << "lead " << lead.count() << " ms, doubt " << doubt;
    }
  }
}

}  // namespace
}  // namespace bondcast::sim
