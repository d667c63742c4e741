// SPDX-License-Identifier: MPL-2.0
// What the scheduler believes about one link, built only from events: the feedback
// srt_bistats gives (delayed by the network, like the real thing), the copies the
// scheduler itself put on the link, and the state changes the caller reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "common/windowed_min.h"
#include "scheduler/types.h"

namespace bondcast::sched {

struct LinkModelTuning {
  Micros initial_rtt{std::chrono::milliseconds(100)};  // libsrt's default before a sample
  double initial_bandwidth_bps = 2e6;                  // until the first capacity estimate
  Micros ack_period{std::chrono::milliseconds(10)};    // SRT's full-ACK period
  Micros stall_margin{std::chrono::milliseconds(30)};  // slack above the stall threshold
  Micros min_rtt_window{std::chrono::seconds(10)};     // base RTT = min over ~this long
  // Smoothing of the delivery rate. Cellular links deliver in bursts: a short window
  // follows every burst and gap, and the queue estimate with it.
  Micros delivery_rate_window{std::chrono::milliseconds(300)};
  // Smoothing of what the link delivers in any state, a floor under libsrt's capacity
  // estimate.
  Micros delivered_window{std::chrono::milliseconds(100)};
  // A saturated link's capacity is at most what it delivered over this last stretch (a
  // sliding sum): when a link's capacity collapses (a cellular uplink throttled from 10 to
  // 1 Mbit/s), the average above takes most of a second to follow, and every copy the
  // scheduler puts on the link meanwhile, and every one it holds, is late. The sliding sum
  // shows the collapse within this window. 0 turns this off.
  Micros recent_delivery_window{std::chrono::milliseconds(70)};
  // libsrt's RTT is an average (7/8 old, 1/8 new sample per ACK, every 10 ms): while a
  // queue grows or drains, it trails the latest sample by about 7 ACK periods. The
  // model extrapolates it along its slope over the last rtt_trend_window by
  // rtt_trend_lead to read the queue as the latest sample saw it.
  Micros rtt_trend_window{std::chrono::milliseconds(20)};
  Micros rtt_trend_lead{std::chrono::milliseconds(50)};
  // A link whose feedback counts loss reports (LinkFeedback::nak_reports_total), with
  // less than drained_queue of its own queue left by the sender's estimate, is stalled
  // once nothing at all has come back for longer than the receiver's loss-report
  // interval and stall_margin (stallThreshold).
  Micros drained_queue{std::chrono::milliseconds(5)};
};

class LinkModel {
 public:
  enum class Transition { kNone, kFailed, kRecovered };

  LinkModel(LinkId id, LinkConfig config, LinkModelTuning tuning = {});

  // Events. Each returns whether the link just failed (Up -> Stalled/Down) or recovered.
  Transition onStats(const LinkFeedback& stats, TimePoint now);
  Transition setState(LinkState state, TimePoint now);
  void onSent(std::uint32_t bytes, TimePoint now);        // the scheduler put a copy here
  void onSendFailed(std::uint32_t bytes, TimePoint now);  // ... and the send was refused
  void setCost(double cost) { config_.cost = cost; }

  LinkId id() const { return id_; }
  const LinkConfig& config() const { return config_; }
  double cost() const { return config_.cost; }
  LinkState state() const { return state_; }
  bool isUp() const { return state_ == LinkState::kUp; }
  bool isConnected() const { return state_ == LinkState::kUp || state_ == LinkState::kStalled; }

  // Delay. RTT as SRT reports it includes the queue, so the one-way delay is taken
  // from the base (minimum) RTT and the queue is estimated separately.
  Micros srtt() const { return srtt_; }
  Micros rttVar() const { return rtt_var_; }
  Micros minRtt() const;
  Micros oneWayDelay() const { return minRtt() / 2; }
  // Capacity: SRT's probe estimate, but while a queue stands (the link is saturated)
  // no more than the rate acknowledgements actually come back at.
  double bandwidthBps() const;
  double deliveryRateBps() const { return delivery_rate_bps_; }
  bool isSaturated() const { return saturated_; }
  // A capacity estimate and an RTT were measured (not defaults).
  bool isMeasured() const { return have_rtt_ && bandwidth_bps_ > 0; }
  // An RTT was measured: minRtt() is not the initial guess.
  bool hasRtt() const { return have_rtt_; }
  // How many copies sent since the link last came up were acknowledged. Until a few
  // were, SRT's readings of it are its defaults (RTT 100 ms, a nominal capacity): SRT
  // measures a connection only from the data it carries, and the RTT the receiver
  // measures reaches the sender with the acknowledgement of the copy after.
  std::uint64_t ackedSinceUp() const {
    return acked_below_ > sent_at_up_ ? acked_below_ - sent_at_up_ : 0;
  }
  // Time a copy handed over now waits behind what the link still holds: the larger of
  // (1) a virtual queue drained at the capacity estimate. Each reading resets it from the
  // excess over the base RTT of the RTT extrapolated along its trend (the queue as the
  // latest RTT sample measured it; it sees copies the sender already dropped as too late
  // but that still sit in the network's queue) and replays the copies sent since then;
  // each send adds to it. With nothing held the RTT cannot move, so its excess then
  // drains from when it last moved. (2) The bytes held unacknowledged beyond one
  // bandwidth-delay product, at the capacity estimate: fresh where (1) is a queue's delay
  // and a round trip late.
  Micros queueDelay(TimePoint now) const;
  Micros serialization(std::uint32_t bytes) const;
  // now + queue delay + serialization + one-way delay.
  TimePoint expectedArrival(std::uint32_t bytes, TimePoint now) const;
  // When the copy with per-link index `index`, still held, is expected to arrive: the
  // held copies up to it, less one bandwidth-delay product already on the way, drain at
  // the capacity estimate.
  TimePoint expectedArrivalOfHeld(std::uint64_t index, TimePoint now) const;

  // Send buffer as the scheduler knows it: the last reading plus copies sent since.
  std::uint64_t unackedPackets() const;
  std::uint64_t unackedBytes() const;
  Micros sendBufferAge() const { return send_buffer_time_; }
  // How long the oldest copy the link still holds has been held: from the send times
  // the model keeps itself (libsrt's msSndBuf is the span of what the buffer holds, which
  // stops growing when nothing more is sent to a link that died), or msSndBuf if larger.
  Micros oldestHeldAge(TimePoint now) const;
  // The held copy with per-link index `index` was sent longer ago than its acknowledgement
  // takes (base RTT and two ACK periods): it is overdue.
  bool isOverdue(std::uint64_t index, TimePoint now) const;
  // Copies ever put on this link; the k-th copy has per-link index k.
  std::uint64_t sentPackets() const { return sent_packets_; }
  // Per-link index below which every copy was acknowledged (or dropped) by the last
  // reading: the link still holds copies [ackedBelow(), sentPackets()).
  std::uint64_t ackedBelow() const { return acked_below_; }
  // Deltas of the last reading.
  std::uint64_t lastAckedPackets() const { return last_acked_delta_; }
  std::uint64_t lastLostPackets() const { return last_lost_delta_; }
  double lossRate() const { return loss_rate_; }  // smoothed fraction of copies lost
  bool lostRecently(TimePoint now) const;         // a loss was reported within a few RTTs

  // Silent (silentFor) for longer than this, the link is stalled: one round trip and its
  // variation beyond when its oldest copy was due, enough for a lost copy's repair (a
  // NAK's round trip) to move the acknowledgements. An old copy alone is no sign: a queue
  // makes it, and libsrt's RTT shows a queue only a queue's delay and a round trip late
  // (the old rule, oldest copy older than two RTTs, took a loaded link for dead, and one
  // that went dark for dead only after 3 RTTs when it lost packets too: real demo runs
  // lost up to 683 payloads when a 125 ms link went dark at 300 ms of latency).
  // Where the feedback counts loss reports, silence is measured against them too
  // (unheardFor), and a link with its own queue drained is stalled once silent for one
  // loss-report interval and the margin, half an RTT sooner: SRT's receiver repeats its
  // loss list that often while a repair is due, so a live link repairing a loss is not
  // silent that long, and one with nothing queued has no queue to explain the silence.
  // Waiting out the other half RTT left a 120 ms link's copies, held when it went dark,
  // too little time to go again (the demo's cell-B at 10 s; docs/playout.md).
  Micros stallThreshold(TimePoint now) const;
  // silentFor, less what a loss report heard since shows: how long nothing at all came
  // back from the link. The same as silentFor where the feedback counts no loss reports.
  Micros unheardFor(TimePoint now) const;
  // Older than usual but not yet stalled: copies sent now are at risk.
  bool isSuspect(TimePoint now) const;
  // How long the oldest copy the link holds has been overdue (older than the base RTT and
  // two ACK periods) with no acknowledgement meanwhile; zero when none is. A link that
  // goes dark shows this a round trip or more before it looks stalled.
  Micros silentFor(TimePoint now) const;

 private:
  void updateRtt(Micros rtt, TimePoint now);
  Micros trendRtt(TimePoint now) const;
  void updateLoss(const LinkFeedback& stats);
  void resetQueue(const LinkFeedback& stats, TimePoint now);
  void updateDeliveryRate(const LinkFeedback& stats, TimePoint now);
  std::optional<double> recentDeliveryBps() const;
  double queuedBytes(TimePoint now) const;
  Micros sojournDelay(TimePoint now) const;

  LinkId id_;
  LinkConfig config_;
  LinkModelTuning tuning_;
  LinkState state_ = LinkState::kConnecting;

  Micros srtt_;
  Micros rtt_var_{0};
  TimePoint rtt_changed_at_{};  // when srtt_ last moved (it freezes without ACKs)
  TimePoint progress_at_{};     // last reading that acknowledged a copy (or held none)
  TimePoint heard_at_{};        // ... or that showed a loss report heard
  bool have_rtt_ = false;
  WindowedMin<Micros, TimePoint, Micros> min_rtt_;         // this window and the one before
  std::deque<std::pair<TimePoint, Micros>> rtt_readings_;  // the last rtt_trend_window

  double bandwidth_bps_ = 0;
  double delivery_rate_bps_ = 0;
  double delivered_bps_ = 0;  // what was acknowledged lately (any state), smoothed
  // Bytes delivered per reading over the last recent_delivery_window, oldest first.
  std::deque<std::pair<TimePoint, double>> recent_delivered_;
  bool saturated_ = false;
  bool have_stats_ = false;
  TimePoint last_stats_at_{};
  std::uint64_t dropped_total_ = 0;
  double queue_bytes_ = 0;
  TimePoint queue_at_{};

  std::uint64_t sent_packets_ = 0;
  std::uint64_t sent_bytes_ = 0;
  std::uint64_t sent_packets_at_stats_ = 0;
  std::uint64_t sent_bytes_at_stats_ = 0;
  std::uint64_t send_buffer_packets_ = 0;
  std::uint64_t send_buffer_bytes_ = 0;
  Micros send_buffer_time_{0};
  std::uint64_t acked_below_ = 0;
  std::uint64_t sent_at_up_ = 0;  // sent_packets_ when the link last came up
  std::uint64_t last_acked_delta_ = 0;
  std::uint64_t lost_total_ = 0;
  std::uint64_t nak_reports_ = 0;
  bool counts_nak_reports_ = false;  // the feedback has nak_reports_total
  std::uint64_t last_lost_delta_ = 0;
  double loss_rate_ = 0;
  bool ever_lost_ = false;
  TimePoint last_loss_at_{};
  struct Send {
    TimePoint at;
    std::uint32_t bytes;  // 0 once the send was refused
  };
  std::deque<Send> recent_sends_;  // copies sent lately, oldest first (for resetQueue)
  // When each copy not yet acknowledged was sent: copies [acked_below_, sent_packets_).
  std::deque<TimePoint> held_sent_at_;
};

}  // namespace bondcast::sched
