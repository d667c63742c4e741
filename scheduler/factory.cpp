// SPDX-License-Identifier: MPL-2.0
#include "scheduler/factory.h"

#include "scheduler/policies/backup.h"
#include "scheduler/policies/broadcast.h"
#include "scheduler/policies/latency_aware.h"
#include "scheduler/policies/min_rtt.h"
#include "scheduler/policies/round_robin.h"
#include "scheduler/policies/srtla.h"

namespace bondcast::sched {

const std::vector<std::string_view>& knownPolicies() {
  static const std::vector<std::string_view> names = {"broadcast", "backup", "round-robin",
                                                      "min-rtt",   "srtla",  "latency-aware"};
  return names;
}

std::string knownPoliciesText() {
  std::string text;
  for (std::string_view name : knownPolicies()) {
    if (!text.empty())
      text += ", ";
    text += name;
  }
  return text;
}

Result<std::unique_ptr<Scheduler>> makeScheduler(std::string_view name,
                                                 const SchedulerConfig& config) {
  std::unique_ptr<Scheduler> s;
  if (name == "broadcast")
    s = std::make_unique<BroadcastPolicy>(config);
  else if (name == "backup")
    s = std::make_unique<BackupPolicy>(config);
  else if (name == "round-robin")
    s = std::make_unique<RoundRobinPolicy>(config);
  else if (name == "min-rtt")
    s = std::make_unique<MinRttPolicy>(config);
  else if (name == "srtla")
    s = std::make_unique<SrtlaPolicy>(config);
  else if (name == "latency-aware")
    s = std::make_unique<LatencyAwarePolicy>(config);
  else {
    return Error{"unknown policy '" + std::string(name) + "' (known: " + knownPoliciesText() + ")"};
  }
  return s;
}

}  // namespace bondcast::sched
