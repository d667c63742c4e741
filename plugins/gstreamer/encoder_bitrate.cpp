// SPDX-License-Identifier: MPL-2.0
#include "plugins/gstreamer/encoder_bitrate.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <set>
#include <vector>

namespace bondcast::gst {
namespace {

constexpr EncoderBitrate kEncoders[] = {
    {"x264enc", "bitrate", 1000},      {"x265enc", "bitrate", 1000},
    {"openh264enc", "bitrate", 1},     {"vp8enc", "target-bitrate", 1},
    {"vp9enc", "target-bitrate", 1},   {"svtav1enc", "target-bitrate", 1000},
    {"vaapih264enc", "bitrate", 1000}, {"vaapih265enc", "bitrate", 1000},
    {"nvh264enc", "bitrate", 1000},    {"nvh265enc", "bitrate", 1000},
    {"qsvh264enc", "bitrate", 1000},   {"qsvh265enc", "bitrate", 1000},
};
constexpr double kDecrease = 0.6;               // × on congestion
constexpr std::uint64_t kMinIncrease = 250000;  // bit/s per clean update, at least

const EncoderBitrate* match(GstElement* e) {
  GstElementFactory* f = gst_element_get_factory(e);
  if (!f)
    return nullptr;
  const char* name = gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f));
  for (const auto& k : kEncoders) {
    if (g_strcmp0(name, k.factory) == 0)
      return &k;
  }
  return nullptr;
}

}  // namespace

const EncoderBitrate* knownEncoders(std::size_t* count) {
  *count = std::size(kEncoders);
  return kEncoders;
}

GstElement* findUpstreamEncoder(GstElement* sink, const EncoderBitrate** which) {
  std::deque<GstElement*> todo{GST_ELEMENT(gst_object_ref(sink))};
  std::set<GstElement*> seen{sink};
  GstElement* found = nullptr;
  while (!todo.empty()) {
    GstElement* e = todo.front();
    todo.pop_front();
    if (!found && e != sink) {
      if (const EncoderBitrate* k = match(e)) {
        *which = k;
        found = GST_ELEMENT(gst_object_ref(e));
      }
    }
    if (!found) {
      GstIterator* it = gst_element_iterate_sink_pads(e);
      GValue item = G_VALUE_INIT;
      while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        GstPad* pad = GST_PAD(g_value_get_object(&item));
        if (GstPad* peer = gst_pad_get_peer(pad)) {
          GstElement* up = gst_pad_get_parent_element(peer);
          if (up && seen.insert(up).second && seen.size() < 64)
            todo.push_back(up);
          else if (up)
            gst_object_unref(up);
          gst_object_unref(peer);
        }
        g_value_reset(&item);
      }
      g_value_unset(&item);
      gst_iterator_free(it);
    }
    gst_object_unref(e);
  }
  return found;
}

std::uint64_t setEncoderBitrate(GstElement* encoder, const EncoderBitrate& which,
                                std::uint64_t bps) {
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), which.property);
  if (!spec)
    return 0;
  double units = std::round(static_cast<double>(bps) / static_cast<double>(which.bits_per_unit));
  double lo = 0, hi = static_cast<double>(std::numeric_limits<std::uint32_t>::max());
  if (G_IS_PARAM_SPEC_UINT(spec)) {
    lo = G_PARAM_SPEC_UINT(spec)->minimum;
    hi = G_PARAM_SPEC_UINT(spec)->maximum;
  } else if (G_IS_PARAM_SPEC_INT(spec)) {
    lo = G_PARAM_SPEC_INT(spec)->minimum;
    hi = G_PARAM_SPEC_INT(spec)->maximum;
  }
  units = std::clamp(units, std::max(lo, 1.0), hi);
  GValue u = G_VALUE_INIT, v = G_VALUE_INIT;
  g_value_init(&u, G_TYPE_UINT64);
  g_value_set_uint64(&u, static_cast<std::uint64_t>(units));
  g_value_init(&v, spec->value_type);
  if (g_value_transform(&u, &v))
    g_object_set_property(G_OBJECT(encoder), which.property, &v);
  g_value_unset(&u);
  g_value_unset(&v);
  return encoderBitrate(encoder, which);
}

std::uint64_t encoderBitrate(GstElement* encoder, const EncoderBitrate& which) {
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), which.property);
  if (!spec)
    return 0;
  GValue v = G_VALUE_INIT, u = G_VALUE_INIT;
  g_value_init(&v, spec->value_type);
  g_object_get_property(G_OBJECT(encoder), which.property, &v);
  g_value_init(&u, G_TYPE_UINT64);
  std::uint64_t out = g_value_transform(&v, &u) ? g_value_get_uint64(&u) : 0;
  g_value_unset(&v);
  g_value_unset(&u);
  return out * which.bits_per_unit;
}

std::uint64_t BitrateController::update(const nlohmann::json& stats, int latency_ms,
                                        std::uint64_t lo, std::uint64_t hi,
                                        std::uint64_t current_bps) {
  const auto links = stats.value("links", nlohmann::json::array());
  std::vector<const nlohmann::json*> looked_at;
  if (stats.value("mode", "") == "backup") {
    int active = stats.value("active_link", -1);
    if (active >= 0 && active < static_cast<int>(links.size()))
      looked_at.push_back(&links[active]);
  } else {
    for (const auto& l : links) {
      const std::string state = l.value("state", "");
      if (state == "up" || state == "stalled")
        looked_at.push_back(&l);
    }
  }
  bool congested = false;
  for (const auto* l : looked_at) {
    std::int64_t drops = l->value("pkts_dropped_send", std::int64_t{0});
    auto [it, fresh] = drops_.try_emplace(l->value("link", ""), drops);
    if (!fresh && drops > it->second)
      congested = true;
    it->second = drops;
    if (l->value("state", "") == "stalled" || l->value("send_buffer_ms", 0.0) * 2 > latency_ms)
      congested = true;
  }
  if (looked_at.empty())
    return target_;
  if (target_ == 0)
    target_ = current_bps ? current_bps : hi;
  else if (congested)
    target_ = static_cast<std::uint64_t>(static_cast<double>(target_) * kDecrease);
  else
    target_ += std::max(target_ / 8, kMinIncrease);
  target_ = std::clamp(target_, lo, std::max(lo, hi));
  return target_;
}

}  // namespace bondcast::gst
