// `bondcast recv`: accepts the senders' links and writes each stream to its output.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/cli_common.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/srt_uri.h"
#include "common/units.h"
#include "receiver/receiver.h"

namespace bondcast::app {
namespace {

struct RecvCli {
  std::vector<std::string> listen;
  std::string output;
  int latency_ms = 200;
  std::string passphrase;
  std::string stats;
  std::string duration;
  std::string packet_log;
  int verbosity = 1;
};

int runRecv(const RecvCli& cli) {
  setupLogging(cli.verbosity, "recv");
  receiver::ReceiverOptions o;
  o.listen = cli.listen;
  o.output = cli.output;
  o.srt = {std::chrono::milliseconds(cli.latency_ms), cli.passphrase, {}};
  o.packet_log = cli.packet_log;
  if (auto spec = receiver::parseOutputSpec(cli.output); !spec) {
    return fail("recv", kExitUsage, spec.error().message);
  }
  for (const auto& l : cli.listen) {
    auto uri = receiver::parseListenUri(l);
    if (!uri)
      return fail("recv", kExitUsage, "--" + uri.error().message);
    if (uri->srt.pbkeylen && !uri->srt.passphrase && cli.passphrase.empty())
      return fail("recv", kExitUsage, "--listen '" + l + "': pbkeylen= needs a passphrase");
  }
  if (!cli.passphrase.empty() && (cli.passphrase.size() < 10 || cli.passphrase.size() > 79)) {
    return fail("recv", kExitUsage, "--passphrase must be 10 to 79 characters long");
  }
  std::optional<Micros> duration;
  if (!cli.duration.empty()) {
    auto d = parseRunLength(cli.duration);
    if (!d)
      return fail("recv", kExitUsage, "--duration: " + d.error().message);
    duration = *d;
  }
  if (!cli.stats.empty()) {
    auto sink = StatsSink::open(cli.stats);
    if (!sink)
      return fail("recv", kExitFailure, sink.error().message);
    o.stats = *sink;
  }

  // Before libsrt starts threads, so that every thread blocks the signals.
  // Static: the signal thread outlives this function.
  static std::atomic<bool> stop_requested{false};
  static std::atomic<receiver::Receiver*> running{nullptr};
  installStopSignals([](int) {
    stop_requested = true;
    if (auto* r = running.load())
      r->stop();
  });
  srt::Runtime runtime;
  srt::routeLogsToSpdlog();
  if (auto st = checkSrtBonding(); !st)
    return fail("recv", kExitFailure, st.error().message);
  auto rx = receiver::Receiver::create(std::move(o));
  if (!rx)
    return fail("recv", kExitFailure, rx.error().message);
  receiver::Receiver* r = rx->get();
  running = r;
  if (stop_requested)
    r->stop();
  std::thread timer;
  if (duration) {
    timer = std::thread([r, d = *duration] {
      std::this_thread::sleep_for(d);
      r->stop();
    });
    timer.detach();
  }
  auto ports = r->ports();
  for (std::size_t i = 0; i < ports.size(); ++i) {
    spdlog::info("listening on {} (port {})", maskSecrets(cli.listen[i]), ports[i]);
  }
  if (auto st = r->run(); !st)
    return fail("recv", kExitFailure, st.error().message);
  return kExitOk;
}

}  // namespace

void addRecv(CLI::App& root, Runner& chosen) {
  auto cli = std::make_shared<RecvCli>();
  auto* sub = root.add_subcommand("recv", "Receive bonded streams and write each to an output.");
  sub->add_option("-l,--listen", cli->listen,
                  "srt://[ADDR]:PORT to accept links on (repeat for several ports); SRT options "
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
  sub->add_option("--stats", cli->stats,
                  "write JSON lines of per-stream, per-link stats once a second to FILE "
                  "(- = stderr)");
  sub->add_option("--duration", cli->duration,
                  "stop after this long: seconds, or with a unit (30, 30s, 2m, 1500ms)");
  sub->add_option("--packet-log", cli->packet_log,
                  "write a CSV line per payload written out (and per packet given up on): "
                  "arrival_us,stream,link,seq,send_us,bytes,status");
  sub->add_flag(
      "-v,--verbose", [cli](std::int64_t n) { cli->verbosity = 1 + static_cast<int>(n); },
      "more log output (-vv: debug)");
  sub->add_flag(
      "-q,--quiet", [cli](std::int64_t) { cli->verbosity = 0; }, "only warnings and errors");
  sub->callback([cli, &chosen] { chosen = [cli] { return runRecv(*cli); }; });
}

}  // namespace bondcast::app
