// SPDX-License-Identifier: MPL-2.0
// A paced UDP feeder for the evaluation (`bondcast feed`): sends a file's bytes as
// datagrams at a constant bitrate, every datagram at its own time, so that what reads
// the UDP port (srt-live-transmit, `bondcast send --input udp://...`) gets the stream
// as an encoder would send it and loses nothing to bursts. `ffmpeg -re` is not that: at
// 40 Mbit/s it lost 59% of the stream before SRT saw it (issue 17).
//
// The pacer is pure (times from the start); feedFile() is the socket shell: one thread,
// it wakes once per slot and sends the datagrams due by then with sendmmsg.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <signal.h>

#include "common/netmodel/scenario.h"
#include "common/result.h"

namespace bondcast::feed {

using Nanos = std::chrono::nanoseconds;

struct PacerConfig {
  std::uint64_t bitrate_bps = 0;
  std::uint32_t datagram_bytes = 1316;  // 7 TS packets
  Nanos slot{std::chrono::milliseconds(1)};
};

// Datagram i is due when the stream, sent at the bitrate, reaches its first byte.
class Pacer {
 public:
  explicit Pacer(const PacerConfig& config) : config_(config) {}
  Nanos dueAt(std::uint64_t index) const;
  // How many datagrams are due at `elapsed` (indices 0 .. n-1).
  std::uint64_t dueBy(Nanos elapsed) const;
  const PacerConfig& config() const { return config_; }

 private:
  PacerConfig config_;
};

struct FeedResult {
  std::uint64_t datagrams = 0;
  std::uint64_t bytes = 0;
  Nanos elapsed{0};
  Nanos max_late{0};         // the latest a slot woke after its time
  bool interrupted = false;  // a signal in `stop_signals` ended it early
};

// Sends the file at `path` to `to` as paced by `config`. Blocks until the whole file is
// sent or one of `stop_signals` (blocked by the caller) arrives.
Result<FeedResult> feedFile(const std::string& path, const net::Endpoint& to,
                            const PacerConfig& config, const sigset_t& stop_signals);

}  // namespace bondcast::feed
