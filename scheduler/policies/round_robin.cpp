// SPDX-License-Identifier: MPL-2.0
#include "scheduler/policies/round_robin.h"

namespace bondcast::sched {

// The next up link after the previous choice; stalled links only when none is up.
PolicyBase::Decision RoundRobinPolicy::decide(const Packet& /*packet*/, TimePoint /*now*/) {
  Decision decision;
  const auto n = static_cast<LinkId>(models().size());
  for (bool allow_stalled : {false, true}) {
    for (LinkId k = 0; k < n && decision.links.empty(); ++k) {
      const LinkModel& link = models()[(next_ + k) % n];
      if (link.isUp() || (allow_stalled && link.isConnected())) {
        decision.links.add(link.id());
        next_ = (link.id() + 1) % n;
      }
    }
  }
  return decision;
}

}  // namespace bondcast::sched
