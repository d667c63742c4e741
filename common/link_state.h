// SPDX-License-Identifier: MPL-2.0
// A link's state: one enum for the whole tree. The transports report it in their stats
// (common/srt/link_stats.h: from libsrt's socket and group-member states); the scheduler's
// link model (scheduler/link_model.h) uses kConnecting, kUp and kDown as its caller sets
// them and derives kStalled from feedback.
#pragma once

#include <cstdint>
#include <string_view>

namespace bondcast {

enum class LinkState : std::uint8_t {
  kConnecting,
  kUp,
  // Connected and sending, but the peer has stopped acknowledging: libsrt still reports
  // such a member as running for seconds (broadcast: about 5 s) before it breaks; the
  // scheduler's model says so once nothing was acknowledged for a round trip and more.
  kStalled,
  kIdle,    // a backup group's standby member: connected, carrying nothing
  kBroken,  // libsrt broke the connection
  kDown,
};

constexpr std::string_view toString(LinkState state) {
  switch (state) {
    case LinkState::kConnecting:
      return "connecting";
    case LinkState::kUp:
      return "up";
    case LinkState::kStalled:
      return "stalled";
    case LinkState::kIdle:
      return "idle";
    case LinkState::kBroken:
      return "broken";
    case LinkState::kDown:
      return "down";
  }
  return "?";
}

}  // namespace bondcast
