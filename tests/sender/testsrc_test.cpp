// SPDX-License-Identifier: MPL-2.0
// Test source tests: the pattern is checked pure; the stream is checked with ffprobe/ffmpeg.
#include "sender/testsrc.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "tests/sender/input_stop.h"

namespace bondcast::sender {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  pclose(pipe);
  return out;
}

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(usage.ru_utime) + tv(usage.ru_stime);
}

double seconds(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST(TestClockText, CountsHoursMinutesSecondsAndFrames) {
  EXPECT_EQ(testClockText(0, 25), "00:00:00.00");
  EXPECT_EQ(testClockText(24, 25), "00:00:00.24");
  EXPECT_EQ(testClockText(25, 25), "00:00:01.00");
  EXPECT_EQ(testClockText(25 * 3661 + 7, 25), "01:01:01.07");
}

TEST(SevenSegment, LightsTheSegmentsOfEachDigit) {
  EXPECT_EQ(sevenSegmentMask(8), 0x7F);      // all seven
  EXPECT_EQ(sevenSegmentMask(1), 0x06);      // b and c
  EXPECT_EQ(sevenSegmentMask(0) & 0x40, 0);  // no middle bar in 0
  EXPECT_NE(sevenSegmentMask(2) & 0x40, 0);
  EXPECT_EQ(sevenSegmentMask(10), 0);
}

struct Picture {
  Picture(int w, int h) : width(w), height(h), y(w * h), u(w * h / 4), v(w * h / 4) {}
  void draw(std::int64_t frame) {
    drawTestPattern({y.data(), width, width, height}, {u.data(), width / 2, width / 2, height / 2},
                    {v.data(), width / 2, width / 2, height / 2}, frame, 25);
  }
  int width, height;
  std::vector<std::uint8_t> y, u, v;
};

TEST(TestPattern, IsTheSameForTheSameFrameAndChangesWithTheClock) {
  Picture a(640, 360), b(640, 360);
  a.draw(100);
  b.draw(100);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.u, b.u);
  b.draw(101);
  EXPECT_NE(a.y, b.y);
  // The clock band (bottom 40%) is black with white digits.
  const auto band = a.y.begin() + a.width * (a.height * 3 / 5);
  const auto whites = std::count(band, a.y.end(), 235);
  const auto blacks = std::count(band, a.y.end(), 16);
  EXPECT_GT(whites, 1000);
  EXPECT_EQ(whites + blacks, a.y.end() - band);
}

TEST(TestSource, RejectsABitrateThatLeavesNoRoomForVideo) {
  auto source = openTestSource(150'000);
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.error().message.find("too low"), std::string::npos) << source.error().message;
}

// Reads the source for `wall` and returns the bytes.
std::vector<std::uint8_t> readFor(Input& input, SteadyClock::duration wall,
                                  SteadyClock::duration* elapsed) {
  std::vector<std::uint8_t> bytes;
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < wall) {
    auto chunk = input.read();
    EXPECT_TRUE(chunk.ok()) << (chunk.ok() ? "" : chunk.error().message);
    if (!chunk.ok() || chunk->end) {
      break;
    }
    EXPECT_EQ(chunk->bytes.size() % kTsPacketBytes, 0u);
    bytes.insert(bytes.end(), chunk->bytes.begin(), chunk->bytes.end());
  }
  *elapsed = SteadyClock::now() - start;
  return bytes;
}

TEST(TestSource, MakesDecodableH264AndAacAtTheBitrateInRealTime) {
  constexpr std::uint64_t kBitrateBps = 4'000'000;
  auto source = openTestSource(kBitrateBps);
  ASSERT_TRUE(source.ok()) << source.error().message;

  const double cpu_before = cpuSeconds();
  SteadyClock::duration elapsed{};
  const auto bytes = readFor(**source, 3s, &elapsed);
  const double cpu = cpuSeconds() - cpu_before;

  const double bitrate_bps = static_cast<double>(bytes.size()) * 8 / seconds(elapsed);
  std::printf("testsrc: %s, %.2f Mbit/s over %.2f s, CPU %.0f%% of one core\n",
              (*source)->describe().c_str(), bitrate_bps / 1e6, seconds(elapsed),
              100 * cpu / seconds(elapsed));
  EXPECT_GT(bitrate_bps, 0.75 * kBitrateBps);
  EXPECT_LT(bitrate_bps, 1.25 * kBitrateBps);

  std::random_device rd;
  const fs::path file =
      fs::temp_directory_path() / ("bondcast-testsrc-" + std::to_string(rd()) + ".ts");
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  const std::string streams = run("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '" +
                                  file.string() + "' 2>&1");
  EXPECT_NE(streams.find("h264"), std::string::npos) << streams;
  EXPECT_NE(streams.find("aac"), std::string::npos) << streams;
  // Decoding the whole stream reports nothing at level "error".
  const std::string errors =
      run("ffmpeg -nostdin -v error -i '" + file.string() + "' -f null - 2>&1");
  EXPECT_EQ(errors, "");
  // Media time matches wall time: the pictures were made in real time.
  const double media_s =
      std::stod(run("ffprobe -v error -count_frames -select_streams v -show_entries "
                    "stream=nb_read_frames -of csv=p=0 '" +
                    file.string() + "'")) /
      25;
  EXPECT_NEAR(media_s, seconds(elapsed), 0.3);
  fs::remove(file);
}

TEST(TestSource, StopUnblocksReadPromptly) {
  auto source = openTestSource(2'000'000);
  ASSERT_TRUE(source.ok()) << source.error().message;
  expectStopEndsABlockedReaderWithin200ms(**source);
}

}  // namespace
}  // namespace bondcast::sender
