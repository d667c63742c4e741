// SPDX-License-Identifier: MPL-2.0
// FFmpeg-based file/URL input, plus the small pieces the FFmpeg inputs share.
//
// openAvInput (declared in sender/input.h) opens a file or libavformat URL and sends it at
// its real-time rate, like `ffmpeg -re`:
// - MPEG-TS (first byte 0x47 and 188-byte sync): the raw bytes, unchanged, in chunks of
//   up to 7 whole packets, each released no earlier than its due time by the stream's
//   PCR (ts::TsPacer). The receiver's output is byte-identical to the file.
// - Anything else libavformat reads (mp4, mkv, ...): remuxed to MPEG-TS (stream copy of
//   the video, audio and subtitle streams), the muxed bytes paced by the muxer's PCR,
//   which follows the packets' DTS.
// With loop, the input restarts at its end and the pacing clock runs on without a jump.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "sender/av_handles.h"
#include "sender/input.h"
#include "sender/stop_signal.h"

namespace bondcast::sender {

struct AvInputOptions {
  std::string url;
  bool loop = false;
  // Pace a TS without any PCR or PES timestamp at this rate.
  std::uint64_t fallback_bitrate_bps = 4'000'000;
  // TS packets per chunk returned by read().
  std::size_t chunk_packets = kPayloadBytes / kTsPacketBytes;
};

Result<std::unique_ptr<Input>> openAvInput(const AvInputOptions& options);

// True if `head` (the first bytes of a stream) starts with 0x47 and every complete 188-byte
// packet in it does too; needs at least one complete packet.
bool looksLikeRawTs(const std::vector<std::uint8_t>& head);

// A muxer's output: a custom AVIOContext whose writes append to bytes().
// Move-free (the AVIOContext keeps a pointer to this object).
class MuxedBytes {
 public:
  MuxedBytes() = default;
  MuxedBytes(const MuxedBytes&) = delete;
  MuxedBytes& operator=(const MuxedBytes&) = delete;

  // Allocates the AVIOContext; call once before using io().
  Status init();
  AVIOContext* io() const { return io_.get(); }
  std::vector<std::uint8_t>& bytes() { return bytes_; }
  // Removes and returns the whole 188-byte packets at the front, at most max_packets.
  std::vector<std::uint8_t> takePackets(std::size_t max_packets);
  std::size_t wholePackets() const { return bytes_.size() / kTsPacketBytes; }

 private:
  std::vector<std::uint8_t> bytes_;
  av::CustomIoPtr io_;
};

}  // namespace bondcast::sender
