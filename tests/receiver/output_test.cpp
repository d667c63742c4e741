// SPDX-License-Identifier: MPL-2.0
#include "receiver/output.h"

#include <gtest/gtest.h>

namespace bondcast::receiver {
namespace {

TEST(OutputNaming, PlaceholderAndDefaultSuffix) {
  EXPECT_EQ(fileNameFor("live-{id}.ts", "cam1"), "live-cam1.ts");
  EXPECT_EQ(fileNameFor("live-{id}.ts", ""), "live-default.ts");
  EXPECT_EQ(fileNameFor("out/live.ts", "cam1"), "out/live-cam1.ts");
  EXPECT_EQ(fileNameFor("live.ts", ""), "live.ts");
  EXPECT_EQ(fileNameFor("live", "cam2"), "live-cam2");
}

TEST(OutputNaming, AccessControlStreamIdsAndUnsafeCharacters) {
  EXPECT_EQ(streamName("#!::r=cam1,m=publish"), "cam1");
  EXPECT_EQ(streamName("../../etc/passwd"), ".._.._etc_passwd");
  EXPECT_EQ(streamName(".."), "_");
}

TEST(OutputSpec, KindsAndErrors) {
  EXPECT_EQ(parseOutputSpec("-").value().kind, OutputKind::kStdout);
  EXPECT_EQ(parseOutputSpec("udp://127.0.0.1:5000").value().kind, OutputKind::kUdp);
  EXPECT_EQ(parseOutputSpec("srt://:8000").value().kind, OutputKind::kSrtListener);
  EXPECT_EQ(parseOutputSpec("srt://server:8000").value().kind, OutputKind::kSrtCaller);
  EXPECT_TRUE(parseOutputSpec("x.ts").value().per_stream);
  auto bad = parseOutputSpec("rtmp://x:1");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("rtmp"), std::string::npos);
  auto dir = parseOutputSpec("/nonexistent-dir/x.ts");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("/nonexistent-dir"), std::string::npos);
}

}  // namespace
}  // namespace bondcast::receiver
