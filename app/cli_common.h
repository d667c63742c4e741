// SPDX-License-Identifier: MPL-2.0
// Pieces shared by the send, recv and demo subcommands.
#pragma once

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "app/commands.h"
#include "app/http_address.h"
#include "app/terminal_view.h"
#include "app/view_option.h"
#include "common/log.h"
#include "common/result.h"
#include "common/srt/srt.h"
#include "common/stats_sink.h"

namespace bondcast::app {

// One clear line on stderr, then the exit code (also the one a stuck libsrt shutdown
// ends the process with, after printing this line again: srt::Runtime).
inline int fail(const char* command, int code, const std::string& message) {
  std::string line = std::string("bondcast ") + command + ": " + message;
  std::fprintf(stderr, "%s\n", line.c_str());
  srt::Runtime::setExitCode(code, std::move(line));
  return code;
}

// Every command that uses SRT groups checks that this libsrt really bonds.
inline Status checkSrtBonding() {
  return srt::checkBonding();
}

// send's and recv's logging and live view (view_option.h): the view on stderr when
// wanted, in place on a terminal, and the log through it; null when not wanted.
inline std::shared_ptr<TerminalView> setupViewAndLogging(ViewChoice choice, int verbosity,
                                                         const std::string& stats_path,
                                                         const std::string& who) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  std::shared_ptr<TerminalView> view;
  if (viewWanted(choice, terminal, verbosity, stats_path)) {
    view = TerminalView::create(STDERR_FILENO, terminal);
  }
  setupLogging(logVerbosity(verbosity, view != nullptr), who, view ? logSinkFor(view) : nullptr);
  return view;
}

// send's and recv's --http and --stats: where to serve the metrics (none when `http_text`
// is empty) and the file for stats lines (null when `stats_path` is empty). Returns the
// exit code after saying why when either is bad: kExitUsage for the address, kExitFailure
// for a file that cannot be opened.
inline std::optional<int> openHttpAndStats(const char* command, const std::string& http_text,
                                           const std::string& stats_path,
                                           std::optional<HttpAddress>& http,
                                           std::shared_ptr<StatsSink>& stats) {
  if (!http_text.empty()) {
    auto a = parseHttpAddress(http_text);
    if (!a) {
      return fail(command, kExitUsage, "--http: " + a.error().message);
    }
    http = *a;
  }
  if (!stats_path.empty()) {
    auto sink = StatsSink::open(stats_path);
    if (!sink) {
      return fail(command, kExitFailure, sink.error().message);
    }
    stats = *sink;
  }
  return std::nullopt;
}

}  // namespace bondcast::app
