// SPDX-License-Identifier: MPL-2.0
// A network scenario: what each link does in each direction, and the timeline of
// events. One schema for the simulator (`bondcast sim`, scheduler/sim) and the link
// emulator (`bondcast emulate`, eval/emulator): a link and an event are the same
// `key=value,...` text the emulator's `--link` and `--event` take, or a JSON object
// with the same keys; a scenario file is JSON (eval/scenarios/example.json,
// eval/emulator/README.md). Each tool takes the parts it models and says so when a
// scenario asks for something it cannot do.
//
// Parsing is start-up configuration: it returns Result<> with a one-line message
// that names the offending field and value; nothing here does I/O except loading
// the capacity traces a spec names.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/netmodel/flap.h"
#include "common/netmodel/loss.h"
#include "common/netmodel/rate.h"
#include "common/result.h"
#include "common/trace.h"

namespace bondcast::net {

// Model time: nanoseconds since the emulator started.
using Nanos = std::chrono::nanoseconds;
inline constexpr Nanos kNever = Nanos::max();

enum class Direction { Forward, Reverse };  // Forward: sender -> receiver
const char* toString(Direction d);

// An IPv4 address and port, in host byte order.
struct Endpoint {
  std::uint32_t addr = 0x7f000001;  // 127.0.0.1
  std::uint16_t port = 0;
  std::string toString() const;
  bool operator==(const Endpoint&) const = default;
};
// "127.0.0.1:7001", "localhost:7001". allow_port0: for addresses we bind.
Result<Endpoint> parseEndpoint(std::string_view text, bool allow_port0);

// Drop-tail limit of the bottleneck queue. At most one of the two is set; when a
// direction has a rate limit and neither is set, kDefaultQueueTime applies.
// "unlimited": time = kNever.
struct QueueLimit {
  std::optional<std::uint64_t> bytes;
  std::optional<Nanos> time;  // predicted time the packet would wait in the queue
};
inline constexpr Nanos kDefaultQueueTime = std::chrono::milliseconds(1000);

struct DirectionConfig {
  RateSpec rate;
  QueueLimit queue;
  Nanos delay{0};        // one-way propagation delay added after the bottleneck
  Nanos jitter{0};       // each packet's delay is uniform in [delay - jitter, delay + jitter]
  LossSpec loss;         // decided when a packet leaves the bottleneck (it used capacity)
  bool reorder = false;  // false: a packet never overtakes an earlier one
};

struct LinkConfig {
  std::string name;            // a label for reports ("cell-A"); may be empty
  std::optional<double> cost;  // the simulated sender's cost of this link (sim only)
  Endpoint listen;             // where the sender sends; port 0 = pick one (Emulator::listenPort)
  // Source IPv4 address (host byte order) of this link's sender. Links with `from` and
  // the same `listen` share one listen socket, which dispatches each datagram by its
  // source address (an SRTLA sender sends every link to one address, from one local
  // IP per link). nullopt: the link has its own listen socket and takes any source.
  std::optional<std::uint32_t> from;
  std::optional<Endpoint> to;  // the receiver (the emulator's --to fills it in)
  Endpoint via{0x7f000001,
               0};      // local address of the upstream socket (the source the receiver sees)
  DirectionConfig fwd;  // sender -> receiver
  DirectionConfig rev;  // receiver -> sender
};

// What an event changes in one direction; unset fields stay as they are.
struct DirectionChange {
  std::optional<RateSpec> rate;
  std::optional<Nanos> delay;
  std::optional<Nanos> jitter;
  std::optional<LossSpec> loss;
  bool empty() const { return !rate && !delay && !jitter && !loss; }
};

struct Event {
  enum class Action { Change, Down, Up, Flap };
  Nanos at{0};
  std::size_t link = 0;
  Action action = Action::Change;
  bool fwd = true;  // directions a Down/Up/Flap applies to (dir=fwd|rev|both)
  bool rev = true;
  std::optional<Nanos> down_for;  // Down: nullopt = until an `up` event
  std::uint32_t flap_count = 0;   // Flap: count x (down for flap_down, then up for flap_up)
  Nanos flap_down{0};
  Nanos flap_up{0};
  DirectionChange fwd_change;  // Change
  DirectionChange rev_change;
};

struct NetworkConfig {
  std::vector<LinkConfig> links;
  std::vector<Event> events;
  std::uint64_t seed = 1;
};

// One step of one direction's timeline, as the link model consumes it.
struct TimedAction {
  enum class Kind { DownUntil, Up, Change };
  Nanos at{0};
  Kind kind = Kind::Change;
  Nanos until{0};  // DownUntil: end of the outage (kNever: until an Up)
  DirectionChange change;
};
// The actions of `events` that apply to (link, dir), sorted by time (stable: events
// at the same time apply in the order given). Flaps become one DownUntil per cycle.
std::vector<TimedAction> timelineFor(const std::vector<Event>& events, std::size_t link,
                                     Direction dir);

// Where capacity traces are read from: relative paths from `base_dir` (a scenario
// file's folder), "${shared}" is `shared_dir` (common/netmodel/rate.h).
struct TraceDirs {
  std::string base_dir;
  std::string shared_dir;
};
Result<LinkConfig> parseLinkSpec(std::string_view spec, const TraceDirs& dirs = {});
Result<Event> parseEvent(std::string_view spec, const TraceDirs& dirs = {});

// An IPv4 address without a port, in host byte order ("127.0.0.2").
Result<std::uint32_t> parseIpv4(std::string_view text);
std::string ipv4ToString(std::uint32_t addr);

// Checks what a single spec cannot: at least one link, every event's link exists,
// listen addresses are shared only by links that each have a distinct from=.
Status validate(const NetworkConfig& config);

// A scenario file: JSON, see eval/scenarios/example.json. The network (links, events,
// seed) is decoded here; `video` and `scheduler` describe the simulator's sender and
// are decoded by it (scheduler/sim/scenario.h); keys starting with "_" belong to other
// tools (eval/run's "_eval") and are skipped.
struct Scenario {
  std::string name;  // "name", or empty
  NetworkConfig config;
  std::optional<Nanos> duration;
  std::optional<Nanos> latency;       // the stream's latency (the simulator's receiver)
  std::optional<Nanos> stats_period;  // the simulator's srt_bistats polling period
  nlohmann::json video;               // null when absent
  nlohmann::json scheduler;           // null when absent
};
Result<Scenario> loadScenario(const std::string& path, const std::string& shared_dir = "");
// The same from the file's JSON: `name` names it in errors. Separate from loadScenario
// so the fuzz targets can reach it without files.
Result<Scenario> parseScenario(const nlohmann::json& j, const std::string& name,
                               const TraceDirs& dirs);

}  // namespace bondcast::net
