// SPDX-License-Identifier: MPL-2.0
#include "scheduler/sim/video_source.h"

#include <algorithm>
#include <cmath>

namespace bondcast::sim {
namespace {

using sched::Importance;

void addFrame(std::vector<SourcePacket>& out, SimTime t_us, std::uint64_t bytes,
              std::uint32_t frame, std::uint32_t packet_bytes, bool keyframe) {
  for (std::uint64_t sent = 0; sent < bytes; sent += packet_bytes) {
    Importance flags = Importance::kNone;
    if (keyframe)
      flags =
          sent == 0 ? Importance::kKeyframe | Importance::kParameterSets : Importance::kKeyframe;
    const auto size =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(packet_bytes, bytes - sent));
    out.push_back({t_us, size, frame, flags});
  }
}

void addAudio(std::vector<SourcePacket>& out, const VideoSpec& video, Micros duration) {
  if (video.audio_bps == 0)
    return;
  const double interval_us = video.packet_bytes * 8.0 * 1e6 / static_cast<double>(video.audio_bps);
  std::vector<SourcePacket> audio;
  for (double t = 0; t < static_cast<double>(duration.count()); t += interval_us) {
    audio.push_back({static_cast<SimTime>(t), video.packet_bytes, kNoFrame, Importance::kAudio});
  }
  std::vector<SourcePacket> merged;
  merged.reserve(out.size() + audio.size());
  std::merge(
      out.begin(), out.end(), audio.begin(), audio.end(), std::back_inserter(merged),
      [](const SourcePacket& a, const SourcePacket& b) { return a.source_us < b.source_us; });
  out = std::move(merged);
}

}  // namespace

std::uint32_t frameCount(const VideoSpec& video, Micros duration) {
  return static_cast<std::uint32_t>(
      std::ceil(static_cast<double>(duration.count()) / 1e6 * video.fps));
}

std::vector<SourcePacket> generateStream(const VideoSpec& video, Micros duration) {
  std::vector<SourcePacket> out;
  const double frame_us = 1e6 / video.fps;
  const std::uint32_t frames = frameCount(video, duration);
  if (video.kind == VideoSpec::Kind::kCbr) {
    const double interval_us =
        video.packet_bytes * 8.0 * 1e6 / static_cast<double>(video.bitrate_bps);
    for (double t = 0; t < static_cast<double>(duration.count()); t += interval_us) {
      const auto frame = static_cast<std::uint32_t>(t / frame_us);
      out.push_back({static_cast<SimTime>(t), video.packet_bytes, frame, sched::Importance::kNone});
    }
  } else {
    // Mean frame = bitrate / fps; a GOP holds one I-frame (ratio x a P-frame) and gop-1 P.
    const double mean_bytes = static_cast<double>(video.bitrate_bps) / 8.0 / video.fps;
    const double p_bytes =
        mean_bytes * video.gop_frames / (video.iframe_ratio + video.gop_frames - 1);
    for (std::uint32_t f = 0; f < frames; ++f) {
      const bool key = f % video.gop_frames == 0;
      const auto bytes =
          static_cast<std::uint64_t>(std::llround(key ? p_bytes * video.iframe_ratio : p_bytes));
      addFrame(out, static_cast<SimTime>(f * frame_us), bytes, f, video.packet_bytes, key);
    }
  }
  addAudio(out, video, duration);
  return out;
}

}  // namespace bondcast::sim
