// SPDX-License-Identifier: MPL-2.0
// Test media made with the ffmpeg command-line tool, and checks that a file
// decodes cleanly with ffprobe and ffmpeg.
#pragma once

#include <filesystem>
#include <string>

namespace bondcast::e2e {

// A 6 s H.264 (640x360, 25 fps, GOP 25) + AAC MPEG-TS, made once and shared by
// every test of this run (cached in the temp folder under a name derived from the
// ffmpeg command, written atomically). Throws std::runtime_error if ffmpeg fails.
const std::filesystem::path& sampleTs();

// The same, 20 s long.
const std::filesystem::path& longSampleTs();

// 30 s of MPEG-TS at a constant 12 Mbit/s (H.264 CBR 9 Mbit/s + AAC, muxer padding),
// made and cached like sampleTs().
const std::filesystem::path& aggregationTs();

// 15 s of MPEG-TS at a constant 4 Mbit/s (H.264 CBR 3 Mbit/s + AAC, muxer padding),
// made and cached like sampleTs().
const std::filesystem::path& steadyTs();

// What `ffprobe -v error FILE` reports: "" when it exits 0 with nothing on stderr.
std::string probeProblems(const std::filesystem::path& file);

// What `ffprobe -v error` and `ffmpeg -v error -i FILE -f null -` report about `file`:
// "" when both exit 0 with nothing on stderr, else the exit codes and messages.
std::string decodeProblems(const std::filesystem::path& file);

}  // namespace bondcast::e2e
