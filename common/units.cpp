// SPDX-License-Identifier: MPL-2.0
#include "common/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace bondcast {
namespace {

struct NumberAndSuffix {
  double number = 0;
  std::string suffix;  // lower case, no spaces
};

Result<NumberAndSuffix> split(std::string_view text, std::string_view what) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  NumberAndSuffix out;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, out.number);
  if (ec != std::errc() || ptr == begin || !std::isfinite(out.number) || out.number < 0) {
    return Error{"invalid " + std::string(what) + " '" + std::string(text) + "'"};
  }
  out.suffix.assign(ptr, end);
  return out;
}

// Durations beyond 10^15 us (31 years) are no one's run, delay or event time, and past
// them a few summed no longer fit std::chrono::nanoseconds (the emulator's unit). Without
// the bound, llround() of a huge number ("1e300s") returned a negative count.
constexpr double kMaxDurationUs = 1e15;

Result<Micros> toMicros(double us, std::string_view text) {
  if (!(us <= kMaxDurationUs)) {
    return Error{"duration '" + std::string(text) + "' is too long (at most 31 years)"};
  }
  return Micros(std::llround(us));
}

}  // namespace

Result<std::uint64_t> parseBitrateBps(std::string_view text) {
  auto ns = split(text, "rate");
  if (!ns)
    return ns.error();
  std::string sfx = ns->suffix;
  for (std::string_view tail : {"/s", "ps"}) {
    if (sfx.size() > tail.size() && sfx.ends_with(tail))
      sfx.resize(sfx.size() - tail.size());
  }
  double mult = 0;
  if (sfx.empty() || sfx == "bit" || sfx == "b")
    mult = 1;
  else if (sfx == "k" || sfx == "kbit" || sfx == "kb")
    mult = 1e3;
  else if (sfx == "m" || sfx == "mbit" || sfx == "mb")
    mult = 1e6;
  else if (sfx == "g" || sfx == "gbit" || sfx == "gb")
    mult = 1e9;
  else
    return Error{"invalid rate '" + std::string(text) + "' (use e.g. 10mbit, 500kbit)"};
  return static_cast<std::uint64_t>(std::llround(ns->number * mult));
}

Result<Micros> parseDuration(std::string_view text) {
  auto ns = split(text, "duration");
  if (!ns)
    return ns.error();
  double mult_us = 0;
  const std::string& sfx = ns->suffix;
  if (sfx.empty() || sfx == "ms")
    mult_us = 1e3;
  else if (sfx == "us")
    mult_us = 1;
  else if (sfx == "s")
    mult_us = 1e6;
  else if (sfx == "m" || sfx == "min")
    mult_us = 60e6;
  else
    return Error{"invalid duration '" + std::string(text) + "' (use e.g. 15ms, 2s)"};
  return toMicros(ns->number * mult_us, text);
}

Result<Micros> parseRunLength(std::string_view text) {
  auto ns = split(text, "duration");
  if (!ns) {
    return ns.error();
  }
  auto d = ns->suffix.empty() ? toMicros(ns->number * 1e6, text) : parseDuration(text);
  if (!d) {
    return d.error();
  }
  if (d->count() <= 0) {
    return Error{"duration '" + std::string(text) + "' is not above zero"};
  }
  return d;
}

Result<double> parseProbability(std::string_view text) {
  auto ns = split(text, "probability");
  if (!ns)
    return ns.error();
  double p = ns->number;
  if (ns->suffix == "%")
    p /= 100.0;
  else if (!ns->suffix.empty())
    return Error{"invalid probability '" + std::string(text) + "'"};
  if (p > 1.0)
    return Error{"probability '" + std::string(text) + "' is above 100%"};
  return p;
}

Result<std::uint64_t> parseBytes(std::string_view text) {
  auto ns = split(text, "size");
  if (!ns)
    return ns.error();
  const std::string& sfx = ns->suffix;
  double mult = 0;
  if (sfx.empty() || sfx == "b")
    mult = 1;
  else if (sfx == "k" || sfx == "kb")
    mult = 1e3;
  else if (sfx == "m" || sfx == "mb")
    mult = 1e6;
  else
    return Error{"invalid size '" + std::string(text) + "' (use e.g. 200kb, 1500b)"};
  return static_cast<std::uint64_t>(std::llround(ns->number * mult));
}

std::string formatBitrate(double bps) {
  char buf[32];
  if (bps >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2f Mbit/s", bps / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0f kbit/s", bps / 1e3);
  return buf;
}

}  // namespace bondcast
