// SPDX-License-Identifier: MPL-2.0
#include "app/send_reload.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <string_view>

#include "sender/link_spec.h"

namespace bondcast::app {

Result<SendCommandLine> parseSendCommandLine(const std::vector<std::string>& args) {
  CLI::App root;
  root.require_subcommand(1);
  auto cli = std::make_shared<SendCli>();
  CLI::App* send = addSendOptions(root, cli);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // as CLI11 takes them
  try {
    root.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return Error{e.what()};
  }
  if (!send->parsed()) {
    return Error{"not a `bondcast send` command line"};
  }
  SendCommandLine out{*cli, ""};
  if (const CLI::Option* config = send->get_option("--config"); config->count() > 0) {
    out.config_path = config->results().back();
  }
  return out;
}

std::vector<std::string> changedOptionsBesidesLinks(const SendCli& a, const SendCli& b) {
  std::vector<std::string> changed;
  auto note = [&](bool differ, const char* name) {
    if (differ) {
      changed.emplace_back(name);
    }
  };
  note(a.mode != b.mode, "mode");
  note(a.policy != b.policy, "policy");
  note(a.redundancy_percent != b.redundancy_percent, "redundancy-budget");
  note(a.input != b.input, "input");
  note(a.latency_ms != b.latency_ms, "latency");
  note(a.passphrase != b.passphrase, "passphrase");
  note(a.stream_id != b.stream_id, "stream-id");
  note(a.stats != b.stats, "stats");
  note(a.http != b.http, "http");
  note(a.loop != b.loop, "loop");
  note(a.bitrate != b.bitrate, "bitrate");
  note(a.connect_timeout_ms != b.connect_timeout_ms, "connect-timeout");
  note(a.verbosity != b.verbosity, "verbose");
  note(a.view != b.view, "view");
  // Anything else SendCli gains must be named here: the rest of the struct is the links.
  SendCli rest = b;
  rest.links = a.links;
  if (changed.empty() && !(rest == a)) {
    changed.emplace_back("(an option this reload does not know)");
  }
  return changed;
}

std::string configPathIn(const std::vector<std::string>& args) {
  std::string path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(std::string_view("--config=").size());
    }
  }
  return path;
}

bool commandLineGivesLinks(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--link" || a.rfind("--link=", 0) == 0 ||
           (a.size() >= 2 && a[0] == '-' && a[1] == 'l');
  });
}

SendReloader::SendReloader(std::vector<std::string> args, SendCommandLine running)
    : args_(std::move(args)),
      running_(std::move(running.cli)),
      config_path_(std::move(running.config_path)) {}

SendReloader::Scope::Scope(SendReloader& owner, sender::SendSession& session) : owner_(owner) {
  std::lock_guard lock(owner_.mu_);
  owner_.session_ = &session;
}

SendReloader::Scope::~Scope() {
  std::lock_guard lock(owner_.mu_);
  owner_.session_ = nullptr;
}

namespace {

ReloadOutcome failed(int status, const std::string& trigger, const std::string& reason) {
  spdlog::error("{}: {}", trigger, reason);
  return {status, {{"status", "error"}, {"reason", reason}}};
}

std::string listed(const std::vector<std::string>& links) {
  std::string out;
  for (const auto& link : links) {
    out += (out.empty() ? "" : ", ") + link;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

ReloadOutcome SendReloader::reload(const std::string& trigger) {
  // On the signal thread an exception would end the process: a reload that fails in an
  // unforeseen way is an error like the others.
  try {
    return reloadLinks(trigger);
  } catch (const std::exception& e) {
    return failed(500, trigger, "reload failed: " + std::string(e.what()));
  }
}

ReloadOutcome SendReloader::reloadLinks(const std::string& trigger) {
  std::lock_guard lock(mu_);
  if (config_path_.empty()) {
    return failed(409, trigger, "bondcast send runs without --config: nothing to reload");
  }
  const std::string what = "reload of " + config_path_;
  auto read = parseSendCommandLine(args_);
  if (!read) {
    return failed(422, trigger,
                  what + " failed, nothing changed (the links stay): " + read.error().message);
  }
  const SendCli& fresh = read->cli;
  if (!session_) {
    return failed(503, trigger, what + ": the sender is not sending yet (or any more)");
  }
  auto changes = session_->setLinks(fresh.links);
  if (!changes) {
    return failed(422, trigger,
                  what + " failed, nothing changed (the links stay): " + changes.error().message);
  }
  running_.links = fresh.links;
  const auto restart = changedOptionsBesidesLinks(running_, fresh);
  nlohmann::json body = {{"status", "ok"},
                         {"config", config_path_},
                         {"added", changes->added},
                         {"removed", changes->removed},
                         {"unchanged", changes->unchanged},
                         {"restart_needed", restart}};
  spdlog::info("{} ({}): links added: {}; removed: {}; unchanged: {}", what, trigger,
               listed(changes->added), listed(changes->removed), changes->unchanged.size());
  if (commandLineGivesLinks(args_)) {
    body["note"] = "the command line's --link overrides the file's links";
    spdlog::warn("{}: the command line's --link overrides the file's links: they stay as they are",
                 what);
  }
  if (!restart.empty()) {
    std::string names;
    for (const auto& name : restart) {
      names += (names.empty() ? "" : ", ") + name;
    }
    spdlog::warn(
        "{}: {} changed in the file; a reload applies only the links: restart the "
        "sender for the others",
        what, names);
  }
  return {200, std::move(body)};
}

}  // namespace bondcast::app
