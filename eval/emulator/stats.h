// SPDX-License-Identifier: MPL-2.0
// Counters of the emulator, per link and direction. One struct feeds the periodic
// JSON stats lines, the final line and test assertions (STYLE.md rule 8).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/histogram.h"
#include "eval/emulator/config.h"

namespace bondcast::emu {

struct DirectionStats {
  // Filled by the link model.
  std::uint64_t packets_in = 0;  // offered to the link
  std::uint64_t bytes_in = 0;
  std::uint64_t packets_released = 0;  // left the delay line, handed to the socket
  std::uint64_t bytes_released = 0;
  std::uint64_t drop_queue = 0;      // drop-tail: the queue limit was reached
  std::uint64_t drop_loss = 0;       // random loss (Bernoulli or Gilbert-Elliott)
  std::uint64_t drop_outage = 0;     // arrived while the link was down
  std::uint64_t queued_packets = 0;  // now, in the bottleneck queue
  std::uint64_t queued_bytes = 0;
  bool down = false;         // now
  Histogram queue_delay_us;  // time in the bottleneck queue, per packet that left it
  // Filled by the socket shell.
  std::uint64_t drop_no_peer = 0;       // reverse packet before the sender was ever seen
  std::uint64_t drop_send_error = 0;    // sendmmsg refused it (e.g. socket buffer full)
  std::uint64_t drop_no_buffer = 0;     // the packet pool was exhausted
  std::uint64_t packets_forwarded = 0;  // sent out of the emulator
  std::uint64_t bytes_forwarded = 0;
};

// One emulated link's counters, both directions (not a sender's view of a link:
// common/srt/link_stats.h).
struct EmulatedLinkStats {
  std::string listen;
  std::string to;
  DirectionStats fwd;
  DirectionStats rev;
};

struct EmulatorStats {
  double elapsed_s = 0;
  std::vector<EmulatedLinkStats> links;
  // Datagrams on a listen socket shared by from= links whose source address is no
  // link's from=: dropped, whichever socket they arrived on.
  std::uint64_t unmatched_source = 0;
  Histogram release_lateness_us;  // send time minus scheduled release time, all links
};

nlohmann::json toJson(const DirectionStats& s);
nlohmann::json toJson(const EmulatorStats& s);

}  // namespace bondcast::emu
