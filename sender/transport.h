// SPDX-License-Identifier: MPL-2.0
// How the send session hands payloads to the links: SRT's own socket groups
// (GroupSender: broadcast, backup) or bondcast's scheduler over one SRT connection per
// link (AdaptiveSender). The session owns the input, the packetizer and the stats
// thread; a transport owns the sockets.
//
// Threads: send() is called by one thread (the session's input loop); maintain() and
// statsJson() by the stats thread, about once a second; they may run concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "scheduler/types.h"
#include "sender/link_spec.h"

namespace bondcast::sender {

// What setLinks() did, each link as its URI text (secrets masked).
struct LinkChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> unchanged;
};

// One payload of the stream (whole TS packets, at most 1316 bytes) and what the session
// knows of it.
struct OutPacket {
  std::span<const std::uint8_t> payload;
  std::chrono::steady_clock::time_point source_time;  // when it came from the input
  sched::Importance importance = sched::Importance::kNone;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts every link and waits until at least one is connected. On timeout the error
  // lists each link's reason. Returns early (with an error) when *cancel becomes true.
  virtual Status connect(std::chrono::milliseconds timeout,
                         const std::atomic<bool>* cancel = nullptr) = 0;
  // Hands over one payload. Never blocks for long; what no link can take is dropped
  // and counted.
  virtual void send(const OutPacket& packet) = 0;
  // Periodic housekeeping (reconnects), from the stats thread.
  virtual void maintain() = 0;
  // The transport's part of the stats record: "links" (one object per configured link,
  // in --link order, then links added by setLinks(); a removed link until it is closed,
  // with "removing": true) and mode-specific fields. clear_interval resets interval rates.
  virtual nlohmann::json statsJson(bool clear_interval) = 0;
  // At end of input: waits (at most `timeout`) until the links have delivered what they
  // hold and the receiver's latency has passed.
  virtual void drain(std::chrono::milliseconds timeout) = 0;
  // Replaces the running set of links by `links` (a reload of the config file), from any
  // thread, after connect(). A link whose URI text equals a running one's is untouched;
  // a new one starts connecting (and carries traffic once up); one no longer listed is
  // drained: it takes no new payloads, what it holds unacknowledged is carried by the
  // others, and it is closed once it holds nothing, another link is up, or a bound has
  // passed (its stats row goes then). Checks every new link first (its address
  // resolves, the mode's limit on links): an error changes nothing.
  virtual Result<LinkChanges> setLinks(const std::vector<LinkSpec>& links) = 0;
  // Whether send() uses OutPacket::importance (a scheduler that protects keyframes,
  // parameter sets and audio): the session inspects the TS only then.
  virtual bool usesImportance() const { return false; }
  // The encoder bitrate the transport measures its links can carry now (0 before a link
  // was measured); none when it does not measure one.
  virtual std::optional<std::uint64_t> recommendedBitrateBps() const { return std::nullopt; }
};

// What connect() says when no link connected in time: each link as the user gave it and
// its last error.
inline constexpr const char* kNoAnswer = "no answer (timed out)";
inline Error noLinkConnected(const std::vector<std::pair<std::string, std::string>>& links) {
  std::string why;
  for (const auto& [link, error] : links)
    why += (why.empty() ? " " : "; ") + link + ": " + (error.empty() ? kNoAnswer : error);
  return Error{"no link could connect to the receiver:" + why};
}

}  // namespace bondcast::sender
