// SPDX-License-Identifier: MPL-2.0
// Every decision the scheduler makes, counted per link (STYLE.md rule 8): one struct
// feeds logs, the stats endpoint and test assertions alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bondcast::sched {

struct LinkDecisionCounters {
  std::uint64_t picked = 0;        // carried the primary copy of a new packet
  std::uint64_t skipped_late = 0;  // usable, but could not meet the packet's deadline
  std::uint64_t skipped_full = 0;  // usable, but its window or queue was full
  std::uint64_t duplicated = 0;    // carried an extra copy (important, at risk, or a probe)
  std::uint64_t resent = 0;        // carried a packet that a failing link still held
  std::uint64_t picked_bytes = 0;
  std::uint64_t duplicated_bytes = 0;
  std::uint64_t resent_bytes = 0;
};

struct SchedulerStats {
  std::string policy;
  std::uint64_t packets = 0;        // pick() calls
  std::uint64_t unsendable = 0;     // pick() found no usable link at all
  std::uint64_t dropped_late = 0;   // not sent: no link could deliver it by its deadline
  std::uint64_t sent_later = 0;     // first judged too late by pick(), then sent by takeResends()
  std::uint64_t link_failures = 0;  // Up -> Stalled/Down transitions seen
  std::uint64_t receipts = 0;       // receipts from the receiver taken (onReceipt)
  std::vector<LinkDecisionCounters> links;  // indexed by LinkId
};

nlohmann::json toJson(const SchedulerStats& stats);

}  // namespace bondcast::sched
