// SPDX-License-Identifier: MPL-2.0
// The simulator's clock: a priority queue of timed events, earliest first, ties in the
// order they were pushed (so a run is deterministic).
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "scheduler/sim/link_sim.h"

namespace bondcast::sim {

enum class EventKind : std::uint8_t {
  kEmit,       // the source produces frame/packet `a`
  kArrival,    // link copy `a` reaches the receiver
  kNak,        // the sender learns link copy `a` was lost
  kNakReport,  // the sender hears the receiver's periodic loss report (no copy named)
  kAck,        // the sender learns copies below `a` arrived; `b` = the receiver's RTT, `x` = bw
  kAckAck,     // the receiver gets the reply to its ACK sent at `b` (an RTT sample)
  kTick,       // periodic: receivers acknowledge, senders report stats to the scheduler
  kReceipt,    // the sender gets the merge's receipt `a` (simulator.cpp) over link `link`
};

struct Event {
  SimTime t_us;
  std::uint64_t order;
  EventKind kind;
  std::uint32_t link;
  std::uint64_t a;
  std::int64_t b;
  double x;
};

class EventQueue {
 public:
  void push(SimTime t_us, EventKind kind, std::uint32_t link = 0, std::uint64_t a = 0,
            std::int64_t b = 0, double x = 0) {
    heap_.push(Event{t_us, next_order_++, kind, link, a, b, x});
  }
  bool empty() const { return heap_.empty(); }
  Event pop() {
    Event e = heap_.top();
    heap_.pop();
    return e;
  }

 private:
  struct Later {
    bool operator()(const Event& x, const Event& y) const {
      return x.t_us != y.t_us ? x.t_us > y.t_us : x.order > y.order;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::uint64_t next_order_ = 0;
};

}  // namespace bondcast::sim
