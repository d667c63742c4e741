// SPDX-License-Identifier: MPL-2.0
// bondcast: multipath SRT transport for live video. One executable, one subcommand
// per job; see `bondcast --help`.
#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/log.h>
}

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "app/commands.h"

namespace bondcast::app {
namespace {
std::vector<std::string> g_command_line;  // written once, before any other thread starts
}  // namespace

const std::vector<std::string>& commandLine() {
  return g_command_line;
}
}  // namespace bondcast::app

int main(int argc, char** argv) {
  using namespace bondcast::app;
  g_command_line.assign(argv + (argc > 0 ? 1 : 0), argv + argc);
  // FFmpeg's encoders print statistics on stderr by default; keep only its errors.
  av_log_set_level(AV_LOG_ERROR);
  CLI::App root{
      "bondcast: send one live MPEG-TS stream over several network links with SRT and "
      "rebuild it at the receiver"};
  root.require_subcommand(1);
  root.set_version_flag("--version", "bondcast 0.1.0");
  Runner chosen;
  addSend(root, chosen);
  addRecv(root, chosen);
  addEmulate(root, chosen);
  addSim(root, chosen);
  addDemo(root, chosen);
  addFeed(root, chosen);
  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming the problem (CLI11's own exit() adds a second one).
    std::fprintf(stderr, "bondcast: %s (see bondcast --help)\n", e.what());
    return kExitUsage;
  }
  if (!chosen)
    return kExitUsage;
  try {
    return chosen();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
}
