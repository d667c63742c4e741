// SPDX-License-Identifier: MPL-2.0
// `--view` and `--no-view` of send and recv: whether the live per-link table
// (live_view.h) is drawn on stderr, and what that does to the log.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace bondcast::app {

enum class ViewChoice {
  kAuto,  // neither option: on when stderr is a terminal
  kOn,    // --view
  kOff,   // --no-view
};

// Adds --view and --no-view to `sub` (two flags, so that a config file can set either
// and the command line's wins over the file's), which call `set` with their choice;
// `what` says what the table shows.
void addViewOptions(CLI::App& sub, const std::function<void(ViewChoice)>& set,
                    const std::string& what);

// Whether to draw the table: --view; or, without --no-view, stderr is a terminal, the
// log is not quiet (verbosity 0) and the stats lines do not go to stderr (--stats -).
bool viewWanted(ViewChoice choice, bool stderr_is_terminal, int verbosity,
                const std::string& stats_path);

// The log's verbosity (common/log.h) with the table on: one step less, so that only
// warnings and errors interrupt it unless -v (info) or -vv (debug) is given.
int logVerbosity(int verbosity, bool view);

}  // namespace bondcast::app
