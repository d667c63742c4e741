// SPDX-License-Identifier: MPL-2.0
#include "common/uri.h"

#include <gtest/gtest.h>

namespace bondcast {
namespace {

TEST(ParseUri, SrtCallerWithParameters) {
  auto u = parseUri("srt://10.0.0.1:9000?weight=5&bind=192.168.1.2:0&Latency=200");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->scheme, "srt");
  EXPECT_EQ(u->host, "10.0.0.1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_FALSE(u->isListener());
  EXPECT_EQ(u->param("weight"), "5");
  EXPECT_EQ(u->param("bind"), "192.168.1.2:0");
  EXPECT_EQ(u->param("latency"), "200");
}

TEST(ParseUri, ListenerAndUdpAtForms) {
  auto l = parseUri("srt://:9000");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->isListener());
  auto u = parseUri("udp://@:5000");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->listen_marker);
  EXPECT_EQ(u->port, 5000);
  auto v6 = parseUri("srt://[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
}

TEST(ParseUri, ErrorsNameTheUriAndTheProblem) {
  auto noport = parseUri("srt://host");
  ASSERT_FALSE(noport.ok());
  EXPECT_NE(noport.error().message.find("srt://host"), std::string::npos);
  EXPECT_NE(noport.error().message.find("port"), std::string::npos);
  auto bigport = parseUri("srt://host:70000");
  ASSERT_FALSE(bigport.ok());
  EXPECT_NE(bigport.error().message.find("70000"), std::string::npos);
  EXPECT_FALSE(parseUri("host:9000").ok());
  EXPECT_FALSE(parseUri("srt://host:9000?=x").ok());
}

// Found by fuzz/link_spec_fuzz.cpp: a malformed URI was echoed whole in the error, which
// `bondcast send --link` prints, passphrase and all.
TEST(ParseUri, ErrorsMaskThePassphrase) {
  auto bad = parseUri("srt://:90x0?passphrase=a-long-secret&latency=700");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("a-long-secret"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("srt://:90x0?passphrase=***&latency=700"), std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace bondcast
