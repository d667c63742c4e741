// SPDX-License-Identifier: MPL-2.0
// `bondcast emulate` as a process (the built binary, BONDCAST_BINARY): bad input is
// a one-line message naming the field and value with exit code 2; a run stops by
// itself or on SIGTERM and leaves a final stats line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/scenario_files.h"
#include "tests/support/shared_dir.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Process {
  pid_t pid = -1;
  int stderr_fd = -1;
};

Process spawn(const std::vector<std::string>& args) {
  std::vector<std::string> all = {BONDCAST_BINARY, "emulate"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2];
  EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  Process p;
  EXPECT_EQ(posix_spawn(&p.pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  p.stderr_fd = pipe_fds[0];
  return p;
}

struct Finished {
  int exit_code = -1;
  std::string err;
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(err);
    for (std::string l; std::getline(in, l);)
      out.push_back(l);
    return out;
  }
};

// Reads stderr until the process closes it, then reaps it; kills it at the deadline.
Finished finish(Process p, Clock::duration timeout = 20s) {
  Finished f;
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd pfd{p.stderr_fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0)
      continue;
    ssize_t n = ::read(p.stderr_fd, buf, sizeof buf);
    if (n <= 0)
      break;
    f.err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p.stderr_fd);
  int status = 0;
  if (Clock::now() >= deadline)
    ::kill(p.pid, SIGKILL);
  ::waitpid(p.pid, &status, 0);
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return f;
}

Finished run(const std::vector<std::string>& args) {
  return finish(spawn(args));
}

class EmulateCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bondcast_emulate_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string file(const std::string& name, const std::string& content) {
    auto p = (dir_ / name).string();
    std::ofstream(p) << content;
    return p;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Exit 2 and exactly one line on stderr that contains every needle.
  static void expectUsageError(const std::vector<std::string>& args,
                               const std::vector<std::string>& needles) {
    Finished f = run(args);
    EXPECT_EQ(f.exit_code, 2) << f.err;
    auto lines = f.lines();
    ASSERT_EQ(lines.size(), 1u) << f.err;
    for (const auto& n : needles)
      EXPECT_NE(lines[0].find(n), std::string::npos) << lines[0];
  }

  std::filesystem::path dir_;
};

TEST_F(EmulateCommand, MalformedLinkSpecNamesTheFieldAndValue) {
  expectUsageError({"--link", "to=127.0.0.1:9,rate=fast"}, {"rate='fast'"});
  expectUsageError({"--link", "to=127.0.0.1:9,delay=15parsecs"}, {"delay='15parsecs'"});
  expectUsageError({"--link", "to=127.0.0.1:9,colour=red"}, {"colour='red'", "unknown field"});
  expectUsageError({"--link", "to=127.0.0.1:9,ge=5%"}, {"ge='5%'"});
  expectUsageError({"--link", "listen=127.0.0.1:7001"}, {"to="});
  expectUsageError({"--link", "to=example.org:9"}, {"to='example.org:9'"});
  expectUsageError({"--link", "to=127.0.0.1:9,queue=big"}, {"queue='big'"});
}

// Every scenario file in the repository runs here as in the simulator
// (tests/scheduler/sim_cli_test.cpp): one schema. Links without a receiver take --to.
TEST_F(EmulateCommand, EveryScenarioFileInTheRepositoryRuns) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();  // several replay traces from ../shared
  const auto files = bondcast::test::repositoryScenarioFiles();
  ASSERT_GE(files.size(), 17u);
  for (const std::string& scenario : files) {
    const auto j = nlohmann::json::parse(std::ifstream(scenario));
    bool every_link_has_a_receiver = true;
    for (const auto& link : j.at("links")) {
      every_link_has_a_receiver &= link.is_object()
                                       ? link.contains("to")
                                       : link.get<std::string>().find("to=") != std::string::npos;
    }
    std::vector<std::string> args = {"--scenario", scenario,  "--duration",
                                     "0.2",        "--stats", path("stats.jsonl")};
    if (!every_link_has_a_receiver)
      args.insert(args.end(), {"--to", "127.0.0.1:9"});
    Finished f = run(args);
    ASSERT_EQ(f.exit_code, 0) << scenario << ": " << f.err;
    std::ifstream stats(path("stats.jsonl"));
    std::string last;
    for (std::string line; std::getline(stats, line);)
      last = line;
    ASSERT_FALSE(last.empty()) << scenario;
    const auto final_line = nlohmann::json::parse(last);
    EXPECT_TRUE(final_line["final"].get<bool>()) << scenario;
    EXPECT_EQ(final_line["links"].size(), j.at("links").size()) << scenario << ": " << last;
  }
}

TEST_F(EmulateCommand, ToFillsInTheReceiverOfLinksWithoutOne) {
  const std::string no_receiver = file("bare.json", R"({"links": [{"rate": "10mbit"}]})");
  expectUsageError({"--scenario", no_receiver}, {"link 0 has no receiver", "--to"});
  expectUsageError({"--link", "to=127.0.0.1:9", "--to", "127.0.0.1:9"},
                   {"--to='127.0.0.1:9'", "every link has its own to="});
  expectUsageError({"--scenario", no_receiver, "--to", "127.0.0.1"}, {"--to='127.0.0.1'"});
  expectUsageError({"--link", "to=127.0.0.1:9,cost=2"}, {"cost=", "simulator"});
  Finished f = run({"--scenario", no_receiver, "--to", "127.0.0.1:9", "--duration", "0.1"});
  EXPECT_EQ(f.exit_code, 0) << f.err;
  EXPECT_NE(f.err.find(R"("to":"127.0.0.1:9")"), std::string::npos) << f.err;  // stats line
}

TEST_F(EmulateCommand, UnreadableTraceNamesThePath) {
  expectUsageError({"--link", "to=127.0.0.1:9,rate=trace:" + path("missing.up")},
                   {"rate='trace:", "missing.up"});
}

TEST_F(EmulateCommand, MalformedTraceNamesTheFileLineAndValue) {
  std::string mahimahi = file("bad.up", "1\n2\nsoon\n");
  expectUsageError({"--link", "to=127.0.0.1:9,rate=trace:" + mahimahi},
                   {"rate='trace:", "bad.up:3", "'soon'"});
  std::string series = file("bad.series", "0 10\n1 lots\n");
  expectUsageError({"--link", "to=127.0.0.1:9,rev-rate=series:" + series},
                   {"rev-rate='series:", "bad.series:2"});
  std::string empty = file("empty.up", "");
  expectUsageError({"--link", "to=127.0.0.1:9,rate=trace:" + empty}, {"empty.up"});
}

TEST_F(EmulateCommand, MalformedEventNamesTheFieldAndValue) {
  expectUsageError({"--link", "to=127.0.0.1:9", "--event", "at=5s,link=0,flap=often"},
                   {"flap='often'"});
  expectUsageError({"--link", "to=127.0.0.1:9", "--event", "at=5s,link=4,down"}, {"link='4'"});
  expectUsageError({"--link", "to=127.0.0.1:9", "--event", "link=0,down"}, {"at="});
}

TEST_F(EmulateCommand, BadScenarioAndValuesAreUsageErrors) {
  expectUsageError({"--scenario", path("nope.json")}, {"nope.json"});
  expectUsageError({"--scenario", file("bad.json", "{\"links\": 3}")}, {"links"});
  expectUsageError({}, {"no links"});
  expectUsageError({"--link", "to=127.0.0.1:9", "--duration", "forever"}, {"--duration='forever'"});
  expectUsageError({"--link", "to=127.0.0.1:9", "--stats", path("no/such/dir/s.jsonl")},
                   {"--stats="});
}

TEST_F(EmulateCommand, UnknownOptionIsAUsageError) {
  // CLI11 reports it (and adds a "Run with --help" hint line).
  Finished f = run({"--link", "to=127.0.0.1:9", "--bogus", "1"});
  EXPECT_EQ(f.exit_code, 2);
  ASSERT_FALSE(f.lines().empty());
  EXPECT_NE(f.lines()[0].find("--bogus"), std::string::npos) << f.err;
  Finished g = run({"--link", "to=127.0.0.1:9", "--seed", "abc"});
  EXPECT_EQ(g.exit_code, 2);
  EXPECT_NE(g.err.find("--seed"), std::string::npos) << g.err;
}

std::vector<nlohmann::json> statsLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);)
    out.push_back(nlohmann::json::parse(l));
  return out;
}

TEST_F(EmulateCommand, StopsAfterDurationWithAFinalStatsLine) {
  std::string stats = path("stats.jsonl");
  Finished f =
      run({"--link", "to=127.0.0.1:9,rate=10mbit,delay=5ms", "--link", "to=127.0.0.1:9,loss=1%",
           "--seed", "5", "--duration", "350ms", "--stats-interval", "100ms", "--stats", stats});
  EXPECT_EQ(f.exit_code, 0) << f.err;
  auto lines = statsLines(stats);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_FALSE(lines.front()["final"].get<bool>());
  const auto& last = lines.back();
  EXPECT_TRUE(last["final"].get<bool>());
  EXPECT_EQ(last["type"], "emulator");
  EXPECT_EQ(last["seed"], 5);
  ASSERT_EQ(last["links"].size(), 2u);
  EXPECT_TRUE(last["links"][1]["fwd"]["drops"].contains("loss"));
  EXPECT_TRUE(last["links"][0]["rev"]["queue_delay_ms"].contains("p99"));
}

TEST_F(EmulateCommand, SigtermStopsCleanlyWithAFinalStatsLine) {
  std::string stats = path("stats.jsonl");
  Process p = spawn({"--link", "to=127.0.0.1:9", "--stats-interval", "50ms", "--stats", stats});
  // Running once it has written a periodic line.
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && statsLines(stats).empty())
    std::this_thread::sleep_for(5ms);
  ASSERT_FALSE(statsLines(stats).empty());
  ::kill(p.pid, SIGTERM);
  Finished f = finish(p);
  EXPECT_EQ(f.exit_code, 0) << f.err;
  auto lines = statsLines(stats);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.back()["final"].get<bool>());
}

TEST_F(EmulateCommand, ExampleScenarioRuns) {
  BONDCAST_SKIP_WITHOUT_SHARED(std::string(BONDCAST_SOURCE_DIR) + "/../shared/traces",
                               "eval/scenarios/example.json reads a trace from it");
  std::string stats = path("stats.jsonl");
  Finished f = run({"--scenario", std::string(BONDCAST_SOURCE_DIR) + "/eval/scenarios/example.json",
                    "--duration", "200ms", "--stats", stats});
  EXPECT_EQ(f.exit_code, 0) << f.err;
  auto lines = statsLines(stats);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["seed"], 7);
  EXPECT_EQ(lines.back()["links"].size(), 3u);
}

TEST_F(EmulateCommand, HelpDocumentsEveryOptionAndTheSpecSyntax) {
  // --help goes to stdout.
  std::string cmd = std::string(BONDCAST_BINARY) + " emulate --help";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string help;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;)
    help.append(buf, n);
  ::pclose(pipe);
  for (const char* s :
       {"--link", "--event", "--scenario", "--seed", "--duration", "--stats", "--stats-interval",
        "rate=", "queue=", "jitter=", "ge=", "rev-", "flap=", "down=", "trace:", "series:"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
}

}  // namespace
