// SPDX-License-Identifier: MPL-2.0
// The live view's tables (app/live_view.h) made from stats records of the shapes
// SendSession::statsJson and Receiver::statsJson produce: one row per link, loss and
// share over the last interval from the cumulative counters, links that come and go,
// streams with no links.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "app/live_view.h"

namespace bondcast::app {
namespace {

using nlohmann::json;
using std::chrono::seconds;

json senderLink(const std::string& uri, const std::string& state, double rtt_ms, double mbps,
                int sent, int lost) {
  return {{"link", uri},         {"state", state},
          {"rtt_ms", rtt_ms},    {"send_mbps", mbps},
          {"recv_mbps", 0.0},    {"pkts_sent", sent},
          {"pkts_received", 0},  {"pkts_lost_send", lost},
          {"pkts_lost_recv", 0}, {"bytes_sent", sent * 1316}};
}

json senderRecord(const std::vector<json>& links, int payloads = 1000) {
  return {{"mode", "adaptive"},    {"payloads_sent", payloads},
          {"payloads_dropped", 2}, {"recommended_bitrate_bps", 7'500'000},
          {"overloaded", false},   {"links", links}};
}

// A record of links srt://NAME, up, each with its cumulative packets sent and lost.
json sending(std::initializer_list<std::tuple<std::string, int, int>> links) {
  std::vector<json> out;
  for (const auto& [name, sent, lost] : links) {
    out.push_back(senderLink("srt://" + name, "up", 10, 1, sent, lost));
  }
  return senderRecord(out);
}

json receiverLink(const std::string& name, int received, int lost) {
  return {{"link", name},
          {"state", "up"},
          {"rtt_ms", 20.0},
          {"send_mbps", 0.0},
          {"recv_mbps", 3.5},
          {"pkts_sent", 0},
          {"pkts_received", received},
          {"pkts_lost_send", 0},
          {"pkts_lost_recv", lost}};
}

json adaptiveStream(const std::string& id, const std::vector<json>& links, bool active = true) {
  return {{"stream", id},     {"mode", "adaptive"},  {"session", "1a2b3c4d"},
          {"active", active}, {"payloads", 5000},    {"lost", 3},
          {"late", 1},        {"latency_ms", 300.0}, {"links", links}};
}

json receiverRecord(const std::vector<json>& streams) {
  return {{"streams", streams}, {"refused", {{"wrong_passphrase", 0}, {"unknown_stream", 0}}}};
}

// A row's cells from the right: share %, rate, loss %, RTT, state; then the rest
// (number and name, which may hold spaces).
struct Cells {
  std::string number, name, state, rtt, loss, rate, share;
};

Cells cells(const std::string& row) {
  std::istringstream in(row);
  std::vector<std::string> words;
  for (std::string w; in >> w;) {
    words.push_back(w);
  }
  EXPECT_GE(words.size(), 7U) << "not a row: " << row;
  if (words.size() < 7) {
    return {};
  }
  Cells c;
  const auto n = words.size();
  c.share = words[n - 1];
  c.rate = words[n - 2];
  c.loss = words[n - 3];
  c.rtt = words[n - 4];
  c.state = words[n - 5];
  c.number = words[0];
  for (std::size_t i = 1; i < n - 5; ++i) {
    c.name += (i > 1 ? " " : "") + words[i];
  }
  return c;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) {
    text += l + "\n";
  }
  return text;
}

// The lines of `second` rendered after `first`: figures over the interval between them.
template <class Table>
std::vector<std::string> after(Table& table, const json& first, const json& second) {
  table.render(first, seconds(1));
  return table.render(second, seconds(2));
}

TEST(SenderTable, ShowsATitleAHeaderAndOneRowPerLink) {
  SenderTable table;
  auto lines =
      table.render(senderRecord({senderLink("srt://127.0.0.1:9000", "up", 12, 3.95, 100, 1),
                                 senderLink("srt://127.0.0.1:9001", "up", 61.3, 1.5, 300, 0)}),
                   seconds(72));
  EXPECT_EQ(joined(lines),
            "bondcast send  adaptive mode  1:12  payloads 1000 sent, 2 dropped  encoder 7.50 "
            "Mbit/s recommended\n"
            "  #  link            state       rtt ms  loss %  send Mbit/s  share %\n"
            "  1  127.0.0.1:9000  up            12.0     1.0         3.95     25.0\n"
            "  2  127.0.0.1:9001  up            61.3     0.0         1.50     75.0\n");
}

TEST(SenderTable, LossAndShareAreOverTheLastIntervalFromTheCounters) {
  SenderTable table;
  // In the interval: a sent 300 and lost 3, b sent 100 and lost 5.
  auto lines = after(table, sending({{"a:1", 100, 50}, {"b:1", 100, 0}}),
                     sending({{"a:1", 400, 53}, {"b:1", 200, 5}}));
  ASSERT_EQ(lines.size(), 4U);
  Cells a = cells(lines[2]), b = cells(lines[3]);
  EXPECT_EQ(a.name, "a:1");
  EXPECT_EQ(a.loss, "1.0");
  EXPECT_EQ(a.share, "75.0");
  EXPECT_EQ(b.name, "b:1");
  EXPECT_EQ(b.loss, "5.0");
  EXPECT_EQ(b.share, "25.0");
}

TEST(SenderTable, ALinkThatAppearsCountsFromZeroAndOneThatGoesIsForgotten) {
  SenderTable table;
  // b is gone, c is new: a sent 100 more, c 300 since it came.
  auto lines = after(table, sending({{"a:1", 100, 0}, {"b:1", 100, 0}}),
                     senderRecord({senderLink("srt://a:1", "up", 10, 1, 200, 0),
                                   senderLink("srt://c:1", "connecting", 0, 0, 300, 3)}));
  ASSERT_EQ(lines.size(), 4U) << joined(lines);
  EXPECT_EQ(cells(lines[2]).name, "a:1");
  EXPECT_EQ(cells(lines[2]).share, "25.0");
  EXPECT_EQ(cells(lines[3]).name, "c:1");
  EXPECT_EQ(cells(lines[3]).state, "connecting");
  EXPECT_EQ(cells(lines[3]).share, "75.0");
  EXPECT_EQ(cells(lines[3]).loss, "1.0");
  // b again, with more than it had: it was forgotten, so all of it is this interval's.
  lines = table.render(sending({{"a:1", 300, 0}, {"b:1", 300, 0}, {"c:1", 300, 3}}), seconds(3));
  ASSERT_EQ(lines.size(), 5U) << joined(lines);
  EXPECT_EQ(cells(lines[2]).share, "25.0");  // a: 100 of 400
  EXPECT_EQ(cells(lines[3]).share, "75.0");  // b: 300
  EXPECT_EQ(cells(lines[4]).share, "0.0");   // c: none
  EXPECT_EQ(cells(lines[4]).loss, "-");      // nothing sent, no loss to speak of
}

TEST(SenderTable, ACounterThatGoesBackIsANewSocketCountingFromZero) {
  SenderTable table;
  auto lines = after(table, sending({{"a:1", 5000, 40}}), sending({{"a:1", 200, 2}}));
  EXPECT_EQ(cells(lines[2]).loss, "1.0");
  EXPECT_EQ(cells(lines[2]).share, "100.0");
}

TEST(SenderTable, MarksBackupModesActiveLinkAndAnOverloadedSender) {
  SenderTable table;
  json record = senderRecord(
      {senderLink("srt://a:1", "idle", 10, 0, 0, 0), senderLink("srt://b:1", "up", 10, 4, 100, 0)});
  record["mode"] = "backup";
  record["active_link"] = 1;
  record["overloaded"] = true;
  record.erase("recommended_bitrate_bps");
  auto lines = table.render(record, seconds(5));
  EXPECT_EQ(lines[0],
            "bondcast send  backup mode  0:05  payloads 1000 sent, 2 dropped  OVERLOADED");
  EXPECT_EQ(cells(lines[2]).number, "1");
  EXPECT_EQ(cells(lines[3]).number, "2*");
}

TEST(SenderTable, CallsLinksByTheirShortNameOrTheNameGiven) {
  SenderTable table(std::map<std::string, std::string>{{"srt://10.0.0.1:9000?weight=3", "cell-A"}});
  auto lines = table.render(
      senderRecord(
          {senderLink("srt://10.0.0.1:9000?weight=3", "up", 10, 1, 100, 0),
           senderLink("srt://studio:9000?bind=192.168.8.100&passphrase=a-long-secret&cost=3", "up",
                      10, 1, 100, 0)}),
      seconds(1));
  EXPECT_EQ(cells(lines[2]).name, "cell-A");
  EXPECT_EQ(cells(lines[3]).name, "studio:9000 bind=192.168.8.100");
  EXPECT_EQ(joined(lines).find("secret"), std::string::npos);
}

TEST(SenderTable, SaysWhatEachLinkCarriedOverAllRecords) {
  SenderTable table(std::map<std::string, std::string>{{"srt://a:1", "cell-A"}});
  after(table, sending({{"a:1", 100, 0}}), sending({{"a:1", 150, 0}, {"b:1", 70, 0}}));
  auto carried = table.packetsCarried();
  ASSERT_EQ(carried.size(), 2U);
  EXPECT_EQ(carried[0], (std::pair<std::string, std::int64_t>{"cell-A", 150}));
  EXPECT_EQ(carried[1], (std::pair<std::string, std::int64_t>{"b:1", 70}));
}

TEST(SenderTable, TheFinalRecordSaysSo) {
  SenderTable table;
  json record = sending({{"a:1", 100, 0}});
  record["final"] = true;
  auto lines = table.render(record, seconds(3725));
  EXPECT_NE(lines[0].find("1:02:05"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("(final)"), std::string::npos) << lines[0];
}

TEST(ShortLinkName, KeepsWhatTellsLinksApartAndNoSecret) {
  EXPECT_EQ(shortLinkName("srt://studio.example:9000"), "studio.example:9000");
  EXPECT_EQ(shortLinkName("srt://studio:9000?dev=wwan0&weight=2&bind=10.0.1.2"),
            "studio:9000 bind=10.0.1.2 dev=wwan0");
  EXPECT_EQ(shortLinkName("srt://[::1]:9000"), "[::1]:9000");
  EXPECT_EQ(shortLinkName("nonsense?passphrase=a-long-secret"), "nonsense?passphrase=***");
}

TEST(ReceiverTable, ShowsABlockPerStreamWithOneRowPerLink) {
  ReceiverTable table;
  table.setListeners({"srt://:9000 (port 9000)", "srt://:9001 (port 9001)"});
  json group = {{"stream", ""},       {"mode", "group"},
                {"active", true},     {"payloads", 42},
                {"output", "out.ts"}, {"links", {receiverLink("127.0.0.1:5000", 100, 0)}}};
  auto lines = table.render(
      receiverRecord(
          {adaptiveStream("cam1", {receiverLink("link 0", 100, 0), receiverLink("link 1", 300, 3)}),
           group}),
      seconds(9));
  EXPECT_EQ(joined(lines),
            "bondcast recv  0:09  2 streams\n"
            "listening on srt://:9000 (port 9000), srt://:9001 (port 9001)\n"
            "stream cam1  adaptive  session 1a2b3c4d  payloads 5000  lost 3  late 1  latency "
            "300 ms\n"
            "    #  link    state       rtt ms  loss %  recv Mbit/s  share %\n"
            "    1  link 0  up            20.0     0.0         3.50     25.0\n"
            "    2  link 1  up            20.0     1.0         3.50     75.0\n"
            "stream (no id)  group  payloads 42\n"
            "    #  link            state       rtt ms  loss %  recv Mbit/s  share %\n"
            "    1  127.0.0.1:5000  up            20.0     0.0         3.50    100.0\n");
}

TEST(ReceiverTable, LossAndShareAreOverTheLastIntervalPerStream) {
  ReceiverTable table;
  auto lines = after(
      table,
      receiverRecord(
          {adaptiveStream("cam1", {receiverLink("link 0", 100, 0), receiverLink("link 1", 100, 0)}),
           adaptiveStream("cam2", {receiverLink("link 0", 900, 9)})}),
      receiverRecord(
          {adaptiveStream("cam1", {receiverLink("link 0", 200, 2), receiverLink("link 1", 400, 0)}),
           adaptiveStream("cam2", {receiverLink("link 0", 1000, 9)})}));
  ASSERT_EQ(lines.size(), 8U) << joined(lines);
  EXPECT_EQ(cells(lines[3]).loss, "2.0");
  EXPECT_EQ(cells(lines[3]).share, "25.0");
  EXPECT_EQ(cells(lines[4]).share, "75.0");
  // cam2's link 0 is not cam1's: its own counters.
  EXPECT_EQ(cells(lines[7]).loss, "0.0");
  EXPECT_EQ(cells(lines[7]).share, "100.0");
}

TEST(ReceiverTable, AStreamWithNoLinksSaysSo) {
  ReceiverTable table;
  auto lines = table.render(receiverRecord({adaptiveStream("cam1", {})}), seconds(1));
  ASSERT_EQ(lines.size(), 3U) << joined(lines);
  EXPECT_EQ(lines[1],
            "stream cam1  adaptive  session 1a2b3c4d  payloads 5000  lost 3  late 1  "
            "latency 300 ms");
  EXPECT_EQ(lines[2], "  no links");
}

TEST(ReceiverTable, ShowsActiveStreamsAndCountsTheEndedOnesUntilTheFinalRecord) {
  ReceiverTable table;
  json record = receiverRecord({adaptiveStream("old", {receiverLink("link 0", 10, 0)}, false),
                                adaptiveStream("cam1", {receiverLink("link 0", 10, 0)})});
  record["refused"]["wrong_passphrase"] = 4;
  auto lines = table.render(record, seconds(1));
  EXPECT_EQ(lines[0], "bondcast recv  0:01  1 stream (1 ended)  refused 4 handshakes");
  EXPECT_EQ(joined(lines).find("stream old"), std::string::npos) << joined(lines);
  record["final"] = true;
  lines = table.render(record, seconds(2));
  EXPECT_EQ(lines[0], "bondcast recv  0:02  2 streams  refused 4 handshakes  (final)");
  EXPECT_NE(joined(lines).find("stream old"), std::string::npos) << joined(lines);
}

TEST(ReceiverTable, WaitsForSendersBeforeTheFirstStream) {
  ReceiverTable table;
  auto lines = table.render(receiverRecord({}), seconds(0));
  EXPECT_EQ(joined(lines), "bondcast recv  0:00  0 streams\nwaiting for senders\n");
}

}  // namespace
}  // namespace bondcast::app
