// SPDX-License-Identifier: MPL-2.0
#include "sender/link_engine.h"

#include <algorithm>

namespace bondcast::sender {

void LinkConnection::attempt(TimePoint now) {
  phase_ = Phase::kConnecting;
  next_attempt_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

bool LinkConnection::connected() {
  const bool news = !ever_connected_ || !last_error_.empty();
  phase_ = Phase::kUp;
  backoff_ = kFirstBackoff;
  last_error_.clear();
  ever_connected_ = true;
  return news;
}

LinkConnection::Failure LinkConnection::failed(const std::string& why) {
  const bool was_up = phase_ == Phase::kUp;
  phase_ = Phase::kIdle;
  const bool new_reason = noteError(why);
  return was_up ? Failure::kLost : new_reason ? Failure::kNew : Failure::kRepeated;
}

void LinkConnection::retryAtOnce() {
  phase_ = Phase::kIdle;
  next_attempt_ = {};
  backoff_ = kFirstBackoff;
}

bool LinkConnection::noteError(const std::string& why) {
  if (why == last_error_) {
    return false;
  }
  last_error_ = why;
  return true;
}

bool LinkPlan::removes(const std::string& uri) const {
  return std::find(removed.begin(), removed.end(), uri) != removed.end();
}

LinkPlan planLinks(const std::vector<std::string>& running, const std::vector<LinkSpec>& wanted) {
  LinkPlan plan;
  for (const LinkSpec& spec : wanted) {
    if (std::find(running.begin(), running.end(), spec.uri) != running.end()) {
      plan.unchanged.push_back(spec.text);
    } else {
      plan.added.push_back(&spec);
    }
  }
  for (const std::string& uri : running) {
    const bool kept =
        std::any_of(wanted.begin(), wanted.end(), [&](const LinkSpec& s) { return s.uri == uri; });
    if (!kept) {
      plan.removed.push_back(uri);
    }
  }
  return plan;
}

Drain::Step Drain::step(TimePoint now, bool holding) {
  if (!playing_out_ && (!holding || now >= deadline_)) {
    playing_out_ = true;
    playout_ends_ = std::min(now + playout_, std::max(now, deadline_));
  }
  return playing_out_ ? Step::kPlayingOut : Step::kHolding;
}

}  // namespace bondcast::sender
