#include "receiver/merge.h"

#include <algorithm>

namespace bondcast::receiver {
namespace {
constexpr std::size_t kGivenUpRuns = 1024;  // remembered to tell late from duplicate
}  // namespace

bool Merger::wasGivenUp(std::uint64_t seq) const {
  return std::any_of(given_up_.begin(), given_up_.end(), [seq](const auto& run) {
    return seq >= run.first && seq - run.first < run.second;
  });
}

Merger::Verdict Merger::push(std::uint64_t seq, std::uint64_t source_time_us, int link,
                             std::span<const std::uint8_t> payload, TimePoint now) {
  if (!any_) {
    any_ = true;
    first_arrival_ = now;
  }
  if (started_ && seq < next_) {
    if (seq < start_ || wasGivenUp(seq)) {  // before the start: never waited for
      ++stats_.late;
      return Verdict::kLate;
    }
    ++stats_.duplicates;
    return Verdict::kDuplicate;
  }
  auto [it, inserted] = waiting_.try_emplace(seq);
  if (!inserted) {
    ++stats_.duplicates;
    return Verdict::kDuplicate;
  }
  it->second.seq = seq;
  it->second.source_time_us = source_time_us;
  it->second.link = link;
  it->second.arrival = now;
  it->second.payload.assign(payload.begin(), payload.end());
  ++stats_.accepted;
  noteOffset(link, source_time_us, now);
  return Verdict::kAccepted;
}

namespace {
std::int64_t micros(Merger::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
}  // namespace

void Merger::noteOffset(int link, std::uint64_t source_time_us, TimePoint now) {
  if (options_.straggler_margin.count() == 0) {
    return;
  }
  const std::int64_t offset = micros(now) - static_cast<std::int64_t>(source_time_us);
  auto [it, fresh] = offsets_.try_emplace(link, LinkOffset{{offset, options_.offset_window}, now});
  LinkOffset& o = it->second;
  if (fresh || now - o.last_seen > 2 * options_.offset_window) {
    o.floor_us.reset(offset, now);
  } else {
    o.floor_us.add(offset, now);
  }
  o.last_seen = now;
}

std::chrono::microseconds Merger::startupHold() const {
  return options_.startup_hold.count() > 0 ? options_.startup_hold : options_.reorder_window;
}

Merger::TimePoint Merger::giveUpAt(const Packet& head) const {
  const TimePoint window_end = head.arrival + options_.reorder_window;
  if (options_.straggler_margin.count() == 0 || offsets_.empty()) {
    return window_end;
  }
  // The links heard from recently (a dead link's floor no longer matters).
  std::optional<std::int64_t> largest;
  for (const auto& [link, o] : offsets_) {
    if (head.arrival - o.last_seen > options_.offset_window) {
      continue;
    }
    const std::int64_t floor = o.floor_us.get();
    largest = largest ? std::max(*largest, floor) : floor;
  }
  if (!largest) {
    return window_end;
  }
  const TimePoint straggler_end(
      std::chrono::microseconds(static_cast<std::int64_t>(head.source_time_us) + *largest +
                                options_.straggler_margin.count()));
  return std::min(window_end, std::max(straggler_end, head.arrival));
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

// In order: deliver the head while it is the next expected packet; otherwise the head
// is behind a gap, which is given up when the head has waited reorder_window (or at
// once when the buffer is full or the jump is beyond max_ahead).
void Merger::release(TimePoint now, const Deliver& deliver, const Lost& lost) {
  if (!started_) {
    if (!any_ || now - first_arrival_ < startupHold() || waiting_.empty()) {
      return;
    }
    started_ = true;
    next_ = start_ = waiting_.begin()->first;
  }
  while (!waiting_.empty()) {
    auto head = waiting_.begin();
    if (head->first == next_) {
      deliverHead(deliver);
      continue;
    }
    stats_.max_reorder_depth = std::max<std::uint64_t>(stats_.max_reorder_depth, waiting_.size());
    if (head->first - next_ > options_.max_ahead) {
      ++stats_.restarts;
      giveUpTo(head->first, lost);
      continue;
    }
    if (waiting_.size() > options_.max_buffered) {
      ++stats_.forced_gaps;
      giveUpTo(head->first, lost);
      continue;
    }
    const TimePoint give_up = giveUpAt(head->second);
    if (now >= give_up) {
      if (give_up < head->second.arrival + options_.reorder_window) {
        ++stats_.straggler_give_ups;
      }
      giveUpTo(head->first, lost);
      continue;
    }
    break;
  }
}

void Merger::deliverHead(const Deliver& deliver) {
  auto head = waiting_.begin();
  ++stats_.delivered;
  stats_.delivered_bytes += head->second.payload.size();
  if (deliver) {
    deliver(head->second);
  }
  waiting_.erase(head);
  ++next_;
}

void Merger::flush(const Deliver& deliver, const Lost& lost) {
  if (!started_ && !waiting_.empty()) {
    started_ = true;
    next_ = start_ = waiting_.begin()->first;
  }
  while (!waiting_.empty()) {
    if (waiting_.begin()->first != next_) {
      giveUpTo(waiting_.begin()->first, lost);
    }
    deliverHead(deliver);
  }
}

std::optional<Merger::TimePoint> Merger::nextDeadline() const {
  if (!started_) {
    return any_ ? std::optional(first_arrival_ + startupHold()) : std::nullopt;
  }
  if (waiting_.empty()) {
    return std::nullopt;
  }
  const auto& head = waiting_.begin()->second;
  if (head.seq == next_) {
    return head.arrival;
  }
  return giveUpAt(head);
}

}  // namespace bondcast::receiver
