// SPDX-License-Identifier: MPL-2.0
// The options of `bondcast send`.
#include "app/send_cli.h"

#include <cstdint>

#include "app/config_file.h"
#include "app/http_address.h"

namespace bondcast::app {

CLI::App* addSendOptions(CLI::App& root, const std::shared_ptr<SendCli>& cli) {
  auto* sub = root.add_subcommand("send", "Send one MPEG-TS stream over several links.");
  // First: see addConfigOption.
  addConfigOption(*sub,
                  "mode = \"adaptive\", latency = 300, input = \"udp://@:5000\", link = "
                  "[\"srt://studio:9000?bind=10.0.0.2\", \"srt://studio:9000?bind=10.0.1.2\"]");
  sub->add_option("--mode", cli->mode,
                  "broadcast: every packet on every link (hitless failover); backup: one "
                  "active link, the others take over when it fails (both: SRT socket "
                  "groups); adaptive: packets split over the links by expected arrival "
                  "time, using their summed capacity (one SRT connection per link); srtla: one SRT "
                  "connection spread over srtla:// links to an SRTLA receiver (srtla_rec, "
                  "bondcast recv --listen srtla://), datagram by datagram, by --policy")
      ->capture_default_str();
  sub->add_option(
         "--policy", cli->policy,
         "adaptive and srtla modes' scheduler: latency-aware, min-rtt, srtla, round-robin, "
         "broadcast or backup")
      ->capture_default_str();
  sub->add_option(
         "--redundancy-budget", cli->redundancy_percent,
         "adaptive and srtla modes: extra copies of important or at-risk packets may add at "
         "most this PERCENT of the payload bytes (re-sends of a failed link's "
         "packets are never refused)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sub->add_option(
         "-i,--input", cli->input,
         "udp://@:PORT (every IPv6 and IPv4 address) or udp://ADDR:PORT (TS from an encoder), "
         "srt://:PORT (an "
         "encoder connects as caller; latency=MS, passphrase=S, pbkeylen=N in the "
         "URI override --latency, --passphrase), a file or libavformat URL (sent in "
         "real time), - (stdin), or testsrc (built-in test pattern)")
      ->required();
  sub->add_option("-l,--link", cli->links,
                  "srt://HOST:PORT?weight=N&bind=LOCAL_ADDR[:PORT]&dev=IFNAME&cost=C (repeat "
                  "per link; weight: backup priority, higher first; bind: the modem's local "
                  "address; dev: the interface the link must leave by, adaptive mode, needs "
                  "root; cost: adaptive mode prefers cheaper links when deadlines allow, "
                  "default 1). Adaptive links also take SRT's passphrase=S, pbkeylen=16|24|32 "
                  "and conntimeo=MS (defaults: the options below). In srtla mode: "
                  "srtla://HOST:PORT?bind=LOCAL_ADDR[:PORT]&dev=IFNAME&cost=C, every link "
                  "to the same SRTLA receiver, at most 8")
      ->required();
  sub->add_option("--latency", cli->latency_ms,
                  "SRT latency in ms (receiver buffer); in adaptive mode also the deadline "
                  "of every packet")
      ->capture_default_str()
      ->check(CLI::Range(20, 10000));
  sub->add_option("--passphrase", cli->passphrase, "encrypt with this passphrase (10-79 chars)");
  sub->add_option("--stream-id", cli->stream_id,
                  "stream id the receiver names this stream by (SRTO_STREAMID)");
  sub->add_option("--stats", cli->stats,
                  "write JSON lines of per-link stats once a second to FILE (- = stderr)");
  addHttpOption(*sub, cli->http);
  sub->add_flag("--loop", cli->loop, "restart a file input at its end");
  sub->add_option("--bitrate", cli->bitrate, "bitrate of the testsrc input (e.g. 4mbit)")
      ->type_name("BITRATE")
      ->capture_default_str();
  sub->add_option("--connect-timeout", cli->connect_timeout_ms,
                  "ms to wait for the first link to connect")
      ->capture_default_str();
  sub->add_flag(
      "-v,--verbose", [cli](std::int64_t n) { cli->verbosity = 1 + static_cast<int>(n); },
      "more log output (-vv: debug)");
  sub->add_flag(
      "-q,--quiet", [cli](std::int64_t) { cli->verbosity = 0; }, "only warnings and errors");
  addViewOptions(
      *sub, [cli](ViewChoice choice) { cli->view = choice; },
      "per link its state, RTT (ms), loss (% of the packets it sent in the last "
      "second), send rate (Mbit/s) and share (% of the packets sent in the last second)");
  sub->footer(
      "\nLinks that come and go: with --config FILE, SIGHUP (kill -HUP PID) and POST /reload "
      "on the --http endpoint (curl -X POST http://127.0.0.1:PORT/reload) re-read FILE and "
      "apply its link array to the running stream: links added start connecting and carry "
      "traffic once up; links no longer listed are drained (their packets carried by the "
      "others) and then closed; unchanged links (the same URI text) are untouched. A --link "
      "on the command line overrides the file's links as at start. A file that cannot be "
      "read, parsed or checked changes nothing (logged; POST answers 422 with the reason, "
      "200 with what changed). Other options changed in the file take effect only at a "
      "restart; the reload names them. Without --config, SIGHUP is logged and ignored.");
  return sub;
}

}  // namespace bondcast::app
