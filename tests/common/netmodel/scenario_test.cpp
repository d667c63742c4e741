// SPDX-License-Identifier: MPL-2.0
#include "common/netmodel/scenario.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/shared_dir.h"

namespace bondcast::net {
namespace {

using std::chrono::milliseconds;

const std::string kTrace =
    std::string(BONDCAST_SHARED_DIR) + "/traces/mahimahi/TMobile-LTE-short.up";

TEST(LinkSpec, ParsesEveryField) {
  auto l = parseLinkSpec(
      "listen=127.0.0.1:7001,to=127.0.0.1:9000,via=127.0.0.1:7101,rate=10mbit,delay=15ms,"
      "jitter=2ms,loss=0.5%,queue=200ms,reorder=1,rev-rate=2mbit,rev-delay=5ms,rev-queue=30kb");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->listen.port, 7001);
  ASSERT_TRUE(l->to.has_value());
  EXPECT_EQ(l->to->toString(), "127.0.0.1:9000");
  EXPECT_EQ(l->via.port, 7101);
  EXPECT_EQ(l->fwd.rate.kind, RateSpec::Kind::kConstant);
  EXPECT_EQ(l->fwd.rate.bps, 10'000'000u);
  EXPECT_EQ(l->fwd.delay, milliseconds(15));
  EXPECT_EQ(l->fwd.jitter, milliseconds(2));
  EXPECT_EQ(l->fwd.loss.kind, LossSpec::Kind::kBernoulli);
  EXPECT_DOUBLE_EQ(l->fwd.loss.p_loss, 0.005);
  EXPECT_EQ(l->fwd.queue.time, milliseconds(200));
  EXPECT_TRUE(l->fwd.reorder);
  EXPECT_EQ(l->rev.rate.bps, 2'000'000u);
  EXPECT_EQ(l->rev.delay, milliseconds(5));
  EXPECT_EQ(l->rev.queue.bytes, 30'000u);
}

TEST(LinkSpec, FromTakesAnIpv4AddressWithoutPort) {
  auto l = parseLinkSpec("listen=127.0.0.1:5000,from=127.0.0.2,to=127.0.0.1:9000");
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_TRUE(l->from.has_value());
  EXPECT_EQ(*l->from, 0x7f000002u);
  EXPECT_FALSE(parseLinkSpec("to=127.0.0.1:9000")->from.has_value());
  for (const char* bad : {"127.0.0.300", "example.org", "", "::1"}) {
    auto e = parseLinkSpec("from=" + std::string(bad) + ",to=127.0.0.1:9000");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.error().message.find("link spec: from='" + std::string(bad) + "'"),
              std::string::npos)
        << e.error().message;
    EXPECT_NE(e.error().message.find("not an IPv4 address"), std::string::npos)
        << e.error().message;
  }
  auto with_port = parseLinkSpec("from=127.0.0.2:4000,to=127.0.0.1:9000");
  ASSERT_FALSE(with_port.ok());
  EXPECT_NE(with_port.error().message.find("from='127.0.0.2:4000': expected an IPv4 address "
                                           "without a port"),
            std::string::npos)
      << with_port.error().message;
}

NetworkConfig linksConfig(std::initializer_list<const char*> specs) {
  NetworkConfig c;
  for (const char* spec : specs) {
    auto l = parseLinkSpec(spec);
    EXPECT_TRUE(l.ok()) << spec << ": " << l.error().message;
    if (l)
      c.links.push_back(*l);
  }
  return c;
}

TEST(Validate, LinksWithDistinctFromMayShareAListenAddress) {
  EXPECT_TRUE(validate(linksConfig({"listen=127.0.0.1:7000,from=127.0.0.2,to=127.0.0.1:9000",
                                    "listen=127.0.0.1:7000,from=127.0.0.3,to=127.0.0.1:9001"}))
                  .ok());
  EXPECT_TRUE(validate(linksConfig({"listen=127.0.0.1:0,from=127.0.0.2,to=127.0.0.1:9000",
                                    "listen=127.0.0.1:0,from=127.0.0.3,to=127.0.0.1:9001",
                                    "listen=127.0.0.1:0,to=127.0.0.1:9002"}))
                  .ok());
}

TEST(Validate, SameListenAndSameFromIsRejected) {
  for (const char* listen : {"listen=127.0.0.1:0", "listen=127.0.0.1:7000"}) {
    auto c = linksConfig({"to=127.0.0.1:9000"});
    const std::string base = std::string(listen) + ",from=127.0.0.2,to=127.0.0.1:";
    c.links.push_back(*parseLinkSpec(base + "9001"));
    c.links.push_back(*parseLinkSpec(base + "9002"));
    auto s = validate(c);
    ASSERT_FALSE(s.ok()) << listen;
    EXPECT_NE(s.error().message.find("links 1 and 2 both have from='127.0.0.2'"), std::string::npos)
        << s.error().message;
    EXPECT_NE(s.error().message.find("listen='127.0.0.1:"), std::string::npos) << s.error().message;
  }
}

TEST(Validate, ALinkWithoutFromCannotShareAFixedListenAddressWithFromLinks) {
  auto s = validate(linksConfig({"listen=127.0.0.1:7000,from=127.0.0.2,to=127.0.0.1:9000",
                                 "listen=127.0.0.1:7000,to=127.0.0.1:9001"}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("listen='127.0.0.1:7000': links 0 and 1"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("link 1 has no from="), std::string::npos) << s.error().message;
  auto first_missing =
      validate(linksConfig({"listen=127.0.0.1:7000,to=127.0.0.1:9000",
                            "listen=127.0.0.1:7000,from=127.0.0.2,to=127.0.0.1:9001"}));
  ASSERT_FALSE(first_missing.ok());
  EXPECT_NE(first_missing.error().message.find("link 0 has no from="), std::string::npos)
      << first_missing.error().message;
}

TEST(LinkSpec, ReverseGetsTheSameDelayAndNothingElse) {
  auto l = parseLinkSpec("to=127.0.0.1:9000,rate=10mbit,delay=15ms,jitter=2ms,loss=1%");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->listen.port, 0);  // picked at bind time
  EXPECT_EQ(l->rev.delay, milliseconds(15));
  EXPECT_EQ(l->rev.jitter, Nanos{0});
  EXPECT_EQ(l->rev.rate.kind, RateSpec::Kind::kUnlimited);
  EXPECT_EQ(l->rev.loss.kind, LossSpec::Kind::kNone);
}

TEST(LinkSpec, GilbertElliottTakesPRAndStateLosses) {
  auto l = parseLinkSpec("to=127.0.0.1:9,ge=1%:30%:80%:0.1%");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->fwd.loss.kind, LossSpec::Kind::kGilbertElliott);
  EXPECT_DOUBLE_EQ(l->fwd.loss.p_good_bad, 0.01);
  EXPECT_DOUBLE_EQ(l->fwd.loss.p_bad_good, 0.3);
  EXPECT_DOUBLE_EQ(l->fwd.loss.loss_bad, 0.8);
  EXPECT_DOUBLE_EQ(l->fwd.loss.loss_good, 0.001);
  auto short_form = parseLinkSpec("to=127.0.0.1:9,ge=1%:30%");
  ASSERT_TRUE(short_form.ok());
  EXPECT_DOUBLE_EQ(short_form->fwd.loss.loss_bad, 1.0);
  EXPECT_DOUBLE_EQ(short_form->fwd.loss.loss_good, 0.0);
}

TEST(LinkSpec, LoadsTraces) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  auto l = parseLinkSpec("to=127.0.0.1:9,rate=trace:" + kTrace + ",rev-rate=series:" +
                         BONDCAST_SHARED_DIR + "/traces/norway-3g/norway_bus_1");
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_EQ(l->fwd.rate.kind, RateSpec::Kind::kTrace);
  EXPECT_EQ(l->fwd.rate.trace->periodMs(), 140'000u);
  EXPECT_EQ(l->rev.rate.kind, RateSpec::Kind::kTrace);
}

// Every error names the field and the value.
void expectError(const std::string& spec, const std::string& field_and_value) {
  auto l = parseLinkSpec(spec);
  ASSERT_FALSE(l.ok()) << spec;
  EXPECT_NE(l.error().message.find(field_and_value), std::string::npos) << l.error().message;
  EXPECT_EQ(l.error().message.find('\n'), std::string::npos);
}

TEST(LinkSpec, ErrorsNameTheFieldAndValue) {
  expectError("to=127.0.0.1:9,rate=10xyz", "rate='10xyz'");
  expectError("to=127.0.0.1:9,delay=soon", "delay='soon'");
  expectError("to=127.0.0.1:9,loss=150%", "loss='150%'");
  expectError("to=127.0.0.1:9,ge=1%", "ge='1%'");
  expectError("to=127.0.0.1:9,queue=lots", "queue='lots'");
  expectError("to=127.0.0.1:9,colour=red", "colour='red'");
  expectError("to=127.0.0.1:9,rev-bogus=1", "rev-bogus='1'");
  expectError("to=nowhere:9", "to='nowhere:9'");
  expectError("to=127.0.0.1:0", "to='127.0.0.1:0'");
  expectError("listen=127.0.0.1:70000,to=127.0.0.1:9", "listen='127.0.0.1:70000'");
  expectError("to=127.0.0.1:9,rate=trace:/nonexistent/x.up", "/nonexistent/x.up");
  expectError("to=127.0.0.1:9,rate=0", "rate='0'");
  expectError("to=127.0.0.1:9,delay=5ms,jitter=10ms", "jitter");
  expectError("to=127.0.0.1:9,reorder=maybe", "reorder='maybe'");
  expectError("cost=-1", "cost='-1'");
  expectError("cost=cheap", "cost='cheap'");
}

TEST(LinkSpec, TheSimulatorsKeysAndNoReceiver) {
  auto l = parseLinkSpec("name=cell-A,cost=2.5,rate=8mbit,queue=unlimited");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->name, "cell-A");
  ASSERT_TRUE(l->cost.has_value());
  EXPECT_DOUBLE_EQ(*l->cost, 2.5);
  EXPECT_FALSE(l->to.has_value());  // the emulator's --to fills it in
  EXPECT_FALSE(l->fwd.queue.bytes.has_value());
  EXPECT_EQ(l->fwd.queue.time, kNever);
  auto plain = parseLinkSpec("rate=8mbit");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->name.empty());
  EXPECT_FALSE(plain->cost.has_value());
}

TEST(EventSpec, ParsesActions) {
  auto down = parseEvent("at=5s,link=0,down=5s");
  ASSERT_TRUE(down.ok()) << down.error().message;
  EXPECT_EQ(down->action, Event::Action::Down);
  EXPECT_EQ(down->at, std::chrono::seconds(5));
  EXPECT_EQ(down->down_for, std::chrono::seconds(5));
  auto flap = parseEvent("at=1s,link=2,flap=5x200ms/800ms,dir=fwd");
  ASSERT_TRUE(flap.ok()) << flap.error().message;
  EXPECT_EQ(flap->link, 2u);
  EXPECT_EQ(flap->flap_count, 5u);
  EXPECT_EQ(flap->flap_down, milliseconds(200));
  EXPECT_EQ(flap->flap_up, milliseconds(800));
  EXPECT_FALSE(flap->rev);
  auto change = parseEvent("at=10s,link=1,rate=2mbit,delay=80ms,rev-delay=40ms,ge=1%:20%");
  ASSERT_TRUE(change.ok()) << change.error().message;
  EXPECT_EQ(change->action, Event::Action::Change);
  EXPECT_EQ(change->fwd_change.rate->bps, 2'000'000u);
  EXPECT_EQ(change->rev_change.delay, milliseconds(40));
  EXPECT_EQ(change->fwd_change.loss->kind, LossSpec::Kind::kGilbertElliott);
  EXPECT_TRUE(parseEvent("at=0,link=0,up").ok());
  EXPECT_FALSE(parseEvent("at=0,link=0,down").value().down_for.has_value());
}

TEST(EventSpec, ErrorsNameTheFieldAndValue) {
  auto check = [](const std::string& spec, const std::string& needle) {
    auto e = parseEvent(spec);
    ASSERT_FALSE(e.ok()) << spec;
    EXPECT_NE(e.error().message.find(needle), std::string::npos) << e.error().message;
  };
  check("link=0,down=5s", "at=");
  check("at=5s,down=5s", "link=");
  check("at=later,link=0,down", "at='later'");
  check("at=1s,link=x,down", "link='x'");
  check("at=1s,link=0,flap=5", "flap='5'");
  // 10 x (1e15 + 1e15) us overflowed the nanosecond timeline (fuzzing, issue 16).
  check("at=1s,link=0,flap=10x1e15us", "31 years");
  check("at=1s,link=0,flap=100000x180min", "31 years");
  check("at=1s,link=0,down,up", "mixes");
  check("at=1s,link=0,down=1s,rate=1mbit", "mixes");
  check("at=1s,link=0", "does nothing");
  check("at=1s,link=0,explode=1", "explode='1'");
  check("at=1s,link=0,down,dir=sideways", "dir='sideways'");
}

TEST(EventSpec, TimelineExpandsFlapsAndSortsByTime) {
  std::vector<Event> events = {*parseEvent("at=5s,link=0,rate=1mbit"),
                               *parseEvent("at=1s,link=0,flap=2x100ms/400ms,dir=rev"),
                               *parseEvent("at=2s,link=1,down")};
  auto fwd = timelineFor(events, 0, Direction::Forward);
  ASSERT_EQ(fwd.size(), 1u);
  EXPECT_EQ(fwd[0].kind, TimedAction::Kind::Change);
  auto rev = timelineFor(events, 0, Direction::Reverse);
  ASSERT_EQ(rev.size(), 2u);
  EXPECT_EQ(rev[0].at, milliseconds(1000));
  EXPECT_EQ(rev[0].until, milliseconds(1100));
  EXPECT_EQ(rev[1].at, milliseconds(1500));
  EXPECT_EQ(rev[1].until, milliseconds(1600));
  auto other = timelineFor(events, 1, Direction::Reverse);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].until, kNever);
}

TEST(NetworkConfig, ValidateChecksEventLinksAndDuplicateListens) {
  NetworkConfig c;
  EXPECT_FALSE(validate(c).ok());
  c.links.push_back(*parseLinkSpec("listen=127.0.0.1:7001,to=127.0.0.1:9"));
  c.events.push_back(*parseEvent("at=1s,link=1,down"));
  auto bad = validate(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("link='1'"), std::string::npos) << bad.error().message;
  c.events.clear();
  c.links.push_back(*parseLinkSpec("listen=127.0.0.1:7001,to=127.0.0.1:9"));
  EXPECT_FALSE(validate(c).ok());
}

TEST(Scenario, ExampleFileLoads) {
  BONDCAST_SKIP_WITHOUT_SHARED(std::string(BONDCAST_SOURCE_DIR) + "/../shared/traces",
                               "eval/scenarios/example.json reads a trace from it");
  auto s = loadScenario(std::string(BONDCAST_SOURCE_DIR) + "/eval/scenarios/example.json");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->config.seed, 7u);
  EXPECT_EQ(s->duration, std::chrono::seconds(60));
  ASSERT_EQ(s->config.links.size(), 3u);
  EXPECT_EQ(s->config.links[1].fwd.rate.kind, RateSpec::Kind::kTrace);
  EXPECT_EQ(s->config.links[2].fwd.loss.kind, LossSpec::Kind::kGilbertElliott);
  EXPECT_EQ(s->config.events.size(), 3u);
  EXPECT_TRUE(validate(s->config).ok());
}

TEST(Scenario, ErrorsNameTheKey) {
  auto dir = std::filesystem::temp_directory_path() / ("bondcast_scn_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const char* name, const char* text) {
    auto p = (dir / name).string();
    std::ofstream(p) << text;
    return p;
  };
  auto bad_json = loadScenario(write("a.json", "{ nope"));
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.error().message.find("not valid JSON"), std::string::npos);
  auto bad_key = loadScenario(write("b.json", R"({"lnks": []})"));
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.error().message.find("lnks"), std::string::npos);
  auto bad_link =
      loadScenario(write("c.json", R"({"links": [{"to": "127.0.0.1:9", "rate": "x"}]})"));
  ASSERT_FALSE(bad_link.ok());
  EXPECT_NE(bad_link.error().message.find("rate='x'"), std::string::npos)
      << bad_link.error().message;
  std::filesystem::remove_all(dir);
}

TEST(Scenario, TakesTheSimulatorsStreamAndSkipsOtherToolsBlocks) {
  const auto j = nlohmann::json::parse(R"({
    "name": "demo", "comment": "c", "seed": 3, "duration": "30s", "latency": "300ms",
    "stats_period": "5ms", "video": {"bitrate": "8mbit"}, "scheduler": {"overhead_budget": 0.04},
    "links": [{"name": "cell-A", "rate": "8mbit", "comment": "a note", "queue": "300ms"}],
    "events": [{"at": "10s", "link": 0, "down": "5s", "comment": "a note"}],
    "_eval": {"anything": [1, 2]}})");
  auto s = parseScenario(j, "inline", {});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "demo");
  EXPECT_EQ(s->config.seed, 3u);
  EXPECT_EQ(s->latency, std::chrono::milliseconds(300));
  EXPECT_EQ(s->stats_period, std::chrono::milliseconds(5));
  EXPECT_EQ(s->video.at("bitrate"), "8mbit");
  EXPECT_DOUBLE_EQ(s->scheduler.at("overhead_budget").get<double>(), 0.04);
  ASSERT_EQ(s->config.links.size(), 1u);
  EXPECT_EQ(s->config.links[0].name, "cell-A");
  ASSERT_EQ(s->config.events.size(), 1u);
  EXPECT_EQ(s->config.events[0].down_for, std::chrono::seconds(5));
  auto bad_video = parseScenario(nlohmann::json::parse(R"({"video": "8mbit"})"), "inline", {});
  ASSERT_FALSE(bad_video.ok());
  EXPECT_NE(bad_video.error().message.find("video: expected an object"), std::string::npos)
      << bad_video.error().message;
}

}  // namespace
}  // namespace bondcast::net
