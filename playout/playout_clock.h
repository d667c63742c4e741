// SPDX-License-Identifier: MPL-2.0
// The playout clock of one adaptive session: when each packet leaves the receiver.
//
// Every packet leaves at   playout time = its source time + one offset for the session,
// as SRT's TSBPD and every jitter buffer promise; the offset is
//
//   offset = floor + latency,   floor = min over the links heard lately of that link's
//                                       floor of (arrival - source time)
//
// Source times are the sender's clock, arrivals and playout times the receiver's; the
// two clocks need not agree (hosts apart, hours apart, drifting): only the floor of
// their difference is used, and it is the fastest link's one-way delay plus the clocks'
// difference. So the output is the latency behind the fastest link, and every packet on
// a slower link has the latency less the links' difference to arrive in.
//
// Each link's floor is a windowed minimum (floor_window: the smaller of this window's and
// the last one's), so a delay that rises for a while (a queue on a congested cellular
// uplink) does not move it at once. The offset then moves only for what moves every
// link's floor, which is the clocks (drift), never for what moves one link's (a queue):
//
//   target = min(fastest floor + latency,                  down: a faster link, or drift
//                anchor + min over links of rise)          up: only what all links share
//
// where a link's rise is how far its floor is above where it started (a link that joins
// later starts at the rise the others share then), and the anchor is the offset less
// that shared rise, as the last move down left it. The offset follows the target up by
// at most max_slew_up (200 ppm: no crystal drifts faster; several links congested at once
// cannot drag it further) and down by at most max_slew_down (1%: a faster link joining,
// or a start while queues stood, is caught up in seconds without a jump in the output).
// With one link a queue standing longer than the window looks like drift: the offset then
// rises at most 200 ppm of the time it stands.
//
// Pure logic: time is passed in. Thread: one (the receiver's).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/windowed_min.h"

namespace bondcast::playout {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Micros = std::chrono::microseconds;

class PlayoutClock {
 public:
  struct Options {
    Micros latency{std::chrono::milliseconds(300)};
    Micros floor_window{std::chrono::seconds(4)};
    double max_slew_up = 200e-6;  // offset change per unit of time, at most
    double max_slew_down = 0.01;
  };

  // A link's one-way delay over the fastest link's, as the floors show it (honest across
  // hosts: a difference of two differences on the same two clocks).
  struct LinkDelay {
    int link = 0;
    Micros above_fastest{0};
    bool recent = false;  // heard within the floor window
  };

  explicit PlayoutClock(Options options) : options_(options) {}

  // Every copy that arrives, from any link (duplicates and late ones too): its floor.
  void observe(int link, std::uint64_t source_us, TimePoint arrival);
  // Fixes the offset from what was observed so far (nothing observed: no offset yet).
  void start();
  bool started() const { return offset_us_.has_value(); }
  // source + offset on the receiver's clock; only once started().
  TimePoint playoutTime(std::uint64_t source_us) const;
  // The offset in microseconds: (receiver clock - sender clock) + the fastest link's
  // delay + latency. Meaningless alone across hosts; see movedUs() and linkDelays().
  std::int64_t offsetUs() const { return offset_us_ ? static_cast<std::int64_t>(*offset_us_) : 0; }
  // How far the offset has moved since start(): what the clocks drifted (and any
  // faster link found later), in microseconds.
  std::int64_t movedUs() const { return offsetUs() - start_offset_us_; }
  Micros latency() const { return options_.latency; }
  std::vector<LinkDelay> linkDelays(TimePoint now) const;
  // The link with the smallest floor among those heard within `within` before `now`: the
  // fastest link still alive (a receipt's way back to the sender); nullopt if none was.
  std::optional<int> fastestLinkHeardWithin(TimePoint now, Micros within) const;

 private:
  struct LinkFloor {
    WindowedMin<std::int64_t, TimePoint, Micros> floor_us;
    TimePoint last_seen{};
    std::int64_t base_us = 0;  // floor_us where its rise is counted from
  };
  bool recent(const LinkFloor& l, TimePoint now) const {
    return now - l.last_seen <= options_.floor_window;
  }
  // The smallest floor of the links heard within the window before `now`.
  std::optional<std::int64_t> fastestFloor(TimePoint now) const;
  void follow(TimePoint now);

  Options options_;
  std::map<int, LinkFloor> links_;
  std::int64_t common_rise_us_ = 0;  // the rise every recent link shares (never falls)
  std::int64_t anchor_us_ = 0;       // offset less the shared rise, after the last move down
  std::optional<double> offset_us_;
  std::int64_t start_offset_us_ = 0;
  TimePoint followed_at_{};
  TimePoint last_arrival_{};
};

}  // namespace bondcast::playout
