// SPDX-License-Identifier: MPL-2.0
// The stream the sender gets: constant-bitrate packets, or frames at a frame rate with
// a GOP whose I-frame is several times larger than the P-frames (sent as a burst of
// packets at the frame's time), plus optional audio packets. All packets of an I-frame
// are flagged keyframe; its first also parameter sets (SPS/PPS travel with the IDR).
#pragma once

#include <cstdint>
#include <vector>

#include "scheduler/sim/link_sim.h"
#include "scheduler/sim/scenario.h"

namespace bondcast::sim {

struct SourcePacket {
  SimTime source_us;
  std::uint32_t size_bytes;
  std::uint32_t frame;  // video frame index; kNoFrame for audio
  sched::Importance importance;
};
inline constexpr std::uint32_t kNoFrame = 0xffffffff;

// Every packet of the run, in emission order (= stream sequence number).
std::vector<SourcePacket> generateStream(const VideoSpec& video, Micros duration);
// How many video frames the stream above holds.
std::uint32_t frameCount(const VideoSpec& video, Micros duration);

}  // namespace bondcast::sim
