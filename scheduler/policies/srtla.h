// SPDX-License-Identifier: MPL-2.0
// srtla: the open-source cellular bonding baseline (BELABOX srtla_send.c). Each link has
// a window (x1000) that grows by 1 on every acknowledged packet of any link (by 30 on its
// own while its in-flight packets fill the window) and shrinks by 100 on every NAK; a
// packet goes to the link with the highest window / (in-flight + 1). Links stay eligible
// while connected (srtla drops a link only after 4 s of silence).
#pragma once

#include <vector>

#include "scheduler/policy_base.h"

namespace bondcast::sched {

class SrtlaPolicy final : public PolicyBase {
 public:
  static constexpr int kWindowMin = 1000;
  static constexpr int kWindowDefault = 20'000;
  static constexpr int kWindowMax = 60'000;
  static constexpr int kWindowDecrease = 100;
  static constexpr int kWindowIncrease = 30;

  explicit SrtlaPolicy(SchedulerConfig config) : PolicyBase("srtla", std::move(config)) {}
  LinkId addLink(const LinkConfig& config, TimePoint now) override;
  int window(LinkId link) const { return windows_.at(link); }

 protected:
  Decision decide(const Packet& packet, TimePoint now) override;
  void afterReset(LinkId link, TimePoint /*now*/) override { windows_.at(link) = kWindowDefault; }
  void afterStats(LinkId link, TimePoint now) override;

 private:
  std::vector<int> windows_;
};

}  // namespace bondcast::sched
