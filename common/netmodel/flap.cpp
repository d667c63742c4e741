// SPDX-License-Identifier: MPL-2.0
#include "common/netmodel/flap.h"

#include <charconv>

namespace bondcast::net {

bool Flap::fitsFrom(Micros at) const {
  return count > 0 && at >= Micros::zero() && at <= kMaxFlapSpan &&
         period() <= (kMaxFlapSpan - at) / count;
}

Result<Flap> parseFlap(const std::string& text) {
  const Error malformed{"expected COUNTxDOWN[/UP] (5x200ms/800ms), got '" + text + "'"};
  const std::size_t x = text.find('x');
  if (x == std::string::npos) {
    return malformed;
  }
  std::uint64_t count = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + x, count);
  if (ec != std::errc() || ptr != text.data() + x || count == 0) {
    return malformed;
  }
  const std::string times = text.substr(x + 1);
  const std::size_t slash = times.find('/');
  auto down = parseDuration(times.substr(0, slash));
  if (!down) {
    return Error{"'" + text + "': " + down.error().message};
  }
  auto up = slash == std::string::npos ? down : parseDuration(times.substr(slash + 1));
  if (!up) {
    return Error{"'" + text + "': " + up.error().message};
  }
  if (down->count() <= 0) {
    return Error{"'" + text + "': the down time must be above 0"};
  }
  Flap flap{static_cast<std::uint32_t>(std::min<std::uint64_t>(count, kMaxFlapCycles + 1)), *down,
            *up};
  if (count > kMaxFlapCycles || !flap.fitsFrom(Micros::zero())) {
    return Error{"'" + text + "' flaps too often or too long (at most " +
                 std::to_string(kMaxFlapCycles) + " cycles, ending within 31 years)"};
  }
  return flap;
}

}  // namespace bondcast::net
