// SPDX-License-Identifier: MPL-2.0
// The simulator's own sanity: scenario errors name their field, runs are deterministic
// for a seed, the oracle bounds every policy, and link mechanics behave.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "playout/merge.h"
#include "scheduler/factory.h"
#include "scheduler/sim/link_sim.h"
#include "scheduler/sim/simulator.h"
#include "scheduler/sim/srt_link.h"
#include "tests/support/scenario_files.h"
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

SimSetup parse(const json& j) {
  auto s = parseScenario(j, ".", BONDCAST_SHARED_DIR);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.value();
}

std::string errorOf(const json& j) {
  auto s = parseScenario(j, ".", BONDCAST_SHARED_DIR);
  return s.ok() ? "" : s.error().message;
}

TEST(SimScenario, ParsesLinksVideoAndEvents) {
  SimSetup s = parse(twoLinks());
  ASSERT_EQ(s.links.size(), 2u);
  EXPECT_EQ(s.links[0].rate_bps, 5e6);
  EXPECT_EQ(s.links[1].loss.kind, LossSpec::Kind::kGilbertElliott);
  ASSERT_EQ(s.links[0].outages.size(), 1u);
  EXPECT_EQ(s.links[0].outages[0].end, std::chrono::seconds(5));
  EXPECT_EQ(s.latency, std::chrono::milliseconds(250));
}

TEST(SimScenario, FlappingBecomesSeparateOutages) {
  json j = twoLinks();
  j["events"] = json::parse(R"([{"at": "1s", "link": 1, "flap": "3x200ms/800ms"}])");
  SimSetup s = parse(j);
  ASSERT_EQ(s.links[1].outages.size(), 3u);
  EXPECT_EQ(s.links[1].outages[2].start, std::chrono::seconds(3));
}

// Found by fuzz/sim_scenario_fuzz: a count times a period beyond int64 microseconds
// overflowed, and every cycle re-sorted the outages (20,000 cycles took 79 s).
TEST(SimScenario, AnAbsurdFlapIsAnErrorAndALongOneParsesAtOnce) {
  json j = twoLinks();
  for (const char* flap : {"9999x1e15us/1e15us", "100001x1ms/1ms", "10x1e14us/1e14us"}) {
    j["events"] =
        json::parse(std::string(R"([{"at": "1s", "link": 1, "flap": ")") + flap + R"("}])");
    EXPECT_NE(errorOf(j).find("flaps too often or too long"), std::string::npos)
        << flap << ": " << errorOf(j);
  }
  j["events"] = json::parse(R"([{"at": "1s", "link": 1, "flap": "100000x1ms/1ms"}])");
  const auto started = std::chrono::steady_clock::now();
  SimSetup s = parse(j);
  EXPECT_EQ(s.links[1].outages.size(), 100'000u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(SimScenario, ErrorsNameTheField) {
  json j = twoLinks();
  j["links"][1]["delay"] = "soon";
  EXPECT_NE(errorOf(j).find("links[1]: link spec: delay='soon'"), std::string::npos) << errorOf(j);
  j = twoLinks();
  j["links"][0]["colour"] = "red";
  EXPECT_NE(errorOf(j).find("links[0]: link spec: colour='red'"), std::string::npos) << errorOf(j);
  j = twoLinks();
  j.erase("video");
  EXPECT_NE(errorOf(j).find("'video'"), std::string::npos) << errorOf(j);
  j = twoLinks();
  j["events"][0]["link"] = 5;
  EXPECT_NE(errorOf(j).find("link='5': there are only 2 links"), std::string::npos) << errorOf(j);
}

TEST(SimScenario, SchedulerSettingsOverrideTheDefaultsAndErrorsNameTheField) {
  json j = twoLinks();
  j["scheduler"] = json::parse(R"({"queue_uncertainty": 0.25, "safety_margin": "7ms",
                                   "rtt_trend_lead": "0ms", "delivery_rate_window": "1s"})");
  SimSetup s = parse(j);
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

TEST(SimScenario, AnUnreadableTraceIsAnErrorNamingThePath) {
  json j = twoLinks();
  j["links"][0]["rate"] = "trace:${shared}/traces/mahimahi/no-such.up";
  const std::string e = errorOf(j);
  EXPECT_NE(e.find("links[0]: link spec: rate='trace:"), std::string::npos) << e;
  EXPECT_NE(e.find("no-such.up"), std::string::npos) << e;
}

// The simulator's scenarios and eval's are one set (the emulator reads them too).
TEST(SimScenario, EveryScenarioFileInTheRepositoryLoads) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  const auto files = bondcast::test::repositoryScenarioFiles();
  for (const std::string& file : files) {
    auto s = loadScenario(file, BONDCAST_SHARED_DIR);
    EXPECT_TRUE(s.ok()) << file << ": " << (s.ok() ? "" : s.error().message);
  }
  EXPECT_GE(files.size(), 17u);
}

TEST(SimScenario, RateEventsOnAConstantLinkBecomeARateSeries) {
  json j = twoLinks();
  j["events"] = json::parse(R"(["at=2s,link=0,rate=1mbit", "at=6s,link=0,rate=5mbit"])");
  SimSetup s = parse(j);
  ASSERT_NE(s.links[0].trace, nullptr);
  EXPECT_EQ(s.links[1].trace, nullptr);
  // 5 Mbit/s for 2 s, 1 for 4 s, 5 for the last 4 s and the second after the run.
  EXPECT_EQ(s.links[0].trace->periodMs(), 11'000u);
  EXPECT_NEAR(s.links[0].trace->meanBps(), (5e6 * 2 + 1e6 * 4 + 5e6 * 5) / 11, 2e4);
  EXPECT_NEAR(static_cast<double>(s.links[0].trace->bytesBetween(2000, 6000)) * 8 / 4, 1e6, 2e4);
}

TEST(SimScenario, DelayJitterAndLossEventsChangeTheLinkFromTheirTime) {
  json j = twoLinks();
  j["links"][0]["loss"] = "0%";
  j["links"][0]["jitter"] = "0ms";
  j["events"] = json::parse(R"([{"at": "3s", "link": 0, "delay": "80ms", "loss": "100%"}])");
  SimSetup s = parse(j);
  ASSERT_EQ(s.links[0].changes.size(), 1u);
  EXPECT_EQ(s.links[0].changes[0].at, std::chrono::seconds(3));
  EXPECT_EQ(s.links[0].minOneWay(), std::chrono::milliseconds(20));
  EXPECT_EQ(s.links[0].maxDelay(), std::chrono::milliseconds(80));
  LinkSim link(s.links[0], 1, 0, false);
  const Transmission before = link.transmit(1000, 1'000'000);
  EXPECT_EQ(before.fate, Transmission::Fate::kDelivered);
  EXPECT_EQ(before.arrival_us - before.departure_us, 20'000);
  const Transmission after = link.transmit(1000, 3'000'000);
  EXPECT_EQ(after.fate, Transmission::Fate::kRandomLoss);
}

TEST(SimScenario, TheReturnDelayCarriesAcksAndNaks) {
  json j = twoLinks();
  j["links"][1]["rev-delay"] = "5ms";
  SimSetup s = parse(j);
  EXPECT_EQ(s.links[0].rev_delay, std::chrono::milliseconds(20));  // as the way there
  EXPECT_EQ(s.links[1].rev_delay, std::chrono::milliseconds(5));
  EXPECT_EQ(LinkSim(s.links[1], 1, 1, false).revDelayUs(), 5'000);
}

TEST(SimScenario, ADownUntilAnUpIsOneOutageAndTheSocketsAreNotRead) {
  json j = twoLinks();
  j["links"][0]["listen"] = "127.0.0.1:0";
  j["links"][0]["to"] = "127.0.0.1:9000";
  j["events"] = json::parse(R"(["at=2s,link=1,down", "at=2500ms,link=1,up"])");
  SimSetup s = parse(j);
  ASSERT_EQ(s.links[1].outages.size(), 1u);
  EXPECT_EQ(s.links[1].outages[0].start, std::chrono::seconds(2));
  EXPECT_EQ(s.links[1].outages[0].end, std::chrono::milliseconds(2500));
}

TEST(SimScenario, WhatTheSimulatorCannotModelIsAnErrorNamingIt) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"rate": "unlimited"})", "needs a capacity"},
      {R"({"rate": "5mbit", "reorder": true})", "never reorders"},
      {R"({"rate": "5mbit", "rev-rate": "1mbit"})", "return path has a delay only"},
      {R"({"rate": "5mbit", "rev-loss": "1%"})", "return path has a delay only"},
  };
  for (const auto& [link, needle] : cases) {
    json j = twoLinks();
    j["links"][0] = json::parse(link);
    EXPECT_NE(errorOf(j).find(needle), std::string::npos) << link << ": " << errorOf(j);
  }
  json j = twoLinks();
  j["events"] = json::parse(R"(["at=2s,link=0,down=1s,dir=fwd"])");
  EXPECT_NE(errorOf(j).find("both directions"), std::string::npos) << errorOf(j);
  j["events"] = json::parse(R"(["at=2s,link=0,rev-delay=50ms"])");
  EXPECT_NE(errorOf(j).find("return delay"), std::string::npos) << errorOf(j);
  j["events"] = json::parse(R"(["at=2s,link=0,rate=unlimited"])");
  EXPECT_NE(errorOf(j).find("another constant rate"), std::string::npos) << errorOf(j);
  j["duration"] = "90000s";  // 25 hours
  j["events"] = json::parse(R"(["at=2s,link=0,rate=1mbit"])");
  EXPECT_NE(errorOf(j).find("24 hours"), std::string::npos) << errorOf(j);
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
  SimSetup s = parse(twoLinks());
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
  SimSetup usual = parse(j);
  j["scheduler"] = json::parse(R"({"safety_margin": "400ms"})");
  SimSetup strict = parse(j);
  auto a = runPolicy(usual, "latency-aware");
  auto b = runPolicy(strict, "latency-aware");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(a->scheduler->dropped_late, a->packets / 10);
  EXPECT_GT(b->scheduler->dropped_late, b->packets * 9 / 10);
}

TEST(Simulator, ThePooledOracleBoundsEveryPolicy) {
  SimSetup s = parse(twoLinks());
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
  const SimSetup s = parse(j);
  const DeliveryReport oracle = pooledOracle(s);
  // One packet per opportunity: 1000 packets/s against 16 Mbit/s of 1316-byte packets.
  EXPECT_NEAR(oracle.onTimeFraction(), 1000.0 / (16e6 / (1316 * 8)), 0.02);
  for (std::string_view policy : sched::knownPolicies()) {
    auto r = runPolicy(s, policy);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r->on_time, oracle.on_time) << policy;
  }
}

// The simulated receiver sends its merge's receipt as `bondcast recv` does: every tick
// (10 ms) on the fastest link heard lately, every fifth on both. 10 s and a little more of
// ticks, link 0 (the faster) dark for a second: about one receipt per tick, the fastest
// link's (link 1's while link 0 is dark), and link 1's every fifth tick besides.
TEST(Simulator, TheReceiverSendsAReceiptEveryTickOnTheFastestLinkAndEveryFifthOnBoth) {
  const SimSetup s = parse(twoLinks());
  ASSERT_EQ(s.stats_period, playout::kReceiptInterval);
  auto r = runPolicy(s, "latency-aware");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->scheduler.has_value());
  const std::uint64_t receipts = r->scheduler->receipts;
  std::printf("receipts %llu\n", static_cast<unsigned long long>(receipts));
  EXPECT_GE(receipts, 1000u - 10 - 5);   // less the start-up hold and the dark link's first
  EXPECT_LE(receipts, 1100u * 13 / 10);  // both links every tick would be about 2,000
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
  SimSetup s = parse(twoLinks());
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

// libsrt's receiver repeats its loss list (about every half RTT) while a loss waits: a
// link repairing a loss is heard from although its acknowledgements stand still. Copies
// every ms for 200 ms over a 50 ms link dark from 100 to 110 ms: the copies sent meanwhile
// are lost, reported, re-sent and delivered; the reports stop once they are.
TEST(SrtLink, AReceiverKeepsReportingALossUntilItIsRepairedAndThenStops) {
  LinkSpec spec;
  spec.rate_bps = 10e6;
  spec.delay = std::chrono::milliseconds(50);
  spec.rev_delay = std::chrono::milliseconds(50);
  spec.outages = {{std::chrono::milliseconds(100), std::chrono::milliseconds(110)}};
  EventQueue events;
  std::uint64_t delivered = 0;
  SimTime all_delivered_us = -1;
  SrtLink link(0, spec, 1, false, events, [&](std::uint64_t, SimTime at_us) {
    if (++delivered == 200) {
      all_delivered_us = at_us;
    }
  });
  for (std::uint64_t ms = 0; ms < 200; ++ms) {
    events.push(static_cast<SimTime>(ms) * 1000, EventKind::kEmit, 0, ms);
  }
  events.push(0, EventKind::kTick);
  int naks = 0;
  int reports = 0;
  SimTime last_report_us = -1;
  while (!events.empty()) {
    const Event e = events.pop();
    if (e.t_us > 1'000'000) {
      break;
    }
    switch (e.kind) {
      case EventKind::kEmit:
        link.send(e.a, 1316, 1'000'000, e.t_us);
        break;
      case EventKind::kArrival:
        link.onArrival(e.a, e.x, e.t_us);
        break;
      case EventKind::kNak:
        ++naks;
        link.onNak(e.a, e.t_us);
        break;
      case EventKind::kNakReport:
        ++reports;
        last_report_us = e.t_us;
        link.onNakReport();
        break;
      case EventKind::kAck:
        link.onAck(e.a, e.b, e.x, e.t_us);
        break;
      case EventKind::kAckAck:
        link.onAckAck(e.b, e.t_us);
        break;
      case EventKind::kTick:
        link.tick(e.t_us);
        events.push(e.t_us + 10'000, EventKind::kTick);
        break;
      case EventKind::kReceipt:
        ADD_FAILURE() << "a link alone sends no receipts (the simulator's merge does)";
        break;
    }
  }
  EXPECT_EQ(link.path().counters().outage_losses, 10u);
  ASSERT_EQ(delivered, 200u);
  EXPECT_GE(naks, 10);
  EXPECT_GE(reports, 1) << "no loss report while the loss waited";
  // The last report left before the repair arrived: it reaches the sender a return trip
  // (50 ms) and a tick (10 ms) later at most.
  EXPECT_LE(last_report_us, all_delivered_us + 60'000);
  const auto heard = link.stats().nak_reports_total;
  ASSERT_TRUE(heard.has_value());
  EXPECT_EQ(*heard, static_cast<std::uint64_t>(naks + reports));
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
