// SPDX-License-Identifier: MPL-2.0
// The SRTLA receiver's groups and links (issue 14): who may send, to which group, and
// what to answer a registration. Pure logic: the caller reads datagrams, passes the
// sender's address (any bytes that tell addresses apart) and `now`, sends the answer and
// forwards a group's SRT packets. Memory is bounded whatever arrives: at most kMaxGroups
// groups of kMaxLinks links; a group that never got a link goes after kRegTimeout, a link
// silent for kLinkTimeout goes, and a group goes with its last link.
//
// Registration, as SRTLA senders do it:
//   sender: REG2(random id)        receiver: REG_NGP (no such group: a probe)
//   sender: REG1(id)               receiver: makes a group whose id is the first 128 bytes
//                                            of id and 128 random bytes; REG2(full id)
//   sender, every link: REG2(full id)   receiver: REG3 (link added), or REG_ERR
// A link is its source address: after a NAT rebind the new address registers again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/srtla/wire.h"

namespace bondcast::srtla {

class Registry {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Address = std::string;  // opaque: e.g. the bytes of a sockaddr

  static constexpr std::size_t kMaxGroups = 200;
  static constexpr std::size_t kMaxLinks = 8;
  static constexpr std::chrono::seconds kRegTimeout{4};
  static constexpr std::chrono::seconds kLinkTimeout{10};

  struct Link {
    Address address;
    TimePoint registered{};
    TimePoint last_seen{};
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
  };
  struct Group {
    GroupId id{};
    std::uint64_t number = 0;  // 1, 2, ... in order of creation: names the stream
    TimePoint created{};
    Address creator;  // who sent the REG1
    std::vector<Link> links;
  };
  struct Counters {
    std::uint64_t groups_created = 0;
    std::uint64_t links_registered = 0;
    std::uint64_t refused_group_limit = 0;  // REG1 with kMaxGroups groups
    std::uint64_t refused_link_limit = 0;   // REG2 to a group with kMaxLinks links
    std::uint64_t refused_other_group = 0;  // the address is a link of another group
    std::uint64_t unknown_group = 0;        // REG2 for no group (REG_NGP)
    std::uint64_t unregistered = 0;         // SRT or KEEPALIVE from an address of no group
    std::uint64_t links_timed_out = 0;
    std::uint64_t groups_expired = 0;
  };

  // `random` fills a group id's second half (seed it in tests).
  explicit Registry(std::function<void(std::span<std::uint8_t>)> random);

  // A REG1 or REG2 from `from`: the answer to send back to it (REG2 with the full id,
  // REG3, REG_ERR or REG_NGP).
  std::vector<std::uint8_t> onReg1(const Address& from, const GroupId& id, TimePoint now);
  std::vector<std::uint8_t> onReg2(const Address& from, const GroupId& id, TimePoint now);
  // Any other datagram of `bytes` from `from`: its group, or nullptr (counted) when the
  // address is no registered link. Marks the link seen.
  const Group* onTraffic(const Address& from, std::size_t bytes, TimePoint now);
  // Drops what timed out; returns the numbers of the groups that went.
  std::vector<std::uint64_t> expire(TimePoint now);

  const Group* groupOf(const Address& from) const;
  const std::map<std::uint64_t, Group>& groups() const { return groups_; }
  const Counters& counters() const { return counters_; }

 private:
  Group* findById(const GroupId& id);
  Link* findLink(const Address& from, Group** group);

  std::function<void(std::span<std::uint8_t>)> random_;
  std::map<std::uint64_t, Group> groups_;  // by number
  std::map<Address, std::uint64_t> link_group_;
  std::uint64_t next_number_ = 1;
  Counters counters_;
};

}  // namespace bondcast::srtla
