// SPDX-License-Identifier: MPL-2.0
#include "scheduler/sent_history.h"

#include <algorithm>

namespace bondcast::sched {

void SentHistory::recordCopy(const Packet& packet, LinkId link, std::uint64_t link_index) {
  Record* record = find(packet.seq);
  if (record == nullptr) {
    Record fresh{packet, {}};
    fresh.link_index.fill(kNoCopy);
    auto at = std::lower_bound(records_.begin(), records_.end(), packet.seq,
                               [](const Record& r, std::uint64_t s) { return r.packet.seq < s; });
    record = &*records_.insert(at, fresh);
  }
  record->link_index[link] = link_index;
}

// One pass over both (each in seq order): a receipt comes every 10 ms and lists every
// packet the receiver holds.
void SentHistory::markReceived(std::uint64_t below, std::span<const std::uint64_t> received) {
  auto next = received.begin();
  for (Record& record : records_) {
    const std::uint64_t seq = record.packet.seq;
    if (seq < below) {
      record.received = true;
      continue;
    }
    next = std::lower_bound(next, received.end(), seq);
    if (next == received.end()) {
      break;
    }
    if (*next == seq) {
      record.received = true;
    }
  }
}

void SentHistory::prune(TimePoint now) {
  // Deadlines grow with seq in a live stream, so the front holds the oldest.
  while (!records_.empty() && records_.front().packet.deadline < now)
    records_.pop_front();
}

SentHistory::Record* SentHistory::find(std::uint64_t seq) {
  if (!records_.empty() && records_.back().packet.seq == seq)
    return &records_.back();
  if (records_.empty() || seq > records_.back().packet.seq)
    return nullptr;
  auto it = std::lower_bound(records_.begin(), records_.end(), seq,
                             [](const Record& r, std::uint64_t s) { return r.packet.seq < s; });
  return it != records_.end() && it->packet.seq == seq ? &*it : nullptr;
}

}  // namespace bondcast::sched
