// SPDX-License-Identifier: MPL-2.0
// The bookkeeping every policy shares: link models, decision counters, the history of
// recent packets and the queue of failed links. A policy only says where a packet goes
// (decide) and, if it re-sends, where a failed link's packets go (resendTargets).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scheduler/config.h"
#include "scheduler/scheduler.h"
#include "scheduler/sent_history.h"

namespace bondcast::sched {

class PolicyBase : public Scheduler {
 public:
  PolicyBase(std::string name, SchedulerConfig config);

  std::string_view name() const override { return stats_.policy; }
  LinkId addLink(const LinkConfig& config, TimePoint now) override;
  void resetLink(LinkId link, const LinkConfig& config, TimePoint now) override;
  void setLinkState(LinkId link, LinkState state, TimePoint now) override;
  void setLinkCost(LinkId link, double cost) override;
  void onLinkStats(LinkId link, const LinkFeedback& stats, TimePoint now) override;
  void onSendFailed(LinkId link, const Packet& packet, TimePoint now) override;
  void onReceipt(std::uint64_t below, std::span<const std::uint64_t> received,
                 TimePoint now) override;
  [[nodiscard]] LinkSet pick(const Packet& packet, TimePoint now) override;
  [[nodiscard]] std::vector<Resend> takeResends(TimePoint now) override;
  const SchedulerStats& stats() const override { return stats_; }
  const LinkModel& link(LinkId link) const override { return links_.at(link); }
  std::size_t linkCount() const override { return links_.size(); }

 protected:
  // links[0, primaries) carry the packet's primary copy (counted "picked"), the rest
  // are extra copies (counted "duplicated").
  struct Decision {
    LinkSet links;
    std::size_t primaries = 1;
    bool too_late = false;  // empty on purpose: no link can meet the deadline
  };
  virtual Decision decide(const Packet& packet, TimePoint now) = 0;
  // Policies that re-send what a failed link held return true and choose the targets
  // (never the failed link; links that already carry a copy are removed).
  virtual bool resendsOnFailure() const { return false; }
  virtual LinkSet resendTargets(const Packet& packet, LinkId failed, TimePoint now);
  // Hook after resetLink() gave the link's id to a new link.
  virtual void afterReset(LinkId /*link*/, TimePoint /*now*/) {}
  // Hook after a stats reading was applied to the link's model.
  virtual void afterStats(LinkId /*link*/, TimePoint /*now*/) {}
  // Hook in takeResends(): the policy's own sends (copies at risk on links still up,
  // packets pick() held back).
  virtual void rescueLate(TimePoint /*now*/, std::vector<Resend>& /*out*/) {}
  // Sends a packet that pick() did not send (too late) after all, its primary copy on
  // `link` (counted picked and sent_later, no longer dropped_late).
  void sendLater(const Packet& packet, LinkId link, TimePoint now, std::vector<Resend>& out);
  // Sends another copy of a recorded packet on `targets` (counted re-sent).
  void resendRecord(SentHistory::Record& record, const LinkSet& targets, TimePoint now,
                    std::vector<Resend>& out);
  // Whether a link other than `link` that is up carries a copy of the record.
  bool coveredElsewhere(const SentHistory::Record& record, LinkId link) const;
  SentHistory& history() { return history_; }

  const SchedulerConfig& config() const { return config_; }
  std::vector<LinkModel>& models() { return links_; }
  const std::vector<LinkModel>& models() const { return links_; }
  LinkDecisionCounters& counters(LinkId link) { return stats_.links[link]; }

 private:
  void noteTransition(LinkId link, LinkModel::Transition transition);
  // Puts a copy on `link` (model, history) and counts it picked or duplicated.
  void sendCopy(const Packet& packet, LinkId link, bool primary, TimePoint now);
  void resendHeldBy(LinkId failed, TimePoint now, std::vector<Resend>& out);

  SchedulerConfig config_;
  std::vector<LinkModel> links_;
  SchedulerStats stats_;
  SentHistory history_;
  // Failed links, until up again: takeResends() re-sends what they held.
  std::vector<LinkId> failed_;
};

}  // namespace bondcast::sched
