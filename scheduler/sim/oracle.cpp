// The pooled-capacity bound (see simulator.h): a fluid FIFO stepped one millisecond at
// a time. Packets arrive in deadline order, so FIFO is earliest-deadline-first; a packet
// that can no longer arrive in time is skipped rather than served.
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

MillisecondCapacity capacityAt(const Scenario& s, std::uint64_t ms) {
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

SimTime smallestDelay(const Scenario& s) {
  SimTime best = std::numeric_limits<SimTime>::max();
  for (const LinkSpec& l : s.links)
    best = std::min(best, (l.delay - l.jitter).count());
  return best;
}

}  // namespace

DeliveryReport pooledOracle(const Scenario& s) {
  const std::vector<SourcePacket> stream = generateStream(s.video, s.duration);
  std::vector<SimTime> first_arrival(stream.size(), -1);
  const SimTime delay = smallestDelay(s);
  const SimTime latency = s.latency.count();
  const auto end_ms = static_cast<std::uint64_t>((s.duration.count() + latency) / 1000 + 1);
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
      if (earliest + delay > p.source_us + latency) {  // hopeless: skip it
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
  std::vector<std::uint16_t> copies(stream.size());
  for (std::size_t i = 0; i < stream.size(); ++i)
    copies[i] = first_arrival[i] >= 0 ? 1 : 0;
  DeliveryReport r = score("pooled-oracle", stream, first_arrival, copies, s.latency);
  r.wire_bytes = r.payload_bytes;
  return r;
}

}  // namespace bondcast::sim
