// SPDX-License-Identifier: MPL-2.0
// What a reload of `bondcast send --config FILE` reads (app/send_reload.h): the whole
// command line parsed again, so the command line still overrides the file; which
// options besides the links changed; where the file is; and the answers when there is
// nothing to reload or nothing runs. Applying links to a running session is the e2e
// test's (tests/e2e/link_reload_test.cpp).
#include "app/send_reload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace bondcast::app {
namespace {

class SendReload : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bondcast-send-reload-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& toml) {
    const auto file = dir_ / "send.toml";
    std::ofstream(file) << toml;
    return file.string();
  }
  std::filesystem::path dir_;
};

TEST_F(SendReload, ReadsTheFilesLinksAndItsPath) {
  auto file = write("input = \"testsrc\"\nlink = [\"srt://a:9000\", \"srt://b:9000?weight=2\"]\n");
  auto read = parseSendCommandLine({"send", "--config", file, "--latency", "300"});
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->cli.links, (std::vector<std::string>{"srt://a:9000", "srt://b:9000?weight=2"}));
  EXPECT_EQ(read->cli.latency_ms, 300);
  EXPECT_EQ(read->config_path, file);
}

TEST_F(SendReload, TheCommandLinesLinksStillOverrideTheFiles) {
  auto file = write("input = \"testsrc\"\nlink = [\"srt://a:9000\"]\n");
  const std::vector<std::string> args = {"send", "--config=" + file, "-l", "srt://c:9000"};
  auto read = parseSendCommandLine(args);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->cli.links, (std::vector<std::string>{"srt://c:9000"}));
  EXPECT_TRUE(commandLineGivesLinks(args));
  EXPECT_FALSE(commandLineGivesLinks({"send", "--config", file, "--loop", "--latency", "300"}));
  EXPECT_EQ(configPathIn(args), file);
  EXPECT_EQ(configPathIn({"send", "--config", "a.toml", "--config", "b.toml"}), "b.toml");
  EXPECT_EQ(configPathIn({"send", "--link", "srt://a:9000"}), "");
}

TEST_F(SendReload, ABadFileIsAnErrorNamingItsLine) {
  auto file = write("input = \"testsrc\"\nlink = [\"srt://a:9000\"\n");
  auto read = parseSendCommandLine({"send", "--config", file});
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find(file + ":"), std::string::npos) << read.error().message;
  file = write("input = \"testsrc\"\nlink = [\"srt://a:9000\"]\nlatency = \"soon\"\n");
  read = parseSendCommandLine({"send", "--config", file});
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find(":3:"), std::string::npos) << read.error().message;
}

TEST_F(SendReload, NamesTheOptionsBesidesLinksThatChanged) {
  SendCli running;
  running.links = {"srt://a:9000"};
  SendCli read = running;
  read.links = {"srt://a:9000", "srt://b:9000"};
  EXPECT_TRUE(changedOptionsBesidesLinks(running, read).empty());
  read.latency_ms = 500;
  read.mode = "adaptive";
  read.verbosity = 2;
  EXPECT_EQ(changedOptionsBesidesLinks(running, read),
            (std::vector<std::string>{"mode", "latency", "verbose"}));
}

TEST_F(SendReload, WithoutAConfigFileThereIsNothingToReload) {
  SendReloader reloader({"send", "--input", "testsrc", "--link", "srt://a:9000"}, {SendCli{}, ""});
  ReloadOutcome outcome = reloader.reload("SIGHUP");
  EXPECT_EQ(outcome.http_status, 409);
  EXPECT_EQ(outcome.body["status"], "error");
  EXPECT_EQ(outcome.body["reason"], "bondcast send runs without --config: nothing to reload");
}

TEST_F(SendReload, BeforeTheSessionRunsAReloadIsRefusedAndABadFileFirst) {
  auto file = write("input = \"testsrc\"\nlink = [\"srt://a:9000\"]\n");
  SendReloader reloader({"send", "--config", file}, {SendCli{}, file});
  EXPECT_EQ(reloader.reload("SIGHUP").http_status, 503);
  write("link = [");
  EXPECT_EQ(reloader.reload("SIGHUP").http_status, 422);
}

}  // namespace
}  // namespace bondcast::app
