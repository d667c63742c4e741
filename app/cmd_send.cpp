// `bondcast send`: one MPEG-TS input over several links: SRT's socket groups
// (broadcast, backup) or bondcast's scheduler over one SRT connection per link (adaptive).
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "app/cli_common.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/units.h"
#include "scheduler/config.h"
#include "sender/send_session.h"

namespace bondcast::app {
namespace {

struct SendCli {
  std::string mode = "broadcast";
  std::string policy = "latency-aware";
  double redundancy_percent = 100 * sched::kDefaultOverheadBudget;
  std::string input;
  std::vector<std::string> links;
  int latency_ms = 200;
  std::string passphrase;
  std::string stream_id;
  std::string stats;
  bool loop = false;
  std::string bitrate = "4mbit";
  int connect_timeout_ms = 5000;
  int verbosity = 1;
};

int runSend(const SendCli& cli) {
  setupLogging(cli.verbosity, "send");
  sender::SendOptions o;
  o.mode = cli.mode;
  o.links = cli.links;
  o.srt = {std::chrono::milliseconds(cli.latency_ms), cli.passphrase, cli.stream_id};
  o.policy = cli.policy;
  o.redundancy_budget = cli.redundancy_percent / 100.0;
  o.connect_timeout = std::chrono::milliseconds(cli.connect_timeout_ms);
  if (auto st = sender::checkSendOptions(o); !st)
    return fail("send", kExitUsage, st.error().message);
  if (!cli.passphrase.empty() && (cli.passphrase.size() < 10 || cli.passphrase.size() > 79)) {
    return fail("send", kExitUsage, "--passphrase must be 10 to 79 characters long");
  }
  auto bitrate = parseBitrateBps(cli.bitrate);
  if (!bitrate)
    return fail("send", kExitUsage, "--bitrate: " + bitrate.error().message);
  if (auto st = sender::checkInputSource(cli.input); !st)
    return fail("send", kExitUsage, st.error().message);
  if (!cli.stats.empty()) {
    auto sink = StatsSink::open(cli.stats);
    if (!sink)
      return fail("send", kExitFailure, sink.error().message);
    o.stats = *sink;
  }

  // Before libsrt and FFmpeg start threads, so that every thread blocks the signals.
  // Static: the signal thread outlives this function.
  static std::atomic<bool> stop_requested{false};
  static std::atomic<sender::SendSession*> running{nullptr};
  installStopSignals([](int) {
    stop_requested = true;
    if (auto* s = running.load())
      s->stop();
  });
  srt::Runtime runtime;
  srt::routeLogsToSpdlog();
  if (auto st = checkSrtBonding(); !st)
    return fail("send", kExitFailure, st.error().message);

  sender::InputOptions in;
  in.source = cli.input;
  in.loop = cli.loop;
  in.bitrate_bps = *bitrate;
  in.latency = std::chrono::milliseconds(cli.latency_ms);
  auto input = sender::openInput(in);
  if (!input)
    return fail("send", kExitFailure, input.error().message);

  auto session = sender::SendSession::create(std::move(o));
  if (!session)
    return fail("send", kExitFailure, session.error().message);
  sender::SendSession* s = session->get();
  running = s;
  if (stop_requested)
    s->stop();
  auto st = s->run(**input);
  running = nullptr;
  if (!st)
    return fail("send", kExitFailure, st.error().message);
  return kExitOk;
}

}  // namespace

void addSend(CLI::App& root, Runner& chosen) {
  auto cli = std::make_shared<SendCli>();
  auto* sub = root.add_subcommand("send", "Send one MPEG-TS stream over several links.");
  sub->add_option("--mode", cli->mode,
                  "broadcast: every packet on every link (hitless failover); backup: one "
                  "active link, the others take over when it fails (both: SRT socket "
                  "groups); adaptive: packets split over the links by expected arrival "
                  "time, using their summed capacity (one SRT connection per link)")
      ->capture_default_str();
  sub->add_option("--policy", cli->policy,
                  "adaptive mode's scheduler: latency-aware, min-rtt, srtla, round-robin, "
                  "broadcast or backup")
      ->capture_default_str();
  sub->add_option("--redundancy-budget", cli->redundancy_percent,
                  "adaptive mode: extra copies of important or at-risk packets may add at "
                  "most this PERCENT of the payload bytes (re-sends of a failed link's "
                  "packets are never refused)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sub->add_option("-i,--input", cli->input,
                  "udp://@:PORT or udp://ADDR:PORT (TS from an encoder), srt://:PORT (an "
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
                  "and conntimeo=MS (defaults: the options below)")
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
  sub->add_flag("--loop", cli->loop, "restart a file input at its end");
  sub->add_option("--bitrate", cli->bitrate, "bitrate of the testsrc input (e.g. 4mbit)")
      ->capture_default_str();
  sub->add_option("--connect-timeout", cli->connect_timeout_ms,
                  "ms to wait for the first link to connect")
      ->capture_default_str();
  sub->add_flag(
      "-v,--verbose", [cli](std::int64_t n) { cli->verbosity = 1 + static_cast<int>(n); },
      "more log output (-vv: debug)");
  sub->add_flag(
      "-q,--quiet", [cli](std::int64_t) { cli->verbosity = 0; }, "only warnings and errors");
  sub->callback([cli, &chosen] { chosen = [cli] { return runSend(*cli); }; });
}

}  // namespace bondcast::app
