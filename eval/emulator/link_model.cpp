// SPDX-License-Identifier: MPL-2.0
#include "eval/emulator/link_model.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace bondcast::emu {
namespace {

constexpr std::uint64_t kBitNanosPerByte = 8ULL * 1'000'000'000ULL;
constexpr std::uint64_t kOpportunityBytes = CapacityTrace::kOpportunityBytes;
constexpr std::uint64_t kStreamLoss = 0;
constexpr std::uint64_t kStreamJitter = 1;

std::uint64_t ceilDiv(std::uint64_t a, std::uint64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

const char* toString(Verdict v) {
  switch (v) {
    case Verdict::Accepted:
      return "accepted";
    case Verdict::DropQueue:
      return "queue";
    case Verdict::DropOutage:
      return "outage";
  }
  return "?";
}

EmulatedLink::EmulatedLink(const DirectionConfig& config, std::vector<TimedAction> timeline,
                           std::uint64_t seed, std::size_t link, Direction dir)
    : config_(config),
      timeline_(std::move(timeline)),
      loss_(config.loss),
      loss_rng_(net::Rng::forStream(seed, link, static_cast<std::uint64_t>(dir), kStreamLoss)),
      jitter_rng_(net::Rng::forStream(seed, link, static_cast<std::uint64_t>(dir), kStreamJitter)) {
  setRate(config.rate, Nanos{0});
}

Verdict EmulatedLink::offer(Nanos now, std::uint32_t size_bytes, std::uint64_t handle) {
  advanceTo(now);
  ++stats_.packets_in;
  stats_.bytes_in += size_bytes;
  if (isDown(now)) {
    ++stats_.drop_outage;
    return Verdict::DropOutage;
  }
  if (overQueueLimit(now, size_bytes)) {
    ++stats_.drop_queue;
    return Verdict::DropQueue;
  }
  queue_.push_back({handle, size_bytes, now});
  queued_bytes_ += size_bytes;
  if (queue_.size() == 1)
    startService(std::max(now, last_departure_));
  stats_.queued_packets = queue_.size();
  stats_.queued_bytes = queued_bytes_;
  return Verdict::Accepted;
}

void EmulatedLink::poll(Nanos now, std::vector<Release>& released,
                        std::vector<std::uint64_t>& lost) {
  advanceTo(now);
  lost.insert(lost.end(), lost_pending_.begin(), lost_pending_.end());
  lost_pending_.clear();
  while (!delay_line_.empty() && delay_line_.front().due <= now) {
    std::pop_heap(delay_line_.begin(), delay_line_.end(), std::greater<>{});
    const InFlight& p = delay_line_.back();
    released.push_back({p.handle, p.due});
    ++stats_.packets_released;
    stats_.bytes_released += p.size_bytes;
    delay_line_.pop_back();
  }
}

Nanos EmulatedLink::nextWakeup() const {
  // The head cannot be due before it departs plus the shortest delay it can draw;
  // its departure itself needs no wake-up (the next poll computes it).
  Nanos t = head_departure_ == kNever
                ? kNever
                : head_departure_ + std::max(Nanos{0}, config_.delay - config_.jitter);
  if (next_action_ < timeline_.size())
    t = std::min(t, timeline_[next_action_].at);
  if (!delay_line_.empty())
    t = std::min(t, delay_line_.front().due);
  if (!lost_pending_.empty())
    t = std::min(t, now_);
  return t;
}

// Runs every event and departure up to `now`, in time order (an event first when
// both fall at the same time). Bounded: each step consumes an event or a packet.
void EmulatedLink::advanceTo(Nanos now) {
  while (true) {
    Nanos t_event = next_action_ < timeline_.size() ? timeline_[next_action_].at : kNever;
    if (std::min(t_event, head_departure_) > now)
      break;
    if (t_event <= head_departure_) {
      apply(timeline_[next_action_++]);
    } else {
      departHead();
    }
  }
  now_ = std::max(now_, now);
  stats_.queued_packets = queue_.size();
  stats_.queued_bytes = queued_bytes_;
  stats_.down = isDown(now_);
}

void EmulatedLink::apply(const TimedAction& a) {
  switch (a.kind) {
    case TimedAction::Kind::DownUntil:
      down_until_ = std::max(down_until_, a.until);
      break;
    case TimedAction::Kind::Up:
      down_until_ = a.at;
      break;
    case TimedAction::Kind::Change:
      if (a.change.rate)
        setRate(*a.change.rate, a.at);
      if (a.change.delay)
        config_.delay = *a.change.delay;
      if (a.change.jitter)
        config_.jitter = *a.change.jitter;
      if (a.change.loss)
        loss_.set(*a.change.loss);
      break;
  }
}

void EmulatedLink::setRate(const RateSpec& rate, Nanos at) {
  config_.rate = rate;
  rate_remainder_ = 0;
  trace_origin_ = at;
  next_opportunity_ = 0;
  credit_bytes_ = 0;
}

// Service of the packet at the head of the queue starts at `start` (its arrival or
// the previous departure); fixes when it leaves the bottleneck.
void EmulatedLink::startService(Nanos start) {
  const Queued& head = queue_.front();
  switch (config_.rate.kind) {
    case RateSpec::Kind::kUnlimited:
      head_departure_ = start;
      return;
    case RateSpec::Kind::kConstant: {
      std::uint64_t bit_ns = head.size_bytes * kBitNanosPerByte + rate_remainder_;
      rate_remainder_ = bit_ns % config_.rate.bps;
      head_departure_ = start + Nanos(static_cast<std::int64_t>(bit_ns / config_.rate.bps));
      return;
    }
    case RateSpec::Kind::kTrace: {
      std::uint64_t need = head.size_bytes;
      if (credit_bytes_ > 0 && head.arrival <= credit_time_) {
        std::uint64_t take = std::min<std::uint64_t>(need, credit_bytes_);
        credit_bytes_ -= static_cast<std::uint32_t>(take);
        need -= take;
        if (need == 0) {
          head_departure_ = credit_time_;
          return;
        }
      }
      std::uint64_t first = std::max(next_opportunity_, firstOpportunityAtOrAfter(start));
      std::uint64_t count = std::max<std::uint64_t>(1, ceilDiv(need, kOpportunityBytes));
      std::uint64_t last = first + count - 1;
      head_departure_ = opportunityTime(last);
      next_opportunity_ = last + 1;
      credit_bytes_ = static_cast<std::uint32_t>(count * kOpportunityBytes - need);
      credit_time_ = head_departure_;
      return;
    }
  }
}

void EmulatedLink::departHead() {
  Queued q = queue_.front();
  queue_.pop_front();
  queued_bytes_ -= q.size_bytes;
  Nanos t = head_departure_;
  last_departure_ = t;
  stats_.queue_delay_us.add(static_cast<std::uint64_t>((t - q.arrival).count() / 1000));
  if (loss_.lose(loss_rng_)) {
    ++stats_.drop_loss;
    lost_pending_.push_back(q.handle);
  } else {
    Nanos due = t + config_.delay;
    if (config_.jitter.count() > 0) {
      double u = jitter_rng_.uniform01() * 2.0 - 1.0;
      due += Nanos(std::llround(u * static_cast<double>(config_.jitter.count())));
      due = std::max(due, t);
    }
    if (!config_.reorder)
      due = std::max(due, last_due_);
    last_due_ = due;
    delay_line_.push_back({due, next_seq_++, q.handle, q.size_bytes});
    std::push_heap(delay_line_.begin(), delay_line_.end(), std::greater<>{});
  }
  if (queue_.empty()) {
    head_departure_ = kNever;
  } else {
    startService(std::max(queue_.front().arrival, t));
  }
}

bool EmulatedLink::overQueueLimit(Nanos now, std::uint32_t size_bytes) const {
  if (config_.rate.kind == RateSpec::Kind::kUnlimited)
    return false;
  if (config_.queue.bytes)
    return queued_bytes_ + size_bytes > *config_.queue.bytes;
  Nanos limit = config_.queue.time.value_or(kDefaultQueueTime);
  // Predicted departure of this packet: after the head (whose departure is fixed) and
  // every byte queued behind it.
  std::uint64_t behind_head = queued_bytes_ - (queue_.empty() ? 0 : queue_.front().size_bytes);
  Nanos from = queue_.empty() ? now : std::max(now, head_departure_);
  return from - now + timeToDeliver(from, behind_head + size_bytes) > limit;
}

// Time the current rate needs, from `from`, to deliver `bytes` more than it has
// already committed to.
Nanos EmulatedLink::timeToDeliver(Nanos from, std::uint64_t bytes) const {
  switch (config_.rate.kind) {
    case RateSpec::Kind::kUnlimited:
      return Nanos{0};
    case RateSpec::Kind::kConstant:
      return Nanos(static_cast<std::int64_t>(bytes * kBitNanosPerByte / config_.rate.bps));
    case RateSpec::Kind::kTrace: {
      if (bytes == 0)
        return Nanos{0};
      std::uint64_t first = std::max(next_opportunity_, firstOpportunityAtOrAfter(from));
      return opportunityTime(first + ceilDiv(bytes, kOpportunityBytes) - 1) - from;
    }
  }
  return Nanos{0};
}

std::uint64_t EmulatedLink::firstOpportunityAtOrAfter(Nanos t) const {
  const auto& ops = config_.rate.trace->opportunitiesMs();
  const std::uint64_t period = config_.rate.trace->periodMs();
  auto rel = static_cast<std::uint64_t>(std::max<std::int64_t>(0, (t - trace_origin_).count()));
  std::uint64_t ms = ceilDiv(rel, 1'000'000);
  if (ms == 0)
    return 0;
  // Opportunity times lie in [0, period] of their loop, so look in the loop where ms
  // is in (loop * period, (loop + 1) * period].
  std::uint64_t loop = (ms - 1) / period;
  auto it = std::lower_bound(ops.begin(), ops.end(), ms - loop * period);
  if (it == ops.end()) {
    ++loop;
    it = ops.begin();
  }
  return loop * ops.size() + static_cast<std::uint64_t>(it - ops.begin());
}

Nanos EmulatedLink::opportunityTime(std::uint64_t index) const {
  const auto& ops = config_.rate.trace->opportunitiesMs();
  const std::uint64_t period = config_.rate.trace->periodMs();
  std::uint64_t ms = (index / ops.size()) * period + ops[index % ops.size()];
  return trace_origin_ + std::chrono::milliseconds(ms);
}

}  // namespace bondcast::emu
