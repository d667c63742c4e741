// SPDX-License-Identifier: MPL-2.0
#include "scheduler/policies/latency_aware.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace bondcast::sched {

namespace {
// A link that came up is probed until this many of its copies were acknowledged: enough
// for SRT to have measured its RTT (LinkModel::ackedSinceUp).
constexpr std::uint64_t kAckedToBeMeasured = 5;
}  // namespace

LinkId LatencyAwarePolicy::addLink(const LinkConfig& config, TimePoint now) {
  last_probe_.push_back(now);
  joined_late_.push_back(false);
  return PolicyBase::addLink(config, now);
}

void LatencyAwarePolicy::afterReset(LinkId link, TimePoint now) {
  last_probe_.at(link) = now;
  joined_late_.at(link) = false;
}

void LatencyAwarePolicy::setLinkState(LinkId link, LinkState state, TimePoint now) {
  if (state == LinkState::kUp && !models().at(link).isUp()) {
    joined_late_.at(link) = std::any_of(models().begin(), models().end(), [&](const LinkModel& m) {
      return m.id() != link && m.isUp() && m.sentPackets() > 0;
    });
  }
  PolicyBase::setLinkState(link, state, now);
}

LatencyAwarePolicy::Option LatencyAwarePolicy::evaluate(const LinkModel& link, const Packet& packet,
                                                        TimePoint now) const {
  const auto queue_doubt =
      std::chrono::duration_cast<Micros>(link.queueDelay(now) * config().queue_uncertainty);
  const TimePoint arrival = link.expectedArrival(packet.size_bytes, now) + queue_doubt;
  const TimePoint safe = arrival + link.rttVar() * 2 + config().safety_margin;
  return {link.id(), arrival, safe <= packet.deadline, safe + link.srtt() <= packet.deadline};
}

// Cheapest link with room for a retransmission (earliest arrival among equals); else
// the earliest arrival that meets the deadline; else the earliest arrival at all.
std::optional<LatencyAwarePolicy::Option> LatencyAwarePolicy::choosePrimary(const Packet& packet,
                                                                            TimePoint now) {
  std::optional<Option> roomy, meets, any;
  double roomy_cost = 0;
  for (const LinkModel& link : models()) {
    if (!link.isUp())
      continue;
    const Option o = evaluate(link, packet, now);
    if (!o.meets)
      ++counters(link.id()).skipped_late;
    if (o.roomy && (!roomy || std::make_pair(link.cost(), o.arrival) <
                                  std::make_pair(roomy_cost, roomy->arrival))) {
      roomy = o;
      roomy_cost = link.cost();
    }
    if (o.meets && (!meets || o.arrival < meets->arrival))
      meets = o;
    if (!any || o.arrival < any->arrival)
      any = o;
  }
  return roomy ? roomy : meets ? meets : any;
}

// The earliest arrival among up links other than `except` that meet the packet's
// deadline, among links with the room asked for: kSpare, capacity to spare (a short
// queue); kUnsaturated, that or a queue that drains (no copy waits long: a link carrying
// the stream in frame bursts); kAny, every link.
std::optional<LinkId> LatencyAwarePolicy::earliestMeeting(const Packet& packet,
                                                          std::optional<LinkId> except, Room room,
                                                          TimePoint now) const {
  const std::optional<Option> best = bestMeeting(packet, except, room, now);
  return best ? std::optional<LinkId>(best->link) : std::nullopt;
}

std::optional<LatencyAwarePolicy::Option> LatencyAwarePolicy::bestMeeting(
    const Packet& packet, std::optional<LinkId> except, Room room, TimePoint now) const {
  std::optional<Option> best;
  for (const LinkModel& link : models()) {
    if (!link.isUp() || link.id() == except) {
      continue;
    }
    const bool spare = link.queueDelay(now) < config().extra_copy_max_queue;
    if ((room == Room::kSpare && !spare) ||
        (room == Room::kUnsaturated && !spare && link.isSaturated())) {
      continue;
    }
    const Option o = evaluate(link, packet, now);
    if (o.meets && (!best || o.arrival < best->arrival)) {
      best = o;
    }
  }
  return best;
}

// At risk: no room for a retransmission, or its link behaves unusually (send buffer
// older than usual, or heavy loss).
bool LatencyAwarePolicy::atRisk(const Option& primary, TimePoint now) const {
  const LinkModel& link = models()[primary.link];
  return !primary.roomy || link.isSuspect(now) || link.lossRate() > config().lossy_link;
}

// Small vital packets (parameter sets, audio) may run the credit into a little debt;
// keyframes and at-risk packets need the credit in hand.
bool LatencyAwarePolicy::affordExtra(const Packet& packet) const {
  if (has(packet.importance, Importance::kParameterSets) ||
      has(packet.importance, Importance::kAudio)) {
    return credit_bytes_ > -static_cast<double>(config().budget_burst_bytes) / 4;
  }
  return credit_bytes_ >= packet.size_bytes;
}

void LatencyAwarePolicy::addProbes(Decision& decision, TimePoint now) {
  for (const LinkModel& link : models()) {
    const bool unmeasured =
        link.isUp() && joined_late_[link.id()] && link.ackedSinceUp() < kAckedToBeMeasured;
    if ((link.state() != LinkState::kStalled && !unmeasured) ||
        now - last_probe_[link.id()] < config().probe_interval) {
      continue;
    }
    if (decision.links.add(link.id()))
      last_probe_[link.id()] = now;
  }
}

// The decision, per packet:
// 1. For every up link, expected arrival = now + queue delay x (1 + queue_uncertainty)
//    + serialization + one-way delay (LinkModel; the queue is a round trip old). It meets
//    the deadline if arrival + 2 x RTT variation + a safety margin <= deadline, and is
//    roomy if one more RTT (an SRT retransmission) fits too.
// 2. Primary copy: the cheapest roomy link, earliest arrival among equal costs; else the
//    earliest arrival that meets the deadline; else the earliest arrival. Links that
//    cannot meet the deadline are counted skipped-late. When even the earliest expected
//    arrival plus the safety margin is past the deadline (once links are measured), the
//    packet is not sent at all (with drop_when_late): on a saturated link it would only
//    take the place of one that can still make it.
// 3. Extra copy, on the earliest-arriving other link that meets the deadline and has
//    capacity to spare (queue below extra_copy_max_queue), when the packet is important
//    (parameter sets, keyframe, audio) or at risk (its primary is not roomy, looks
//    stalled, or loses heavily), paid from a credit that earns overhead_budget x each
//    packet's size.
// 4. A stalled link gets one copy every probe_interval so its recovery shows, and so does
//    a link that came up while another carried the stream, until a few of its copies were
//    acknowledged (a link added or reconnected: SRT measures its RTT only from data it
//    carries, and until then its default 100 ms RTT makes it lose every comparison).
// Re-sends after a failure (resendTargets) take the earliest arrival that can still
// make the deadline (any earliest arrival without drop_when_late). At every
// takeResends() (rescueLate):
// 5. Packets not sent as too late are judged again, newest first (the most slack): each
//    goes to the earliest link now expected to meet its deadline (meets, as in 1).
// 6. What a link holds gets another copy, oldest first: when the link went silent (no
//    acknowledgement for silence_resend_after while it holds copies that are due: it may
//    have gone dark), each copy that is overdue; when the link is saturated, each copy it
//    is now expected to deliver after its deadline (its capacity collapsed). The copy
//    goes, even into debt (as a failed link's copies: a copy stuck behind a collapse is
//    as lost as one on a dead link), on the earliest link that meets its deadline with
//    capacity to spare (queue below extra_copy_max_queue) or, for a saturated link's
//    copy, one that is not saturated itself: neither feeds an overload. Failing that, a
//    saturated link's copy goes on any link that meets its deadline while the credit is
//    in hand.
//    With receipts from the receiver (onReceipt), a copy it already has is never re-sent:
//    the link is slow to acknowledge it, or the copy's hole-free prefix ends before it
//    (SRT acknowledges up to a link's first gap), or another link delivered the packet.
// 7. A link's hole at its last chance (rescueHoles): the copy a lossy link's
//    acknowledgements stop at goes again on another link when that link would only just
//    make its deadline.
PolicyBase::Decision LatencyAwarePolicy::decide(const Packet& packet, TimePoint now) {
  credit_bytes_ = std::min(credit_bytes_ + config().overhead_budget * packet.size_bytes,
                           static_cast<double>(config().budget_burst_bytes));
  Decision decision;
  const std::optional<Option> primary = choosePrimary(packet, now);
  if (!primary) {  // nothing up: the least stalled link, if any is connected
    for (const LinkModel& link : models()) {
      if (link.isConnected() && decision.links.empty())
        decision.links.add(link.id());
    }
    return decision;
  }
  const LinkModel& best = models()[primary->link];
  if (config().drop_when_late && best.isMeasured() &&
      primary->arrival + config().safety_margin > packet.deadline) {
    decision.too_late = true;  // it would only queue ahead of packets that can make it
    deferred_.push_back(packet);
    return decision;
  }
  decision.links.add(primary->link);
  if (any(packet.importance) || atRisk(*primary, now)) {
    const std::optional<LinkId> extra = earliestMeeting(packet, primary->link, Room::kSpare, now);
    if (extra && affordExtra(packet)) {
      decision.links.add(*extra);
      credit_bytes_ -= packet.size_bytes;
    }
  }
  const std::size_t before_probes = decision.links.size();
  addProbes(decision, now);
  credit_bytes_ -= static_cast<double>((decision.links.size() - before_probes) * packet.size_bytes);
  return decision;
}

LinkSet LatencyAwarePolicy::resendTargets(const Packet& packet, LinkId failed, TimePoint now) {
  if (!canBorrow(packet, config().resend_debt_bytes)) {
    return {};
  }
  std::optional<Option> best;
  for (const LinkModel& link : models()) {
    if (!link.isUp() || link.id() == failed)
      continue;
    const Option o = evaluate(link, packet, now);
    const bool hopeful = o.arrival <= packet.deadline || !config().drop_when_late;
    if (hopeful && (!best || o.arrival < best->arrival))
      best = o;
  }
  LinkSet targets;
  if (best) {
    targets.add(best->link);
    credit_bytes_ -= packet.size_bytes;
  }
  return targets;
}

}  // namespace bondcast::sched

namespace bondcast::sched {

// Re-sends of what a failed, silent or saturated link held may run the credit into debt,
// down to `debt_bytes` (SchedulerConfig): when links keep failing under overload, re-sends
// must not feed it.
bool LatencyAwarePolicy::canBorrow(const Packet& packet, std::uint64_t debt_bytes) const {
  return credit_bytes_ - packet.size_bytes >= -static_cast<double>(debt_bytes);
}

bool LatencyAwarePolicy::isSilent(const LinkModel& link, TimePoint now) const {
  return config().silence_resend_after > Micros::zero() &&
         link.silentFor(now) >= config().silence_resend_after;
}

// Step 5: the packets pick() did not send, newest first. Forgotten once even the
// shortest one-way delay of a connected link no longer fits before the deadline. A
// stalled link counts: while every link is stalled nothing is sent, but what waits is
// kept for the first link that acknowledges again. Every link stalling at once can be
// this host or the receiver pausing rather than every network failing; throwing the
// waiting packets away then lost payloads whose deadlines were hundreds of ms off (two
// adaptive senders into one receiver under ThreadSanitizer, 2026-12-05).
void LatencyAwarePolicy::sendDeferred(TimePoint now, std::vector<Resend>& out) {
  std::optional<Micros> shortest;
  for (const LinkModel& link : models()) {
    if (link.isConnected() && (!shortest || link.oneWayDelay() < *shortest)) {
      shortest = link.oneWayDelay();
    }
  }
  if (!shortest) {
    deferred_.clear();
    return;
  }
  std::erase_if(deferred_, [&](const Packet& p) {
    return now + *shortest + config().safety_margin > p.deadline;
  });
  for (std::size_t i = deferred_.size(); i-- > 0;) {
    if (const std::optional<LinkId> link =
            earliestMeeting(deferred_[i], std::nullopt, Room::kAny, now)) {
      sendLater(deferred_[i], *link, now, out);
      deferred_.erase(deferred_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

// Steps 5 and 6.
void LatencyAwarePolicy::rescueLate(TimePoint now, std::vector<Resend>& out) {
  sendDeferred(now, out);
  for (const LinkModel& link : models()) {
    if (!link.isUp()) {
      continue;
    }
    const bool silent = isSilent(link, now);
    if (!silent && !link.isSaturated()) {
      continue;
    }
    const LinkId id = link.id();
    for (SentHistory::Record& record : history().records()) {
      if (!record.hasCopyOn(id) || record.link_index[id] < link.ackedBelow() || record.received) {
        continue;
      }
      if (silent
              ? !link.isOverdue(record.link_index[id], now)
              : record.packet.deadline >= link.expectedArrivalOfHeld(record.link_index[id], now)) {
        continue;
      }
      // A copy a silent link should have delivered is probably lost with the link, and one
      // a saturated link will deliver late is lost all the same: it goes again even into
      // debt, as a failed link's do (the debt holds extra copies back later). Measured on
      // S2's throttle (10 -> 1 Mbit/s, one link of three, 200 ms; eval/run --quick, real
      // processes): while they waited for credit in hand, 13-15 payloads per run were lost
      // (the flaps before had run the credit into debt), none in the two runs without that
      // wait. The other links carry the stream in frame bursts, so their queues are rarely
      // below extra_copy_max_queue: a collapsed link's copies also take a link that is
      // merely not saturated (a real run lost 11 payloads waiting for a spare one). Silent
      // links' copies keep to spare links: in the simulator, letting them take unsaturated
      // ones too cost S6 at 300 ms 204 missed payloads instead of 57.
      if (!canBorrow(record.packet, config().rescue_debt_bytes)) {
        continue;
      }
      if (coveredElsewhere(record, id)) {
        continue;
      }
      std::optional<LinkId> target =
          earliestMeeting(record.packet, id, silent ? Room::kSpare : Room::kUnsaturated, now);
      if (!target && !silent && credit_bytes_ >= record.packet.size_bytes) {
        target = earliestMeeting(record.packet, id, Room::kAny, now);
      }
      if (!target)
        continue;
      LinkSet targets;
      targets.add(*target);
      credit_bytes_ -= record.packet.size_bytes;
      resendRecord(record, targets, now, out);
    }
  }
  rescueHoles(now, out);
}

// Step 7: a link's hole at its last chance. On a link that reported a loss lately, the copy
// its acknowledgements stop at (SRT acknowledges up to the first gap) has been lost once
// when it is overdue, and SRT repairs it a round trip at a time: on a slow lossy link a
// second loss leaves no round trip before the deadline (the demo's cell-B: 125 ms RTT, 2-4%
// loss, about 250 ms for repairs). So when the earliest other link that meets the deadline
// without being saturated would only just make it (within two of the 10 ms ticks that call
// this), the hole goes again there. Only the hole: the copies behind it are most likely
// delivered. Simulator, missed payloads summed over seeds (`bondcast sim --no-bounds --seed
// N`), before -> after: demo 199 -> 173 (80 seeds; 42 -> 52 of them clean), S1 26 -> 21,
// S3a 117 -> 100, S6 at 300 ms 905 -> 796 (8 seeds each), S2, S4 and S5 unchanged. Without
// the lost-lately condition a copy that is only queued counts as a hole (S4: +632 and +888
// missed at 8 Mbit/s); with only spare links as targets the demo gained nothing.
// A hole is a known loss, like a failed link's copies, and borrows as far as they do
// (resend_debt_bytes), past the limit of step 6's guesses: in the real demo those held the
// credit at their own limit in most ticks, and the holes behind them were lost
// (docs/playout.md, "Holes behind the rescues' debt").
void LatencyAwarePolicy::rescueHoles(TimePoint now, std::vector<Resend>& out) {
  constexpr Micros kLead{std::chrono::milliseconds(20)};
  for (const LinkModel& link : models()) {
    if (!link.isUp() || !link.lostRecently(now) || !link.isOverdue(link.ackedBelow(), now)) {
      continue;
    }
    const LinkId id = link.id();
    // The hole's record. Not always the first of the link's held copies in the history: a
    // copy re-sent onto this link takes a later per-link index than newer packets' copies.
    for (SentHistory::Record& record : history().records()) {
      if (!record.hasCopyOn(id) || record.link_index[id] != link.ackedBelow()) {
        continue;
      }
      if (record.received || coveredElsewhere(record, id) ||
          !canBorrow(record.packet, config().resend_debt_bytes)) {
        break;
      }
      const std::optional<Option> target = bestMeeting(record.packet, id, Room::kUnsaturated, now);
      if (!target) {
        break;
      }
      if (target->arrival + config().safety_margin + kLead < record.packet.deadline) {
        break;  // not yet: its repair may still come in time
      }
      LinkSet targets;
      targets.add(target->link);
      credit_bytes_ -= record.packet.size_bytes;
      resendRecord(record, targets, now, out);
      break;
    }
  }
}

}  // namespace bondcast::sched
