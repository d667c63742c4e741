// SPDX-License-Identifier: MPL-2.0
#include "common/netmodel/scenario.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "common/units.h"

namespace bondcast::net {
namespace {

struct Field {
  std::string key;
  std::string value;
  bool has_value = false;
};

// "a=1, b=2,c" -> {a,1} {b,2} {c}
Result<std::vector<Field>> splitFields(std::string_view spec, const char* what) {
  std::vector<Field> out;
  while (!spec.empty()) {
    std::size_t comma = spec.find(',');
    std::string_view item = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) {
      continue;
    }
    Field f;
    std::size_t eq = item.find('=');
    f.key = std::string(trim(item.substr(0, eq)));
    if (eq != std::string_view::npos) {
      f.value = std::string(trim(item.substr(eq + 1)));
      f.has_value = true;
    }
    if (f.key.empty()) {
      return Error{std::string(what) + ": empty field name in '" + std::string(item) + "'"};
    }
    out.push_back(std::move(f));
  }
  if (out.empty()) {
    return Error{std::string(what) + " is empty"};
  }
  return out;
}

Error fieldError(const char* what, const Field& f, const std::string& why) {
  return Error{std::string(what) + ": " + f.key + "='" + f.value + "': " + why};
}

Result<bool> parseBool(const std::string& text) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") {
    return true;
  }
  if (text == "0" || text == "false" || text == "no" || text == "off") {
    return false;
  }
  return Error{"expected 1 or 0"};
}

// "5x200ms" or "5x200ms/800ms": count, down time, up time (common/netmodel/flap.h).
Status applyFlap(const std::string& text, Event& e) {
  auto flap = parseFlap(text);
  if (!flap) {
    return flap.error();
  }
  e.flap_count = flap->count;
  e.flap_down = flap->down;
  e.flap_up = flap->up;
  return okStatus();
}

// Settings a link spec and an event share: rate, delay, jitter, loss, ge (and for a
// link, queue and reorder). Returns false if `key` is none of them.
Result<bool> applyDirectionField(DirectionConfig* cfg, DirectionChange* change,
                                 const std::string& key, const std::string& value,
                                 const TraceDirs& dirs) {
  if (key == "rate") {
    auto r = parseRateSpec(value, dirs.base_dir, dirs.shared_dir);
    if (!r) {
      return r.error();
    }
    if (cfg) {
      cfg->rate = *r;
    }
    if (change) {
      change->rate = *r;
    }
  } else if (key == "delay" || key == "jitter") {
    auto d = parseDuration(value);
    if (!d) {
      return d.error();
    }
    if (cfg) {
      (key == "delay" ? cfg->delay : cfg->jitter) = *d;
    }
    if (change) {
      (key == "delay" ? change->delay : change->jitter) = *d;
    }
  } else if (key == "loss" || key == "ge") {
    auto l = key == "loss" ? parseBernoulliLoss(value) : parseGilbertElliottLoss(value);
    if (!l) {
      return l.error();
    }
    if (cfg) {
      cfg->loss = *l;
    }
    if (change) {
      change->loss = *l;
    }
  } else if (cfg && key == "queue") {
    // A time ends in s (200ms, 1s, 500us); anything else is a size (300kb, 1mb, 64000).
    if (value == "unlimited") {
      cfg->queue = QueueLimit{std::nullopt, kNever};
    } else if (value.ends_with("s")) {
      auto d = parseDuration(value);
      if (!d) {
        return d.error();
      }
      cfg->queue = QueueLimit{std::nullopt, *d};
    } else {
      auto b = parseBytes(value);
      if (!b) {
        return Error{b.error().message + " (or a time, e.g. 200ms)"};
      }
      cfg->queue = QueueLimit{*b, std::nullopt};
    }
  } else if (cfg && key == "reorder") {
    auto b = parseBool(value);
    if (!b) {
      return b.error();
    }
    cfg->reorder = *b;
  } else {
    return false;
  }
  return true;
}

// The simulated sender's cost of a link: a number in [0, 1e9].
Result<double> parseCost(const std::string& text) {
  double cost = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), cost);
  if (ec != std::errc() || ptr != text.data() + text.size() || !(cost >= 0 && cost <= 1e9)) {
    return Error{"expected a number from 0 to 1e9"};
  }
  return cost;
}

constexpr std::string_view kRevPrefix = "rev-";

}  // namespace

const char* toString(Direction d) {
  return d == Direction::Forward ? "fwd" : "rev";
}

std::string ipv4ToString(std::uint32_t addr) {
  in_addr a{htonl(addr)};
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string Endpoint::toString() const {
  return ipv4ToString(addr) + ":" + std::to_string(port);
}

Result<std::uint32_t> parseIpv4(std::string_view text) {
  std::string host(text);
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) != 1) {
    return Error{"'" + host + "' is not an IPv4 address"};
  }
  return ntohl(a.s_addr);
}

Result<Endpoint> parseEndpoint(std::string_view text, bool allow_port0) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Error{"expected IPv4-ADDRESS:PORT"};
  }
  auto addr = parseIpv4(text.substr(0, colon));
  if (!addr) {
    return addr.error();
  }
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535 ||
      (port == 0 && !allow_port0)) {
    return Error{"'" + std::string(port_text) + "' is not a port" +
                 (allow_port0 ? " (0 to 65535)" : " (1 to 65535)")};
  }
  return Endpoint{*addr, static_cast<std::uint16_t>(port)};
}

Result<LinkConfig> parseLinkSpec(std::string_view spec, const TraceDirs& dirs) {
  constexpr const char* kWhat = "link spec";
  auto fields = splitFields(spec, kWhat);
  if (!fields) {
    return fields.error();
  }
  LinkConfig link;
  bool have_rev_delay = false;
  for (const Field& f : *fields) {
    if (!f.has_value) {
      return fieldError(kWhat, f, "expected key=value");
    }
    if (f.key == "name") {
      link.name = f.value;
      continue;
    }
    if (f.key == "cost") {
      auto cost = parseCost(f.value);
      if (!cost) {
        return fieldError(kWhat, f, cost.error().message);
      }
      link.cost = *cost;
      continue;
    }
    if (f.key == "listen" || f.key == "to" || f.key == "via") {
      auto ep = parseEndpoint(f.value, f.key != "to");
      if (!ep) {
        return fieldError(kWhat, f, ep.error().message);
      }
      if (f.key == "to") {
        link.to = *ep;
      } else {
        (f.key == "listen" ? link.listen : link.via) = *ep;
      }
      continue;
    }
    if (f.key == "from") {
      auto addr = parseIpv4(f.value);
      if (!addr) {
        const std::size_t colon = f.value.rfind(':');
        if (colon != std::string::npos && parseIpv4(f.value.substr(0, colon))) {
          return fieldError(kWhat, f, "expected an IPv4 address without a port (e.g. 127.0.0.2)");
        }
        return fieldError(kWhat, f, addr.error().message);
      }
      link.from = *addr;
      continue;
    }
    bool rev = f.key.starts_with(kRevPrefix);
    std::string key = rev ? f.key.substr(kRevPrefix.size()) : f.key;
    auto known = applyDirectionField(rev ? &link.rev : &link.fwd, nullptr, key, f.value, dirs);
    if (!known) {
      return fieldError(kWhat, f, known.error().message);
    }
    if (!*known) {
      return fieldError(
          kWhat, f,
          "unknown field (known: name, cost, listen, from, to, via, rate, queue, delay, "
          "jitter, loss, ge, reorder, and rev- before rate..reorder)");
    }
    have_rev_delay |= rev && key == "delay";
  }
  if (!have_rev_delay) {
    link.rev.delay = link.fwd.delay;
  }
  for (const DirectionConfig* d : {&link.fwd, &link.rev}) {
    if (d->jitter > d->delay) {
      return Error{std::string(kWhat) + ": jitter (" + std::to_string(d->jitter.count() / 1000) +
                   "us) must not exceed delay (" + std::to_string(d->delay.count() / 1000) + "us)"};
    }
  }
  return link;
}

Result<Event> parseEvent(std::string_view spec, const TraceDirs& dirs) {
  constexpr const char* kWhat = "event";
  auto fields = splitFields(spec, kWhat);
  if (!fields) {
    return fields.error();
  }
  Event e;
  bool have_at = false, have_link = false;
  int actions = 0;
  for (const Field& f : *fields) {
    if (f.key == "at") {
      auto d = parseDuration(f.value);
      if (!d) {
        return fieldError(kWhat, f, d.error().message);
      }
      e.at = *d;
      have_at = true;
    } else if (f.key == "link") {
      std::size_t n = 0;
      auto [ptr, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), n);
      if (ec != std::errc() || ptr != f.value.data() + f.value.size()) {
        return fieldError(kWhat, f, "expected a link index (0 = the first --link)");
      }
      e.link = n;
      have_link = true;
    } else if (f.key == "down") {
      e.action = Event::Action::Down;
      ++actions;
      if (f.has_value) {
        auto d = parseDuration(f.value);
        if (!d) {
          return fieldError(kWhat, f, d.error().message);
        }
        e.down_for = *d;
      }
    } else if (f.key == "up") {
      if (f.has_value) {
        return fieldError(kWhat, f, "'up' takes no value");
      }
      e.action = Event::Action::Up;
      ++actions;
    } else if (f.key == "flap") {
      e.action = Event::Action::Flap;
      ++actions;
      if (auto s = applyFlap(f.value, e); !s) {
        return fieldError(kWhat, f, s.error().message);
      }
    } else if (f.key == "dir") {
      if (f.value != "fwd" && f.value != "rev" && f.value != "both") {
        return fieldError(kWhat, f, "expected fwd, rev or both");
      }
      e.fwd = f.value != "rev";
      e.rev = f.value != "fwd";
    } else {
      bool rev = f.key.starts_with(kRevPrefix);
      std::string key = rev ? f.key.substr(kRevPrefix.size()) : f.key;
      auto known = f.has_value ? applyDirectionField(nullptr, rev ? &e.rev_change : &e.fwd_change,
                                                     key, f.value, dirs)
                               : Result<bool>(false);
      if (!known) {
        return fieldError(kWhat, f, known.error().message);
      }
      if (!*known) {
        return fieldError(kWhat, f,
                          "unknown field (known: at, link, down, up, flap, dir, rate, delay, "
                          "jitter, loss, ge, and rev- before rate..ge)");
      }
    }
  }
  if (!have_at) {
    return Error{std::string(kWhat) + ": at= is missing (e.g. at=5s)"};
  }
  if (!have_link) {
    return Error{std::string(kWhat) + ": link= is missing (e.g. link=0)"};
  }
  bool changes = !e.fwd_change.empty() || !e.rev_change.empty();
  if (actions > 1 || (actions == 1 && changes)) {
    return Error{std::string(kWhat) + ": '" + std::string(spec) +
                 "' mixes actions: use one of down, up, flap, or setting changes"};
  }
  if (e.action == Event::Action::Flap) {
    using std::chrono::duration_cast;
    const Flap flap{e.flap_count, duration_cast<Micros>(e.flap_down),
                    duration_cast<Micros>(e.flap_up)};
    if (!flap.fitsFrom(duration_cast<Micros>(e.at))) {
      return Error{std::string(kWhat) + ": '" + std::string(spec) +
                   "' flaps too often or too long (at most " + std::to_string(kMaxFlapCycles) +
                   " cycles, ending within 31 years)"};
    }
  }
  if (actions == 0 && !changes) {
    return Error{std::string(kWhat) + ": '" + std::string(spec) +
                 "' does nothing (add down, up, flap, rate, delay, jitter, loss or ge)"};
  }
  return e;
}

std::vector<TimedAction> timelineFor(const std::vector<Event>& events, std::size_t link,
                                     Direction dir) {
  std::vector<TimedAction> out;
  bool fwd = dir == Direction::Forward;
  for (const Event& e : events) {
    if (e.link != link) {
      continue;
    }
    switch (e.action) {
      case Event::Action::Change: {
        const DirectionChange& c = fwd ? e.fwd_change : e.rev_change;
        if (!c.empty()) {
          out.push_back({e.at, TimedAction::Kind::Change, Nanos{0}, c});
        }
        break;
      }
      case Event::Action::Down:
        if (fwd ? e.fwd : e.rev) {
          Nanos until = e.down_for ? e.at + *e.down_for : kNever;
          out.push_back({e.at, TimedAction::Kind::DownUntil, until, {}});
        }
        break;
      case Event::Action::Up:
        if (fwd ? e.fwd : e.rev) {
          out.push_back({e.at, TimedAction::Kind::Up, Nanos{0}, {}});
        }
        break;
      case Event::Action::Flap:
        if (fwd ? e.fwd : e.rev) {
          for (std::uint32_t i = 0; i < e.flap_count; ++i) {
            Nanos start = e.at + i * (e.flap_down + e.flap_up);
            out.push_back({start, TimedAction::Kind::DownUntil, start + e.flap_down, {}});
          }
        }
        break;
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TimedAction& a, const TimedAction& b) { return a.at < b.at; });
  return out;
}

Status validate(const NetworkConfig& config) {
  if (config.links.empty()) {
    return Error{"no links: give at least one --link"};
  }
  for (const Event& e : config.events) {
    if (e.link >= config.links.size()) {
      return Error{"event: link='" + std::to_string(e.link) + "': there are only " +
                   std::to_string(config.links.size()) + " links (0 to " +
                   std::to_string(config.links.size() - 1) + ")"};
    }
  }
  // Links with from= and the same listen share a socket (port 0: one port for the
  // group); any other pair on one fixed address:port could not be told apart.
  for (std::size_t i = 0; i < config.links.size(); ++i) {
    const LinkConfig& li = config.links[i];
    for (std::size_t j = 0; j < i; ++j) {
      const LinkConfig& lj = config.links[j];
      if (li.listen != lj.listen) {
        continue;
      }
      const std::string where = "link spec: listen='" + li.listen.toString() + "': links " +
                                std::to_string(j) + " and " + std::to_string(i);
      if (li.from && lj.from) {
        if (*li.from == *lj.from) {
          return Error{where + " both have from='" + ipv4ToString(*li.from) +
                       "' (links sharing a listen address need different from= addresses)"};
        }
      } else if (li.listen.port != 0) {
        if (li.from || lj.from) {
          const std::size_t missing = li.from ? j : i;
          return Error{where + " share this address but link " + std::to_string(missing) +
                       " has no from= (every link on a shared listen address needs from=)"};
        }
        return Error{where + " listen on the same address"};
      }
    }
  }
  return okStatus();
}

namespace {

// A JSON object {"key": value, ...} -> "key=value,..."; strings as they are, numbers
// as written, booleans as 1/0, null as a bare key ("down": null -> down). "comment"
// keys are notes for the reader and are left out.
Result<std::string> objectToSpec(const nlohmann::json& j, const std::string& what) {
  if (j.is_string()) {
    return j.get<std::string>();
  }
  if (!j.is_object()) {
    return Error{what + ": expected a string or an object"};
  }
  std::string spec;
  for (const auto& [key, value] : j.items()) {
    if (key == "comment") {
      continue;
    }
    if (!spec.empty()) {
      spec += ',';
    }
    spec += key;
    if (value.is_null()) {
      continue;
    }
    spec += '=';
    if (value.is_string()) {
      spec += value.get<std::string>();
    } else if (value.is_boolean()) {
      spec += value.get<bool>() ? "1" : "0";
    } else if (value.is_number()) {
      spec += value.dump();
    } else {
      return Error{what + ": " + key + "='" + value.dump() + "': expected a string or number"};
    }
  }
  return spec;
}

Result<Nanos> durationValue(const nlohmann::json& value, const std::string& where) {
  auto d = parseDuration(value.is_string() ? value.get<std::string>() : value.dump());
  if (!d) {
    return Error{where + ": " + d.error().message};
  }
  return Nanos(*d);
}

}  // namespace

Result<Scenario> loadScenario(const std::string& path, const std::string& shared_dir) {
  std::ifstream in(path);
  if (!in) {
    return Error{"scenario: cannot read '" + path + "': " + std::strerror(errno)};
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return Error{"scenario '" + path + "': not valid JSON: " + e.what()};
  }
  return parseScenario(j, path, {std::filesystem::path(path).parent_path().string(), shared_dir});
}

Result<Scenario> parseScenario(const nlohmann::json& j, const std::string& name,
                               const TraceDirs& dirs) {
  if (!j.is_object()) {
    return Error{"scenario '" + name + "': expected a JSON object"};
  }
  Scenario s;
  for (const auto& [key, value] : j.items()) {
    std::string where = "scenario '" + name + "': " + key;
    if (key == "seed") {
      if (!value.is_number_unsigned()) {
        return Error{where + "='" + value.dump() + "': expected an unsigned integer"};
      }
      s.config.seed = value.get<std::uint64_t>();
    } else if (key == "name") {
      if (!value.is_string()) {
        return Error{where + ": expected a string"};
      }
      s.name = value.get<std::string>();
    } else if (key == "duration" || key == "latency" || key == "stats_period") {
      auto d = durationValue(value, where);
      if (!d) {
        return d.error();
      }
      (key == "duration" ? s.duration : key == "latency" ? s.latency : s.stats_period) = *d;
    } else if (key == "video" || key == "scheduler") {
      if (!value.is_object()) {
        return Error{where + ": expected an object"};
      }
      (key == "video" ? s.video : s.scheduler) = value;
    } else if (key == "links" || key == "events") {
      if (!value.is_array()) {
        return Error{where + ": expected an array"};
      }
      for (const auto& item : value) {
        auto spec = objectToSpec(item, where);
        if (!spec) {
          return spec.error();
        }
        if (key == "links") {
          auto l = parseLinkSpec(*spec, dirs);
          if (!l) {
            return Error{where + "[" + std::to_string(s.config.links.size()) +
                         "]: " + l.error().message};
          }
          s.config.links.push_back(*l);
        } else {
          auto e = parseEvent(*spec, dirs);
          if (!e) {
            return Error{where + "[" + std::to_string(s.config.events.size()) +
                         "]: " + e.error().message};
          }
          s.config.events.push_back(*e);
        }
      }
    } else if (key == "comment" || key.starts_with("_")) {
      continue;
    } else {
      return Error{where +
                   ": unknown key (known: name, comment, seed, duration, latency, "
                   "stats_period, video, scheduler, links, events, and _-prefixed blocks of "
                   "other tools)"};
    }
  }
  return s;
}

}  // namespace bondcast::net
