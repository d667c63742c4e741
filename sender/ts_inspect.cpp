// SPDX-License-Identifier: MPL-2.0
#include "sender/ts_inspect.h"

#include <algorithm>

#include "sender/ts.h"

namespace bondcast::sender {
namespace {

using sched::Importance;

constexpr std::uint16_t kPatPid = 0x0000;
constexpr std::uint8_t kPatTableId = 0x00;
constexpr std::uint8_t kPmtTableId = 0x02;

// ISO/IEC 13818-1 table 2-34 and common registrations.
TsInspector::Kind kindOf(std::uint8_t stream_type, std::span<const std::uint8_t> descriptors) {
  switch (stream_type) {
    case 0x1B:
      return TsInspector::Kind::kH264;
    case 0x24:
      return TsInspector::Kind::kHevc;
    case 0x01:
    case 0x02:
      return TsInspector::Kind::kMpegVideo;
    case 0x03:  // MPEG-1 audio
    case 0x04:  // MPEG-2 audio
    case 0x0F:  // AAC ADTS
    case 0x11:  // AAC LATM
    case 0x81:  // AC-3 (ATSC)
    case 0x87:  // E-AC-3 (ATSC)
      return TsInspector::Kind::kAudio;
    case 0x06: {  // private data: audio when a DVB audio descriptor says so
      for (std::size_t i = 0; i + 2 <= descriptors.size();) {
        const std::uint8_t tag = descriptors[i];
        if (tag == 0x6A || tag == 0x7A || tag == 0x7C) {  // AC-3, E-AC-3, AAC
          return TsInspector::Kind::kAudio;
        }
        i += 2 + descriptors[i + 1];
      }
      return TsInspector::Kind::kOther;
    }
    default:
      return TsInspector::Kind::kOther;
  }
}

// The PSI section that starts in this packet's payload (after the pointer field),
// limited to the bytes present; empty if there is none.
std::span<const std::uint8_t> sectionIn(std::span<const std::uint8_t> payload) {
  if (payload.empty()) {
    return {};
  }
  const std::size_t pointer = payload[0];
  if (1 + pointer + 3 > payload.size()) {
    return {};
  }
  auto section = payload.subspan(1 + pointer);
  const std::size_t length = ((section[1] & 0x0F) << 8) | section[2];
  return section.subspan(0, std::min(section.size(), 3 + length));
}

// The elementary-stream bytes of a payload that starts a PES packet: after the PES
// header, whose own 00 00 01 start code is followed by a stream id, not a NAL header.
std::span<const std::uint8_t> afterPesHeader(std::span<const std::uint8_t> payload) {
  if (payload.size() < 9 || payload[0] != 0x00 || payload[1] != 0x00 || payload[2] != 0x01) {
    return payload;
  }
  return payload.subspan(std::min(payload.size(), std::size_t{9} + payload[8]));
}

bool isParameterSet(TsInspector::Kind kind, std::uint8_t nal) {
  switch (kind) {
    case TsInspector::Kind::kH264:
      return (nal & 0x1F) == 7 || (nal & 0x1F) == 8;
    case TsInspector::Kind::kHevc: {
      const int type = (nal >> 1) & 0x3F;
      return type >= 32 && type <= 34;
    }
    case TsInspector::Kind::kMpegVideo:
      return nal == 0xB3;  // sequence header
    default:
      return false;
  }
}

bool isKeyframe(TsInspector::Kind kind, std::uint8_t nal) {
  switch (kind) {
    case TsInspector::Kind::kH264:
      return (nal & 0x1F) == 5;
    case TsInspector::Kind::kHevc: {
      const int type = (nal >> 1) & 0x3F;
      return type >= 16 && type <= 21;
    }
    default:
      return false;
  }
}

}  // namespace

void TsInspector::readPat(std::span<const std::uint8_t> section) {
  if (section.size() < 12 || section[0] != kPatTableId) {
    return;
  }
  // After the 8-byte header, 4-byte entries, then a 4-byte CRC.
  for (std::size_t i = 8; i + 4 <= section.size() - 4; i += 4) {
    const std::uint16_t program = static_cast<std::uint16_t>((section[i] << 8) | section[i + 1]);
    const auto pid = static_cast<std::uint16_t>(((section[i + 2] & 0x1F) << 8) | section[i + 3]);
    if (program != 0) {
      pmt_pids_.insert(pid);
    }
  }
}

void TsInspector::readPmt(std::span<const std::uint8_t> section) {
  if (section.size() < 16 || section[0] != kPmtTableId) {
    return;
  }
  const std::size_t program_info = ((section[10] & 0x0F) << 8) | section[11];
  const std::size_t end = section.size() - 4;  // CRC
  for (std::size_t i = 12 + program_info; i + 5 <= end;) {
    const std::uint8_t type = section[i];
    const auto pid = static_cast<std::uint16_t>(((section[i + 1] & 0x1F) << 8) | section[i + 2]);
    const std::size_t info = ((section[i + 3] & 0x0F) << 8) | section[i + 4];
    const std::size_t info_end = std::min(end, i + 5 + info);
    streams_[pid] = kindOf(type, section.subspan(i + 5, info_end - (i + 5)));
    i = i + 5 + info;
  }
}

// Start codes 00 00 01 xx, also across packet boundaries (the window keeps the last
// three bytes).
Importance TsInspector::scanVideo(Kind kind, VideoState& state,
                                  std::span<const std::uint8_t> bytes) {
  Importance found = Importance::kNone;
  for (std::uint8_t b : bytes) {
    if ((state.window & 0x00FFFFFF) == 0x000001) {
      if (isParameterSet(kind, b)) {
        found = found | Importance::kParameterSets;
      }
      if (isKeyframe(kind, b)) {
        state.in_keyframe = true;
      }
    }
    state.window = (state.window << 8) | b;
  }
  return found;
}

Importance TsInspector::classifyPacket(std::span<const std::uint8_t> packet) {
  const auto info = ts::parsePacket(packet);
  if (!info) {
    return Importance::kNone;
  }
  const auto payload =
      info->has_payload ? packet.subspan(info->payload_offset) : std::span<const std::uint8_t>{};
  if (info->pid == kPatPid) {
    if (info->payload_unit_start) {
      readPat(sectionIn(payload));
    }
    return Importance::kParameterSets;
  }
  if (pmt_pids_.contains(info->pid)) {
    if (info->payload_unit_start) {
      readPmt(sectionIn(payload));
    }
    return Importance::kParameterSets;
  }
  const auto stream = streams_.find(info->pid);
  if (stream == streams_.end()) {
    return Importance::kNone;
  }
  if (stream->second == Kind::kAudio) {
    return Importance::kAudio;
  }
  if (stream->second == Kind::kOther) {
    return Importance::kNone;
  }
  VideoState& state = video_[info->pid];
  if (info->payload_unit_start) {
    state.in_keyframe = info->random_access;
  } else if (info->random_access) {
    state.in_keyframe = true;
  }
  Importance found = scanVideo(stream->second, state,
                               info->payload_unit_start ? afterPesHeader(payload) : payload);
  if (state.in_keyframe) {
    found = found | Importance::kKeyframe;
  }
  return found;
}

Importance TsInspector::classify(std::span<const std::uint8_t> payload) {
  Importance all = Importance::kNone;
  for (std::size_t at = 0; at + ts::kPacketBytes <= payload.size(); at += ts::kPacketBytes) {
    all = all | classifyPacket(payload.subspan(at, ts::kPacketBytes));
  }
  return all;
}

}  // namespace bondcast::sender
