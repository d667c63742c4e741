// SPDX-License-Identifier: MPL-2.0
#include "scheduler/policies/broadcast.h"

namespace bondcast::sched {

// Like libsrt's broadcast group, a silent (stalled) member keeps getting copies until
// its connection is reported down.
PolicyBase::Decision BroadcastPolicy::decide(const Packet& /*packet*/, TimePoint /*now*/) {
  Decision decision;
  for (const LinkModel& link : models()) {
    if (link.isConnected())
      decision.links.add(link.id());
  }
  return decision;
}

}  // namespace bondcast::sched
