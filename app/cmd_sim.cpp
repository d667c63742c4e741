#include "app/commands.h"

namespace bondcast::app {

void addSim(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand("sim", "(not implemented yet)");
  sub->callback([&chosen] { chosen = [] { return kExitFailure; }; });
}

}  // namespace bondcast::app
