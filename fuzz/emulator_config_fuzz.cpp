// SPDX-License-Identifier: MPL-2.0
// The network scenario (common/netmodel/scenario.h) as the link emulator takes it: --link
// and --event specs and JSON scenario files, and the per-direction timelines the
// emulator builds from events.
//
// Input: a mode byte (0: a link spec, 1: an event spec, 2: a JSON scenario), then the text.
// Specs that name a capacity trace (trace:, series:) are skipped: those read files, which
// a fuzz target must not.
// Checks: an accepted link has a receiver port (if any), a cost in [0, 1e9], rates above 0,
// probabilities in [0, 1] and jitter within delay; an accepted event says when, which link and one
// thing to do, at a time that is not negative; a scenario's timelines are in time order and every
// outage ends after it starts.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/netmodel/scenario.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/scenario_inputs.h"

namespace {

using namespace bondcast;
using namespace bondcast::net;
using bondcast::fuzz::isProbability;
using bondcast::fuzz::jsonNamesTrace;
using bondcast::fuzz::namesTrace;
namespace fz = bondcast::fuzz;

constexpr std::uint64_t kMaxTimelineSteps = 100'000;  // keeps one input's memory small

void checkLoss(const LossSpec& loss) {
  FUZZ_CHECK(isProbability(loss.p_loss) && isProbability(loss.p_good_bad) &&
             isProbability(loss.p_bad_good) && isProbability(loss.loss_bad) &&
             isProbability(loss.loss_good));
  if (loss.kind == LossSpec::Kind::kGilbertElliott && loss.p_good_bad > 0) {
    FUZZ_CHECK(loss.p_bad_good > 0);
  }
  FUZZ_CHECK(isProbability(loss.meanLoss()));
}

void checkRate(const RateSpec& rate) {
  FUZZ_CHECK(rate.kind != RateSpec::Kind::kConstant || rate.bps > 0);
}

void checkDirection(const DirectionConfig& d) {
  checkRate(d.rate);
  checkLoss(d.loss);
  FUZZ_CHECK(d.delay.count() >= 0 && d.jitter.count() >= 0 && d.jitter <= d.delay);
  FUZZ_CHECK(!(d.queue.bytes && d.queue.time));
}

void checkLink(const LinkConfig& link) {
  FUZZ_CHECK(!link.to || link.to->port != 0);
  FUZZ_CHECK(!link.cost || (*link.cost >= 0 && *link.cost <= 1e9));
  checkDirection(link.fwd);
  checkDirection(link.rev);
}

void checkChange(const DirectionChange& c) {
  if (c.rate) {
    checkRate(*c.rate);
  }
  if (c.loss) {
    checkLoss(*c.loss);
  }
  FUZZ_CHECK(!c.delay || c.delay->count() >= 0);
  FUZZ_CHECK(!c.jitter || c.jitter->count() >= 0);
}

void checkEvent(const Event& e) {
  FUZZ_CHECK(e.at.count() >= 0);
  FUZZ_CHECK(e.fwd || e.rev);
  checkChange(e.fwd_change);
  checkChange(e.rev_change);
  switch (e.action) {
    case Event::Action::Change:
      FUZZ_CHECK(!e.fwd_change.empty() || !e.rev_change.empty());
      break;
    case Event::Action::Down:
      FUZZ_CHECK(!e.down_for || e.down_for->count() >= 0);
      break;
    case Event::Action::Up:
      break;
    case Event::Action::Flap:
      FUZZ_CHECK(e.flap_count >= 1 && e.flap_count <= 100000);
      FUZZ_CHECK(e.flap_down.count() > 0 && e.flap_up.count() >= 0);
      break;
  }
}

void checkScenario(const Scenario& s) {
  FUZZ_CHECK(!s.duration || s.duration->count() >= 0);
  for (const LinkConfig& link : s.config.links) {
    checkLink(link);
  }
  std::uint64_t steps = 0;
  for (const Event& e : s.config.events) {
    checkEvent(e);
    steps += e.action == Event::Action::Flap ? e.flap_count : 1;
  }
  if (!validate(s.config) || steps > kMaxTimelineSteps) {
    return;
  }
  for (std::size_t link = 0; link < s.config.links.size(); ++link) {
    for (Direction dir : {Direction::Forward, Direction::Reverse}) {
      const std::vector<TimedAction> timeline = timelineFor(s.config.events, link, dir);
      for (std::size_t i = 0; i < timeline.size(); ++i) {
        FUZZ_CHECK(i == 0 || timeline[i - 1].at <= timeline[i].at);
        if (timeline[i].kind == TimedAction::Kind::DownUntil) {
          FUZZ_CHECK(timeline[i].until >= timeline[i].at);
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::Reader in(data, size);
  const std::uint8_t mode = in.u8() % 3;
  const std::string_view text = fz::asText(in.rest());
  if (mode == 0) {
    if (namesTrace(text)) {
      return 0;
    }
    if (const auto link = parseLinkSpec(text)) {
      checkLink(*link);
    }
  } else if (mode == 1) {
    if (namesTrace(text)) {
      return 0;
    }
    if (const auto event = parseEvent(text)) {
      checkEvent(*event);
    }
  } else {
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || jsonNamesTrace(j)) {
      return 0;
    }
    if (const auto s = parseScenario(j, "fuzz", {})) {
      checkScenario(*s);
    }
  }
  return 0;
}
