// SPDX-License-Identifier: MPL-2.0
#include "sender/group_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "common/srt/callback_targets.h"
#include "sender/link_engine.h"

namespace bondcast::sender {

using std::chrono::milliseconds;

namespace {
using Callbacks = srt::CallbackTargets<GroupSender>;
// A removed member is closed once another link has been up this long beyond the
// latency, so that the receiver has every packet the removed one delivered from another
// member too...
constexpr milliseconds kRemovalMargin{500};
// ... or after this long whatever the others do: the user wants it gone.
constexpr milliseconds kRemovalBound{10000};
// More than a group ever has (removed members still closing included).
constexpr std::size_t kMaxMembers = 64;
// srt_connect_group() can fail because the member was refused before it returned; the
// reason (wrong passphrase, ...) reaches onConnect from libsrt's receive thread a moment
// later, and connect() waits this long for it before reporting the bare failure.
constexpr milliseconds kReasonWait{1000};
}  // namespace

const char* toString(GroupMode m) {
  return m == GroupMode::kBroadcast ? "broadcast" : "backup";
}

struct GroupSender::Link {
  LinkSpec spec;
  srt::SockAddr peer;
  std::optional<srt::SockAddr> bind;
  SRTSOCKET member = SRT_INVALID_SOCK;
  LinkConnection conn;
  // srt_connect_group() failed because the member broke at once; onConnect's reason
  // for it is due (kReasonWait).
  std::optional<Clock::time_point> reason_due_since;
  LinkState state = LinkState::kDown;
  int token = 0;                                // its token in the group, for its life
  std::optional<Clock::time_point> up_since;    // connected (running or idle) since
  std::optional<Clock::time_point> removed_at;  // setLinks() left it out then
};

GroupSender::GroupSender(GroupSenderConfig config)
    : config_(std::move(config)), callback_key_(Callbacks::instance().add(this)) {}

GroupSender::~GroupSender() {
  group_.reset();
  // Not before: closing the group may still report a member to onConnect.
  Callbacks::instance().remove(callback_key_);
}

Result<std::unique_ptr<GroupSender>> GroupSender::create(GroupSenderConfig config) {
  if (config.links.empty())
    return Error{"at least one --link is needed"};
  std::unique_ptr<GroupSender> self(new GroupSender(std::move(config)));
  for (const auto& spec : self->config_.links) {
    auto link = self->makeLink(spec);
    if (!link) {
      return link.error();
    }
    (*link)->token = self->next_token_++;
    self->links_.push_back(std::move(*link));
  }
  auto group = self->makeGroup();
  if (!group)
    return group.error();
  self->group_ = std::move(*group);
  self->group_id_ = self->group_.get();
  return self;
}

Result<std::unique_ptr<GroupSender::Link>> GroupSender::makeLink(const LinkSpec& spec) const {
  auto link = std::make_unique<Link>();
  link->spec = spec;
  auto peer = srt::resolve(spec.host, spec.port, false);
  if (!peer) {
    return Error{"link '" + spec.text + "': " + peer.error().message};
  }
  link->peer = *peer;
  if (!spec.bind_host.empty()) {
    auto bind = srt::resolve(spec.bind_host, spec.bind_port, false);
    if (!bind) {
      return Error{"link '" + spec.text + "' bind: " + bind.error().message};
    }
    link->bind = *bind;
  }
  return link;
}

Result<srt::Socket> GroupSender::makeGroup() {
  SRT_GROUP_TYPE type =
      config_.mode == GroupMode::kBroadcast ? SRT_GTYPE_BROADCAST : SRT_GTYPE_BACKUP;
  srt::Socket group(srt_create_group(type));
  if (!group.valid())
    return Error{srt::lastError("creating the SRT socket group")};
  SRTSOCKET g = group.get();
  if (auto st = srt::applyCommonOptions(g, config_.srt, "the socket group"); !st)
    return st.error();
  bool no = false;
  if (auto st = srt::setOption(g, SRTO_RCVSYN, no, "non-blocking connect"); !st) {
    return st.error();
  }
  int send_timeout_ms = 500;
  if (auto st = srt::setOption(g, SRTO_SNDTIMEO, send_timeout_ms, "send timeout"); !st) {
    return st.error();
  }
  srt_connect_callback(g, &GroupSender::onConnect, callback_key_);
  return group;
}

// libsrt 1.5.1 keeps the id of the receiver's group it first connected to: after the
// receiver restarts, every member it connects is refused ("group settings collision") and
// a broadcast or backup sender never came back (issue 16). A new group connects as a new
// sender would; the receiver takes it as the same stream (same stream id, same output).
void GroupSender::replaceGroup() {
  auto fresh = makeGroup();
  if (!fresh) {
    spdlog::warn("receiver restarted? cannot make a new group: {}", fresh.error().message);
    return;
  }
  spdlog::info("the receiver refuses this group (restarted?): connecting a new group");
  srt::Socket old;
  {
    std::lock_guard lock(mu_);
    old = std::move(group_);
    group_ = std::move(*fresh);
    group_id_ = group_.get();
    group_refused_ = false;
    ++groups_replaced_;
    for (auto& link : links_) {
      link->member = SRT_INVALID_SOCK;
      link->state = LinkState::kDown;
      link->conn.retryAtOnce();
    }
  }
  old.reset();  // without mu_: closing may call onConnect
}

void GroupSender::onConnect(void* key, SRTSOCKET ns, int errorcode, const sockaddr*, int token) {
  if (errorcode == SRT_SUCCESS)
    return;
  std::string reason = srt::errorText(errorcode);
  bool group_refused = false;
  if (errorcode == SRT_ECONNREJ) {
    int why = srt_getrejectreason(ns);
    reason = srt::rejectionText(why);
    group_refused = why == SRT_REJ_GROUP;
  }
  Callbacks::instance().with(
      key, [&](GroupSender& self) { self.memberFailed(ns, token, reason, group_refused); });
}

void GroupSender::memberFailed(SRTSOCKET ns, int token, const std::string& reason,
                               bool group_refused) {
  std::lock_guard lock(mu_);
  group_refused_ = group_refused_ || group_refused;
  for (auto& link : links_) {
    if (link->member == ns || (token >= 0 && link->token == token)) {
      if (link->conn.noteError(reason)) {
        spdlog::warn("link {}: {}", link->spec.text, reason);
      }
      link->reason_due_since.reset();
      link->member = SRT_INVALID_SOCK;
      break;
    }
  }
}

Status GroupSender::connectLink(Link& link, Clock::time_point now) {
  SRT_SOCKGROUPCONFIG cfg =
      srt_prepare_endpoint(link.bind ? link.bind->get() : nullptr, link.peer.get(), link.peer.len);
  cfg.weight = static_cast<std::uint16_t>(link.spec.weight);
  cfg.token = link.token;
  link.conn.attempt(now);
  link.state = LinkState::kConnecting;
  if (srt_connect_group(group_id_.load(), &cfg, 1) == SRT_ERROR) {
    link.member = SRT_INVALID_SOCK;
    link.state = LinkState::kDown;
    const bool broke_at_once =
        cfg.errorcode == SRT_SUCCESS && srt_getlasterror(nullptr) == SRT_ECONNLOST;
    std::string err =
        cfg.errorcode != SRT_SUCCESS ? srt::errorText(cfg.errorcode) : srt_getlasterror_str();
    if (broke_at_once) {
      link.reason_due_since = Clock::now();
    }
    // A reason onConnect() gave already says more than the bare failure.
    link.conn.failed(link.conn.lastError().empty() ? err : link.conn.lastError());
    return Error{"link '" + link.spec.text + "': " + err};
  }
  link.member = cfg.id;
  link.reason_due_since.reset();
  return okStatus();
}

std::vector<SRT_SOCKGROUPDATA> GroupSender::members() {
  std::vector<SRT_SOCKGROUPDATA> data(kMaxMembers);
  size_t n = data.size();
  if (srt_group_data(group_id_.load(), data.data(), &n) == SRT_ERROR)
    n = 0;
  data.resize(std::min(n, data.size()));
  return data;
}

Status GroupSender::connect(milliseconds timeout, const std::atomic<bool>* cancel) {
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    for (auto& link : links_) {
      if (auto st = connectLink(*link, now); !st) {
        spdlog::warn("{}", st.error().message);
      }
    }
  }
  auto deadline = Clock::now() + timeout;
  srt::Epoll ep;
  if (auto st = ep.add(group_id_.load(), SRT_EPOLL_OUT | SRT_EPOLL_ERR); !st)
    return st;
  while (Clock::now() < deadline) {
    if (cancel && *cancel)
      return Error{"stopped before any link connected"};
    SRT_EPOLL_EVENT ev[1];
    srt_epoll_uwait(ep.id(), ev, 1, 100);
    if (srt_getsockstate(group_id_.load()) == SRTS_CONNECTED) {
      maintain();
      return okStatus();
    }
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    bool all_failed = std::all_of(links_.begin(), links_.end(), [&](const auto& l) {
      const bool reason_due = l->reason_due_since && now - *l->reason_due_since < kReasonWait;
      return l->member == SRT_INVALID_SOCK && !l->conn.lastError().empty() && !reason_due;
    });
    if (all_failed)
      break;
  }
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> errors;
  for (const auto& link : links_)
    errors.emplace_back(link->spec.text, link->conn.lastError());
  return noLinkConnected(errors);
}

void GroupSender::send(const OutPacket& packet) {
  SRT_MSGCTRL mc = srt_msgctrl_default;
  mc.grpdata = nullptr;
  mc.grpdata_size = 0;  // in/out: reset before every call
  int rc = srt_sendmsg2(group_id_.load(), reinterpret_cast<const char*>(packet.payload.data()),
                        static_cast<int>(packet.payload.size()), &mc);
  if (rc == SRT_ERROR) {
    std::uint64_t dropped = ++payloads_dropped_;
    if (dropped == 1 || dropped % 1000 == 0) {
      spdlog::warn("no link could take the stream ({} payloads dropped so far): {}", dropped,
                   srt_getlasterror_str());
    }
    return;
  }
  ++payloads_sent_;
}

void GroupSender::maintain() {
  bool replace = false;
  {
    std::lock_guard lock(mu_);
    replace = group_refused_ && std::none_of(links_.begin(), links_.end(), [](const auto& l) {
                return l->state == LinkState::kUp || l->state == LinkState::kIdle;
              });
  }
  if (replace)
    replaceGroup();
  auto now = Clock::now();
  auto data = members();
  std::vector<SRTSOCKET> retired;
  {
    std::lock_guard lock(mu_);
    for (auto& link_ptr : links_) {
      Link& link = *link_ptr;
      auto it = std::find_if(data.begin(), data.end(), [&](const SRT_SOCKGROUPDATA& d) {
        return d.id == link.member || d.token == link.token;
      });
      if (it != data.end()) {
        link.member = it->id;
        link.state = srt::linkStateFrom(it->sockstate, it->memberstate, true);
        if (it->sockstate == SRTS_CONNECTED) {
          if (!link.conn.isUp()) {
            const bool again = link.conn.everConnected();
            if (link.conn.connected()) {
              spdlog::info("link {}: connected", link.spec.text);
              spdlog::debug("link {}: SRT options in effect: {}", link.spec.text,
                            srt::optionsInEffect(it->id));
            }
            reconnects_ += again ? 1 : 0;
          }
          if (!link.up_since) {
            link.up_since = now;
          }
        }
        if (it->sockstate != SRTS_BROKEN) {
          continue;
        }
      }
      link.up_since.reset();
      if (link.removed_at) {
        link.member = SRT_INVALID_SOCK;  // gone: takeRetired() drops it
        continue;
      }
      if (link.conn.phase() != LinkConnection::Phase::kIdle) {
        // The reason, when libsrt gave one (onConnect), is kept.
        const auto failure = link.conn.failed(
            link.conn.lastError().empty() ? "connection broken" : link.conn.lastError());
        if (failure == LinkConnection::Failure::kLost) {
          spdlog::warn("link {}: broken; reconnecting", link.spec.text);
        }
      }
      link.member = SRT_INVALID_SOCK;
      link.state = LinkState::kDown;
      if (!link.conn.isDue(now)) {
        continue;
      }
      if (auto st = connectLink(link, now); !st) {
        spdlog::debug("{}", st.error().message);
      }
    }
    retired = takeRetired(data, now);
  }
  for (SRTSOCKET member : retired) {
    srt_close(member);  // without mu_: closing may call onConnect
  }
}

std::vector<SRTSOCKET> GroupSender::takeRetired(const std::vector<SRT_SOCKGROUPDATA>& data,
                                                Clock::time_point now) {
  const auto settled = config_.srt.latency + kRemovalMargin;
  const bool other_settled = std::any_of(links_.begin(), links_.end(), [&](const auto& l) {
    return !l->removed_at && l->up_since && now - *l->up_since >= settled;
  });
  std::vector<SRTSOCKET> retired;
  for (auto it = links_.begin(); it != links_.end();) {
    Link& link = **it;
    if (!link.removed_at) {
      ++it;
      continue;
    }
    auto d = std::find_if(data.begin(), data.end(),
                          [&](const SRT_SOCKGROUPDATA& m) { return m.id == link.member; });
    const bool carrying = link.member != SRT_INVALID_SOCK && d != data.end() &&
                          d->sockstate == SRTS_CONNECTED && d->memberstate != SRT_GST_IDLE;
    const bool overdue = now - *link.removed_at >= kRemovalBound;
    if (carrying && !other_settled && !overdue) {
      ++it;
      continue;
    }
    if (carrying && !other_settled) {
      spdlog::warn("link {}: removed; closing it although no other link is up", link.spec.text);
    }
    spdlog::info("link {}: removed, closed", link.spec.text);
    if (link.member != SRT_INVALID_SOCK) {
      retired.push_back(link.member);
    }
    it = links_.erase(it);
  }
  return retired;
}

Result<LinkChanges> GroupSender::setLinks(const std::vector<LinkSpec>& specs) {
  std::lock_guard one_at_a_time(set_links_mu_);
  auto prepared =
      prepareLinks(links_, mu_, specs, [this](const LinkSpec& spec) { return makeLink(spec); });
  if (!prepared) {
    return prepared.error();
  }
  auto& [plan, changes, added] = *prepared;
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  for (const Link* link : markRemoved(links_, plan, now, changes)) {
    spdlog::info("link {}: removed; closing it once another link carries the stream",
                 link->spec.text);
  }
  for (auto& link : added) {
    link->token = next_token_++;
    spdlog::info("link {}: added; connecting", link->spec.text);
    if (auto st = connectLink(*link, now); !st) {
      spdlog::warn("{}", st.error().message);
    }
    links_.push_back(std::move(link));
  }
  return changes;
}

// In backup mode the active link is the running member the peer still acknowledges
// (not stalled) with the shortest send buffer, the higher weight on a tie: after a
// switch libsrt keeps the silent member running until it breaks.
GroupStats GroupSender::stats(bool clear_interval) {
  GroupStats out;
  out.payloads_sent = payloads_sent_;
  out.payloads_dropped = payloads_dropped_;
  std::lock_guard lock(mu_);
  out.reconnects = reconnects_;
  out.groups_replaced = groups_replaced_;
  const int latency_ms = static_cast<int>(config_.srt.latency.count());
  for (std::size_t i = 0; i < links_.size(); ++i) {
    Link& link = *links_[i];
    srt::LinkStats ls;
    ls.name = link.spec.text;
    ls.state = link.state;
    if (link.member != SRT_INVALID_SOCK && link.state != LinkState::kConnecting) {
      srt::readLinkStats(link.member, ls, clear_interval);
    }
    ls.state = srt::withStall(ls.state, ls, latency_ms);
    if (config_.mode == GroupMode::kBackup && ls.state == LinkState::kUp) {
      const auto* best = out.active_link >= 0 ? &out.links[out.active_link] : nullptr;
      bool better = !best || ls.send_buffer_ms < best->send_buffer_ms ||
                    (ls.send_buffer_ms == best->send_buffer_ms &&
                     link.spec.weight > links_[out.active_link]->spec.weight);
      if (better)
        out.active_link = static_cast<int>(i);
    }
    out.links.push_back(ls);
    out.removing.push_back(link.removed_at.has_value());
  }
  return out;
}

nlohmann::json GroupSender::statsJson(bool clear_interval) {
  GroupStats gs = stats(clear_interval);
  nlohmann::json links = nlohmann::json::array();
  for (std::size_t i = 0; i < gs.links.size(); ++i) {
    links.push_back(srt::toJson(gs.links[i]));
    if (gs.removing[i]) {
      links.back()["removing"] = true;
    }
  }
  nlohmann::json j = {{"payloads_sent", gs.payloads_sent},
                      {"payloads_dropped", gs.payloads_dropped},
                      {"reconnects", gs.reconnects},
                      {"groups_replaced", gs.groups_replaced},
                      {"links", links}};
  if (config_.mode == GroupMode::kBackup)
    j["active_link"] = gs.active_link;
  return j;
}

void GroupSender::drain(milliseconds timeout) {
  // What the receiver has acknowledged it delivers after its latency.
  Drain drain(Clock::now(), timeout, config_.srt.latency + milliseconds(100));
  const auto holding = [&] {
    const std::vector<SRT_SOCKGROUPDATA> data = members();
    return std::any_of(data.begin(), data.end(), [](const SRT_SOCKGROUPDATA& d) {
      size_t blocks = 0, bytes = 0;
      return d.sockstate == SRTS_CONNECTED && srt_getsndbuffer(d.id, &blocks, &bytes) == 0 &&
             blocks > 0;
    });
  };
  while (drain.step(Clock::now(), holding()) == Drain::Step::kHolding) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::this_thread::sleep_until(drain.playoutEnds());
}

}  // namespace bondcast::sender
