// SPDX-License-Identifier: MPL-2.0
// Logging set-up shared by every subcommand: spdlog to stderr, one line per event.
#pragma once

#include <spdlog/common.h>

#include <string>

namespace bondcast {

// verbosity: 0 warnings and errors, 1 info (default), 2 debug. `who` prefixes lines
// ("send", "recv") so the logs of several processes can be told apart. `sink`: where
// the lines go instead of stderr (the live view's, app/terminal_view.h).
void setupLogging(int verbosity, const std::string& who, spdlog::sink_ptr sink = nullptr);

}  // namespace bondcast
