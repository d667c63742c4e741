#include "app/commands.h"

namespace bondcast::app {

void addEmulate(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand("emulate", "(not implemented yet)");
  sub->callback([&chosen] { chosen = [] { return kExitFailure; }; });
}

}  // namespace bondcast::app
