// SPDX-License-Identifier: MPL-2.0
// A live test source: a test pattern with a running clock and a 1 kHz tone, encoded in
// process (H.264 + AAC) and muxed to constant-rate MPEG-TS, produced in real time.
//
// openTestSource (declared in sender/input.h) uses the defaults below. Frame N is made at
// start + N / fps, where start is the first read(); read() blocks until the muxer has
// written the next bytes and returns every whole TS packet it has. The picture is
// moving colour bars over a black band with the elapsed time as hh:mm:ss.ff in large
// seven-segment digits, so a viewer can read the end-to-end delay and see freezes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/result.h"
#include "sender/input.h"

namespace bondcast::sender {

struct TestSourceOptions {
  std::uint64_t bitrate_bps = 4'000'000;  // the whole TS (mux rate)
  int width = 1280;
  int height = 720;
  int fps = 25;
  int keyframe_interval_frames = 25;  // 1 s
  std::uint64_t audio_bitrate_bps = 128'000;
  // H.264 encoder by name; empty: libx264 if present, else the first h264 encoder that opens.
  std::string video_encoder;
};

Result<std::unique_ptr<Input>> openTestSource(const TestSourceOptions& options);

// The video bitrate that leaves room for audio and about 5% TS overhead in bitrate_bps.
std::uint64_t testSourceVideoBitrateBps(const TestSourceOptions& options);

// "hh:mm:ss.ff" for frame `frame_index` at `fps` (ff is the frame within the second).
std::string testClockText(std::int64_t frame_index, int fps);

// One 8-bit plane (Y, U or V) to draw into.
struct Plane {
  std::uint8_t* data = nullptr;
  int linesize = 0;
  int width = 0;
  int height = 0;
};

// Draws frame `frame_index` of the pattern into a YUV 4:2:0 picture (chroma planes half
// size). Pure: the same index gives the same picture.
void drawTestPattern(Plane y, Plane u, Plane v, std::int64_t frame_index, int fps);

// Which of the seven segments (bit 0 = a, top; then b, c, d, e, f clockwise; bit 6 = g,
// middle) a digit lights.
std::uint8_t sevenSegmentMask(int digit);

}  // namespace bondcast::sender
