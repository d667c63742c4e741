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
  if (!object.is_object())
    return fieldError(where, "expected an object");
  for (const auto& [key, value] : object.items()) {
    if (!known.contains(key))
      return fieldError(where + "." + key, "unknown field");
  }
  return okStatus();
}

Result<std::string> stringAt(const json& object, const std::string& key, const std::string& where) {
  const json& v = object.at(key);
  if (!v.is_string())
    return fieldError(where + "." + key, "expected a string");
  return v.get<std::string>();
}

Result<Micros> durationAt(const json& object, const std::string& key, const std::string& where) {
  auto text = stringAt(object, key, where);
  if (!text)
    return text.error();
  auto d = parseDuration(*text);
  if (!d)
    return fieldError(where + "." + key, d.error().message);
  return *d;
}

Result<double> numberAt(const json& object, const std::string& key, const std::string& where,
                        double min, double max) {
  const json& v = object.at(key);
  if (!v.is_number())
    return fieldError(where + "." + key, "expected a number");
  const double x = v.get<double>();
  if (!(x >= min && x <= max)) {
    return fieldError(where + "." + key,
                      "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return x;
}

Result<std::uint64_t> rateAt(const json& object, const std::string& key, const std::string& where) {
  auto text = stringAt(object, key, where);
  if (!text)
    return text.error();
  auto bps = parseBitrateBps(*text);
  if (!bps)
    return fieldError(where + "." + key, bps.error().message);
  return *bps;
}

// "10mbit", "trace:PATH" (mahimahi) or "series:PATH" (rate series): common/netmodel/rate.h.
Status parseRate(const std::string& text, const std::string& field, const std::string& base_dir,
                 const std::string& shared_dir, LinkSpec& link) {
  auto rate = net::parseRateSpec(text, base_dir, shared_dir);
  if (!rate)
    return fieldError(field, rate.error().message);
  if (rate->kind == net::RateSpec::Kind::kUnlimited)
    return fieldError(field, "the simulator needs a capacity: a rate (10mbit) or a trace");
  link.rate_text = text;
  link.trace = rate->trace;
  link.rate_bps = static_cast<double>(rate->bps);
  return okStatus();
}

Status parseQueue(const std::string& text, const std::string& field, LinkSpec& link) {
  if (text == "unlimited") {
    link.queue_limit_time = Micros(0);
    return okStatus();
  }
  const bool is_size = text.find('b') != std::string::npos;  // 300kb, 1500b
  if (is_size) {
    auto bytes = parseBytes(text);
    if (!bytes)
      return fieldError(field, bytes.error().message);
    link.queue_limit_bytes = *bytes;
    link.queue_limit_time = Micros(0);
    return okStatus();
  }
  auto d = parseDuration(text);
  if (!d)
    return fieldError(field, "expected a time (200ms), a size (300kb) or 'unlimited'");
  link.queue_limit_time = *d;
  return okStatus();
}

Result<LinkSpec> parseLink(const json& j, const std::string& where, const std::string& base_dir,
                           const std::string& shared_dir) {
  if (auto s = onlyKnownKeys(
          j, where, {"name", "rate", "delay", "jitter", "loss", "ge", "queue", "cost", "comment"});
      !s) {
    return s.error();
  }
  LinkSpec link;
  if (!j.contains("rate"))
    return fieldError(where + ".rate", "missing");
  auto rate = stringAt(j, "rate", where);
  if (!rate)
    return rate.error();
  if (auto s = parseRate(*rate, where + ".rate", base_dir, shared_dir, link); !s)
    return s.error();
  if (j.contains("name")) {
    auto name = stringAt(j, "name", where);
    if (!name)
      return name.error();
    link.name = *name;
  }
  for (auto [key, target] : {std::pair{"delay", &link.delay}, std::pair{"jitter", &link.jitter}}) {
    if (!j.contains(key))
      continue;
    auto d = durationAt(j, key, where);
    if (!d)
      return d.error();
    *target = *d;
  }
  if (link.jitter > link.delay)
    return fieldError(where + ".jitter", "must not exceed delay");
  if (j.contains("loss")) {
    auto text = stringAt(j, "loss", where);
    if (!text)
      return text.error();
    auto loss = net::parseBernoulliLoss(*text);
    if (!loss)
      return fieldError(where + ".loss", loss.error().message);
    link.loss = *loss;
  }
  if (j.contains("ge")) {
    auto text = stringAt(j, "ge", where);
    if (!text)
      return text.error();
    auto loss = net::parseGilbertElliottLoss(*text);
    if (!loss)
      return fieldError(where + ".ge", loss.error().message);
    link.loss = *loss;
  }
  if (j.contains("queue")) {
    auto text = stringAt(j, "queue", where);
    if (!text)
      return text.error();
    if (auto s = parseQueue(*text, where + ".queue", link); !s)
      return s.error();
  }
  if (j.contains("cost")) {
    auto cost = numberAt(j, "cost", where, 0, 1e9);
    if (!cost)
      return cost.error();
    link.cost = *cost;
  }
  return link;
}

Status parseVideo(const json& j, VideoSpec& video) {
  const std::string where = "video";
  if (auto s = onlyKnownKeys(
          j, where,
          {"kind", "bitrate", "fps", "gop", "iframe_ratio", "packet_bytes", "audio", "comment"});
      !s) {
    return s;
  }
  if (!j.contains("bitrate"))
    return fieldError("video.bitrate", "missing");
  auto bitrate = rateAt(j, "bitrate", where);
  if (!bitrate)
    return bitrate.error();
  if (*bitrate == 0)
    return fieldError("video.bitrate", "must be above 0");
  video.bitrate_bps = *bitrate;
  if (j.contains("kind")) {
    auto kind = stringAt(j, "kind", where);
    if (!kind)
      return kind.error();
    if (*kind != "cbr" && *kind != "frames")
      return fieldError("video.kind", "expected cbr or frames");
    video.kind = *kind == "cbr" ? VideoSpec::Kind::kCbr : VideoSpec::Kind::kFrames;
  }
  if (j.contains("fps")) {
    auto fps = numberAt(j, "fps", where, 1, 240);
    if (!fps)
      return fps.error();
    video.fps = *fps;
  }
  if (j.contains("gop")) {
    auto gop = numberAt(j, "gop", where, 1, 10000);
    if (!gop)
      return gop.error();
    video.gop_frames = static_cast<std::uint32_t>(*gop);
  }
  if (j.contains("iframe_ratio")) {
    auto ratio = numberAt(j, "iframe_ratio", where, 1, 100);
    if (!ratio)
      return ratio.error();
    video.iframe_ratio = *ratio;
  }
  if (j.contains("packet_bytes")) {
    auto bytes = numberAt(j, "packet_bytes", where, 188, 1456);
    if (!bytes)
      return bytes.error();
    video.packet_bytes = static_cast<std::uint32_t>(*bytes);
  }
  if (j.contains("audio")) {
    auto audio = rateAt(j, "audio", where);
    if (!audio)
      return audio.error();
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

void addOutage(LinkSpec& link, Micros start, Micros end) {
  link.outages.push_back({start, end});
  normalizeOutages(link);
}

// "5x200ms/800ms": 5 cycles of 200 ms down, 800 ms up (common/netmodel/flap.h).
Status parseFlap(const std::string& text, const std::string& field, Micros at, LinkSpec& link) {
  auto flap = net::parseFlap(text);
  if (!flap)
    return fieldError(field, flap.error().message);
  if (!flap->fitsFrom(at)) {
    return fieldError(field, "'" + text + "' flaps too often or too long (at most " +
                                 std::to_string(net::kMaxFlapCycles) +
                                 " cycles, ending within 31 years)");
  }
  for (std::uint32_t i = 0; i < flap->count; ++i) {
    const Micros start = at + flap->period() * i;
    link.outages.push_back({start, start + flap->down});
  }
  normalizeOutages(link);  // once: per cycle it made 20,000 cycles take 79 s
  return okStatus();
}

// {"at": "10s", "link": 0, "down": "5s"} | {"at", "link", "flap": "5x200ms/800ms"}.
Status parseEvent(const json& j, const std::string& where, Scenario& s) {
  if (auto st = onlyKnownKeys(j, where, {"at", "link", "down", "flap", "comment"}); !st)
    return st;
  if (!j.contains("at"))
    return fieldError(where + ".at", "missing");
  auto at = durationAt(j, "at", where);
  if (!at)
    return at.error();
  if (!j.contains("link") || !j.at("link").is_number_unsigned() ||
      j.at("link").get<std::size_t>() >= s.links.size()) {
    return fieldError(where + ".link", "expected the index of a link (0.." +
                                           std::to_string(s.links.size() - 1) + ")");
  }
  LinkSpec& link = s.links[j.at("link").get<std::size_t>()];
  if (j.contains("down")) {
    auto d = durationAt(j, "down", where);
    if (!d)
      return d.error();
    addOutage(link, *at, *at + *d);
    return okStatus();
  }
  if (j.contains("flap")) {
    auto text = stringAt(j, "flap", where);
    if (!text)
      return text.error();
    return parseFlap(*text, where + ".flap", *at, link);
  }
  return fieldError(where, "expected 'down' or 'flap'");
}

Status parseTimes(const json& j, Scenario& s) {
  for (auto [key, target] : {std::pair{"duration", &s.duration}, std::pair{"latency", &s.latency},
                             std::pair{"stats_period", &s.stats_period}}) {
    if (!j.contains(key))
      continue;
    auto d = durationAt(j, key, "");
    if (!d)
      return fieldError(key, d.error().message);
    if (d->count() <= 0)
      return fieldError(key, "must be above 0");
    *target = *d;
  }
  return okStatus();
}

}  // namespace

Result<Scenario> parseScenario(const json& j, const std::string& base_dir,
                               const std::string& shared_dir) {
  if (auto s = onlyKnownKeys(j, "(top level)",
                             {"name", "comment", "seed", "duration", "latency", "stats_period",
                              "video", "links", "events", "scheduler"});
      !s) {
    return s.error();
  }
  Scenario s;
  if (j.contains("name")) {
    auto name = stringAt(j, "name", "");
    if (!name)
      return fieldError("name", "expected a string");
    s.name = *name;
  }
  if (j.contains("seed")) {
    if (!j.at("seed").is_number_unsigned())
      return fieldError("seed", "expected an integer >= 0");
    s.seed = j.at("seed").get<std::uint64_t>();
  }
  if (auto st = parseTimes(j, s); !st)
    return st.error();
  if (!j.contains("video"))
    return fieldError("video", "missing");
  if (auto st = parseVideo(j.at("video"), s.video); !st)
    return st.error();
  if (j.contains("scheduler")) {
    if (auto st = parseSchedulerConfig(j.at("scheduler"), s.scheduler); !st)
      return st.error();
  }
  if (!j.contains("links") || !j.at("links").is_array() || j.at("links").empty()) {
    return fieldError("links", "expected a non-empty array of links");
  }
  if (j.at("links").size() > sched::kMaxLinks) {
    return fieldError("links", "at most " + std::to_string(sched::kMaxLinks) + " links");
  }
  for (std::size_t i = 0; i < j.at("links").size(); ++i) {
    const std::string where = "links[" + std::to_string(i) + "]";
    auto link = parseLink(j.at("links")[i], where, base_dir, shared_dir);
    if (!link)
      return link.error();
    if (link->name.empty())
      link->name = "link" + std::to_string(i);
    s.links.push_back(std::move(link).value());
  }
  if (j.contains("events")) {
    if (!j.at("events").is_array())
      return fieldError("events", "expected an array");
    for (std::size_t i = 0; i < j.at("events").size(); ++i) {
      const std::string where = "events[" + std::to_string(i) + "]";
      if (auto st = parseEvent(j.at("events")[i], where, s); !st)
        return st.error();
    }
  }
  return s;
}

Result<Scenario> loadScenario(const std::string& path, const std::string& shared_dir) {
  std::ifstream in(path);
  if (!in)
    return Error{"cannot read scenario '" + path + "': " + std::strerror(errno)};
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    return Error{"malformed scenario '" + path + "': " + e.what()};
  }
  auto base_dir = std::filesystem::path(path).parent_path().string();
  auto s = parseScenario(j, base_dir.empty() ? "." : base_dir, shared_dir);
  if (!s)
    return Error{path + ": " + s.error().message};
  if (s->name.empty())
    s->name = std::filesystem::path(path).stem().string();
  return s;
}

}  // namespace bondcast::sim
