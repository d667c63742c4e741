// SPDX-License-Identifier: MPL-2.0
#include "sender/link_spec.h"

#include <gtest/gtest.h>

namespace bondcast::sender {
namespace {

TEST(SenderLinkSpec, ParsesWeightBindAndCost) {
  auto l = parseLinkSpec("srt://studio:9000?weight=10&bind=192.168.8.100:4000&cost=2.5");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->host, "studio");
  EXPECT_EQ(l->port, 9000);
  EXPECT_EQ(l->weight, 10);
  EXPECT_EQ(l->bind_host, "192.168.8.100");
  EXPECT_EQ(l->bind_port, 4000);
  EXPECT_DOUBLE_EQ(l->cost, 2.5);
}

// A reload tells links apart by the URI as given: two links that differ only in their
// passphrase are two links, though their logged text is the same.
TEST(SenderLinkSpec, KeepsTheUriAsGivenBesideTheMaskedText) {
  auto a = parseLinkSpec("srt://studio:9000?passphrase=first-secret-1");
  auto b = parseLinkSpec("srt://studio:9000?passphrase=other-secret-2");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->text, "srt://studio:9000?passphrase=***");
  EXPECT_EQ(a->text, b->text);
  EXPECT_EQ(a->uri, "srt://studio:9000?passphrase=first-secret-1");
  EXPECT_NE(a->uri, b->uri);
}

TEST(SenderLinkSpec, ParsesTheInterfaceAndChecksItExists) {
  auto l = parseLinkSpec("srt://studio:9000?dev=lo");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->device, "lo");
  EXPECT_TRUE(checkLinkDevice(*l).ok());
  auto missing = parseLinkSpec("srt://studio:9000?dev=wwan9");
  ASSERT_TRUE(missing.ok());
  auto st = checkLinkDevice(*missing);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no network interface 'wwan9'"), std::string::npos);
  EXPECT_FALSE(parseLinkSpec("srt://h:1?dev=").ok());
  EXPECT_FALSE(parseLinkSpec("srt://h:1?dev=a/b").ok());
  EXPECT_FALSE(parseLinkSpec("srt://h:1?dev=averyveryverylongname").ok());
}

TEST(SenderLinkSpec, TellsSrtlaLinksFromSrtLinks) {
  auto l = parseLinkSpec("srtla://studio:5000?bind=10.0.0.2&cost=2");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->scheme, "srtla");
  EXPECT_EQ(l->host, "studio");
  EXPECT_EQ(l->port, 5000);
  EXPECT_EQ(l->bind_host, "10.0.0.2");
  auto s = parseLinkSpec("srt://studio:9000");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->scheme, "srt");
}

TEST(SenderLinkSpec, RejectsWithTheOffendingPart) {
  auto scheme = parseLinkSpec("udp://h:1");
  ASSERT_FALSE(scheme.ok());
  EXPECT_NE(scheme.error().message.find("srt://"), std::string::npos);
  auto unknown = parseLinkSpec("srt://h:1?wieght=3");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("'wieght'"), std::string::npos);
  auto weight = parseLinkSpec("srt://h:1?weight=heavy");
  ASSERT_FALSE(weight.ok());
  EXPECT_NE(weight.error().message.find("'heavy'"), std::string::npos);
  EXPECT_FALSE(parseLinkSpec("srt://:9000").ok());
  EXPECT_FALSE(parseLinkSpec("srt://h:1?bind=").ok());
}

}  // namespace
}  // namespace bondcast::sender
