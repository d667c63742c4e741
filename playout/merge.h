// SPDX-License-Identifier: MPL-2.0
// Rebuilds one adaptive-mode stream from the copies its links deliver: each packet once,
// in sequence order, each at its own playout time (playout_clock.h). Pure logic: time is
// passed in, nothing is read or written here (the receiver owns sockets and outputs; the
// simulator runs the same class on simulated arrivals).
//
// Contract:
// - Thread: one. `now` never goes backwards between calls.
// - push() takes one received copy: it feeds the playout clock, and the packet waits
//   for its playout time unless it is a duplicate, or late (its playout time has passed,
//   or the output has moved past it): a late packet is counted and dropped, and never
//   holds up the packets behind it.
// - release() hands over, in sequence order, every packet whose playout time has come.
//   Sequence numbers missing in front of it are given up then (counted lost): a missing
//   packet's playout time lies between its neighbours', so by the time the next one
//   leaves, its own moment has passed (and if it comes later it is late). nextDeadline()
//   says when release() next has something to do.
// - The start: the first packets are held for `startup_hold` (links deliver the first
//   packets in any order); then the playout clock takes its offset from what arrived and
//   the stream starts at the lowest sequence number seen. A lower one later is late.
// - Bounds: at most `max_buffered` packets wait (more: the oldest leaves early, counted
//   forced); a packet more than `max_ahead` sequence numbers beyond the next one restarts
//   the sequence there (the gap counted lost); a packet whose playout time is more than
//   `max_early` after its arrival has a source time no clock explains (counted
//   clock_skewed, dropped) and cannot hold the output hostage; so has one beyond 2^52 us
//   (142 years), even before the start. The last sequence number, 2^64 - 1, has no next
//   one: it is counted late and never delivered (the output cannot move past it).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "playout/playout_clock.h"

namespace bondcast::playout {

class Merger {
 public:
  struct Options {
    PlayoutClock::Options clock;
    Micros startup_hold{std::chrono::milliseconds(100)};
    std::size_t max_buffered = 16384;           // packets (about 21 MB of 1316-byte payloads)
    std::uint64_t max_ahead = 1'000'000;        // sequence numbers beyond the next expected
    Micros max_early{std::chrono::seconds(2)};  // beyond the latency
  };

  enum class Verdict : std::uint8_t {
    kAccepted,     // new; leaves at its playout time
    kDuplicate,    // a copy of a packet already delivered or waiting
    kLate,         // its playout time has passed (or the output moved past it)
    kClockSkewed,  // a source time far in the future: dropped
  };

  struct Packet {
    std::uint64_t seq = 0;
    std::uint64_t source_time_us = 0;
    int link = -1;
    TimePoint arrival{};
    TimePoint playout{};  // set when it leaves
    std::vector<std::uint8_t> payload;
  };

  struct Stats {
    std::uint64_t accepted = 0;
    std::uint64_t delivered = 0;
    std::uint64_t delivered_bytes = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t late = 0;      // copies that came after their playout time (not delivered)
    std::uint64_t lost = 0;      // sequence numbers never delivered (late ones included)
    std::uint64_t restarts = 0;  // jumps beyond max_ahead
    std::uint64_t forced = 0;    // packets sent out early because the buffer was full
    std::uint64_t clock_skewed = 0;
  };

  // Called by release(): each packet in order, and each run of sequence numbers given
  // up on (first, count).
  using Deliver = std::function<void(const Packet&)>;
  using Lost = std::function<void(std::uint64_t first_seq, std::uint64_t count)>;

  explicit Merger(Options options) : options_(options), clock_(options.clock) {}

  Verdict push(std::uint64_t seq, std::uint64_t source_time_us, int link,
               std::span<const std::uint8_t> payload, TimePoint now);
  void release(TimePoint now, const Deliver& deliver, const Lost& lost);
  // At the end of the stream: everything waiting, in order, now; gaps given up.
  void flush(const Deliver& deliver, const Lost& lost);
  // When release() will next deliver without a new packet; nullopt: nothing waits.
  std::optional<TimePoint> nextDeadline() const;
  std::size_t buffered() const { return waiting_.size(); }
  // What a receipt says (common/wire.h): false before the start (the stream's first
  // sequence number is not known yet); else every sequence number below `below` was
  // delivered or given up, and `waiting` gets those under below + `span` that arrived and
  // wait for their playout time, ascending (it is cleared first).
  bool receipt(std::uint64_t& below, std::vector<std::uint64_t>& waiting, std::uint64_t span) const;
  const Stats& stats() const { return stats_; }
  const PlayoutClock& clock() const { return clock_; }

 private:
  void start();
  void giveUpTo(std::uint64_t seq, const Lost& lost);
  void deliverHead(TimePoint playout, const Deliver& deliver);
  bool wasGivenUp(std::uint64_t seq) const;

  Options options_;
  PlayoutClock clock_;
  Stats stats_;
  bool started_ = false;
  std::optional<TimePoint> first_arrival_;
  std::uint64_t next_ = 0;   // next sequence number to deliver (once started)
  std::uint64_t start_ = 0;  // first sequence number of the stream (once started)
  std::map<std::uint64_t, Packet> waiting_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> given_up_;  // recent lost runs
};

// The settings of an adaptive session whose latency is `latency`, in one place for the
// receiver and the simulator: the start-up hold is 100 ms (enough for the links' first
// packets to come in over delays that differ by up to 100 ms), at most half the latency.
Merger::Options sessionOptions(Micros latency);

// A session's receipts (common/wire.h, receipt()), for the receiver and the simulator alike:
// one round every kReceiptInterval, on the fastest link heard within kReceiptLinkAlive
// (the first to bring it back), and every kReceiptAllLinksEvery-th round on every link
// (another way back when the fastest dies unseen). Each receipt costs the link one SRT
// acknowledgement back from the sender; all links every round cost the 12 Mbit/s test
// over 10 + 6 Mbit/s (tests/e2e/adaptive_test.cpp) half a point more wire overhead, and
// in the simulator won nothing over this.
inline constexpr Micros kReceiptInterval{std::chrono::milliseconds(10)};
inline constexpr Micros kReceiptLinkAlive{std::chrono::milliseconds(50)};
inline constexpr std::uint64_t kReceiptAllLinksEvery = 5;
// Whether round `round` goes on `link`; `fastest` from fastestLinkHeardWithin() (none
// heard lately: every link).
inline bool receiptGoesOn(int link, std::optional<int> fastest, std::uint64_t round) {
  return !fastest || link == *fastest || round % kReceiptAllLinksEvery == 0;
}

}  // namespace bondcast::playout
