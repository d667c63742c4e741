// SPDX-License-Identifier: MPL-2.0
// What `--http` serves, made from stats records of the shapes SendSession::statsJson and
// Receiver::statsJson produce: Prometheus text that a strict reader of the format
// accepts (tests/app/exposition_parser.h), with base units, escaped labels and no
// passphrase; /stats without passphrases; /health's verdicts. And the format's writer
// (common/prometheus.h) on its own.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "app/stats_metrics.h"
#include "common/prometheus.h"
#include "tests/app/exposition_parser.h"

namespace bondcast::app {
namespace {

using nlohmann::json;
using testing::parseExposition;

constexpr const char* kSecret = "a-long-secret-1234";

// An adaptive sender's record (SendSession::statsJson + AdaptiveSender::statsJson).
json adaptiveSenderRecord() {
  auto link = [](const std::string& uri, const std::string& state, double rtt_ms, int sent) {
    return json{{"link", uri},
                {"state", state},
                {"rtt_ms", rtt_ms},
                {"send_mbps", 2.0},
                {"recv_mbps", 0.0},
                {"bandwidth_mbps", 40.0},
                {"pkts_sent", sent},
                {"pkts_received", 0},
                {"bytes_sent", sent * 1316},
                {"bytes_received", 0},
                {"pkts_lost_send", 3},
                {"pkts_lost_recv", 0},
                {"pkts_retransmitted", 4},
                {"pkts_dropped_send", 0},
                {"pkts_dropped_recv", 0},
                {"send_buffer_ms", 12},
                {"flight_pkts", 7},
                {"copies", 5},
                {"copies_refused", 1},
                {"cost", 1},
                {"model",
                 {{"state", "up"},
                  {"min_rtt_ms", 20.5},
                  {"queue_ms", 1.5},
                  {"capacity_mbps", 8.0},
                  {"delivery_mbps", 2.0},
                  {"loss", 0.01}}}};
  };
  json decisions = {{"picked", 100},
                    {"skipped_late", 2},
                    {"skipped_full", 0},
                    {"duplicated", 5},
                    {"resent", 1},
                    {"picked_bytes", 131600},
                    {"duplicated_bytes", 6580},
                    {"resent_bytes", 1316}};
  return {{"mode", "adaptive"},
          {"input_bytes", 500000},
          {"payloads", 380},
          {"session", "0a1b2c3d"},
          {"policy", "latency-aware"},
          {"payloads_sent", 378},
          {"payloads_dropped", 2},
          {"overloaded", false},
          {"copies_sent", 10},
          {"copies_refused", 2},
          {"resent", 1},
          {"reconnects", 0},
          {"feedback_rounds", 50},
          {"feedback_us", 2500},
          {"links_up", 1},
          {"recommended_bitrate_bps", 4000000},
          {"scheduler",
           {{"policy", "latency-aware"},
            {"packets", 380},
            {"unsendable", 0},
            {"dropped_late", 2},
            {"sent_later", 0},
            {"link_failures", 1},
            {"receipts", 42},
            {"links", {decisions, decisions}}}},
          {"links",
           {link(std::string("srt://127.0.0.1:9000?passphrase=") + kSecret, "up", 25.0, 200),
            link("srt://127.0.0.1:9001", "connecting", 0, 0)}},
          {"type", "sender"},
          {"ts_ms", 1700000000000}};
}

// A receiver's record: one adaptive session, one ended group stream of the same name.
json receiverRecord(const std::string& stream_name) {
  json srt_link = {{"link", "link 0"},        {"state", "up"},
                   {"rtt_ms", 30.0},          {"send_mbps", 0.0},
                   {"recv_mbps", 2.5},        {"bandwidth_mbps", 0.0},
                   {"pkts_sent", 0},          {"pkts_received", 900},
                   {"bytes_sent", 0},         {"bytes_received", 1184400},
                   {"pkts_lost_send", 0},     {"pkts_lost_recv", 2},
                   {"pkts_retransmitted", 0}, {"pkts_dropped_send", 0},
                   {"pkts_dropped_recv", 0},  {"send_buffer_ms", 0},
                   {"flight_pkts", 0}};
  json adaptive_link = srt_link;
  adaptive_link.update({{"index", 0},
                        {"connections", 1},
                        {"packets", 880},
                        {"bytes", 1158080},
                        {"duplicates", 4},
                        {"late", 1},
                        {"resent", 0},
                        {"bad_headers", 0},
                        {"foreign_session", 0},
                        {"base_delay_ms", 0.0}});
  json second = adaptive_link;
  second["link"] = "link 1";
  second["index"] = 1;
  second["base_delay_ms"] = 12.5;
  return {{"streams",
           {{{"stream", stream_name},
             {"mode", "group"},
             {"active", false},
             {"output", "out.ts"},
             {"payloads", 7},
             {"bytes", 9212},
             {"output_errors", 0},
             {"links", json::array()}},
            {{"stream", stream_name},
             {"mode", "adaptive"},
             {"session", "0a1b2c3d"},
             {"active", true},
             {"output", "out.ts"},
             {"payloads", 1760},
             {"bytes", 2316160},
             {"duplicates_dropped", 8},
             {"late", 2},
             {"lost", 3},
             {"buffered", 40},
             {"forced", 0},
             {"restarts", 0},
             {"clock_skewed", 0},
             {"bad_headers", 0},
             {"foreign_session", 0},
             {"output_errors", 0},
             {"latency_ms", 300.0},
             {"clock_moved_ms", 0.25},
             {"margin_ms",
              {{"count", 1760},
               {"p01", 120.0},
               {"p10", 180.0},
               {"p50", 250.0},
               {"p90", 280.0},
               {"p99", 290.0},
               {"max", 299.0}}},
             {"links", {adaptive_link, second}}}}},
          {"refused",
           {{"wrong_passphrase", 1},
            {"one_sided_passphrase", 0},
            {"malformed_stream_id", 0},
            {"unknown_stream", 1234},
            {"ended_session", 2},
            {"output_busy", 0},
            {"other", 0}}},
          {"type", "receiver"},
          {"ts_ms", 1700000000000}};
}

// The parsed text, failing the test for every malformed line.
testing::Exposition wellFormed(const std::string& text) {
  auto e = parseExposition(text);
  for (const auto& err : e.errors) {
    ADD_FAILURE() << err;
  }
  return e;
}

double value(const testing::Exposition& e, const std::string& series) {
  auto it = e.series.find(series);
  if (it == e.series.end()) {
    ADD_FAILURE() << "no series " << series;
    return std::nan("");
  }
  return it->second;
}

TEST(PrometheusExposition, WritesHelpAndTypeOncePerFamilyBeforeItsSamples) {
  prom::Exposition e;
  e.add("x_total", prom::Type::kCounter, "X things.", {{"a", "1"}}, 1);
  e.add("y_seconds", prom::Type::kGauge, "Y.", {}, 0.5);
  e.add("x_total", prom::Type::kCounter, "X things.", {{"a", "2"}}, 2);
  EXPECT_EQ(e.text(),
            "# HELP x_total X things.\n# TYPE x_total counter\nx_total{a=\"1\"} 1\n"
            "x_total{a=\"2\"} 2\n# HELP y_seconds Y.\n# TYPE y_seconds gauge\ny_seconds 0.5\n");
  EXPECT_TRUE(parseExposition(e.text()).errors.empty());
}

TEST(PrometheusExposition, EscapesLabelValuesAndHelpAsTheFormatSays) {
  prom::Exposition e;
  const std::string nasty = "a\\b\"c\nd";
  e.add("m", prom::Type::kGauge, "line one\nback\\slash \"quoted\"", {{"l", nasty}}, 1);
  EXPECT_NE(e.text().find(R"(m{l="a\\b\"c\nd"} 1)"), std::string::npos) << e.text();
  EXPECT_NE(e.text().find(R"(# HELP m line one\nback\\slash "quoted")"), std::string::npos);
  auto parsed = wellFormed(e.text());
  ASSERT_EQ(parsed.labels["m"].size(), 1u);
  EXPECT_EQ(parsed.labels["m"][0]["l"], nasty);
  EXPECT_EQ(parsed.families["m"].help, "line one\nback\\slash \"quoted\"");
}

TEST(PrometheusExposition, KeepsTheFirstValueOfASeriesAddedTwice) {
  prom::Exposition e;
  e.add("m", prom::Type::kGauge, "M.", {{"s", "x"}}, 1);
  e.add("m", prom::Type::kGauge, "M.", {{"s", "x"}}, 2);
  auto parsed = wellFormed(e.text());
  EXPECT_EQ(parsed.series.size(), 1u);
  EXPECT_EQ(value(parsed, "m{s=\"x\",}"), 1);
}

TEST(PrometheusExposition, RefusesNamesOutsideTheFormat) {
  prom::Exposition e;
  EXPECT_THROW(e.add("bad-name", prom::Type::kGauge, "", {}, 1), std::invalid_argument);
  EXPECT_THROW(e.add("1m", prom::Type::kGauge, "", {}, 1), std::invalid_argument);
  EXPECT_THROW(e.add("m", prom::Type::kGauge, "", {{"a:b", "x"}}, 1), std::invalid_argument);
  EXPECT_THROW(e.add("m", prom::Type::kGauge, "", {{"__reserved", "x"}}, 1), std::invalid_argument);
}

TEST(PrometheusExposition, FormatsValuesSoTheyReadBack) {
  EXPECT_EQ(prom::formatValue(0), "0");
  EXPECT_EQ(prom::formatValue(1316), "1316");
  EXPECT_EQ(prom::formatValue(0.025), "0.025");
  EXPECT_EQ(prom::formatValue(1e21), "1e+21");
  EXPECT_EQ(prom::formatValue(std::nan("")), "NaN");
  EXPECT_EQ(prom::formatValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(prom::formatValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(std::stod(prom::formatValue(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(SenderMetrics, AreWellFormedWithBaseUnitsPerLinkAndMode) {
  auto e = wellFormed(senderMetrics({adaptiveSenderRecord(), 0.4}));
  const std::string up = R"({link="srt://127.0.0.1:9000?passphrase=***",mode="adaptive",})";
  EXPECT_EQ(e.families["bondcast_link_packets_sent_total"].type, "counter");
  EXPECT_EQ(value(e, "bondcast_link_packets_sent_total" + up), 200);
  EXPECT_EQ(value(e, "bondcast_link_bytes_sent_total" + up), 200 * 1316);
  EXPECT_EQ(e.families["bondcast_link_rtt_seconds"].type, "gauge");
  EXPECT_DOUBLE_EQ(value(e, "bondcast_link_rtt_seconds" + up), 0.025);
  EXPECT_DOUBLE_EQ(value(e, "bondcast_link_send_rate_bytes_per_second" + up), 250000);
  EXPECT_DOUBLE_EQ(value(e, "bondcast_link_model_capacity_bytes_per_second" + up), 1e6);
  EXPECT_DOUBLE_EQ(value(e, "bondcast_link_send_buffer_seconds" + up), 0.012);
  EXPECT_EQ(value(e, "bondcast_link_up" + up), 1);
  EXPECT_EQ(value(e, R"(bondcast_link_up{link="srt://127.0.0.1:9001",mode="adaptive",})"), 0);
  EXPECT_EQ(
      value(
          e,
          R"(bondcast_link_state{link="srt://127.0.0.1:9001",mode="adaptive",state="connecting",})"),
      1);
  EXPECT_EQ(
      value(
          e,
          R"(bondcast_link_scheduler_decisions_total{decision="picked",link="srt://127.0.0.1:9000?passphrase=***",mode="adaptive",})"),
      100);
  EXPECT_EQ(value(e, R"(bondcast_sender_payloads_sent_total{mode="adaptive",})"), 378);
  EXPECT_EQ(value(e, R"(bondcast_sender_links_up{mode="adaptive",})"), 1);
  EXPECT_EQ(value(e, R"(bondcast_sender_overloaded{mode="adaptive",})"), 0);
  EXPECT_DOUBLE_EQ(value(e, R"(bondcast_sender_feedback_seconds_total{mode="adaptive",})"), 0.0025);
  EXPECT_DOUBLE_EQ(
      value(e, R"(bondcast_sender_recommended_rate_bytes_per_second{mode="adaptive",})"), 5e5);
  EXPECT_EQ(
      value(e, R"(bondcast_scheduler_dropped_late_total{mode="adaptive",policy="latency-aware",})"),
      2);
  EXPECT_EQ(
      value(e, R"(bondcast_scheduler_receipts_total{mode="adaptive",policy="latency-aware",})"),
      42);
  EXPECT_DOUBLE_EQ(value(e, "bondcast_stats_age_seconds{}"), 0.4);
}

TEST(SenderMetrics, NeverShowAPassphrase) {
  const std::string text = senderMetrics({adaptiveSenderRecord(), 0});
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_NE(text.find("passphrase=***"), std::string::npos);
}

TEST(SenderMetrics, OfABackupSenderMarkTheActiveLink) {
  json r = adaptiveSenderRecord();
  r["mode"] = "backup";
  r.erase("scheduler");
  r["active_link"] = 1;
  auto e = wellFormed(senderMetrics({r, 0}));
  EXPECT_EQ(value(e, R"(bondcast_link_active{link="srt://127.0.0.1:9001",mode="backup",})"), 1);
  EXPECT_EQ(
      value(e,
            R"(bondcast_link_active{link="srt://127.0.0.1:9000?passphrase=***",mode="backup",})"),
      0);
  EXPECT_EQ(e.families.count("bondcast_scheduler_packets_total"), 0u);
}

TEST(SenderMetrics, BeforeTheFirstRecordAreEmptyButWellFormed) {
  EXPECT_EQ(senderMetrics({}), "");
}

TEST(ReceiverMetrics, AreWellFormedPerStreamAndPerLinkOfAStream) {
  auto e = wellFormed(receiverMetrics(
      {receiverRecord("cam1"), 0.2},
      {{std::string("srt://:9000?passphrase=") + kSecret, 9000}, {"srt://:9001", 9001}}));
  const std::string s = R"({mode="adaptive",session="0a1b2c3d",stream="cam1",})";
  EXPECT_EQ(value(e, "bondcast_stream_payloads_total" + s), 1760);
  EXPECT_EQ(value(e, "bondcast_stream_active" + s), 1);
  EXPECT_EQ(value(e, "bondcast_stream_lost_total" + s), 3);
  EXPECT_DOUBLE_EQ(value(e, "bondcast_stream_latency_seconds" + s), 0.3);
  EXPECT_DOUBLE_EQ(
      value(
          e,
          R"(bondcast_stream_playout_margin_seconds{quantile="0.5",session="0a1b2c3d",stream="cam1",})"),
      0.25);
  EXPECT_DOUBLE_EQ(
      value(
          e,
          R"(bondcast_stream_playout_margin_seconds{quantile="1",session="0a1b2c3d",stream="cam1",})"),
      0.299);
  EXPECT_EQ(e.families["bondcast_stream_playout_margin_seconds"].type, "gauge");
  const std::string l1 = R"({link="link 1",session="0a1b2c3d",stream="cam1",})";
  EXPECT_EQ(value(e, "bondcast_stream_link_payloads_total" + l1), 880);
  EXPECT_EQ(value(e, "bondcast_stream_link_packets_received_total" + l1), 900);
  EXPECT_DOUBLE_EQ(value(e, "bondcast_stream_link_base_delay_seconds" + l1), 0.0125);
  EXPECT_DOUBLE_EQ(value(e, "bondcast_stream_link_receive_rate_bytes_per_second" + l1), 312500);
  EXPECT_EQ(value(e, R"(bondcast_receiver_refused_handshakes_total{reason="ended_session",})"), 2);
  EXPECT_EQ(value(e, R"(bondcast_receiver_refused_handshakes_total{reason="unknown_stream",})"),
            1234);
  EXPECT_EQ(value(e, R"(bondcast_receiver_listening{listen="srt://:9001",port="9001",})"), 1);
  // The ended group stream of the same name has its own series (no session).
  EXPECT_EQ(value(e, R"(bondcast_stream_payloads_total{mode="group",session="",stream="cam1",})"),
            7);
}

TEST(ReceiverMetrics, EscapeStreamNamesAndHideListenPassphrases) {
  const std::string name = "cam \"1\"\\\nB";
  const std::string text =
      receiverMetrics({receiverRecord(name), 0},
                      {{std::string("srt://:9000?passphrase=") + kSecret + "&latency=300", 9000}});
  auto e = wellFormed(text);
  bool found = false;
  for (const auto& labels : e.labels["bondcast_stream_payloads_total"]) {
    found = found || labels.at("stream") == name;
  }
  EXPECT_TRUE(found) << text;
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
}

TEST(StatsBody, HidesPassphrasesInEveryString) {
  json masked = maskedStats(adaptiveSenderRecord());
  EXPECT_EQ(masked.dump().find(kSecret), std::string::npos);
  EXPECT_EQ(masked["links"][0]["link"], "srt://127.0.0.1:9000?passphrase=***");
  EXPECT_EQ(masked["payloads"], 380);
}

TEST(Health, OfASenderNeedsAFreshRecordWithALinkUp) {
  EXPECT_TRUE(senderHealth({adaptiveSenderRecord(), 1}).ok);
  EXPECT_EQ(senderHealth({adaptiveSenderRecord(), 1}).body["links_up"], 1);

  Health none = senderHealth({});
  EXPECT_FALSE(none.ok);
  EXPECT_NE(none.body["reason"].get<std::string>().find("connecting"), std::string::npos);

  json down = adaptiveSenderRecord();
  down["links"][0]["state"] = "broken";
  Health h = senderHealth({down, 1});
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(h.body["reason"], "no link is up");

  json last = adaptiveSenderRecord();
  last["final"] = true;
  EXPECT_FALSE(senderHealth({last, 1}).ok);

  Health stale = senderHealth({adaptiveSenderRecord(), kStaleAfterSeconds + 1});
  EXPECT_FALSE(stale.ok);
  EXPECT_NE(stale.body["reason"].get<std::string>().find("not updated"), std::string::npos);
  EXPECT_EQ(stale.body.dump().find(kSecret), std::string::npos);
}

TEST(Health, OfAReceiverNeedsItToListen) {
  const std::vector<ListenerInfo> listeners = {{"srt://:9000", 9000}};
  Health h = receiverHealth({}, true, listeners);
  EXPECT_TRUE(h.ok);
  EXPECT_EQ(h.body["listening"], json::array({9000}));
  EXPECT_EQ(receiverHealth({receiverRecord("cam1"), 1}, true, listeners).body["streams_active"], 1);
  EXPECT_FALSE(receiverHealth({receiverRecord("cam1"), 1}, false, listeners).ok);
  EXPECT_FALSE(
      receiverHealth({receiverRecord("cam1"), kStaleAfterSeconds + 1}, true, listeners).ok);
}

}  // namespace
}  // namespace bondcast::app
