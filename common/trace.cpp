// SPDX-License-Identifier: MPL-2.0
#include "common/trace.h"

#include "common/text.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bondcast {
namespace {

std::string where(const std::string& path, std::size_t line_no) {
  return path + ":" + std::to_string(line_no);
}

Result<std::vector<std::string>> readLines(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return Error{"cannot read trace '" + path + "': " + std::strerror(errno)};
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  if (in.bad())
    return Error{"cannot read trace '" + path + "': read error"};
  return lines;
}

template <class T>
bool parseNumber(std::string_view s, T& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

CapacityTrace::CapacityTrace(std::vector<std::uint32_t> opportunities_ms, std::uint64_t period_ms)
    : opportunities_ms_(std::move(opportunities_ms)), period_ms_(period_ms) {}

Result<CapacityTrace> CapacityTrace::loadMahimahi(const std::string& path) {
  auto lines = readLines(path);
  if (!lines)
    return lines.error();
  std::vector<std::uint32_t> ops;
  ops.reserve(lines->size());
  for (std::size_t i = 0; i < lines->size(); ++i) {
    std::string_view s = trim((*lines)[i]);
    if (s.empty())
      continue;
    std::uint32_t t = 0;
    if (!parseNumber(s, t)) {
      return Error{"malformed trace " + where(path, i + 1) + ": '" + std::string(s) +
                   "' is not a millisecond timestamp"};
    }
    if (!ops.empty() && t < ops.back()) {
      return Error{"malformed trace " + where(path, i + 1) + ": timestamps must not decrease"};
    }
    ops.push_back(t);
  }
  if (ops.empty() || ops.back() == 0) {
    return Error{"malformed trace '" + path + "': no delivery opportunities"};
  }
  std::uint64_t period = ops.back();
  return CapacityTrace(std::move(ops), period);
}

Result<CapacityTrace> CapacityTrace::loadRateSeries(const std::string& path) {
  auto lines = readLines(path);
  if (!lines)
    return lines.error();
  std::vector<RateSample> samples;
  std::uint64_t next_ms = 0;  // for the one-line-a-second "value,unit" form
  double last_step_ms = 1000;
  for (std::size_t i = 0; i < lines->size(); ++i) {
    std::string_view s = trim((*lines)[i]);
    if (s.empty() || s.front() == '#')
      continue;
    auto bad = [&](const char* why) {
      return Error{"malformed rate series " + where(path, i + 1) + ": '" + std::string(s) + "' " +
                   why};
    };
    if (auto comma = s.find(','); comma != std::string_view::npos) {
      double value = 0;
      std::string_view unit = trim(s.substr(comma + 1));
      if (!parseNumber(trim(s.substr(0, comma)), value) || value < 0) {
        return bad("(expected <value>,<unit>)");
      }
      double mult = unit == "bits/sec"    ? 1
                    : unit == "Kbits/sec" ? 1e3
                    : unit == "Mbits/sec" ? 1e6
                    : unit == "Gbits/sec" ? 1e9
                                          : -1;
      if (mult < 0)
        return bad("has an unknown unit (bits/sec, Kbits/sec, Mbits/sec)");
      samples.push_back({next_ms, value * mult});
      next_ms += 1000;
      continue;
    }
    std::istringstream fields{std::string(s)};
    double t_s = 0, mbit = 0;
    std::string extra;
    if (!(fields >> t_s >> mbit) || (fields >> extra) || t_s < 0 || mbit < 0) {
      return bad("(expected '<time_s> <Mbit/s>')");
    }
    auto t_ms = static_cast<std::uint64_t>(t_s * 1000.0 + 0.5);
    if (!samples.empty()) {
      if (t_ms < samples.back().time_ms)
        return bad("goes back in time");
      last_step_ms = static_cast<double>(t_ms - samples.back().time_ms);
    }
    samples.push_back({t_ms, mbit * 1e6});
    next_ms = t_ms + static_cast<std::uint64_t>(last_step_ms);
  }
  if (samples.empty())
    return Error{"malformed rate series '" + path + "': no samples"};
  // The last sample holds for one more step; the loop ends there.
  return fromRateSamples(samples, next_ms);
}

Result<CapacityTrace> CapacityTrace::fromRateSamples(const std::vector<RateSample>& samples,
                                                     std::uint64_t end_ms) {
  if (samples.empty() || end_ms <= samples.front().time_ms) {
    return Error{"rate series is empty"};
  }
  std::vector<std::uint32_t> ops;
  double acc = 0;
  std::size_t k = 0;
  for (std::uint64_t ms = samples.front().time_ms; ms < end_ms; ++ms) {
    while (k + 1 < samples.size() && samples[k + 1].time_ms <= ms)
      ++k;
    acc += samples[k].rate_bps / (kOpportunityBytes * 8.0 * 1000.0);
    while (acc >= 1.0) {
      ops.push_back(static_cast<std::uint32_t>(ms + 1));
      acc -= 1.0;
    }
  }
  if (ops.empty())
    return Error{"rate series has no capacity at all"};
  return CapacityTrace(std::move(ops), end_ms);
}

double CapacityTrace::meanBps() const {
  return static_cast<double>(opportunities_ms_.size()) * kOpportunityBytes * 8.0 * 1000.0 /
         static_cast<double>(period_ms_);
}

// Loop k holds the opportunities at k * period + v for v in (0, period], so time t
// belongs to loop (t - 1) / period: an opportunity at exactly k * period is the last one
// of loop k - 1, not part of loop k.
CapacityTrace::LoopPosition CapacityTrace::locate(std::uint64_t t_ms) const {
  const std::uint64_t loop = t_ms == 0 ? 0 : (t_ms - 1) / period_ms_;
  const std::uint64_t in_loop_ms = t_ms - loop * period_ms_;  // in [0, period]
  const auto first_at_or_after =
      std::lower_bound(opportunities_ms_.begin(), opportunities_ms_.end(), in_loop_ms) -
      opportunities_ms_.begin();
  return {loop, static_cast<std::uint64_t>(first_at_or_after)};
}

std::uint64_t CapacityTrace::countBefore(std::uint64_t t_ms) const {
  const LoopPosition at = locate(t_ms);
  return at.loop * opportunities_ms_.size() + at.index_in_loop;
}

std::uint64_t CapacityTrace::bytesBetween(std::uint64_t from_ms, std::uint64_t to_ms) const {
  if (to_ms <= from_ms)
    return 0;
  return (countBefore(to_ms) - countBefore(from_ms)) * kOpportunityBytes;
}

std::uint64_t CapacityTrace::timeOfOpportunity(std::uint64_t index) const {
  const std::uint64_t n = opportunities_ms_.size();
  return (index / n) * period_ms_ + opportunities_ms_[index % n];
}

std::uint64_t CapacityTrace::nextOpportunityAtOrAfter(std::uint64_t t_ms) const {
  return timeOfOpportunity(countBefore(t_ms));
}

}  // namespace bondcast
