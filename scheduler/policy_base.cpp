// SPDX-License-Identifier: MPL-2.0
#include "scheduler/policy_base.h"

#include <algorithm>
#include <stdexcept>

namespace bondcast::sched {

PolicyBase::PolicyBase(std::string name, SchedulerConfig config) : config_(std::move(config)) {
  stats_.policy = std::move(name);
}

LinkId PolicyBase::addLink(const LinkConfig& config, TimePoint /*now*/) {
  if (links_.size() == kMaxLinks) {
    throw std::length_error("at most " + std::to_string(kMaxLinks) + " links");
  }
  const auto id = static_cast<LinkId>(links_.size());
  links_.emplace_back(id, config, config_.link);
  stats_.links.emplace_back();
  return id;
}

void PolicyBase::resetLink(LinkId link, const LinkConfig& config, TimePoint now) {
  links_.at(link) = LinkModel(link, config, config_.link);
  stats_.links.at(link) = {};
  failed_.erase(std::remove(failed_.begin(), failed_.end(), link), failed_.end());
  history_.prune(now);
  afterReset(link, now);
}

void PolicyBase::setLinkState(LinkId link, LinkState state, TimePoint now) {
  noteTransition(link, links_.at(link).setState(state, now));
}

void PolicyBase::setLinkCost(LinkId link, double cost) {
  links_.at(link).setCost(cost);
}

void PolicyBase::onLinkStats(LinkId link, const LinkFeedback& stats, TimePoint now) {
  noteTransition(link, links_.at(link).onStats(stats, now));
  afterStats(link, now);
}

void PolicyBase::onSendFailed(LinkId link, const Packet& packet, TimePoint now) {
  links_.at(link).onSendFailed(packet.size_bytes, now);
}

void PolicyBase::onReceipt(std::uint64_t below, std::span<const std::uint64_t> received,
                           TimePoint /*now*/) {
  ++stats_.receipts;
  history_.markReceived(below, received);
}

void PolicyBase::noteTransition(LinkId link, LinkModel::Transition transition) {
  if (transition != LinkModel::Transition::kFailed)
    return;
  ++stats_.link_failures;
  if (resendsOnFailure() && std::find(failed_.begin(), failed_.end(), link) == failed_.end()) {
    failed_.push_back(link);
  }
}

void PolicyBase::sendCopy(const Packet& packet, LinkId link, bool primary, TimePoint now) {
  LinkModel& model = links_[link];
  if (resendsOnFailure())
    history_.recordCopy(packet, link, model.sentPackets());
  model.onSent(packet.size_bytes, now);
  LinkDecisionCounters& c = counters(link);
  if (primary) {
    ++c.picked;
    c.picked_bytes += packet.size_bytes;
  } else {
    ++c.duplicated;
    c.duplicated_bytes += packet.size_bytes;
  }
}

LinkSet PolicyBase::pick(const Packet& packet, TimePoint now) {
  ++stats_.packets;
  if (resendsOnFailure())
    history_.prune(now);
  const Decision decision = decide(packet, now);
  if (decision.too_late) {
    ++stats_.dropped_late;
  } else if (decision.links.empty()) {
    ++stats_.unsendable;
  }
  for (std::size_t i = 0; i < decision.links.size(); ++i) {
    sendCopy(packet, decision.links[i], i < decision.primaries, now);
  }
  return decision.links;
}

std::vector<Resend> PolicyBase::takeResends(TimePoint now) {
  std::vector<Resend> out;
  if (!resendsOnFailure())
    return out;
  history_.prune(now);
  // A failed link's copies that found no link able to deliver them in time are tried again
  // at every call while it stays down: the others' models may clear a moment later (in the
  // simulated demo, cell-A's queue estimate read 6.9 s for the 80 ms around cell-B's
  // outage, and cell-B's last copies, 170-210 ms from their deadline, never went again).
  for (LinkId failed : failed_)
    resendHeldBy(failed, now, out);
  std::erase_if(failed_, [&](LinkId l) { return links_[l].isUp(); });
  rescueLate(now, out);
  return out;
}

void PolicyBase::sendLater(const Packet& packet, LinkId link, TimePoint now,
                           std::vector<Resend>& out) {
  if (stats_.dropped_late > 0) {
    --stats_.dropped_late;
  }
  ++stats_.sent_later;
  sendCopy(packet, link, true, now);
  LinkSet links;
  links.add(link);
  out.push_back({packet, links});
}

bool PolicyBase::coveredElsewhere(const SentHistory::Record& record, LinkId link) const {
  for (const LinkModel& other : links_) {
    if (other.id() != link && other.isUp() && record.hasCopyOn(other.id()))
      return true;
  }
  return false;
}

void PolicyBase::resendRecord(SentHistory::Record& record, const LinkSet& targets, TimePoint now,
                              std::vector<Resend>& out) {
  LinkSet sent;
  for (LinkId target : targets) {
    if (record.hasCopyOn(target) || !sent.add(target))
      continue;
    record.link_index[target] = links_[target].sentPackets();
    links_[target].onSent(record.packet.size_bytes, now);
    ++counters(target).resent;
    counters(target).resent_bytes += record.packet.size_bytes;
  }
  if (!sent.empty())
    out.push_back({record.packet, sent});
}

// The failed link still holds its copies from ackedBelow() on. A packet is re-sent
// unless another link that is up carries a copy too, or the receiver has it.
void PolicyBase::resendHeldBy(LinkId failed, TimePoint now, std::vector<Resend>& out) {
  const std::uint64_t held_from = links_[failed].ackedBelow();
  for (SentHistory::Record& record : history_.records()) {
    if (!record.hasCopyOn(failed) || record.link_index[failed] < held_from || record.received) {
      continue;
    }
    if (coveredElsewhere(record, failed))
      continue;
    resendRecord(record, resendTargets(record.packet, failed, now), now, out);
  }
}

LinkSet PolicyBase::resendTargets(const Packet& /*packet*/, LinkId /*failed*/, TimePoint /*now*/) {
  return {};
}

}  // namespace bondcast::sched
