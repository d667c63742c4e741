// SPDX-License-Identifier: MPL-2.0
// `bondcast recv --allow-stream NAME[=PASSPHRASE]` (receiver/allow_list.h): what an entry
// gives, what is refused as a usage error, and that no message shows a passphrase.
#include "receiver/allow_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "receiver/output.h"

namespace bondcast::receiver {
namespace {

// The error of parsing `texts`, or "" if they parse.
std::string errorOf(const std::vector<std::string>& texts) {
  auto list = AllowList::parse(texts);
  return list ? "" : list.error().message;
}

TEST(AllowedStream, ANameAloneUsesThePortsPassphrase) {
  auto s = parseAllowedStream("cam2");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "cam2");
  EXPECT_EQ(s->passphrase, "");
}

TEST(AllowedStream, TheFirstEqualsSignSeparatesTheNameFromItsPassphrase) {
  auto s = parseAllowedStream("cam1=first=secret-xyz");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "cam1");
  EXPECT_EQ(s->passphrase, "first=secret-xyz");
  auto dotted = parseAllowedStream("studio-2.cam_1=0123456789");
  ASSERT_TRUE(dotted) << dotted.error().message;
  EXPECT_EQ(dotted->name, "studio-2.cam_1");
}

TEST(AllowedStream, APassphraseOutsideTenToSeventyNineCharactersIsRefusedUnshown) {
  for (const std::string& passphrase :
       std::vector<std::string>{"", "short", "123456789", std::string(80, 'p')}) {
    SCOPED_TRACE("passphrase of " + std::to_string(passphrase.size()));
    auto s = parseAllowedStream("cam1=" + passphrase);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("allow-stream 'cam1=***'"), std::string::npos)
        << s.error().message;
    EXPECT_NE(s.error().message.find("10 to 79 characters"), std::string::npos);
    if (!passphrase.empty()) {
      EXPECT_EQ(s.error().message.find(passphrase), std::string::npos) << s.error().message;
    }
  }
  EXPECT_TRUE(parseAllowedStream("cam1=" + std::string(10, 'p')));
  EXPECT_TRUE(parseAllowedStream("cam1=" + std::string(79, 'p')));
}

TEST(AllowedStream, AnEmptyNameIsRefused) {
  for (const std::string text : {"", "=0123456789abc"}) {
    auto s = parseAllowedStream(text);
    ASSERT_FALSE(s) << text;
    EXPECT_NE(s.error().message.find("stream name (before '=') is empty"), std::string::npos)
        << s.error().message;
    EXPECT_EQ(s.error().message.find("0123456789abc"), std::string::npos) << s.error().message;
  }
}

// A name streamName() would change (or the whole #!:: form) could never match a stream:
// listing it would silently allow nothing.
TEST(AllowedStream, ANameNoStreamCouldHaveIsRefused) {
  for (const std::string& name : std::vector<std::string>{"cam 1", "#!::r=cam1", "cam/1", "caméra",
                                                          "..", ".", std::string(513, 'c')}) {
    SCOPED_TRACE(name);
    auto s = parseAllowedStream(name + "=0123456789");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("allow-stream '"), std::string::npos) << s.error().message;
  }
  EXPECT_TRUE(parseAllowedStream(std::string(512, 'c')));
}

TEST(AllowList, ANameListedTwiceIsRefusedNamingIt) {
  const std::string error = errorOf({"cam1=first-secret-xyz", "cam2", "cam1"});
  EXPECT_NE(error.find("stream 'cam1' is listed twice"), std::string::npos) << error;
  EXPECT_EQ(error.find("first-secret-xyz"), std::string::npos) << error;
  EXPECT_NE(errorOf({"cam1", "cam1=first-secret-xyz"}), "");
}

TEST(AllowList, FindsListedStreamsByTheirExactName) {
  auto list = AllowList::parse({"cam1=first-secret-xyz", "cam2"});
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_FALSE(list->empty());
  EXPECT_EQ(list->size(), 2u);
  ASSERT_NE(list->find("cam1"), nullptr);
  EXPECT_EQ(list->find("cam1")->passphrase, "first-secret-xyz");
  ASSERT_NE(list->find("cam2"), nullptr);
  EXPECT_EQ(list->find("cam2")->passphrase, "");
  EXPECT_EQ(list->find("cam3"), nullptr);
  EXPECT_EQ(list->find("CAM1"), nullptr);
  EXPECT_EQ(list->find(""), nullptr);
}

// The receiver looks streams up by streamResource(): the r= of the access-control form
// (adaptive links' ids included), unsanitized, so "cam 1" is not taken for "cam_1".
TEST(AllowList, IsLookedUpByTheStreamsUnsanitizedName) {
  auto list = AllowList::parse({"cam_1"});
  ASSERT_TRUE(list);
  EXPECT_NE(list->find(streamResource("cam_1")), nullptr);
  EXPECT_NE(list->find(streamResource("#!::r=cam_1,m=publish")), nullptr);
  EXPECT_NE(list->find(streamResource("#!::r=cam_1,bcs=deadbeef,bcl=0")), nullptr);
  EXPECT_EQ(list->find(streamResource("cam 1")), nullptr);
  EXPECT_EQ(list->find(streamResource("cam/1")), nullptr);
  EXPECT_EQ(streamName("cam 1"), "cam_1");  // what would have aliased it
}

TEST(AllowList, NoEntriesTakeEveryStream) {
  auto list = AllowList::parse({});
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

TEST(AllowList, MaskingHidesEverythingAfterTheFirstEqualsSign) {
  EXPECT_EQ(maskAllowedStream("cam1=first=secret"), "cam1=***");
  EXPECT_EQ(maskAllowedStream("cam1"), "cam1");
  EXPECT_EQ(maskAllowedStream("cam1="), "cam1=***");
}

}  // namespace
}  // namespace bondcast::receiver
