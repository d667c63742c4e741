// SPDX-License-Identifier: MPL-2.0
// Refused handshakes, logged without letting a flood flood the log (issue 16): at most
// one line per kind of refusal per interval (1 s). The first refusal of a kind is logged
// at once; the ones that follow within the interval are counted, and the next line of
// that kind (when the next one comes after the interval, or when due() finds the interval
// passed) says how many there were and describes the latest.
//
// Logic only: no I/O, no clock (the caller passes `now` and logs the lines returned).
// Not thread-safe: the receiver guards it with a mutex of its own, never held while
// logging.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bondcast::receiver {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kInterval{1000};

  // `count` (> 0) refusals of `kind` (the stats key, e.g. "unknown_stream") happened by
  // `now`; `detail` describes the latest ("stream 'cam9' is not in --allow-stream").
  // Returns the line to log now, if one is due.
  std::optional<std::string> refused(std::string_view kind, std::uint64_t count, std::string detail,
                                     Clock::time_point now);
  // The lines of every kind whose refusals are not logged yet and whose interval has
  // passed at `now`. Call it now and then (the receiver: every loop, at least every
  // 100 ms), so that the end of a flood is logged too.
  std::vector<std::string> due(Clock::time_point now);

 private:
  struct Kind {
    std::uint64_t unlogged = 0;
    std::string detail;
    std::optional<Clock::time_point> last_line;
  };
  static std::string line(std::string_view kind, Kind& k, Clock::time_point now);
  std::map<std::string, Kind, std::less<>> kinds_;
};

}  // namespace bondcast::receiver
