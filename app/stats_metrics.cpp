// SPDX-License-Identifier: MPL-2.0
#include "app/stats_metrics.h"

#include <initializer_list>

#include "common/prometheus.h"
#include "common/srt_uri.h"

namespace bondcast::app {
namespace {

using nlohmann::json;
using prom::Exposition;
using prom::Labels;
using prom::Type;

// How a record's unit becomes a base unit: value * multiply / divide (each exact, so that
// 25 ms reads 0.025 s, not 0.025000000000000001).
struct Unit {
  double multiply = 1;
  double divide = 1;
};
constexpr Unit kMs{1, 1000};             // ms -> s
constexpr Unit kUs{1, 1e6};              // us -> s
constexpr Unit kMbpsToBytes{125000, 1};  // Mbit/s -> bytes/s
constexpr Unit kBpsToBytes{1, 8};        // bit/s -> bytes/s

// One number of a record and the metric it becomes.
struct Field {
  const char* key;
  const char* name;
  Type type;
  const char* help;
  Unit unit = {};
};

// The number at `key` (a bool is 0 or 1); nullopt when absent or not a number.
std::optional<double> number(const json& j, const char* key) {
  if (!j.is_object()) {
    return std::nullopt;
  }
  auto it = j.find(key);
  if (it == j.end()) {
    return std::nullopt;
  }
  if (it->is_boolean()) {
    return it->get<bool>() ? 1.0 : 0.0;
  }
  if (it->is_number()) {
    return it->get<double>();
  }
  return std::nullopt;
}

std::string text(const json& j, const char* key) {
  if (!j.is_object()) {
    return {};
  }
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

void addFields(Exposition& e, const json& j, const Labels& labels,
               std::initializer_list<Field> fields) {
  for (const Field& f : fields) {
    if (auto v = number(j, f.key)) {
      e.add(f.name, f.type, f.help, labels, *v * f.unit.multiply / f.unit.divide);
    }
  }
}

Labels with(Labels labels, const std::string& name, const std::string& value) {
  labels.emplace_back(name, value);
  return labels;
}

// What libsrt reports of one link (common/srt/link_stats.h's toJson), under `prefix`.
void addSrtLink(Exposition& e, const std::string& prefix, const json& link, const Labels& labels) {
  const std::string p = prefix + "_";
  const auto c = Type::kCounter;
  const auto g = Type::kGauge;
  // Field needs stable strings for names: build them once per call.
  const std::string names[] = {
      p + "rtt_seconds",
      p + "send_rate_bytes_per_second",
      p + "receive_rate_bytes_per_second",
      p + "bandwidth_estimate_bytes_per_second",
      p + "packets_sent_total",
      p + "packets_received_total",
      p + "bytes_sent_total",
      p + "bytes_received_total",
      p + "packets_lost_send_total",
      p + "packets_lost_receive_total",
      p + "packets_retransmitted_total",
      p + "packets_dropped_send_total",
      p + "packets_dropped_receive_total",
      p + "send_buffer_seconds",
      p + "flight_packets",
  };
  addFields(
      e, link, labels,
      {
          {"rtt_ms", names[0].c_str(), g, "Round-trip time libsrt measures.", kMs},
          {"send_mbps", names[1].c_str(), g, "Send rate over the last stats interval.",
           kMbpsToBytes},
          {"recv_mbps", names[2].c_str(), g, "Receive rate over the last stats interval.",
           kMbpsToBytes},
          {"bandwidth_mbps", names[3].c_str(), g, "libsrt's estimate of the link's capacity.",
           kMbpsToBytes},
          {"pkts_sent", names[4].c_str(), c, "SRT packets sent since the link connected."},
          {"pkts_received", names[5].c_str(), c, "SRT packets received since the link connected."},
          {"bytes_sent", names[6].c_str(), c, "Bytes sent since the link connected."},
          {"bytes_received", names[7].c_str(), c, "Bytes received since the link connected."},
          {"pkts_lost_send", names[8].c_str(), c, "Sent packets the peer reported lost."},
          {"pkts_lost_recv", names[9].c_str(), c, "Packets found missing on receipt."},
          {"pkts_retransmitted", names[10].c_str(), c, "Packets retransmitted by libsrt."},
          {"pkts_dropped_send", names[11].c_str(), c, "Packets dropped as too late to send."},
          {"pkts_dropped_recv", names[12].c_str(), c, "Packets dropped as too late to deliver."},
          {"send_buffer_ms", names[13].c_str(), g, "Time's worth of data in the send buffer.", kMs},
          {"flight_pkts", names[14].c_str(), g, "Packets sent and not yet acknowledged."},
      });
  const std::string state = text(link, "state");
  if (!state.empty()) {
    e.add(p + "up", g, "1 while the link is up, else 0.", labels, state == "up" ? 1 : 0);
    e.add(p + "state", g, "1, with the link's state (connecting, up, stalled, idle, ...).",
          with(labels, "state", state), 1);
  }
}

void addAge(Exposition& e, const StatsView& view) {
  if (!view.record.is_null()) {
    e.add("bondcast_stats_age_seconds", Type::kGauge,
          "How long ago the stats these metrics come from were taken.", {}, view.age_seconds);
  }
}

const json& array(const json& j, const char* key) {
  static const json kEmpty = json::array();
  if (!j.is_object()) {
    return kEmpty;
  }
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

void addSchedulerLinkDecisions(Exposition& e, const json& decisions, const Labels& labels) {
  for (const char* d : {"picked", "skipped_late", "skipped_full", "duplicated", "resent"}) {
    if (auto v = number(decisions, d)) {
      e.add("bondcast_link_scheduler_decisions_total", Type::kCounter,
            "Scheduler decisions about this link, by kind (adaptive mode).",
            with(labels, "decision", d), *v);
    }
  }
  for (const char* d : {"picked", "duplicated", "resent"}) {
    if (auto v = number(decisions, (std::string(d) + "_bytes").c_str())) {
      e.add("bondcast_link_scheduler_bytes_total", Type::kCounter,
            "Payload bytes the scheduler put on this link, by kind (adaptive mode).",
            with(labels, "decision", d), *v);
    }
  }
}

void addSenderLinks(Exposition& e, const json& record, const Labels& session) {
  const json& links = array(record, "links");
  const json scheduler = record.value("scheduler", json::object());
  const json& decisions = array(scheduler, "links");
  const auto active = number(record, "active_link");
  int up = 0;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const json& link = links[i];
    Labels labels = {{"link", maskSecrets(text(link, "link"))}};
    labels.insert(labels.end(), session.begin(), session.end());
    addSrtLink(e, "bondcast_link", link, labels);
    if (text(link, "state") == "up") {
      ++up;
    }
    addFields(e, link, labels,
              {
                  {"copies", "bondcast_link_copies_total", Type::kCounter,
                   "Extra copies of payloads sent on this link (adaptive mode)."},
                  {"copies_refused", "bondcast_link_copies_refused_total", Type::kCounter,
                   "Extra copies not sent on this link: over the redundancy budget."},
                  {"receipts", "bondcast_link_receipts_total", Type::kCounter,
                   "The receiver's receipts that came back over this link (adaptive)."},
                  {"bad_receipts", "bondcast_link_bad_receipts_total", Type::kCounter,
                   "Messages from the receiver over this link that were not receipts of this "
                   "session: dropped."},
                  {"cost", "bondcast_link_cost", Type::kGauge, "The link's cost= (adaptive)."},
              });
    const json model = link.value("model", json::object());
    addFields(e, model, labels,
              {
                  {"min_rtt_ms", "bondcast_link_model_min_rtt_seconds", Type::kGauge,
                   "The scheduler's minimum round-trip time of the link.", kMs},
                  {"queue_ms", "bondcast_link_model_queue_delay_seconds", Type::kGauge,
                   "The scheduler's estimate of the delay queued on the link.", kMs},
                  {"capacity_mbps", "bondcast_link_model_capacity_bytes_per_second", Type::kGauge,
                   "The scheduler's estimate of the link's capacity.", kMbpsToBytes},
                  {"delivery_mbps", "bondcast_link_model_delivery_rate_bytes_per_second",
                   Type::kGauge, "The rate the link delivered at lately.", kMbpsToBytes},
                  {"loss", "bondcast_link_model_loss_ratio", Type::kGauge,
                   "The scheduler's estimate of the link's loss rate (0 to 1)."},
              });
    if (i < decisions.size()) {
      addSchedulerLinkDecisions(e, decisions[i], labels);
    }
    if (active) {
      e.add("bondcast_link_active", Type::kGauge,
            "1 for the link carrying the stream now (backup mode), else 0.", labels,
            *active == static_cast<double>(i) ? 1 : 0);
    }
  }
  if (!links.empty()) {
    e.add("bondcast_sender_links", Type::kGauge, "Links configured.", session,
          static_cast<double>(links.size()));
    e.add("bondcast_sender_links_up", Type::kGauge, "Links up.", session, up);
  }
}

void addReceiverStream(Exposition& e, const json& s) {
  const std::string mode = text(s, "mode");
  const Labels labels = {{"stream", text(s, "stream")}, {"session", text(s, "session")}};
  const Labels stream = with(labels, "mode", mode);
  const auto c = Type::kCounter;
  const auto g = Type::kGauge;
  addFields(
      e, s, stream,
      {
          {"active", "bondcast_stream_active", g, "1 while the stream is being received."},
          {"payloads", "bondcast_stream_payloads_total", c, "Payloads written to the output."},
          {"bytes", "bondcast_stream_bytes_total", c, "Payload bytes written to the output."},
          {"output_errors", "bondcast_stream_output_errors_total", c, "Failed output writes."},
          {"output_dropped", "bondcast_stream_output_dropped_total", c,
           "Payloads dropped because the output did not take them (queue full or failed)."},
          {"output_queued_bytes", "bondcast_stream_output_queued_bytes", g,
           "Bytes waiting for the output to take them."},
          {"duplicates_dropped", "bondcast_stream_duplicates_dropped_total", c,
           "Copies of payloads already received, dropped (adaptive mode)."},
          {"late", "bondcast_stream_late_total", c,
           "Payloads that came after their playout time, dropped."},
          {"lost", "bondcast_stream_lost_total", c, "Payloads never written (lost or late)."},
          {"buffered", "bondcast_stream_buffered_payloads", g,
           "Payloads waiting for their playout time."},
          {"forced", "bondcast_stream_forced_total", c,
           "Payloads written early because the playout buffer was full."},
          {"restarts", "bondcast_stream_restarts_total", c,
           "Times the playout restarted after a jump in sequence numbers."},
          {"clock_skewed", "bondcast_stream_clock_skewed_total", c,
           "Payloads whose send time disagreed with the learned clock offset."},
          {"bad_headers", "bondcast_stream_bad_headers_total", c,
           "Packets with a malformed bondcast header, dropped."},
          {"foreign_session", "bondcast_stream_foreign_session_total", c,
           "Packets naming another session, dropped."},
          {"latency_ms", "bondcast_stream_latency_seconds", g,
           "Latency the stream is played out with, behind the fastest link.", kMs},
          {"clock_moved_ms", "bondcast_stream_clock_moved_seconds", g,
           "How far the playout clock followed the sender's clock drift.", kMs},
      });
  if (auto it = s.find("margin_ms"); it != s.end() && it->is_object()) {
    const std::pair<const char*, const char*> quantiles[] = {{"p01", "0.01"}, {"p10", "0.1"},
                                                             {"p50", "0.5"},  {"p90", "0.9"},
                                                             {"p99", "0.99"}, {"max", "1"}};
    for (const auto& [key, q] : quantiles) {
      if (auto v = number(*it, key)) {
        e.add("bondcast_stream_playout_margin_seconds", g,
              "How long before its playout time a payload arrived, by quantile "
              "(1: the largest).",
              with(labels, "quantile", q), *v / kMs.divide);
      }
    }
  }
  for (const json& link : array(s, "links")) {
    const Labels l = with(labels, "link", maskSecrets(text(link, "link")));
    addSrtLink(e, "bondcast_stream_link", link, l);
    addFields(e, link, l,
              {
                  {"packets", "bondcast_stream_link_payloads_total", c,
                   "Payloads that came over this link (adaptive mode)."},
                  {"bytes", "bondcast_stream_link_payload_bytes_total", c,
                   "Payload bytes that came over this link."},
                  {"duplicates", "bondcast_stream_link_duplicates_total", c,
                   "Payloads that came over this link after another copy."},
                  {"late", "bondcast_stream_link_late_total", c,
                   "Payloads that came over this link after their playout time."},
                  {"resent", "bondcast_stream_link_resent_total", c,
                   "Re-sent payloads that came over this link."},
                  {"bad_headers", "bondcast_stream_link_bad_headers_total", c,
                   "Malformed packets that came over this link."},
                  {"foreign_session", "bondcast_stream_link_foreign_session_total", c,
                   "Packets of another session that came over this link."},
                  {"receipts", "bondcast_stream_link_receipts_total", c,
                   "Receipts (what the receiver holds) sent back over this link."},
                  {"receipts_refused", "bondcast_stream_link_receipts_refused_total", c,
                   "Receipts this link's send buffer refused."},
                  {"connections", "bondcast_stream_link_connections_total", c,
                   "Times this link connected."},
                  {"base_delay_ms", "bondcast_stream_link_base_delay_seconds", g,
                   "One-way delay of this link over the fastest link's.", kMs},
              });
  }
}

}  // namespace

std::string senderMetrics(const StatsView& view) {
  Exposition e;
  addAge(e, view);
  const json& r = view.record;
  if (r.is_object()) {
    const Labels session = {{"mode", text(r, "mode")}};
    const auto c = Type::kCounter;
    addFields(
        e, r, session,
        {
            {"input_bytes", "bondcast_sender_input_bytes_total", c, "Bytes read from the input."},
            {"payloads", "bondcast_sender_payloads_total", c, "Payloads made from the input."},
            {"payloads_sent", "bondcast_sender_payloads_sent_total", c,
             "Payloads handed to the links."},
            {"payloads_dropped", "bondcast_sender_payloads_dropped_total", c,
             "Payloads never sent: no link could deliver them in time."},
            {"reconnects", "bondcast_sender_reconnects_total", c,
             "Times a link connected again after it failed."},
            {"groups_replaced", "bondcast_sender_groups_replaced_total", c,
             "New SRT groups made because the receiver refused the old one (it restarted)."},
            {"overloaded", "bondcast_sender_overloaded", Type::kGauge,
             "1 while payloads are dropped as too late (adaptive mode)."},
            {"copies_sent", "bondcast_sender_copies_sent_total", c,
             "Extra copies of important or at-risk payloads sent (adaptive mode)."},
            {"copies_refused", "bondcast_sender_copies_refused_total", c,
             "Extra copies not sent: over the redundancy budget."},
            {"resent", "bondcast_sender_resent_total", c,
             "Payloads re-sent on another link after theirs failed."},
            {"feedback_rounds", "bondcast_sender_feedback_rounds_total", c,
             "Rounds of feeding the scheduler (link polls, re-sends, pruning)."},
            {"feedback_us", "bondcast_sender_feedback_seconds_total", c,
             "Time spent feeding the scheduler.", kUs},
            {"recommended_bitrate_bps", "bondcast_sender_recommended_rate_bytes_per_second",
             Type::kGauge, "The rate an encoder should produce now (adaptive mode).", kBpsToBytes},
        });
    if (auto it = r.find("scheduler"); it != r.end() && it->is_object()) {
      const Labels l = with(session, "policy", text(*it, "policy"));
      addFields(e, *it, l,
                {
                    {"packets", "bondcast_scheduler_packets_total", c, "Payloads scheduled."},
                    {"unsendable", "bondcast_scheduler_unsendable_total", c,
                     "Payloads no link could take."},
                    {"dropped_late", "bondcast_scheduler_dropped_late_total", c,
                     "Payloads dropped because no link could deliver them in time."},
                    {"sent_later", "bondcast_scheduler_sent_later_total", c,
                     "Payloads held back and sent later."},
                    {"link_failures", "bondcast_scheduler_link_failures_total", c,
                     "Link failures the scheduler saw."},
                    {"receipts", "bondcast_scheduler_receipts_total", c,
                     "Receipts from the receiver taken (what it holds: never re-sent)."},
                });
    }
    addSenderLinks(e, r, session);
  }
  return e.text();
}

std::string receiverMetrics(const StatsView& view, const std::vector<ListenerInfo>& listeners) {
  Exposition e;
  addAge(e, view);
  for (const auto& l : listeners) {
    e.add("bondcast_receiver_listening", Type::kGauge, "1 for each port the receiver listens on.",
          {{"listen", maskSecrets(l.uri)}, {"port", std::to_string(l.port)}}, 1);
  }
  const json& r = view.record;
  if (!r.is_object()) {
    return e.text();
  }
  if (auto it = r.find("refused"); it != r.end() && it->is_object()) {
    for (const auto& [reason, count] : it->items()) {
      if (count.is_number()) {
        e.add("bondcast_receiver_refused_handshakes_total", Type::kCounter,
              "Links refused at their handshake, by reason.", {{"reason", reason}},
              count.get<double>());
      }
    }
  }
  // Active streams first: a series twice keeps its first value (an ended stream of the
  // same name comes after).
  const json& streams = array(r, "streams");
  for (bool active : {true, false}) {
    for (const json& s : streams) {
      if (s.is_object() && s.value("active", false) == active) {
        addReceiverStream(e, s);
      }
    }
  }
  return e.text();
}

json maskedStats(const json& record) {
  if (record.is_string()) {
    const auto& s = record.get_ref<const std::string&>();
    return s.find("passphrase=") != std::string::npos ? json(maskSecrets(s)) : record;
  }
  if (record.is_object() || record.is_array()) {
    json out = record;
    for (auto& item : out) {
      item = maskedStats(item);
    }
    return out;
  }
  return record;
}

namespace {

// A record that stopped coming: whatever takes it is stuck.
std::optional<Health> stale(const StatsView& view) {
  if (!view.record.is_null() && view.age_seconds > kStaleAfterSeconds) {
    return Health{false,
                  {{"status", "unavailable"},
                   {"reason", "stats not updated for " +
                                  std::to_string(static_cast<int>(view.age_seconds)) + " s"}}};
  }
  return std::nullopt;
}

}  // namespace

Health senderHealth(const StatsView& view) {
  if (view.record.is_null()) {
    return {false, {{"status", "unavailable"}, {"reason", "connecting: no link is up yet"}}};
  }
  if (auto h = stale(view)) {
    return *h;
  }
  if (view.record.value("final", false)) {
    return {false, {{"status", "unavailable"}, {"reason", "sending has ended"}}};
  }
  const json& links = array(view.record, "links");
  int up = 0;
  json states = json::object();
  for (const json& l : links) {
    const std::string state = text(l, "state");
    up += state == "up" ? 1 : 0;
    states[maskSecrets(text(l, "link"))] = state;
  }
  if (up == 0) {
    return {false, {{"status", "unavailable"}, {"reason", "no link is up"}, {"links", states}}};
  }
  return {true, {{"status", "ok"}, {"links_up", up}, {"links", states}}};
}

Health receiverHealth(const StatsView& view, bool listening,
                      const std::vector<ListenerInfo>& listeners) {
  if (!listening) {
    return {false, {{"status", "unavailable"}, {"reason", "not listening"}}};
  }
  if (auto h = stale(view)) {
    return *h;
  }
  json ports = json::array();
  for (const auto& l : listeners) {
    ports.push_back(l.port);
  }
  int active = 0;
  for (const json& s : array(view.record, "streams")) {
    active += s.is_object() && s.value("active", false) ? 1 : 0;
  }
  return {true, {{"status", "ok"}, {"listening", ports}, {"streams_active", active}}};
}

}  // namespace bondcast::app
