// SPDX-License-Identifier: MPL-2.0
// broadcast: every packet on every connected link (SRT's SRT_GTYPE_BROADCAST). Hitless
// while one link lives; N x the bitrate; each link must carry the whole stream.
#pragma once

#include "scheduler/policy_base.h"

namespace bondcast::sched {

class BroadcastPolicy final : public PolicyBase {
 public:
  explicit BroadcastPolicy(SchedulerConfig config) : PolicyBase("broadcast", std::move(config)) {}

 protected:
  Decision decide(const Packet& packet, TimePoint now) override;
};

}  // namespace bondcast::sched
