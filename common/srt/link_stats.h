// SPDX-License-Identifier: MPL-2.0
// Per-link statistics read from libsrt (srt_bistats on one socket or group member),
// in the one shape that logs, the stats file, the demo and tests all use.
#pragma once

#include <srt/srt.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/link_state.h"

namespace bondcast::srt {

// A link's state (common/link_state.h); kStalled here: the send buffer holds more than
// the latency (withStall).
LinkState linkStateFrom(SRT_SOCKSTATUS sock, SRT_MEMBERSTATUS member, bool is_member);

struct LinkStats {
  std::string name;  // the link URI as the user gave it, or the peer address
  LinkState state = LinkState::kDown;
  double rtt_ms = 0;
  double send_rate_mbps = 0;   // over the last interval
  double recv_rate_mbps = 0;   // over the last interval
  double bandwidth_mbps = 0;   // libsrt's link capacity estimate
  std::int64_t pkts_sent = 0;  // totals since the link connected
  std::int64_t pkts_received = 0;
  std::int64_t bytes_sent = 0;
  std::int64_t bytes_received = 0;
  std::int64_t pkts_lost_send = 0;  // losses reported by the peer
  std::int64_t pkts_lost_recv = 0;
  std::int64_t pkts_retransmitted = 0;
  std::int64_t pkts_dropped_send = 0;  // too late to send
  std::int64_t pkts_dropped_recv = 0;  // too late to deliver
  int send_buffer_ms = 0;
  int flight_pkts = 0;
};

// Reads the stats of one socket; clear_interval resets the interval counters.
// Returns false when the socket no longer exists.
bool readLinkStats(SRTSOCKET s, LinkStats& out, bool clear_interval);

nlohmann::json toJson(const LinkStats& s);

// kUp becomes kStalled when the send buffer holds more than the latency (at least
// 100 ms): the peer is not acknowledging what this link sends in time for it to play.
LinkState withStall(LinkState state, const LinkStats& s, int latency_ms);

}  // namespace bondcast::srt
