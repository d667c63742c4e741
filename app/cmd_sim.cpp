// SPDX-License-Identifier: MPL-2.0
// `bondcast sim`: runs one scheduler policy over a scenario in the deterministic
// simulator (scheduler/sim) and prints JSON: what the receiver got, per-link bytes on
// the wire, the scheduler's decision counters, and the same numbers for two bounds.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "common/units.h"
#include "scheduler/factory.h"
#include "scheduler/sim/simulator.h"

namespace bondcast::app {
namespace {

struct SimOptions {
  std::string scenario;
  std::string policy = "latency-aware";
  std::optional<std::uint64_t> seed;
  std::string duration;
  std::string bitrate;
  std::string latency;
  std::string shared_dir;
  bool no_bounds = false;
  bool compact = false;
};

int usageError(const std::string& message) {
  std::fprintf(stderr, "bondcast sim: %s\n", message.c_str());
  return kExitUsage;
}

int runSim(const SimOptions& o) {
  if (auto probe = sched::makeScheduler(o.policy); !probe) {
    return usageError(probe.error().message);
  }
  const std::string shared = o.shared_dir.empty() ? sim::defaultSharedDir() : o.shared_dir;
  sim::SimOverrides overrides;
  overrides.seed = o.seed;
  if (!o.duration.empty()) {
    auto d = parseRunLength(o.duration);
    if (!d) {
      return usageError("--duration='" + o.duration + "': expected a time above 0");
    }
    overrides.duration = *d;
  }
  if (!o.bitrate.empty()) {
    auto bps = parseBitrateBps(o.bitrate);
    if (!bps || *bps == 0) {
      return usageError("--bitrate='" + o.bitrate + "': expected a rate above 0 (8mbit)");
    }
    overrides.bitrate_bps = *bps;
  }
  if (!o.latency.empty()) {
    // parseDuration reads a bare number as milliseconds, as bondcast send's --latency.
    auto d = parseDuration(o.latency);
    if (!d || d->count() <= 0) {
      return usageError("--latency='" + o.latency + "': expected a time above 0 (300, 300ms)");
    }
    overrides.latency = *d;
  }
  auto scenario = sim::loadScenario(o.scenario, shared, overrides);
  if (!scenario) {
    return usageError(scenario.error().message);
  }
  const auto start = std::chrono::steady_clock::now();
  auto report = sim::simulate(*scenario, o.policy, !o.no_bounds);
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
  if (!report) {
    return usageError(report.error().message);
  }
  nlohmann::json out = sim::toJson(*report);
  out["wall_time_s"] = wall.count();
  const std::string text = out.dump(o.compact ? -1 : 2) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

}  // namespace

void addSim(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand(
      "sim",
      "Simulate a scheduler policy over a scenario (deterministic, no sockets) and print "
      "JSON: packets on time/late/lost, frames on time, duplicates, bytes on the wire per "
      "link, overhead, latency percentiles, and the same for a pooled-capacity oracle and "
      "ideal broadcast");
  auto o = std::make_shared<SimOptions>();
  sub->add_option("--scenario", o->scenario,
                  "Scenario file (JSON): links, events, video, latency and optional scheduler "
                  "settings (see scheduler/config.h); the schema bondcast emulate reads too "
                  "(eval/emulator/README.md). Examples in scheduler/sim/scenarios/ and "
                  "eval/scenarios/")
      ->required();
  sub->add_option("--policy", o->policy,
                  "Scheduler policy: " + sched::knownPoliciesText() + " (default latency-aware)");
  sub->add_option("--seed", o->seed,
                  "Seed for every random draw (loss, jitter); default: the scenario's");
  sub->add_option("--duration", o->duration,
                  "Seconds of video to simulate, or with a unit (30, 30s, 2m); default: the "
                  "scenario's");
  sub->add_option("--bitrate", o->bitrate,
                  "The video's mean bitrate in bits/s with a unit (8mbit, 500kbit); default: "
                  "the scenario's video block (a scenario without one needs this)");
  sub->add_option("--latency", o->latency,
                  "The receiver's latency in ms (300), or with a unit (1s); default: the "
                  "scenario's, else 300 ms");
  sub->add_option("--shared-dir", o->shared_dir,
                  "Folder that ${shared} in trace paths stands for; default: "
                  "$BONDCAST_SHARED_DIR or the one configured at build time");
  sub->add_flag("--no-bounds", o->no_bounds, "Skip the oracle and ideal-broadcast runs");
  sub->add_flag("--compact", o->compact, "One-line JSON");
  sub->callback([&chosen, o] { chosen = [o] { return runSim(*o); }; });
}

}  // namespace bondcast::app
