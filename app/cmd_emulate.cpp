// SPDX-License-Identifier: MPL-2.0
// `bondcast emulate`: the userspace link emulator (eval/emulator) as a process.
// Parses --link/--event/--scenario into one NetworkConfig, runs it until
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
#include "scheduler/sim/simulator.h"

namespace bondcast::app {
namespace {

struct EmulateOptions {
  std::vector<std::string> links;
  std::vector<std::string> events;
  std::string scenario;
  std::string to;
  std::string shared_dir;
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
  to=ADDR:PORT       the receiver (required here or by --to)
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
A scenario file is the one bondcast sim reads (eval/scenarios/*.json,
scheduler/sim/scenarios/*.json): its video, latency and scheduler blocks describe the
simulator's stream and are not read here (the emulator carries what the sender sends);
name= labels a link in the log; cost= is for the simulator only.
Example scenario file: eval/scenarios/example.json.)";

int usageError(const std::string& message) {
  std::fprintf(stderr, "bondcast emulate: %s\n", message.c_str());
  return kExitUsage;
}

// Every link without its own to= gets --to; --to that no link takes is an error, and
// so is a link left without a receiver or with a simulator-only cost.
Status applyTo(const std::string& to, net::NetworkConfig& config) {
  std::optional<net::Endpoint> endpoint;
  if (!to.empty()) {
    auto parsed = net::parseEndpoint(to, /*allow_port0=*/false);
    if (!parsed) {
      return Error{"--to='" + to + "': " + parsed.error().message};
    }
    endpoint = *parsed;
  }
  bool used = false;
  for (std::size_t i = 0; i < config.links.size(); ++i) {
    net::LinkConfig& l = config.links[i];
    if (l.cost) {
      return Error{"link " + std::to_string(i) +
                   ": cost= is the simulator's (bondcast sim); the emulator has no use for it"};
    }
    if (l.to) {
      continue;
    }
    if (!endpoint) {
      return Error{"link " + std::to_string(i) +
                   " has no receiver: give it to=ADDR:PORT or give --to ADDR:PORT"};
    }
    l.to = endpoint;
    used = true;
  }
  if (endpoint && !used) {
    return Error{"--to='" + to + "': every link has its own to= (remove --to)"};
  }
  return okStatus();
}

// The configuration from the scenario file (if any), then the command line on top:
// --link and --event add to the scenario's, --seed and --duration replace its, --to
// fills in the receiver of links without one.
Result<net::Scenario> buildScenario(const EmulateOptions& o) {
  const std::string shared = o.shared_dir.empty() ? sim::defaultSharedDir() : o.shared_dir;
  net::Scenario s;
  if (!o.scenario.empty()) {
    auto loaded = net::loadScenario(o.scenario, shared);
    if (!loaded) {
      return loaded.error();
    }
    s = std::move(loaded).value();
  }
  const net::TraceDirs dirs{"", shared};
  for (const std::string& spec : o.links) {
    auto link = net::parseLinkSpec(spec, dirs);
    if (!link) {
      return Error{"--link '" + spec + "': " + link.error().message};
    }
    s.config.links.push_back(std::move(link).value());
  }
  for (const std::string& spec : o.events) {
    auto event = net::parseEvent(spec, dirs);
    if (!event) {
      return Error{"--event '" + spec + "': " + event.error().message};
    }
    s.config.events.push_back(std::move(event).value());
  }
  if (o.seed) {
    s.config.seed = *o.seed;
  }
  if (!o.duration.empty()) {
    auto d = parseRunLength(o.duration);
    if (!d) {
      return Error{"--duration='" + o.duration + "': " + d.error().message};
    }
    s.duration = *d;
  }
  if (auto v = net::validate(s.config); !v) {
    return v.error();
  }
  if (auto t = applyTo(o.to, s.config); !t) {
    return t.error();
  }
  return s;
}

void writeStats(StatsSink& sink, const emu::Emulator& emu, std::uint64_t seed, bool final) {
  nlohmann::json line = {{"final", final}, {"seed", seed}};
  line.update(emu::toJson(emu.stats()));
  sink.write("emulator", std::move(line));
}

int runEmulate(const EmulateOptions& o) {
  auto scenario = buildScenario(o);
  if (!scenario) {
    return usageError(scenario.error().message);
  }
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

  const net::NetworkConfig& config = scenario->config;
  emu::Emulator emulator(config);
  if (auto s = emulator.start(); !s) {
    spdlog::error("emulate: {}", s.error().message);
    return kExitFailure;
  }
  for (std::size_t i = 0; i < config.links.size(); ++i) {
    const auto& l = config.links[i];
    spdlog::info("emulate: link {}: {} -> {} (rate {}, delay {} us, loss {:.4f}){}", i,
                 emu::Endpoint{l.listen.addr, emulator.listenPort(i)}.toString(), l.to->toString(),
                 l.fwd.rate.text.empty() ? "unlimited" : l.fwd.rate.text,
                 std::chrono::duration_cast<std::chrono::microseconds>(l.fwd.delay).count(),
                 l.fwd.loss.meanLoss(), l.name.empty() ? "" : " " + l.name);
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
    if (now >= end) {
      break;
    }
    if (now >= next_stats) {
      writeStats(**stats, emulator, config.seed, false);
      while (next_stats <= now) {
        next_stats += *interval;
      }
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
                  "JSON file with seed, duration, links and events (eval/scenarios/example.json; "
                  "bondcast sim's scenarios too); --link/--event add to it, --seed/--duration "
                  "replace its")
      ->type_name("FILE");
  sub->add_option("--to", opts->to,
                  "The receiver (IPv4-ADDRESS:PORT) of every link that names none, e.g. a "
                  "simulator scenario's")
      ->type_name("ADDR:PORT");
  sub->add_option("--shared-dir", opts->shared_dir,
                  "Folder that ${shared} in trace paths stands for; default: "
                  "$BONDCAST_SHARED_DIR or the one configured at build time")
      ->type_name("DIR");
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
