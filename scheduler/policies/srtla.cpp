// SPDX-License-Identifier: MPL-2.0
#include "scheduler/policies/srtla.h"

#include <algorithm>

namespace bondcast::sched {

LinkId SrtlaPolicy::addLink(const LinkConfig& config, TimePoint now) {
  windows_.push_back(kWindowDefault);
  return PolicyBase::addLink(config, now);
}

// srtla learns acks and NAKs per packet; here they arrive in batches with each reading.
void SrtlaPolicy::afterStats(LinkId id, TimePoint /*now*/) {
  const LinkModel& link = models()[id];
  const auto acked = static_cast<int>(std::min<std::uint64_t>(link.lastAckedPackets(), 100'000));
  const auto lost = static_cast<int>(std::min<std::uint64_t>(link.lastLostPackets(), 100'000));
  int& own = windows_[id];
  own = std::max(kWindowMin, own - lost * kWindowDecrease);
  if (static_cast<std::uint64_t>(own) < link.unackedPackets() * 1000) {
    own += acked * (kWindowIncrease - 1);
  }
  for (int& w : windows_)
    w = std::min(kWindowMax, w + acked);
}

PolicyBase::Decision SrtlaPolicy::decide(const Packet& /*packet*/, TimePoint /*now*/) {
  const LinkModel* best = nullptr;
  std::uint64_t best_score = 0;
  for (const LinkModel& link : models()) {
    if (!link.isConnected())
      continue;
    const std::uint64_t score =
        static_cast<std::uint64_t>(windows_[link.id()]) / (link.unackedPackets() + 1);
    if (best == nullptr || score > best_score) {
      best = &link;
      best_score = score;
    }
  }
  Decision decision;
  if (best != nullptr)
    decision.links.add(best->id());
  return decision;
}

}  // namespace bondcast::sched
