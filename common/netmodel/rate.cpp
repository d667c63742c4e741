// SPDX-License-Identifier: MPL-2.0
#include "common/netmodel/rate.h"

#include <filesystem>
#include <string_view>

#include "common/units.h"

namespace bondcast::net {
namespace {

std::string resolvePath(std::string path, const std::string& base_dir,
                        const std::string& shared_dir) {
  const std::string token = "${shared}";
  if (auto at = path.find(token); at != std::string::npos) {
    path.replace(at, token.size(), shared_dir);
  }
  std::filesystem::path p(path);
  if (p.is_relative() && !base_dir.empty()) {
    p = std::filesystem::path(base_dir) / p;
  }
  return p.lexically_normal().string();
}

}  // namespace

Result<RateSpec> parseRateSpec(const std::string& text, const std::string& base_dir,
                               const std::string& shared_dir) {
  RateSpec r;
  r.text = text;
  if (text == "unlimited" || text == "none") {
    return r;
  }
  for (const std::string_view prefix : {"trace:", "series:"}) {
    if (!text.starts_with(prefix)) {
      continue;
    }
    const std::string rest = text.substr(prefix.size());
    if (rest.empty()) {
      return Error{"missing trace path after '" + std::string(prefix) + "'"};
    }
    const std::string path = resolvePath(rest, base_dir, shared_dir);
    auto trace = prefix == "trace:" ? CapacityTrace::loadMahimahi(path)
                                    : CapacityTrace::loadRateSeries(path);
    if (!trace) {
      return trace.error();
    }
    r.kind = RateSpec::Kind::kTrace;
    r.trace = std::make_shared<const CapacityTrace>(std::move(trace).value());
    return r;
  }
  auto bps = parseBitrateBps(text);
  if (!bps) {
    return Error{"expected a rate (10mbit), trace:PATH, series:PATH or unlimited, got '" + text +
                 "'"};
  }
  if (*bps == 0) {
    return Error{"rate must be above 0 (use 'unlimited' for no limit)"};
  }
  r.kind = RateSpec::Kind::kConstant;
  r.bps = *bps;
  return r;
}

}  // namespace bondcast::net
