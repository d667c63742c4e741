// SPDX-License-Identifier: MPL-2.0
// A GoogleTest fixture for tests that run `bondcast send` and `bondcast recv` as
// real processes on 127.0.0.1: a folder per test for outputs, logs and stats, and
// helpers that start a receiver (returning once it listens) and a sender.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/support/process.h"
#include "tests/e2e/support/util.h"

namespace bondcast::e2e {

using namespace std::chrono_literals;

// srt://127.0.0.1:PORT, with `query` (e.g. "weight=2") after a '?' if given.
std::string srtLink(std::uint16_t port, const std::string& query = "");

class BondcastTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // Removes the folder when the test passed; keeps it (and says where) when not.
  void TearDown() override;

  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

  // `bondcast recv` on 127.0.0.1:PORT for each port, writing to `output`, stats to
  // recv.jsonl, stderr to recv.log; returns once it logs "listening" on every port.
  // A --duration of 120 s bounds it if a test forgets it.
  Process startReceiver(const std::vector<std::uint16_t>& ports,
                        const std::filesystem::path& output,
                        const std::vector<std::string>& extra = {},
                        const std::string& name = "recv");
  // `bondcast send ARGS` with stderr to NAME.log.
  Process startSender(const std::vector<std::string>& args, const std::string& name = "send");

  // Waits for `receiver` to have written `size` bytes to `output` (bounded), then
  // ends it with SIGTERM and expects exit code 0.
  void stopReceiverAt(Process& receiver, const std::filesystem::path& output, std::uintmax_t size);

  std::filesystem::path dir_;
};

}  // namespace bondcast::e2e
