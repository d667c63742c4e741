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

std::uint64_t SrtLink::send(std::uint64_t seq, std::uint32_t bytes, SimTime deadline_us,
                            SimTime now_us) {
  const std::uint64_t copy = copies_.size();
  copies_.push_back({seq, bytes, deadline_us, now_us});
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
  events_.push(now_us + path_.delayUs(), EventKind::kNak, index_, copy);
}

void SrtLink::onNak(std::uint64_t copy, SimTime now_us) {
  Copy& c = copies_[copy];
  if (c.done)
    return;
  ++lost_;
  if (now_us >= c.deadline_us)
    return;
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
  srtt_us_ = (srtt_us_ * 7 + rtt_us) / 8;
  if (bandwidth_bps > 0)
    bandwidth_bps_ = bandwidth_bps;
  senderTick(now_us);
}

void SrtLink::tick(SimTime now_us) {
  receiverTick(now_us);
  senderTick(now_us);
}

void SrtLink::receiverTick(SimTime now_us) {
  while (rcv_next_ < rcv_highest_ &&
         (copies_[rcv_next_].received || copies_[rcv_next_].deadline_us < now_us)) {
    ++rcv_next_;
  }
  for (std::uint64_t i = rcv_next_; i < rcv_highest_; ++i) {
    const Copy& c = copies_[i];
    if (!c.received && c.deadline_us > now_us && now_us - c.last_nak_us >= nakInterval()) {
      sendNak(i, now_us);
    }
  }
  if (!rcv_new_data_ || path_.downAt(now_us))
    return;
  rcv_new_data_ = false;
  // The ACK-ACK that measures the RTT crosses the forward queue as it is now.
  const SimTime rtt_us = 2 * path_.delayUs() + path_.queueDelayAt(now_us);
  const double bw = bw_samples_.empty() ? 0.0 : median(bw_samples_);
  events_.push(now_us + path_.delayUs(), EventKind::kAck, index_, rcv_next_, rtt_us, bw);
}

void SrtLink::senderTick(SimTime now_us) {
  while (snd_oldest_ < copies_.size()) {
    Copy& c = copies_[snd_oldest_];
    if (!c.done && c.deadline_us >= now_us)
      break;
    if (!c.done)
      ++dropped_;
    finish(c);
    ++snd_oldest_;
  }
}

sched::LinkStats SrtLink::stats(SimTime now_us) const {
  sched::LinkStats s;
  s.rtt = sched::Micros(srtt_us_);
  s.send_buffer_bytes = held_bytes_;
  s.send_buffer_packets = held_packets_;
  s.flight_packets = held_packets_;
  if (snd_oldest_ < copies_.size()) {
    s.send_buffer_time = sched::Micros(now_us - copies_[snd_oldest_].sent_us);
  }
  s.lost_packets_total = lost_;
  s.retransmitted_packets_total = retransmitted_;
  s.dropped_packets_total = dropped_;
  s.bandwidth_bps = bandwidth_bps_;
  return s;
}

}  // namespace bondcast::sim
