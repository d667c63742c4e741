// SPDX-License-Identifier: MPL-2.0
// One CSV line per payload the receiver writes out (and, in adaptive mode, per
// sequence number its merge gave up on), for the evaluation runner (eval/run):
//
//   arrival_us,stream,link,seq,send_us,bytes,status
//
// arrival_us  the receiver's steady clock (CLOCK_MONOTONIC), µs, when it was written out
//             (or given up on)
// stream      the stream name (stream id's r= value)
// link        adaptive: the sender's link index that delivered it; -1 for groups and
//             single links
// seq         adaptive: bondcast's sequence number; groups and single links: SRT's
//             message number (a gap is a loss)
// send_us     the packet's source time on the sender's steady clock, µs (adaptive: from
//             the header, exact when both ends share the clock; otherwise libsrt's
//             srctime, which includes the one-way delay at connection time)
// bytes       payload bytes (0 for lost)
// status      delivered | lost
//
// Called with the receiver's output lock held (receiver and playout threads).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/file.h"
#include "common/result.h"

namespace bondcast::receiver {

class PacketLog {
 public:
  // Creates or truncates `path` and writes the header line.
  static Result<std::unique_ptr<PacketLog>> open(const std::string& path);
  PacketLog(const PacketLog&) = delete;
  PacketLog& operator=(const PacketLog&) = delete;

  void delivered(std::int64_t arrival_us, const std::string& stream, int link, std::uint64_t seq,
                 std::int64_t send_us, std::size_t bytes);
  // One line per sequence number in [first_seq, first_seq + count).
  void lost(std::int64_t at_us, const std::string& stream, std::uint64_t first_seq,
            std::uint64_t count);

 private:
  explicit PacketLog(File f) : file_(std::move(f)) {}
  File file_;
};

}  // namespace bondcast::receiver
