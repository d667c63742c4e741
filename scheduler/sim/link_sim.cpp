// SPDX-License-Identifier: MPL-2.0
#include "scheduler/sim/link_sim.h"

#include <algorithm>
#include <cmath>

namespace bondcast::sim {
namespace {

constexpr std::uint64_t kLossStream = 1;
constexpr std::uint64_t kJitterStream = 2;
constexpr SimTime kCapacityWindowUs = 40'000;

}  // namespace

LinkSim::LinkSim(const LinkSpec& spec, std::uint64_t seed, std::uint32_t index,
                 bool unlimited_capacity)
    : spec_(spec),
      unlimited_(unlimited_capacity),
      delay_us_(spec.delay.count()),
      rev_delay_us_(spec.rev_delay.count()),
      jitter_us_(spec.jitter.count()),
      loss_(spec_.loss),
      loss_rng_(seed, index, kLossStream),
      jitter_rng_(seed, index, kJitterStream) {}

bool LinkSim::downAt(SimTime t_us) const {
  auto it = std::upper_bound(spec_.outages.begin(), spec_.outages.end(), t_us,
                             [](SimTime t, const Outage& o) { return t < o.start.count(); });
  if (it == spec_.outages.begin()) {
    return false;
  }
  --it;
  return t_us >= it->start.count() && t_us < it->end.count();
}

// Trace opportunities are whole milliseconds; each carries one packet (mahimahi).
SimTime LinkSim::nextOpportunityUs(SimTime at_or_after_us) {
  const CapacityTrace& trace = *spec_.trace;
  const auto t_ms = static_cast<std::uint64_t>((at_or_after_us + 999) / 1000);
  next_opportunity_ = std::max(next_opportunity_, trace.countBefore(t_ms));
  return static_cast<SimTime>(trace.timeOfOpportunity(next_opportunity_++)) * 1000;
}

SimTime LinkSim::serve(std::uint32_t bytes, SimTime now_us) {
  if (unlimited_) {
    return now_us;
  }
  if (spec_.trace) {
    return std::max(nextOpportunityUs(std::max(now_us, last_departure_us_)), now_us);
  }
  busy_until_us_ = std::max(busy_until_us_, static_cast<double>(now_us)) +
                   (bytes + kHeaderBytes) * 8.0 * 1e6 / spec_.rate_bps;
  return static_cast<SimTime>(std::ceil(busy_until_us_));
}

bool LinkSim::queueFull(std::uint32_t bytes, SimTime now_us) {
  while (!queued_.empty() && queued_.front().first <= now_us) {
    queued_bytes_ -= queued_.front().second;
    queued_.pop_front();
  }
  if (unlimited_) {
    return false;
  }
  if (spec_.queue_limit_bytes > 0 && queued_bytes_ + bytes > spec_.queue_limit_bytes) {
    return true;
  }
  return spec_.queue_limit_time.count() > 0 &&
         last_departure_us_ - now_us > spec_.queue_limit_time.count();
}

void LinkSim::applyChanges(SimTime now_us) {
  for (; next_change_ < spec_.changes.size() && spec_.changes[next_change_].at.count() <= now_us;
       ++next_change_) {
    const LinkChange& c = spec_.changes[next_change_];
    if (c.delay) {
      delay_us_ = c.delay->count();
    }
    if (c.jitter) {
      jitter_us_ = c.jitter->count();
    }
    if (c.loss) {
      loss_.set(*c.loss);  // a Gilbert-Elliott chain keeps its state, as in the emulator
    }
  }
}

Transmission LinkSim::transmit(std::uint32_t bytes, SimTime now_us) {
  applyChanges(now_us);
  ++counters_.wire_packets;
  counters_.wire_bytes += bytes;
  Transmission tx;
  if (queueFull(bytes, now_us)) {
    ++counters_.queue_drops;
    tx.fate = Transmission::Fate::kQueueFull;
    return tx;
  }
  tx.departure_us = serve(bytes, now_us);
  last_departure_us_ = std::max(last_departure_us_, tx.departure_us);
  queued_.emplace_back(tx.departure_us, bytes);
  queued_bytes_ += bytes;
  if (downAt(tx.departure_us)) {
    ++counters_.outage_losses;
    tx.fate = Transmission::Fate::kOutage;
    return tx;
  }
  if (loss_.lose(loss_rng_)) {
    ++counters_.random_losses;
    tx.fate = Transmission::Fate::kRandomLoss;
    return tx;
  }
  SimTime jitter = 0;
  if (jitter_us_ > 0) {
    jitter =
        static_cast<SimTime>((jitter_rng_.uniform01() * 2 - 1) * static_cast<double>(jitter_us_));
  }
  // No reordering: a packet never overtakes the one before it.
  tx.arrival_us = std::max(tx.departure_us + delay_us_ + jitter, last_arrival_us_);
  last_arrival_us_ = tx.arrival_us;
  return tx;
}

SimTime LinkSim::queueDelayAt(SimTime t_us) const {
  return std::max<SimTime>(0, last_departure_us_ - t_us);
}

double LinkSim::capacityBpsAt(SimTime t_us, std::uint32_t bytes) const {
  if (unlimited_) {
    return 1e10;
  }
  if (!spec_.trace) {
    return spec_.rate_bps * bytes / (bytes + kHeaderBytes);
  }
  const auto to_ms =
      static_cast<std::uint64_t>(std::max<SimTime>(t_us, kCapacityWindowUs) / 1000) + 1;
  const std::uint64_t from_ms = to_ms - kCapacityWindowUs / 1000;
  const double opportunities = static_cast<double>(spec_.trace->bytesBetween(from_ms, to_ms)) /
                               CapacityTrace::kOpportunityBytes;
  return opportunities * bytes * 8.0 / (kCapacityWindowUs / 1e6);
}

}  // namespace bondcast::sim
