// SPDX-License-Identifier: MPL-2.0
#include "playout/merge.h"

#include <algorithm>

namespace bondcast::playout {
namespace {
constexpr std::size_t kGivenUpRuns = 1024;  // remembered to tell late from duplicate
// Source times beyond this (2^52 us, 142 years of a steady clock) come from no clock; their
// playout times (source + offset, in ns) would overflow.
constexpr std::uint64_t kMaxSourceTimeUs = std::uint64_t{1} << 52;
// The one sequence number without a next one: never delivered (no sender counts that far).
constexpr std::uint64_t kNoSuccessor = ~std::uint64_t{0};
}  // namespace

bool Merger::wasGivenUp(std::uint64_t seq) const {
  return std::any_of(given_up_.begin(), given_up_.end(), [seq](const auto& run) {
    return seq >= run.first && seq - run.first < run.second;
  });
}

Merger::Verdict Merger::push(std::uint64_t seq, std::uint64_t source_time_us, int link,
                             std::span<const std::uint8_t> payload, TimePoint now) {
  if (source_time_us > kMaxSourceTimeUs ||
      (started_ &&
       clock_.playoutTime(source_time_us) - now > clock_.latency() + options_.max_early)) {
    ++stats_.clock_skewed;
    return Verdict::kClockSkewed;
  }
  if (!first_arrival_) {
    first_arrival_ = now;
  }
  clock_.observe(link, source_time_us, now);
  if (seq == kNoSuccessor) {  // delivering it would wrap next_ around to 0
    ++stats_.late;
    return Verdict::kLate;
  }
  if (started_ && seq < next_) {
    if (seq < start_ || wasGivenUp(seq)) {  // before the start: never waited for
      ++stats_.late;
      return Verdict::kLate;
    }
    ++stats_.duplicates;
    return Verdict::kDuplicate;
  }
  if (waiting_.contains(seq)) {
    ++stats_.duplicates;
    return Verdict::kDuplicate;
  }
  if (started_ && now > clock_.playoutTime(source_time_us)) {
    ++stats_.late;  // its moment has passed; the sequence number is given up in release()
    return Verdict::kLate;
  }
  Packet& p = waiting_[seq];
  p.seq = seq;
  p.source_time_us = source_time_us;
  p.link = link;
  p.arrival = now;
  p.payload.assign(payload.begin(), payload.end());
  ++stats_.accepted;
  return Verdict::kAccepted;
}

void Merger::start() {
  clock_.start();
  started_ = true;
  next_ = start_ = waiting_.begin()->first;
}

void Merger::giveUpTo(std::uint64_t seq, const Lost& lost) {
  const std::uint64_t count = seq - next_;
  stats_.lost += count;
  if (lost) {
    lost(next_, count);
  }
  given_up_.emplace_back(next_, count);
  if (given_up_.size() > kGivenUpRuns) {
    given_up_.pop_front();
  }
  next_ = seq;
}

// In sequence order, each packet when its playout time has come; the sequence numbers
// missing in front of it are given up then (their own playout times have passed).
void Merger::release(TimePoint now, const Deliver& deliver, const Lost& lost) {
  if (!started_) {
    if (!first_arrival_ || now - *first_arrival_ < options_.startup_hold || waiting_.empty()) {
      return;
    }
    start();
  }
  while (!waiting_.empty()) {
    const Packet& head = waiting_.begin()->second;
    if (head.seq - next_ > options_.max_ahead) {
      ++stats_.restarts;
      giveUpTo(head.seq, lost);
    }
    const TimePoint playout = clock_.playoutTime(head.source_time_us);
    const bool forced = waiting_.size() > options_.max_buffered;
    if (now < playout && !forced) {
      break;
    }
    if (forced && now < playout) {
      ++stats_.forced;
    }
    if (head.seq != next_) {
      giveUpTo(head.seq, lost);
    }
    deliverHead(playout, deliver);
  }
}

void Merger::deliverHead(TimePoint playout, const Deliver& deliver) {
  auto head = waiting_.begin();
  head->second.playout = playout;
  ++stats_.delivered;
  stats_.delivered_bytes += head->second.payload.size();
  if (deliver) {
    deliver(head->second);
  }
  next_ = head->first + 1;
  waiting_.erase(head);
}

void Merger::flush(const Deliver& deliver, const Lost& lost) {
  if (!started_ && !waiting_.empty()) {
    start();
  }
  while (!waiting_.empty()) {
    const Packet& head = waiting_.begin()->second;
    if (head.seq != next_) {
      giveUpTo(head.seq, lost);
    }
    deliverHead(clock_.started() ? clock_.playoutTime(head.source_time_us) : head.arrival, deliver);
  }
}

bool Merger::receipt(std::uint64_t& below, std::vector<std::uint64_t>& waiting,
                     std::uint64_t span) const {
  waiting.clear();
  if (!started_) {
    return false;
  }
  below = next_;
  for (auto it = waiting_.begin(); it != waiting_.end() && it->first - below < span; ++it) {
    waiting.push_back(it->first);
  }
  return true;
}

std::optional<TimePoint> Merger::nextDeadline() const {
  if (!started_) {
    return first_arrival_ ? std::optional(*first_arrival_ + options_.startup_hold) : std::nullopt;
  }
  if (waiting_.empty()) {
    return std::nullopt;
  }
  return clock_.playoutTime(waiting_.begin()->second.source_time_us);
}

Merger::Options sessionOptions(Micros latency) {
  Merger::Options o;
  o.clock.latency = latency;
  o.startup_hold = std::min<Micros>(std::chrono::milliseconds(100), latency / 2);
  return o;
}

}  // namespace bondcast::playout
