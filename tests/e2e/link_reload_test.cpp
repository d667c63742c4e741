// SPDX-License-Identifier: MPL-2.0
// Issue 15, item 6: links that come and go without breaking the stream. `bondcast send
// --config FILE` re-reads the file's links on SIGHUP (and on POST /reload) mid-stream,
// through bondcast's link emulator (in-process, seeded), so each link's traffic is
// counted:
//
//   bondcast send ──> emulator link 0 (20 mbit, 30 ms) ──> recv port R0   in the file at start
//                ──> emulator link 1 (20 mbit, 30 ms) ──> recv port R1   in the file at start
//                ──> emulator link 2 (20 mbit, 10 ms) ──> recv port R2   added by the 1st reload
//
// The first reload adds link 2: it carries traffic within 2 s (backup: it connects as a
// standby within 2 s; a standby carries only keep-alives). The second reload keeps only
// link 2: links 0 and 1 are drained and closed, their traffic stops, and link 2 carries
// the rest of the stream alone (backup: it takes over from the removed active link). The
// output is byte-identical to the input in every mode.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "eval/emulator/emulator.h"
#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

constexpr std::size_t kLinks = 3;
// Data packets that show a link carries the stream (a connection's handshake and
// keep-alives are a few).
constexpr std::uint64_t kCarrying = 50;

class LinkReload : public BondcastTest {
 protected:
  // The receiver on three ports and the emulator in front of it.
  void startNetwork() {
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < kLinks; ++i) {
      ports.push_back(freeUdpPort());
    }
    receiver_ = startReceiver(ports, output(), {"--latency", latencyMs(200)});
    net::NetworkConfig config;
    config.seed = 15;
    for (std::size_t i = 0; i < kLinks; ++i) {
      auto link = net::parseLinkSpec("to=127.0.0.1:" + std::to_string(ports[i]) +
                                     ",rate=20mbit,delay=" + (i == 2 ? "10ms" : "30ms"));
      ASSERT_TRUE(link) << link.error().message;
      config.links.push_back(*link);
    }
    emulator_ = std::make_unique<emu::Emulator>(config);
    auto started = emulator_->start();
    ASSERT_TRUE(started) << started.error().message;
  }

  // The link of emulator link i as a config file names it (backup: 0 preferred, 2 last).
  std::string link(std::size_t i) const {
    static const char* weights[] = {"weight=10", "weight=5", "weight=1"};
    return srtLink(emulator_->listenPort(i), mode_ == "backup" ? weights[i] : "");
  }

  // Writes the config file with these links, whole (renamed into place: a reload never
  // reads half a file).
  void writeConfig(const std::vector<std::size_t>& links, int latency_ms = 200) {
    std::string list;
    for (auto i : links) {
      list += (list.empty() ? "\"" : ", \"") + link(i) + "\"";
    }
    writeFile("mode = \"" + mode_ + "\"\ninput = \"" + sampleTs().string() +
              "\"\nlatency = " + latencyMs(latency_ms) + "\nstats = \"" +
              path("send.jsonl").string() + "\"\nlink = [" + list + "]\n");
  }
  void writeFile(const std::string& text) {
    std::ofstream(path("send.toml.new")) << text;
    std::filesystem::rename(path("send.toml.new"), config());
  }

  std::filesystem::path config() const { return path("send.toml"); }
  std::filesystem::path output() const { return path("out.ts"); }

  std::uint64_t forwarded(std::size_t i) const {
    return emulator_->stats().links[i].fwd.packets_forwarded;
  }

  // Starts the sender with links 0 and 1 and waits until the stream flows.
  void startSender(const std::vector<std::string>& extra = {}) {
    writeConfig({0, 1});
    std::vector<std::string> args = {"--config", config().string(), "--no-view"};
    args.insert(args.end(), extra.begin(), extra.end());
    sender_ = BondcastTest::startSender(args);
    ASSERT_TRUE(waitUntil([&] { return fileSize(output()) > 0 || !sender_.running(); }, 10s))
        << sender_.stderrText();
    ASSERT_TRUE(sender_.running()) << sender_.stderrText();
  }

  // Link 2 carries the stream within 2 s of the reload that added it (backup: connects).
  void expectLink2Joins(Clock::time_point reloaded) {
    const std::string connected = "link " + link(2) + ": connected";
    const bool joined = waitUntil(
        [&] {
          return mode_ == "backup" ? sender_.stderrContains(connected) : forwarded(2) >= kCarrying;
        },
        2s);
    const auto after =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - reloaded);
    EXPECT_TRUE(joined) << "link 2 forwarded " << forwarded(2) << " packets 2 s after the reload\n"
                        << sender_.stderrText();
    std::cout << mode_ << ": link 2 " << (mode_ == "backup" ? "connected" : "carried traffic")
              << " " << after.count() << " ms after the reload (" << forwarded(2)
              << " packets then)\n";
  }

  // The removed links close (logged), their traffic stops, link 2 carries the rest, the
  // output is the input.
  void expectRemovedLinksStopAndOutputIsWhole() {
    for (std::size_t i : {0, 1}) {
      EXPECT_TRUE(waitUntil(
          [&] { return sender_.stderrContains("link " + link(i) + ": removed, closed"); }, 10s))
          << sender_.stderrText();
    }
    // What was under way when they closed has passed the emulator's 30 ms by then.
    std::uint64_t at_close[2] = {0, 0};
    waitUntil([] { return false; }, 200ms);
    at_close[0] = forwarded(0);
    at_close[1] = forwarded(1);
    const std::uint64_t link2_at_close = forwarded(2);
    EXPECT_EQ(sender_.waitExit(30s), 0) << sender_.stderrText();
    stopReceiverAt(receiver_, output(), fileSize(sampleTs()));
    emulator_->stop();
    EXPECT_EQ(forwarded(0), at_close[0]) << "link 0 carried traffic after it was closed";
    EXPECT_EQ(forwarded(1), at_close[1]) << "link 1 carried traffic after it was closed";
    EXPECT_GE(forwarded(2) - link2_at_close, kCarrying) << "link 2 did not carry the rest";
    std::cout << mode_ << ": packets forwarded per link: " << forwarded(0) << ", " << forwarded(1)
              << ", " << forwarded(2) << " (" << forwarded(2) - link2_at_close
              << " on link 2 after the others closed)\n";
    const auto input = readBytes(sampleTs());
    const auto received = readBytes(output());
    EXPECT_TRUE(input == received) << describeDifference(input, received);
    // The stats' links: the removed ones are gone by the end.
    const auto last = finalLine(path("send.jsonl"));
    ASSERT_TRUE(last.is_object());
    ASSERT_EQ(last["links"].size(), 1u) << last.dump();
    EXPECT_EQ(last["links"][0]["link"], link(2));
  }

  // The whole scenario by SIGHUP in `mode`.
  void addThenKeepOnlyTheNewLink(const std::string& mode) {
    mode_ = mode;
    startNetwork();
    if (HasFatalFailure()) {
      return;
    }
    startSender();
    if (HasFatalFailure()) {
      return;
    }
    writeConfig({0, 1, 2});
    sender_.signal(SIGHUP);
    expectLink2Joins(Clock::now());
    // Backup: link 2 is a standby of lower weight; its traffic shows once it takes over.
    writeConfig({2});
    sender_.signal(SIGHUP);
    expectRemovedLinksStopAndOutputIsWhole();
    EXPECT_TRUE(sender_.stderrContains("links added: " + link(2)));
  }

  std::string mode_;
  std::unique_ptr<emu::Emulator> emulator_;
  Process receiver_;
  Process sender_;
};

TEST_F(LinkReload, AdaptiveTakesAnAddedLinkAndDrainsRemovedOnesWithoutLoss) {
  addThenKeepOnlyTheNewLink("adaptive");
}

TEST_F(LinkReload, BroadcastTakesAnAddedLinkAndDrainsRemovedOnesWithoutLoss) {
  addThenKeepOnlyTheNewLink("broadcast");
}

TEST_F(LinkReload, BackupHandsTheStreamToAnAddedLinkWithoutLoss) {
  addThenKeepOnlyTheNewLink("backup");
}

// POST /reload on --http does what SIGHUP does and answers what changed; a file that
// cannot be read as settings changes nothing and is answered with the reason.
TEST_F(LinkReload, PostReloadAddsALinkAndABadFileChangesNothing) {
  mode_ = "broadcast";
  startNetwork();
  if (HasFatalFailure()) {
    return;
  }
  startSender({"--http", "0"});
  if (HasFatalFailure()) {
    return;
  }
  const std::regex logged(
      R"(serving /metrics, /stats and /health on http://\S+:(\d+) \(and POST /reload\))");
  std::smatch m;
  std::string err = sender_.stderrText();
  ASSERT_TRUE(std::regex_search(err, m, logged)) << err;
  httplib::Client http("127.0.0.1", std::stoi(m[1].str()));

  writeConfig({0, 1, 2}, 300);
  const auto reloaded = Clock::now();
  auto res = http.Post("/reload");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  auto body = nlohmann::json::parse(res->body);
  std::cout << "POST /reload: " << res->status << " " << res->body;
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["added"], nlohmann::json::array({link(2)}));
  EXPECT_EQ(body["removed"], nlohmann::json::array());
  EXPECT_EQ(body["unchanged"], nlohmann::json::array({link(0), link(1)}));
  EXPECT_EQ(body["restart_needed"], nlohmann::json::array({"latency"}));
  EXPECT_TRUE(sender_.stderrContains("latency changed in the file")) << sender_.stderrText();
  expectLink2Joins(reloaded);

  // Bad TOML, a bad link, no file: each answered 422 with the reason; nothing changes.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"link = [\"" + link(0) + "\"", "send.toml:1:"},
      {"input = \"testsrc\"\nlink = [\"srt:/127.0.0.1:9\"]\n", "srt:/127.0.0.1:9"},
      {"", "cannot read it"}};
  for (const auto& [text, reason] : bad) {
    if (text.empty()) {
      std::filesystem::remove(config());
    } else {
      writeFile(text);
    }
    res = http.Post("/reload");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    std::cout << "POST /reload: " << res->status << " " << res->body;
    EXPECT_EQ(res->status, 422) << res->body;
    body = nlohmann::json::parse(res->body);
    EXPECT_EQ(body["status"], "error");
    EXPECT_NE(body["reason"].get<std::string>().find(reason), std::string::npos) << res->body;
    EXPECT_NE(body["reason"].get<std::string>().find("nothing changed"), std::string::npos);
  }
  EXPECT_EQ(http.Get("/reload")->status, 405);
  // All three links still carry the stream to its end.
  const std::uint64_t before[3] = {forwarded(0), forwarded(1), forwarded(2)};
  EXPECT_EQ(sender_.waitExit(30s), 0) << sender_.stderrText();
  stopReceiverAt(receiver_, output(), fileSize(sampleTs()));
  emulator_->stop();
  for (std::size_t i = 0; i < kLinks; ++i) {
    EXPECT_GE(forwarded(i) - before[i], kCarrying) << "link " << i << " stopped after a bad reload";
  }
  EXPECT_FALSE(sender_.stderrContains(": removed")) << sender_.stderrText();
  const auto input = readBytes(sampleTs());
  const auto received = readBytes(output());
  EXPECT_TRUE(input == received) << describeDifference(input, received);
}

// Without --config a SIGHUP is logged as having nothing to reload; the sender carries on.
TEST_F(LinkReload, SighupWithoutAConfigFileIsLoggedAndChangesNothing) {
  mode_ = "broadcast";
  startNetwork();
  if (HasFatalFailure()) {
    return;
  }
  sender_ = BondcastTest::startSender({"--mode", "broadcast", "--input", sampleTs().string(),
                                       "--no-view", "--link", link(0), "--link", link(1)});
  ASSERT_TRUE(waitUntil([&] { return fileSize(output()) > 0 || !sender_.running(); }, 10s))
      << sender_.stderrText();
  sender_.signal(SIGHUP);
  EXPECT_TRUE(waitUntil(
      [&] {
        return sender_.stderrContains(
            "SIGHUP: bondcast send runs without --config: nothing to reload");
      },
      5s))
      << sender_.stderrText();
  EXPECT_TRUE(sender_.running());
  EXPECT_EQ(sender_.waitExit(30s), 0) << sender_.stderrText();
  stopReceiverAt(receiver_, output(), fileSize(sampleTs()));
  const auto input = readBytes(sampleTs());
  const auto received = readBytes(output());
  EXPECT_TRUE(input == received) << describeDifference(input, received);
}

}  // namespace
}  // namespace bondcast::e2e
