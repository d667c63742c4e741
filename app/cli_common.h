// SPDX-License-Identifier: MPL-2.0
// Pieces shared by the send, recv and demo subcommands.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "app/commands.h"
#include "common/result.h"
#include "common/srt/srt.h"

namespace bondcast::app {

// One clear line on stderr, then the exit code (also the one a stuck libsrt shutdown
// ends the process with, after printing this line again: srt::Runtime).
inline int fail(const char* command, int code, const std::string& message) {
  std::string line = std::string("bondcast ") + command + ": " + message;
  std::fprintf(stderr, "%s\n", line.c_str());
  srt::Runtime::setExitCode(code, std::move(line));
  return code;
}

// Every command that uses SRT groups checks that this libsrt really bonds.
inline Status checkSrtBonding() {
  return srt::checkBonding();
}

}  // namespace bondcast::app
