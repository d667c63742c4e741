// SPDX-License-Identifier: MPL-2.0
// The live per-link view of `bondcast send`, `recv` and `demo`: the stats records the
// sender and the receiver make once per interval (SendSession::statsJson,
// Receiver::statsJson), turned into the lines of a table. Pure: no I/O, no clock (the
// time since the start is passed in); terminal_view.h draws the lines.
//
// The records hold cumulative packet counters per link; loss and share are over the
// last interval, from the change of those counters since the previous record. A link
// is known by its name in the record (its URI at the sender): one that appears starts
// from zero, one that disappears is forgotten, and a counter that goes back (a link
// reconnected: a new SRT socket) counts from zero again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bondcast::app {

// "HOST:PORT" of a link URI, followed by its bind= and dev= parameters (what tells
// links to the same receiver port apart); the URI with secrets masked if it does not
// parse.
std::string shortLinkName(const std::string& uri);

// The change of cumulative counters since the previous record, per link name.
class IntervalCounters {
 public:
  struct Delta {
    std::int64_t packets = 0;  // packets sent (sender) or received (receiver)
    std::int64_t lost = 0;     // of them, reported lost
  };
  // Call once per link of a record, then next() before the following record.
  Delta update(const std::string& key, std::int64_t packets_total, std::int64_t lost_total);
  // Ends a record: links it did not name are forgotten.
  void next();

 private:
  struct Totals {
    std::int64_t packets = 0;
    std::int64_t lost = 0;
  };
  std::map<std::string, Totals> previous_;
  std::map<std::string, Totals> current_;
};

// The sender's table: a title line (mode, payloads, the encoder bitrate adaptive mode
// recommends), a header and one row per link: number (* marks backup mode's active
// link), name, state, RTT ms, loss % and share % of the packets sent in the interval,
// send rate Mbit/s.
class SenderTable {
 public:
  // `names`: what to call a link instead of shortLinkName(URI), by URI (the demo's
  // "cell-A").
  explicit SenderTable(std::map<std::string, std::string> names = {});

  // Call with every record, in order. `elapsed`: time since the start (shown).
  std::vector<std::string> render(const nlohmann::json& record, std::chrono::seconds elapsed);

  // Packets each link sent over all records rendered (its shown name, packets), in the
  // order the links first appeared.
  std::vector<std::pair<std::string, std::int64_t>> packetsCarried() const;

 private:
  std::string displayName(const std::string& uri) const;

  std::map<std::string, std::string> names_;
  IntervalCounters counters_;
  std::vector<std::pair<std::string, std::int64_t>> carried_;
};

// The receiver's table: a title line, the ports it listens on, then one block per stream (active
// streams; all of them in the final record): a line with its id, mode, payloads written and, for
// adaptive sessions, lost and late payloads and the latency; a header and one row per
// link: number, name, state, RTT ms, loss % and share % of the packets received in the
// interval, receive rate Mbit/s.
class ReceiverTable {
 public:
  // Shown under the title ("srt://:9000 (port 9000)"), once the receiver listens.
  void setListeners(std::vector<std::string> listeners) { listeners_ = std::move(listeners); }

  std::vector<std::string> render(const nlohmann::json& record, std::chrono::seconds elapsed);

 private:
  std::vector<std::string> streamBlock(const nlohmann::json& stream);

  std::vector<std::string> listeners_;
  IntervalCounters counters_;
};

// "1:02:03" for hours, "2:03" below.
std::string formatElapsed(std::chrono::seconds elapsed);

}  // namespace bondcast::app
