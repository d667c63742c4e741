// SPDX-License-Identifier: MPL-2.0
#include "common/text.h"

#include <gtest/gtest.h>

namespace bondcast {
namespace {

TEST(Text, TrimRemovesSurroundingWhiteSpaceOnly) {
  EXPECT_EQ(trim("  a b\t\n"), "a b");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("   "), "");
}

TEST(Text, SplitCommaListTrimsAndSkipsEmptyItems) {
  EXPECT_EQ(splitCommaList("srt://a:1, srt://b:2 ,,srt://c:3,"),
            (std::vector<std::string>{"srt://a:1", "srt://b:2", "srt://c:3"}));
  EXPECT_TRUE(splitCommaList(" , ").empty());
  EXPECT_EQ(splitCommaList("one"), std::vector<std::string>{"one"});
}

}  // namespace
}  // namespace bondcast
