// SPDX-License-Identifier: MPL-2.0
#include "common/srt/link_stats.h"

#include <algorithm>

namespace bondcast::srt {

LinkState linkStateFrom(SRT_SOCKSTATUS sock, SRT_MEMBERSTATUS member, bool is_member) {
  if (sock == SRTS_CONNECTING || sock == SRTS_INIT || sock == SRTS_OPENED) {
    return LinkState::kConnecting;
  }
  if (sock == SRTS_BROKEN)
    return LinkState::kBroken;
  if (sock != SRTS_CONNECTED)
    return LinkState::kDown;
  if (!is_member)
    return LinkState::kUp;
  switch (member) {
    case SRT_GST_PENDING:
      return LinkState::kConnecting;
    case SRT_GST_IDLE:
      return LinkState::kIdle;
    case SRT_GST_RUNNING:
      return LinkState::kUp;
    case SRT_GST_BROKEN:
      return LinkState::kBroken;
  }
  return LinkState::kDown;
}

bool readLinkStats(SRTSOCKET s, LinkStats& out, bool clear_interval) {
  SRT_TRACEBSTATS st{};
  if (srt_bistats(s, &st, clear_interval ? 1 : 0, 1) == SRT_ERROR)
    return false;
  out.rtt_ms = st.msRTT;
  out.send_rate_mbps = st.mbpsSendRate;
  out.recv_rate_mbps = st.mbpsRecvRate;
  out.bandwidth_mbps = st.mbpsBandwidth;
  out.pkts_sent = st.pktSentTotal;
  out.pkts_received = st.pktRecvTotal;
  out.bytes_sent = static_cast<std::int64_t>(st.byteSentTotal);
  out.bytes_received = static_cast<std::int64_t>(st.byteRecvTotal);
  out.pkts_lost_send = st.pktSndLossTotal;
  out.pkts_lost_recv = st.pktRcvLossTotal;
  out.pkts_retransmitted = st.pktRetransTotal;
  out.pkts_dropped_send = st.pktSndDropTotal;
  out.pkts_dropped_recv = st.pktRcvDropTotal;
  out.send_buffer_ms = st.msSndBuf;
  out.flight_pkts = st.pktFlightSize;
  return true;
}

LinkState withStall(LinkState state, const LinkStats& s, int latency_ms) {
  if (state != LinkState::kUp)
    return state;
  // What waits longer than the latency reaches the receiver too late to be played.
  const int limit_ms = std::max(latency_ms, 100);
  return s.send_buffer_ms > limit_ms ? LinkState::kStalled : state;
}

nlohmann::json toJson(const LinkStats& s) {
  return {{"link", s.name},
          {"state", std::string(toString(s.state))},
          {"rtt_ms", s.rtt_ms},
          {"send_mbps", s.send_rate_mbps},
          {"recv_mbps", s.recv_rate_mbps},
          {"bandwidth_mbps", s.bandwidth_mbps},
          {"pkts_sent", s.pkts_sent},
          {"pkts_received", s.pkts_received},
          {"bytes_sent", s.bytes_sent},
          {"bytes_received", s.bytes_received},
          {"pkts_lost_send", s.pkts_lost_send},
          {"pkts_lost_recv", s.pkts_lost_recv},
          {"pkts_retransmitted", s.pkts_retransmitted},
          {"pkts_dropped_send", s.pkts_dropped_send},
          {"pkts_dropped_recv", s.pkts_dropped_recv},
          {"send_buffer_ms", s.send_buffer_ms},
          {"flight_pkts", s.flight_pkts}};
}

}  // namespace bondcast::srt
