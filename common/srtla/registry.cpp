// SPDX-License-Identifier: MPL-2.0
#include "common/srtla/registry.h"

#include <algorithm>

namespace bondcast::srtla {

Registry::Registry(std::function<void(std::span<std::uint8_t>)> random)
    : random_(std::move(random)) {}

Registry::Group* Registry::findById(const GroupId& id) {
  for (auto& [number, g] : groups_) {
    if (g.id == id)
      return &g;
  }
  return nullptr;
}

Registry::Link* Registry::findLink(const Address& from, Group** group) {
  auto it = link_group_.find(from);
  if (it == link_group_.end())
    return nullptr;
  Group& g = groups_.at(it->second);
  if (group)
    *group = &g;
  for (Link& l : g.links) {
    if (l.address == from)
      return &l;
  }
  return nullptr;
}

const Registry::Group* Registry::groupOf(const Address& from) const {
  auto it = link_group_.find(from);
  return it == link_group_.end() ? nullptr : &groups_.at(it->second);
}

std::vector<std::uint8_t> Registry::onReg1(const Address& from, const GroupId& id, TimePoint now) {
  if (link_group_.contains(from)) {
    ++counters_.refused_other_group;
    return control(kRegErr);
  }
  // A sender that asks again (its REG2 answer lost) replaces the group it made before.
  for (auto it = groups_.begin(); it != groups_.end(); ++it) {
    if (it->second.links.empty() && it->second.creator == from) {
      groups_.erase(it);
      break;
    }
  }
  if (groups_.size() >= kMaxGroups) {
    ++counters_.refused_group_limit;
    return control(kRegErr);
  }
  Group g;
  std::copy(id.begin(), id.begin() + kGroupIdBytes / 2, g.id.begin());
  random_(std::span<std::uint8_t>(g.id.data() + kGroupIdBytes / 2, kGroupIdBytes / 2));
  g.number = next_number_++;
  g.created = now;
  g.creator = from;
  ++counters_.groups_created;
  auto answer = reg2(g.id);
  groups_.emplace(g.number, std::move(g));
  return answer;
}

std::vector<std::uint8_t> Registry::onReg2(const Address& from, const GroupId& id, TimePoint now) {
  Group* group = findById(id);
  if (group == nullptr) {
    ++counters_.unknown_group;
    return control(kRegNgp);
  }
  Group* current = nullptr;
  if (Link* link = findLink(from, &current)) {
    if (current != group) {
      ++counters_.refused_other_group;
      return control(kRegErr);
    }
    link->last_seen = now;  // registered already: say so again
    return control(kReg3);
  }
  if (group->links.size() >= kMaxLinks) {
    ++counters_.refused_link_limit;
    return control(kRegErr);
  }
  group->links.push_back({from, now, now, 0, 0});
  link_group_[from] = group->number;
  ++counters_.links_registered;
  return control(kReg3);
}

const Registry::Group* Registry::onTraffic(const Address& from, std::size_t bytes, TimePoint now) {
  Group* group = nullptr;
  Link* link = findLink(from, &group);
  if (link == nullptr) {
    ++counters_.unregistered;
    return nullptr;
  }
  link->last_seen = now;
  ++link->packets;
  link->bytes += bytes;
  return group;
}

std::vector<std::uint64_t> Registry::expire(TimePoint now) {
  std::vector<std::uint64_t> gone;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    const bool had_links = !g.links.empty();
    std::erase_if(g.links, [&](const Link& l) {
      if (now - l.last_seen <= kLinkTimeout)
        return false;
      link_group_.erase(l.address);
      ++counters_.links_timed_out;
      return true;
    });
    // Links leave only here, so a group without links never had one.
    const bool never_used = !had_links && now - g.created > kRegTimeout;
    if ((had_links && g.links.empty()) || never_used) {
      ++counters_.groups_expired;
      gone.push_back(g.number);
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

}  // namespace bondcast::srtla
