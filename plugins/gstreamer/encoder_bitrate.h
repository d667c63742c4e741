// auto-bitrate: the bitrate the links can carry, and the upstream encoder that is told
// to follow it.
#pragma once

#include <gst/gst.h>

#include <cstdint>
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

// The bitrate the links can carry in the sender's mode, from its stats record
// (libsrt's per-link bandwidth estimate × 0.8: the least of the up links in broadcast,
// where each link carries everything; the active link's in backup). 0 when unknown.
std::uint64_t recommendedBitrate(const nlohmann::json& sender_stats);

}  // namespace bondcast::gst
