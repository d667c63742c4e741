// SPDX-License-Identifier: MPL-2.0
// The minimum of a signal over the last one to two windows: the smaller of this
// window's minimum and the previous window's. A window starts with the first sample
// after the previous one is over. Used for a link's base RTT (scheduler) and for the
// floor of each link's delay at the receiver's merge. Pure: time is passed in.
#pragma once

#include <algorithm>

namespace bondcast {

template <class T, class TimePoint, class Duration>
class WindowedMin {
 public:
  WindowedMin(T initial, Duration window)
      : current_(initial), previous_(initial), window_(window) {}

  // Forgets the history: `value` is the minimum from `now` on.
  void reset(T value, TimePoint now) {
    current_ = previous_ = value;
    window_start_ = now;
  }
  void add(T value, TimePoint now) {
    if (now - window_start_ > window_) {
      previous_ = current_;
      current_ = value;
      window_start_ = now;
    }
    current_ = std::min(current_, value);
  }
  T get() const { return std::min(current_, previous_); }

 private:
  T current_;
  T previous_;
  Duration window_;
  TimePoint window_start_{};
};

}  // namespace bondcast
