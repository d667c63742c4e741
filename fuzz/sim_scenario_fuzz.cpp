// SPDX-License-Identifier: MPL-2.0
// The simulator's scenarios (scheduler/sim/scenario.h): the network scenario's parse
// (common/netmodel/scenario.h) and the simulator's setup from it, on any JSON: the step
// after the file is read (loadScenario only adds the file). Inputs whose flaps expand
// to more than 100,000 steps are skipped (one input's memory stays small).
// Scenarios that name a capacity trace (trace:, series:) are skipped: those read files,
// which a fuzz target must not.
// Checks: an accepted scenario has 1 to kMaxLinks links, each with a capacity, jitter
// within delay, probabilities in [0, 1], outages sorted, apart and each ending after it
// starts, changes in time order; times above 0; the video within its documented bounds.
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "fuzz/scenario_inputs.h"
#include "scheduler/sim/scenario.h"

namespace {

using namespace bondcast;
using namespace bondcast::sim;
using bondcast::fuzz::isProbability;
using bondcast::fuzz::jsonNamesTrace;
using bondcast::fuzz::namesTrace;

constexpr std::uint64_t kMaxTimelineSteps = 100'000;

void checkLink(const LinkSpec& link) {
  FUZZ_CHECK(!link.name.empty());
  FUZZ_CHECK(link.cost >= 0 && link.cost <= 1e9);
  FUZZ_CHECK(link.trace || link.rate_bps > 0);
  FUZZ_CHECK(link.delay.count() >= 0 && link.jitter.count() >= 0 && link.jitter <= link.delay);
  FUZZ_CHECK(link.rev_delay.count() >= 0 && link.minOneWay() <= link.maxDelay());
  for (std::size_t i = 1; i < link.changes.size(); ++i) {
    FUZZ_CHECK(link.changes[i - 1].at <= link.changes[i].at);
  }
  FUZZ_CHECK(isProbability(link.loss.p_loss) && isProbability(link.loss.p_good_bad) &&
             isProbability(link.loss.p_bad_good) && isProbability(link.loss.loss_bad) &&
             isProbability(link.loss.loss_good));
  FUZZ_CHECK(link.queue_limit_time.count() >= 0);
  for (std::size_t i = 0; i < link.outages.size(); ++i) {
    const Outage& o = link.outages[i];
    FUZZ_CHECK(o.start.count() >= 0 && o.end >= o.start);
    FUZZ_CHECK(i == 0 || link.outages[i - 1].end < o.start);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || jsonNamesTrace(j)) {
    return 0;
  }
  const auto n = net::parseScenario(j, "fuzz", {"/nonexistent", "/nonexistent"});
  if (!n) {
    FUZZ_CHECK(!n.error().message.empty());
    return 0;
  }
  std::uint64_t steps = 0;
  for (const net::Event& e : n->config.events) {
    steps += e.action == net::Event::Action::Flap ? e.flap_count : 1;
  }
  if (steps > kMaxTimelineSteps) {
    return 0;
  }
  const auto s = fromScenario(*n);
  if (!s) {
    FUZZ_CHECK(!s.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(s->duration.count() > 0 && s->latency.count() > 0 && s->stats_period.count() > 0);
  FUZZ_CHECK(!s->links.empty() && s->links.size() <= sched::kMaxLinks);
  for (const LinkSpec& link : s->links) {
    checkLink(link);
  }
  const VideoSpec& v = s->video;
  FUZZ_CHECK(v.bitrate_bps > 0);
  FUZZ_CHECK(v.fps >= 1 && v.fps <= 240);
  FUZZ_CHECK(v.gop_frames >= 1 && v.gop_frames <= 10000);
  FUZZ_CHECK(v.iframe_ratio >= 1 && v.iframe_ratio <= 100);
  FUZZ_CHECK(v.packet_bytes >= 188 && v.packet_bytes <= 1456);
  FUZZ_CHECK(s->scheduler.overhead_budget >= 0 && s->scheduler.overhead_budget <= 10);
  FUZZ_CHECK(s->scheduler.safety_margin.count() >= 0);
  return 0;
}
