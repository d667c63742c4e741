// SPDX-License-Identifier: MPL-2.0
#include "scheduler/sim/simulator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/wire.h"
#include "playout/merge.h"
#include "scheduler/deadline.h"
#include "scheduler/factory.h"
#include "scheduler/sim/event_queue.h"
#include "scheduler/sim/srt_link.h"

namespace bondcast::sim {
namespace {

sched::TimePoint at(SimTime t_us) {
  return sched::TimePoint{} + sched::Micros(t_us);
}

class Simulator {
 public:
  Simulator(const SimSetup& scenario, std::unique_ptr<sched::Scheduler> scheduler,
            bool unlimited_capacity)
      : scenario_(scenario),
        stream_(generateStream(scenario.video, scenario.duration)),
        scheduler_(std::move(scheduler)),
        deadlines_(scenario.latency),
        merger_(playout::sessionOptions(scenario.latency)),
        first_arrival_(stream_.size(), -1),
        copies_(stream_.size(), 0),
        on_time_(stream_.size(), false) {
    for (std::uint32_t i = 0; i < scenario.links.size(); ++i) {
      links_.push_back(std::make_unique<SrtLink>(
          i, scenario.links[i], scenario.seed, unlimited_capacity, events_,
          [this, i](std::uint64_t seq, SimTime t) { deliver(seq, i, t); }));
      const LinkSpec& spec = scenario.links[i];
      scheduler_->addLink({spec.name, spec.cost}, at(0));
      scheduler_->setLinkState(i, LinkState::kUp, at(0));
    }
  }

  DeliveryReport run(std::string label) {
    SimTime max_delay = 0;
    for (const LinkSpec& l : scenario_.links)
      max_delay = std::max(max_delay, l.maxDelay().count());
    const SimTime end_us = scenario_.duration.count() + scenario_.latency.count() + 2 * max_delay;
    if (!stream_.empty())
      events_.push(stream_.front().source_us, EventKind::kEmit);
    events_.push(scenario_.stats_period.count(), EventKind::kTick);
    while (!events_.empty()) {
      const Event e = events_.pop();
      if (e.t_us > end_us)
        break;
      handle(e);
    }
    return report(std::move(label));
  }

 private:
  void handle(const Event& e) {
    switch (e.kind) {
      case EventKind::kEmit:
        emitDue(e.t_us);
        break;
      case EventKind::kArrival:
        links_[e.link]->onArrival(e.a, e.x, e.t_us);
        break;
      case EventKind::kNak:
        links_[e.link]->onNak(e.a, e.t_us);
        break;
      case EventKind::kNakReport:
        links_[e.link]->onNakReport();
        break;
      case EventKind::kAck:
        links_[e.link]->onAck(e.a, e.b, e.x, e.t_us);
        break;
      case EventKind::kAckAck:
        links_[e.link]->onAckAck(e.b, e.t_us);
        break;
      case EventKind::kTick:
        tick(e.t_us);
        break;
      case EventKind::kReceipt:
        takeReceipt(e.a, e.t_us);
        break;
    }
  }

  // One copy of `packet` on `link`, with the TTL the real sender gives it: the copy is
  // neither sent nor re-sent once it could no longer arrive by its deadline.
  void sendCopy(const sched::Packet& packet, sched::LinkId link, SimTime now) {
    const sched::TimePoint expires = packet.deadline - scheduler_->link(link).oneWayDelay();
    links_[link]->send(packet.seq, packet.size_bytes,
                       std::chrono::duration_cast<sched::Micros>(expires - at(0)).count(), now);
  }

  void emitDue(SimTime now) {
    while (next_ < stream_.size() && stream_[next_].source_us <= now) {
      const SourcePacket& p = stream_[next_];
      const sched::Packet packet{next_, p.size_bytes, deadlines_.deadline(at(p.source_us)),
                                 p.importance};
      for (sched::LinkId link : scheduler_->pick(packet, at(now))) {
        sendCopy(packet, link, now);
      }
      ++next_;
    }
    if (next_ < stream_.size())
      events_.push(stream_[next_].source_us, EventKind::kEmit);
  }

  void tick(SimTime now) {
    for (std::uint32_t i = 0; i < links_.size(); ++i) {
      links_[i]->tick(now);
      scheduler_->onLinkStats(i, links_[i]->stats(), at(now));
    }
    deadlines_.update(*scheduler_, at(now));
    for (const sched::Resend& r : scheduler_->takeResends(at(now))) {
      for (sched::LinkId link : r.links) {
        sendCopy(r.packet, link, now);
      }
    }
    sendReceipt(now);
    events_.push(now + scenario_.stats_period.count(), EventKind::kTick);
  }

  // The receiver's receipt (common/wire.h), as `bondcast recv` sends it: what the merge
  // holds, on the links playout::receiptGoesOn() picks, reaching the sender a reverse
  // delay later unless its link is down. Sent at the ticks (every 10 ms, as
  // playout::kReceiptInterval).
  void sendReceipt(SimTime now) {
    Receipt r;
    if (!merger_.receipt(r.below, r.received, wire::kMaxReceiptBits)) {
      return;
    }
    const std::optional<int> fastest =
        merger_.clock().fastestLinkHeardWithin(at(now), playout::kReceiptLinkAlive);
    for (std::uint32_t i = 0; i < links_.size(); ++i) {
      if (!playout::receiptGoesOn(static_cast<int>(i), fastest, next_receipt_)) {
        continue;
      }
      if (!links_[i]->path().downAt(now)) {
        events_.push(now + links_[i]->path().revDelayUs(), EventKind::kReceipt, i, next_receipt_);
        ++r.in_flight;
      }
    }
    if (r.in_flight > 0) {
      receipts_.emplace(next_receipt_, std::move(r));
    }
    ++next_receipt_;
  }

  void takeReceipt(std::uint64_t id, SimTime now) {
    auto it = receipts_.find(id);
    scheduler_->onReceipt(it->second.below, it->second.received, at(now));
    if (--it->second.in_flight == 0) {
      receipts_.erase(it);
    }
  }

  // The receiver: every copy goes through the same merge and playout clock as in
  // `bondcast recv`; a packet is on time when the merge takes it (before its playout time).
  void deliver(std::uint64_t seq, std::uint32_t link, SimTime t) {
    if (copies_[seq]++ == 0)
      first_arrival_[seq] = t;
    const auto verdict = merger_.push(seq, static_cast<std::uint64_t>(stream_[seq].source_us),
                                      static_cast<int>(link), {}, at(t));
    if (verdict == playout::Merger::Verdict::kAccepted)
      on_time_[seq] = true;
    merger_.release(at(t), nullptr, nullptr);
  }

  DeliveryReport report(std::string label) const {
    DeliveryReport r = score(std::move(label), stream_, first_arrival_, copies_, on_time_);
    for (const auto& link : links_) {
      r.links.push_back(
          {link->path().spec().name, link->path().counters(), link->retransmissions()});
      r.wire_bytes += link->path().counters().wire_bytes;
    }
    r.scheduler = scheduler_->stats();
    return r;
  }

  const SimSetup& scenario_;
  std::vector<SourcePacket> stream_;
  std::unique_ptr<sched::Scheduler> scheduler_;
  sched::DeadlineClock deadlines_;
  playout::Merger merger_;
  EventQueue events_;
  std::vector<std::unique_ptr<SrtLink>> links_;
  std::vector<SimTime> first_arrival_;
  std::vector<std::uint16_t> copies_;
  std::vector<bool> on_time_;
  std::uint64_t next_ = 0;
  struct Receipt {
    std::uint64_t below = 0;
    std::vector<std::uint64_t> received;
    int in_flight = 0;  // its kReceipt events not handled yet
  };
  std::map<std::uint64_t, Receipt> receipts_;  // by id
  std::uint64_t next_receipt_ = 0;
};

}  // namespace

Result<DeliveryReport> runPolicy(const SimSetup& scenario, std::string_view policy,
                                 bool unlimited_capacity) {
  auto scheduler = sched::makeScheduler(policy, scenario.scheduler);
  if (!scheduler)
    return scheduler.error();
  Simulator sim(scenario, std::move(scheduler).value(), unlimited_capacity);
  return sim.run(std::string(policy));
}

Result<SimReport> simulate(const SimSetup& scenario, std::string_view policy, bool with_bounds) {
  SimReport out;
  out.scenario = scenario.name;
  out.seed = scenario.seed;
  out.simulated_s = std::chrono::duration<double>(scenario.duration).count();
  auto run = runPolicy(scenario, policy);
  if (!run)
    return run.error();
  out.policy = std::move(run).value();
  if (!with_bounds)
    return out;
  out.pooled_oracle = pooledOracle(scenario);
  auto broadcast = runPolicy(scenario, "broadcast", true);
  if (!broadcast)
    return broadcast.error();
  out.ideal_broadcast = std::move(broadcast).value();
  out.ideal_broadcast->label = "ideal-broadcast";
  out.ideal_broadcast->scheduler.reset();
  return out;
}

nlohmann::json toJson(const SimReport& r) {
  nlohmann::json j = {{"scenario", r.scenario},
                      {"seed", r.seed},
                      {"simulated_s", r.simulated_s},
                      {"policy", r.policy.label},
                      {"result", toJson(r.policy)}};
  if (r.pooled_oracle)
    j["bounds"]["pooled_oracle"] = toJson(*r.pooled_oracle);
  if (r.ideal_broadcast)
    j["bounds"]["ideal_broadcast"] = toJson(*r.ideal_broadcast);
  return j;
}

std::string defaultSharedDir() {
  if (const char* env = std::getenv("BONDCAST_SHARED_DIR"); env != nullptr && *env != 0)
    return env;
  return BONDCAST_SIM_SHARED_DIR;
}

}  // namespace bondcast::sim
