// SPDX-License-Identifier: MPL-2.0
// Settings shared by the policies; each default is defined once, here.
#pragma once

#include <chrono>
#include <cstdint>

#include "scheduler/link_model.h"
#include "scheduler/types.h"

namespace bondcast::sched {

// The redundancy budget the sender, the GStreamer sink and the simulator use unless told
// otherwise (--redundancy-budget, redundancy-budget, a scenario's "scheduler" section).
inline constexpr double kDefaultOverheadBudget = 0.04;

// Every setting here is what the real sender ships with and what `bondcast sim` runs:
// the simulator's results are the shipped scheduler's.
struct SchedulerConfig {
  // latency-aware: bytes it may add as extra copies (important or at-risk packets and
  // probes), as a fraction of the payload bytes, with a bounded credit for bursts.
  // Re-sends are paid from the same credit and may run it into debt (the debt holds extra
  // copies back until the budget has earned it back), but only so far: copies re-sent
  // because their link went silent or saturated (rescue) down to -rescue_debt_bytes, a
  // failed link's copies and a lossy link's hole at its last chance (known losses, where
  // the rescues are guesses) down to -resend_debt_bytes; past that they are refused too, so
  // that links failing under overload do not feed it. 900 kB for rescues: what an 8
  // Mbit/s stream sends in about a second; the simulator's demo links lost 24-47 packets
  // per 30 s run at 300 kB, none at 900 kB. Failures get 450 kB more, so that a link that
  // fails outright finds credit for what it held: in the real demo cell-B's losses and
  // jitter kept the rescues at the one shared limit (they spent about 1 Mbit/s in the
  // first 10 s), and when cell-B dropped out none of the ~25 copies it held went again.
  double overhead_budget = kDefaultOverheadBudget;
  std::uint64_t budget_burst_bytes = 300'000;
  std::uint64_t rescue_debt_bytes = 900'000;
  std::uint64_t resend_debt_bytes = 1'350'000;
  // latency-aware: an extra copy (important or at-risk packet) goes only on a link whose
  // expected queue is shorter than this, i.e. one with capacity to spare: on a saturated
  // link every extra copy takes the place of another packet.
  Micros extra_copy_max_queue{std::chrono::milliseconds(5)};
  // latency-aware: slack kept between the expected arrival and the deadline, on top of
  // twice the RTT variation.
  Micros safety_margin{std::chrono::milliseconds(5)};
  // latency-aware: a link's expected queue delay is stretched by this fraction before its
  // arrival is judged against a deadline. The queue is known from feedback a round trip
  // old; if the capacity has fallen since, every queued byte waits longer, and a copy
  // that arrives late wasted the slot of one that could have made it.
  double queue_uncertainty = 0.6;
  // latency-aware: a packet that no link is expected to deliver by its deadline is not
  // sent now (pick() returns no link). It is kept while some link's one-way delay still
  // fits before its deadline and judged again, newest first (the most slack), at every
  // takeResends(): when a link is now expected to meet its deadline (feedback showed its
  // queue shorter than believed), it goes there; otherwise it is never sent
  // (stats().dropped_late counts those). On a saturated link a copy that cannot make it
  // only takes the place of one that can.
  bool drop_when_late = true;
  // latency-aware: a link whose acknowledgements have not moved for this long while it
  // holds copies that are due may have gone dark (cellular links do, for 100-500 ms): the
  // copies it holds get another copy on a link with capacity to spare (queue below
  // extra_copy_max_queue), paid from the overhead credit. 0 turns this off. Stall
  // detection (LinkModel::stallThreshold) comes later, after one more RTT of silence.
  Micros silence_resend_after{std::chrono::milliseconds(30)};
  // latency-aware: a stalled link gets one copy this often, so its recovery is seen.
  Micros probe_interval{std::chrono::milliseconds(100)};
  // latency-aware: a link losing more than this fraction puts its packets at risk.
  double lossy_link = 0.05;
  // min-rtt: window of a link, in smoothed RTTs of its capacity estimate (and at least
  // min_window_bytes): the stand-in for a congestion window.
  double window_rtts = 2.0;
  std::uint64_t min_window_bytes = 16 * 1500;
  LinkModelTuning link;
};

}  // namespace bondcast::sched
