// SPDX-License-Identifier: MPL-2.0
#include "app/view_option.h"

#include <algorithm>
#include <cstdint>

namespace bondcast::app {

void addViewOptions(CLI::App& sub, const std::function<void(ViewChoice)>& set,
                    const std::string& what) {
  sub.add_flag(
      "--view", [set](std::int64_t) { set(ViewChoice::kOn); },
      "draw a live table on stderr once a second: " + what +
          ". Redrawn in place on a terminal, plain lines otherwise. On by default when "
          "stderr is a terminal (not with --quiet or --stats -). While it is on, the log "
          "shows only warnings and errors, above the table (-v adds info, -vv debug)");
  sub.add_flag(
      "--no-view", [set](std::int64_t) { set(ViewChoice::kOff); },
      "no live table, even on a terminal (wins over --view): the log as without it");
}

bool viewWanted(ViewChoice choice, bool stderr_is_terminal, int verbosity,
                const std::string& stats_path) {
  switch (choice) {
    case ViewChoice::kOn:
      return true;
    case ViewChoice::kOff:
      return false;
    case ViewChoice::kAuto:
      break;
  }
  return stderr_is_terminal && verbosity > 0 && stats_path != "-";
}

int logVerbosity(int verbosity, bool view) {
  return view ? std::max(verbosity - 1, 0) : verbosity;
}

}  // namespace bondcast::app
