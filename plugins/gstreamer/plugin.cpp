// SPDX-License-Identifier: MPL-2.0
// Registers bondcastsink and bondcastsrc, and routes the engines' logs (spdlog and
// libsrt) to the GStreamer debug log (category "bondcast").
#include <gst/gst.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "common/srt/srt.h"
#include "plugins/gstreamer/gstbondcastsink.h"
#include "plugins/gstreamer/gstbondcastsrc.h"

GST_DEBUG_CATEGORY_STATIC(bondcast_debug);

namespace {

class GstLogSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    GstDebugLevel level = GST_LEVEL_DEBUG;
    switch (msg.level) {
      case spdlog::level::critical:
      case spdlog::level::err:
        level = GST_LEVEL_ERROR;
        break;
      case spdlog::level::warn:
        level = GST_LEVEL_WARNING;
        break;
      case spdlog::level::info:
        level = GST_LEVEL_INFO;
        break;
      default:
        break;
    }
    std::string text(msg.payload.data(), msg.payload.size());
    GST_CAT_LEVEL_LOG(bondcast_debug, level, nullptr, "%s", text.c_str());
  }
  void flush_() override {}
};

}  // namespace

static gboolean plugin_init(GstPlugin* plugin) {
  GST_DEBUG_CATEGORY_INIT(bondcast_debug, "bondcast", 0,
                          "bondcast engines (sender, receiver, libsrt)");
  auto logger = std::make_shared<spdlog::logger>("bondcast", std::make_shared<GstLogSink>());
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
  bondcast::srt::routeLogsToSpdlog();
  return gst_element_register(plugin, "bondcastsink", GST_RANK_NONE, GST_TYPE_BONDCAST_SINK) &&
         gst_element_register(plugin, "bondcastsrc", GST_RANK_NONE, GST_TYPE_BONDCAST_SRC);
}

#define PACKAGE "bondcast"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, bondcast,
                  "Bonded SRT transport: bondcastsink and bondcastsrc", plugin_init, "0.1.0",
                  "MPL-2.0", "bondcast", "https://github.com/bondcast/bondcast")
