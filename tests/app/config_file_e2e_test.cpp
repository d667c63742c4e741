// SPDX-License-Identifier: MPL-2.0
// `bondcast recv --config FILE` and `bondcast send --config FILE` as real processes:
// a receiver set up by its file listens where the file says and stops when the command
// line says; a bad file ends the program with exit code 2 and one line naming the
// problem.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"

namespace bondcast::e2e {
namespace {

class ConfigFileRun : public BondcastTest {
 protected:
  std::string write(const std::string& name, const std::string& toml) {
    std::ofstream(path(name)) << toml;
    return path(name).string();
  }

  // Runs `bondcast ARGS` to its end; expects exit code 2 and one line on stderr that
  // contains every needle.
  void expectUsageError(const std::vector<std::string>& args,
                        const std::vector<std::string>& needles) {
    Finished f = runToEnd(bondcastArgv(args), path("err.log"), 30s);
    EXPECT_EQ(f.exit_code, 2) << f.err;
    auto lines = f.lines();
    ASSERT_EQ(lines.size(), 1u) << f.err;
    for (const auto& needle : needles)
      EXPECT_NE(lines[0].find(needle), std::string::npos)
          << "'" << needle << "' not in: " << lines[0];
  }
};

TEST_F(ConfigFileRun, RecvListensWhereItsFileSaysAndStopsWhenTheCommandLineSays) {
  std::uint16_t port = freeUdpPort();
  std::string listen = srtLink(port);
  auto config =
      write("recv.toml", "listen = [\"" + listen + "\"]\noutput = \"" + path("out.ts").string() +
                             "\"\nlatency = 300\nduration = 120\n");
  // --duration 1 on the command line overrides the file's 120 s.
  Process recv = Process::start(bondcastArgv({"recv", "--config", config, "--duration", "1"}),
                                path("recv.log"));
  EXPECT_TRUE(waitUntil(
      [&] {
        return recv.stderrContains("listening on " + listen + " (port " + std::to_string(port) +
                                   ")");
      },
      10s))
      << recv.stderrText();
  EXPECT_EQ(recv.waitExit(10s), 0) << recv.stderrText();
}

TEST_F(ConfigFileRun, SendWithABadLinkInItsFileIsAUsageErrorNamingTheLink) {
  auto config = write("send.toml", R"(mode = "broadcast"
input = "testsrc"
link = ["srt:/127.0.0.1:9000"]
)");
  expectUsageError({"send", "--config", config}, {"bondcast send: ", "srt:/127.0.0.1:9000"});
}

TEST_F(ConfigFileRun, MalformedTomlIsAUsageErrorNamingTheFileAndLine) {
  auto config = write("send.toml",
                      "input = \"testsrc\"\nlatency = 300 ms\nlink = [\"srt://127.0.0.1:9000\"]\n");
  expectUsageError({"send", "--config", config}, {"bondcast: ", config + ":2:"});
}

TEST_F(ConfigFileRun, AnUnknownKeyIsAUsageErrorNamingTheKeyAndLine) {
  auto config = write("recv.toml", "listen = [\"srt://:9000\"]\noutput = \"out.ts\"\nlink = []\n");
  expectUsageError({"recv", "--config", config},
                   {"bondcast: ", config + ":3:1:", "unknown key 'link'"});
}

TEST_F(ConfigFileRun, AMissingFileIsAUsageErrorNamingIt) {
  auto missing = path("missing.toml").string();
  expectUsageError({"recv", "--config", missing}, {missing, "cannot read it"});
}

}  // namespace
}  // namespace bondcast::e2e
