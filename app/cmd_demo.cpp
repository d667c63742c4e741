#include "app/commands.h"

namespace bondcast::app {

void addDemo(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand("demo", "(not implemented yet)");
  sub->callback([&chosen] { chosen = [] { return kExitFailure; }; });
}

}  // namespace bondcast::app
