// SPDX-License-Identifier: MPL-2.0
// round-robin: each packet on the next up link in turn (RIST's round-robin bonding):
// no capacity or delay awareness at all.
#pragma once

#include "scheduler/policy_base.h"

namespace bondcast::sched {

class RoundRobinPolicy final : public PolicyBase {
 public:
  explicit RoundRobinPolicy(SchedulerConfig config)
      : PolicyBase("round-robin", std::move(config)) {}

 protected:
  Decision decide(const Packet& packet, TimePoint now) override;

 private:
  LinkId next_ = 0;
};

}  // namespace bondcast::sched
