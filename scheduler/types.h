// SPDX-License-Identifier: MPL-2.0
// Vocabulary of the scheduler: time, packets, link ids and sets, link states and the
// feedback a sender reads from libsrt (srt_bistats) for each link.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/link_state.h"

namespace bondcast::sched {

// Only the time_point type of steady_clock is used: the scheduler never calls now().
// The sender passes steady_clock::now(); the simulator passes TimePoint{} + sim time.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Micros = std::chrono::microseconds;

using LinkId = std::uint32_t;
inline constexpr std::size_t kMaxLinks = 8;

// Why a packet matters more than its neighbours; set by the caller (TS inspection).
enum class Importance : std::uint8_t {
  kNone = 0,
  kParameterSets = 1 << 0,  // SPS/PPS/VPS, PAT/PMT: nothing decodes without them
  kKeyframe = 1 << 1,       // part of an IDR/keyframe
  kAudio = 1 << 2,          // audio: small, and a gap is heard at once
};
constexpr Importance operator|(Importance a, Importance b) {
  return static_cast<Importance>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool any(Importance flags) {
  return flags != Importance::kNone;
}
constexpr bool has(Importance flags, Importance bit) {
  return (static_cast<std::uint8_t>(flags) & static_cast<std::uint8_t>(bit)) != 0;
}

// One message of the stream, as the scheduler sees it (never the payload).
struct Packet {
  std::uint64_t seq = 0;         // stream sequence number, shared by all links
  std::uint32_t size_bytes = 0;  // payload bytes handed to one link's srt_sendmsg2
  TimePoint deadline{};          // latest useful arrival at the receiver (source time + latency)
  Importance importance = Importance::kNone;
};

// A small set of link ids, in decision order (first = primary copy). No allocation.
class LinkSet {
 public:
  bool add(LinkId id) {
    if (size_ == kMaxLinks || contains(id))
      return false;
    ids_[size_++] = id;
    return true;
  }
  bool contains(LinkId id) const {
    for (std::size_t i = 0; i < size_; ++i) {
      if (ids_[i] == id)
        return true;
    }
    return false;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  LinkId operator[](std::size_t i) const { return ids_[i]; }
  const LinkId* begin() const { return ids_.data(); }
  const LinkId* end() const { return ids_.data() + size_; }

 private:
  std::array<LinkId, kMaxLinks> ids_{};
  std::size_t size_ = 0;
};

// A link's state (common/link_state.h): kConnecting, kUp and kDown are set by the caller
// (SRT connection events); kStalled is derived by the link model from feedback (nothing
// acknowledged and no loss report heard for a round trip and more, or for half of one once
// its own queue has drained: the RTT freezes on a dead SRT link and loss stays 0;
// LinkModel::stallThreshold). The model never uses kIdle or kBroken.

// What the user says about a link.
struct LinkConfig {
  std::string name;
  double cost = 1.0;  // relative cost per byte (or priority): lower is preferred
};

// Feedback for one link, as srt_bistats(member, &st, 1, 1) reports it at the time of
// the call. Cumulative counters are totals since the connection started.
struct LinkFeedback {
  Micros rtt{0};                          // msRTT: smoothed RTT (freezes on a dead link)
  std::uint64_t send_buffer_bytes = 0;    // byteSndBuf: sent, not yet acknowledged
  std::uint64_t send_buffer_packets = 0;  // pktSndBuf
  Micros send_buffer_time{0};             // msSndBuf: age span of the send buffer
  std::uint64_t flight_packets = 0;       // pktFlightSize
  std::uint64_t lost_packets_total = 0;   // pktSndLossTotal (reported by NAKs)
  // pktRecvNAKTotal: loss reports heard, repeats included (lossReportInterval); unset
  // where the feedback has no such count (SRTLA links).
  std::optional<std::uint64_t> nak_reports_total;
  std::uint64_t retransmitted_packets_total = 0;  // pktRetransTotal
  std::uint64_t dropped_packets_total = 0;        // pktSndDropTotal (too late to send)
  double bandwidth_bps = 0;  // mbpsBandwidth * 1e6: link capacity estimate; 0 = unknown
};

// How often libsrt's receiver repeats its loss list while it holds one (checkNAKTimer, live
// mode): every (RTT + 4 x RTT variation) / 2, at least 20 ms apart.
inline Micros lossReportInterval(Micros rtt, Micros rtt_var) {
  return std::max<Micros>(std::chrono::milliseconds(20), (rtt + rtt_var * 4) / 2);
}

}  // namespace bondcast::sched
