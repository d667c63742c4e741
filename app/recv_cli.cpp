// SPDX-License-Identifier: MPL-2.0
// The options of `bondcast recv`.
#include "app/recv_cli.h"

#include <cstdint>

#include "app/config_file.h"
#include "app/http_address.h"

namespace bondcast::app {

CLI::App* addRecvOptions(CLI::App& root, const std::shared_ptr<RecvCli>& cli) {
  auto* sub = root.add_subcommand("recv", "Receive bonded streams and write each to an output.");
  // First: see addConfigOption.
  addConfigOption(*sub,
                  "listen = [\"srt://:9000\", \"srt://:9001\"], output = \"live.ts\", latency = "
                  "500, duration = \"90m\"");
  sub->add_option("-l,--listen", cli->listen,
                  "srt://[ADDR]:PORT to accept links on (repeat for several ports), or "
                  "srtla://[ADDR]:PORT for SRTLA senders (BELABOX, Moblin, IRL Pro, srtla_send: "
                  "each group is one stream); without ADDR every IPv6 and IPv4 address, [::1] "
                  "or 127.0.0.1 for one; SRT options "
                  "for this port in the URI override the ones below: latency=MS, "
                  "passphrase=S, pbkeylen=16|24|32")
      ->required();
  sub->add_option("-o,--output", cli->output,
                  "FILE, - (stdout), udp://HOST:PORT, srt://:PORT (players pull) or "
                  "srt://HOST:PORT (push). Several senders: '{id}' in FILE is replaced by "
                  "the stream id; without it, stream id S goes to FILE-S.ext and a stream "
                  "without id to FILE. stdout/UDP/SRT carry one stream at a time.")
      ->required();
  sub->add_option("--latency", cli->latency_ms,
                  "SRT latency in ms; adaptive mode: each packet is written out this long "
                  "after it could have come over the fastest link (the sender's latency if "
                  "larger)")
      ->capture_default_str()
      ->check(CLI::Range(20, 10000));
  sub->add_option("--passphrase", cli->passphrase,
                  "decrypt with this passphrase; senders without it are refused");
  sub->add_option("--allow-stream", cli->allow_streams,
                  "take only the streams given (repeat it; other stream ids are refused at "
                  "their handshake), each with its own passphrase of 10 to 79 characters "
                  "after '=', or without one the port's (passphrase= or --passphrase). NAME is "
                  "the sender's --stream-id (the r= value of SRT's #!:: form): letters, "
                  "digits, '-', '_', '.'. Config file: allow-stream = "
                  "[\"cam1=first-secret-xyz\", \"cam2\"]")
      ->type_name("NAME[=PASSPHRASE]");
  sub->add_option("--stats", cli->stats,
                  "write JSON lines of per-stream, per-link stats once a second to FILE "
                  "(- = stderr)");
  addHttpOption(*sub, cli->http);
  sub->add_option("--duration", cli->duration,
                  "stop after this long: seconds, or with a unit (30, 30s, 2m, 1500ms)")
      ->type_name("DURATION");
  sub->add_option("--packet-log", cli->packet_log,
                  "write a CSV line per payload written out (and per packet given up on): "
                  "arrival_us,stream,link,seq,send_us,bytes,status");
  sub->add_flag(
      "-v,--verbose", [cli](std::int64_t n) { cli->verbosity = 1 + static_cast<int>(n); },
      "more log output (-vv: debug)");
  sub->add_flag(
      "-q,--quiet", [cli](std::int64_t) { cli->verbosity = 0; }, "only warnings and errors");
  addViewOptions(
      *sub, [cli](ViewChoice choice) { cli->view = choice; },
      "per stream its id, mode, payloads written (lost and late ones in adaptive "
      "mode), and per link its state, RTT (ms), loss (% of the packets it received in "
      "the last second), receive rate (Mbit/s) and share (% of the stream's packets)");
  return sub;
}

}  // namespace bondcast::app
