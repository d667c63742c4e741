// SPDX-License-Identifier: MPL-2.0
#include "scheduler/sim/srt_link.h"

#include <algorithm>

namespace bondcast::sim {
namespace {

constexpr std::uint64_t kProbeEvery = 16;  // SRT sends a packet pair every 16 packets
constexpr std::size_t kProbeSamples = 16;

double median(std::deque<double> samples) {
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

SrtLink::SrtLink(std::uint32_t index, const LinkSpec& spec, std::uint64_t seed,
                 bool unlimited_capacity, EventQueue& events, DeliverFn deliver)
    : index_(index),
      path_(spec, seed, index, unlimited_capacity),
      events_(events),
      deliver_(std::move(deliver)) {}

std::uint64_t SrtLink::send(std::uint64_t seq, std::uint32_t bytes, SimTime expires_us,
                            SimTime now_us) {
  const std::uint64_t copy = copies_.size();
  copies_.push_back({seq, bytes, expires_us, now_us});
  ++held_packets_;
  held_bytes_ += bytes;
  transmit(copy, now_us);
  return copy;
}

void SrtLink::transmit(std::uint64_t copy, SimTime now_us) {
  const Transmission tx = path_.transmit(copies_[copy].bytes, now_us);
  if (tx.fate != Transmission::Fate::kDelivered)
    return;  // the receiver will see the gap
  // A probe carries the capacity seen as it left the bottleneck.
  const double probe =
      copy % kProbeEvery == 0 ? path_.capacityBpsAt(tx.departure_us, copies_[copy].bytes) : 0.0;
  events_.push(tx.arrival_us, EventKind::kArrival, index_, copy, 0, probe);
}

void SrtLink::onArrival(std::uint64_t copy, double probe_bps, SimTime now_us) {
  if (probe_bps > 0) {
    bw_samples_.push_back(probe_bps);
    if (bw_samples_.size() > kProbeSamples)
      bw_samples_.pop_front();
  }
  Copy& c = copies_[copy];
  if (c.received)
    return;  // a retransmission of something already here
  c.received = true;
  rcv_new_data_ = true;
  deliver_(c.seq, now_us);
  for (std::uint64_t gap = std::max(rcv_highest_, rcv_next_); gap < copy; ++gap) {
    if (!copies_[gap].received)
      sendNak(gap, now_us);
  }
  rcv_highest_ = std::max(rcv_highest_, copy + 1);
}

void SrtLink::sendNak(std::uint64_t copy, SimTime now_us) {
  copies_[copy].last_nak_us = now_us;
  if (path_.downAt(now_us))
    return;  // the report is lost with the link
  events_.push(now_us + path_.revDelayUs(), EventKind::kNak, index_, copy);
}

void SrtLink::onNak(std::uint64_t copy, SimTime now_us) {
  ++nak_reports_;
  Copy& c = copies_[copy];
  if (c.done)
    return;
  ++lost_;
  if (now_us > c.expires_us)
    return;  // its TTL has passed: the sender asks the receiver to drop it instead
  ++retransmitted_;
  transmit(copy, now_us);
}

void SrtLink::finish(Copy& c) {
  if (c.done)
    return;
  c.done = true;
  --held_packets_;
  held_bytes_ -= c.bytes;
}

void SrtLink::onAck(std::uint64_t ack, SimTime rtt_us, double bandwidth_bps, SimTime now_us) {
  for (std::uint64_t i = snd_acked_; i < ack && i < copies_.size(); ++i)
    finish(copies_[i]);
  snd_acked_ = std::max(snd_acked_, ack);
  srtt_us_ = rtt_us;  // the receiver's smoothed RTT, as libsrt's one-way sender takes it
  if (bandwidth_bps > 0)
    bandwidth_bps_ = bandwidth_bps;
  // The ACKACK goes back at once, behind the data already queued on the forward path.
  if (!path_.downAt(now_us)) {
    events_.push(now_us + path_.queueDelayAt(now_us) + path_.delayUs(), EventKind::kAckAck, index_,
                 0, now_us - path_.revDelayUs());
  }
  senderTick();
}

void SrtLink::onAckAck(SimTime ack_sent_us, SimTime now_us) {
  const SimTime sample = now_us - ack_sent_us;
  rcv_srtt_us_ = rcv_rtt_measured_ ? (rcv_srtt_us_ * 7 + sample) / 8 : sample;
  rcv_rtt_measured_ = true;
}

void SrtLink::tick(SimTime now_us) {
  receiverTick(now_us);
  senderTick();
}

void SrtLink::receiverTick(SimTime now_us) {
  // A missing copy whose TTL has passed is dropped (libsrt: on the sender's drop request)
  // and acknowledged past.
  while (rcv_next_ < rcv_highest_ &&
         (copies_[rcv_next_].received || copies_[rcv_next_].expires_us < now_us)) {
    ++rcv_next_;
  }
  bool loss_listed = false;
  for (std::uint64_t i = rcv_next_; i < rcv_highest_; ++i) {
    const Copy& c = copies_[i];
    if (!c.received && c.expires_us >= now_us) {
      loss_listed = true;
      if (now_us - c.last_nak_us >= nakInterval()) {
        sendNak(i, now_us);
      }
    }
  }
  if (loss_listed && now_us - rcv_reported_us_ >= reportInterval()) {
    rcv_reported_us_ = now_us;
    if (!path_.downAt(now_us)) {
      events_.push(now_us + path_.revDelayUs(), EventKind::kNakReport, index_);
    }
  }
  if (!rcv_new_data_ || path_.downAt(now_us))
    return;
  rcv_new_data_ = false;
  const double bw = bw_samples_.empty() ? 0.0 : median(bw_samples_);
  events_.push(now_us + path_.revDelayUs(), EventKind::kAck, index_, rcv_next_, rcv_srtt_us_, bw);
}

// What the receiver acknowledged is freed (onAck); nothing else is: a copy whose TTL passed
// stays held until the acknowledgements move past it, so a link that goes dark shows no
// progress.
void SrtLink::senderTick() {
  while (snd_oldest_ < copies_.size() && copies_[snd_oldest_].done) {
    ++snd_oldest_;
  }
}

sched::LinkFeedback SrtLink::stats() const {
  sched::LinkFeedback s;
  s.rtt = sched::Micros(srtt_us_);
  s.send_buffer_bytes = held_bytes_;
  s.send_buffer_packets = held_packets_;
  s.flight_packets = held_packets_;
  if (snd_oldest_ < copies_.size()) {
    // libsrt's msSndBuf: the span of what the buffer holds (newest less oldest), which
    // stops growing when nothing more is sent.
    s.send_buffer_time = sched::Micros(copies_.back().sent_us - copies_[snd_oldest_].sent_us);
  }
  s.lost_packets_total = lost_;
  s.nak_reports_total = nak_reports_;
  s.retransmitted_packets_total = retransmitted_;
  s.dropped_packets_total = 0;  // libsrt counts no TTL drop in pktSndDrop
  s.bandwidth_bps = bandwidth_bps_;
  return s;
}

}  // namespace bondcast::sim
