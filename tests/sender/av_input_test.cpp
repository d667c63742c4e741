// SPDX-License-Identifier: MPL-2.0
// File input tests: real files made with the ffmpeg command-line tool, read in real time.
#include "sender/av_input.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/sender/input_stop.h"

namespace bondcast::sender {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Runs a shell command; returns its stdout and exit status.
struct CommandResult {
  std::string out;
  int status = -1;
};
CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    result.out.append(buf, n);
  }
  result.status = pclose(pipe);
  return result;
}

std::vector<std::uint8_t> fileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh temporary folder per test, removed afterwards.
class AvInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("bondcast-av-input-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An H.264 + AAC file of `seconds`, near-constant bitrate, in `container` (by extension).
  fs::path makeMedia(const std::string& name, int seconds) {
    const fs::path path = dir_ / name;
    const std::string cmd =
        "ffmpeg -nostdin -y -v error -f lavfi -i testsrc2=size=320x240:rate=25 "
        "-f lavfi -i sine=frequency=1000:sample_rate=48000 -t " +
        std::to_string(seconds) +
        " -c:v libx264 -preset ultrafast -g 25 -bf 0 -b:v 800k -maxrate 800k -bufsize 200k "
        "-c:a aac -b:a 64k '" +
        path.string() + "' 2>&1";
    const auto result = run(cmd);
    EXPECT_EQ(result.status, 0) << cmd << "\n" << result.out;
    return path;
  }

  struct Received {
    std::vector<std::uint8_t> bytes;
    std::vector<std::size_t> chunk_sizes;
    std::vector<SteadyClock::duration> arrival;  // per chunk, from the first read()
    SteadyClock::duration elapsed{};
    bool ended = false;
  };
  // Reads until end of input or until `max_bytes`.
  static Received readAll(Input& input, std::size_t max_bytes = SIZE_MAX) {
    Received r;
    const auto start = SteadyClock::now();
    while (r.bytes.size() < max_bytes) {
      auto chunk = input.read();
      EXPECT_TRUE(chunk.ok()) << (chunk.ok() ? "" : chunk.error().message);
      if (!chunk.ok() || chunk->end) {
        r.ended = chunk.ok() && chunk->end;
        break;
      }
      r.bytes.insert(r.bytes.end(), chunk->bytes.begin(), chunk->bytes.end());
      r.chunk_sizes.push_back(chunk->bytes.size());
      r.arrival.push_back(SteadyClock::now() - start);
    }
    r.elapsed = SteadyClock::now() - start;
    return r;
  }

  // When the received byte count first reached `bytes`.
  static SteadyClock::duration arrivalOf(const Received& r, std::size_t bytes) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < r.chunk_sizes.size(); ++i) {
      total += r.chunk_sizes[i];
      if (total >= bytes) {
        return r.arrival[i];
      }
    }
    return SteadyClock::duration::max();
  }

  fs::path dir_;
};

double seconds(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST_F(AvInputTest, RawTsComesOutByteIdenticalAtItsRealTimeRate) {
  const fs::path file = makeMedia("three_seconds.ts", 3);
  const auto expected = fileBytes(file);
  ASSERT_GT(expected.size(), 100'000u);

  auto input = openAvInput(file.string(), /*loop=*/false);
  ASSERT_TRUE(input.ok()) << input.error().message;
  const Received got = readAll(**input);

  EXPECT_TRUE(got.ended);
  EXPECT_TRUE(got.bytes == expected) << "got " << got.bytes.size() << " of " << expected.size();
  for (std::size_t size : got.chunk_sizes) {
    EXPECT_EQ(size % kTsPacketBytes, 0u);
    EXPECT_LE(size, kPayloadBytes);
  }
  EXPECT_GT(seconds(got.elapsed), 2.6);
  EXPECT_LT(seconds(got.elapsed), 4.5);
  const double half = seconds(arrivalOf(got, expected.size() / 2));
  EXPECT_GT(half, 1.0) << "the first half came in a burst";
  EXPECT_LT(half, 2.1) << "the first half came late";
}

TEST_F(AvInputTest, LoopRestartsAtTheEndWithoutAJumpInPacing) {
  const fs::path file = makeMedia("one_second.ts", 1);
  const auto once = fileBytes(file);

  auto input = openAvInput(file.string(), /*loop=*/true);
  ASSERT_TRUE(input.ok()) << input.error().message;
  const Received got = readAll(**input, once.size() * 5 / 2);

  ASSERT_GE(got.bytes.size(), 2 * once.size());
  EXPECT_TRUE(std::equal(once.begin(), once.end(), got.bytes.begin()));
  EXPECT_TRUE(std::equal(once.begin(), once.end(), got.bytes.begin() + once.size()));
  // Two and a half plays of a one-second file, paced throughout.
  EXPECT_GT(seconds(got.elapsed), 2.0);
  EXPECT_LT(seconds(got.elapsed), 3.5);
  EXPECT_GT(seconds(arrivalOf(got, 2 * once.size())), 1.6) << "second play not paced";
}

TEST_F(AvInputTest, StopUnblocksAPacedReadPromptly) {
  const fs::path file = makeMedia("three_seconds.ts", 3);
  auto input = openAvInput(file.string(), /*loop=*/true);
  ASSERT_TRUE(input.ok()) << input.error().message;

  expectStopEndsABlockedReaderWithin200ms(**input);
  auto after = (*input)->read();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->end);
}

TEST_F(AvInputTest, StopBeforeTheFirstReadEndsTheInput) {
  const fs::path file = makeMedia("one_second.ts", 1);
  auto input = openAvInput(file.string(), /*loop=*/false);
  ASSERT_TRUE(input.ok()) << input.error().message;
  (*input)->stop();
  auto chunk = (*input)->read();
  ASSERT_TRUE(chunk.ok());
  EXPECT_TRUE(chunk->end);
  EXPECT_TRUE(chunk->bytes.empty());
}

TEST_F(AvInputTest, MissingFileIsAnErrorNamingThePathAndTheReason) {
  const std::string path = (dir_ / "no_such_file.ts").string();
  auto input = openAvInput(path, /*loop=*/false);
  ASSERT_FALSE(input.ok());
  EXPECT_NE(input.error().message.find(path), std::string::npos) << input.error().message;
  EXPECT_NE(input.error().message.find("No such file"), std::string::npos) << input.error().message;
}

// Writes `bytes` to `path` and returns what decoding it with ffmpeg reports at level error;
// with input_options "-t 2" only the first 2 s are decoded (the end of a stream cut mid-frame
// does not decode cleanly).
std::string decodeErrors(const fs::path& path, const std::vector<std::uint8_t>& bytes,
                         const std::string& input_options = "") {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return run("ffmpeg -nostdin -v error " + input_options + " -i '" + path.string() +
             "' -f null - 2>&1")
      .out;
}

double videoSeconds(const fs::path& ts_file) {
  const auto frames =
      run("ffprobe -v error -count_frames -select_streams v "
          "-show_entries stream=nb_read_frames -of csv=p=0 '" +
          ts_file.string() + "' 2>/dev/null");
  return std::stod(frames.out) / 25;
}

TEST_F(AvInputTest, Mp4IsRemuxedToValidTsAtItsRealTimeRate) {
  const fs::path file = makeMedia("two_seconds.mp4", 2);
  auto input = openAvInput(file.string(), /*loop=*/false);
  ASSERT_TRUE(input.ok()) << input.error().message;
  const Received got = readAll(**input);

  EXPECT_TRUE(got.ended);
  ASSERT_GT(got.bytes.size(), 50'000u);
  for (std::size_t size : got.chunk_sizes) {
    EXPECT_EQ(size % kTsPacketBytes, 0u);
    EXPECT_LE(size, kPayloadBytes);
  }
  EXPECT_GT(seconds(got.elapsed), 1.6);
  EXPECT_LT(seconds(got.elapsed), 3.5);
  const fs::path out = dir_ / "remuxed.ts";
  EXPECT_EQ(decodeErrors(out, got.bytes), "");
  const auto streams =
      run("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '" + out.string() + "'");
  EXPECT_NE(streams.out.find("h264"), std::string::npos) << streams.out;
  EXPECT_NE(streams.out.find("aac"), std::string::npos) << streams.out;
  EXPECT_NEAR(videoSeconds(out), 2.0, 0.1);
}

TEST_F(AvInputTest, LoopedMkvKeepsItsTimestampsRunning) {
  const fs::path file = makeMedia("one_second.mkv", 1);
  auto input = openAvInput(file.string(), /*loop=*/true);
  ASSERT_TRUE(input.ok()) << input.error().message;
  Received got;
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < 2500ms) {
    auto chunk = (*input)->read();
    ASSERT_TRUE(chunk.ok()) << chunk.error().message;
    ASSERT_FALSE(chunk->end);
    got.bytes.insert(got.bytes.end(), chunk->bytes.begin(), chunk->bytes.end());
  }
  const fs::path out = dir_ / "looped.ts";
  // Read for 2.5 s, so cut in the middle of a frame: decode the first two passes and more.
  EXPECT_EQ(decodeErrors(out, got.bytes, "-t 2.2"), "");
  // About 2.5 s of pictures in 2.5 s: three passes, paced, none dropped.
  EXPECT_NEAR(videoSeconds(out), 2.5, 0.3);
}

TEST_F(AvInputTest, FileThatIsNotMediaIsAnErrorNamingThePath) {
  const fs::path path = dir_ / "notes.txt";
  std::ofstream(path) << "this is not a video\n";
  auto input = openAvInput(path.string(), /*loop=*/false);
  ASSERT_FALSE(input.ok());
  EXPECT_NE(input.error().message.find(path.string()), std::string::npos) << input.error().message;
}

}  // namespace
}  // namespace bondcast::sender
