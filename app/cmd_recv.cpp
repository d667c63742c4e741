#include "app/commands.h"

namespace bondcast::app {

void addRecv(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand("recv", "(not implemented yet)");
  sub->callback([&chosen] { chosen = [] { return kExitFailure; }; });
}

}  // namespace bondcast::app
