// SPDX-License-Identifier: MPL-2.0
// Cuts SRT payloads of 7 TS packets (1316 bytes) out of an MPEG-TS byte stream,
// resynchronising on the 0x47 sync byte after garbage. Pure logic.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sender/input.h"

namespace bondcast::sender {

class Packetizer {
 public:
  // Appends bytes; returns every complete payload now available, in order.
  std::vector<std::vector<std::uint8_t>> push(std::span<const std::uint8_t> bytes);
  // At end of input: the remaining whole TS packets as one last (short) payload, if any.
  std::vector<std::uint8_t> flush();
  std::uint64_t discardedBytes() const { return discarded_bytes_; }

 private:
  std::vector<std::uint8_t> pending_;  // bytes not yet checked
  std::vector<std::uint8_t> payload_;  // whole TS packets of the payload being built
  std::uint64_t discarded_bytes_ = 0;
  bool in_sync_ = false;
};

}  // namespace bondcast::sender
