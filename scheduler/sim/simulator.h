// SPDX-License-Identifier: MPL-2.0
// The deterministic discrete-event simulator: a video source, a scheduler policy, N
// SRT links and a receiver that merges copies and judges each packet against the
// latency budget. No real time, no sockets: seconds of video in milliseconds.
//
//   source --pick()--> scheduler --copies--> SrtLink 0..N-1 --> merge (first copy wins)
//                         ^                      |
//                         +--- LinkFeedback every stats_period (as srt_bistats shows them)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "scheduler/sim/report.h"
#include "scheduler/sim/scenario.h"

namespace bondcast::sim {

struct SimReport {
  std::string scenario;
  std::uint64_t seed = 0;
  double simulated_s = 0;
  DeliveryReport policy;
  std::optional<DeliveryReport> pooled_oracle;    // all links as one pipe: no scheduler does better
  std::optional<DeliveryReport> ideal_broadcast;  // every packet on every link, no bottlenecks
};

// One policy over the scenario. unlimited_capacity removes every bottleneck (for the
// ideal-broadcast bound). An unknown policy is an error listing the known names.
Result<DeliveryReport> runPolicy(const SimSetup& scenario, std::string_view policy,
                                 bool unlimited_capacity = false);

// The pooled-capacity bound: no scheduler can deliver more packets on time. When every
// link replays a trace: the most packets that the links' opportunities (one packet
// each, not while the link is down) can carry in time, each link with its own one-way
// delay minus jitter and no random loss, as a clairvoyant sender feeding every link
// exactly the right packet would (oracle.cpp). Otherwise: one FIFO pipe whose capacity
// at each millisecond is the sum of the links that are up, the smallest one-way delay
// minus jitter, no random loss, and hopeless packets skipped.
DeliveryReport pooledOracle(const SimSetup& scenario);

// The policy and, with_bounds, both bounds (which cost about two more runs).
Result<SimReport> simulate(const SimSetup& scenario, std::string_view policy,
                           bool with_bounds = true);

nlohmann::json toJson(const SimReport& report);

// Where "${shared}" in scenario files points: $BONDCAST_SHARED_DIR, else the folder
// the build was configured with (BONDCAST_SHARED_DIR).
std::string defaultSharedDir();

}  // namespace bondcast::sim
