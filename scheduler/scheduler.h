// SPDX-License-Identifier: MPL-2.0
// The scheduler interface: which link(s) carry each packet of the stream.
//
// Contract for every method:
// - Thread: one. The scheduler is not thread-safe; the sender engine calls it from the
//   thread that owns the link sockets (the simulator from its event loop).
// - Time: `now` is always passed in and must not go backwards between calls. The
//   scheduler never reads a clock, does no I/O and never blocks.
// - Ownership: the scheduler owns its link models and counters; it never sees or keeps
//   payloads. The caller keeps payloads of recent packets (by `Packet::seq`) for as
//   long as their deadline allows, so it can act on takeResends().
// - Errors: data-path calls do not fail; an out-of-range LinkId is a programming error.
// Create one by name with makeScheduler() (scheduler/factory.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "scheduler/decision_stats.h"
#include "scheduler/link_model.h"
#include "scheduler/types.h"

namespace bondcast::sched {

// One packet to send again, and where.
struct Resend {
  Packet packet;
  LinkSet links;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  virtual std::string_view name() const = 0;

  // Links. Called at start-up (or when a link is added later); returns ids 0, 1, 2...
  // in the order of the calls. A new link starts in state kConnecting.
  virtual LinkId addLink(const LinkConfig& config, TimePoint now) = 0;
  // Gives the id of a link that is gone to a new link (ids are at most kMaxLinks): its
  // model and counters start afresh, in state kConnecting. Only for a link that has been
  // down since before the deadline of every copy it carried (they are forgotten), so no
  // record still names it.
  virtual void resetLink(LinkId link, const LinkConfig& config, TimePoint now) = 0;
  // SRT connection events: kConnecting, kUp, kDown (kStalled is the model's own).
  // Setting kDown on a link that was up queues its unacknowledged packets for
  // takeResends() (for policies that re-send).
  virtual void setLinkState(LinkId link, LinkState state, TimePoint now) = 0;
  virtual void setLinkCost(LinkId link, double cost) = 0;
  // Feedback: one srt_bistats reading of this link, typically every 10-20 ms. The
  // model may find the link stalled (then as kDown above) or recovered.
  virtual void onLinkStats(LinkId link, const LinkFeedback& stats, TimePoint now) = 0;
  // A send result: srt_sendmsg2 refused `packet` on `link` (buffer full or broken).
  // The scheduler forgets that copy; a broken connection is reported with kDown.
  virtual void onSendFailed(LinkId link, const Packet& packet, TimePoint now) = 0;
  // A receipt from the receiver (common/wire.h, on any link, in any order): every packet
  // below `below` was played out or given up, and the packets in `received` (ascending)
  // arrived. Such packets are never re-sent: a failed, silent or saturated link's copy of
  // one is not at risk after all.
  virtual void onReceipt(std::uint64_t below, std::span<const std::uint64_t> received,
                         TimePoint now) = 0;

  // Per packet, in stream order: the links to send it on, primary first. The caller
  // sends one copy on each. Empty when no link is connected, or when the policy knows
  // no link can deliver the packet by its deadline (latency-aware): the caller does not
  // send it now, which keeps queues free for packets that can; takeResends() returns it
  // if a link can make it after all (stats().dropped_late counts those never sent).
  [[nodiscard]] virtual LinkSet pick(const Packet& packet, TimePoint now) = 0;

  // Packets to send now, each with its links: what a link which failed (kDown, or found
  // stalled) still held unacknowledged and can still meet its deadline, oldest first (what
  // no link could deliver in time when it failed is tried again at every call while it
  // stays down);
  // and, for latency-aware, copies a silent or saturated link holds that are now at
  // risk, and packets pick() returned empty for (too late) that a link is now expected
  // to deliver in time. Call after setLinkState/onLinkStats; usually empty.
  [[nodiscard]] virtual std::vector<Resend> takeResends(TimePoint now) = 0;

  // Observability.
  virtual const SchedulerStats& stats() const = 0;
  virtual const LinkModel& link(LinkId link) const = 0;
  virtual std::size_t linkCount() const = 0;
};

}  // namespace bondcast::sched
