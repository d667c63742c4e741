// SPDX-License-Identifier: MPL-2.0
// The pooled-capacity bound (see simulator.h). Two forms:
// - Every link replays a trace: an exact maximum over the links' own opportunities,
//   each with its own one-way delay (tracesOracle below).
// - Otherwise: a fluid FIFO stepped one millisecond at a time, all capacity behind the
//   smallest delay. Packets arrive in deadline order, so FIFO is earliest-deadline-first;
//   a packet that can no longer arrive in time is skipped rather than served.
#include <algorithm>
#include <limits>

#include "scheduler/sim/link_sim.h"
#include "scheduler/sim/simulator.h"

namespace bondcast::sim {
namespace {

struct MillisecondCapacity {
  double fluid_bytes = 0;     // constant-rate links
  std::uint64_t packets = 0;  // trace opportunities, one packet each
};

bool downAt(const LinkSpec& link, SimTime t_us) {
  for (const Outage& o : link.outages) {
    if (t_us >= o.start.count() && t_us < o.end.count())
      return true;
  }
  return false;
}

MillisecondCapacity capacityAt(const SimSetup& s, std::uint64_t ms) {
  MillisecondCapacity c;
  for (const LinkSpec& link : s.links) {
    if (!link.outages.empty() && downAt(link, static_cast<SimTime>(ms) * 1000))
      continue;
    if (link.trace) {
      c.packets += link.trace->bytesBetween(ms, ms + 1) / CapacityTrace::kOpportunityBytes;
    } else {
      c.fluid_bytes += link.rate_bps / 8.0 / 1000.0;
    }
  }
  return c;
}

SimTime smallestDelay(const SimSetup& s) {
  SimTime best = std::numeric_limits<SimTime>::max();
  for (const LinkSpec& l : s.links)
    best = std::min(best, l.minOneWay().count());
  return best;
}

bool allTraces(const SimSetup& s) {
  return std::all_of(s.links.begin(), s.links.end(),
                     [](const LinkSpec& l) { return l.trace != nullptr; });
}

// Every trace opportunity o (link i, time t_o) can carry one packet p that exists by
// then and still arrives in time: source_p <= t_o and t_o + delay_i - jitter_i <=
// source_p + playout delay (latency + the smallest delay, as the receiver plays out). Nothing else
// limits a clairvoyant sender (it could hand each link exactly the packet its next opportunity
// should carry), so the most packets on time is a maximum matching of packets to opportunities.
// Each opportunity accepts a contiguous run of packets in source order (a convex bipartite graph),
// where Glover's greedy is optimal: packets in source order, each takes the usable unused
// opportunity with the earliest t_o. On one link the unused opportunities from a packet's source
// time on are taken in time order, so a cursor per link suffices.
std::vector<SimTime> tracesOracle(const SimSetup& s, const std::vector<SourcePacket>& stream,
                                  SimTime playout_delay) {
  struct Cursor {
    const LinkSpec* link;
    SimTime delay_us;
    std::uint64_t next = 0;  // first opportunity not yet used or passed
  };
  std::vector<Cursor> cursors;
  for (const LinkSpec& l : s.links)
    cursors.push_back({&l, std::max<SimTime>(0, l.minOneWay().count())});
  std::vector<SimTime> first_arrival(stream.size(), -1);
  for (std::size_t i = 0; i < stream.size(); ++i) {
    const SimTime source = stream[i].source_us;
    const SimTime deadline = source + playout_delay;
    Cursor* best = nullptr;
    SimTime best_departure = 0;
    for (Cursor& c : cursors) {
      const CapacityTrace& trace = *c.link->trace;
      c.next =
          std::max(c.next, trace.countBefore(static_cast<std::uint64_t>((source + 999) / 1000)));
      auto departure = [&] { return static_cast<SimTime>(trace.timeOfOpportunity(c.next)) * 1000; };
      while (!c.link->outages.empty() && downAt(*c.link, departure()))
        ++c.next;  // nobody can use it
      const SimTime t = departure();
      if (t + c.delay_us <= deadline &&
          (best == nullptr ||
           std::make_pair(t, c.delay_us) < std::make_pair(best_departure, best->delay_us))) {
        best = &c;
        best_departure = t;
      }
    }
    if (best == nullptr)
      continue;
    first_arrival[i] = best_departure + best->delay_us;
    ++best->next;
  }
  return first_arrival;
}

// Every packet that arrives at all arrives in time (hopeless ones are skipped).
DeliveryReport scoreOracle(const std::vector<SourcePacket>& stream,
                           const std::vector<SimTime>& first_arrival) {
  std::vector<std::uint16_t> copies(stream.size());
  std::vector<bool> on_time(stream.size());
  for (std::size_t i = 0; i < stream.size(); ++i) {
    copies[i] = first_arrival[i] >= 0 ? 1 : 0;
    on_time[i] = first_arrival[i] >= 0;
  }
  DeliveryReport r = score("pooled-oracle", stream, first_arrival, copies, on_time);
  r.wire_bytes = r.payload_bytes;
  return r;
}

}  // namespace

// The receiver plays out at source time + latency + the fastest link's delay
// (playout/playout_clock.h): the oracle's deadlines are the same.
DeliveryReport pooledOracle(const SimSetup& s) {
  const std::vector<SourcePacket> stream = generateStream(s.video, s.duration);
  const SimTime delay = std::max<SimTime>(0, smallestDelay(s));
  const SimTime playout_delay = s.latency.count() + delay;
  if (allTraces(s)) {
    return scoreOracle(stream, tracesOracle(s, stream, playout_delay));
  }
  std::vector<SimTime> first_arrival(stream.size(), -1);
  const auto end_ms = static_cast<std::uint64_t>((s.duration.count() + playout_delay) / 1000 + 1);
  std::size_t head = 0, tail = 0;
  double served_of_head = 0;  // bytes of the head packet already through
  for (std::uint64_t ms = 0; ms < end_ms && head < stream.size(); ++ms) {
    const SimTime ms_start = static_cast<SimTime>(ms) * 1000;
    while (tail < stream.size() && stream[tail].source_us < ms_start + 1000)
      ++tail;
    MillisecondCapacity cap = capacityAt(s, ms);
    const double fluid_total = cap.fluid_bytes;
    while (head < tail) {
      const SourcePacket& p = stream[head];
      const SimTime earliest = std::max(ms_start, p.source_us);
      if (earliest + delay > p.source_us + playout_delay) {  // hopeless: skip it
        ++head;
        served_of_head = 0;
        continue;
      }
      SimTime departure = 0;
      if (cap.packets > 0) {
        --cap.packets;
        departure = earliest;
      } else if (cap.fluid_bytes >= p.size_bytes + kHeaderBytes - served_of_head) {
        cap.fluid_bytes -= p.size_bytes + kHeaderBytes - served_of_head;
        const double used = fluid_total - cap.fluid_bytes;
        departure =
            std::max(earliest, ms_start + static_cast<SimTime>(1000.0 * used / fluid_total));
      } else {
        served_of_head += cap.fluid_bytes;
        break;
      }
      first_arrival[head] = departure + delay;
      served_of_head = 0;
      ++head;
    }
  }
  return scoreOracle(stream, first_arrival);
}

}  // namespace bondcast::sim
