// SPDX-License-Identifier: MPL-2.0
// bondcast's adaptive-mode wire format: the header in front of every payload on every
// link, and the stream id that names the session and the link of each connection.
// Pure functions, no I/O, no libsrt.
//
// Header (kHeaderBytes = 24, big-endian), then the payload (MPEG-TS, up to 1316 bytes):
//
//    0        1        2        3        4        5        6        7
//  +--------+--------+--------+--------+--------+--------+--------+--------+
//  |  'B'   |  'C'   |version | flags  |            session id             |
//  +--------+--------+--------+--------+--------+--------+--------+--------+
//  |                   sequence number (shared by all links)               |
//  +-----------------------------------------------------------------------+
//  |          source time, microseconds of the sender's steady clock       |
//  +-----------------------------------------------------------------------+
//
// Every copy of a packet (on any link, duplicate or re-sent) carries the same sequence
// number and source time; only the flags differ. A receiver rejects a header whose
// magic or version it does not know, and one whose session is not the session its
// link's stream id announced.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bondcast::wire {

inline constexpr std::size_t kHeaderBytes = 24;
inline constexpr std::uint8_t kVersion = 1;

// Why a packet matters, and how this copy was sent.
enum Flags : std::uint8_t {
  kFlagDuplicate = 1 << 0,      // an extra copy of a packet also sent on another link
  kFlagResent = 1 << 1,         // re-sent because the link that carried it failed
  kFlagKeyframe = 1 << 2,       // carries part of a keyframe (IDR / random access)
  kFlagParameterSets = 1 << 3,  // PAT/PMT or codec parameter sets
  kFlagAudio = 1 << 4,          // audio
};

struct Header {
  std::uint8_t version = kVersion;
  std::uint8_t flags = 0;
  std::uint32_t session = 0;
  std::uint64_t seq = 0;
  std::uint64_t source_time_us = 0;
};

// Why a received header was refused; each is counted by the receiver.
enum class HeaderError : std::uint8_t { kTooShort, kBadMagic, kBadVersion };
std::string_view toString(HeaderError e);

struct Parsed {
  Header header;
  std::span<const std::uint8_t> payload;  // the bytes after the header
};

// Writes the header into the first kHeaderBytes of `out` (which must be at least that
// long).
void encode(const Header& header, std::span<std::uint8_t, kHeaderBytes> out);
std::array<std::uint8_t, kHeaderBytes> encode(const Header& header);

// Reads the header at the start of `packet`. Either a Parsed or the reason it is not one.
struct ParseResult {
  std::optional<Parsed> parsed;
  HeaderError error = HeaderError::kTooShort;  // meaningful when !parsed
};
ParseResult parse(std::span<const std::uint8_t> packet);

// The stream id of one link of an adaptive session, for SRTO_STREAMID. `user_stream`
// is the sender's --stream-id (plain "cam1" or SRT's "#!::r=cam1,m=publish" form);
// the result is in SRT's access-control form with more keys:
//   #!::r=cam1,bcs=<session, 8 hex digits>,bcl=<link index>[,bclat=<latency ms>]
// bclat is the sender's latency: the receiver plays the session out with the larger of
// its own and this (as SRT's handshake does; the links' SRT connections have TSBPD off
// and carry no latency of their own). 0 leaves it out.
// With `receipts`, bcr=1 says that the sender reads receipts (below) on this link; the
// receiver sends them only then, so that an older sender's receive buffers never fill.
std::string linkStreamId(std::string_view user_stream, std::uint32_t session, std::uint32_t link,
                         std::uint32_t latency_ms = 0, bool receipts = false);

// What a link's stream id says: nullopt when it is not an adaptive link (no bcs/bcl),
// an error text when bcs, bcl or bclat is present but malformed.
struct LinkIdentity {
  std::uint32_t session = 0;
  std::uint32_t link = 0;
  std::uint32_t latency_ms = 0;  // 0: not given
  bool receipts = false;         // bcr=1: the sender reads receipts
};
struct LinkIdentityResult {
  std::optional<LinkIdentity> identity;
  std::string error;  // non-empty: the stream id claims to be a link but is malformed
};
LinkIdentityResult parseLinkStreamId(std::string_view stream_id);

// A receipt: what the receiver of a session holds, sent back on each of its links every
// 10 ms so that the sender re-sends only what did not arrive (SRT acknowledges a link's
// packets up to its first gap only, and not at all what arrived on another link).
// Big-endian; kReceiptHeaderBytes, then the bitmap:
//
//    0        1        2        3        4        5        6        7
//  +--------+--------+--------+--------+--------+--------+--------+--------+
//  |  'B'   |  'R'   |version |reserved|            session id             |
//  +--------+--------+--------+--------+--------+--------+--------+--------+
//  |       below: every sequence number below it was played out or given up   |
//  +--------+--------+-----------------------------------------------------+
//  |  bits (u16)     |  bitmap, bits / 8 bytes: bit i (most significant bit
//  +--------+--------+  first) set when below + i has arrived and waits to play out
//
// bits is a multiple of 8, at most kMaxReceiptBits, and the packet is exactly as long as
// it says. The reserved byte is sent as 0 and ignored.
inline constexpr std::size_t kReceiptHeaderBytes = 18;
inline constexpr std::uint32_t kMaxReceiptBits = 8192;  // 1042 bytes in all

struct Receipt {
  std::uint32_t session = 0;
  std::uint64_t below = 0;
  // Sequence numbers from `below` on that have arrived, ascending.
  std::vector<std::uint64_t> received;
};

// Writes `receipt` into `out` (replacing what it held). Sequence numbers below `below` or
// kMaxReceiptBits or more beyond it are left out; the bitmap ends at the last one kept.
void encodeReceipt(const Receipt& receipt, std::vector<std::uint8_t>& out);

enum class ReceiptError : std::uint8_t { kTooShort, kBadMagic, kBadVersion, kBadLength };
std::string_view toString(ReceiptError e);

struct ReceiptResult {
  std::optional<Receipt> receipt;
  ReceiptError error = ReceiptError::kTooShort;  // meaningful when !receipt
};
ReceiptResult parseReceipt(std::span<const std::uint8_t> packet);

}  // namespace bondcast::wire
