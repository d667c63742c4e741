// SPDX-License-Identifier: MPL-2.0
// What `--http` serves, made from the stats records that `--stats` writes: the one place
// where those records become Prometheus metrics (/metrics), the /stats body and the
// /health verdict. Pure functions of a record; no I/O, no clock (the record's age is
// passed in).
//
// Metric names (Prometheus conventions: base units seconds and bytes, `_total` for
// counters):
//   sender:   bondcast_sender_* {mode}, bondcast_scheduler_* {mode, policy} and per link
//             bondcast_link_* {link, mode} (link: the link URI, passphrase masked)
//   receiver: bondcast_receiver_* , per stream bondcast_stream_* {stream, session, mode}
//             and per link of a stream bondcast_stream_link_* {stream, session, link}
//   both:     bondcast_stats_age_seconds (how old the record is)
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace bondcast::app {

// The latest stats record (null before the first one) and how old it is.
struct StatsView {
  nlohmann::json record;  // null: none yet
  double age_seconds = 0;
};

// A receiver's listener, for bondcast_receiver_listening.
struct ListenerInfo {
  std::string uri;  // as given; its passphrase is masked here
  std::uint16_t port = 0;
};

// Prometheus text (common/prometheus.h) of a sender's record (SendSession::statsJson).
std::string senderMetrics(const StatsView& view);
// Prometheus text of a receiver's record (Receiver::statsJson) and its listeners.
std::string receiverMetrics(const StatsView& view, const std::vector<ListenerInfo>& listeners);

// The record with every string that holds a URI's passphrase masked (srt_uri.h).
nlohmann::json maskedStats(const nlohmann::json& record);

struct Health {
  bool ok = false;      // 200 when true, 503 otherwise
  nlohmann::json body;  // {"status": "ok"|"unavailable", "reason": ..., ...}
};
// Records older than this make /health fail: the stats thread is stuck.
inline constexpr double kStaleAfterSeconds = 10;
// Healthy while the latest record is fresh, not the last one and has a link up.
Health senderHealth(const StatsView& view);
// Healthy while the receiver listens (and its latest record, if any, is fresh).
Health receiverHealth(const StatsView& view, bool listening,
                      const std::vector<ListenerInfo>& listeners);

}  // namespace bondcast::app
