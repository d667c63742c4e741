// SPDX-License-Identifier: MPL-2.0
#include "common/srtla/wire.h"

#include <algorithm>

namespace bondcast::srtla {
namespace {

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}

ParseResult fail(Error e) {
  ParseResult r;
  r.error = e;
  return r;
}

ParseResult ok(Packet p) {
  ParseResult r;
  r.packet = std::move(p);
  return r;
}

std::vector<std::uint8_t> withGroup(std::uint16_t type, const GroupId& id) {
  std::vector<std::uint8_t> out;
  out.reserve(kRegBytes);
  put16(out, type);
  out.insert(out.end(), id.begin(), id.end());
  return out;
}

}  // namespace

std::string_view toString(Kind k) {
  switch (k) {
    case Kind::kSrtData:
      return "SRT data";
    case Kind::kSrtControl:
      return "SRT control";
    case Kind::kKeepalive:
      return "KEEPALIVE";
    case Kind::kAck:
      return "ACK";
    case Kind::kReg1:
      return "REG1";
    case Kind::kReg2:
      return "REG2";
    case Kind::kReg3:
      return "REG3";
    case Kind::kRegErr:
      return "REG_ERR";
    case Kind::kRegNgp:
      return "REG_NGP";
    case Kind::kRegNak:
      return "REG_NAK";
  }
  return "?";
}

std::string_view toString(Error e) {
  switch (e) {
    case Error::kTooShort:
      return "too short";
    case Error::kBadLength:
      return "wrong length for its type";
    case Error::kUnknownSrtlaType:
      return "unknown SRTLA type";
  }
  return "?";
}

ParseResult parse(std::span<const std::uint8_t> d) {
  if (d.size() < 2)
    return fail(Error::kTooShort);
  Packet p;
  if ((d[0] & 0x80) == 0) {  // SRT data
    if (d.size() < kSrtHeaderBytes)
      return fail(Error::kTooShort);
    p.kind = Kind::kSrtData;
    p.srt_seq = be32(d, 0) & 0x7FFFFFFF;
    return ok(std::move(p));
  }
  const std::uint16_t type = be16(d, 0);
  if (type < 0x9000 || type > 0x9FFF) {  // one of SRT's own control types
    if (d.size() < kSrtHeaderBytes)
      return fail(Error::kTooShort);
    p.kind = Kind::kSrtControl;
    return ok(std::move(p));
  }
  switch (type) {
    case kKeepalive:
      p.kind = Kind::kKeepalive;
      if (d.size() >= kKeepaliveTimestampBytes) {
        std::uint64_t ms = 0;
        for (std::size_t i = 2; i < kKeepaliveTimestampBytes; ++i)
          ms = (ms << 8) | d[i];
        if (ms != 0)  // a 2-byte keepalive padded with zeros carries none
          p.ms = ms;
      }
      return ok(std::move(p));
    case kAck:
      if (d.size() < kAckBytes)
        return fail(Error::kBadLength);
      p.kind = Kind::kAck;
      for (std::size_t i = 0; i < kAckSeqs; ++i)
        p.acked.push_back(be32(d, 4 + 4 * i));
      return ok(std::move(p));
    case kReg1:
    case kReg2:
      if (d.size() != kRegBytes)
        return fail(Error::kBadLength);
      p.kind = type == kReg1 ? Kind::kReg1 : Kind::kReg2;
      std::copy(d.begin() + 2, d.end(), p.group.begin());
      return ok(std::move(p));
    case kReg3:
      p.kind = Kind::kReg3;
      return ok(std::move(p));
    case kRegErr:
      p.kind = Kind::kRegErr;
      return ok(std::move(p));
    case kRegNgp:
      p.kind = Kind::kRegNgp;
      return ok(std::move(p));
    case kRegNak:
      p.kind = Kind::kRegNak;
      return ok(std::move(p));
    default:
      return fail(Error::kUnknownSrtlaType);
  }
}

std::vector<std::uint8_t> reg1(const GroupId& id) {
  return withGroup(kReg1, id);
}

std::vector<std::uint8_t> reg2(const GroupId& id) {
  return withGroup(kReg2, id);
}

std::vector<std::uint8_t> control(std::uint16_t type) {
  std::vector<std::uint8_t> out;
  put16(out, type);
  return out;
}

std::vector<std::uint8_t> keepalive(std::uint64_t ms) {
  std::vector<std::uint8_t> out;
  out.reserve(kKeepaliveTimestampBytes);
  put16(out, kKeepalive);
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(ms >> shift));
  return out;
}

std::vector<std::uint8_t> ack(std::span<const std::uint32_t, kAckSeqs> seqs) {
  std::vector<std::uint8_t> out;
  out.reserve(kAckBytes);
  put16(out, kAck);
  put16(out, 0);
  for (std::uint32_t s : seqs)
    put32(out, s);
  return out;
}

}  // namespace bondcast::srtla
