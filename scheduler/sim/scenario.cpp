// SPDX-License-Identifier: MPL-2.0
#include "scheduler/sim/scenario.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "common/netmodel/flap.h"
#include "common/netmodel/rate.h"
#include "common/units.h"

namespace bondcast::sim {
namespace {

using nlohmann::json;

Error fieldError(const std::string& field, const std::string& why) {
  return Error{"scenario field '" + field + "': " + why};
}

// Checks an object's keys against the known ones, so a typo is an error, not a default.
Status onlyKnownKeys(const json& object, const std::string& where,
                     const std::set<std::string>& known) {
  if (!object.is_object()) {
    return fieldError(where, "expected an object");
  }
  for (const auto& [key, value] : object.items()) {
    if (!known.contains(key)) {
      return fieldError(where + "." + key, "unknown field");
    }
  }
  return okStatus();
}

Result<std::string> stringAt(const json& object, const std::string& key, const std::string& where) {
  const json& v = object.at(key);
  if (!v.is_string()) {
    return fieldError(where + "." + key, "expected a string");
  }
  return v.get<std::string>();
}

Result<Micros> durationAt(const json& object, const std::string& key, const std::string& where) {
  auto text = stringAt(object, key, where);
  if (!text) {
    return text.error();
  }
  auto d = parseDuration(*text);
  if (!d) {
    return fieldError(where + "." + key, d.error().message);
  }
  return *d;
}

Result<double> numberAt(const json& object, const std::string& key, const std::string& where,
                        double min, double max) {
  const json& v = object.at(key);
  if (!v.is_number()) {
    return fieldError(where + "." + key, "expected a number");
  }
  const double x = v.get<double>();
  if (!(x >= min && x <= max)) {
    return fieldError(where + "." + key,
                      "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return x;
}

// An optional number field within [lo, hi] into `target`, left as it is when absent.
template <typename T>
Status optionalNumberAt(const json& object, const std::string& key, const std::string& where,
                        double lo, double hi, T& target) {
  if (!object.contains(key)) {
    return okStatus();
  }
  auto value = numberAt(object, key, where, lo, hi);
  if (!value) {
    return value.error();
  }
  target = static_cast<T>(*value);
  return okStatus();
}

Result<std::uint64_t> rateAt(const json& object, const std::string& key, const std::string& where) {
  auto text = stringAt(object, key, where);
  if (!text) {
    return text.error();
  }
  auto bps = parseBitrateBps(*text);
  if (!bps) {
    return fieldError(where + "." + key, bps.error().message);
  }
  return *bps;
}

Status parseVideo(const json& j, VideoSpec& video) {
  const std::string where = "video";
  if (auto s = onlyKnownKeys(
          j, where,
          {"kind", "bitrate", "fps", "gop", "iframe_ratio", "packet_bytes", "audio", "comment"});
      !s) {
    return s;
  }
  if (!j.contains("bitrate")) {
    return fieldError("video.bitrate", "missing");
  }
  auto bitrate = rateAt(j, "bitrate", where);
  if (!bitrate) {
    return bitrate.error();
  }
  if (*bitrate == 0) {
    return fieldError("video.bitrate", "must be above 0");
  }
  video.bitrate_bps = *bitrate;
  if (j.contains("kind")) {
    auto kind = stringAt(j, "kind", where);
    if (!kind) {
      return kind.error();
    }
    if (*kind != "cbr" && *kind != "frames") {
      return fieldError("video.kind", "expected cbr or frames");
    }
    video.kind = *kind == "cbr" ? VideoSpec::Kind::kCbr : VideoSpec::Kind::kFrames;
  }
  if (auto st = optionalNumberAt(j, "fps", where, 1, 240, video.fps); !st) {
    return st;
  }
  if (auto st = optionalNumberAt(j, "gop", where, 1, 10000, video.gop_frames); !st) {
    return st;
  }
  if (auto st = optionalNumberAt(j, "iframe_ratio", where, 1, 100, video.iframe_ratio); !st) {
    return st;
  }
  if (auto st = optionalNumberAt(j, "packet_bytes", where, 188, 1456, video.packet_bytes); !st) {
    return st;
  }
  if (j.contains("audio")) {
    auto audio = rateAt(j, "audio", where);
    if (!audio) {
      return audio.error();
    }
    video.audio_bps = *audio;
  }
  return okStatus();
}

// The latency-aware settings a scenario may override (defaults: scheduler/config.h), so
// that a sensitivity sweep (tools/sensitivity.py) needs no rebuild.
Status parseSchedulerConfig(const json& j, sched::SchedulerConfig& config) {
  const std::string where = "scheduler";
  const std::pair<const char*, Micros*> durations[] = {
      {"safety_margin", &config.safety_margin},
      {"extra_copy_max_queue", &config.extra_copy_max_queue},
      {"silence_resend_after", &config.silence_resend_after},
      {"rtt_trend_window", &config.link.rtt_trend_window},
      {"rtt_trend_lead", &config.link.rtt_trend_lead},
      {"delivery_rate_window", &config.link.delivery_rate_window},
      {"recent_delivery_window", &config.link.recent_delivery_window},
  };
  const std::pair<const char*, double*> fractions[] = {
      {"overhead_budget", &config.overhead_budget},
      {"queue_uncertainty", &config.queue_uncertainty},
  };
  std::set<std::string> known = {"comment"};
  for (const auto& [key, target] : durations) {
    known.insert(key);
  }
  for (const auto& [key, target] : fractions) {
    known.insert(key);
  }
  if (auto s = onlyKnownKeys(j, where, known); !s) {
    return s;
  }
  for (const auto& [key, target] : fractions) {
    if (!j.contains(key)) {
      continue;
    }
    auto x = numberAt(j, key, where, 0, 10);
    if (!x) {
      return x.error();
    }
    *target = *x;
  }
  for (const auto& [key, target] : durations) {
    if (!j.contains(key)) {
      continue;
    }
    auto d = durationAt(j, key, where);
    if (!d) {
      return d.error();
    }
    if (d->count() < 0) {
      return fieldError(where + "." + key, "must not be negative");
    }
    *target = *d;
  }
  return okStatus();
}

// Sorts a link's outages and merges those that overlap.
void normalizeOutages(LinkSpec& link) {
  std::sort(link.outages.begin(), link.outages.end(),
            [](const Outage& a, const Outage& b) { return a.start < b.start; });
  std::vector<Outage> merged;
  for (const Outage& o : link.outages) {
    if (!merged.empty() && o.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, o.end);
    } else {
      merged.push_back(o);
    }
  }
  link.outages = std::move(merged);
}

using std::chrono::duration_cast;

Micros toMicros(net::Nanos t) {
  return t == net::kNever ? Micros::max() : duration_cast<Micros>(t);
}

// The receiver -> sender direction: the simulator models its delay only (ACKs and NAKs
// are small and few).
Status checkReturnPath(const net::DirectionConfig& rev, const std::string& where) {
  if (rev.rate.kind != net::RateSpec::Kind::kUnlimited || rev.queue.bytes || rev.queue.time) {
    return fieldError(where + ".rev-rate", "the simulator's return path has a delay only");
  }
  if (rev.jitter.count() != 0 || rev.loss.kind != LossSpec::Kind::kNone || rev.reorder) {
    return fieldError(where + ".rev-jitter/rev-loss",
                      "the simulator's return path has a delay only");
  }
  return okStatus();
}

Result<LinkSpec> linkFrom(const net::LinkConfig& c, const std::string& where) {
  if (auto st = checkReturnPath(c.rev, where); !st) {
    return st.error();
  }
  const net::DirectionConfig& fwd = c.fwd;
  if (fwd.rate.kind == net::RateSpec::Kind::kUnlimited) {
    return fieldError(where + ".rate",
                      "the simulator needs a capacity: a rate (10mbit) or a trace");
  }
  if (fwd.reorder) {
    return fieldError(where + ".reorder", "the simulator never reorders a link's packets");
  }
  LinkSpec link;
  link.name = c.name;
  link.cost = c.cost.value_or(1.0);
  link.rate_text = fwd.rate.text;
  link.trace = fwd.rate.trace;
  link.rate_bps = static_cast<double>(fwd.rate.bps);
  link.delay = duration_cast<Micros>(fwd.delay);
  link.rev_delay = duration_cast<Micros>(c.rev.delay);
  link.jitter = duration_cast<Micros>(fwd.jitter);
  link.loss = fwd.loss;
  if (fwd.queue.bytes) {
    link.queue_limit_bytes = *fwd.queue.bytes;
    link.queue_limit_time = Micros(0);
  } else if (fwd.queue.time) {
    link.queue_limit_time = *fwd.queue.time == net::kNever ? Micros(0) : toMicros(*fwd.queue.time);
  }
  return link;
}

// Outages from a link's timeline, as the emulator plays it (eval/emulator/link_model.cpp):
// a down extends the current outage to the latest end asked for, an up ends it.
std::vector<Outage> outagesFrom(const std::vector<net::TimedAction>& timeline) {
  std::vector<Outage> out;
  std::optional<Micros> start;
  Micros until{0};
  for (const net::TimedAction& a : timeline) {
    const Micros at = toMicros(a.at);
    if (start && until <= at) {
      out.push_back({*start, until});
      start.reset();
    }
    if (a.kind == net::TimedAction::Kind::DownUntil) {
      if (!start) {
        start = at;
        until = toMicros(a.until);
      } else {
        until = std::max(until, toMicros(a.until));
      }
    } else if (a.kind == net::TimedAction::Kind::Up && start) {
      out.push_back({*start, at});
      start.reset();
    }
  }
  if (start) {
    out.push_back({*start, until});
  }
  return out;
}

// A capacity trace past this many packets is refused: a long run with rate changes at a
// high rate would otherwise take gigabytes (a trace holds one entry per 1500-byte packet).
constexpr double kMaxSeriesPackets = 20e6;
constexpr std::uint64_t kMaxSeriesMs = 24ull * 3600 * 1000;

// A constant-rate link whose rate events change it becomes a rate series (held from each
// change to the next) over the run and one second more, as eval/run's mirror of such a
// scenario did.
Status applyRateChanges(const std::vector<std::pair<Micros, net::RateSpec>>& changes,
                        Micros duration, const std::string& where, LinkSpec& link) {
  if (changes.empty()) {
    return okStatus();
  }
  if (link.trace) {
    return fieldError(where, "the simulator changes the rate of a constant-rate link only");
  }
  std::vector<CapacityTrace::RateSample> samples{{0, link.rate_bps}};
  double packets = 0;  // bits/s x ms / 12e6 = 1500-byte packets (12,000 bits each)
  std::uint64_t last_ms = 0;
  for (const auto& [at, rate] : changes) {
    if (rate.kind != net::RateSpec::Kind::kConstant) {
      return fieldError(where, "the simulator changes a rate to another constant rate only");
    }
    const auto at_ms = static_cast<std::uint64_t>(at.count() / 1000);
    packets += samples.back().rate_bps * static_cast<double>(at_ms - last_ms) / 12e6;
    samples.push_back({at_ms, static_cast<double>(rate.bps)});
    last_ms = at_ms;
  }
  const auto end_ms = std::max<std::uint64_t>(
      (static_cast<std::uint64_t>(duration.count()) + 999'999) / 1'000'000 * 1000 + 1000,
      last_ms + 1000);
  packets += samples.back().rate_bps * static_cast<double>(end_ms - last_ms) / 12e6;
  if (end_ms > kMaxSeriesMs) {
    return fieldError(where,
                      "the simulator takes rate changes over at most 24 hours (shorten "
                      "the duration, or move the events earlier)");
  }
  if (packets > kMaxSeriesPackets) {
    return fieldError(where, "rate changes over this run need a capacity trace of " +
                                 std::to_string(static_cast<std::uint64_t>(packets)) +
                                 " packets; the simulator takes at most 20 million (shorten "
                                 "the duration)");
  }
  auto trace = CapacityTrace::fromRateSamples(samples, end_ms);
  if (!trace) {
    return fieldError(where, trace.error().message);
  }
  link.trace = std::make_shared<const CapacityTrace>(std::move(trace).value());
  link.rate_text += " with " + std::to_string(changes.size()) + " rate change(s)";
  return okStatus();
}

// The events of link i: outages, rate changes and delay/jitter/loss changes.
Status applyEvents(const net::NetworkConfig& network, std::size_t i, Micros duration,
                   LinkSpec& link) {
  const std::string where = "links[" + std::to_string(i) + "]";
  for (std::size_t k = 0; k < network.events.size(); ++k) {
    const net::Event& e = network.events[k];
    if (e.link != i) {
      continue;
    }
    const std::string ev = "events[" + std::to_string(k) + "]";
    if (e.action != net::Event::Action::Change && !(e.fwd && e.rev)) {
      return fieldError(ev + ".dir", "the simulator takes outages in both directions only");
    }
    if (!e.rev_change.empty() &&
        !(e.rev_change.delay && !e.rev_change.rate && !e.rev_change.jitter && !e.rev_change.loss)) {
      return fieldError(ev, "the simulator's return path has a delay only");
    }
    if (e.rev_change.delay) {
      return fieldError(ev + ".rev-delay", "the simulator does not change a return delay");
    }
  }
  const auto timeline = net::timelineFor(network.events, i, net::Direction::Forward);
  link.outages = outagesFrom(timeline);
  normalizeOutages(link);
  std::vector<std::pair<Micros, net::RateSpec>> rates;
  Micros delay = link.delay;
  Micros jitter = link.jitter;
  for (const net::TimedAction& a : timeline) {
    if (a.kind != net::TimedAction::Kind::Change) {
      continue;
    }
    const Micros at = toMicros(a.at);
    if (a.change.rate) {
      rates.emplace_back(at, *a.change.rate);
    }
    if (!a.change.delay && !a.change.jitter && !a.change.loss) {
      continue;
    }
    LinkChange change{at, std::nullopt, std::nullopt, a.change.loss};
    if (a.change.delay) {
      change.delay = delay = duration_cast<Micros>(*a.change.delay);
    }
    if (a.change.jitter) {
      change.jitter = jitter = duration_cast<Micros>(*a.change.jitter);
    }
    if (jitter > delay) {
      return fieldError(where, "an event makes the jitter exceed the delay");
    }
    link.changes.push_back(change);
  }
  return applyRateChanges(rates, duration, where + " (rate events)", link);
}

}  // namespace

Micros LinkSpec::minOneWay() const {
  Micros best = delay - jitter;
  Micros d = delay;
  Micros j = jitter;
  for (const LinkChange& c : changes) {
    d = c.delay.value_or(d);
    j = c.jitter.value_or(j);
    best = std::min(best, d - j);
  }
  return best;
}

Micros LinkSpec::maxDelay() const {
  Micros worst = delay;
  for (const LinkChange& c : changes) {
    worst = std::max(worst, c.delay.value_or(worst));
  }
  return worst;
}

Result<SimSetup> fromScenario(const net::Scenario& n, const SimOverrides& o) {
  SimSetup s;
  s.name = n.name;
  s.seed = o.seed.value_or(n.config.seed);
  for (auto [key, from_file, from_cli, target] :
       {std::tuple{"duration", n.duration, o.duration, &s.duration},
        std::tuple{"latency", n.latency, o.latency, &s.latency},
        std::tuple{"stats_period", n.stats_period, std::optional<Micros>{}, &s.stats_period}}) {
    if (from_cli) {
      *target = *from_cli;
    } else if (from_file) {
      *target = toMicros(*from_file);
    }
    if (target->count() <= 0) {
      return fieldError(key, "must be above 0");
    }
  }
  if (!n.video.is_null()) {
    nlohmann::json video = n.video;
    if (o.bitrate_bps) {
      video["bitrate"] = std::to_string(*o.bitrate_bps) + "bit";
    }
    if (auto st = parseVideo(video, s.video); !st) {
      return st.error();
    }
  } else if (o.bitrate_bps && *o.bitrate_bps > 0) {
    s.video.bitrate_bps = *o.bitrate_bps;
  } else {
    return fieldError("video", "missing (give the scenario a video block, or --bitrate)");
  }
  if (!n.scheduler.is_null()) {
    if (auto st = parseSchedulerConfig(n.scheduler, s.scheduler); !st) {
      return st.error();
    }
  }
  const auto& links = n.config.links;
  if (links.empty()) {
    return fieldError("links", "expected a non-empty array of links");
  }
  if (links.size() > sched::kMaxLinks) {
    return fieldError("links", "at most " + std::to_string(sched::kMaxLinks) + " links");
  }
  if (auto st = net::validate(n.config); !st) {
    return Error{"scenario: " + st.error().message};
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string where = "links[" + std::to_string(i) + "]";
    auto link = linkFrom(links[i], where);
    if (!link) {
      return link.error();
    }
    if (link->name.empty()) {
      link->name = "link" + std::to_string(i);
    }
    if (auto st = applyEvents(n.config, i, s.duration, *link); !st) {
      return st.error();
    }
    s.links.push_back(std::move(link).value());
  }
  return s;
}

Result<SimSetup> parseScenario(const nlohmann::json& j, const std::string& base_dir,
                               const std::string& shared_dir, const SimOverrides& o) {
  auto n = net::parseScenario(j, "(scenario)", {base_dir, shared_dir});
  if (!n) {
    return n.error();
  }
  return fromScenario(*n, o);
}

Result<SimSetup> loadScenario(const std::string& path, const std::string& shared_dir,
                              const SimOverrides& o) {
  auto n = net::loadScenario(path, shared_dir);
  if (!n) {
    return n.error();
  }
  auto s = fromScenario(*n, o);
  if (!s) {
    return Error{path + ": " + s.error().message};
  }
  if (s->name.empty()) {
    s->name = std::filesystem::path(path).stem().string();
  }
  return s;
}

}  // namespace bondcast::sim
