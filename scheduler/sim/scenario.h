// SPDX-License-Identifier: MPL-2.0
// A simulation scenario: the links (capacity, delay, jitter, loss, queue, outages), the
// video source and the receiver's latency budget. Loaded from JSON; every error names
// the field it is about. See scenarios/*.json for examples.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/netmodel/loss.h"
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

struct LinkSpec {
  std::string name;
  double cost = 1;
  std::string rate_text;                       // as written, for reports
  double rate_bps = 0;                         // constant capacity, when no trace
  std::shared_ptr<const CapacityTrace> trace;  // capacity trace (looped)
  Micros delay{0};                             // one-way, both directions
  Micros jitter{0};                            // uniform +-jitter on the way there
  LossSpec loss;
  std::uint64_t queue_limit_bytes = 0;               // 0: no byte limit
  Micros queue_limit_time{std::chrono::seconds(1)};  // 0: no time limit
  std::vector<Outage> outages;                       // sorted, not overlapping
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

struct Scenario {
  std::string name;
  std::uint64_t seed = 1;
  Micros duration{std::chrono::seconds(60)};
  Micros latency{std::chrono::milliseconds(300)};      // receiver's latency budget
  Micros stats_period{std::chrono::milliseconds(10)};  // srt_bistats polling period
  VideoSpec video;
  std::vector<LinkSpec> links;
  sched::SchedulerConfig scheduler;
};

// `shared_dir` replaces "${shared}" in trace paths; other relative paths are read from
// `base_dir` (the scenario file's folder).
Result<Scenario> parseScenario(const nlohmann::json& json, const std::string& base_dir,
                               const std::string& shared_dir);
Result<Scenario> loadScenario(const std::string& path, const std::string& shared_dir);

}  // namespace bondcast::sim
