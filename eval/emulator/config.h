// SPDX-License-Identifier: MPL-2.0
// Configuration of the link emulator: what each link does in each direction, and
// the timeline of events. Parsed from the same `key=value,...` strings the command
// line takes (`--link`, `--event`) and from a JSON scenario file; see
// eval/emulator/README.md for the full syntax.
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

#include <nlohmann/json_fwd.hpp>

#include "common/netmodel/flap.h"
#include "common/netmodel/loss.h"
#include "common/netmodel/rate.h"
#include "common/result.h"
#include "common/trace.h"

namespace bondcast::emu {

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

// A link's capacity: common/netmodel/rate.h, the simulator's too.
using net::RateSpec;

// Drop-tail limit of the bottleneck queue. At most one of the two is set; when a
// direction has a rate limit and neither is set, kDefaultQueueTime applies.
struct QueueLimit {
  std::optional<std::uint64_t> bytes;
  std::optional<Nanos> time;  // predicted time the packet would wait in the queue
};
inline constexpr Nanos kDefaultQueueTime = std::chrono::milliseconds(1000);

// Random loss: common/netmodel/loss.h, the simulator's too.
using net::LossSpec;

struct DirectionConfig {
  RateSpec rate;
  QueueLimit queue;
  Nanos delay{0};        // one-way propagation delay added after the bottleneck
  Nanos jitter{0};       // each packet's delay is uniform in [delay - jitter, delay + jitter]
  LossSpec loss;         // decided when a packet leaves the bottleneck (it used capacity)
  bool reorder = false;  // false: a packet never overtakes an earlier one
};

struct LinkConfig {
  Endpoint listen;  // where the sender sends; port 0 = pick one (Emulator::listenPort)
  // Source IPv4 address (host byte order) of this link's sender. Links with `from` and
  // the same `listen` share one listen socket, which dispatches each datagram by its
  // source address (an SRTLA sender sends every link to one address, from one local
  // IP per link). nullopt: the link has its own listen socket and takes any source.
  std::optional<std::uint32_t> from;
  Endpoint to;  // the receiver
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

struct EmulatorConfig {
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

// `base_dir`: relative trace paths are read from there (a scenario file's folder).
Result<LinkConfig> parseLinkSpec(std::string_view spec, const std::string& base_dir = "");
Result<Event> parseEvent(std::string_view spec, const std::string& base_dir = "");

// An IPv4 address without a port, in host byte order ("127.0.0.2").
Result<std::uint32_t> parseIpv4(std::string_view text);
std::string ipv4ToString(std::uint32_t addr);

// Checks what a single spec cannot: at least one link, every event's link exists,
// listen addresses are shared only by links that each have a distinct from=.
Status validate(const EmulatorConfig& config);

// A scenario file: JSON, see eval/scenarios/example.json.
struct Scenario {
  EmulatorConfig config;
  std::optional<Nanos> duration;
};
Result<Scenario> loadScenario(const std::string& path);
// The same from the file's JSON: `name` names it in errors, `base_dir` is where relative
// trace paths are read from. Separate from loadScenario so the fuzz target can reach it
// without files.
Result<Scenario> parseScenario(const nlohmann::json& j, const std::string& name,
                               const std::string& base_dir);

}  // namespace bondcast::emu
