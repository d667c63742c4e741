// SPDX-License-Identifier: MPL-2.0
// Every kind of SRT URI hands its options to libsrt (issue 15, item 1): a chain
//   send (adaptive link URI; --latency 450) -> recv (listen URI; output URI, caller) ->
//   send (SRT listener input URI; group) -> recv (output URI, listener)
// where each socket's options, read back from libsrt with srt_getsockflag, are logged at
// debug level and checked here, and the stream crosses both encrypted hops, which it does
// only if each pair of passphrases (and key lengths) given in the URIs met in libsrt.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

using namespace std::chrono_literals;

class UriOptions : public BondcastTest {};

std::string at(std::uint16_t port, const std::string& query = "") {
  return "srt://127.0.0.1:" + std::to_string(port) + (query.empty() ? "" : "?" + query);
}

TEST_F(UriOptions, EveryUriKindsOptionsReachLibsrt) {
  const std::uint16_t link_port = freeUdpPort();
  const std::uint16_t relay_port = freeUdpPort();
  const std::uint16_t second_port = freeUdpPort();
  const std::uint16_t pull_port = freeUdpPort();
  const std::string a = "passphrase=first-hop-secret";
  const std::string c = "passphrase=relay-hop-secret";
  const std::string e = "passphrase=pull-side-secret";

  const std::string listen = at(link_port, "latency=450&" + a + "&pbkeylen=32");
  const std::string push = at(relay_port, "latency=250&" + c + "&pbkeylen=24&conntimeo=2500");
  const std::string relay_in =
      "srt://:" + std::to_string(relay_port) + "?latency=250&" + c + "&pbkeylen=24";
  const std::string pull =
      "srt://:" + std::to_string(pull_port) + "?latency=380&" + e + "&pbkeylen=16";
  const std::string link = at(link_port, a + "&pbkeylen=32&conntimeo=4500");

  Process second =
      Process::start(bondcastArgv({"recv", "-vv", "--listen", at(second_port), "--output", pull,
                                   "--stats", path("recv2.jsonl").string(), "--duration", "60s"}),
                     path("recv2.log"));
  Process relay = startSender({"-vv", "--mode", "broadcast", "--latency", "320", "--input",
                               relay_in, "--link", at(second_port), "--connect-timeout", "20000"},
                              "send2");
  Process first = Process::start(
      bondcastArgv({"recv", "-vv", "--listen", listen, "--output", push, "--duration", "60s"}),
      path("recv1.log"));
  ASSERT_TRUE(waitUntil([&] { return first.stderrContains("listening on"); }, 10s))
      << first.stderrText();
  Process sender = startSender({"-vv", "--mode", "adaptive", "--latency", "450", "--input",
                                sampleTs().string(), "--link", link, "--connect-timeout", "5000"});

  // The stream reaches the second receiver only through both encrypted hops.
  auto relayedBytes = [&] {
    std::int64_t bytes = 0;
    for (const auto& line : jsonLines(path("recv2.jsonl"))) {
      for (const auto& stream : line.value("streams", nlohmann::json::array()))
        bytes = std::max<std::int64_t>(bytes, stream.value("bytes", std::int64_t{0}));
    }
    return bytes;
  };
  const bool relayed = waitUntil([&] { return relayedBytes() > 0; }, 30s);
  for (Process* p : {&sender, &first, &relay, &second})
    p->signal(SIGTERM);
  for (Process* p : {&sender, &first, &relay, &second})
    p->waitExit(20s);
  EXPECT_TRUE(relayed) << "the stream did not cross both encrypted hops; second receiver:\n"
                       << second.stderrText() << "\nrelay:\n"
                       << relay.stderrText();

  auto expectLine = [](Process& p, const std::string& line) {
    EXPECT_TRUE(p.stderrContains(line)) << "missing: " << line << "\n" << p.stderrText();
  };
  expectLine(sender,
             "link 0 (" + at(link_port, "passphrase=***&pbkeylen=32&conntimeo=4500") +
                 "): SRT options in effect: latency 450 ms, pbkeylen 32, conntimeo 4500 ms");
  expectLine(first, "listen '" + at(link_port, "latency=450&passphrase=***&pbkeylen=32") +
                        "': SRT options in effect: latency 450 ms, pbkeylen 32");
  expectLine(first, "output '" +
                        at(relay_port, "latency=250&passphrase=***&pbkeylen=24&conntimeo=2500") +
                        "': SRT options in effect: latency 250 ms, pbkeylen 24, conntimeo 2500 ms");
  expectLine(relay, "input 'srt://:" + std::to_string(relay_port) +
                        "?latency=250&passphrase=***&pbkeylen=24" +
                        "': SRT options in effect: latency 250 ms, pbkeylen 24");
  expectLine(relay, "link " + at(second_port) + ": SRT options in effect: latency 320 ms");
  expectLine(second, "output 'srt://:" + std::to_string(pull_port) +
                         "?latency=380&passphrase=***&pbkeylen=16': SRT options in effect: "
                         "latency 380 ms, pbkeylen 16");
  // No secret reaches a log.
  for (Process* p : {&sender, &first, &relay, &second}) {
    for (const char* secret : {"first-hop-secret", "relay-hop-secret", "pull-side-secret"})
      EXPECT_FALSE(p->stderrContains(secret)) << secret;
  }
}

}  // namespace
}  // namespace bondcast::e2e
