// SPDX-License-Identifier: MPL-2.0
// Issue 16, abuse: `bondcast recv --allow-stream NAME[=PASSPHRASE]` lets one receiver
// port serve several senders with separate secrets. In each mode, two senders with
// different stream ids and passphrases stream at once into one port, each into its own
// output, byte-identical; meanwhile a sender of one stream with the other's passphrase and
// a sender of a stream that is not listed are refused, exit 1 and say why, and the
// receiver counts both refusals.
//
//   send --stream-id cam1 (cam1's secret)  ──2 links──┐
//   send --stream-id cam2 (the port's)     ──2 links──┼─> recv --listen :P --passphrase PORT
//   send cam1 with the port's secret (refused) ───────┤     --allow-stream cam1=CAM1
//   send cam3 (refused: not listed)        ───────────┘     --allow-stream cam2
//                                                       --> out-cam1.ts, out-cam2.ts
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

const std::string kCam1Secret = "first-secret-xyz";
const std::string kPortSecret = "the-ports-own-secret";

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

class AllowStream : public BondcastTest, public ::testing::WithParamInterface<std::string> {
 protected:
  // `bondcast send` in this test's mode over two links to `port`.
  std::vector<std::string> sendArgs(std::uint16_t port, const std::string& stream_id,
                                    const std::string& passphrase) const {
    std::vector<std::string> args = {"--mode",       GetParam(), "--input",     sampleTs().string(),
                                     "--latency",    "200",      "--stream-id", stream_id,
                                     "--passphrase", passphrase};
    // Backup needs distinct weights to pick the active link.
    for (const std::string weight : {"10", "9"}) {
      args.push_back("--link");
      args.push_back(GetParam() == "adaptive" ? srtLink(port) : srtLink(port, "weight=" + weight));
    }
    return args;
  }

  // A sender the receiver refuses: it must exit 1 soon, its error line ("bondcast send:
  // ...") holding `needle`. (A refused broadcast or backup sender may add a line after it:
  // libsrt 1.5.1's shutdown can hang after a refused connection, srt::Runtime.)
  void expectRefused(std::uint16_t port, const std::string& stream_id,
                     const std::string& passphrase, const std::string& needle,
                     const std::string& name) {
    auto args = sendArgs(port, stream_id, passphrase);
    args.insert(args.begin(), "send");
    args.insert(args.end(), {"--connect-timeout", "3000"});
    const auto start = Clock::now();
    Finished f = runToEnd(bondcastArgv(args), path(name + ".log"), 20s);
    SCOPED_TRACE(name);
    EXPECT_EQ(f.exit_code, 1) << f.err;
    EXPECT_LT(Clock::now() - start, 10s);
    const auto lines = f.lines();
    auto error = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.rfind("bondcast send: ", 0) == 0;
    });
    ASSERT_NE(error, lines.end()) << f.err;
    EXPECT_NE(error->find(needle), std::string::npos) << *error;
    EXPECT_EQ(f.err.find(passphrase), std::string::npos) << "the passphrase was shown";
  }
};

TEST_P(AllowStream, TwoSendersWithTheirOwnPassphrasesShareOnePortOthersAreRefused) {
  const std::uint16_t port = freeUdpPort();
  Process receiver =
      startReceiver({port}, path("out.ts"),
                    {"--latency", "200", "--passphrase", kPortSecret, "--allow-stream",
                     "cam1=" + kCam1Secret, "--allow-stream", "cam2"});
  Process cam1 = startSender(sendArgs(port, "cam1", kCam1Secret), "send-cam1");
  Process cam2 = startSender(sendArgs(port, "cam2", kPortSecret), "send-cam2");
  ASSERT_TRUE(waitUntil(
      [&] { return fileSize(path("out-cam1.ts")) > 0 && fileSize(path("out-cam2.ts")) > 0; }, 15s))
      << cam1.stderrText() << cam2.stderrText() << receiver.stderrText();

  // While both stream: cam1 with the secret that opens cam2 (the port's), cam2 with cam1's,
  // and a stream that is not listed.
  expectRefused(port, "cam1", kPortSecret, "wrong passphrase", "refused-cam1");
  expectRefused(port, "cam2", kCam1Secret, "wrong passphrase", "refused-cam2");
  expectRefused(port, "cam3", kPortSecret, "does not accept this stream id", "refused-cam3");

  ASSERT_EQ(cam1.waitExit(40s), 0) << cam1.stderrText();
  ASSERT_EQ(cam2.waitExit(40s), 0) << cam2.stderrText();
  // Every link connected (each group member, each adaptive link got its stream's
  // passphrase), none was ever refused.
  for (Process* sender : {&cam1, &cam2}) {
    const std::string err = sender->stderrText();
    EXPECT_EQ(occurrences(err, ": connected"), 2u) << err;
    EXPECT_EQ(err.find("rejected"), std::string::npos) << err;
  }
  const auto input = readBytes(sampleTs());
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("out-cam2.ts")) >= input.size(); }, 10s));
  stopReceiverAt(receiver, path("out-cam1.ts"), input.size());
  for (const std::string stream : {"cam1", "cam2"}) {
    const auto output = readBytes(path("out-" + stream + ".ts"));
    EXPECT_TRUE(input == output) << stream << ": " << describeDifference(input, output);
  }
  EXPECT_FALSE(receiver.stderrContains(kCam1Secret)) << "the receiver logged a passphrase";
  EXPECT_FALSE(receiver.stderrContains(kPortSecret)) << "the receiver logged a passphrase";

  const auto final = finalLine(path("recv.jsonl"));
  ASSERT_TRUE(final.is_object());
  std::cout << GetParam() << ": refused " << final["refused"].dump() << "\n";
  // Each refused sender tries each of its two links at least once.
  EXPECT_GE(final["refused"]["wrong_passphrase"].get<int>(), 2) << final["refused"].dump();
  EXPECT_GE(final["refused"]["unknown_stream"].get<int>(), 1) << final["refused"].dump();
  ASSERT_EQ(final["streams"].size(), 2u) << final.dump();
  for (const auto& s : final["streams"]) {
    EXPECT_EQ(s.value("lost", 0), 0) << s.dump();
    EXPECT_EQ(s["bytes"].get<std::size_t>(), input.size()) << s.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, AllowStream, ::testing::Values("broadcast", "backup", "adaptive"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

class AllowStreamOptions : public BondcastTest {
 protected:
  // `bondcast recv ARGS` must fail at once as a usage error: one line naming the option,
  // holding every needle, never the secret.
  void expectUsageError(const std::vector<std::string>& args,
                        const std::vector<std::string>& needles, const std::string& secret) {
    std::vector<std::string> all = {"recv", "--listen", srtLink(freeUdpPort()), "--output",
                                    path("out.ts").string()};
    all.insert(all.end(), args.begin(), args.end());
    Finished f = runToEnd(bondcastArgv(all), path("err.log"), 20s);
    EXPECT_EQ(f.exit_code, 2) << f.err;
    const auto lines = f.lines();
    ASSERT_EQ(lines.size(), 1u) << f.err;
    EXPECT_EQ(lines[0].rfind("bondcast recv: --allow-stream '", 0), 0u) << lines[0];
    for (const auto& needle : needles) {
      EXPECT_NE(lines[0].find(needle), std::string::npos)
          << "'" << needle << "' not in " << lines[0];
    }
    if (!secret.empty()) {
      EXPECT_EQ(f.err.find(secret), std::string::npos) << "the passphrase was shown";
    }
  }
};

TEST_F(AllowStreamOptions, BadEntriesAreUsageErrorsNamingTheOptionAndTheEntry) {
  expectUsageError({"--allow-stream", "cam1=tooshort"}, {"'cam1=***'", "10 to 79"}, "tooshort");
  expectUsageError({"--allow-stream", "cam1=" + std::string(80, 'x')}, {"'cam1=***'", "10 to 79"},
                   std::string(80, 'x'));
  expectUsageError({"--allow-stream", "=first-secret-xyz"}, {"'=***'", "empty"},
                   "first-secret-xyz");
  expectUsageError({"--allow-stream", "cam1", "--allow-stream", "cam1=first-secret-xyz"},
                   {"'cam1=***'", "stream 'cam1' is listed twice"}, "first-secret-xyz");
  // (What follows the first '=' is masked, whatever the entry.)
  expectUsageError({"--allow-stream", "#!::r=cam1"}, {"'#!::r=***'", "letters, digits"}, "");
  expectUsageError({"--allow-stream", "cam 1"}, {"'cam 1'", "letters, digits"}, "");
}

TEST_F(AllowStreamOptions, TheConfigFilesEntriesAreCheckedAsTheCommandLines) {
  const auto file = path("recv.toml");
  std::ofstream(file) << "allow-stream = [\"cam1=first-secret-xyz\", \"cam2=short\"]\n";
  expectUsageError({"--config", file.string()}, {"'cam2=***'", "10 to 79"}, "short");
  std::ofstream(file) << "allow-stream = [\"cam1=first-secret-xyz\", \"cam1\"]\n";
  expectUsageError({"--config", file.string()}, {"stream 'cam1' is listed twice"},
                   "first-secret-xyz");
}

}  // namespace
}  // namespace bondcast::e2e
