// SPDX-License-Identifier: MPL-2.0
// Shared by the plugin tests: GStreamer initialised once with the built plugin, a
// synthetic MPEG-TS stream, and deadline helpers.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bondcast::gst::test {

inline void initGst() {
  static bool done = [] {
    gst_init(nullptr, nullptr);
    gst_registry_scan_path(gst_registry_get(), BONDCAST_GST_PLUGIN_DIR);
    return true;
  }();
  (void)done;
}

// `count` 188-byte TS packets on PID 0x100 whose payload bytes count up.
inline std::vector<std::uint8_t> tsPackets(std::size_t count, std::uint8_t seed = 0) {
  std::vector<std::uint8_t> out;
  out.reserve(count * 188);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(0x47);
    out.push_back(0x01);
    out.push_back(0x00);
    out.push_back(static_cast<std::uint8_t>(0x10 | (i & 0x0f)));
    for (int b = 4; b < 188; ++b)
      out.push_back(static_cast<std::uint8_t>(seed + i * 7 + b));
  }
  return out;
}

using Clock = std::chrono::steady_clock;
inline double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace bondcast::gst::test
