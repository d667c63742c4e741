// SPDX-License-Identifier: MPL-2.0
// One direction of one emulated link, as pure logic: no sockets, no clock, no
// threads. The socket shell feeds it packets with the time they arrived and asks it,
// at times of its choosing, which packets are due; the release schedule is a
// function of the arrival times, the configuration and the seed alone, never of
// when the shell happens to call. So a simulated clock can drive it through hours
// of trace in milliseconds, and tests can check it exactly.
//
//   offer ──> [outage?] ──> [drop-tail queue] ──> bottleneck ──> [loss] ──> delay line ──> poll
//             drop_outage   drop_queue            rate/trace      drop_loss  delay+jitter
//
// - Bottleneck. Unlimited: a packet leaves when it arrives. Constant rate: FIFO, a
//   packet leaves size*8/rate after max(its arrival, the previous departure), with
//   sub-nanosecond remainders carried. Trace (mahimahi semantics): each opportunity
//   delivers up to 1500 bytes of the queue; a packet leaves at the opportunity that
//   delivers its last byte; bytes of an opportunity left after the queue empties are
//   lost (the next packet may use them only if it had already arrived). The trace
//   starts at time 0, or at the event that set it, and loops.
// - Queue limit, checked on arrival: bytes (queued + this packet > limit drops it),
//   or time (the time the current rate needs to deliver the queue and this packet
//   exceeds the limit; for a trace, counted in its real future opportunities).
// - Outage (`down` events): packets arriving while the link is down are dropped;
//   packets already in the queue or on the wire are still delivered.
// - Loss is decided when a packet leaves the bottleneck, so it used capacity, in
//   departure order (= arrival order), from this direction's own random stream.
// - Delay line: due = departure + delay + uniform(-jitter, +jitter). Without
//   reordering a packet is never due before the one ahead of it (it waits for it).
// - Events apply at their time, in order with departures: a rate change applies
//   from the next packet to enter service; a delay change from the next departure.
//
// Thread: one owner calls everything; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "common/netmodel/loss.h"
#include "common/netmodel/rng.h"
#include "eval/emulator/config.h"
#include "eval/emulator/stats.h"

namespace bondcast::emu {

enum class Verdict { Accepted, DropQueue, DropOutage };
const char* toString(Verdict v);

struct Release {
  std::uint64_t handle;  // the caller's packet id, as offered
  Nanos due;             // when it should leave the emulator
};

class EmulatedLink {
 public:
  // `seed` is the whole emulator's; (link, dir) pick this direction's own streams.
  EmulatedLink(const DirectionConfig& config, std::vector<TimedAction> timeline, std::uint64_t seed,
               std::size_t link, Direction dir);

  // A packet of `size_bytes` arrived at `now` (never earlier than a previous call's
  // `now`). Accepted: the model keeps the handle and gives it back from poll(),
  // released or lost. Otherwise it is forgotten and counted.
  Verdict offer(Nanos now, std::uint32_t size_bytes, std::uint64_t handle);

  // Advances to `now`; appends the packets due at or before `now` to `released` in
  // due order, and the handles of packets lost on the way to `lost`.
  void poll(Nanos now, std::vector<Release>& released, std::vector<std::uint64_t>& lost);

  // The earliest time poll() may release something or has an event to apply (a
  // lower bound: polling then may find nothing due yet); kNever if idle. Valid
  // after offer() or poll().
  Nanos nextWakeup() const;

  const DirectionStats& stats() const { return stats_; }
  bool isDown(Nanos now) const { return now < down_until_; }

 private:
  struct Queued {
    std::uint64_t handle;
    std::uint32_t size_bytes;
    Nanos arrival;
  };
  struct InFlight {
    Nanos due;
    std::uint64_t seq;
    std::uint64_t handle;
    std::uint32_t size_bytes;
    bool operator>(const InFlight& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };

  void advanceTo(Nanos now);
  void apply(const TimedAction& a);
  void setRate(const RateSpec& rate, Nanos at);
  void startService(Nanos at);  // computes head_departure_ for queue_.front()
  void departHead();
  bool overQueueLimit(Nanos now, std::uint32_t size_bytes) const;
  Nanos timeToDeliver(Nanos now, std::uint64_t bytes) const;
  // Trace opportunities, numbered from the trace's origin across loops.
  std::uint64_t firstOpportunityAtOrAfter(Nanos t) const;
  Nanos opportunityTime(std::uint64_t index) const;

  DirectionConfig config_;
  std::vector<TimedAction> timeline_;
  std::size_t next_action_ = 0;
  net::LossModel loss_;
  net::Rng loss_rng_;
  net::Rng jitter_rng_;

  Nanos now_{0};  // the model's time: every event and departure up to here is done
  Nanos down_until_{0};

  std::deque<Queued> queue_;
  std::uint64_t queued_bytes_ = 0;
  Nanos head_departure_ = kNever;
  Nanos last_departure_{0};
  std::uint64_t rate_remainder_ = 0;  // constant rate: carried sub-nanosecond part (bit-ns)
  Nanos trace_origin_{0};
  std::uint64_t next_opportunity_ = 0;  // first trace opportunity not yet used
  std::uint32_t credit_bytes_ = 0;      // bytes left of the last used opportunity
  Nanos credit_time_{0};

  std::vector<InFlight> delay_line_;  // min-heap on (due, seq)
  std::uint64_t next_seq_ = 0;
  Nanos last_due_{0};

  DirectionStats stats_;
  std::vector<std::uint64_t> lost_pending_;
};

}  // namespace bondcast::emu
