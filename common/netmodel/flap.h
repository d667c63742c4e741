// SPDX-License-Identifier: MPL-2.0
// A flapping link as the network models take it, the simulator's and the emulator's
// alike: "COUNTxDOWN[/UP]" (5x200ms/800ms: five cycles of 200 ms down, 800 ms up; UP
// defaults to DOWN).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/units.h"

namespace bondcast::net {

// At most this many cycles, and all of them (from time 0) within kMaxFlapSpan: the
// longest time a scenario may hold (parseDuration refuses more than 10^15 us, and a
// flap's every start in nanoseconds then fits 64 bits).
inline constexpr std::uint32_t kMaxFlapCycles = 100'000;
inline constexpr Micros kMaxFlapSpan{1'000'000'000'000'000};

struct Flap {
  std::uint32_t count = 0;
  Micros down{0};
  Micros up{0};
  Micros period() const { return down + up; }
  // Whether every cycle, starting at `at`, ends within kMaxFlapSpan.
  bool fitsFrom(Micros at) const;
};

Result<Flap> parseFlap(const std::string& text);

}  // namespace bondcast::net
