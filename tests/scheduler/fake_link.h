// SPDX-License-Identifier: MPL-2.0
// Test helpers: a fake clock (time points built from milliseconds) and srt_bistats-like
// readings for a link in a given condition.
#pragma once

#include <chrono>

#include "scheduler/types.h"

namespace bondcast::sched::testing {

using std::chrono::milliseconds;

inline TimePoint at(std::int64_t ms) {
  return TimePoint{} + milliseconds(ms);
}

// A healthy link: RTT `rtt_ms`, capacity `bps`, `held` packets of 1316 bytes unacked for
// about one RTT.
inline LinkFeedback healthyStats(std::int64_t rtt_ms, double bps, std::uint64_t held = 0) {
  LinkFeedback s;
  s.rtt = milliseconds(rtt_ms);
  s.bandwidth_bps = bps;
  s.send_buffer_packets = held;
  s.send_buffer_bytes = held * 1316;
  s.flight_packets = held;
  s.send_buffer_time = held ? milliseconds(rtt_ms) : milliseconds(0);
  return s;
}

inline Packet packet(std::uint64_t seq, TimePoint deadline,
                     Importance importance = Importance::kNone) {
  return Packet{seq, 1316, deadline, importance};
}

}  // namespace bondcast::sched::testing
