// SPDX-License-Identifier: MPL-2.0
// One SRT connection in live mode over one simulated path: the sender's buffer with its
// own retransmission loop and the receiver's loss detection and acknowledgements.
//
//   sender --copy--> [LinkSim: queue, delay, loss, outages] --> receiver --> merge
//      ^  |                                                       |
//      |  +--- ACKACK (behind the data in the queue) ------------>|  RTT sample
//      +------ ACK (cumulative, every 10 ms) / NAK (on a gap) ----+  (delay, outages)
//
// The RTT is libsrt's: the receiver measures it from its ACK to the sender's ACKACK,
// which waits in the forward queue like data, smooths it (7/8) and sends it in its next
// ACK; the sender takes it as is (one-way transfer). So a queue shows in the sender's
// RTT only after the queue's own delay and a round trip.
//
// As an adaptive link's connection (common/srt/adaptive_link.h): each copy has a TTL,
// the last moment it may leave and still arrive in time. A lost copy is re-sent on this
// link whenever its NAK comes back, until then; past it the receiver stops waiting
// (libsrt: the sender's drop request) and acknowledges past it, and only then does the
// sender stop holding it. The receiver takes each copy as it arrives, in any order. The
// sender's view (stats()) is what srt_bistats would show: the RTT and capacity estimate
// only move when ACKs arrive, so on a dead link they freeze while the buffer grows.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "scheduler/sim/event_queue.h"
#include "scheduler/sim/link_sim.h"
#include "scheduler/types.h"

namespace bondcast::sim {

class SrtLink {
 public:
  // Called for every copy the receiver takes in (first arrival on this link).
  using DeliverFn = std::function<void(std::uint64_t seq, SimTime at_us)>;

  SrtLink(std::uint32_t index, const LinkSpec& spec, std::uint64_t seed, bool unlimited_capacity,
          EventQueue& events, DeliverFn deliver);

  // A new copy of stream packet `seq` that must leave by `expires_us`; returns its
  // per-link index.
  std::uint64_t send(std::uint64_t seq, std::uint32_t bytes, SimTime expires_us, SimTime now_us);
  // probe_bps > 0: the copy was a capacity probe and measured that.
  void onArrival(std::uint64_t copy, double probe_bps, SimTime now_us);
  void onNak(std::uint64_t copy, SimTime now_us);
  void onNakReport() { ++nak_reports_; }
  void onAck(std::uint64_t ack, SimTime rtt_us, double bandwidth_bps, SimTime now_us);
  void onAckAck(SimTime ack_sent_us, SimTime now_us);
  // Every stats period: the receiver acknowledges and re-reports losses.
  void tick(SimTime now_us);
  sched::LinkFeedback stats() const;

  const LinkSim& path() const { return path_; }
  std::uint64_t retransmissions() const { return retransmitted_; }

 private:
  struct Copy {
    std::uint64_t seq;
    std::uint32_t bytes;
    SimTime expires_us;  // its TTL: not sent or re-sent after this
    SimTime sent_us;
    SimTime last_nak_us = -1;  // receiver: when it last reported this copy lost
    bool received = false;     // receiver
    bool done = false;         // sender: acknowledged or dropped
  };
  void transmit(std::uint64_t copy, SimTime now_us);
  void sendNak(std::uint64_t copy, SimTime now_us);
  void receiverTick(SimTime now_us);
  void senderTick();     // frees what was acknowledged
  void finish(Copy& c);  // the sender stops holding it
  // SRT re-reports a loss about once per RTT (at least 20 ms apart).
  SimTime nakInterval() const { return srtt_us_ + srtt_us_ / 2 + 20'000; }
  // libsrt's receiver sends its whole loss list that often while it is not empty
  // (sched::lossReportInterval); this receiver keeps no RTT variation. The sender counts
  // these packets; what it re-sends is still modelled per copy (nakInterval). Not
  // modelled: libsrt works the interval out only when it first repeats a report, from
  // 300 ms, so a connection's first loss is repeated after 300 ms
  // (tests/common/srt/adaptive_link_test.cpp).
  SimTime reportInterval() const {
    return sched::lossReportInterval(sched::Micros(rcv_srtt_us_), sched::Micros::zero()).count();
  }

  std::uint32_t index_;
  LinkSim path_;
  EventQueue& events_;
  DeliverFn deliver_;
  std::vector<Copy> copies_;

  // Sender.
  std::uint64_t snd_acked_ = 0;   // cumulative: copies below this are acknowledged
  std::uint64_t snd_oldest_ = 0;  // first copy the sender still holds
  std::uint64_t held_packets_ = 0;
  std::uint64_t held_bytes_ = 0;
  SimTime srtt_us_ = 100'000;  // libsrt's default until the first measurement
  std::uint64_t lost_ = 0;
  std::uint64_t nak_reports_ = 0;  // loss report packets heard (pktRecvNAKTotal)
  std::uint64_t retransmitted_ = 0;
  double bandwidth_bps_ = 0;

  // Receiver.
  SimTime rcv_srtt_us_ = 100'000;  // libsrt's initial RTT until the first ACKACK
  bool rcv_rtt_measured_ = false;
  std::uint64_t rcv_next_ = 0;     // first copy neither received nor given up
  std::uint64_t rcv_highest_ = 0;  // one past the highest copy received
  bool rcv_new_data_ = false;
  SimTime rcv_reported_us_ = 0;    // when the last periodic loss report went
  std::deque<double> bw_samples_;  // last 16 capacity probes (median filter, like SRT)
};

}  // namespace bondcast::sim
