// SPDX-License-Identifier: MPL-2.0
// When a packet must reach the receiver: the sender's side of the playout clock.
//
// The receiver plays every packet out at its source time + latency + the fastest link's
// one-way delay as it first measured it, and follows that delay up only as fast as
// clocks drift (playout/playout_clock.h). The sender's deadlines are that moment,
// estimated the same way from its links' base RTTs: the base delay is the smallest
// one-way delay (base RTT / 2) of any link measured so far, following a lower value at
// once and a higher one at most `max_rise` (200 ppm) of the time that passed. A link that
// dies does not move it: the receiver's offset does not move either.
//
// Pure logic; time is passed in. Thread: the scheduler's.
#pragma once

#include <optional>

#include "scheduler/scheduler.h"

namespace bondcast::sched {

class DeadlineClock {
 public:
  explicit DeadlineClock(Micros latency, double max_rise = 200e-6)
      : latency_(latency), max_rise_(max_rise) {}

  // After link feedback: the links' base RTTs as the scheduler's models now have them.
  void update(const Scheduler& scheduler, TimePoint now);
  // source time + latency + base delay (0 until a link measured an RTT).
  TimePoint deadline(TimePoint source_time) const { return source_time + latency_ + baseDelay(); }
  Micros baseDelay() const { return base_.value_or(Micros::zero()); }
  Micros latency() const { return latency_; }

 private:
  Micros latency_;
  double max_rise_;
  std::optional<Micros> base_;
  TimePoint updated_at_{};
};

}  // namespace bondcast::sched
