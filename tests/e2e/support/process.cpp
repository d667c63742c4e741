// SPDX-License-Identifier: MPL-2.0
#include "tests/e2e/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace bondcast::e2e {

Process Process::start(const std::vector<std::string>& argv,
                       const std::filesystem::path& stderr_path) {
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args)
    cargs.push_back(a.data());
  cargs.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child starts with no signal blocked, whatever the test runner blocks.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  Process p;
  int rc = posix_spawnp(&p.pid_, cargs[0], &actions, &attr, cargs.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("spawning " + args[0] + ": " + std::strerror(rc));
  }
  p.stderr_path_ = stderr_path;
  return p;
}

Process::Process(Process&& other) noexcept {
  *this = std::move(other);
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (running()) {
      ::kill(pid_, SIGKILL);
      stacks_printed_ = true;  // killed: nothing to show
      (void)waitExit(std::chrono::seconds(5));
    }
    pid_ = other.pid_;
    exit_code_ = other.exit_code_;
    stacks_printed_ = other.stacks_printed_;
    stderr_path_ = std::move(other.stderr_path_);
    other.pid_ = -1;
    other.exit_code_.reset();
  }
  return *this;
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    stacks_printed_ = true;  // killed: nothing to show
    (void)waitExit(std::chrono::seconds(5));
  }
}

void Process::reap(int status) {
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool Process::running() {
  if (pid_ <= 0 || exit_code_)
    return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return r == 0;
}

void Process::signal(int signo) {
  if (running())
    ::kill(pid_, signo);
}

namespace {

// Every thread's stack of a process that did not end in time, printed to the test's
// output, so that a hang seen once in a suite run (CI keeps only the output) can be
// understood. gdb, where installed, bounded by `timeout`; nothing otherwise.
void printStacks(pid_t pid) {
  if (::access("/usr/bin/gdb", X_OK) != 0 || ::access("/usr/bin/timeout", X_OK) != 0) {
    std::cerr << "process " << pid << " did not end in time; no gdb to show its stacks\n";
    return;
  }
  const std::string command = "/usr/bin/timeout -s KILL 60 /usr/bin/gdb -p " + std::to_string(pid) +
                              " -batch -nx -ex 'thread apply all bt' 2>&1 </dev/null";
  FILE* gdb = ::popen(command.c_str(), "r");
  if (gdb == nullptr)
    return;
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, gdb)) > 0;)
    out.append(buf, n);
  ::pclose(gdb);
  std::cerr << "process " << pid << " did not end in time; its threads:\n" << out << "\n";
}

}  // namespace

std::optional<int> Process::waitExit(Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) {
      if (!stacks_printed_) {
        stacks_printed_ = true;
        printStacks(pid_);
      }
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

std::string Process::stderrText() const {
  std::ifstream in(stderr_path_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Process::stderrContains(const std::string& needle) const {
  return stderrText().find(needle) != std::string::npos;
}

std::vector<std::string> bondcastArgv(std::vector<std::string> args) {
  args.insert(args.begin(), BONDCAST_BINARY);
  return args;
}

std::vector<std::string> Finished::lines() const {
  std::vector<std::string> out;
  std::istringstream in(err);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty())
      out.push_back(l);
  }
  return out;
}

Finished runToEnd(const std::vector<std::string>& argv, const std::filesystem::path& stderr_path,
                  Clock::duration timeout) {
  Process p = Process::start(argv, stderr_path);
  Finished f;
  f.exit_code = p.waitExit(timeout);
  f.err = p.stderrText();
  return f;
}

}  // namespace bondcast::e2e
