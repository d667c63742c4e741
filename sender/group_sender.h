// SPDX-License-Identifier: MPL-2.0
// Sends one stream over an SRT socket group (SRT_GTYPE_BROADCAST or SRT_GTYPE_BACKUP),
// one member per link: libsrt's own bonding.
//
// Threads: send() is called by one thread (the sender loop); maintain() and stats()
// by another (the stats thread, about once a second). Both may run concurrently.
// Links that fail to connect, or whose member breaks, are connected again with
// exponential backoff (250 ms doubling to 5 s; sender/link_engine.h, shared with adaptive
// mode) while the others carry the stream.
// setLinks() (any thread) adds members to the running group (srt_connect_group) and
// removes members: a removed member is closed by maintain() once another link has been
// up for the latency and a bit (what the receiver holds of the removed member, it holds
// of that one too), or at once when it carries nothing (down, or backup's idle standby).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/srt/link_stats.h"
#include "common/srt/srt.h"
#include "sender/link_spec.h"
#include "sender/transport.h"

namespace bondcast::sender {

using Clock = std::chrono::steady_clock;

enum class GroupMode { kBroadcast, kBackup };
const char* toString(GroupMode m);

struct GroupSenderConfig {
  GroupMode mode = GroupMode::kBroadcast;
  std::vector<LinkSpec> links;
  srt::CommonOptions srt;
};

struct GroupStats {
  std::vector<srt::LinkStats> links;  // one per configured link, in --link order
  std::vector<bool> removing;         // per link: removed by setLinks(), not closed yet
  int active_link = -1;               // backup: the link carrying the stream now
  std::uint64_t payloads_sent = 0;
  std::uint64_t payloads_dropped = 0;  // no link could take them
  std::uint64_t reconnects = 0;
  std::uint64_t groups_replaced = 0;  // new groups after the receiver refused the old one
};

class GroupSender final : public Transport {
 public:
  static Result<std::unique_ptr<GroupSender>> create(GroupSenderConfig config);
  ~GroupSender() override;

  // Starts every link and waits until at least one is connected. On timeout the
  // error lists each link's reason (unreachable, rejected: wrong passphrase, ...).
  // Returns early (with an error) when *cancel becomes true.
  Status connect(std::chrono::milliseconds timeout,
                 const std::atomic<bool>* cancel = nullptr) override;
  // Sends one payload as one SRT message on the group. Never blocks for long; when
  // no link is up the payload is dropped and counted.
  void send(const OutPacket& packet) override;
  // Reconnects links that are down, once their backoff has expired.
  void maintain() override;
  GroupStats stats(bool clear_interval);
  nlohmann::json statsJson(bool clear_interval) override;
  // Waits until every connected member has sent and had acknowledged what it holds,
  // then for the receiver's latency to deliver it, at most `timeout`.
  void drain(std::chrono::milliseconds timeout) override;
  Result<LinkChanges> setLinks(const std::vector<LinkSpec>& links) override;

 private:
  struct Link;
  explicit GroupSender(GroupSenderConfig config);
  // A link for `spec`, its addresses resolved; no token, no socket yet.
  Result<std::unique_ptr<Link>> makeLink(const LinkSpec& spec) const;
  // Starts connecting `link` now (LinkConnection::attempt).
  Status connectLink(Link& link, Clock::time_point now);
  // maintain(), mu_ held: the removed links that may go now, taken out of links_; their
  // members are to be closed (without mu_).
  std::vector<SRTSOCKET> takeRetired(const std::vector<SRT_SOCKGROUPDATA>& data,
                                     Clock::time_point now);
  // A new group with the configured options, its connect callback on this.
  Result<srt::Socket> makeGroup();
  // Replaces the group by a new one and connects every link again (maintain()).
  void replaceGroup();
  std::vector<SRT_SOCKGROUPDATA> members();
  // libsrt's connect callback; `key` finds the sender (srt::CallbackTargets).
  static void onConnect(void* key, SRTSOCKET ns, int errorcode, const sockaddr* peer, int token);
  // onConnect for this sender: member `ns` (or the link with `token`) failed.
  void memberFailed(SRTSOCKET ns, int token, const std::string& reason, bool group_refused);

  GroupSenderConfig config_;
  void* callback_key_;  // onConnect's opaque
  srt::Socket group_;   // replaced only by maintain(), with group_id_
  // The group's id for send() and drain() on the sending thread while maintain() may
  // replace the group on the stats thread (a send on the old, closed id fails and counts).
  std::atomic<SRTSOCKET> group_id_{SRT_INVALID_SOCK};
  // A link was refused with "group settings collision": the receiver has forgotten this
  // group (it was restarted) while libsrt's group still names the old one as its peer;
  // guarded by mu_.
  bool group_refused_ = false;
  std::uint64_t groups_replaced_ = 0;
  std::vector<std::unique_ptr<Link>> links_;
  int next_token_ = 0;       // each link's token in the group (SRT_SOCKGROUPCONFIG.token)
  std::mutex mu_;            // guards links_ state, next_token_
  std::mutex set_links_mu_;  // one setLinks() at a time
  std::atomic<std::uint64_t> payloads_sent_{0};
  std::atomic<std::uint64_t> payloads_dropped_{0};
  std::uint64_t reconnects_ = 0;
};

}  // namespace bondcast::sender
