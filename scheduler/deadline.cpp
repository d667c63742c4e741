// SPDX-License-Identifier: MPL-2.0
#include "scheduler/deadline.h"

#include <algorithm>

namespace bondcast::sched {

void DeadlineClock::update(const Scheduler& scheduler, TimePoint now) {
  std::optional<Micros> fastest;
  for (LinkId i = 0; i < scheduler.linkCount(); ++i) {
    const LinkModel& link = scheduler.link(i);
    if (link.hasRtt() && (!fastest || link.oneWayDelay() < *fastest)) {
      fastest = link.oneWayDelay();
    }
  }
  if (!fastest) {
    return;
  }
  if (!base_ || *fastest <= *base_) {
    base_ = fastest;
  } else {
    const auto rise = std::chrono::duration_cast<Micros>((now - updated_at_) * max_rise_);
    base_ = std::min(*fastest, *base_ + rise);
  }
  updated_at_ = now;
}

}  // namespace bondcast::sched
