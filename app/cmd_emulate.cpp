// SPDX-License-Identifier: MPL-2.0
// `bondcast emulate`: the userspace link emulator (eval/emulator) as a process.
// Parses --link/--event/--scenario into one EmulatorConfig, runs it until
// --duration or SIGINT/SIGTERM, and writes JSON stats lines every --stats-interval
// and once more at exit ("final": true).
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "common/stats_sink.h"
#include "common/units.h"
#include "eval/emulator/config.h"
#include "eval/emulator/emulator.h"

namespace bondcast::app {
namespace {

struct EmulateOptions {
  std::vector<std::string> links;
  std::vector<std::string> events;
  std::string scenario;
  std::optional<std::uint64_t> seed;
  std::string duration;
  std::string stats = "-";
  std::string stats_interval = "1s";
};

constexpr const char* kSyntax = R"(
Link spec (--link, one per link; comma-separated key=value):
  listen=ADDR:PORT   where the sender sends (default 127.0.0.1:0 = any free port)
  from=ADDR          source IPv4 address of this link's sender: links with from= and
                     the same listen= share one socket, dispatched by source address
                     (for SRTLA senders); other sources are dropped (unmatched_source)
  to=ADDR:PORT       the receiver (required)
  via=ADDR:PORT      local address of the upstream socket (default 127.0.0.1:0)
  rate=R             10mbit | 500kbit | unlimited (default) | trace:PATH (mahimahi)
                     | series:PATH (rate series: '<time_s> <Mbit/s>' or '<v>,<unit>')
  queue=Q            drop-tail limit: a time (200ms) or a size (300kb); default 1s
  delay=D            one-way delay (15ms)       jitter=J   uniform +-J (<= delay)
  loss=P             Bernoulli loss (0.5%)      reorder=1  let jitter reorder packets
  ge=p:r[:lb[:lg]]   Gilbert-Elliott loss: P(good->bad), P(bad->good), loss in bad
                     (default 100%) and good (default 0%) state, e.g. ge=1%:30%:80%:0%
  rev-KEY=V          the same keys for the receiver->sender direction; without them
                     it gets the same delay, no jitter, no loss, no rate limit.
Event (--event; times from the start):
  at=5s,link=0,down=5s          outage (blackhole) for 5 s; 'down' alone: until 'up'
  at=12s,link=0,up              end an outage
  at=20s,link=1,flap=5x200ms/800ms   5 cycles of 200 ms down, 800 ms up
  at=30s,link=2,rate=2mbit,delay=80ms,loss=1%,rev-delay=60ms   change settings
  dir=fwd|rev|both              directions a down/up/flap applies to (default both)
Randomness (loss, jitter) comes only from --seed: same seed, same decisions.
Stats: one JSON object per line, per link and direction: packets/bytes in and
forwarded, drops by cause (queue, loss, outage, ...), queue delay percentiles.
Example scenario file: eval/scenarios/example.json.)";

int usageError(const std::string& message) {
  std::fprintf(stderr, "bondcast emulate: %s\n", message.c_str());
  return kExitUsage;
}

// The configuration from the scenario file (if any), then the command line on top:
// --link and --event add to the scenario's, --seed and --duration replace its.
Result<emu::Scenario> buildScenario(const EmulateOptions& o) {
  emu::Scenario s;
  if (!o.scenario.empty()) {
    auto loaded = emu::loadScenario(o.scenario);
    if (!loaded)
      return loaded.error();
    s = std::move(loaded).value();
  }
  for (const std::string& spec : o.links) {
    auto link = emu::parseLinkSpec(spec);
    if (!link)
      return Error{"--link '" + spec + "': " + link.error().message};
    s.config.links.push_back(std::move(link).value());
  }
  for (const std::string& spec : o.events) {
    auto event = emu::parseEvent(spec);
    if (!event)
      return Error{"--event '" + spec + "': " + event.error().message};
    s.config.events.push_back(std::move(event).value());
  }
  if (o.seed)
    s.config.seed = *o.seed;
  if (!o.duration.empty()) {
    auto d = parseRunLength(o.duration);
    if (!d)
      return Error{"--duration='" + o.duration + "': " + d.error().message};
    s.duration = *d;
  }
  if (auto v = emu::validate(s.config); !v)
    return v.error();
  return s;
}

void writeStats(StatsSink& sink, const emu::Emulator& emu, std::uint64_t seed, bool final) {
  nlohmann::json line = {{"final", final}, {"seed", seed}};
  line.update(emu::toJson(emu.stats()));
  sink.write("emulator", std::move(line));
}

int runEmulate(const EmulateOptions& o) {
  auto scenario = buildScenario(o);
  if (!scenario)
    return usageError(scenario.error().message);
  auto interval = parseDuration(o.stats_interval);
  if (!interval || interval->count() <= 0) {
    return usageError("--stats-interval='" + o.stats_interval + "': expected a time above 0");
  }
  auto stats = StatsSink::open(o.stats);
  if (!stats) {
    return usageError("--stats='" + o.stats + "': " + stats.error().message);
  }

  // SIGINT/SIGTERM are blocked before the emulator's thread exists (it inherits the
  // mask) and taken here with sigtimedwait, between stats lines.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const emu::EmulatorConfig& config = scenario->config;
  emu::Emulator emulator(config);
  if (auto s = emulator.start(); !s) {
    spdlog::error("emulate: {}", s.error().message);
    return kExitFailure;
  }
  for (std::size_t i = 0; i < config.links.size(); ++i) {
    const auto& l = config.links[i];
    spdlog::info("emulate: link {}: {} -> {} (rate {}, delay {} us, loss {:.4f})", i,
                 emu::Endpoint{l.listen.addr, emulator.listenPort(i)}.toString(), l.to.toString(),
                 l.fwd.rate.text.empty() ? "unlimited" : l.fwd.rate.text,
                 std::chrono::duration_cast<std::chrono::microseconds>(l.fwd.delay).count(),
                 l.fwd.loss.meanLoss());
  }

  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = emulator.epoch();
  const Clock::time_point end =
      scenario->duration ? start + *scenario->duration : Clock::time_point::max();
  Clock::time_point next_stats = start + *interval;
  // Bounded: each pass ends at a stats tick, the end, or a signal.
  while (true) {
    Clock::time_point wake = std::min(next_stats, end);
    auto left = std::max(Clock::duration::zero(), wake - Clock::now());
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                     static_cast<long>(ns % 1'000'000'000)};
    int sig = sigtimedwait(&stop_signals, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("emulate: stopping on signal {}", sig);
      break;
    }
    Clock::time_point now = Clock::now();
    if (now >= end)
      break;
    if (now >= next_stats) {
      writeStats(**stats, emulator, config.seed, false);
      while (next_stats <= now)
        next_stats += *interval;
    }
  }
  emulator.stop();
  writeStats(**stats, emulator, config.seed, true);
  return kExitOk;
}

}  // namespace

void addEmulate(CLI::App& root, Runner& chosen) {
  auto* sub = root.add_subcommand(
      "emulate",
      "Relay UDP between a sender and a receiver over emulated links (rate or capacity "
      "trace, queue, delay, jitter, loss, outages), one relay per link, on loopback");
  auto opts = std::make_shared<EmulateOptions>();
  sub->add_option("--link", opts->links,
                  "A link: comma-separated key=value (see below); repeat per link")
      ->type_name("SPEC");
  sub->add_option("--event", opts->events, "A timeline event (see below); repeatable")
      ->type_name("SPEC");
  sub->add_option("--scenario", opts->scenario,
                  "JSON file with seed, duration, links and events (eval/scenarios/example.json); "
                  "--link/--event add to it, --seed/--duration replace its")
      ->type_name("FILE");
  sub->add_option("--seed", opts->seed, "Seed of every random decision (default 1)");
  sub->add_option("--duration", opts->duration,
                  "Stop by itself after this long: seconds, or with a unit (30, 30s, 2m); "
                  "default: run until SIGINT/SIGTERM")
      ->type_name("TIME");
  sub->add_option("--stats", opts->stats, "Where the JSON stats lines go: a file, or - for stderr")
      ->capture_default_str()
      ->type_name("FILE");
  sub->add_option("--stats-interval", opts->stats_interval, "Time between stats lines")
      ->capture_default_str()
      ->type_name("TIME");
  sub->footer(kSyntax);
  sub->callback([&chosen, opts] { chosen = [opts] { return runEmulate(*opts); }; });
}

}  // namespace bondcast::app
