// SPDX-License-Identifier: MPL-2.0
#include "scheduler/sim/report.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace bondcast::sim {
namespace {

LatencySummary summarize(std::vector<SimTime> latencies_us) {
  LatencySummary s;
  if (latencies_us.empty())
    return s;
  std::sort(latencies_us.begin(), latencies_us.end());
  auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * latencies_us.size())) - 1;
    return latencies_us[std::min(i, latencies_us.size() - 1)] / 1000.0;
  };
  s.p50_ms = at(0.5);
  s.p90_ms = at(0.9);
  s.p99_ms = at(0.99);
  s.p999_ms = at(0.999);
  s.max_ms = latencies_us.back() / 1000.0;
  return s;
}

double round3(double x) {
  return std::round(x * 1000.0) / 1000.0;
}

}  // namespace

DeliveryReport score(std::string label, const std::vector<SourcePacket>& stream,
                     const std::vector<SimTime>& first_arrival_us,
                     const std::vector<std::uint16_t>& copies, const std::vector<bool>& played) {
  DeliveryReport r;
  r.label = std::move(label);
  r.packets = stream.size();
  std::vector<SimTime> latencies;
  latencies.reserve(stream.size());
  std::vector<bool> frame_missed;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    const SourcePacket& p = stream[i];
    r.payload_bytes += p.size_bytes;
    if (copies[i] > 1)
      r.duplicates += copies[i] - 1;
    const bool on_time = first_arrival_us[i] >= 0 && played[i];
    if (first_arrival_us[i] < 0)
      ++r.lost;
    else if (on_time)
      ++r.on_time;
    else
      ++r.late;
    if (first_arrival_us[i] >= 0)
      latencies.push_back(first_arrival_us[i] - p.source_us);
    if (!on_time) {
      const auto second = static_cast<std::size_t>(p.source_us / 1'000'000);
      if (second >= r.missed_by_second.size())
        r.missed_by_second.resize(second + 1, 0);
      ++r.missed_by_second[second];
    }
    if (p.frame == kNoFrame)
      continue;
    if (p.frame >= frame_missed.size())
      frame_missed.resize(p.frame + 1, false);
    if (!on_time)
      frame_missed[p.frame] = true;
  }
  r.frames = frame_missed.size();
  r.frames_on_time =
      static_cast<std::uint64_t>(std::count(frame_missed.begin(), frame_missed.end(), false));
  r.latency = summarize(std::move(latencies));
  return r;
}

nlohmann::json toJson(const DeliveryReport& r) {
  nlohmann::json links = nlohmann::json::array();
  for (const LinkReport& l : r.links) {
    links.push_back({{"name", l.name},
                     {"wire_packets", l.counters.wire_packets},
                     {"wire_bytes", l.counters.wire_bytes},
                     {"retransmissions", l.retransmissions},
                     {"queue_drops", l.counters.queue_drops},
                     {"random_losses", l.counters.random_losses},
                     {"outage_losses", l.counters.outage_losses}});
  }
  nlohmann::json missed = nlohmann::json::array();  // [second, count] where count > 0
  for (std::size_t s = 0; s < r.missed_by_second.size(); ++s) {
    if (r.missed_by_second[s] > 0)
      missed.push_back({s, r.missed_by_second[s]});
  }
  nlohmann::json j = {{"packets", r.packets},
                      {"on_time", r.on_time},
                      {"late", r.late},
                      {"lost", r.lost},
                      {"on_time_pct", round3(100.0 * r.onTimeFraction())},
                      {"frames", r.frames},
                      {"frames_on_time", r.frames_on_time},
                      {"duplicates", r.duplicates},
                      {"payload_bytes", r.payload_bytes},
                      {"wire_bytes", r.wire_bytes},
                      {"overhead_pct", round3(100.0 * r.overhead())},
                      {"latency_ms",
                       {{"p50", r.latency.p50_ms},
                        {"p90", r.latency.p90_ms},
                        {"p99", r.latency.p99_ms},
                        {"p99.9", r.latency.p999_ms},
                        {"max", r.latency.max_ms}}},
                      {"missed_by_second", missed},
                      {"links", links}};
  if (r.scheduler)
    j["scheduler"] = sched::toJson(*r.scheduler);
  return j;
}

}  // namespace bondcast::sim
