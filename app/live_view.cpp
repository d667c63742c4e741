// SPDX-License-Identifier: MPL-2.0
#include "app/live_view.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "common/srt_uri.h"
#include "common/uri.h"

namespace bondcast::app {
namespace {

constexpr std::size_t kMaxNameWidth = 40;

// One link's row, figures over the last interval.
struct Row {
  std::string number;  // "1", "2*"
  std::string name;
  std::string state;
  double rtt_ms = 0;
  std::int64_t packets = 0;  // sent or received in the interval
  std::int64_t lost = 0;
  double mbps = 0;
};

std::int64_t counter(const nlohmann::json& j, const char* key) {
  return j.value(key, std::int64_t{0});
}

std::string fitted(const std::string& text, std::size_t width) {
  if (text.size() <= width) {
    return text;
  }
  return text.substr(0, width - 1) + "~";
}

// The header and the rows, the name column as wide as the longest name; `rate` names
// the rate column.
std::vector<std::string> tableLines(const std::vector<Row>& rows, const std::string& rate,
                                    const std::string& indent) {
  std::int64_t all = 0;
  std::size_t width = 4;
  for (const auto& r : rows) {
    all += r.packets;
    width = std::max(width, std::min(r.name.size(), kMaxNameWidth));
  }
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{}{:>3}  {:<{}}  {:<10} {:>7} {:>7} {:>12} {:>8}", indent, "#",
                              "link", width, "state", "rtt ms", "loss %", rate, "share %"));
  for (const auto& r : rows) {
    const double share =
        all > 0 ? 100.0 * static_cast<double>(r.packets) / static_cast<double>(all) : 0;
    // Packets reported lost per packet the interval carried (retransmissions included,
    // as the demo always counted); none carried, nothing to say.
    const std::string loss =
        r.packets > 0 ? fmt::format("{:.1f}", std::min(100.0, 100.0 * static_cast<double>(r.lost) /
                                                                  static_cast<double>(r.packets)))
                      : "-";
    lines.push_back(fmt::format("{}{:>3}  {:<{}}  {:<10} {:>7.1f} {:>7} {:>12.2f} {:>8.1f}", indent,
                                r.number, fitted(r.name, width), width, r.state, r.rtt_ms, loss,
                                r.mbps, share));
  }
  return lines;
}

// A stream's line: its id, mode, payloads written and what adaptive sessions add.
std::string streamLine(const nlohmann::json& s) {
  const std::string id = s.value("stream", "");
  std::string line =
      fmt::format("stream {}  {}", id.empty() ? "(no id)" : id, s.value("mode", "?"));
  if (s.contains("session")) {
    line += fmt::format("  session {}", s.value("session", ""));
  }
  line += fmt::format("  payloads {}", counter(s, "payloads"));
  for (const char* key : {"lost", "late"}) {
    if (s.contains(key)) {
      line += fmt::format("  {} {}", key, counter(s, key));
    }
  }
  if (s.contains("latency_ms")) {
    line += fmt::format("  latency {:.0f} ms", s.value("latency_ms", 0.0));
  }
  return line;
}

std::string finalMark(const nlohmann::json& record) {
  return record.value("final", false) ? "  (final)" : "";
}

}  // namespace

std::string formatElapsed(std::chrono::seconds elapsed) {
  const auto s = std::max<std::int64_t>(elapsed.count(), 0);
  if (s >= 3600) {
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  }
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string shortLinkName(const std::string& uri) {
  auto parsed = parseUri(uri);
  if (!parsed) {
    return maskSecrets(uri);
  }
  std::string name = parsed->hostPort();
  for (const char* key : {"bind", "dev"}) {
    if (auto v = parsed->param(key)) {
      name += fmt::format(" {}={}", key, *v);
    }
  }
  return name;
}

IntervalCounters::Delta IntervalCounters::update(const std::string& key, std::int64_t packets_total,
                                                 std::int64_t lost_total) {
  Totals before;  // a link not seen before counts from zero
  if (auto it = previous_.find(key); it != previous_.end()) {
    before = it->second;
  }
  // A counter that went back belongs to a new SRT socket: it counts from zero.
  if (packets_total < before.packets || lost_total < before.lost) {
    before = {};
  }
  current_[key] = {packets_total, lost_total};
  return {packets_total - before.packets, lost_total - before.lost};
}

void IntervalCounters::next() {
  previous_ = std::move(current_);
  current_.clear();
}

SenderTable::SenderTable(std::map<std::string, std::string> names) : names_(std::move(names)) {}

std::string SenderTable::displayName(const std::string& uri) const {
  auto it = names_.find(uri);
  return it != names_.end() ? it->second : shortLinkName(uri);
}

std::vector<std::string> SenderTable::render(const nlohmann::json& record,
                                             std::chrono::seconds elapsed) {
  const nlohmann::json links = record.value("links", nlohmann::json::array());
  const int active = record.value("active_link", -1);
  std::vector<Row> rows;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const auto& l = links[i];
    const std::string uri = l.value("link", "");
    const auto d = counters_.update(uri, counter(l, "pkts_sent"), counter(l, "pkts_lost_send"));
    const std::string name = displayName(uri);
    rows.push_back({std::to_string(i + 1) + (static_cast<int>(i) == active ? "*" : ""), name,
                    l.value("state", "?"), l.value("rtt_ms", 0.0), d.packets, d.lost,
                    l.value("send_mbps", 0.0)});
    auto c = std::find_if(carried_.begin(), carried_.end(),
                          [&](const auto& entry) { return entry.first == name; });
    if (c == carried_.end()) {
      carried_.emplace_back(name, d.packets);
    } else {
      c->second += d.packets;
    }
  }
  counters_.next();

  std::string title =
      fmt::format("bondcast send  {} mode  {}  payloads {} sent, {} dropped",
                  record.value("mode", "?"), formatElapsed(elapsed),
                  counter(record, "payloads_sent"), counter(record, "payloads_dropped"));
  if (const auto bps = counter(record, "recommended_bitrate_bps"); bps > 0) {
    title += fmt::format("  encoder {:.2f} Mbit/s recommended", static_cast<double>(bps) / 1e6);
  }
  if (record.value("overloaded", false)) {
    title += "  OVERLOADED";
  }
  title += finalMark(record);
  std::vector<std::string> lines = {title};
  auto table = tableLines(rows, "send Mbit/s", "");
  lines.insert(lines.end(), table.begin(), table.end());
  return lines;
}

std::vector<std::pair<std::string, std::int64_t>> SenderTable::packetsCarried() const {
  return carried_;
}

std::vector<std::string> ReceiverTable::streamBlock(const nlohmann::json& s) {
  std::vector<std::string> lines = {streamLine(s)};
  const nlohmann::json links = s.value("links", nlohmann::json::array());
  if (links.empty()) {
    lines.emplace_back("  no links");
    return lines;
  }
  // Links are known within their stream (every adaptive session has a "link 0").
  const std::string stream = fmt::format("{}\n{}\n", s.value("stream", ""), s.value("session", ""));
  std::vector<Row> rows;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const auto& l = links[i];
    const std::string name = l.value("link", "");
    const auto d =
        counters_.update(stream + name, counter(l, "pkts_received"), counter(l, "pkts_lost_recv"));
    rows.push_back({std::to_string(i + 1), name, l.value("state", "?"), l.value("rtt_ms", 0.0),
                    d.packets, d.lost, l.value("recv_mbps", 0.0)});
  }
  auto table = tableLines(rows, "recv Mbit/s", "  ");
  lines.insert(lines.end(), table.begin(), table.end());
  return lines;
}

std::vector<std::string> ReceiverTable::render(const nlohmann::json& record,
                                               std::chrono::seconds elapsed) {
  const bool final = record.value("final", false);
  const nlohmann::json streams = record.value("streams", nlohmann::json::array());
  std::vector<std::string> blocks;
  int shown = 0;
  for (const auto& s : streams) {
    if (final || s.value("active", false)) {
      ++shown;
      auto block = streamBlock(s);
      blocks.insert(blocks.end(), block.begin(), block.end());
    }
  }
  counters_.next();

  std::int64_t refused = 0;
  const nlohmann::json reasons = record.value("refused", nlohmann::json::object());
  for (const auto& [reason, count] : reasons.items()) {
    refused += count.is_number_integer() ? count.get<std::int64_t>() : 0;
  }
  const int ended = final ? 0 : static_cast<int>(streams.size()) - shown;
  std::string title = fmt::format("bondcast recv  {}  {} stream{}", formatElapsed(elapsed), shown,
                                  shown == 1 ? "" : "s");
  if (ended > 0) {
    title += fmt::format(" ({} ended)", ended);
  }
  if (refused > 0) {
    title += fmt::format("  refused {} handshakes", refused);
  }
  title += finalMark(record);
  std::vector<std::string> lines = {title};
  if (!listeners_.empty()) {
    std::string listening = "listening on";
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      listening += (i == 0 ? " " : ", ") + listeners_[i];
    }
    lines.push_back(listening);
  }
  if (shown == 0) {
    lines.emplace_back("waiting for senders");
  }
  lines.insert(lines.end(), blocks.begin(), blocks.end());
  return lines;
}

}  // namespace bondcast::app
