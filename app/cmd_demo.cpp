// SPDX-License-Identifier: MPL-2.0
// `bondcast demo`: the whole path on one machine, with nothing to set up.
//
//   testsrc ─> sender ─┬─ cell-A (8 Mbit/s, 35 ms, 1% loss)          ─┐
//                      ├─ cell-B (5 Mbit/s, 60 ms, 2% loss, drops out) ├─> emulator ─> receiver ─>
//                      FILE └─ wifi   (20 Mbit/s, 8 ms, 0.3% loss)         ─┘
//
// The receiver, the link emulator and the sender run in this process (all on
// 127.0.0.1). A table on stdout shows each link, once a second (live_view.h: redrawn in
// place on a terminal); a summary follows at the end.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/cli_common.h"
#include "app/live_view.h"
#include "app/terminal_view.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/units.h"
#include "eval/emulator/config.h"
#include "eval/emulator/emulator.h"
#include "receiver/receiver.h"
#include "sender/send_session.h"

namespace bondcast::app {
namespace {

struct DemoCli {
  std::string duration = "30s";
  std::string output = "bondcast-demo.ts";
  std::string bitrate = "8mbit";
  std::string mode = "adaptive";
  int latency_ms = 300;
  std::uint64_t seed = 1;
  std::string stats;
  int verbosity = 0;
};

struct Profile {
  const char* name;
  const char* spec;  // emulator link settings (listen/to are added)
};

// Two cellular modems of different quality (one drops out from 10 s to 15 s) and a
// venue's Wi-Fi: 19 Mbit/s together, none more than 8. The default 8 Mbit/s stream
// needs adaptive mode (the sum of the links); broadcast and backup need every link, or
// the active one, to carry the whole stream: try them with --bitrate 3mbit.
constexpr Profile kProfiles[] = {
    {"cell-A", "rate=8mbit,delay=35ms,jitter=5ms,loss=1%,queue=300ms"},
    {"cell-B", "rate=5mbit,delay=60ms,jitter=8ms,loss=2%,queue=300ms"},
    {"wifi", "rate=6mbit,delay=8ms,jitter=3ms,loss=0.3%,queue=200ms"},
};
constexpr const char* kOutageEvent = "at=10s,link=1,down=5s";

// The sender's live table (live_view.h) on stdout, and what the summary needs.
class DemoView {
 public:
  DemoView(std::shared_ptr<TerminalView> view, std::map<std::string, std::string> names)
      : table_(std::make_shared<SenderTable>(std::move(names))),
        draw_(drawRecords(std::move(view), table_)) {}

  // On the sender's stats thread, then (the final record) on the thread that ran it.
  void onSender(const nlohmann::json& j) {
    draw_(j);
    if (j.value("final", false)) {
      std::lock_guard lock(mu_);
      final_sender_ = j;
    }
  }
  // Once the sender and the receiver have stopped, with the receiver's last record.
  void summary(const nlohmann::json& last_receiver, const std::string& output) {
    std::lock_guard lock(mu_);
    std::uint64_t sent = final_sender_.value("payloads_sent", std::uint64_t{0});
    std::uint64_t received = 0;
    for (const auto& s : last_receiver.value("streams", nlohmann::json::array())) {
      received += s.value("payloads", std::uint64_t{0});
    }
    const auto carried = table_->packetsCarried();
    double all = 0;
    for (const auto& [name, packets] : carried) {
      all += static_cast<double>(packets);
    }
    std::printf("\nsummary (%s mode)\n", final_sender_.value("mode", "?").c_str());
    std::printf("  sent      %llu payloads of 1316 bytes\n", static_cast<unsigned long long>(sent));
    std::printf("  received  %llu payloads\n", static_cast<unsigned long long>(received));
    std::printf("  lost      %lld\n",
                static_cast<long long>(sent) - static_cast<long long>(received));
    for (const auto& st : last_receiver.value("streams", nlohmann::json::array())) {
      if (st.value("mode", "") != "adaptive")
        continue;
      const auto& margin = st["margin_ms"];
      std::printf(
          "  latency   %.0f ms behind the fastest link; packets came p50 %.0f ms, p1 %.0f ms "
          "before their playout time (%llu duplicates dropped, %llu lost; %llu copies came after "
          "their playout time)\n",
          st.value("latency_ms", 0.0), margin.value("p50", 0.0), margin.value("p01", 0.0),
          static_cast<unsigned long long>(st.value("duplicates_dropped", 0ULL)),
          static_cast<unsigned long long>(st.value("lost", 0ULL)),
          static_cast<unsigned long long>(st.value("late", 0ULL)));
    }
    for (const auto& [name, packets] : carried) {
      std::printf("  %-7s carried %5.1f%% of the packets sent\n", name.c_str(),
                  all > 0 ? 100.0 * static_cast<double>(packets) / all : 0.0);
    }
    std::printf("  output    %s (play it: ffplay %s)\n", output.c_str(), output.c_str());
  }

 private:
  std::shared_ptr<SenderTable> table_;
  std::function<void(const nlohmann::json&)> draw_;  // the sender's stats thread only
  std::mutex mu_;
  nlohmann::json final_sender_ = nlohmann::json::object();
};

int runDemo(const DemoCli& cli) {
  // The table on stdout: in place on a terminal, and the log (stderr) through it there.
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  auto terminal_view = TerminalView::create(STDOUT_FILENO, terminal);
  setupLogging(cli.verbosity, "demo", terminal ? logSinkFor(terminal_view) : nullptr);
  auto duration = parseRunLength(cli.duration);
  if (!duration)
    return fail("demo", kExitUsage, "--duration: " + duration.error().message);
  auto bitrate = parseBitrateBps(cli.bitrate);
  if (!bitrate)
    return fail("demo", kExitUsage, "--bitrate: " + bitrate.error().message);
  auto mode = sender::parseSendMode(cli.mode);
  if (!mode)
    return fail("demo", kExitUsage, "--mode: " + mode.error().message);
  std::shared_ptr<StatsSink> sink;
  if (!cli.stats.empty()) {
    auto s = StatsSink::open(cli.stats);
    if (!s)
      return fail("demo", kExitFailure, s.error().message);
    sink = *s;
  }
  // Before libsrt and FFmpeg start threads, so that every thread blocks the signals.
  // Static: the signal thread outlives this function.
  static std::mutex mu;
  static std::condition_variable cv;
  static bool stop_requested = false;
  installStopSignals([](int) {
    std::lock_guard lock(mu);
    stop_requested = true;
    cv.notify_all();
  });
  srt::Runtime runtime(srt::Runtime::kEndProcessIfStuck);
  srt::routeLogsToSpdlog();
  if (auto st = checkSrtBonding(); !st)
    return fail("demo", kExitFailure, st.error().message);

  std::mutex receiver_mu;
  nlohmann::json last_receiver = nlohmann::json::object();
  const auto latency = std::chrono::milliseconds(cli.latency_ms);
  receiver::ReceiverOptions ro;
  ro.listen = {"srt://127.0.0.1:0"};
  ro.output = cli.output;
  ro.srt.latency = latency;
  ro.stats = sink;
  ro.on_stats = [&](const nlohmann::json& j) {
    std::lock_guard lock(receiver_mu);
    last_receiver = j;
  };
  auto rx = receiver::Receiver::create(ro);
  if (!rx)
    return fail("demo", kExitFailure, rx.error().message);
  const std::uint16_t rx_port = (*rx)->ports().at(0);

  net::NetworkConfig ec;
  ec.seed = cli.seed;
  for (const auto& p : kProfiles) {
    auto link = net::parseLinkSpec(std::string("listen=127.0.0.1:0,to=127.0.0.1:") +
                                   std::to_string(rx_port) + "," + p.spec);
    if (!link)
      return fail("demo", kExitFailure, link.error().message);
    ec.links.push_back(*link);
  }
  auto outage = net::parseEvent(kOutageEvent);
  if (!outage)
    return fail("demo", kExitFailure, outage.error().message);
  ec.events.push_back(*outage);
  emu::Emulator emulator(ec);
  if (auto st = emulator.start(); !st)
    return fail("demo", kExitFailure, st.error().message);

  sender::SendOptions so;
  so.mode = *mode;
  std::map<std::string, std::string> link_names;  // the table calls links by their profile
  for (std::size_t i = 0; i < std::size(kProfiles); ++i) {
    so.links.push_back("srt://127.0.0.1:" + std::to_string(emulator.listenPort(i)) +
                       "?weight=" + std::to_string(i == 2 ? 10 : 5 - i));
    link_names[so.links.back()] = kProfiles[i].name;
  }
  DemoView view(terminal_view, std::move(link_names));
  so.srt.latency = latency;
  so.stats = sink;
  so.on_stats = [&view](const nlohmann::json& j) { view.onSender(j); };
  auto session = sender::SendSession::create(so);
  if (!session)
    return fail("demo", kExitUsage, session.error().message);
  sender::InputOptions in;
  in.source = "testsrc";
  in.bitrate_bps = *bitrate;
  auto input = sender::openInput(in);
  if (!input)
    return fail("demo", kExitFailure, input.error().message);

  std::printf(
      "bondcast demo: %s test pattern, %s mode over 3 emulated links (8 + 5 + 6 Mbit/s) "
      "for %s (cell-B drops out from 10 s to 15 s), latency %d ms\n",
      formatBitrate(static_cast<double>(*bitrate)).c_str(), cli.mode.c_str(), cli.duration.c_str(),
      cli.latency_ms);
  std::fflush(stdout);

  sender::SendSession* s = session->get();
  Status received = okStatus();
  std::thread rx_thread([&] { received = (*rx)->run(); });
  std::thread timer([&, s] {
    std::unique_lock lock(mu);
    cv.wait_for(lock, *duration, [&] { return stop_requested; });
    s->stop();
  });
  Status sent = s->run(**input);
  {
    std::lock_guard lock(mu);
    stop_requested = true;
    cv.notify_all();
  }
  timer.join();
  (*rx)->stop();
  rx_thread.join();
  emulator.stop();
  terminal_view->stop();  // the final table stays, the summary goes below it
  if (!sent)
    return fail("demo", kExitFailure, sent.error().message);
  if (!received)
    return fail("demo", kExitFailure, "receiver: " + received.error().message);
  view.summary(last_receiver, cli.output);
  return kExitOk;
}

}  // namespace

void addDemo(CLI::App& root, Runner& chosen) {
  auto cli = std::make_shared<DemoCli>();
  auto* sub = root.add_subcommand(
      "demo",
      "Run receiver, link emulator (two cellular-like links, one dropping out, and a "
      "Wi-Fi-like one) and sender with a test pattern on this machine, with a live "
      "per-link view and a summary.");
  sub->add_option("--duration", cli->duration,
                  "how long to run: seconds, or with a unit (30, 30s, 2m)")
      ->capture_default_str();
  sub->add_option("-o,--output", cli->output, "file the received stream is written to")
      ->capture_default_str();
  sub->add_option("--bitrate", cli->bitrate, "test pattern bitrate")->capture_default_str();
  sub->add_option("--mode", cli->mode,
                  "adaptive (split over the links: their summed capacity), broadcast or backup")
      ->capture_default_str();
  sub->add_option("--latency", cli->latency_ms, "SRT latency in ms")
      ->capture_default_str()
      ->check(CLI::Range(20, 10000));
  sub->add_option("--seed", cli->seed, "seed of the emulated links' randomness")
      ->capture_default_str();
  sub->add_option("--stats", cli->stats, "also write the JSON stats lines to FILE");
  sub->add_flag(
      "-v,--verbose", [cli](std::int64_t n) { cli->verbosity = static_cast<int>(n); },
      "log output (-v info, -vv debug)");
  sub->callback([cli, &chosen] { chosen = [cli] { return runDemo(*cli); }; });
}

}  // namespace bondcast::app
