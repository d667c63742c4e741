// SPDX-License-Identifier: MPL-2.0
#include "scheduler/policies/backup.h"

namespace bondcast::sched {

// Keeps the active link while it is up unless a cheaper one is up; otherwise the
// cheapest up link (lowest id on ties), or, with none up, the cheapest stalled one.
std::optional<LinkId> BackupPolicy::chooseActive() {
  const LinkModel* best = nullptr;
  for (const LinkModel& link : models()) {
    if (!link.isConnected())
      continue;
    auto rank = [](const LinkModel& l) { return std::make_pair(!l.isUp(), l.cost()); };
    if (best == nullptr || rank(link) < rank(*best))
      best = &link;
  }
  if (best == nullptr)
    return std::nullopt;
  if (active_) {
    const LinkModel& current = models()[*active_];
    if (current.isUp() && !(best->isUp() && best->cost() < current.cost()))
      return active_;
  }
  return best->id();
}

PolicyBase::Decision BackupPolicy::decide(const Packet& /*packet*/, TimePoint /*now*/) {
  active_ = chooseActive();
  Decision decision;
  if (active_)
    decision.links.add(*active_);
  return decision;
}

LinkSet BackupPolicy::resendTargets(const Packet& /*packet*/, LinkId failed, TimePoint /*now*/) {
  active_ = chooseActive();
  LinkSet targets;
  if (active_ && *active_ != failed)
    targets.add(*active_);
  return targets;
}

}  // namespace bondcast::sched
