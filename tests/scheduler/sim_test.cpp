// SPDX-License-Identifier: MPL-2.0
// The simulator's own sanity: scenario errors name their field, runs are deterministic
// for a seed, the oracle bounds every policy, and link mechanics behave.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "scheduler/factory.h"
#include "scheduler/sim/simulator.h"
#include "tests/support/shared_dir.h"

namespace bondcast::sim {
namespace {

using nlohmann::json;

json twoLinks() {
  return json::parse(R"({
    "seed": 7, "duration": "10s", "latency": "250ms",
    "video": {"bitrate": "6mbit"},
    "links": [
      {"rate": "5mbit", "delay": "20ms", "jitter": "2ms", "loss": "1%"},
      {"rate": "4mbit", "delay": "40ms", "ge": "1%:30%:50%"}
    ],
    "events": [{"at": "4s", "link": 0, "down": "1s"}]
  })");
}

Scenario parse(const json& j) {
  auto s = parseScenario(j, ".", BONDCAST_SHARED_DIR);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.value();
}

std::string errorOf(const json& j) {
  auto s = parseScenario(j, ".", BONDCAST_SHARED_DIR);
  return s.ok() ? "" : s.error().message;
}

TEST(Scenario, ParsesLinksVideoAndEvents) {
  Scenario s = parse(twoLinks());
  ASSERT_EQ(s.links.size(), 2u);
  EXPECT_EQ(s.links[0].rate_bps, 5e6);
  EXPECT_EQ(s.links[1].loss.kind, LossSpec::Kind::kGilbertElliott);
  ASSERT_EQ(s.links[0].outages.size(), 1u);
  EXPECT_EQ(s.links[0].outages[0].end, std::chrono::seconds(5));
  EXPECT_EQ(s.latency, std::chrono::milliseconds(250));
}

TEST(Scenario, FlappingBecomesSeparateOutages) {
  json j = twoLinks();
  j["events"] = json::parse(R"([{"at": "1s", "link": 1, "flap": "3x200ms/800ms"}])");
  Scenario s = parse(j);
  ASSERT_EQ(s.links[1].outages.size(), 3u);
  EXPECT_EQ(s.links[1].outages[2].start, std::chrono::seconds(3));
}

// Found by fuzz/sim_scenario_fuzz: a count times a period beyond int64 microseconds
// overflowed, and every cycle re-sorted the outages (20,000 cycles took 79 s).
TEST(Scenario, AnAbsurdFlapIsAnErrorAndALongOneParsesAtOnce) {
  json j = twoLinks();
  for (const char* flap : {"9999x1e15us/1e15us", "100001x1ms/1ms", "10x1e14us/1e14us"}) {
    j["events"] =
        json::parse(std::string(R"([{"at": "1s", "link": 1, "flap": ")") + flap + R"("}])");
    EXPECT_NE(errorOf(j).find("flaps too often or too long"), std::string::npos)
        << flap << ": " << errorOf(j);
  }
  j["events"] = json::parse(R"([{"at": "1s", "link": 1, "flap": "100000x1ms/1ms"}])");
  const auto started = std::chrono::steady_clock::now();
  Scenario s = parse(j);
  EXPECT_EQ(s.links[1].outages.size(), 100'000u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(Scenario, ErrorsNameTheField) {
  json j = twoLinks();
  j["links"][1]["delay"] = "soon";
  EXPECT_NE(errorOf(j).find("links[1].delay"), std::string::npos) << errorOf(j);
  j = twoLinks();
  j["links"][0]["colour"] = "red";
  EXPECT_NE(errorOf(j).find("links[0].colour"), std::string::npos) << errorOf(j);
  j = twoLinks();
  j.erase("video");
  EXPECT_NE(errorOf(j).find("'video'"), std::string::npos) << errorOf(j);
  j = twoLinks();
  j["events"][0]["link"] = 5;
  EXPECT_NE(errorOf(j).find("events[0].link"), std::string::npos) << errorOf(j);
}

TEST(Scenario, SchedulerSettingsOverrideTheDefaultsAndErrorsNameTheField) {
  json j = twoLinks();
  j["scheduler"] = json::parse(R"({"queue_uncertainty": 0.25, "safety_margin": "7ms",
                                   "rtt_trend_lead": "0ms", "delivery_rate_window": "1s"})");
  Scenario s = parse(j);
  EXPECT_EQ(s.scheduler.queue_uncertainty, 0.25);
  EXPECT_EQ(s.scheduler.safety_margin, std::chrono::milliseconds(7));
  EXPECT_EQ(s.scheduler.link.rtt_trend_lead, Micros::zero());
  EXPECT_EQ(s.scheduler.link.delivery_rate_window, std::chrono::seconds(1));
  const sched::SchedulerConfig defaults;
  EXPECT_EQ(s.scheduler.overhead_budget, defaults.overhead_budget);
  EXPECT_EQ(s.scheduler.link.rtt_trend_window, defaults.link.rtt_trend_window);

  j["scheduler"] = json::parse(R"({"queue_uncertainty": -1})");
  EXPECT_NE(errorOf(j).find("scheduler.queue_uncertainty"), std::string::npos) << errorOf(j);
  j["scheduler"] = json::parse(R"({"rtt_trend_window": "soon"})");
  EXPECT_NE(errorOf(j).find("scheduler.rtt_trend_window"), std::string::npos) << errorOf(j);
  j["scheduler"] = json::parse(R"({"queue_uncertanity": 0.5})");
  EXPECT_NE(errorOf(j).find("scheduler.queue_uncertanity"), std::string::npos) << errorOf(j);
}

TEST(Scenario, AnUnreadableTraceIsAnErrorNamingThePath) {
  json j = twoLinks();
  j["links"][0]["rate"] = "trace:${shared}/traces/mahimahi/no-such.up";
  const std::string e = errorOf(j);
  EXPECT_NE(e.find("links[0].rate"), std::string::npos) << e;
  EXPECT_NE(e.find("no-such.up"), std::string::npos) << e;
}

TEST(Scenario, TheShippedScenariosLoad) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  for (const char* name : {"aggregation", "outage", "real_uplinks", "speed", "uplinks_tmobile_att",
                           "uplinks_verizon-evdo_tmobile", "uplinks_att_tmobile-umts"}) {
    const std::string path =
        std::string(BONDCAST_SOURCE_DIR) + "/scheduler/sim/scenarios/" + name + ".json";
    auto s = loadScenario(path, BONDCAST_SHARED_DIR);
    EXPECT_TRUE(s.ok()) << name << ": " << (s.ok() ? "" : s.error().message);
  }
}

TEST(VideoSource, IFramesAreLargerFlaggedAndTheMeanRateHolds) {
  VideoSpec v;
  v.bitrate_bps = 8'000'000;
  auto stream = generateStream(v, std::chrono::seconds(4));
  std::uint64_t bytes = 0, key_packets = 0, parameter_sets = 0;
  for (const SourcePacket& p : stream) {
    bytes += p.size_bytes;
    key_packets += sched::has(p.importance, sched::Importance::kKeyframe);
    parameter_sets += sched::has(p.importance, sched::Importance::kParameterSets);
  }
  EXPECT_NEAR(bytes * 8.0 / 4.0, 8e6, 8e4);
  EXPECT_EQ(parameter_sets, 2u);  // one I-frame every 2 s
  EXPECT_GT(key_packets, 200u);
  EXPECT_EQ(frameCount(v, std::chrono::seconds(4)), 120u);
}

TEST(Simulator, IsDeterministicForASeedAndTheSeedMatters) {
  Scenario s = parse(twoLinks());
  auto a = runPolicy(s, "latency-aware");
  auto b = runPolicy(s, "latency-aware");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(toJson(*a).dump(), toJson(*b).dump());
  s.seed = 8;
  auto c = runPolicy(s, "latency-aware");
  EXPECT_NE(toJson(*a)["links"].dump(), toJson(*c)["links"].dump());
}

// The scenario's scheduler section reaches the policy: a safety margin larger than the
// latency leaves room for no link, so every packet is dropped at the sender.
TEST(Simulator, TheScenariosSchedulerSettingsReachThePolicy) {
  json j = twoLinks();
  Scenario usual = parse(j);
  j["scheduler"] = json::parse(R"({"safety_margin": "400ms"})");
  Scenario strict = parse(j);
  auto a = runPolicy(usual, "latency-aware");
  auto b = runPolicy(strict, "latency-aware");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(a->scheduler->dropped_late, a->packets / 10);
  EXPECT_GT(b->scheduler->dropped_late, b->packets * 9 / 10);
}

TEST(Simulator, ThePooledOracleBoundsEveryPolicy) {
  Scenario s = parse(twoLinks());
  std::printf("seed %llu\n", static_cast<unsigned long long>(s.seed));
  const DeliveryReport oracle = pooledOracle(s);
  for (std::string_view policy : sched::knownPolicies()) {
    auto r = runPolicy(s, policy);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r->on_time, oracle.on_time) << policy;
    EXPECT_EQ(r->on_time + r->late + r->lost, r->packets) << policy;
  }
}

// A constant 12 Mbit/s trace (one opportunity every millisecond) in a temporary file.
std::string constantTrace() {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bondcast_sim_test_" + std::to_string(::getpid()) + ".up");
  std::ofstream(path) << "1\n";
  return path.string();
}

TEST(Simulator, OverTracesTheOracleCountsEachLinksOwnDelay) {
  // 16 Mbit/s of video over two 12 Mbit/s trace links, 100 ms of latency: the 150 ms
  // link can deliver nothing in time, so at most the 20 ms link's share arrives. All
  // capacity behind the smallest delay would wrongly count the slow link's too.
  const std::string trace = "trace:" + constantTrace();
  json j = json::parse(R"({
    "seed": 1, "duration": "5s", "latency": "100ms",
    "video": {"kind": "cbr", "bitrate": "16mbit"},
    "links": [{"delay": "20ms"}, {"delay": "150ms"}]
  })");
  for (json& link : j["links"])
    link["rate"] = trace;
  const Scenario s = parse(j);
  const DeliveryReport oracle = pooledOracle(s);
  // One packet per opportunity: 1000 packets/s against 16 Mbit/s of 1316-byte packets.
  EXPECT_NEAR(oracle.onTimeFraction(), 1000.0 / (16e6 / (1316 * 8)), 0.02);
  for (std::string_view policy : sched::knownPolicies()) {
    auto r = runPolicy(s, policy);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r->on_time, oracle.on_time) << policy;
  }
}

TEST(Simulator, RetransmitsLossesOnTheLinkUntilTheyArrive) {
  json j = json::parse(R"({"duration": "5s", "latency": "300ms", "video": {"bitrate": "2mbit"},
                           "links": [{"rate": "10mbit", "delay": "10ms", "loss": "5%"}]})");
  auto r = runPolicy(parse(j), "round-robin");
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->links[0].counters.random_losses, 0u);
  EXPECT_GE(r->links[0].retransmissions, r->links[0].counters.random_losses);
  EXPECT_GT(r->onTimeFraction(), 0.999);  // 20 ms RTT, 300 ms budget: ARQ recovers
}

TEST(Simulator, AnOverloadedLinkQueuesAndDropsAtItsLimit) {
  json j = json::parse(R"({"duration": "10s", "latency": "300ms", "video": {"bitrate": "6mbit"},
                           "links": [{"rate": "4mbit", "delay": "10ms", "queue": "200ms"}]})");
  auto r = runPolicy(parse(j), "backup");
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->links[0].counters.queue_drops, 0u);
  EXPECT_LT(r->onTimeFraction(), 0.8);
}

TEST(Simulator, ADeadLinkLosesWhatItCarriesAndIdealBroadcastDoesNot) {
  Scenario s = parse(twoLinks());
  auto rr = runPolicy(s, "round-robin");
  ASSERT_TRUE(rr.ok());
  EXPECT_GT(rr->links[0].counters.outage_losses, 0u);
  auto ideal = runPolicy(s, "broadcast", true);
  ASSERT_TRUE(ideal.ok());
  EXPECT_GE(ideal->on_time, rr->on_time);
  // Two copies of everything, and every copy lost (1% and 1.6% random loss, link 0 dark
  // for a tenth of the run) re-sent until it arrives: links drop nothing.
  EXPECT_GE(ideal->overhead(), 1.0);
  EXPECT_LE(ideal->overhead(), 1.2);
}

TEST(Simulator, ReportsEveryBoundInJson) {
  json j = twoLinks();
  j["duration"] = "2s";
  auto r = simulate(parse(j), "srtla");
  ASSERT_TRUE(r.ok());
  const json out = toJson(*r);
  EXPECT_EQ(out["policy"], "srtla");
  EXPECT_TRUE(out["bounds"].contains("pooled_oracle"));
  EXPECT_TRUE(out["bounds"].contains("ideal_broadcast"));
  EXPECT_TRUE(out["result"]["latency_ms"].contains("p99"));
  EXPECT_EQ(out["result"]["links"].size(), 2u);
  EXPECT_FALSE(simulate(parse(j), "nope").ok());
}

}  // namespace
}  // namespace bondcast::sim
