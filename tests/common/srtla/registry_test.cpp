// SPDX-License-Identifier: MPL-2.0
// The SRTLA receiver's groups and links (common/srtla/registry.h): registration as SRTLA
// senders do it, the limits, floods and timeouts, with a fake clock and a seeded id source.
#include "common/srtla/registry.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace bondcast::srtla {
namespace {

using namespace std::chrono_literals;

Kind kindOf(const std::vector<std::uint8_t>& answer) {
  const ParseResult r = parse(answer);
  EXPECT_TRUE(r.packet);
  return r.packet ? r.packet->kind : Kind::kSrtData;
}

class SrtlaRegistry : public ::testing::Test {
 protected:
  SrtlaRegistry()
      : registry_([this](std::span<std::uint8_t> out) {
          for (auto& b : out)
            b = static_cast<std::uint8_t>(rng_());
        }) {}

  GroupId senderId(std::uint8_t fill) {
    GroupId id{};
    id.fill(fill);
    return id;
  }

  // REG1 from `first`, then REG2(full id) from every link: the group's full id.
  GroupId registerGroup(const std::vector<std::string>& links, std::uint8_t fill = 0x5A) {
    const auto answer = registry_.onReg1(links.front(), senderId(fill), now_);
    const ParseResult r = parse(answer);
    EXPECT_TRUE(r.packet && r.packet->kind == Kind::kReg2);
    for (const auto& l : links)
      EXPECT_EQ(kindOf(registry_.onReg2(l, r.packet->group, now_)), Kind::kReg3) << l;
    return r.packet->group;
  }

  std::mt19937 rng_{7};
  Registry registry_;
  Registry::TimePoint now_{};
};

TEST_F(SrtlaRegistry, AGroupKeepsTheSendersHalfOfTheIdAndTakesEveryLink) {
  const GroupId id = registerGroup({"a:1", "b:1", "c:1"});
  const GroupId mine = senderId(0x5A);
  EXPECT_TRUE(std::equal(id.begin(), id.begin() + 128, mine.begin()));
  EXPECT_FALSE(std::equal(id.begin() + 128, id.end(), mine.begin() + 128));
  ASSERT_EQ(registry_.groups().size(), 1u);
  EXPECT_EQ(registry_.groups().begin()->second.links.size(), 3u);
  const auto* g = registry_.onTraffic("b:1", 1332, now_);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->id, id);
  EXPECT_EQ(g->links[1].packets, 1u);
  EXPECT_EQ(g->links[1].bytes, 1332u);
  // Registering a link again is answered again.
  EXPECT_EQ(kindOf(registry_.onReg2("b:1", id, now_)), Kind::kReg3);
  EXPECT_EQ(registry_.groups().begin()->second.links.size(), 3u);
}

TEST_F(SrtlaRegistry, AProbeForAnUnknownGroupGetsNoGroupAndChangesNothing) {
  EXPECT_EQ(kindOf(registry_.onReg2("a:1", senderId(1), now_)), Kind::kRegNgp);
  EXPECT_TRUE(registry_.groups().empty());
  EXPECT_EQ(registry_.counters().unknown_group, 1u);
  EXPECT_EQ(registry_.onTraffic("a:1", 100, now_), nullptr);
  EXPECT_EQ(registry_.counters().unregistered, 1u);
}

TEST_F(SrtlaRegistry, AnAddressBelongsToOneGroup) {
  registerGroup({"a:1"}, 1);
  const GroupId other = registerGroup({"b:1"}, 2);
  EXPECT_EQ(kindOf(registry_.onReg2("a:1", other, now_)), Kind::kRegErr);
  EXPECT_EQ(kindOf(registry_.onReg1("a:1", senderId(3), now_)), Kind::kRegErr);
  EXPECT_EQ(registry_.counters().refused_other_group, 2u);
}

TEST_F(SrtlaRegistry, LimitsHoldLinksPerGroupAndGroups) {
  std::vector<std::string> links;
  for (int i = 0; i < 8; ++i)
    links.push_back("l:" + std::to_string(i));
  const GroupId id = registerGroup(links);
  EXPECT_EQ(kindOf(registry_.onReg2("l:8", id, now_)), Kind::kRegErr);
  EXPECT_EQ(registry_.counters().refused_link_limit, 1u);

  // A REG1 flood from thousands of source ports: never more than 200 groups.
  for (int port = 0; port < 5000; ++port)
    (void)registry_.onReg1("flood:" + std::to_string(port), senderId(9), now_);
  EXPECT_EQ(registry_.groups().size(), Registry::kMaxGroups);
  EXPECT_EQ(registry_.counters().refused_group_limit, 5000u - (Registry::kMaxGroups - 1));
  // The running group is unharmed, and the flood's groups (no link) go after 4 s.
  EXPECT_NE(registry_.onTraffic("l:3", 100, now_ + 3s), nullptr);
  now_ += 5s;
  const auto gone = registry_.expire(now_);
  EXPECT_EQ(gone.size(), Registry::kMaxGroups - 1);
  ASSERT_EQ(registry_.groups().size(), 1u);
  EXPECT_EQ(registry_.groups().begin()->second.id, id);
}

TEST_F(SrtlaRegistry, AskingAgainReplacesTheGroupASenderMadeBefore) {
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(kindOf(registry_.onReg1("a:1", senderId(1), now_)), Kind::kReg2);
  EXPECT_EQ(registry_.groups().size(), 1u);
}

TEST_F(SrtlaRegistry, SilentLinksGoAfter10SecondsAndTheGroupWithItsLast) {
  registerGroup({"a:1", "b:1"});
  now_ += 6s;
  (void)registry_.onTraffic("a:1", 100, now_);
  now_ += 5s;  // b silent 11 s, a 5 s
  EXPECT_TRUE(registry_.expire(now_).empty());
  ASSERT_EQ(registry_.groups().size(), 1u);
  EXPECT_EQ(registry_.groups().begin()->second.links.size(), 1u);
  EXPECT_EQ(registry_.onTraffic("b:1", 100, now_), nullptr);
  now_ += 11s;
  const auto gone = registry_.expire(now_);
  EXPECT_EQ(gone.size(), 1u);
  EXPECT_TRUE(registry_.groups().empty());
  EXPECT_EQ(registry_.counters().links_timed_out, 2u);
  // Its address may register anew.
  registerGroup({"a:1"});
  EXPECT_EQ(registry_.groups().begin()->second.number, 2u);
}

}  // namespace
}  // namespace bondcast::srtla
