// SPDX-License-Identifier: MPL-2.0
// `bondcast sim` as a process: JSON on success, one clear line and exit 2 on bad input.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/scenario_files.h"
#include "tests/support/shared_dir.h"

namespace {

struct ProcessResult {
  int exit_code;
  std::string out;
  std::string err;
};

ProcessResult runSim(const std::string& args) {
  const auto err_path = std::filesystem::temp_directory_path() /
                        ("bondcast_sim_cli_" + std::to_string(::getpid()) + ".err");
  const std::string cmd = std::string(BONDCAST_BINARY) + " sim " + args + " 2>" + err_path.string();
  ProcessResult r{};
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p))
    r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_path);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  std::filesystem::remove(err_path);
  return r;
}

std::string scenario(const std::string& name) {
  return std::string(BONDCAST_SOURCE_DIR) + "/scheduler/sim/scenarios/" + name + ".json";
}

std::string writeScenario(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bondcast_sim_cli_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << text;
  return path.string();
}

TEST(SimCli, PrintsTheResultAndBothBoundsAsJson) {
  const ProcessResult r =
      runSim("--scenario " + scenario("outage") + " --policy srtla --seed 3 --duration 5s");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["policy"], "srtla");
  EXPECT_EQ(j["seed"], 3);
  EXPECT_TRUE(j["bounds"].contains("pooled_oracle"));
  EXPECT_TRUE(j["bounds"].contains("ideal_broadcast"));
  EXPECT_TRUE(j.contains("wall_time_s"));
}

// The emulator runs them too: tests/eval/emulate_cli_test.cpp.
TEST(SimCli, EveryScenarioFileInTheRepositoryRuns) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();  // several replay traces from ../shared
  const auto files = bondcast::test::repositoryScenarioFiles();
  ASSERT_GE(files.size(), 17u);
  for (const std::string& file : files) {
    const ProcessResult r = runSim("--scenario " + file + " --duration 2s --no-bounds --compact");
    ASSERT_EQ(r.exit_code, 0) << file << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(j["result"]["on_time"].get<long>(), 0) << file << ": " << r.out;
  }
}

TEST(SimCli, TheCommandLineSetsTheStreamAScenarioLacks) {
  const std::string bare = writeScenario(
      R"({"links": [{"rate": "10mbit", "delay": "20ms"}], "events": ["at=1s,link=0,rate=2mbit"]})");
  const ProcessResult missing = runSim("--scenario " + bare);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--bitrate"), std::string::npos) << missing.err;
  // 4 Mbit/s into a link that drops to 2 Mbit/s after 1 s: a longer latency saves more
  // (--latency 30 is 30 ms, as bondcast send's).
  long on_time[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    const ProcessResult r = runSim("--scenario " + bare + " --bitrate 4mbit --latency " +
                                   (i == 0 ? "30" : "1s") + " --duration 3s --compact");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_DOUBLE_EQ(j["simulated_s"].get<double>(), 3.0) << r.out;
    on_time[i] = j["result"]["on_time"].get<long>();
  }
  EXPECT_GT(on_time[0], 0);
  EXPECT_GT(on_time[1], on_time[0]);
  const ProcessResult zero = runSim("--scenario " + bare + " --bitrate 4mbit --latency 0");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--latency='0'"), std::string::npos) << zero.err;
  const ProcessResult bad = runSim("--scenario " + bare + " --bitrate fast");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--bitrate='fast'"), std::string::npos) << bad.err;
  std::filesystem::remove(bare);
}

TEST(SimCli, AnUnknownPolicyExitsTwoListingTheKnownOnes) {
  const ProcessResult r = runSim("--scenario " + scenario("outage") + " --policy fastest");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown policy 'fastest'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("latency-aware"), std::string::npos) << r.err;
}

TEST(SimCli, AMalformedScenarioExitsTwoNamingTheField) {
  const std::string path = writeScenario(
      R"({"video": {"bitrate": "5mbit"}, "links": [{"rate": "fast", "delay": "10ms"}]})");
  const ProcessResult r = runSim("--scenario " + path);
  std::filesystem::remove(path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("links[0]: link spec: rate='fast'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(SimCli, AnUnreadableTraceExitsTwo) {
  const std::string path = writeScenario(
      R"({"video": {"bitrate": "5mbit"}, "links": [{"rate": "trace:/nonexistent/x.up"}]})");
  const ProcessResult r = runSim("--scenario " + path);
  std::filesystem::remove(path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/x.up"), std::string::npos) << r.err;
}

TEST(SimCli, AMissingScenarioFileExitsTwo) {
  const ProcessResult r = runSim("--scenario /nonexistent.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent.json"), std::string::npos) << r.err;
}

}  // namespace
