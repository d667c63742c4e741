// SPDX-License-Identifier: MPL-2.0
// One run of the sender: an input, a transport over the links, a stats thread.
// Used by `bondcast send`, `bondcast demo` and the GStreamer sink alike.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/srt/srt.h"
#include "common/stats_sink.h"
#include "scheduler/config.h"
#include "sender/adaptive_sender.h"
#include "sender/group_sender.h"
#include "sender/input.h"
#include "sender/transport.h"

namespace bondcast::sender {

enum class SendMode { kBroadcast, kBackup, kAdaptive, kSrtla };
const char* toString(SendMode mode);
// A mode by its name (broadcast, backup, adaptive, srtla); any other name is an error
// that lists them.
Result<SendMode> parseSendMode(std::string_view name);

struct SendOptions {
  SendMode mode = SendMode::kBroadcast;
  std::vector<std::string> links;  // link URIs as given
  srt::CommonOptions srt;
  // adaptive mode: the scheduling policy (scheduler/factory.h) and the bytes it may
  // add as extra copies, as a fraction of the payload bytes.
  std::string policy = "latency-aware";
  double redundancy_budget = sched::kDefaultOverheadBudget;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds stats_interval{1000};
  std::shared_ptr<StatsSink> stats;  // may be null
  // Called on the stats thread with each stats record (the demo's live lines).
  std::function<void(const nlohmann::json&)> on_stats;
};

// Validates the options (link URIs for the mode, policy) without touching the network.
Status checkSendOptions(const SendOptions& o);

class SendSession {
 public:
  // Checks the options and creates the transport; does not connect yet.
  static Result<std::unique_ptr<SendSession>> create(SendOptions options);
  ~SendSession();

  // Connects, then sends the input until it ends (file, stdin) or stop() is called.
  // Returns an error for a failure that ends the run (no link could connect, the
  // input failed).
  Status run(Input& input);
  // Thread-safe; run() returns soon after.
  void stop();
  // Replaces the links by `links` (URIs as given; a reload of the config file), from any
  // thread while run() sends: checked as at start for this mode first, then
  // Transport::setLinks(). An error changes nothing. Before run() has connected, it is an
  // error too (nothing runs yet).
  Result<LinkChanges> setLinks(const std::vector<std::string>& links);
  // Payload statistics so far, as JSON (the same record the stats file gets).
  nlohmann::json statsJson(bool clear_interval);
  // Adaptive mode: the encoder bitrate the links are measured to carry now (0 before a
  // link was measured); none in modes that do not measure it.
  std::optional<std::uint64_t> recommendedBitrateBps() const;

 private:
  explicit SendSession(SendOptions o) : options_(std::move(o)) {}
  void statsLoop();

  SendOptions options_;
  std::unique_ptr<Transport> transport_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};  // run() has connected the transport
  std::atomic<Input*> input_{nullptr};
  std::atomic<std::uint64_t> input_bytes_{0};
  std::atomic<std::uint64_t> payloads_{0};
};

}  // namespace bondcast::sender
