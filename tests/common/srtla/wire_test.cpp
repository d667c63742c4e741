// SPDX-License-Identifier: MPL-2.0
// SRTLA datagrams (common/srtla/wire.h): every type the reference protocol defines, the
// padding senders behind carrier NATs add, and what is refused.
#include "common/srtla/wire.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace bondcast::srtla {
namespace {

std::vector<std::uint8_t> padded(std::vector<std::uint8_t> p, std::size_t to) {
  p.resize(std::max(p.size(), to), 0);
  return p;
}

TEST(SrtlaWire, RegistrationPacketsCarryTheirGroupIdAndAreExactly258Bytes) {
  GroupId id{};
  for (std::size_t i = 0; i < id.size(); ++i)
    id[i] = static_cast<std::uint8_t>(i * 7);
  for (auto [bytes, kind] : {std::pair{reg1(id), Kind::kReg1}, std::pair{reg2(id), Kind::kReg2}}) {
    ASSERT_EQ(bytes.size(), 258u);
    EXPECT_EQ(bytes[0], 0x92);
    const ParseResult r = parse(bytes);
    ASSERT_TRUE(r.packet) << toString(r.error);
    EXPECT_EQ(r.packet->kind, kind);
    EXPECT_EQ(r.packet->group, id);
    // One byte more or less is not a registration.
    auto longer = bytes;
    longer.push_back(0);
    EXPECT_EQ(parse(longer).error, Error::kBadLength);
    auto shorter = bytes;
    shorter.pop_back();
    EXPECT_FALSE(parse(shorter).packet);
  }
}

TEST(SrtlaWire, ShortControlPacketsAreTakenPaddedTo32Bytes) {
  for (auto [type, kind] : {std::pair{kReg3, Kind::kReg3}, std::pair{kRegErr, Kind::kRegErr},
                            std::pair{kRegNgp, Kind::kRegNgp}, std::pair{kRegNak, Kind::kRegNak},
                            std::pair{kKeepalive, Kind::kKeepalive}}) {
    for (std::size_t size : {2u, 32u}) {
      const ParseResult r = parse(padded(control(type), size));
      ASSERT_TRUE(r.packet) << type << " " << size;
      EXPECT_EQ(r.packet->kind, kind) << toString(kind);
    }
  }
  EXPECT_EQ(control(kReg3), (std::vector<std::uint8_t>{0x92, 0x02}));
}

TEST(SrtlaWire, AKeepaliveCarriesItsTimestampWhenItHasOne) {
  const auto k = keepalive(0x0102030405060708ULL);
  ASSERT_EQ(k.size(), 10u);
  ParseResult r = parse(k);
  ASSERT_TRUE(r.packet && r.packet->ms);
  EXPECT_EQ(*r.packet->ms, 0x0102030405060708ULL);
  r = parse(padded(k, 32));
  ASSERT_TRUE(r.packet && r.packet->ms);
  EXPECT_EQ(*r.packet->ms, 0x0102030405060708ULL);
  // The reference's 2-byte keepalive, bare or padded with zeros, has none.
  for (std::size_t size : {2u, 32u}) {
    r = parse(padded(control(kKeepalive), size));
    ASSERT_TRUE(r.packet);
    EXPECT_FALSE(r.packet->ms) << size;
  }
}

TEST(SrtlaWire, AnAckListsTenSequenceNumbers) {
  std::array<std::uint32_t, kAckSeqs> seqs{};
  for (std::size_t i = 0; i < seqs.size(); ++i)
    seqs[i] = 0x7FFFFFF0u + static_cast<std::uint32_t>(i);
  const auto a = ack(seqs);
  ASSERT_EQ(a.size(), 44u);
  EXPECT_EQ(a[0], 0x91);
  EXPECT_EQ(a[1], 0x00);
  EXPECT_EQ(a[2], 0x00);
  EXPECT_EQ(a[3], 0x00);
  const ParseResult r = parse(a);
  ASSERT_TRUE(r.packet);
  EXPECT_EQ(r.packet->acked, std::vector<std::uint32_t>(seqs.begin(), seqs.end()));
  EXPECT_EQ(parse(std::span(a).first(43)).error, Error::kBadLength);
}

TEST(SrtlaWire, SrtPacketsPassWithTheirSequenceNumber) {
  std::vector<std::uint8_t> data(1316 + 16, 0xAB);
  data[0] = 0x12;
  data[1] = 0x34;
  data[2] = 0x56;
  data[3] = 0x78;
  ParseResult r = parse(data);
  ASSERT_TRUE(r.packet);
  EXPECT_EQ(r.packet->kind, Kind::kSrtData);
  EXPECT_EQ(r.packet->srt_seq, 0x12345678u);
  std::vector<std::uint8_t> handshake(64, 0);
  handshake[0] = 0x80;  // control, type 0 (handshake)
  r = parse(handshake);
  ASSERT_TRUE(r.packet);
  EXPECT_EQ(r.packet->kind, Kind::kSrtControl);
  // An SRT packet shorter than SRT's header is malformed.
  EXPECT_EQ(parse(std::span(data).first(15)).error, Error::kTooShort);
  EXPECT_EQ(parse(std::span(handshake).first(15)).error, Error::kTooShort);
}

TEST(SrtlaWire, NothingAndUnknownTypesAreRefused) {
  EXPECT_EQ(parse({}).error, Error::kTooShort);
  const std::vector<std::uint8_t> one = {0x90};
  EXPECT_EQ(parse(one).error, Error::kTooShort);
  EXPECT_EQ(parse(padded({0x93, 0x00}, 32)).error, Error::kUnknownSrtlaType);
  EXPECT_EQ(toString(Error::kUnknownSrtlaType), "unknown SRTLA type");
}

}  // namespace
}  // namespace bondcast::srtla
