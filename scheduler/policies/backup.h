// SPDX-License-Identifier: MPL-2.0
// backup: one active link, the cheapest (lowest cost = highest priority) that is up;
// the others stand by (SRT's SRT_GTYPE_BACKUP with member weights). When the active
// link stalls or goes down the next one takes over and gets what the failed one still
// held unacknowledged, as libsrt's backup group re-sends its unacknowledged packets on
// the newly activated member.
#pragma once

#include <optional>

#include "scheduler/policy_base.h"

namespace bondcast::sched {

class BackupPolicy final : public PolicyBase {
 public:
  explicit BackupPolicy(SchedulerConfig config) : PolicyBase("backup", std::move(config)) {}

 protected:
  Decision decide(const Packet& packet, TimePoint now) override;
  bool resendsOnFailure() const override { return true; }
  LinkSet resendTargets(const Packet& packet, LinkId failed, TimePoint now) override;

 private:
  std::optional<LinkId> chooseActive();
  std::optional<LinkId> active_;
};

}  // namespace bondcast::sched
