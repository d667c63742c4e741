// SPDX-License-Identifier: MPL-2.0
#include "scheduler/policies/min_rtt.h"

#include <algorithm>

namespace bondcast::sched {

std::uint64_t MinRttPolicy::windowBytes(const LinkModel& link) const {
  const double rtt_s = std::chrono::duration<double>(link.srtt()).count();
  const auto bdp =
      static_cast<std::uint64_t>(config().window_rtts * link.bandwidthBps() / 8 * rtt_s);
  return std::max(config().min_window_bytes, bdp);
}

PolicyBase::Decision MinRttPolicy::decide(const Packet& packet, TimePoint /*now*/) {
  const LinkModel* best_open = nullptr;
  const LinkModel* best_any = nullptr;
  for (const LinkModel& link : models()) {
    if (!link.isUp())
      continue;
    if (best_any == nullptr || link.srtt() < best_any->srtt())
      best_any = &link;
    if (link.unackedBytes() + packet.size_bytes > windowBytes(link)) {
      ++counters(link.id()).skipped_full;
      continue;
    }
    if (best_open == nullptr || link.srtt() < best_open->srtt())
      best_open = &link;
  }
  Decision decision;
  if (const LinkModel* chosen = best_open ? best_open : best_any) {
    decision.links.add(chosen->id());
  } else {
    for (const LinkModel& link : models()) {
      if (link.isConnected() && decision.links.empty())
        decision.links.add(link.id());
    }
  }
  return decision;
}

}  // namespace bondcast::sched
