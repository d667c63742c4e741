// SPDX-License-Identifier: MPL-2.0
#include "tests/e2e/support/media.h"

#include <unistd.h>

#include <functional>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "tests/e2e/support/process.h"

namespace bondcast::e2e {
namespace {

// ffmpeg's test pattern (640x360, 25 fps, GOP 25) and a 1 kHz tone, H.264 + AAC in
// MPEG-TS, for `seconds`, with `rate_args` setting the rates.
std::vector<std::string> testPatternCommand(const char* seconds,
                                            const std::vector<std::string>& rate_args) {
  std::vector<std::string> cmd = {"ffmpeg",
                                  "-nostdin",
                                  "-y",
                                  "-v",
                                  "error",
                                  "-f",
                                  "lavfi",
                                  "-i",
                                  "testsrc2=size=640x360:rate=25",
                                  "-f",
                                  "lavfi",
                                  "-i",
                                  "sine=frequency=1000:sample_rate=48000",
                                  "-t",
                                  seconds,
                                  "-c:v",
                                  "libx264",
                                  "-preset",
                                  "veryfast",
                                  "-g",
                                  "25",
                                  "-pix_fmt",
                                  "yuv420p",
                                  "-c:a",
                                  "aac",
                                  "-b:a",
                                  "128k"};
  cmd.insert(cmd.end(), rate_args.begin(), rate_args.end());
  cmd.insert(cmd.end(), {"-f", "mpegts"});
  return cmd;
}

// 6 s at about 2.3 Mbit/s.
const std::vector<std::string> kSampleCommand = testPatternCommand("6", {"-b:v", "2M"});

// The same for 20 s.
const std::vector<std::string> kLongSampleCommand = testPatternCommand("20", {"-b:v", "2M"});

// 30 s at a constant 12 Mbit/s: H.264 CBR 9 Mbit/s + AAC, padded to 12 Mbit/s by the
// muxer (null packets), like a broadcast encoder's constant-rate output.
const std::vector<std::string> kAggregationCommand =
    testPatternCommand("30", {"-b:v", "9M", "-minrate", "9M", "-maxrate", "9M", "-bufsize", "2M",
                              "-x264-params", "nal-hrd=cbr", "-muxrate", "12M"});

// 15 s at a constant 4 Mbit/s (H.264 CBR 3 Mbit/s + AAC, padded by the muxer).
const std::vector<std::string> kSteadyCommand =
    testPatternCommand("15", {"-b:v", "3M", "-minrate", "3M", "-maxrate", "3M", "-bufsize", "1M",
                              "-x264-params", "nal-hrd=cbr", "-muxrate", "4M"});

std::filesystem::path makeSample(const std::vector<std::string>& command) {
  std::string joined;
  for (const auto& a : command)
    joined += a + " ";
  auto dir =
      std::filesystem::temp_directory_path() / ("bondcast-e2e-" + std::to_string(::getuid()));
  std::filesystem::create_directories(dir);
  auto path = dir / ("sample-" + std::to_string(std::hash<std::string>{}(joined)) + ".ts");
  if (std::filesystem::exists(path))
    return path;
  auto tmp = path;
  tmp += "." + std::to_string(::getpid()) + ".tmp";
  auto argv = command;
  argv.push_back(tmp.string());
  auto log = tmp;
  log += ".log";
  Finished f = runToEnd(argv, log, std::chrono::seconds(120));
  std::filesystem::remove(log);
  if (f.exit_code != 0 || !std::filesystem::exists(tmp)) {
    throw std::runtime_error("ffmpeg could not make the sample: " + f.err);
  }
  std::filesystem::rename(tmp, path);  // atomic: parallel tests see all or nothing
  return path;
}

std::string problemsOf(const std::vector<std::string>& argv, const std::filesystem::path& file) {
  auto log = file;
  log += "." + argv[0] + ".log";
  Finished f = runToEnd(argv, log, std::chrono::seconds(60));
  std::filesystem::remove(log);
  if (f.exit_code == 0 && f.err.empty())
    return "";
  return argv[0] + " exit " + (f.exit_code ? std::to_string(*f.exit_code) : "timeout") + ": " +
         f.err;
}

}  // namespace

const std::filesystem::path& sampleTs() {
  static std::once_flag once;
  static std::filesystem::path path;
  std::call_once(once, [] { path = makeSample(kSampleCommand); });
  return path;
}

const std::filesystem::path& longSampleTs() {
  static std::once_flag once;
  static std::filesystem::path path;
  std::call_once(once, [] { path = makeSample(kLongSampleCommand); });
  return path;
}

const std::filesystem::path& aggregationTs() {
  static std::once_flag once;
  static std::filesystem::path path;
  std::call_once(once, [] { path = makeSample(kAggregationCommand); });
  return path;
}

const std::filesystem::path& steadyTs() {
  static std::once_flag once;
  static std::filesystem::path path;
  std::call_once(once, [] { path = makeSample(kSteadyCommand); });
  return path;
}

std::string probeProblems(const std::filesystem::path& file) {
  return problemsOf({"ffprobe", "-v", "error", file.string()}, file);
}

std::string decodeProblems(const std::filesystem::path& file) {
  std::string problems = probeProblems(file);
  problems += problemsOf(
      {"ffmpeg", "-nostdin", "-v", "error", "-i", file.string(), "-f", "null", "-"}, file);
  return problems;
}

}  // namespace bondcast::e2e
