// SPDX-License-Identifier: MPL-2.0
#include "sender/ts.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace bondcast::sender::ts {
namespace {

using namespace std::chrono_literals;
using Packet = std::array<std::uint8_t, kPacketBytes>;

struct PacketSpec {
  std::uint16_t pid = 0x100;
  bool payload_unit_start = false;
  std::optional<std::int64_t> pcr_27mhz;
  bool random_access = false;
  bool discontinuity = false;
  bool payload = true;
  std::uint8_t continuity_counter = 0;
  std::vector<std::uint8_t> payload_bytes;  // at the start of the payload
};

// Builds a TS packet the way a muxer would: adaptation field only when needed, stuffed
// with 0xFF up to the payload.
Packet makePacket(const PacketSpec& spec) {
  Packet p{};
  p.fill(0xFF);
  p[0] = kSyncByte;
  p[1] = static_cast<std::uint8_t>((spec.payload_unit_start ? 0x40 : 0) | (spec.pid >> 8));
  p[2] = static_cast<std::uint8_t>(spec.pid & 0xFF);
  const bool adaptation = spec.pcr_27mhz || spec.random_access || spec.discontinuity;
  const std::uint8_t control = (adaptation ? 0x20 : 0) | (spec.payload ? 0x10 : 0);
  p[3] = static_cast<std::uint8_t>(control | (spec.continuity_counter & 0x0F));
  std::size_t payload_at = 4;
  if (adaptation) {
    const std::size_t af_length = spec.payload ? (spec.pcr_27mhz ? 7 : 1) : 183;
    p[4] = static_cast<std::uint8_t>(af_length);
    p[5] = static_cast<std::uint8_t>((spec.discontinuity ? 0x80 : 0) |
                                     (spec.random_access ? 0x40 : 0) | (spec.pcr_27mhz ? 0x10 : 0));
    if (spec.pcr_27mhz) {
      const std::int64_t base = *spec.pcr_27mhz / 300;
      const std::int64_t ext = *spec.pcr_27mhz % 300;
      p[6] = static_cast<std::uint8_t>(base >> 25);
      p[7] = static_cast<std::uint8_t>(base >> 17);
      p[8] = static_cast<std::uint8_t>(base >> 9);
      p[9] = static_cast<std::uint8_t>(base >> 1);
      p[10] = static_cast<std::uint8_t>(((base & 1) << 7) | 0x7E | (ext >> 8));
      p[11] = static_cast<std::uint8_t>(ext & 0xFF);
    }
    payload_at = 5 + af_length;
  }
  std::copy(spec.payload_bytes.begin(), spec.payload_bytes.end(), p.begin() + payload_at);
  return p;
}

void writePesTimestamp(std::vector<std::uint8_t>& out, std::uint8_t prefix, std::int64_t ts) {
  out.push_back(static_cast<std::uint8_t>((prefix << 4) | (((ts >> 30) & 0x07) << 1) | 1));
  out.push_back(static_cast<std::uint8_t>(ts >> 22));
  out.push_back(static_cast<std::uint8_t>((((ts >> 15) & 0x7F) << 1) | 1));
  out.push_back(static_cast<std::uint8_t>(ts >> 7));
  out.push_back(static_cast<std::uint8_t>(((ts & 0x7F) << 1) | 1));
}

std::vector<std::uint8_t> pesHeader(std::optional<std::int64_t> pts,
                                    std::optional<std::int64_t> dts) {
  std::vector<std::uint8_t> h = {0x00, 0x00, 0x01, 0xE0, 0x00, 0x00, 0x80};
  const std::uint8_t flags = (pts ? 0x80 : 0) | (dts ? 0x40 : 0);
  h.push_back(flags);
  h.push_back(static_cast<std::uint8_t>((pts ? 5 : 0) + (dts ? 5 : 0)));
  if (pts) {
    writePesTimestamp(h, dts ? 0x3 : 0x2, *pts);
  }
  if (dts) {
    writePesTimestamp(h, 0x1, *dts);
  }
  return h;
}

TEST(TsParse, ReadsPidPayloadUnitStartAndContinuity) {
  const Packet p = makePacket({.pid = 0x1ABC, .payload_unit_start = true, .continuity_counter = 9});
  const auto info = parsePacket(p);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, 0x1ABC);
  EXPECT_TRUE(info->payload_unit_start);
  EXPECT_EQ(info->continuity_counter, 9);
  EXPECT_FALSE(info->has_adaptation_field);
  EXPECT_TRUE(info->has_payload);
  EXPECT_EQ(info->payload_offset, 4u);
  EXPECT_FALSE(info->pcr_27mhz);
  EXPECT_EQ(pid(p), 0x1ABC);
  EXPECT_TRUE(payloadUnitStart(p));
}

TEST(TsParse, ReadsPcrBaseAndExtension) {
  const std::int64_t pcr = 123'456'789LL * 300 + 299;
  const Packet p = makePacket({.pcr_27mhz = pcr});
  const auto info = parsePacket(p);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->has_adaptation_field);
  ASSERT_TRUE(info->pcr_27mhz);
  EXPECT_EQ(*info->pcr_27mhz, pcr);
  EXPECT_EQ(info->payload_offset, 12u);
  EXPECT_EQ(pcr27MHz(p), pcr);
}

TEST(TsParse, ReadsTheLargestPcr) {
  const std::int64_t pcr = kPcrWrapTicks - 1;  // base 2^33-1, extension 299
  EXPECT_EQ(pcr27MHz(makePacket({.pcr_27mhz = pcr})), pcr);
}

TEST(TsParse, ReadsRandomAccessAndDiscontinuityFlags) {
  const auto info = parsePacket(makePacket({.random_access = true, .discontinuity = true}));
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->random_access);
  EXPECT_TRUE(info->discontinuity);
  EXPECT_TRUE(randomAccess(makePacket({.random_access = true})));
  EXPECT_FALSE(randomAccess(makePacket({})));
}

TEST(TsParse, AdaptationOnlyPacketHasNoPayload) {
  const auto info = parsePacket(makePacket({.pcr_27mhz = 42, .payload = false}));
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->has_payload);
  EXPECT_EQ(info->payload_offset, kPacketBytes);
  EXPECT_EQ(info->pcr_27mhz, 42);
}

TEST(TsParse, RejectsShortUnsyncedAndOverlongAdaptationField) {
  Packet p = makePacket({});
  EXPECT_FALSE(parsePacket(std::span<const std::uint8_t>(p.data(), 187)));
  p[0] = 0x46;
  EXPECT_FALSE(parsePacket(p));
  Packet q = makePacket({.random_access = true});
  q[4] = 184;  // runs past the packet
  EXPECT_FALSE(parsePacket(q));
  EXPECT_FALSE(pid(p));
  EXPECT_FALSE(payloadUnitStart(p));
}

TEST(TsParse, ReadsPtsAndDtsFromAPesHeader) {
  const std::int64_t pts = (std::int64_t{1} << 33) - 5;
  const auto both = pesTimestamps(pesHeader(pts, 12345));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->pts_90khz, pts);
  EXPECT_EQ(both->dts_90khz, 12345);
  const auto pts_only = pesTimestamps(pesHeader(900000, std::nullopt));
  ASSERT_TRUE(pts_only);
  EXPECT_EQ(pts_only->pts_90khz, 900000);
  EXPECT_FALSE(pts_only->dts_90khz);
  EXPECT_FALSE(pesTimestamps(std::vector<std::uint8_t>{0x00, 0x00, 0x02, 0xE0, 0, 0, 0x80, 0, 0}));
}

TEST(TsParse, ForwardTicksFollowTheWrap) {
  EXPECT_EQ(pcrForwardTicks(100, 400), 300);
  EXPECT_EQ(pcrForwardTicks(kPcrWrapTicks - 100, 200), 300);
  EXPECT_EQ(pcrForwardTicks(400, 100), kPcrWrapTicks - 300);
}

// A synthetic stream: one PCR packet every `interval`, `between` payload packets after each.
class PacerTest : public ::testing::Test {
 protected:
  using Clock = TsPacer::Clock;
  const Clock::time_point t0 = Clock::time_point{} + 1000s;

  Clock::time_point feedPcr(std::int64_t pcr, bool discontinuity = false) {
    return pacer.onPacket(
        makePacket({.pid = 0x100, .pcr_27mhz = pcr, .discontinuity = discontinuity}), t0);
  }
  Clock::time_point feedPayload() { return pacer.onPacket(makePacket({.pid = 0x101}), t0); }

  TsPacer pacer;
};

constexpr std::int64_t kTicksPerMs = kPcrHz / 1000;

TEST_F(PacerTest, MapsPcrToWallTimeFromTheFirstPcr) {
  const std::int64_t start = 5'000'000'000;
  EXPECT_EQ(feedPcr(start), t0);
  EXPECT_EQ(feedPcr(start + 40 * kTicksPerMs), t0 + 40ms);
  EXPECT_EQ(feedPcr(start + 1000 * kTicksPerMs), t0 + 1000ms);
  EXPECT_EQ(pacer.stats().reanchors, 0u);
}

TEST_F(PacerTest, SpreadsPacketsBetweenPcrsAtTheMeasuredRate) {
  feedPcr(0);
  for (int i = 0; i < 9; ++i) {
    feedPayload();
  }
  EXPECT_EQ(feedPcr(10 * kTicksPerMs), t0 + 10ms);  // 10 packets in 10 ms
  std::vector<Clock::time_point> due;
  for (int i = 0; i < 9; ++i) {
    due.push_back(feedPayload());
  }
  EXPECT_EQ(due[0], t0 + 11ms);
  EXPECT_EQ(due[4], t0 + 15ms);
  EXPECT_EQ(due[8], t0 + 19ms);
  EXPECT_EQ(feedPcr(20 * kTicksPerMs), t0 + 20ms);
}

TEST_F(PacerTest, InterpolationStopsOneIntervalPastTheLastPcr) {
  feedPcr(0);
  feedPayload();
  feedPcr(10 * kTicksPerMs);  // 2 packets per 10 ms
  Clock::time_point due{};
  for (int i = 0; i < 50; ++i) {
    due = feedPayload();
  }
  EXPECT_EQ(due, t0 + 20ms);
}

TEST_F(PacerTest, FollowsThe33BitWrap) {
  const std::int64_t before_wrap = kPcrWrapTicks - 20 * kTicksPerMs;
  EXPECT_EQ(feedPcr(before_wrap), t0);
  EXPECT_EQ(feedPcr(kPcrWrapTicks - kTicksPerMs), t0 + 19ms);
  EXPECT_EQ(feedPcr(20 * kTicksPerMs), t0 + 40ms);
  EXPECT_EQ(pacer.stats().reanchors, 0u);
}

TEST_F(PacerTest, ReanchorsOnAForwardJumpOverOneSecond) {
  feedPcr(0);
  feedPcr(40 * kTicksPerMs);
  EXPECT_EQ(feedPcr(5000 * kTicksPerMs), t0 + 40ms);  // no 5 s stall
  EXPECT_EQ(feedPcr(5040 * kTicksPerMs), t0 + 80ms);
  EXPECT_EQ(pacer.stats().reanchors, 1u);
}

TEST_F(PacerTest, ReanchorsOnABackwardJump) {
  feedPcr(90'000 * kTicksPerMs);
  feedPcr(90'040 * kTicksPerMs);
  EXPECT_EQ(feedPcr(10 * kTicksPerMs), t0 + 40ms);  // no burst, no wait for a wrap
  EXPECT_EQ(feedPcr(50 * kTicksPerMs), t0 + 80ms);
  EXPECT_EQ(pacer.stats().reanchors, 1u);
}

TEST_F(PacerTest, ReanchorsOnTheDiscontinuityIndicator) {
  feedPcr(0);
  feedPcr(40 * kTicksPerMs);
  EXPECT_EQ(feedPcr(500 * kTicksPerMs, /*discontinuity=*/true), t0 + 40ms);
  EXPECT_EQ(feedPcr(540 * kTicksPerMs), t0 + 80ms);
  EXPECT_EQ(pacer.stats().reanchors, 1u);
}

TEST_F(PacerTest, RestartKeepsTheClockContinuous) {
  feedPcr(1000 * kTicksPerMs);
  feedPcr(1500 * kTicksPerMs);
  pacer.restart();
  EXPECT_EQ(feedPcr(1000 * kTicksPerMs), t0 + 500ms);
  EXPECT_EQ(feedPcr(1040 * kTicksPerMs), t0 + 540ms);
  EXPECT_EQ(pacer.stats().reanchors, 1u);
}

TEST_F(PacerTest, IgnoresPcrsOfASecondPid) {
  feedPcr(0);
  // Paced like any packet without a clock reference: by its size, not by its PCR.
  EXPECT_LT(pacer.onPacket(makePacket({.pid = 0x200, .pcr_27mhz = 900 * kTicksPerMs}), t0),
            t0 + 1ms);
  EXPECT_EQ(feedPcr(40 * kTicksPerMs), t0 + 40ms);
}

TEST_F(PacerTest, UsesPesDtsWithoutPcr) {
  auto pes = [&](std::int64_t pts, std::int64_t dts) {
    return pacer.onPacket(
        makePacket(
            {.pid = 0x101, .payload_unit_start = true, .payload_bytes = pesHeader(pts, dts)}),
        t0);
  };
  EXPECT_EQ(pes(9000, 3600), t0);
  EXPECT_EQ(pes(5400, 7200), t0 + 40ms);  // by DTS, not the reordered PTS
  EXPECT_EQ(pes(18000, 10800), t0 + 80ms);
  EXPECT_EQ(pacer.stats().pes_timestamps_used, 3u);
}

TEST(Pacer, PacesByTheFallbackBitrateWithoutTimestamps) {
  TsPacer pacer(TsPacer::Options{.fallback_bitrate_bps = 188 * 8 * 100});  // 100 packets/s
  const auto t0 = TsPacer::Clock::time_point{} + 1s;
  TsPacer::Clock::time_point due{};
  for (int i = 0; i < 51; ++i) {
    due = pacer.onPacket(makePacket({.pid = 0x101}), t0);
  }
  EXPECT_EQ(due, t0 + 500ms);
}

}  // namespace
}  // namespace bondcast::sender::ts
