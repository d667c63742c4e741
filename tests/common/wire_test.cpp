// SPDX-License-Identifier: MPL-2.0
#include "common/wire.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#if BONDCAST_TEST_RECEIVER_NAMES
#include "receiver/output.h"
#endif

namespace bondcast::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes packetOf(const Header& header, const Bytes& payload) {
  const auto head = encode(header);
  Bytes out(head.begin(), head.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// --- header ---------------------------------------------------------------------------

TEST(WireHeader, WritesTheDocumentedBigEndianLayout) {
  Header h;
  h.flags = kFlagKeyframe | kFlagDuplicate;  // 0x05
  h.session = 0x01020304;
  h.seq = 0x1122334455667788;
  h.source_time_us = 0x0A0B0C0D0E0F1011;
  const std::array<std::uint8_t, kHeaderBytes> expected = {
      0x42, 0x43, 0x01, 0x05,                          // 'B' 'C' version flags
      0x01, 0x02, 0x03, 0x04,                          // session
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // sequence number
      0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11,  // source time
  };
  EXPECT_EQ(encode(h), expected);
}

TEST(WireHeader, EncodeIntoASpanWritesOnlyTheFirst24Bytes) {
  Header h;
  h.seq = 7;
  std::array<std::uint8_t, kHeaderBytes + 4> buf;
  buf.fill(0xEE);
  encode(h, std::span<std::uint8_t, kHeaderBytes>(buf.data(), kHeaderBytes));
  EXPECT_EQ(buf[0], 'B');
  EXPECT_EQ(buf[15], 7);
  for (std::size_t i = kHeaderBytes; i < buf.size(); ++i)
    EXPECT_EQ(buf[i], 0xEE) << "byte " << i;
}

TEST(WireHeader, RoundTripsEveryFieldIncludingMaximumValues) {
  for (const Header& h : {Header{kVersion, 0, 0, 0, 0},
                          Header{kVersion, 0xFF, std::numeric_limits<std::uint32_t>::max(),
                                 std::numeric_limits<std::uint64_t>::max(),
                                 std::numeric_limits<std::uint64_t>::max()},
                          Header{kVersion, kFlagResent | kFlagAudio, 0x80000001, 0x8000000000000001,
                                 1'700'000'000'000'000}}) {
    const auto bytes = encode(h);
    const ParseResult r = parse(bytes);
    ASSERT_TRUE(r.parsed.has_value()) << toString(r.error);
    EXPECT_EQ(r.parsed->header.version, h.version);
    EXPECT_EQ(r.parsed->header.flags, h.flags);
    EXPECT_EQ(r.parsed->header.session, h.session);
    EXPECT_EQ(r.parsed->header.seq, h.seq);
    EXPECT_EQ(r.parsed->header.source_time_us, h.source_time_us);
    EXPECT_TRUE(r.parsed->payload.empty());
  }
}

TEST(WireHeader, ParseGivesThePayloadAfterTheHeader) {
  Header h;
  h.seq = 42;
  const Bytes payload = {0x47, 0x00, 0x11, 0x10, 0xAB};
  const Bytes packet = packetOf(h, payload);
  const ParseResult r = parse(packet);
  ASSERT_TRUE(r.parsed.has_value());
  EXPECT_EQ(r.parsed->payload.data(), packet.data() + kHeaderBytes);
  EXPECT_EQ(Bytes(r.parsed->payload.begin(), r.parsed->payload.end()), payload);
}

TEST(WireHeader, RefusesAPacketShorterThanTheHeader) {
  const auto full = encode(Header{});
  const ParseResult empty = parse(std::span<const std::uint8_t>{});
  EXPECT_FALSE(empty.parsed.has_value());
  EXPECT_EQ(empty.error, HeaderError::kTooShort);
  const ParseResult short_by_one = parse(std::span(full.data(), kHeaderBytes - 1));
  EXPECT_FALSE(short_by_one.parsed.has_value());
  EXPECT_EQ(short_by_one.error, HeaderError::kTooShort);
  EXPECT_TRUE(parse(std::span(full.data(), kHeaderBytes)).parsed.has_value());
}

TEST(WireHeader, RefusesABadMagic) {
  for (std::size_t at : {0u, 1u}) {
    auto bytes = encode(Header{});
    bytes[at] ^= 0x20;  // 'b' / 'c': case matters
    const ParseResult r = parse(bytes);
    EXPECT_FALSE(r.parsed.has_value());
    EXPECT_EQ(r.error, HeaderError::kBadMagic) << "byte " << at;
  }
  // A raw MPEG-TS packet is not a bondcast header.
  Bytes ts(188, 0xFF);
  ts[0] = 0x47;
  EXPECT_EQ(parse(ts).error, HeaderError::kBadMagic);
}

TEST(WireHeader, RefusesAnUnknownVersion) {
  for (std::uint8_t version : {0, 2, 255}) {
    Header h;
    h.version = version;
    const ParseResult r = parse(encode(h));
    EXPECT_FALSE(r.parsed.has_value());
    EXPECT_EQ(r.error, HeaderError::kBadVersion) << int{version};
  }
}

TEST(WireHeader, NamesEachError) {
  EXPECT_EQ(toString(HeaderError::kTooShort), "too short");
  EXPECT_EQ(toString(HeaderError::kBadMagic), "not a bondcast header");
  EXPECT_EQ(toString(HeaderError::kBadVersion), "unsupported version");
}

// --- link stream id -------------------------------------------------------------------

TEST(LinkStreamId, ForAnEmptyUserStreamHasOnlyTheBondcastKeys) {
  EXPECT_EQ(linkStreamId("", 0xDEADBEEF, 2), "#!::bcs=deadbeef,bcl=2");
}

TEST(LinkStreamId, ForAPlainNameMakesItTheResource) {
  EXPECT_EQ(linkStreamId("cam1", 0x2A, 0), "#!::r=cam1,bcs=0000002a,bcl=0");
}

TEST(LinkStreamId, ForAnAccessControlFormAppendsTheKeys) {
  EXPECT_EQ(linkStreamId("#!::r=cam1,m=publish", 0x01234567, 255),
            "#!::r=cam1,m=publish,bcs=01234567,bcl=255");
  EXPECT_EQ(linkStreamId("#!::", 1, 1), "#!::bcs=00000001,bcl=1");
}

TEST(LinkStreamId, RoundTripsThroughParse) {
  for (const char* user : {"", "cam1", "#!::r=cam1,m=publish"}) {
    for (std::uint32_t link : {0u, 7u, 255u}) {
      const std::string id = linkStreamId(user, 0xFFFFFFFF, link);
      const LinkIdentityResult r = parseLinkStreamId(id);
      ASSERT_TRUE(r.identity.has_value()) << id << ": " << r.error;
      EXPECT_TRUE(r.error.empty());
      EXPECT_EQ(r.identity->session, 0xFFFFFFFFu) << id;
      EXPECT_EQ(r.identity->link, link) << id;
    }
  }
}

TEST(ParseLinkStreamId, SaysNothingAboutAStreamIdThatIsNotALink) {
  for (const char* id : {"", "cam1", "#!::r=cam1,m=publish", "bcs=01234567,bcl=1",
                         "#!::r=cam1,bcsx=01234567,xbcl=1"}) {
    const LinkIdentityResult r = parseLinkStreamId(id);
    EXPECT_FALSE(r.identity.has_value()) << id;
    EXPECT_TRUE(r.error.empty()) << id << ": " << r.error;
  }
}

TEST(ParseLinkStreamId, ReadsSessionAndLinkInAnyOrder) {
  const LinkIdentityResult r = parseLinkStreamId("#!::bcl=3,m=publish,bcs=00ABCDef,r=cam1");
  ASSERT_TRUE(r.identity.has_value()) << r.error;
  EXPECT_EQ(r.identity->session, 0x00ABCDEFu);
  EXPECT_EQ(r.identity->link, 3u);
}

// Each malformed id must be refused with an error that names the key and its value.
struct Malformed {
  const char* stream_id;
  const char* error_mentions;
};

// The stream id is refused with an error naming the bad field and the accepted form.
void expectRefused(const Malformed& m, const char* accepted) {
  const LinkIdentityResult r = parseLinkStreamId(m.stream_id);
  EXPECT_FALSE(r.identity.has_value()) << m.stream_id;
  EXPECT_NE(r.error.find(m.error_mentions), std::string::npos)
      << m.stream_id << " -> \"" << r.error << "\"";
  EXPECT_NE(r.error.find(accepted), std::string::npos) << r.error;
}

TEST(ParseLinkStreamId, RefusesAMalformedSessionNamingIt) {
  for (const Malformed& m : {Malformed{"#!::r=cam1,bcs=1234567,bcl=1", "bcs='1234567'"},
                             Malformed{"#!::r=cam1,bcs=123456789,bcl=1", "bcs='123456789'"},
                             Malformed{"#!::r=cam1,bcs=1234567g,bcl=1", "bcs='1234567g'"},
                             Malformed{"#!::r=cam1,bcs=0x123456,bcl=1", "bcs='0x123456'"},
                             Malformed{"#!::r=cam1,bcs=-1234567,bcl=1", "bcs='-1234567'"},
                             Malformed{"#!::r=cam1,bcs=,bcl=1", "bcs=''"}}) {
    expectRefused(m, "8 hex digits");
  }
}

TEST(ParseLinkStreamId, RefusesALinkIndexOutOfRangeOrNotANumber) {
  for (const Malformed& m :
       {Malformed{"#!::r=cam1,bcs=01234567,bcl=256", "bcl='256'"},
        Malformed{"#!::r=cam1,bcs=01234567,bcl=99999999999", "bcl='99999999999'"},
        Malformed{"#!::r=cam1,bcs=01234567,bcl=one", "bcl='one'"},
        Malformed{"#!::r=cam1,bcs=01234567,bcl=1a", "bcl='1a'"},
        Malformed{"#!::r=cam1,bcs=01234567,bcl=-1", "bcl='-1'"},
        Malformed{"#!::r=cam1,bcs=01234567,bcl=", "bcl=''"}}) {
    expectRefused(m, "0-255");
  }
  const LinkIdentityResult top = parseLinkStreamId("#!::r=cam1,bcs=01234567,bcl=255");
  ASSERT_TRUE(top.identity.has_value()) << top.error;
  EXPECT_EQ(top.identity->link, 255u);
}

TEST(LinkStreamId, SaysWhetherTheSenderReadsReceipts) {
  const std::string id = linkStreamId("cam1", 0x0A, 2, 300, true);
  EXPECT_EQ(id, "#!::r=cam1,bcs=0000000a,bcl=2,bclat=300,bcr=1");
  const LinkIdentityResult r = parseLinkStreamId(id);
  ASSERT_TRUE(r.identity.has_value()) << r.error;
  EXPECT_TRUE(r.identity->receipts);
  EXPECT_EQ(r.identity->latency_ms, 300u);
  EXPECT_FALSE(parseLinkStreamId(linkStreamId("cam1", 0x0A, 2, 300)).identity->receipts);
  const LinkIdentityResult bad = parseLinkStreamId("#!::bcs=0000000a,bcl=2,bcr=yes");
  EXPECT_FALSE(bad.identity.has_value());
  EXPECT_NE(bad.error.find("bcr='yes'"), std::string::npos) << bad.error;
}

TEST(ParseLinkStreamId, RefusesAStreamIdWithOnlyOneOfTheTwoKeys) {
  for (const char* id : {"#!::r=cam1,bcs=01234567", "#!::r=cam1,bcl=1"}) {
    const LinkIdentityResult r = parseLinkStreamId(id);
    EXPECT_FALSE(r.identity.has_value()) << id;
    EXPECT_NE(r.error.find("only one of bcs= and bcl="), std::string::npos)
        << id << " -> \"" << r.error << "\"";
  }
}

// --- receipt ----------------------------------------------------------------------------

TEST(WireReceipt, WritesTheDocumentedLayout) {
  Receipt r;
  r.session = 0x01020304;
  r.below = 0x1122334455667788;
  r.received = {r.below, r.below + 9, r.below + 15};
  Bytes out;
  encodeReceipt(r, out);
  const Bytes expected = {
      0x42, 0x52, 0x01, 0x00,                          // 'B' 'R' version reserved
      0x01, 0x02, 0x03, 0x04,                          // session
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // below
      0x00, 0x10,                                      // 16 bits
      0x80, 0x41,                                      // below + 0; below + 9, + 15
  };
  EXPECT_EQ(out, expected);
}

TEST(WireReceipt, RoundTripsAndLeavesOutWhatIsOutOfRange) {
  Receipt r;
  r.session = 7;
  r.below = 1000;
  r.received = {999, 1000, 1001, 1000 + kMaxReceiptBits - 1, 1000 + kMaxReceiptBits};
  Bytes out;
  encodeReceipt(r, out);
  EXPECT_EQ(out.size(), kReceiptHeaderBytes + kMaxReceiptBits / 8);
  const ReceiptResult back = parseReceipt(out);
  ASSERT_TRUE(back.receipt.has_value()) << toString(back.error);
  EXPECT_EQ(back.receipt->session, 7u);
  EXPECT_EQ(back.receipt->below, 1000u);
  EXPECT_EQ(back.receipt->received,
            (std::vector<std::uint64_t>{1000, 1001, 1000 + kMaxReceiptBits - 1}));
  // Nothing waiting: the header alone.
  r.received.clear();
  encodeReceipt(r, out);
  EXPECT_EQ(out.size(), kReceiptHeaderBytes);
  const ReceiptResult empty = parseReceipt(out);
  ASSERT_TRUE(empty.receipt.has_value());
  EXPECT_TRUE(empty.receipt->received.empty());
}

TEST(WireReceipt, RefusesWhatIsNotAWholeReceiptNamingWhy) {
  Receipt r;
  r.below = 5;
  r.received = {5, 20};
  Bytes good;
  encodeReceipt(r, good);
  ASSERT_TRUE(parseReceipt(good).receipt.has_value());
  auto refused = [](const Bytes& b) {
    const ReceiptResult res = parseReceipt(b);
    EXPECT_FALSE(res.receipt.has_value());
    return res.error;
  };
  EXPECT_EQ(refused(Bytes(good.begin(), good.begin() + 17)), ReceiptError::kTooShort);
  Bytes header = good;
  header[1] = 'C';  // a data packet's header
  EXPECT_EQ(refused(header), ReceiptError::kBadMagic);
  Bytes version = good;
  version[2] = 2;
  EXPECT_EQ(refused(version), ReceiptError::kBadVersion);
  EXPECT_EQ(refused(Bytes(good.begin(), good.end() - 1)), ReceiptError::kBadLength);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(refused(longer), ReceiptError::kBadLength);
  Bytes odd = good;
  odd[17] = 12;  // not a multiple of 8
  EXPECT_EQ(refused(odd), ReceiptError::kBadLength);
  // A bitmap running past the last sequence number.
  Receipt top;
  top.below = std::numeric_limits<std::uint64_t>::max() - 3;
  top.received = {top.below};
  Bytes wraps;
  encodeReceipt(top, wraps);
  EXPECT_EQ(refused(wraps), ReceiptError::kBadLength);
  for (ReceiptError e : {ReceiptError::kTooShort, ReceiptError::kBadMagic,
                         ReceiptError::kBadVersion, ReceiptError::kBadLength}) {
    EXPECT_FALSE(toString(e).empty());
  }
}

#if BONDCAST_TEST_RECEIVER_NAMES
// The receiver names its output after the user's stream, not after the link.
TEST(LinkStreamId, KeepsTheNameTheReceiverGivesTheStream) {
  using receiver::streamName;
  EXPECT_EQ(streamName(linkStreamId("cam1", 0xDEADBEEF, 0)), "cam1");
  EXPECT_EQ(streamName(linkStreamId("#!::r=cam1,m=publish", 0xDEADBEEF, 3)), "cam1");
  EXPECT_EQ(streamName(linkStreamId("", 0xDEADBEEF, 1)), streamName(""));
}
#endif

}  // namespace
}  // namespace bondcast::wire
