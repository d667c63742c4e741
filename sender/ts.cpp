// SPDX-License-Identifier: MPL-2.0
#include "sender/ts.h"

#include <algorithm>
#include <cmath>

namespace bondcast::sender::ts {
namespace {

constexpr std::uint8_t kAfDiscontinuity = 0x80;
constexpr std::uint8_t kAfRandomAccess = 0x40;
constexpr std::uint8_t kAfPcr = 0x10;

std::chrono::nanoseconds ticksToNs(std::int64_t ticks_27mhz) {
  // Split to stay exact and far from overflow for decades of stream time.
  return std::chrono::nanoseconds((ticks_27mhz / 27) * 1000 + (ticks_27mhz % 27) * 1000 / 27);
}

std::int64_t readPesTimestamp(const std::uint8_t* p) {
  return (static_cast<std::int64_t>((p[0] >> 1) & 0x07) << 30) |
         (static_cast<std::int64_t>(p[1]) << 22) | (static_cast<std::int64_t>(p[2] >> 1) << 15) |
         (static_cast<std::int64_t>(p[3]) << 7) | static_cast<std::int64_t>(p[4] >> 1);
}

// Stream ids whose PES packets have no optional header (13818-1 table 2-21).
bool hasOptionalPesHeader(std::uint8_t stream_id) {
  switch (stream_id) {
    case 0xBC:  // program_stream_map
    case 0xBE:  // padding_stream
    case 0xBF:  // private_stream_2
    case 0xF0:  // ECM
    case 0xF1:  // EMM
    case 0xF2:  // DSMCC
    case 0xF8:  // H.222.1 type E
    case 0xFF:  // program_stream_directory
      return false;
    default:
      return true;
  }
}

}  // namespace

std::optional<PacketInfo> parsePacket(std::span<const std::uint8_t> packet) {
  if (packet.size() < kPacketBytes || packet[0] != kSyncByte) {
    return std::nullopt;
  }
  PacketInfo info;
  info.transport_error = (packet[1] & 0x80) != 0;
  info.payload_unit_start = (packet[1] & 0x40) != 0;
  info.pid = static_cast<std::uint16_t>(((packet[1] & 0x1F) << 8) | packet[2]);
  const std::uint8_t adaptation_control = (packet[3] >> 4) & 0x03;
  info.continuity_counter = packet[3] & 0x0F;
  info.has_adaptation_field = (adaptation_control & 0x02) != 0;
  std::size_t offset = 4;
  if (info.has_adaptation_field) {
    const std::size_t af_length = packet[4];
    offset = 5 + af_length;
    if (offset > kPacketBytes) {
      return std::nullopt;
    }
    if (af_length > 0) {
      const std::uint8_t flags = packet[5];
      info.discontinuity = (flags & kAfDiscontinuity) != 0;
      info.random_access = (flags & kAfRandomAccess) != 0;
      if ((flags & kAfPcr) != 0 && af_length >= 7) {
        const std::uint8_t* p = &packet[6];
        const std::int64_t base = (static_cast<std::int64_t>(p[0]) << 25) |
                                  (static_cast<std::int64_t>(p[1]) << 17) |
                                  (static_cast<std::int64_t>(p[2]) << 9) |
                                  (static_cast<std::int64_t>(p[3]) << 1) | (p[4] >> 7);
        const std::int64_t extension = ((p[4] & 0x01) << 8) | p[5];
        info.pcr_27mhz = base * 300 + extension;
      }
    }
  }
  info.has_payload = (adaptation_control & 0x01) != 0 && offset < kPacketBytes;
  info.payload_offset = info.has_payload ? offset : kPacketBytes;
  return info;
}

std::optional<std::uint16_t> pid(std::span<const std::uint8_t> packet) {
  const auto info = parsePacket(packet);
  return info ? std::optional<std::uint16_t>(info->pid) : std::nullopt;
}

std::optional<std::int64_t> pcr27MHz(std::span<const std::uint8_t> packet) {
  const auto info = parsePacket(packet);
  return info ? info->pcr_27mhz : std::nullopt;
}

bool payloadUnitStart(std::span<const std::uint8_t> packet) {
  const auto info = parsePacket(packet);
  return info && info->payload_unit_start;
}

bool randomAccess(std::span<const std::uint8_t> packet) {
  const auto info = parsePacket(packet);
  return info && info->random_access;
}

std::optional<PesTimestamps> pesTimestamps(std::span<const std::uint8_t> payload) {
  if (payload.size() < 9 || payload[0] != 0x00 || payload[1] != 0x00 || payload[2] != 0x01 ||
      !hasOptionalPesHeader(payload[3]) || (payload[6] & 0xC0) != 0x80) {
    return std::nullopt;
  }
  const std::uint8_t flags = payload[7] >> 6;
  PesTimestamps out;
  if ((flags & 0x02) != 0 && payload.size() >= 14) {
    out.pts_90khz = readPesTimestamp(&payload[9]);
    if (flags == 0x03 && payload.size() >= 19) {
      out.dts_90khz = readPesTimestamp(&payload[14]);
    }
  }
  return out;
}

std::int64_t pcrForwardTicks(std::int64_t from_27mhz, std::int64_t to_27mhz) {
  const std::int64_t d = (to_27mhz - from_27mhz) % kPcrWrapTicks;
  return d < 0 ? d + kPcrWrapTicks : d;
}

TsPacer::TsPacer(Options options) : options_(options) {
  if (options_.fallback_bitrate_bps == 0) {
    options_.fallback_bitrate_bps = 1;
  }
}

TsPacer::Clock::time_point TsPacer::onPacket(std::span<const std::uint8_t> packet,
                                             Clock::time_point now) {
  if (stats_.packets++ == 0) {
    last_due_ = now;
    last_ts_due_ = now;
  }
  std::optional<Clock::time_point> due;
  if (const auto info = parsePacket(packet)) {
    if (info->pcr_27mhz) {
      ++stats_.pcr_packets;
      if (source_ != Source::kPcr) {
        source_ = Source::kPcr;  // PCR beats PES timestamps; switching re-anchors
        clock_pid_ = info->pid;
        anchored_ = false;
      }
      if (info->pid == clock_pid_) {
        due = onTimestamp(*info->pcr_27mhz, info->discontinuity);
      }
    } else if (source_ != Source::kPcr && info->payload_unit_start && info->has_payload) {
      const auto pes = pesTimestamps(packet.subspan(info->payload_offset));
      const auto ts_90khz = pes ? (pes->dts_90khz ? pes->dts_90khz : pes->pts_90khz) : std::nullopt;
      if (ts_90khz) {
        if (source_ == Source::kNone) {
          source_ = Source::kPes;
          clock_pid_ = info->pid;
          anchored_ = false;
        }
        if (info->pid == clock_pid_) {
          ++stats_.pes_timestamps_used;
          due = onTimestamp(*ts_90khz * 300, info->discontinuity);
        }
      }
    }
  }
  if (due) {
    bytes_since_ts_ = packet.size();
  } else {
    due = dueBySize(bytes_since_ts_);
    bytes_since_ts_ += packet.size();
  }
  last_due_ = std::max(last_due_, *due);
  return last_due_;
}

void TsPacer::restart() {
  restart_pending_ = true;
}

TsPacer::Clock::time_point TsPacer::onTimestamp(std::int64_t ts_27mhz, bool discontinuity) {
  const std::int64_t max_jump_ticks = options_.max_jump.count() * (kPcrHz / 1'000'000);
  const std::int64_t forward = anchored_ ? pcrForwardTicks(last_ts_27mhz_, ts_27mhz) : 0;
  if (!anchored_ || restart_pending_ || discontinuity || forward > max_jump_ticks) {
    // (Re-)anchor this timestamp at the current due time: the stream goes on without a
    // burst or a stall. The byte rate measured so far is kept.
    if (anchored_) {
      ++stats_.reanchors;
    }
    anchored_ = true;
    restart_pending_ = false;
    anchor_time_ = last_due_;
    elapsed_ticks_ = 0;
  } else if (forward > 0) {
    const double seconds = static_cast<double>(forward) / kPcrHz;
    bytes_per_second_ = static_cast<double>(bytes_since_ts_) / seconds;
    last_interval_ = ticksToNs(forward);
    elapsed_ticks_ += forward;
  }
  last_ts_27mhz_ = ts_27mhz;
  // The mapping is not clamped by earlier due times, so a transient lag (e.g. packets
  // before the second PCR paced at the fallback rate) corrects itself.
  last_ts_due_ = anchor_time_ + ticksToNs(elapsed_ticks_);
  return last_ts_due_;
}

TsPacer::Clock::time_point TsPacer::dueBySize(std::size_t bytes) const {
  const double rate_bytes_per_s = bytes_per_second_ > 0
                                      ? bytes_per_second_
                                      : static_cast<double>(options_.fallback_bitrate_bps) / 8;
  auto offset =
      std::chrono::nanoseconds(std::llround(static_cast<double>(bytes) / rate_bytes_per_s * 1e9));
  if (source_ != Source::kNone && last_interval_.count() > 0) {
    offset = std::min(offset, last_interval_);
  }
  return last_ts_due_ + offset;
}

}  // namespace bondcast::sender::ts
