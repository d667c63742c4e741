// SPDX-License-Identifier: MPL-2.0
// One simulated network path, sender to receiver: a drop-tail bottleneck queue served
// at a constant rate or by a capacity trace, then a one-way delay with jitter, random
// loss (Bernoulli or Gilbert-Elliott), outages, and changes of delay, jitter and loss
// over time. Pure: times are sim microseconds.
#pragma once

#include <cstdint>
#include <deque>

#include "common/netmodel/loss.h"
#include "common/netmodel/rng.h"
#include "scheduler/sim/scenario.h"

namespace bondcast::sim {

using SimTime = std::int64_t;  // microseconds since the start of the run

// Every packet also carries IPv4 (20) + UDP (8) + SRT (16) header bytes: they take link
// capacity but are not counted as payload or overhead.
inline constexpr std::uint32_t kHeaderBytes = 44;

struct Transmission {
  enum class Fate { kDelivered, kQueueFull, kRandomLoss, kOutage };
  Fate fate = Fate::kDelivered;
  SimTime departure_us = 0;  // left the bottleneck
  SimTime arrival_us = 0;    // at the receiver, when delivered
};

struct LinkCounters {
  std::uint64_t wire_packets = 0;
  std::uint64_t wire_bytes = 0;  // bytes that entered the bottleneck (every copy, every retry)
  std::uint64_t queue_drops = 0;
  std::uint64_t random_losses = 0;
  std::uint64_t outage_losses = 0;
};

class LinkSim {
 public:
  // unlimited_capacity: no queue at all (the ideal-broadcast bound).
  LinkSim(const LinkSpec& spec, std::uint64_t seed, std::uint32_t index, bool unlimited_capacity);

  Transmission transmit(std::uint32_t bytes, SimTime now_us);
  bool downAt(SimTime t_us) const;
  // How long a packet entering the queue at t would wait (what an RTT probe sees).
  SimTime queueDelayAt(SimTime t_us) const;
  // Capacity over the 40 ms up to t in packets of `bytes` (what SRT's packet-pair probes
  // measure as a packet leaves the bottleneck at t), bits/s.
  double capacityBpsAt(SimTime t_us, std::uint32_t bytes) const;
  SimTime delayUs() const { return delay_us_; }         // sender -> receiver, now
  SimTime revDelayUs() const { return rev_delay_us_; }  // receiver -> sender
  const LinkCounters& counters() const { return counters_; }
  const LinkSpec& spec() const { return spec_; }

 private:
  SimTime serve(std::uint32_t bytes, SimTime now_us);
  SimTime nextOpportunityUs(SimTime at_or_after_us);
  bool queueFull(std::uint32_t bytes, SimTime now_us);
  void applyChanges(SimTime now_us);

  const LinkSpec& spec_;
  bool unlimited_;
  SimTime delay_us_;
  SimTime rev_delay_us_;
  SimTime jitter_us_;
  std::size_t next_change_ = 0;  // spec_.changes[next_change_] is not applied yet
  net::LossModel loss_;
  net::Rng loss_rng_;
  net::Rng jitter_rng_;
  double busy_until_us_ = 0;            // constant rate: when the queue empties
  std::uint64_t next_opportunity_ = 0;  // trace: absolute index of the next free one
  SimTime last_departure_us_ = 0;
  SimTime last_arrival_us_ = 0;
  std::deque<std::pair<SimTime, std::uint32_t>> queued_;  // (departure, bytes) not yet left
  std::uint64_t queued_bytes_ = 0;
  LinkCounters counters_;
};

}  // namespace bondcast::sim
