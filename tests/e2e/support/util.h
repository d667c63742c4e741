// SPDX-License-Identifier: MPL-2.0
// Waiting and reading helpers for end-to-end tests: poll a condition with a
// deadline (never a fixed sleep as synchronisation), pick free loopback ports,
// read files and JSON-lines stats.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bondcast::e2e {

// Polls `condition` every `poll` until it holds (true) or `timeout` passes (false).
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll = std::chrono::milliseconds(20));

// A UDP port on 127.0.0.1 that was free a moment ago (bind port 0, read it back).
std::uint16_t freeUdpPort();

std::vector<std::uint8_t> readBytes(const std::filesystem::path& path);
std::uintmax_t fileSize(const std::filesystem::path& path);  // 0 if missing

// The complete JSON lines of a stats file (a partly written last line is skipped).
std::vector<nlohmann::json> jsonLines(const std::filesystem::path& path);
// The last line with "final": true, or null if there is none yet.
nlohmann::json finalLine(const std::filesystem::path& path);

// "" if equal, else where and how the two byte strings first differ.
std::string describeDifference(const std::vector<std::uint8_t>& expected,
                               const std::vector<std::uint8_t>& actual);

}  // namespace bondcast::e2e
