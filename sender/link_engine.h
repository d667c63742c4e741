// SPDX-License-Identifier: MPL-2.0
// The part of a sender's life that does not depend on how it sends, shared by the group
// transport (GroupSender) and the adaptive one (AdaptiveSender): each link's connection
// (idle, connecting, up) with one backoff policy, which links a reload adds, keeps and
// removes, and the drain at the end of the stream. Pure logic on times the caller passes
// in: the transports drive it with steady_clock, its tests (tests/sender/
// link_engine_test.cpp) with a clock of their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "sender/link_spec.h"
#include "sender/transport.h"

namespace bondcast::sender {

// A failed link is tried again after this, doubling on every failure up to kMaxBackoff;
// a connection resets it.
inline constexpr std::chrono::milliseconds kFirstBackoff{250};
inline constexpr std::chrono::milliseconds kMaxBackoff{5000};

// One link's connection. Not thread-safe: its transport guards it.
class LinkConnection {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Phase { kIdle, kConnecting, kUp };
  // What a failure was, for the log: the same error as the last attempt's, a new one, or
  // the loss of a link that was up.
  enum class Failure { kRepeated, kNew, kLost };

  Phase phase() const { return phase_; }
  bool isUp() const { return phase_ == Phase::kUp; }
  // Idle and its backoff has passed (a link never tried is due at once).
  bool isDue(TimePoint now) const { return phase_ == Phase::kIdle && now >= next_attempt_; }
  TimePoint nextAttempt() const { return next_attempt_; }
  std::chrono::milliseconds backoff() const { return backoff_; }

  // An attempt starts at `now`: connecting. Should it fail, the next is due one backoff
  // from now, and the backoff after it is twice as long (at most kMaxBackoff).
  void attempt(TimePoint now);
  // Connected: up, the error cleared, the backoff back to kFirstBackoff. True when this is
  // news worth a log line: the first connection, or one after an error.
  bool connected();
  // The attempt, or the connection, failed for `why`: idle until it is due again.
  Failure failed(const std::string& why);
  // The last failure's reason; empty once connected.
  const std::string& lastError() const { return last_error_; }
  // Idle and due at once, the backoff back to kFirstBackoff: everything must connect anew
  // (GroupSender's new group).
  void retryAtOnce();
  // Records a reason without a change of phase (a reason libsrt reports after the fact).
  // True when it differs from the last one.
  bool noteError(const std::string& why);
  // Connected at least once: a connection now is a reconnection.
  bool everConnected() const { return ever_connected_; }

 private:
  Phase phase_ = Phase::kIdle;
  TimePoint next_attempt_{};
  std::chrono::milliseconds backoff_ = kFirstBackoff;
  std::string last_error_;
  bool ever_connected_ = false;
};

// What a reload (Transport::setLinks) changes: links are told apart by their URI as given.
struct LinkPlan {
  std::vector<const LinkSpec*> added;  // into the new list: not running yet
  std::vector<std::string> removed;    // URIs of running links the new list leaves out
  std::vector<std::string> unchanged;  // texts of running links it keeps, in its order
  bool removes(const std::string& uri) const;
};
// `running` holds the URIs of the links not already being removed, in the transport's
// order; `wanted` the new list.
LinkPlan planLinks(const std::vector<std::string>& running, const std::vector<LinkSpec>& wanted);

// A reload's first half, the same in every transport (`Link` has `spec` and an optional
// `removed_at`): the plan over the links not being removed (read under `mu`), and every
// new link made by `make` (LinkSpec -> Result<unique_ptr<Link>>: it resolves names, which
// is slow and may fail) without `mu`. An error changes nothing.
template <class Link>
struct PreparedLinks {
  LinkPlan plan;
  LinkChanges changes;  // added and unchanged; markRemoved() adds the removed
  std::vector<std::unique_ptr<Link>> added;
};
template <class Link, class Make>
Result<PreparedLinks<Link>> prepareLinks(const std::vector<std::unique_ptr<Link>>& links,
                                         std::mutex& mu, const std::vector<LinkSpec>& specs,
                                         Make make) {
  if (specs.empty()) {
    return Error{"at least one link is needed"};
  }
  std::vector<std::string> running;
  {
    std::lock_guard lock(mu);
    for (const auto& l : links) {
      if (!l->removed_at) {
        running.push_back(l->spec.uri);
      }
    }
  }
  PreparedLinks<Link> out;
  out.plan = planLinks(running, specs);
  out.changes.unchanged = out.plan.unchanged;
  for (const LinkSpec* spec : out.plan.added) {
    auto link = make(*spec);
    if (!link) {
      return link.error();
    }
    out.changes.added.push_back(spec->text);
    out.added.push_back(std::move(*link));
  }
  return out;
}

// A reload's removals, under the transport's lock once nothing can fail: every running
// link the plan leaves out is marked removed at `now` and named in `changes`; returns them.
template <class Link>
std::vector<Link*> markRemoved(std::vector<std::unique_ptr<Link>>& links, const LinkPlan& plan,
                               std::chrono::steady_clock::time_point now, LinkChanges& changes) {
  std::vector<Link*> removed;
  for (auto& link : links) {
    if (!link->removed_at && plan.removes(link->spec.uri)) {
      link->removed_at = now;
      changes.removed.push_back(link->spec.text);
      removed.push_back(link.get());
    }
  }
  return removed;
}

// The end of a stream: wait (polling) until the links hold nothing unacknowledged, at most
// until `timeout` after the start, then as long as the receiver needs to play out what it
// acknowledged (`playout`), cut short by the same bound.
class Drain {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Step { kHolding, kPlayingOut };

  Drain(TimePoint start, std::chrono::milliseconds timeout, std::chrono::milliseconds playout)
      : deadline_(start + timeout), playout_(playout) {}
  // Where it stands at `now`, given whether a link still holds unacknowledged data: while
  // kHolding, poll again; the first kPlayingOut fixes playoutEnds().
  Step step(TimePoint now, bool holding);
  // When the drain is over: meaningful once step() said kPlayingOut.
  TimePoint playoutEnds() const { return playout_ends_; }

 private:
  TimePoint deadline_;
  std::chrono::milliseconds playout_;
  bool playing_out_ = false;
  TimePoint playout_ends_{};
};

}  // namespace bondcast::sender
