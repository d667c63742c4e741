#include "app/commands.h"

namespace bondcast::app {

void addSend(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand("send", "(not implemented yet)");
  sub->callback([&chosen] { chosen = [] { return kExitFailure; }; });
}

}  // namespace bondcast::app
