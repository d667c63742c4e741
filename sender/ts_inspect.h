// SPDX-License-Identifier: MPL-2.0
// Marks the payloads of an MPEG-TS stream that matter more than their neighbours, so
// that adaptive mode can protect them (duplicate them within its overhead budget):
//   kParameterSets  PAT, PMT, and video parameter sets (H.264 SPS/PPS, HEVC VPS/SPS/PPS,
//                   the MPEG-2 sequence header): nothing decodes without them;
//   kKeyframe       every payload of a keyframe (random access indicator, H.264 IDR,
//                   HEVC IRAP), from its first TS packet until the next video PES;
//   kAudio          packets of an audio elementary stream.
// PIDs are learnt from the PAT and the PMTs (single-packet sections, as encoders write
// them). Pure logic: no I/O, no clock. Not thread-safe; feed payloads in stream order.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>

#include "scheduler/types.h"

namespace bondcast::sender {

class TsInspector {
 public:
  // `payload` holds whole 188-byte TS packets (a trailing partial one is ignored).
  sched::Importance classify(std::span<const std::uint8_t> payload);

  enum class Kind : std::uint8_t { kH264, kHevc, kMpegVideo, kAudio, kOther };
  // What the PMTs say so far, for tests and logs.
  const std::map<std::uint16_t, Kind>& elementaryStreams() const { return streams_; }

 private:
  struct VideoState {
    std::uint32_t window = 0xFFFFFFFF;  // the last bytes seen, to find start codes across packets
    bool in_keyframe = false;
  };
  sched::Importance classifyPacket(std::span<const std::uint8_t> packet);
  void readPat(std::span<const std::uint8_t> section);
  void readPmt(std::span<const std::uint8_t> section);
  sched::Importance scanVideo(Kind kind, VideoState& state, std::span<const std::uint8_t> bytes);

  std::set<std::uint16_t> pmt_pids_;
  std::map<std::uint16_t, Kind> streams_;
  std::map<std::uint16_t, VideoState> video_;
};

}  // namespace bondcast::sender
