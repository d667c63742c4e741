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

// The real-time deadlines an end-to-end test sets (a stream's --latency) and the bounds
// that follow from them are multiplied by this. It is 1 except under ThreadSanitizer,
// which runs bondcast and its libsrt 5-15 times slower: at the plain build's deadlines
// the 9 adaptive tests that assert one failed, run one at a time on an idle machine, every
// time by payloads played out late or dropped by a starved process, never by a race
// (2026-12-05). Under TSan these tests look for races; the other builds check the timing.
inline constexpr int kDeadlineScale =
#if defined(__SANITIZE_THREAD__)
    4;
#else
    1;
#endif

// `ms` times kDeadlineScale, as text for --latency.
inline std::string latencyMs(int ms) {
  return std::to_string(ms * kDeadlineScale);
}

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
