// SPDX-License-Identifier: MPL-2.0
// Issue 16, abuse: while a stream with the right passphrase runs, thousands of connection
// attempts with a wrong passphrase, with stream ids that are not on the receiver's
// --allow-stream list and with malformed ones. The stream arrives byte-identical with
// nothing lost, the receiver's resident memory grows by less than 20 MB, every refusal is
// counted, and the receiver's log stays short: at most about a line per second per kind
// of refusal (receiver/refusal_log.h), not several per attempt as libsrt would write.
//
//   bondcast send --stream-id cam1 (adaptive, 2 links, 15 s) ──┐
//                                                              ├─> bondcast recv --allow-stream
//                                                              cam1=S
//   bondcast_srt_flood: 1000 x cam1 with a wrong passphrase ───┤
//                       500 x cam<random> (not listed)      ───┤
//                       500 x a malformed link stream id    ───┘
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

const std::string kSecret = "the-right-secret-16";

// VmRSS of a process in kB (0 if unreadable).
long residentKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return 0;
}

std::size_t lineCount(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
  }
  return n;
}

// What bondcast_srt_flood reported for its kind `kind`: refusals by reason, and
// "connected" for attempts that got in.
std::map<std::string, int> floodOutcome(const std::string& report, int kind) {
  std::map<std::string, int> out;
  std::smatch m;
  const std::regex line("kind " + std::to_string(kind) +
                        ": attempts=\\d+ connected=(\\d+) reasons=([0-9:,]*)");
  if (!std::regex_search(report, m, line)) {
    return out;
  }
  out["connected"] = std::stoi(m[1]);
  const std::string reasons = m[2];
  const std::regex pair("(\\d+):(\\d+)");
  for (auto it = std::sregex_iterator(reasons.begin(), reasons.end(), pair);
       it != std::sregex_iterator(); ++it) {
    out[(*it)[1]] = std::stoi((*it)[2]);
  }
  return out;
}

class Flood : public BondcastTest {};

TEST_F(Flood, ThousandsOfBadAttemptsHarmNeitherTheStreamNorMemoryNorTheLog) {
  const auto& input = steadyTs();
  const std::uint16_t port = freeUdpPort();
  Process receiver = startReceiver({port}, path("out.ts"),
                                   {"--latency", "300", "--allow-stream", "cam1=" + kSecret});
  Process sender = startSender({"--mode", "adaptive", "--input", input.string(), "--latency", "300",
                                "--stream-id", "cam1", "--passphrase", kSecret, "--link",
                                srtLink(port), "--link", srtLink(port)});
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("out-cam1.ts")) > 200'000; }, 20s))
      << sender.stderrText() << receiver.stderrText();
  const long rss_before = residentKb(receiver.pid());
  const std::size_t log_before = lineCount(path("recv.log"));
  ASSERT_GT(rss_before, 0);

  constexpr int kWrongPassphrase = 1000, kUnlisted = 500, kMalformed = 500;
  const auto start = Clock::now();
  // Paced at 250 attempts a second (as fast as it goes, about 800 a second here, the
  // receiver's RSS grows by about 40 MB: libsrt keeps each refused connection, about 20 kB,
  // for one to two seconds).
  Finished flood = runToEnd(
      {BONDCAST_SRT_FLOOD, std::to_string(port), "16", "4", "250", std::to_string(kWrongPassphrase),
       "cam1", "not-the-right-secret", std::to_string(kUnlisted), "cam{n}", "-",
       std::to_string(kMalformed), "#!::r=cam1,bcs=nothex!!,bcl=1", kSecret},
      path("flood.log"), 40s);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_EQ(flood.exit_code, 0) << flood.err;
  EXPECT_TRUE(sender.running()) << "the stream ended before the flood: it proves less";
  const long rss_after = residentKb(receiver.pid());
  const std::size_t log_during = lineCount(path("recv.log")) - log_before;
  std::cout << flood.err << kWrongPassphrase + kUnlisted + kMalformed << " attempts in " << seconds
            << " s; receiver RSS " << rss_before << " kB -> " << rss_after << " kB (+"
            << (rss_after - rss_before) / 1024.0 << " MB); " << log_during
            << " receiver log lines during the flood\n";

  // What the callers were told: wrong passphrase (SRT_REJ_BADSECRET, 10), not listed
  // (SRT_REJX_FORBIDDEN, 1403), malformed (SRT_REJX_BAD_REQUEST, 1400).
  const auto wrong = floodOutcome(flood.err, 0);
  const auto unlisted = floodOutcome(flood.err, 1);
  const auto malformed = floodOutcome(flood.err, 2);
  EXPECT_EQ(wrong.count("connected") ? wrong.at("connected") : -1, 0) << flood.err;
  EXPECT_EQ(unlisted.count("connected") ? unlisted.at("connected") : -1, 0) << flood.err;
  EXPECT_EQ(malformed.count("connected") ? malformed.at("connected") : -1, 0) << flood.err;
  const int told_wrong = wrong.count("10") ? wrong.at("10") : 0;
  const int told_unlisted = unlisted.count("1403") ? unlisted.at("1403") : 0;
  const int told_malformed = malformed.count("1400") ? malformed.at("1400") : 0;
  EXPECT_GE(told_wrong, kWrongPassphrase * 9 / 10) << flood.err;
  EXPECT_GE(told_unlisted, kUnlisted * 9 / 10) << flood.err;
  EXPECT_GE(told_malformed, kMalformed * 9 / 10) << flood.err;

#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine holds freed memory (abuse_test.cpp)
  EXPECT_LT(rss_after - rss_before, 20 * 1024) << "RSS grew by more than 20 MB";
#endif
  // At most a line per second per kind (3 kinds here), plus a few the stream itself logs.
  const auto bound = static_cast<std::size_t>(3 * (seconds + 2) + 10);
  EXPECT_LE(log_during, bound) << receiver.stderrText();

  ASSERT_EQ(sender.waitExit(60s), 0) << sender.stderrText();
  stopReceiverAt(receiver, path("out-cam1.ts"), fileSize(input));
  const auto expected = readBytes(input);
  const auto received = readBytes(path("out-cam1.ts"));
  EXPECT_TRUE(expected == received) << describeDifference(expected, received);
  const auto final = finalLine(path("recv.jsonl"));
  ASSERT_TRUE(final.is_object());
  std::cout << "refused: " << final["refused"].dump() << "\n";
  ASSERT_EQ(final["streams"].size(), 1u) << final.dump();
  EXPECT_EQ(final["streams"][0].value("lost", 1u), 0u) << final.dump();
  EXPECT_GE(final["refused"]["wrong_passphrase"].get<int>(), told_wrong);
  EXPECT_GE(final["refused"]["unknown_stream"].get<int>(), told_unlisted);
  EXPECT_GE(final["refused"]["malformed_stream_id"].get<int>(), told_malformed);
}

}  // namespace
}  // namespace bondcast::e2e
