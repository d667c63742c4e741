// SPDX-License-Identifier: MPL-2.0
// Recent packets and which per-link copy carried them, kept until their deadline, so a
// failing link's unacknowledged packets can be found again (payloads stay with the caller).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>

#include "scheduler/types.h"

namespace bondcast::sched {

class SentHistory {
 public:
  static constexpr std::uint64_t kNoCopy = std::numeric_limits<std::uint64_t>::max();

  struct Record {
    Packet packet;
    std::array<std::uint64_t, kMaxLinks> link_index;  // per-link copy index, or kNoCopy
    bool received = false;  // a receipt said so: the receiver has it (or moved past it)
    bool hasCopyOn(LinkId link) const { return link_index[link] != kNoCopy; }
  };

  // A packet not recorded yet (kept in seq order; a packet sent late may come after
  // newer ones) or another copy of a recorded one.
  void recordCopy(const Packet& packet, LinkId link, std::uint64_t link_index);
  // A receipt: packets below `below` and those in `received` (ascending) are received.
  void markReceived(std::uint64_t below, std::span<const std::uint64_t> received);
  // Forgets packets whose deadline has passed.
  void prune(TimePoint now);
  std::deque<Record>& records() { return records_; }
  const std::deque<Record>& records() const { return records_; }

 private:
  Record* find(std::uint64_t seq);
  std::deque<Record> records_;  // in seq order
};

}  // namespace bondcast::sched
