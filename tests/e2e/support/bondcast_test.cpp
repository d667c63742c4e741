// SPDX-License-Identifier: MPL-2.0
#include "tests/e2e/support/bondcast_test.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string_view>

namespace bondcast::e2e {

std::string srtLink(std::uint16_t port, const std::string& query) {
  std::string link = "srt://127.0.0.1:" + std::to_string(port);
  return query.empty() ? link : link + "?" + query;
}

void BondcastTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name) {
    if (c == '/')
      c = '_';
  }
  dir_ = std::filesystem::temp_directory_path() / ("bondcast-e2e-" + std::to_string(::getuid())) /
         (name + "." + std::to_string(::getpid()));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

void BondcastTest::TearDown() {
  // BONDCAST_E2E_KEEP=1 keeps them after a pass too (to look at a run that nearly failed).
  const char* keep = std::getenv("BONDCAST_E2E_KEEP");
  if (HasFailure() || (keep && std::string_view(keep) == "1")) {
    std::cerr << "kept logs, stats and outputs of the " << (HasFailure() ? "failed " : "")
              << "test in " << dir_ << "\n";
    return;
  }
  std::filesystem::remove_all(dir_);
}

Process BondcastTest::startReceiver(const std::vector<std::uint16_t>& ports,
                                    const std::filesystem::path& output,
                                    const std::vector<std::string>& extra,
                                    const std::string& name) {
  std::vector<std::string> args = {"recv"};
  for (auto port : ports) {
    args.push_back("--listen");
    args.push_back(srtLink(port));
  }
  args.insert(args.end(), {"--output", output.string(), "--stats", path(name + ".jsonl").string(),
                           "--duration", "120s"});
  args.insert(args.end(), extra.begin(), extra.end());
  Process p = Process::start(bondcastArgv(args), path(name + ".log"));
  bool listening = waitUntil(
      [&] {
        if (!p.running())
          return true;
        for (auto port : ports) {
          if (!p.stderrContains("(port " + std::to_string(port) + ")"))
            return false;
        }
        return true;
      },
      10s);
  EXPECT_TRUE(listening && p.running()) << "receiver did not start listening:\n" << p.stderrText();
  return p;
}

Process BondcastTest::startSender(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> all = {"send"};
  all.insert(all.end(), args.begin(), args.end());
  return Process::start(bondcastArgv(all), path(name + ".log"));
}

void BondcastTest::stopReceiverAt(Process& receiver, const std::filesystem::path& output,
                                  std::uintmax_t size) {
  bool complete = waitUntil([&] { return fileSize(output) >= size; }, 10s);
  EXPECT_TRUE(complete) << "receiver wrote " << fileSize(output) << " of " << size << " bytes";
  receiver.signal(SIGTERM);
  auto code = receiver.waitExit(15s);
  EXPECT_EQ(code, 0) << "receiver after SIGTERM:\n" << receiver.stderrText();
}

}  // namespace bondcast::e2e
