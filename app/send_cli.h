// SPDX-License-Identifier: MPL-2.0
// The options of `bondcast send`, as the command line and its --config file give them.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "app/view_option.h"
#include "scheduler/config.h"

namespace bondcast::app {

struct SendCli {
  std::string mode = "broadcast";
  std::string policy = "latency-aware";
  double redundancy_percent = 100 * sched::kDefaultOverheadBudget;
  std::string input;
  std::vector<std::string> links;
  int latency_ms = 200;
  std::string passphrase;
  std::string stream_id;
  std::string stats;
  std::string http;  // [ADDR:]PORT of the metrics endpoint; "" = none
  bool loop = false;
  std::string bitrate = "4mbit";
  int connect_timeout_ms = 5000;
  int verbosity = 1;
  ViewChoice view = ViewChoice::kAuto;  // --view, --no-view

  bool operator==(const SendCli&) const = default;
};

// Adds the `send` subcommand to `root` with all its options (--config first), which
// store what they are given in `*cli`; returns the subcommand.
CLI::App* addSendOptions(CLI::App& root, const std::shared_ptr<SendCli>& cli);

}  // namespace bondcast::app
