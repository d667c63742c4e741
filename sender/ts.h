// SPDX-License-Identifier: MPL-2.0
// MPEG-TS inspection and pacing: pure functions and classes, no FFmpeg, no I/O, no clock.
//
// parsePacket() reads the header and adaptation field of one 188-byte packet (ISO/IEC
// 13818-1 2.4.3); pesTimestamp() reads PTS/DTS from a PES header at the start of a
// payload. TsPacer maps the stream's own clock (PCR, else PTS/DTS, else a configured
// bitrate) to wall-clock due times, for sending a recorded stream at its real-time rate.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace bondcast::sender::ts {

inline constexpr std::size_t kPacketBytes = 188;
inline constexpr std::uint8_t kSyncByte = 0x47;
inline constexpr std::uint16_t kNullPid = 0x1FFF;
// PCR ticks at 27 MHz; PTS/DTS at 90 kHz (= PCR / 300). Both wrap at 2^33 base ticks.
inline constexpr std::int64_t kPcrHz = 27'000'000;
inline constexpr std::int64_t kPtsHz = 90'000;
inline constexpr std::int64_t kPcrWrapTicks = (std::int64_t{1} << 33) * 300;

// What the header and adaptation field of one TS packet say.
struct PacketInfo {
  std::uint16_t pid = 0;
  bool transport_error = false;
  bool payload_unit_start = false;
  bool has_adaptation_field = false;
  bool has_payload = false;
  std::uint8_t continuity_counter = 0;
  // Adaptation-field flags (false without an adaptation field).
  bool discontinuity = false;
  bool random_access = false;
  // Program clock reference in 27 MHz ticks (base * 300 + extension), if present.
  std::optional<std::int64_t> pcr_27mhz;
  // Where the payload starts in the packet (== 188 without payload).
  std::size_t payload_offset = kPacketBytes;
};

// Parses one packet. nullopt if it is shorter than 188 bytes, does not start with 0x47,
// or has an adaptation field length that runs past the packet.
std::optional<PacketInfo> parsePacket(std::span<const std::uint8_t> packet);

// Convenience accessors; nullopt / false on a malformed packet.
std::optional<std::uint16_t> pid(std::span<const std::uint8_t> packet);
std::optional<std::int64_t> pcr27MHz(std::span<const std::uint8_t> packet);
bool payloadUnitStart(std::span<const std::uint8_t> packet);
bool randomAccess(std::span<const std::uint8_t> packet);

struct PesTimestamps {
  std::optional<std::int64_t> pts_90khz;
  std::optional<std::int64_t> dts_90khz;
};
// PTS and DTS of the PES header at the start of `payload` (the bytes after the TS header
// and adaptation field of a packet with payload_unit_start). nullopt if the payload is
// not a PES header (no 00 00 01 start code, or a stream id without the optional header).
std::optional<PesTimestamps> pesTimestamps(std::span<const std::uint8_t> payload);

// Forward distance from `from` to `to` on the 33-bit clock, in 27 MHz ticks, in
// [0, kPcrWrapTicks).
std::int64_t pcrForwardTicks(std::int64_t from_27mhz, std::int64_t to_27mhz);

// Paces a recorded MPEG-TS stream at its real-time rate.
//
// Feed every packet, in order, to onPacket(); it returns the wall-clock time at which
// the packet is due. Due times never go backwards.
// - The clock is the PCR of the first PID that carries one. Each PCR is mapped to wall
//   time relative to an anchor (the first PCR, at the time the first packet was fed);
//   the 33-bit wrap is followed. A jump of more than max_jump (either way), or the
//   discontinuity indicator on the PCR PID, re-anchors the clock at the current due
//   time, so the stream continues without a burst or a stall.
// - Packets between two PCRs are spread at the byte rate measured between the previous
//   two PCRs (at most one PCR interval past the last PCR).
// - Without any PCR so far, PES timestamps (DTS, else PTS) of the first PID that has
//   them serve the same way; without those, bytes are spread at fallback_bitrate_bps.
// Not thread-safe; pure: `now` only anchors the first packet; re-anchors continue from
// the last due time.
class TsPacer {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::uint64_t fallback_bitrate_bps = 4'000'000;
    std::chrono::microseconds max_jump{std::chrono::seconds(1)};
  };

  // What the pacer has done, for logs and tests.
  struct Stats {
    std::uint64_t packets = 0;
    std::uint64_t pcr_packets = 0;
    std::uint64_t reanchors = 0;  // jumps, discontinuities and restarts
    std::uint64_t pes_timestamps_used = 0;
  };

  TsPacer() : TsPacer(Options{}) {}
  explicit TsPacer(Options options);

  // Due time of `packet` (188 bytes; a short or unsynchronised packet is paced by its
  // size only).
  Clock::time_point onPacket(std::span<const std::uint8_t> packet, Clock::time_point now);

  // The stream restarts (a looped file): the next timestamp re-anchors at the current due
  // time instead of being compared with the last one.
  void restart();

  const Stats& stats() const { return stats_; }

 private:
  enum class Source { kNone, kPcr, kPes };

  // One timestamp (27 MHz) from the clock PID: returns its due time.
  Clock::time_point onTimestamp(std::int64_t ts_27mhz, bool discontinuity);
  Clock::time_point dueBySize(std::size_t bytes) const;

  Options options_;
  Stats stats_;
  Source source_ = Source::kNone;
  std::uint16_t clock_pid_ = 0;
  bool anchored_ = false;
  bool restart_pending_ = false;
  Clock::time_point anchor_time_{};
  std::int64_t last_ts_27mhz_ = 0;    // last timestamp as read (33-bit clock)
  std::int64_t elapsed_ticks_ = 0;    // unwrapped ticks from the anchor to last_ts
  Clock::time_point last_ts_due_{};   // due time of the last timestamp
  Clock::time_point last_due_{};      // due time of the last packet
  std::uint64_t bytes_since_ts_ = 0;  // bytes fed since the last timestamp
  double bytes_per_second_ = 0;       // measured between the last two timestamps
  std::chrono::nanoseconds last_interval_{0};
};

}  // namespace bondcast::sender::ts
