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

#include <nlohmann/json.hpp>

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
  EXPECT_NE(r.err.find("links[0].rate"), std::string::npos) << r.err;
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
