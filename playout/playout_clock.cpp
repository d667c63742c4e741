// SPDX-License-Identifier: MPL-2.0
#include "playout/playout_clock.h"

#include <algorithm>

namespace bondcast::playout {
namespace {

std::int64_t micros(TimePoint t) {
  return std::chrono::duration_cast<Micros>(t.time_since_epoch()).count();
}

}  // namespace

void PlayoutClock::observe(int link, std::uint64_t source_us, TimePoint arrival) {
  const std::int64_t delay = micros(arrival) - static_cast<std::int64_t>(source_us);
  auto [it, fresh] =
      links_.try_emplace(link, LinkFloor{{delay, options_.floor_window}, arrival, delay});
  LinkFloor& l = it->second;
  // A link's rise never counts below what all links share: a link that joins (or comes
  // back after a long silence, its old floor stale) starts there, and a floor that falls
  // (its first packets had queued) moves its start down with it.
  if (fresh || arrival - l.last_seen > 2 * options_.floor_window) {
    l.floor_us.reset(delay, arrival);
    l.base_us = delay - common_rise_us_;
  } else {
    l.floor_us.add(delay, arrival);
    l.base_us = std::min(l.base_us, l.floor_us.get() - common_rise_us_);
  }
  l.last_seen = std::max(l.last_seen, arrival);
  last_arrival_ = std::max(last_arrival_, arrival);
  if (offset_us_) {
    follow(arrival);
  }
}

std::optional<std::int64_t> PlayoutClock::fastestFloor(TimePoint now) const {
  std::optional<std::int64_t> fastest;
  for (const auto& [link, l] : links_) {
    if (!recent(l, now)) {
      continue;  // a link gone quiet: its floor says nothing about now
    }
    const std::int64_t floor = l.floor_us.get();
    fastest = fastest ? std::min(*fastest, floor) : floor;
  }
  return fastest;
}

std::optional<int> PlayoutClock::fastestLinkHeardWithin(TimePoint now, Micros within) const {
  std::optional<int> fastest;
  std::int64_t fastest_floor = 0;
  for (const auto& [link, l] : links_) {
    if (now - l.last_seen > within) {
      continue;
    }
    if (!fastest || l.floor_us.get() < fastest_floor) {
      fastest = link;
      fastest_floor = l.floor_us.get();
    }
  }
  return fastest;
}

void PlayoutClock::start() {
  const std::optional<std::int64_t> floor = fastestFloor(last_arrival_);
  if (!floor) {
    return;
  }
  offset_us_ = static_cast<double>(*floor + options_.latency.count());
  start_offset_us_ = anchor_us_ = offsetUs();
  followed_at_ = last_arrival_;
  common_rise_us_ = 0;
  for (auto& [link, l] : links_) {
    l.base_us = l.floor_us.get();
  }
}

// Moves the offset toward (fastest floor + latency), no faster than the slew limits
// allow for the time since the last move.
void PlayoutClock::follow(TimePoint now) {
  if (now <= followed_at_) {
    return;
  }
  const double elapsed_us =
      static_cast<double>(std::chrono::duration_cast<Micros>(now - followed_at_).count());
  followed_at_ = now;
  const std::optional<std::int64_t> floor = fastestFloor(now);
  if (!floor) {
    return;
  }
  std::optional<std::int64_t> shared;
  for (const auto& [link, l] : links_) {
    if (recent(l, now)) {
      const std::int64_t rise = l.floor_us.get() - l.base_us;
      shared = shared ? std::min(*shared, rise) : rise;
    }
  }
  common_rise_us_ = std::max(common_rise_us_, shared.value_or(common_rise_us_));
  const double target = static_cast<double>(
      std::min(*floor + options_.latency.count(), anchor_us_ + common_rise_us_));
  const double step = std::clamp(target - *offset_us_, -elapsed_us * options_.max_slew_down,
                                 elapsed_us * options_.max_slew_up);
  *offset_us_ += step;
  if (step < 0) {  // a better floor found: the rise is counted from here on
    anchor_us_ = std::min(anchor_us_, offsetUs() - common_rise_us_);
  }
}

TimePoint PlayoutClock::playoutTime(std::uint64_t source_us) const {
  return TimePoint(Micros(static_cast<std::int64_t>(source_us) + offsetUs()));
}

std::vector<PlayoutClock::LinkDelay> PlayoutClock::linkDelays(TimePoint now) const {
  std::vector<LinkDelay> out;
  const std::optional<std::int64_t> fastest = fastestFloor(now);
  for (const auto& [link, l] : links_) {
    const std::int64_t above = fastest ? std::max<std::int64_t>(0, l.floor_us.get() - *fastest) : 0;
    out.push_back({link, Micros(above), recent(l, now)});
  }
  return out;
}

}  // namespace bondcast::playout
