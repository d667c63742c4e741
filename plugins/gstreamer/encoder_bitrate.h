// SPDX-License-Identifier: MPL-2.0
// auto-bitrate: the bitrate the links can carry, and the upstream encoder that is told
// to follow it.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace bondcast::gst {

// An encoder whose bitrate property we know, and its unit.
struct EncoderBitrate {
  const char* factory;   // element factory name, e.g. "x264enc"
  const char* property;  // "bitrate", "target-bitrate"
  std::uint64_t bits_per_unit;
};

// The encoders auto-bitrate knows (the README lists them).
const EncoderBitrate* knownEncoders(std::size_t* count);

// Walks upstream from `sink` through sink pads and their peers (breadth first) and
// returns the first element made by a known factory (a new reference), or nullptr.
GstElement* findUpstreamEncoder(GstElement* sink, const EncoderBitrate** which);

// Sets the encoder's bitrate to `bps` (converted to its unit and clamped to the
// property's range); returns what was set, in bit/s.
std::uint64_t setEncoderBitrate(GstElement* encoder, const EncoderBitrate& which,
                                std::uint64_t bps);
// The encoder's bitrate now, in bit/s.
std::uint64_t encoderBitrate(GstElement* encoder, const EncoderBitrate& which);

// The bitrate auto-bitrate recommends: AIMD on congestion signals, not libsrt's
// packet-pair bandwidth estimate (mbpsBandwidth), which lags a throttled link by
// seconds in both directions (measured in tests/plugins/gstreamer/auto_bitrate_test:
// it stayed at 20 mbit/s for 8 s of a 1 mbit/s throttle, then read 0.5 mbit/s after
// the link was back at 20). Fed once a second with the sender's stats record. A link
// is congested when its send buffer holds more than half the latency, it is stalled,
// or it dropped packets (too late to send) since the last update. The links looked at:
// the up and stalled links in broadcast (every link carries everything, so any
// congested link counts), the active link in backup. Congested: ×0.6; clean:
// + max(1/8, 250 kbit/s); always within [lo, hi].
class BitrateController {
 public:
  // The new recommendation in bit/s; `current_bps` (the encoder's bitrate, 0 when
  // unknown) is the starting point. 0 while no link is up.
  std::uint64_t update(const nlohmann::json& sender_stats, int latency_ms, std::uint64_t lo,
                       std::uint64_t hi, std::uint64_t current_bps);

 private:
  std::uint64_t target_ = 0;
  std::map<std::string, std::int64_t> drops_;  // pkts_dropped_send by link name
};

}  // namespace bondcast::gst
