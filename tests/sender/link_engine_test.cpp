// SPDX-License-Identifier: MPL-2.0
// The senders' shared engine (sender/link_engine.h) on a clock of the test's own: a link's
// connection (connect, fail, backoff, reconnect), a reload's plan, the drain at the end.
// The transports that drive it on real sockets: tests/e2e (reconnect_test, link_reload_test,
// caller_close_test, ...).
#include "sender/link_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bondcast::sender {
namespace {

using std::chrono::milliseconds;
using TimePoint = LinkConnection::TimePoint;
using Phase = LinkConnection::Phase;
using Failure = LinkConnection::Failure;

// The fake clock: a fixed origin and offsets from it.
const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);
TimePoint at(int ms) {
  return kT0 + milliseconds(ms);
}

// `times` attempts, 10 s apart from time 0, each failing for `why`.
void failAttempts(LinkConnection& c, int times, const std::string& why) {
  for (int i = 0; i < times; ++i) {
    c.attempt(at(i * 10'000));
    c.failed(why);
  }
}

TEST(LinkConnection, ANewLinkIsDueAtOnceAndConnects) {
  LinkConnection c;
  EXPECT_EQ(c.phase(), Phase::kIdle);
  EXPECT_TRUE(c.isDue(at(0)));
  c.attempt(at(0));
  EXPECT_EQ(c.phase(), Phase::kConnecting);
  EXPECT_FALSE(c.isDue(at(10'000)));  // connecting: never due, however long it takes
  EXPECT_FALSE(c.everConnected());
  EXPECT_TRUE(c.connected());  // the first connection is news
  EXPECT_TRUE(c.isUp());
  EXPECT_TRUE(c.everConnected());
  EXPECT_TRUE(c.lastError().empty());
}

TEST(LinkConnection, FailedAttemptsBackOffDoublingUpToFiveSeconds) {
  LinkConnection c;
  int now = 0;
  std::vector<int> waits;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(c.isDue(at(now)));
    c.attempt(at(now));
    EXPECT_EQ(c.failed("no answer"), i == 0 ? Failure::kNew : Failure::kRepeated);
    EXPECT_EQ(c.phase(), Phase::kIdle);
    const int wait = static_cast<int>((c.nextAttempt() - at(now)) / milliseconds(1));
    EXPECT_FALSE(c.isDue(at(now + wait - 1)));
    EXPECT_TRUE(c.isDue(at(now + wait)));
    waits.push_back(wait);
    now += wait;
  }
  EXPECT_EQ(waits, (std::vector<int>{250, 500, 1000, 2000, 4000, 5000, 5000, 5000}));
  EXPECT_EQ(c.lastError(), "no answer");
}

TEST(LinkConnection, AConnectionResetsTheBackoffAndItsLossIsToldApart) {
  LinkConnection c;
  failAttempts(c, 4, "rejected: wrong passphrase");
  EXPECT_EQ(c.backoff(), milliseconds(4000));
  c.attempt(at(50'000));
  EXPECT_TRUE(c.connected());  // after an error: news again
  EXPECT_EQ(c.backoff(), kFirstBackoff);
  EXPECT_TRUE(c.lastError().empty());

  // Losing an up link is a loss, whatever the reason was before. Lost at once, it waits
  // out the backoff of the attempt that connected it (no tight connect-break loop); the
  // attempt after that backs off from the first backoff again.
  EXPECT_EQ(c.failed("rejected: wrong passphrase"), Failure::kLost);
  EXPECT_FALSE(c.isDue(at(53'999)));
  EXPECT_TRUE(c.isDue(at(54'000)));
  c.attempt(at(60'000));
  EXPECT_EQ(c.nextAttempt(), at(60'250));
  EXPECT_EQ(c.failed("no answer"), Failure::kNew);
  EXPECT_FALSE(c.isDue(at(60'249)));
  EXPECT_TRUE(c.isDue(at(60'250)));
  c.attempt(at(60'250));
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(c.everConnected());
}

TEST(LinkConnection, AReconnectionWithoutAnErrorIsNoNews) {
  LinkConnection c;
  c.attempt(at(0));
  EXPECT_TRUE(c.connected());
  c.retryAtOnce();  // a new group: everything connects anew
  EXPECT_EQ(c.phase(), Phase::kIdle);
  EXPECT_TRUE(c.isDue(at(0)));
  c.attempt(at(0));
  EXPECT_FALSE(c.connected());
}

TEST(LinkConnection, AReasonGivenAfterTheFactIsKeptAndToldOnce) {
  LinkConnection c;
  c.attempt(at(0));
  EXPECT_TRUE(c.noteError("rejected: wrong passphrase"));
  EXPECT_FALSE(c.noteError("rejected: wrong passphrase"));
  EXPECT_EQ(c.phase(), Phase::kConnecting);  // the phase is the transport's to change
  EXPECT_EQ(c.failed(c.lastError()), Failure::kRepeated);
  EXPECT_EQ(c.lastError(), "rejected: wrong passphrase");
}

TEST(LinkConnection, BackoffAfterRetryAtOnceStartsFromTheFirst) {
  LinkConnection c;
  failAttempts(c, 5, "no answer");
  c.retryAtOnce();
  EXPECT_TRUE(c.isDue(at(40'001)));
  c.attempt(at(40'001));
  c.failed("no answer");
  EXPECT_EQ(c.nextAttempt(), at(40'251));
}

std::vector<LinkSpec> specs(const std::vector<std::string>& uris) {
  std::vector<LinkSpec> out;
  for (const auto& uri : uris) {
    out.push_back(parseLinkSpec(uri).value());
  }
  return out;
}

TEST(PlanLinks, TellsAddedKeptAndRemovedApartByTheirUri) {
  const auto wanted = specs({"srt://127.0.0.1:9002?weight=2", "srt://127.0.0.1:9001",
                             "srt://127.0.0.1:9003?passphrase=another-secret"});
  const std::vector<std::string> running{"srt://127.0.0.1:9000", "srt://127.0.0.1:9001",
                                         "srt://127.0.0.1:9003?passphrase=a-secret-here"};
  const LinkPlan plan = planLinks(running, wanted);
  ASSERT_EQ(plan.added.size(), 2u);
  EXPECT_EQ(plan.added[0], &wanted[0]);
  EXPECT_EQ(plan.added[1], &wanted[2]);  // the same address with another passphrase is new
  EXPECT_EQ(plan.unchanged, (std::vector<std::string>{"srt://127.0.0.1:9001"}));
  EXPECT_EQ(plan.removed,
            (std::vector<std::string>{"srt://127.0.0.1:9000",
                                      "srt://127.0.0.1:9003?passphrase=a-secret-here"}));
  EXPECT_TRUE(plan.removes("srt://127.0.0.1:9000"));
  EXPECT_FALSE(plan.removes("srt://127.0.0.1:9001"));
}

TEST(PlanLinks, TheSameListChangesNothing) {
  const auto wanted = specs({"srt://127.0.0.1:9000", "srt://127.0.0.1:9001"});
  const LinkPlan plan = planLinks({"srt://127.0.0.1:9000", "srt://127.0.0.1:9001"}, wanted);
  EXPECT_TRUE(plan.added.empty());
  EXPECT_TRUE(plan.removed.empty());
  EXPECT_EQ(plan.unchanged.size(), 2u);
}

// A transport's link as prepareLinks() and markRemoved() see it.
struct FakeLink {
  LinkSpec spec;
  std::optional<TimePoint> removed_at;
};

Result<std::unique_ptr<FakeLink>> makeFake(const LinkSpec& spec) {
  if (spec.host == "unusable") {
    return Error{"link '" + spec.text + "': unusable"};
  }
  return std::make_unique<FakeLink>(FakeLink{spec, std::nullopt});
}

TEST(PlanLinks, AReloadMakesTheNewLinksAndMarksTheGoneOnes) {
  std::mutex mu;
  std::vector<std::unique_ptr<FakeLink>> links;
  for (const auto& spec : specs({"srt://127.0.0.1:9000", "srt://127.0.0.1:9001"})) {
    links.push_back(makeFake(spec).value());
  }
  links[0]->removed_at = at(0);  // being removed already: neither running nor removed again
  const auto wanted = specs({"srt://127.0.0.1:9002", "srt://127.0.0.1:9000"});
  auto prepared = prepareLinks(links, mu, wanted, makeFake);
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ(prepared->changes.added,
            (std::vector<std::string>{"srt://127.0.0.1:9002", "srt://127.0.0.1:9000"}));
  EXPECT_TRUE(prepared->changes.unchanged.empty());
  ASSERT_EQ(prepared->added.size(), 2u);
  EXPECT_EQ(prepared->added[0]->spec.uri, "srt://127.0.0.1:9002");

  const std::vector<FakeLink*> removed =
      markRemoved(links, prepared->plan, at(500), prepared->changes);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], links[1].get());
  EXPECT_EQ(links[1]->removed_at, at(500));
  EXPECT_EQ(links[0]->removed_at, at(0));
  EXPECT_EQ(prepared->changes.removed, (std::vector<std::string>{"srt://127.0.0.1:9001"}));
}

TEST(PlanLinks, AReloadWithAnUnusableLinkOrNoneChangesNothing) {
  std::mutex mu;
  std::vector<std::unique_ptr<FakeLink>> links;
  links.push_back(makeFake(specs({"srt://127.0.0.1:9000"})[0]).value());
  auto bad =
      prepareLinks(links, mu, specs({"srt://127.0.0.1:9001", "srt://unusable:9000"}), makeFake);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("srt://unusable:9000"), std::string::npos);
  EXPECT_FALSE(links[0]->removed_at);
  auto none = prepareLinks(links, mu, {}, makeFake);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "at least one link is needed");
}

TEST(Drain, WaitsForTheLinksThenForThePlayout) {
  Drain d(at(0), milliseconds(2000), milliseconds(300));
  EXPECT_EQ(d.step(at(0), true), Drain::Step::kHolding);
  EXPECT_EQ(d.step(at(400), true), Drain::Step::kHolding);
  EXPECT_EQ(d.step(at(410), false), Drain::Step::kPlayingOut);
  EXPECT_EQ(d.playoutEnds(), at(710));
  // Settled: data held again later (a late retransmission) changes nothing.
  EXPECT_EQ(d.step(at(420), true), Drain::Step::kPlayingOut);
  EXPECT_EQ(d.playoutEnds(), at(710));
}

TEST(Drain, TheBoundCutsBothWaits) {
  Drain stuck(at(0), milliseconds(2000), milliseconds(300));
  EXPECT_EQ(stuck.step(at(1999), true), Drain::Step::kHolding);
  EXPECT_EQ(stuck.step(at(2000), true), Drain::Step::kPlayingOut);  // a link never empties
  EXPECT_EQ(stuck.playoutEnds(), at(2000));

  Drain late(at(0), milliseconds(2000), milliseconds(300));
  EXPECT_EQ(late.step(at(1900), false), Drain::Step::kPlayingOut);
  EXPECT_EQ(late.playoutEnds(), at(2000));  // 100 ms of the 300 left before the bound

  Drain past(at(0), milliseconds(2000), milliseconds(300));
  EXPECT_EQ(past.step(at(2500), false), Drain::Step::kPlayingOut);  // polled after the bound
  EXPECT_EQ(past.playoutEnds(), at(2500));                          // no wait at all
}

TEST(Drain, NothingHeldAtTheStartWaitsOnlyForThePlayout) {
  Drain d(at(0), milliseconds(2000), milliseconds(300));
  EXPECT_EQ(d.step(at(0), false), Drain::Step::kPlayingOut);
  EXPECT_EQ(d.playoutEnds(), at(300));
}

}  // namespace
}  // namespace bondcast::sender
