// SPDX-License-Identifier: MPL-2.0
// MPEG-TS inspection (sender/ts.h, sender/ts_inspect.h) on any byte stream: packet
// headers and adaptation fields, PES timestamps, the pacer that sends a recording at its
// real-time rate, and the classifier that marks the payloads adaptive mode protects.
//
// Input: 3 bytes of options (the pacer's fallback bitrate and maximum jump, and the packet
// at which the stream restarts as a looped file does), then the stream, cut into 188-byte
// packets (a shorter tail is fed to the pacer as it is).
// Checks: what parsePacket() reports stays inside the packet and the field widths, and the
// accessors agree with it; PES timestamps fit 33 bits; due times never go backwards nor
// before the first packet; classifying 7 packets at once says what classifying them one
// by one says; PAT packets always count as parameter sets.
#include <chrono>

#include "fuzz/fuzz_support.h"
#include "sender/ts.h"
#include "sender/ts_inspect.h"

namespace {

using namespace bondcast;
using namespace bondcast::sender;
namespace fz = bondcast::fuzz;

constexpr std::int64_t kMaxPts = std::int64_t{1} << 33;
constexpr std::int64_t kMaxPcr = (kMaxPts - 1) * 300 + 511;  // 9-bit extension
constexpr std::size_t kPacketsPerPayload = 7;

void checkPacket(std::span<const std::uint8_t> packet) {
  const auto info = ts::parsePacket(packet);
  FUZZ_CHECK(ts::pid(packet).has_value() == info.has_value());
  FUZZ_CHECK(ts::payloadUnitStart(packet) == (info && info->payload_unit_start));
  FUZZ_CHECK(ts::randomAccess(packet) == (info && info->random_access));
  FUZZ_CHECK(ts::pcr27MHz(packet) == (info ? info->pcr_27mhz : std::nullopt));
  if (!info) {
    return;
  }
  FUZZ_CHECK(packet[0] == ts::kSyncByte);
  FUZZ_CHECK(info->pid <= ts::kNullPid);
  FUZZ_CHECK(info->continuity_counter <= 15);
  if (info->has_payload) {
    FUZZ_CHECK(info->payload_offset >= 4 && info->payload_offset < ts::kPacketBytes);
  } else {
    FUZZ_CHECK(info->payload_offset == ts::kPacketBytes);
  }
  if (!info->has_adaptation_field) {
    FUZZ_CHECK(!info->discontinuity && !info->random_access && !info->pcr_27mhz);
  }
  if (info->pcr_27mhz) {
    FUZZ_CHECK(*info->pcr_27mhz >= 0 && *info->pcr_27mhz <= kMaxPcr);
    const std::int64_t forward = ts::pcrForwardTicks(0, *info->pcr_27mhz);
    FUZZ_CHECK(forward >= 0 && forward < ts::kPcrWrapTicks);
    const std::int64_t back = ts::pcrForwardTicks(*info->pcr_27mhz, 0);
    FUZZ_CHECK(back >= 0 && back < ts::kPcrWrapTicks);
  }
  if (info->payload_unit_start && info->has_payload) {
    if (const auto pes = ts::pesTimestamps(packet.subspan(info->payload_offset))) {
      FUZZ_CHECK(!pes->pts_90khz || (*pes->pts_90khz >= 0 && *pes->pts_90khz < kMaxPts));
      FUZZ_CHECK(!pes->dts_90khz || (*pes->dts_90khz >= 0 && *pes->dts_90khz < kMaxPts));
      FUZZ_CHECK(!pes->dts_90khz || pes->pts_90khz);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::Reader in(data, size);
  ts::TsPacer::Options options;
  options.fallback_bitrate_bps = std::uint64_t{in.u8()} * 100'000;  // 0 is allowed: 1 bit/s
  options.max_jump = std::chrono::milliseconds(50 * (1 + in.u8() % 64));
  const std::size_t restart_at = in.u8();
  const std::span<const std::uint8_t> stream = in.rest();

  ts::TsPacer pacer(options);
  const ts::TsPacer::Clock::time_point start{std::chrono::hours(1)};
  ts::TsPacer::Clock::time_point last_due = start;
  TsInspector one_by_one;
  TsInspector by_payload;
  sched::Importance payload_importance = sched::Importance::kNone;
  std::size_t fed = 0;
  for (std::size_t at = 0; at < stream.size(); at += ts::kPacketBytes) {
    const auto packet = stream.subspan(at, std::min(ts::kPacketBytes, stream.size() - at));
    checkPacket(packet);
    if (fed == restart_at) {
      pacer.restart();
    }
    // The pacer's now only anchors the first packet; later values must not matter.
    const auto due = pacer.onPacket(packet, start + std::chrono::seconds(fed));
    ++fed;
    FUZZ_CHECK(due >= last_due);
    last_due = due;
    if (packet.size() < ts::kPacketBytes) {
      continue;
    }
    const sched::Importance importance = one_by_one.classify(packet);
    FUZZ_CHECK(static_cast<std::uint8_t>(importance) <= 7);
    const auto info = ts::parsePacket(packet);
    FUZZ_CHECK(info || importance == sched::Importance::kNone);
    FUZZ_CHECK(!info || info->pid != 0 ||
               sched::has(importance, sched::Importance::kParameterSets));
    payload_importance = payload_importance | importance;
    const std::size_t index = at / ts::kPacketBytes;
    const bool payload_ends = index % kPacketsPerPayload == kPacketsPerPayload - 1 ||
                              at + 2 * ts::kPacketBytes > stream.size();
    if (payload_ends) {
      const std::size_t first = index - index % kPacketsPerPayload;
      const auto payload =
          stream.subspan(first * ts::kPacketBytes, (index + 1 - first) * ts::kPacketBytes);
      FUZZ_CHECK(by_payload.classify(payload) == payload_importance);
      payload_importance = sched::Importance::kNone;
    }
  }
  FUZZ_CHECK(pacer.stats().packets == fed);
  FUZZ_CHECK(pacer.stats().pcr_packets <= fed);
  FUZZ_CHECK(one_by_one.elementaryStreams() == by_payload.elementaryStreams());
  for (const auto& [pid, kind] : one_by_one.elementaryStreams()) {
    FUZZ_CHECK(pid <= ts::kNullPid);
  }
  return 0;
}
