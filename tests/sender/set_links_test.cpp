// SPDX-License-Identifier: MPL-2.0
// Transport::setLinks' bookkeeping in both transports, without a receiver (nothing
// connects): links are told apart by their URI as given; what is new, gone and kept is
// reported; a link that cannot be used changes nothing; a removed link stays in the stats,
// flagged, until the transport closes it; adaptive mode's limit on links over a session.
// Links carrying a stream while they come and go: tests/e2e/link_reload_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/srt/srt.h"
#include "sender/adaptive_sender.h"
#include "sender/group_sender.h"

namespace bondcast::sender {
namespace {

std::vector<LinkSpec> specs(const std::vector<std::string>& uris) {
  std::vector<LinkSpec> out;
  for (const auto& uri : uris) {
    out.push_back(parseLinkSpec(uri).value());
  }
  return out;
}

// The stats' links: each link's text, "(removing)" after a removed one's.
std::vector<std::string> listed(Transport& t) {
  std::vector<std::string> out;
  const nlohmann::json stats = t.statsJson(false);
  for (const auto& l : stats["links"]) {
    out.push_back(l["link"].get<std::string>() + (l.value("removing", false) ? " (removing)" : ""));
  }
  return out;
}

using Texts = std::vector<std::string>;

void expectBookkeeping(Transport& t) {
  auto changes = t.setLinks(specs({"srt://127.0.0.1:9001", "srt://127.0.0.1:9002?weight=2",
                                   "srt://127.0.0.1:9003?passphrase=another-secret"}));
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_EQ(changes->added,
            (Texts{"srt://127.0.0.1:9002?weight=2", "srt://127.0.0.1:9003?passphrase=***"}));
  EXPECT_EQ(changes->removed,
            (Texts{"srt://127.0.0.1:9000", "srt://127.0.0.1:9003?passphrase=***"}));
  EXPECT_EQ(changes->unchanged, (Texts{"srt://127.0.0.1:9001"}));
  EXPECT_EQ(listed(t),
            (Texts{"srt://127.0.0.1:9000 (removing)", "srt://127.0.0.1:9001",
                   "srt://127.0.0.1:9003?passphrase=*** (removing)",
                   "srt://127.0.0.1:9002?weight=2", "srt://127.0.0.1:9003?passphrase=***"}));

  // A link whose host does not resolve: an error naming it, nothing changes.
  auto bad = t.setLinks(specs({"srt://127.0.0.1:9001", "srt://no-such-host.invalid:9000"}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("no-such-host.invalid"), std::string::npos);
  EXPECT_EQ(listed(t).size(), 5u);
  EXPECT_FALSE(t.setLinks({}));
}

TEST(SetLinks, AdaptiveReportsWhatChangedAndABadLinkChangesNothing) {
  srt::Runtime runtime;
  AdaptiveSenderConfig config;
  config.links = specs({"srt://127.0.0.1:9000", "srt://127.0.0.1:9001",
                        "srt://127.0.0.1:9003?passphrase=first-secret"});
  auto sender = AdaptiveSender::create(config);
  ASSERT_TRUE(sender) << sender.error().message;
  expectBookkeeping(**sender);
}

TEST(SetLinks, GroupReportsWhatChangedAndABadLinkChangesNothing) {
  srt::Runtime runtime;
  if (auto st = srt::checkBonding(); !st) {
    GTEST_SKIP() << st.error().message;
  }
  GroupSenderConfig config;
  config.mode = GroupMode::kBackup;
  config.links = specs({"srt://127.0.0.1:9000", "srt://127.0.0.1:9001",
                        "srt://127.0.0.1:9003?passphrase=first-secret"});
  auto sender = GroupSender::create(config);
  ASSERT_TRUE(sender) << sender.error().message;
  expectBookkeeping(**sender);
}

// The scheduler has 8 link ids: links being removed hold theirs; a closed link's id goes to
// a new link once every copy it carried is past its deadline (twice the latency and a
// second after it closed).
TEST(SetLinks, AdaptiveCarriesAtMostEightLinksAndReusesTheIdsOfClosedOnes) {
  srt::Runtime runtime;
  AdaptiveSenderConfig config;
  config.srt.latency = std::chrono::milliseconds(20);
  config.links = specs({"srt://127.0.0.1:9000", "srt://127.0.0.1:9001"});
  auto created = AdaptiveSender::create(config);
  ASSERT_TRUE(created) << created.error().message;
  AdaptiveSender& sender = **created;
  for (int port = 9002; port < 9008; ++port) {
    ASSERT_TRUE(sender.setLinks(specs({"srt://127.0.0.1:" + std::to_string(port)}))) << port;
  }
  // Nothing closed the removed ones yet (no worker runs): a ninth is refused.
  auto refused = sender.setLinks(specs({"srt://127.0.0.1:9100"}));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("at most 8 links at a time"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(listed(sender).size(), 8u);

  // The worker closes them (they never connected: nothing listens); their ids come free.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(sender.connect(std::chrono::milliseconds(1), nullptr));
  Result<LinkChanges> reused = Error{"not tried"};
  while (!reused && std::chrono::steady_clock::now() - started < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    reused = sender.setLinks(specs({"srt://127.0.0.1:9007", "srt://127.0.0.1:9100"}));
  }
  ASSERT_TRUE(reused) << reused.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1040));
  EXPECT_EQ(reused->added, (Texts{"srt://127.0.0.1:9100"}));
  EXPECT_EQ(listed(sender).size(), 2u);
}

}  // namespace
}  // namespace bondcast::sender
