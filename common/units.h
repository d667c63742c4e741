// SPDX-License-Identifier: MPL-2.0
// Parsing and printing of the units used on command lines and in scenario files.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace bondcast {

using Micros = std::chrono::microseconds;

// "10mbit", "10Mbit/s", "500kbit", "2.5mbps", "64000" (bits/s), "1gbit".
Result<std::uint64_t> parseBitrateBps(std::string_view text);

// "15ms", "2.5s", "300us", "1m"; a bare number is milliseconds.
Result<Micros> parseDuration(std::string_view text);
// How long to run: "30s", "2m", "1500ms"; a bare number is seconds ("30": half a minute).
// Above zero.
Result<Micros> parseRunLength(std::string_view text);

// "0.5%", "0.005"; returns a probability in [0, 1].
Result<double> parseProbability(std::string_view text);

// "200kb", "1mb", "1500b", "3000" (bytes). k = 1000.
Result<std::uint64_t> parseBytes(std::string_view text);

std::string formatBitrate(double bps);

}  // namespace bondcast
