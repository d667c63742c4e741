// SPDX-License-Identifier: MPL-2.0
#include "scheduler/decision_stats.h"

#include <nlohmann/json.hpp>

namespace bondcast::sched {

nlohmann::json toJson(const SchedulerStats& stats) {
  nlohmann::json links = nlohmann::json::array();
  for (const LinkDecisionCounters& c : stats.links) {
    links.push_back({{"picked", c.picked},
                     {"skipped_late", c.skipped_late},
                     {"skipped_full", c.skipped_full},
                     {"duplicated", c.duplicated},
                     {"resent", c.resent},
                     {"picked_bytes", c.picked_bytes},
                     {"duplicated_bytes", c.duplicated_bytes},
                     {"resent_bytes", c.resent_bytes}});
  }
  return {{"policy", stats.policy},         {"packets", stats.packets},
          {"unsendable", stats.unsendable}, {"dropped_late", stats.dropped_late},
          {"sent_later", stats.sent_later}, {"link_failures", stats.link_failures},
          {"receipts", stats.receipts},     {"links", links}};
}

}  // namespace bondcast::sched
