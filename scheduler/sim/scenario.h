// SPDX-License-Identifier: MPL-2.0
// What one simulation runs: the links (capacity, delay, jitter, loss, queue, outages and
// changes over time), the video source and the receiver's latency budget. Built from a
// network scenario (common/netmodel/scenario.h: the schema `bondcast emulate` reads too)
// plus the scenario's video and scheduler blocks; every error names the field it is
// about. Examples: scenarios/*.json and eval/scenarios/*.json.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/netmodel/loss.h"
#include "common/netmodel/scenario.h"
#include "common/result.h"
#include "common/trace.h"
#include "scheduler/config.h"
#include "scheduler/types.h"

namespace bondcast::sim {

using sched::Micros;

// Random loss: common/netmodel/loss.h, the emulator's too.
using net::LossSpec;

struct Outage {  // the link is dark in both directions during [start, end)
  Micros start{0};
  Micros end{0};
};

// From `at` on, the link's one-way delay, jitter or loss (those set) change.
struct LinkChange {
  Micros at{0};
  std::optional<Micros> delay;
  std::optional<Micros> jitter;
  std::optional<LossSpec> loss;
};

struct LinkSpec {
  std::string name;
  double cost = 1;
  std::string rate_text;                       // as written, for reports
  double rate_bps = 0;                         // constant capacity, when no trace
  std::shared_ptr<const CapacityTrace> trace;  // capacity trace (looped)
  Micros delay{0};                             // one-way, sender -> receiver
  Micros rev_delay{0};                         // receiver -> sender (ACKs, NAKs)
  Micros jitter{0};                            // uniform +-jitter on the way there
  LossSpec loss;
  std::uint64_t queue_limit_bytes = 0;               // 0: no byte limit
  Micros queue_limit_time{std::chrono::seconds(1)};  // 0: no time limit
  std::vector<Outage> outages;                       // sorted, not overlapping
  std::vector<LinkChange> changes;                   // sorted by time
  // The lowest (delay - jitter) and the highest delay over the whole run.
  Micros minOneWay() const;
  Micros maxDelay() const;
};

struct VideoSpec {
  enum class Kind { kCbr, kFrames };
  Kind kind = Kind::kFrames;
  std::uint64_t bitrate_bps = 0;  // video, mean
  double fps = 30;
  std::uint32_t gop_frames = 60;  // an I-frame every gop_frames frames
  double iframe_ratio = 5;        // I-frame size / P-frame size
  std::uint32_t packet_bytes = 1316;
  std::uint64_t audio_bps = 0;  // optional audio packets (flagged), 0 = none
};

struct SimSetup {
  std::string name;
  std::uint64_t seed = 1;
  Micros duration{std::chrono::seconds(60)};
  Micros latency{std::chrono::milliseconds(300)};      // receiver's latency budget
  Micros stats_period{std::chrono::milliseconds(10)};  // srt_bistats polling period
  VideoSpec video;
  std::vector<LinkSpec> links;
  sched::SchedulerConfig scheduler;
};

// What `bondcast sim`'s options set over the scenario's own values.
struct SimOverrides {
  std::optional<std::uint64_t> seed;
  std::optional<Micros> duration;
  std::optional<std::uint64_t> bitrate_bps;  // the video's; a scenario without one gets
                                             // a frames video (VideoSpec's defaults)
  std::optional<Micros> latency;
};

// The simulator's run of a network scenario. What the simulator cannot model is an
// error naming the field: a link without a capacity, reordering, a return path with
// more than a delay, an outage in one direction only, a rate change on a trace link.
// The emulator's endpoints (listen, to, from, via) are for sockets and not used here.
Result<SimSetup> fromScenario(const net::Scenario& scenario, const SimOverrides& overrides = {});
// `shared_dir` replaces "${shared}" in trace paths; other relative paths are read from
// `base_dir` (the scenario file's folder).
Result<SimSetup> parseScenario(const nlohmann::json& json, const std::string& base_dir,
                               const std::string& shared_dir, const SimOverrides& overrides = {});
Result<SimSetup> loadScenario(const std::string& path, const std::string& shared_dir,
                              const SimOverrides& overrides = {});

}  // namespace bondcast::sim
