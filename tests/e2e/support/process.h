// SPDX-License-Identifier: MPL-2.0
// Child processes for end-to-end tests: the real `bondcast` binary (or ffmpeg)
// run with posix_spawn, its stderr captured to a file, waited for with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bondcast::e2e {

using Clock = std::chrono::steady_clock;

// One running child. Move-only; the destructor kills (SIGKILL) and reaps a child
// that is still running, so a failed assertion never leaves a process behind.
class Process {
 public:
  // Runs `argv` (argv[0] is the program, a path or looked up in PATH) with stdin and stdout on
  // /dev/null and stderr written to `stderr_path` (truncated). Throws std::runtime_error if
  // spawning fails.
  static Process start(const std::vector<std::string>& argv,
                       const std::filesystem::path& stderr_path);

  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it if it has).
  bool running();
  // Sends `signo` to a running child.
  void signal(int signo);
  // Waits until the child exits: its exit code, 128 + the signal if a signal ended
  // it, or nullopt if it is still running at the deadline (the first time, every one of
  // its threads' stacks is printed to std::cerr, by gdb where installed).
  std::optional<int> waitExit(Clock::duration timeout);
  // What the child has written to stderr so far.
  std::string stderrText() const;
  // Whether stderr contains `needle` yet.
  bool stderrContains(const std::string& needle) const;

 private:
  void reap(int status);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path stderr_path_;
  bool stacks_printed_ = false;
};

// `bondcast ARGS...`: the binary under test (BONDCAST_BINARY).
std::vector<std::string> bondcastArgv(std::vector<std::string> args);

// Runs to completion (killed at `timeout`): exit code and stderr.
struct Finished {
  std::optional<int> exit_code;
  std::string err;
  // Non-empty stderr lines.
  std::vector<std::string> lines() const;
};
Finished runToEnd(const std::vector<std::string>& argv, const std::filesystem::path& stderr_path,
                  Clock::duration timeout = std::chrono::seconds(30));

}  // namespace bondcast::e2e
