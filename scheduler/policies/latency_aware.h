// SPDX-License-Identifier: MPL-2.0
// latency-aware: bondcast's own policy. Each packet goes where it is expected to arrive
// first among the links that can still meet its deadline, preferring cheaper links when
// the deadline leaves room; important and at-risk packets get a second copy within an
// overhead budget; what a failing or silent link still holds is re-sent elsewhere; a
// packet no link could deliver in time waits for one that can. See decide().
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "scheduler/policy_base.h"

namespace bondcast::sched {

class LatencyAwarePolicy final : public PolicyBase {
 public:
  explicit LatencyAwarePolicy(SchedulerConfig config)
      : PolicyBase("latency-aware", std::move(config)) {}
  LinkId addLink(const LinkConfig& config, TimePoint now) override;
  void setLinkState(LinkId link, LinkState state, TimePoint now) override;
  // Bytes of extra copies the budget still allows (negative after re-sends).
  double creditBytes() const { return credit_bytes_; }

 protected:
  Decision decide(const Packet& packet, TimePoint now) override;
  bool resendsOnFailure() const override { return true; }
  void afterReset(LinkId link, TimePoint now) override;
  LinkSet resendTargets(const Packet& packet, LinkId failed, TimePoint now) override;
  void rescueLate(TimePoint now, std::vector<Resend>& out) override;

 private:
  struct Option {
    LinkId link;
    TimePoint arrival;  // expected arrival at the receiver
    bool meets;         // arrival + safety <= deadline
    bool roomy;         // ... with room for one SRT retransmission as well
  };
  Option evaluate(const LinkModel& link, const Packet& packet, TimePoint now) const;
  std::optional<Option> choosePrimary(const Packet& packet, TimePoint now);
  enum class Room { kAny, kSpare, kUnsaturated };  // see earliestMeeting()
  std::optional<LinkId> earliestMeeting(const Packet& packet, std::optional<LinkId> except,
                                        Room room, TimePoint now) const;
  // earliestMeeting()'s link with its expected arrival.
  std::optional<Option> bestMeeting(const Packet& packet, std::optional<LinkId> except, Room room,
                                    TimePoint now) const;
  bool atRisk(const Option& primary, TimePoint now) const;
  void rescueHoles(TimePoint now, std::vector<Resend>& out);  // step 7
  bool affordExtra(const Packet& packet) const;
  void addProbes(Decision& decision, TimePoint now);
  void sendDeferred(TimePoint now, std::vector<Resend>& out);
  bool isSilent(const LinkModel& link, TimePoint now) const;
  // Whether `packet`'s copy leaves the credit no deeper in debt than `debt_bytes`.
  bool canBorrow(const Packet& packet, std::uint64_t debt_bytes) const;

  double credit_bytes_ = 0;
  std::vector<TimePoint> last_probe_;
  // Per link: it came up while another link carried the stream (probed until measured).
  std::vector<bool> joined_late_;
  std::deque<Packet> deferred_;  // judged too late by pick(), oldest first
};

}  // namespace bondcast::sched
