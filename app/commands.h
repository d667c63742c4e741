// SPDX-License-Identifier: MPL-2.0
// Each subcommand of `bondcast` registers its options on the root CLI11 app and, when
// chosen on the command line, stores the function that runs it. The function returns
// the process exit code: 0 success, 1 runtime failure, 2 usage error.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace bondcast::app {

using Runner = std::function<int()>;

// The program's arguments after its name, as main() got them (a reload parses them again).
const std::vector<std::string>& commandLine();

void addSend(CLI::App& root, Runner& chosen);
void addRecv(CLI::App& root, Runner& chosen);
void addEmulate(CLI::App& root, Runner& chosen);
void addSim(CLI::App& root, Runner& chosen);
void addDemo(CLI::App& root, Runner& chosen);
void addFeed(CLI::App& root, Runner& chosen);

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace bondcast::app
