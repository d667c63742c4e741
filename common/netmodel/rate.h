// SPDX-License-Identifier: MPL-2.0
// A link's capacity as the network models take it, the simulator's and the emulator's
// alike: a constant rate ("10mbit"), a recorded trace ("trace:PATH", mahimahi's format;
// "series:PATH", a rate series: common/trace.h) or none ("unlimited").
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/trace.h"

namespace bondcast::net {

struct RateSpec {
  enum class Kind { kUnlimited, kConstant, kTrace };
  Kind kind = Kind::kUnlimited;
  std::uint64_t bps = 0;                       // kConstant
  std::shared_ptr<const CapacityTrace> trace;  // kTrace
  std::string text;                            // as written, for logs and reports
};

// `text` as above. A relative trace path is taken from `base_dir` (the scenario file's
// folder); "${shared}" in it stands for `shared_dir`.
Result<RateSpec> parseRateSpec(const std::string& text, const std::string& base_dir,
                               const std::string& shared_dir);

}  // namespace bondcast::net
