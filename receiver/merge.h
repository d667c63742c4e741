// Rebuilds one adaptive-mode stream from the copies its links deliver: in sequence
// order, each packet once, waiting a bounded time for a missing one. Pure logic: time
// is passed in, nothing is read or written here (the receiver owns sockets and output).
//
// Contract:
// - Thread: one (the receiver thread). `now` never goes backwards between calls.
// - push() takes one received packet; release() hands over, in order, every packet
//   that is ready, and gives up on a missing sequence number (counted lost) once the
//   oldest packet waiting behind it has waited `reorder_window`. nextDeadline() says
//   when release() next has something to do with no new packet.
// - The start of the stream is the lowest sequence number seen during the start-up
//   hold (links deliver the first packets in any order); a lower one arriving after it
//   is counted late.
// - Memory is bounded: at most `max_buffered` packets wait; more forces the oldest gap.
//   A packet more than `max_ahead` beyond the next expected one restarts the sequence
//   there (a sender that lost every link for a long time), counting the gap as lost.
// - Straggler deadline (when straggler_margin > 0): each link's SRT connection releases
//   a packet at about its source time + the latency + that link's one-way delay, so
//   per link (arrival - source time) has a floor, its offset (sender and receiver
//   clocks need not agree: only differences between links matter). A packet missing
//   before the head cannot come later than the head's source time + the largest
//   offset of the links heard from recently, unless it was re-sent or is late anyway:
//   the gap is given up then (+ the margin) if that comes before the reorder window
//   ends. A sender that skipped a packet (no link could carry it) so holds the output
//   up only for the spread of the links' delays, not a whole window.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "common/windowed_min.h"

namespace bondcast::receiver {

class Merger {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  struct Options {
    std::chrono::microseconds reorder_window{std::chrono::milliseconds(200)};
    // How long the first packets wait before the stream starts at the lowest sequence
    // number seen (links deliver the first packets in any order); 0: reorder_window.
    std::chrono::microseconds startup_hold{0};
    std::size_t max_buffered = 16384;     // packets (about 21 MB of 1316-byte payloads)
    std::uint64_t max_ahead = 1'000'000;  // sequence numbers beyond the next expected
    // 0: gaps wait the whole reorder window. Otherwise see "Straggler deadline" above.
    std::chrono::microseconds straggler_margin{0};
    std::chrono::microseconds offset_window{std::chrono::seconds(10)};  // floor kept ~this long
  };

  enum class Verdict : std::uint8_t {
    kAccepted,   // new; will be released in order
    kDuplicate,  // a copy of a packet already delivered or waiting
    kLate,       // arrived after the merge gave up on it (counted lost already)
  };

  struct Packet {
    std::uint64_t seq = 0;
    std::uint64_t source_time_us = 0;
    int link = -1;
    TimePoint arrival{};
    std::vector<std::uint8_t> payload;
  };

  struct Stats {
    std::uint64_t accepted = 0;
    std::uint64_t delivered = 0;
    std::uint64_t delivered_bytes = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t late = 0;
    std::uint64_t lost = 0;
    std::uint64_t restarts = 0;            // jumps beyond max_ahead
    std::uint64_t forced_gaps = 0;         // gaps given up early because the buffer was full
    std::uint64_t max_reorder_depth = 0;   // most packets ever waiting behind a gap
    std::uint64_t straggler_give_ups = 0;  // gaps given up by the straggler deadline
  };

  // Called by release(): each packet in order, and each run of sequence numbers given
  // up on (first, count).
  using Deliver = std::function<void(const Packet&)>;
  using Lost = std::function<void(std::uint64_t first_seq, std::uint64_t count)>;

  explicit Merger(Options options) : options_(options) {}

  Verdict push(std::uint64_t seq, std::uint64_t source_time_us, int link,
               std::span<const std::uint8_t> payload, TimePoint now);
  void release(TimePoint now, const Deliver& deliver, const Lost& lost);
  // At the end of the stream: everything waiting, in order, gaps given up at once.
  void flush(const Deliver& deliver, const Lost& lost);
  // When release() will next deliver or give up without a new packet; nullopt: nothing
  // is waiting.
  std::optional<TimePoint> nextDeadline() const;
  // Packets waiting now.
  std::size_t buffered() const { return waiting_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  // Per link: the floor of (arrival - source time), a windowed minimum.
  struct LinkOffset {
    WindowedMin<std::int64_t, TimePoint, std::chrono::microseconds> floor_us;
    TimePoint last_seen{};
  };
  void noteOffset(int link, std::uint64_t source_time_us, TimePoint now);
  // When a gap in front of `head` is given up (see the class comment).
  TimePoint giveUpAt(const Packet& head) const;
  void giveUpTo(std::uint64_t seq, const Lost& lost);
  void deliverHead(const Deliver& deliver);
  std::chrono::microseconds startupHold() const;
  bool wasGivenUp(std::uint64_t seq) const;

  Options options_;
  Stats stats_;
  bool started_ = false;       // the first reorder window has passed
  TimePoint first_arrival_{};  // of the first packet ever
  bool any_ = false;           // a packet has ever been pushed
  std::uint64_t next_ = 0;     // next sequence number to deliver (once started)
  std::uint64_t start_ = 0;    // first sequence number of the stream (once started)
  std::map<std::uint64_t, Packet> waiting_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> given_up_;  // recent lost runs
  std::map<int, LinkOffset> offsets_;
};

}  // namespace bondcast::receiver
