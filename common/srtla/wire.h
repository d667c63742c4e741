// SPDX-License-Identifier: MPL-2.0
// SRTLA on the wire (issue 14): what a datagram between an SRTLA sender and an SRTLA
// receiver is, and the control packets bondcast writes. Pure functions, no I/O.
//
// Every datagram is either an unmodified SRT packet (data: first bit 0; control: first bit
// 1 and one of SRT's own types) or an SRTLA control packet: a 16-bit big-endian type with
// SRT's control bit set, from 0x9000 up (types SRT does not use):
//
//   KEEPALIVE 0x9000  echoed back unchanged; 10 bytes when it carries a u64 ms timestamp
//   ACK       0x9100  4-byte header, then the sequence numbers of the last 10 SRT data
//                     packets the receiver took on this link (10 x u32 big-endian)
//   REG1      0x9200  + 256-byte group id (sender's random id): "make me a group"
//   REG2      0x9201  + 256-byte group id: "add this link to that group"
//   REG3      0x9202  the link is registered
//   REG_ERR   0x9210  refused (address already in another group, or limits reached)
//   REG_NGP   0x9211  no such group
//   REG_NAK   0x9212  defined, unused
//
// REG1 and REG2 are exactly 258 bytes. Other control packets may come padded (senders
// behind carrier NATs pad them to 32 bytes), so they are only checked for their minimum.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace bondcast::srtla {

inline constexpr std::uint16_t kKeepalive = 0x9000;
inline constexpr std::uint16_t kAck = 0x9100;
inline constexpr std::uint16_t kReg1 = 0x9200;
inline constexpr std::uint16_t kReg2 = 0x9201;
inline constexpr std::uint16_t kReg3 = 0x9202;
inline constexpr std::uint16_t kRegErr = 0x9210;
inline constexpr std::uint16_t kRegNgp = 0x9211;
inline constexpr std::uint16_t kRegNak = 0x9212;

inline constexpr std::size_t kGroupIdBytes = 256;
inline constexpr std::size_t kRegBytes = 2 + kGroupIdBytes;  // REG1, REG2
inline constexpr std::size_t kAckSeqs = 10;
inline constexpr std::size_t kAckBytes = 4 + 4 * kAckSeqs;
inline constexpr std::size_t kKeepaliveTimestampBytes = 10;  // type + u64 ms
inline constexpr std::size_t kSrtHeaderBytes = 16;

using GroupId = std::array<std::uint8_t, kGroupIdBytes>;

enum class Kind : std::uint8_t {
  kSrtData,
  kSrtControl,
  kKeepalive,
  kAck,
  kReg1,
  kReg2,
  kReg3,
  kRegErr,
  kRegNgp,
  kRegNak,
};
std::string_view toString(Kind k);

// Why a datagram is not one of the above; each is counted by a receiver and dropped.
enum class Error : std::uint8_t {
  kTooShort,         // under 2 bytes, or an SRT packet under its 16-byte header
  kBadLength,        // REG1/REG2 not 258 bytes, ACK under 44
  kUnknownSrtlaType  // 0x9000..0x9FFF but none of the types above
};
std::string_view toString(Error e);

struct Packet {
  Kind kind = Kind::kSrtData;
  GroupId group{};                   // REG1, REG2
  std::vector<std::uint32_t> acked;  // ACK: the 10 sequence numbers
  std::optional<std::uint64_t> ms;   // KEEPALIVE: its timestamp, when it has one
  std::uint32_t srt_seq = 0;         // SRT data: its 31-bit sequence number
};

struct ParseResult {
  std::optional<Packet> packet;
  Error error = Error::kTooShort;  // when !packet
};

// What `datagram` is. Never reads past its end.
ParseResult parse(std::span<const std::uint8_t> datagram);

// The control packets, as bondcast writes them (unpadded).
std::vector<std::uint8_t> reg1(const GroupId& id);
std::vector<std::uint8_t> reg2(const GroupId& id);
std::vector<std::uint8_t> control(std::uint16_t type);  // REG3, REG_ERR, REG_NGP, KEEPALIVE
std::vector<std::uint8_t> keepalive(std::uint64_t ms);
std::vector<std::uint8_t> ack(std::span<const std::uint32_t, kAckSeqs> seqs);

}  // namespace bondcast::srtla
