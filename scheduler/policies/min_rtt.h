// SPDX-License-Identifier: MPL-2.0
// min-rtt: the up link with the lowest smoothed RTT that still has room in its window
// (Linux MPTCP's default scheduler). The window stands in for a congestion window:
// window_rtts x capacity estimate x RTT. With every window full it still sends, on the
// lowest-RTT link (live video cannot wait).
#pragma once

#include "scheduler/policy_base.h"

namespace bondcast::sched {

class MinRttPolicy final : public PolicyBase {
 public:
  explicit MinRttPolicy(SchedulerConfig config) : PolicyBase("min-rtt", std::move(config)) {}

 protected:
  Decision decide(const Packet& packet, TimePoint now) override;

 private:
  std::uint64_t windowBytes(const LinkModel& link) const;
};

}  // namespace bondcast::sched
