// SPDX-License-Identifier: MPL-2.0
// The SRT options of srt:// URIs (common/srt_uri.h): one grammar for every kind of URI,
// each option where it applies, and an error naming anything else.
#include "common/srt_uri.h"

#include <gtest/gtest.h>

namespace bondcast {
namespace {

using std::chrono::milliseconds;

Result<SrtUriOptions> take(const std::string& text, SrtUriRole role,
                           const std::vector<std::string>& also = {}) {
  auto uri = parseUri(text);
  EXPECT_TRUE(uri) << text;
  return takeSrtUriOptions(*uri, role, also);
}

std::string errorOf(const Result<SrtUriOptions>& r) {
  return r ? std::string("(no error)") : r.error().message;
}

TEST(SrtUriOptions, TakesEveryOptionACallerUses) {
  auto uri = parseUri(
      "srt://studio:9000?latency=500&passphrase=0123456789ab&pbkeylen=32&conntimeo=4000"
      "&streamid=%23!::r=cam1,m=publish");
  ASSERT_TRUE(uri);
  auto o = takeSrtUriOptions(*uri, SrtUriRole::kOutputCaller);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->latency, milliseconds(500));
  EXPECT_EQ(o->passphrase, "0123456789ab");
  EXPECT_EQ(o->pbkeylen, 32);
  EXPECT_EQ(o->conntimeo, milliseconds(4000));
  EXPECT_EQ(o->streamid, "#!::r=cam1,m=publish");
  EXPECT_TRUE(uri->params.empty()) << "taken out of the URI";
}

TEST(SrtUriOptions, LeavesTheRolesOwnParametersToItsCaller) {
  auto uri = parseUri("srt://studio:9000?weight=3&passphrase=0123456789ab&bind=10.0.0.2");
  ASSERT_TRUE(uri);
  auto o = takeSrtUriOptions(*uri, SrtUriRole::kLink, {"weight", "bind", "dev", "cost"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->passphrase, "0123456789ab");
  EXPECT_EQ(uri->params.size(), 2u);
  EXPECT_EQ(uri->param("weight"), "3");
}

TEST(SrtUriOptions, AnUnknownParameterIsAnErrorNamingItAndTheKnownOnes) {
  const auto r = take("srt://:9000?latency=200&frob=1", SrtUriRole::kListener);
  EXPECT_NE(errorOf(r).find("unknown parameter 'frob'"), std::string::npos) << errorOf(r);
  EXPECT_NE(errorOf(r).find("latency, passphrase, pbkeylen"), std::string::npos) << errorOf(r);
  EXPECT_NE(errorOf(r).find("srt://:9000"), std::string::npos) << errorOf(r);
}

TEST(SrtUriOptions, AValueOfTheWrongTypeIsAnErrorNamingIt) {
  EXPECT_NE(errorOf(take("srt://:9000?latency=abc", SrtUriRole::kListener)).find("latency='abc'"),
            std::string::npos);
  EXPECT_NE(errorOf(take("srt://:9000?latency=-5", SrtUriRole::kListener)).find("latency='-5'"),
            std::string::npos);
  EXPECT_NE(errorOf(take("srt://:9000?passphrase=short", SrtUriRole::kListener))
                .find("passphrase= must be 10 to 79"),
            std::string::npos);
  EXPECT_NE(errorOf(take("srt://:9000?pbkeylen=20", SrtUriRole::kListener)).find("pbkeylen='20'"),
            std::string::npos);
  EXPECT_NE(errorOf(take("srt://h:9000?conntimeo=0", SrtUriRole::kLink)).find("conntimeo='0'"),
            std::string::npos);
}

TEST(SrtUriOptions, AnOptionThatCannotApplyIsAnError) {
  // A listener waits for no handshake and announces no stream id.
  EXPECT_NE(errorOf(take("srt://:9000?conntimeo=500", SrtUriRole::kListener))
                .find("conntimeo= does not apply"),
            std::string::npos);
  EXPECT_NE(errorOf(take("srt://:9000?streamid=x", SrtUriRole::kInputListener))
                .find("streamid= does not apply"),
            std::string::npos);
  // A link's stream id is the session's (--stream-id).
  EXPECT_NE(errorOf(take("srt://h:9000?streamid=x", SrtUriRole::kLink)).find("--stream-id"),
            std::string::npos);
}

// Logs, stats and messages show URIs as given, never a passphrase.
TEST(SrtUriOptions, MaskSecretsHidesEveryPassphraseAndKeepsTheRest) {
  EXPECT_EQ(maskSecrets("srt://h:9000?weight=2&passphrase=a-long-secret&bind=10.0.0.2"),
            "srt://h:9000?weight=2&passphrase=***&bind=10.0.0.2");
  EXPECT_EQ(maskSecrets("srt://:9000?PassPhrase=a-long-secret"), "srt://:9000?PassPhrase=***");
  EXPECT_EQ(maskSecrets("srt://h:9000?passphrasex=1&x=passphrase=2"),
            "srt://h:9000?passphrasex=1&x=passphrase=2");
  EXPECT_EQ(maskSecrets("srt://h:9000"), "srt://h:9000");
  EXPECT_EQ(maskSecrets("srt://h:9000?"), "srt://h:9000?");
}

// Found by fuzz/uri_fuzz.cpp: a '?' before "://" made maskSecrets take the query from
// there, while parseUri takes it from the first '?' after "://", so the passphrase the
// URI carries was shown.
TEST(SrtUriOptions, MaskSecretsFindsTheQueryWhereParseUriDoes) {
  EXPECT_EQ(maskSecrets("s?rt://h:9000?passphrase=a-long-secret"), "s?rt://h:9000?passphrase=***");
  EXPECT_EQ(maskSecrets("h?x=1&passphrase=a-long-secret"), "h?x=1&passphrase=***");
}

}  // namespace
}  // namespace bondcast
