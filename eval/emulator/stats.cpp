// SPDX-License-Identifier: MPL-2.0
#include "eval/emulator/stats.h"

namespace bondcast::emu {
namespace {

nlohmann::json percentilesMs(const Histogram& h) {
  auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  return {{"count", h.count()},
          {"p50", ms(h.quantile(0.5))},
          {"p90", ms(h.quantile(0.9))},
          {"p99", ms(h.quantile(0.99))},
          {"max", ms(h.max())}};
}

}  // namespace

nlohmann::json toJson(const DirectionStats& s) {
  return {{"packets_in", s.packets_in},
          {"bytes_in", s.bytes_in},
          {"packets_forwarded", s.packets_forwarded},
          {"bytes_forwarded", s.bytes_forwarded},
          {"drops",
           {{"queue", s.drop_queue},
            {"loss", s.drop_loss},
            {"outage", s.drop_outage},
            {"no_peer", s.drop_no_peer},
            {"send_error", s.drop_send_error},
            {"no_buffer", s.drop_no_buffer}}},
          {"queued_packets", s.queued_packets},
          {"queued_bytes", s.queued_bytes},
          {"down", s.down},
          {"queue_delay_ms", percentilesMs(s.queue_delay_us)}};
}

nlohmann::json toJson(const EmulatorStats& s) {
  nlohmann::json links = nlohmann::json::array();
  for (std::size_t i = 0; i < s.links.size(); ++i) {
    const EmulatedLinkStats& l = s.links[i];
    links.push_back({{"link", i},
                     {"listen", l.listen},
                     {"to", l.to},
                     {"fwd", toJson(l.fwd)},
                     {"rev", toJson(l.rev)}});
  }
  return {{"elapsed_s", s.elapsed_s},
          {"links", links},
          {"unmatched_source", s.unmatched_source},
          {"release_lateness_ms", percentilesMs(s.release_lateness_us)}};
}

}  // namespace bondcast::emu
