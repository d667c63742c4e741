// SPDX-License-Identifier: MPL-2.0
// What a receiver with a latency budget got from one run, and the JSON it prints as.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "scheduler/decision_stats.h"
#include "scheduler/sim/link_sim.h"
#include "scheduler/sim/video_source.h"

namespace bondcast::sim {

struct LinkReport {
  std::string name;
  LinkCounters counters;
  std::uint64_t retransmissions = 0;  // SRT's own re-sends on this link
};

struct LatencySummary {  // first-copy arrival minus source time, milliseconds
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};

struct DeliveryReport {
  std::string label;
  std::uint64_t packets = 0;
  std::uint64_t on_time = 0;  // a copy arrived by its playout time (played out)
  std::uint64_t late = 0;     // arrived, but only after that (dropped)
  std::uint64_t lost = 0;     // never arrived
  std::uint64_t frames = 0;
  std::uint64_t frames_on_time = 0;  // every packet of the frame on time
  std::uint64_t duplicates = 0;      // extra copies that reached the merge (dropped there)
  std::uint64_t payload_bytes = 0;
  std::uint64_t wire_bytes = 0;  // every copy and retransmission on every link
  LatencySummary latency;
  std::vector<std::uint32_t> missed_by_second;  // late or lost packets, by source second
  std::vector<LinkReport> links;
  std::optional<sched::SchedulerStats> scheduler;

  double onTimeFraction() const { return packets ? static_cast<double>(on_time) / packets : 0; }
  double missFraction() const { return 1.0 - onTimeFraction(); }
  double overhead() const {
    return payload_bytes ? static_cast<double>(wire_bytes) / payload_bytes - 1.0 : 0;
  }
};

// Scores one run from the first arrival of each packet (-1 = never) and whether it was
// played out (a copy came by its playout time).
DeliveryReport score(std::string label, const std::vector<SourcePacket>& stream,
                     const std::vector<SimTime>& first_arrival_us,
                     const std::vector<std::uint16_t>& copies, const std::vector<bool>& on_time);

nlohmann::json toJson(const DeliveryReport& report);

}  // namespace bondcast::sim
