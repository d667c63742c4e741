// SPDX-License-Identifier: MPL-2.0
// The options of `bondcast recv`, as the command line and its --config file give them.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "app/view_option.h"

namespace bondcast::app {

struct RecvCli {
  std::vector<std::string> listen;
  std::string output;
  int latency_ms = 200;
  std::string passphrase;
  std::vector<std::string> allow_streams;  // NAME[=PASSPHRASE] each (receiver/allow_list.h)
  std::string stats;
  std::string http;  // [ADDR:]PORT of the metrics endpoint; "" = none
  std::string duration;
  std::string packet_log;
  int verbosity = 1;
  ViewChoice view = ViewChoice::kAuto;  // --view, --no-view

  bool operator==(const RecvCli&) const = default;
};

// Adds the `recv` subcommand to `root` with all its options (--config first), which
// store what they are given in `*cli`; returns the subcommand.
CLI::App* addRecvOptions(CLI::App& root, const std::shared_ptr<RecvCli>& cli);

}  // namespace bondcast::app
