// SPDX-License-Identifier: MPL-2.0
#include "sender/packetizer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace bondcast::sender {
namespace {

std::vector<std::uint8_t> tsPackets(int n, std::uint8_t first_tag = 0) {
  std::vector<std::uint8_t> out;
  for (int i = 0; i < n; ++i) {
    std::vector<std::uint8_t> p(kTsPacketBytes, static_cast<std::uint8_t>(first_tag + i));
    p[0] = 0x47;
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::vector<std::uint8_t> concat(const std::vector<std::vector<std::uint8_t>>& parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(Packetizer, CutsSevenPacketPayloadsFromArbitraryChunks) {
  auto stream = tsPackets(30);
  Packetizer pk;
  std::vector<std::vector<std::uint8_t>> out;
  std::mt19937 rng(7);
  for (std::size_t pos = 0; pos < stream.size();) {
    std::size_t n = std::min<std::size_t>(stream.size() - pos, 1 + rng() % 700);
    for (auto& p : pk.push({stream.data() + pos, n}))
      out.push_back(std::move(p));
    pos += n;
  }
  ASSERT_EQ(out.size(), 4u);  // 28 packets
  for (const auto& p : out)
    EXPECT_EQ(p.size(), kPayloadBytes);
  auto last = pk.flush();
  EXPECT_EQ(last.size(), 2 * kTsPacketBytes);
  out.push_back(last);
  EXPECT_EQ(concat(out), stream);
  EXPECT_EQ(pk.discardedBytes(), 0u);
}

TEST(Packetizer, DatagramOf1316IsOnePayloadAtOnce) {
  Packetizer pk;
  auto d = tsPackets(7);
  auto out = pk.push(d);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], d);
}

TEST(Packetizer, ResynchronisesAfterGarbage) {
  auto good1 = tsPackets(7, 1);
  auto good2 = tsPackets(7, 50);
  std::vector<std::uint8_t> stream = good1;
  std::vector<std::uint8_t> junk = {0x00, 0x47, 0x12, 0x47, 0x99};
  stream.insert(stream.end(), junk.begin(), junk.end());
  stream.insert(stream.end(), good2.begin(), good2.end());
  Packetizer pk;
  auto out = pk.push(stream);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], good1);
  EXPECT_EQ(out[1], good2);
  EXPECT_EQ(pk.discardedBytes(), junk.size());
}

TEST(Packetizer, FlushDropsAPartialPacket) {
  Packetizer pk;
  auto d = tsPackets(2);
  d.resize(d.size() + 50, 0x11);
  (void)pk.push(d);
  EXPECT_EQ(pk.flush().size(), 2 * kTsPacketBytes);
  EXPECT_EQ(pk.discardedBytes(), 50u);
}

}  // namespace
}  // namespace bondcast::sender
