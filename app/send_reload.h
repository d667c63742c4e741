// SPDX-License-Identifier: MPL-2.0
// `bondcast send --config FILE`: SIGHUP and `POST /reload` re-read the file and apply
// its `link` array to the running session (links added start, links removed are
// drained, unchanged ones are untouched). Other options changed in the file take effect
// only at a restart: a reload says which. A file that cannot be read, parsed or checked
// changes nothing.
//
// The file is read as at start: the whole command line is parsed again with the very
// CLI::App the program builds (send_cli.h), so the command line still overrides the file
// (a --link given there keeps the links) and every value is checked as at start.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/send_cli.h"
#include "common/result.h"
#include "sender/send_session.h"

namespace bondcast::app {

// `args`: a command line after the program name ("send", "--config", FILE, ...). The
// options it gives and its --config FILE ("" if none), or the error (a usage error's
// message) the program would stop with.
struct SendCommandLine {
  SendCli cli;
  std::string config_path;
};
Result<SendCommandLine> parseSendCommandLine(const std::vector<std::string>& args);

// The long names of the options other than `link` whose values differ ("latency").
std::vector<std::string> changedOptionsBesidesLinks(const SendCli& running, const SendCli& read);

// The FILE of the last `--config FILE` or `--config=FILE` in `args`; "" if none.
std::string configPathIn(const std::vector<std::string>& args);

// Whether `args` (after "send") give --link on the command line.
bool commandLineGivesLinks(const std::vector<std::string>& args);

// What one reload did, for the log and for the HTTP answer.
struct ReloadOutcome {
  int http_status = 200;  // 200; 409 nothing to reload; 422 bad file; 503 not sending
  nlohmann::json body;    // {"status": "ok"|"error", "reason" or added/removed/...}
};

// Thread-safe: one reload at a time (SIGHUP on the signal thread, POST /reload on an
// HTTP thread); the session is set while it runs (Scope), as StopTarget does it.
class SendReloader {
 public:
  // `args` as for parseSendCommandLine; `running` what they gave at start.
  SendReloader(std::vector<std::string> args, SendCommandLine running);

  // Re-reads the config file and applies its links; logs what it did or why it did
  // nothing.
  ReloadOutcome reload(const std::string& trigger);

  class Scope {
   public:
    Scope(SendReloader& owner, sender::SendSession& session);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    SendReloader& owner_;
  };

 private:
  ReloadOutcome reloadLinks(const std::string& trigger);

  std::mutex mu_;
  std::vector<std::string> args_;
  SendCli running_;  // its links: the ones the session runs now
  std::string config_path_;
  sender::SendSession* session_ = nullptr;  // guarded by mu_
};

}  // namespace bondcast::app
