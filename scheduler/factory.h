// SPDX-License-Identifier: MPL-2.0
// The one place that knows every policy: create a scheduler by name (STYLE.md rule 3).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "scheduler/config.h"
#include "scheduler/scheduler.h"

namespace bondcast::sched {

// broadcast, backup, round-robin, min-rtt, srtla, latency-aware.
const std::vector<std::string_view>& knownPolicies();
// The names above joined with ", " for messages.
std::string knownPoliciesText();

// An unknown name is an error whose message lists the known names.
Result<std::unique_ptr<Scheduler>> makeScheduler(std::string_view name,
                                                 const SchedulerConfig& config = {});

}  // namespace bondcast::sched
