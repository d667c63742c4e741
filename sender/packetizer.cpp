// SPDX-License-Identifier: MPL-2.0
#include "sender/packetizer.h"

namespace bondcast::sender {
namespace {
constexpr std::uint8_t kSync = 0x47;
}

// Moves whole TS packets from pending_ into payload_, emitting it every 7 packets.
// A byte that does not start a packet is dropped, and so is everything up to the next
// sync byte that is followed by another one a packet later.
std::vector<std::vector<std::uint8_t>> Packetizer::push(std::span<const std::uint8_t> bytes) {
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  std::vector<std::vector<std::uint8_t>> out;
  std::size_t pos = 0;
  while (pending_.size() - pos >= kTsPacketBytes) {
    // In sync, a packet needs only its sync byte. Out of sync (at the start, after
    // garbage) a sync byte counts when the next packet's sync byte follows it, or
    // when there is nothing after it yet to check.
    bool aligned = pending_[pos] == kSync && (in_sync_ || pending_.size() - pos == kTsPacketBytes ||
                                              pending_[pos + kTsPacketBytes] == kSync);
    in_sync_ = aligned;
    if (!aligned) {
      ++pos;
      ++discarded_bytes_;
      continue;
    }
    payload_.insert(payload_.end(), pending_.begin() + static_cast<std::ptrdiff_t>(pos),
                    pending_.begin() + static_cast<std::ptrdiff_t>(pos + kTsPacketBytes));
    pos += kTsPacketBytes;
    if (payload_.size() == kPayloadBytes) {
      out.push_back(std::move(payload_));
      payload_.clear();
    }
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos));
  return out;
}

std::vector<std::uint8_t> Packetizer::flush() {
  discarded_bytes_ += pending_.size();
  pending_.clear();
  std::vector<std::uint8_t> out = std::move(payload_);
  payload_.clear();
  return out;
}

}  // namespace bondcast::sender
