// SPDX-License-Identifier: MPL-2.0
// `bondcast feed`: the evaluation's paced UDP feeder (eval/feeder) as a process. Sends a
// file to a UDP address at a constant bitrate and prints one JSON line when done.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "common/netmodel/scenario.h"
#include "common/units.h"
#include "eval/feeder/feeder.h"

namespace bondcast::app {
namespace {

struct FeedOptions {
  std::string input;
  std::string to;
  std::string bitrate;
  std::string slot = "1ms";
  std::uint32_t datagram_bytes = 1316;
};

int usageError(const std::string& message) {
  std::fprintf(stderr, "bondcast feed: %s\n", message.c_str());
  return kExitUsage;
}

int runFeed(const FeedOptions& o) {
  auto to = net::parseEndpoint(o.to, /*allow_port0=*/false);
  if (!to) {
    return usageError("--to='" + o.to + "': " + to.error().message);
  }
  auto bps = parseBitrateBps(o.bitrate);
  if (!bps || *bps == 0) {
    return usageError("--bitrate='" + o.bitrate + "': expected a rate above 0 (40mbit)");
  }
  auto slot = parseDuration(o.slot);
  if (!slot || slot->count() <= 0) {
    return usageError("--slot='" + o.slot + "': expected a time above 0 (1ms)");
  }
  if (o.datagram_bytes == 0 || o.datagram_bytes > 65507) {
    return usageError("--datagram=" + std::to_string(o.datagram_bytes) +
                      ": expected 1 to 65507 bytes");
  }
  // SIGINT/SIGTERM end the feed early (taken between slots, see feedFile).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  const feed::PacerConfig config{*bps, o.datagram_bytes, *slot};
  auto result = feed::feedFile(o.input, *to, config, stop);
  if (!result) {
    std::fprintf(stderr, "bondcast feed: %s\n", result.error().message.c_str());
    return kExitFailure;
  }
  const double seconds = std::chrono::duration<double>(result->elapsed).count();
  const nlohmann::json summary = {
      {"datagrams", result->datagrams},
      {"bytes", result->bytes},
      {"seconds", seconds},
      {"bitrate_bps", seconds > 0 ? static_cast<double>(result->bytes) * 8 / seconds : 0.0},
      {"max_late_ms", std::chrono::duration<double, std::milli>(result->max_late).count()},
      {"interrupted", result->interrupted}};
  std::printf("%s\n", summary.dump().c_str());
  return kExitOk;
}

}  // namespace

void addFeed(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand(
      "feed",
      "Send a file to a UDP address at a constant bitrate, each datagram at its time (the "
      "evaluation's paced feeder, eval/feeder); prints a JSON summary when done");
  auto o = std::make_shared<FeedOptions>();
  sub->add_option("--input", o->input, "The file to send (e.g. an MPEG-TS)")
      ->required()
      ->type_name("FILE");
  sub->add_option("--to", o->to, "Where to send: IPv4-ADDRESS:PORT")
      ->required()
      ->type_name("ADDR:PORT");
  sub->add_option("--bitrate", o->bitrate, "Sending rate in bits/s with a unit (40mbit, 500kbit)")
      ->required()
      ->type_name("RATE");
  sub->add_option("--slot", o->slot,
                  "How often the feeder wakes to send what is due: a time (default 1ms)")
      ->type_name("TIME");
  sub->add_option("--datagram", o->datagram_bytes,
                  "Bytes per datagram (default 1316: 7 TS packets); the last may be shorter")
      ->type_name("BYTES");
  sub->callback([&chosen, o] { chosen = [o] { return runFeed(*o); }; });
}

}  // namespace bondcast::app
